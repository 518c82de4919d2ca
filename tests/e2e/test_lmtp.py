"""LMTP intake with the real daemon: the mail server's side of the conversation, spoken on a socket.

``smtplib.LMTP`` reads one reply after DATA; RFC 2033 owes one per accepted recipient, so this client reads
them all (and a missing one would hang the test into its timeout rather than pass).
"""
from __future__ import annotations

import socket
import subprocess
import sys
import time

import psycopg2
import pytest

from e2e_support import complaint, parsed, running_stack, wait_for_n


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LmtpClient:
    """A mail server delivering by LMTP: every reply read in full, one per recipient after DATA."""

    def __init__(self, port: int | str):
        if isinstance(port, str):  # a unix socket's path
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(20)
            self.sock.connect(port)
        else:
            self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.file = self.sock.makefile("rb")
        assert self.reply()[0].startswith("220")
        lines = self.command("LHLO mta.example.com")
        assert lines[-1].startswith("250 ")
        self.extensions = lines

    def reply(self) -> list[str]:
        """One reply, all its lines ("250-..." continues it, "250 ..." ends it)."""
        lines = []
        while True:
            line = self.file.readline()
            assert line.endswith(b"\r\n"), f"connection closed mid-reply: {line!r}"
            lines.append(line.decode().rstrip("\r\n"))
            if line[3:4] != b"-":
                return lines

    def command(self, line: str) -> list[str]:
        self.sock.sendall(line.encode() + b"\r\n")
        return self.reply()

    def deliver(self, raw: bytes, recipients: list[str], sender: str = "maria@example.net") -> tuple[list, list]:
        """(the RCPT replies, the replies after the data: one per accepted recipient)."""
        assert self.command(f"MAIL FROM:<{sender}>")[-1].startswith("250")
        rcpt = [self.command(f"RCPT TO:<{r}>")[-1] for r in recipients]
        accepted = sum(r.startswith("250") for r in rcpt)
        assert self.command("DATA")[-1].startswith("354")
        body = b"\r\n".join(b"." + line if line.startswith(b".") else line for line in raw.split(b"\r\n"))
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        self.sock.sendall(body + b".\r\n")
        after = [self.reply()[-1] for _ in range(accepted)]
        return rcpt, after

    def close(self) -> None:
        try:
            self.command("QUIT")
        finally:
            self.sock.close()


def lmtp_config(port: int, **keys: str) -> str:
    return f'[lmtp]\nlisten = "127.0.0.1:{port}"\n' + "".join(f'{k} = "{v}"\n' for k, v in keys.items())


def raw_of(stack, case: int, index: int) -> subprocess.CompletedProcess:
    """``aftercare cases show CASE --raw INDEX``, its output as bytes."""
    return subprocess.run([sys.executable, "-m", "aftercare", "--config", str(stack.config), "cases", "show",
                           str(case), "--raw", str(index)], capture_output=True, timeout=60)


@pytest.fixture
def pg_stack(tmp_path, dovecot, smtp_sink, postgres_url):
    yield from running_stack(tmp_path, dovecot, smtp_sink, postgres_url)


def test_a_complaint_by_lmtp_opens_a_case_is_acknowledged_and_kept_byte_for_byte(stack):
    port = free_port()
    stack.start(extra=lmtp_config(port, max_message_size="4kB"))
    raw, mid = complaint(body="The kettle arrived broken.\r\n.A line that starts with a dot.")
    client = LmtpClient(port)
    assert any("SIZE 4096" in line for line in client.extensions)
    rcpt, replies = client.deliver(raw, ["support@example.com", "nobody@example.com", "Support+orders@Example.com"])
    assert rcpt == ["250 2.1.5 OK", "550 5.1.1 <nobody@example.com>: no such mailbox here", "250 2.1.5 OK"]
    assert replies == [f"250 2.0.0 <{mid}> recorded"] * 2

    ack = parsed(wait_for_n(stack, lambda m: "maria@example.net" in m.rcpt_tos, 1, timeout=10)[0])
    assert ack["In-Reply-To"] == f"<{mid}>"
    assert [c["id"] for c in stack.cases()] == [1]

    # The 250 was lost: the mail server sends the same bytes again. Answered 250, recorded nothing.
    assert client.deliver(raw, ["support@example.com"])[1] == [f"250 2.0.0 <{mid}> recorded"]
    # Too big: refused once per recipient, before anything is recorded.
    big, _ = complaint(subject="Too big", body="\r\n".join(["x" * 70] * 80))
    rcpt, replies = client.deliver(big, ["support@example.com", "support+x@example.com"])
    assert [r.split(" ", 2)[:2] for r in replies] == [["552", "5.3.4"]] * 2
    client.close()

    out = raw_of(stack, 1, 1)
    assert out.returncode == 0, out.stderr
    assert out.stdout == raw
    time.sleep(1.0)  # a second acknowledgment or case would have had time to appear
    assert len([m for m in stack.smtp.messages if "maria@example.net" in m.rcpt_tos]) == 1
    assert [c["id"] for c in stack.cases()] == [1]
    missing = stack.cli("cases", "show", "1", "--raw", "2")
    assert missing.returncode == 1 and "--raw takes 1 to 1, not 2" in missing.stderr


def test_an_imap_message_has_no_raw_copy_and_the_error_says_where_it_is(sqlite_stack):
    stack = sqlite_stack
    stack.start(extra=lmtp_config(free_port()))
    stack.deliver(complaint()[0])
    wait_for_n(stack, lambda m: "maria@example.net" in m.rcpt_tos, 1, timeout=10)
    out = stack.cli("cases", "show", "1", "--raw", "1")
    assert out.returncode == 1 and "its original is in the mailbox's processed folder" in out.stderr


def test_a_locked_database_is_answered_451_and_a_retry_opens_one_case(pg_stack):
    stack, port = pg_stack, free_port()
    stack.start(extra=lmtp_config(port, database_wait="1s"))
    raw, mid = complaint()
    locker = psycopg2.connect(stack.database_url)
    try:
        with locker.cursor() as cur:
            cur.execute("LOCK TABLE message IN ACCESS EXCLUSIVE MODE")
        client = LmtpClient(port)
        started = time.monotonic()
        _, replies = client.deliver(raw, ["support@example.com", "support+x@example.com"])
        assert replies == ["451 4.3.0 temporary failure, try again later"] * 2
        assert time.monotonic() - started < 5
    finally:
        locker.rollback()
        locker.close()
    assert client.deliver(raw, ["support@example.com"])[1] == [f"250 2.0.0 <{mid}> recorded"]
    client.close()
    wait_for_n(stack, lambda m: "maria@example.net" in m.rcpt_tos, 1, timeout=10)
    time.sleep(0.5)
    assert [c["id"] for c in stack.cases()] == [1]
    assert len([m for m in stack.smtp.messages if "maria@example.net" in m.rcpt_tos]) == 1


def test_a_locked_sqlite_database_is_answered_451_within_database_wait(sqlite_stack):
    """Another process holds the write lock: the delivery waits database_wait (1 s), not SQLite's 120 s, even
    while the daemon's own threads queue behind the same lock."""
    import sqlite3
    stack, port = sqlite_stack, free_port()
    stack.start(extra=lmtp_config(port, database_wait="1s"))
    raw, mid = complaint()
    locker = sqlite3.connect(stack.database_url[len("sqlite:///"):], isolation_level=None, timeout=1)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        stack.deliver(complaint(subject="By IMAP meanwhile", sender="paul@example.net")[0])  # intake waits too
        time.sleep(1.5)
        client = LmtpClient(port)
        started = time.monotonic()
        _, replies = client.deliver(raw, ["support@example.com", "support+x@example.com"])
        waited = time.monotonic() - started
        assert replies == ["451 4.3.0 temporary failure, try again later"] * 2
        assert waited < 5, waited
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert client.deliver(raw, ["support@example.com"])[1] == [f"250 2.0.0 <{mid}> recorded"]
    client.close()
    wait_for_n(stack, lambda m: "maria@example.net" in m.rcpt_tos, 1, timeout=15)
    wait_for_n(stack, lambda m: "paul@example.net" in m.rcpt_tos, 1, timeout=15)
    assert sorted(c["customer"] for c in stack.cases()) == ["maria@example.net", "paul@example.net"]


def test_sigkill_right_after_the_250_loses_nothing(sqlite_stack):
    stack, port = sqlite_stack, free_port()
    stack.start(extra=lmtp_config(port))
    raw, mid = complaint(subject="Killed right after")
    client = LmtpClient(port)
    assert client.deliver(raw, ["support@example.com"])[1] == [f"250 2.0.0 <{mid}> recorded"]
    stack.daemon.kill()  # SIGKILL: the acknowledgment may or may not have left
    client.sock.close()

    stack.start()
    assert [c["id"] for c in stack.cases()] == [1]
    wait_for_n(stack, lambda m: "maria@example.net" in m.rcpt_tos, 1, timeout=10)
    time.sleep(1.0)
    assert len([m for m in stack.smtp.messages if "maria@example.net" in m.rcpt_tos]) == 1
    out = raw_of(stack, 1, 1)
    assert out.returncode == 0 and out.stdout == raw


def test_an_lmtp_address_in_use_stops_the_start_naming_the_key(sqlite_stack):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        stack = sqlite_stack
        stack.write_config(extra=lmtp_config(port))
        out = stack.cli("run")
    assert out.returncode != 0
    assert f"lmtp.listen: cannot listen on 127.0.0.1:{port}" in out.stderr + out.stdout


def test_a_unix_socket_is_open_to_the_services_group_and_takes_a_complaint(sqlite_stack, tmp_path):
    """Under the unit's UMask=0077 a socket would be 0700; the mail server reaches it through the group."""
    import os
    import stat
    path = str(tmp_path / "run" / "lmtp.sock")
    os.makedirs(os.path.dirname(path))
    old = os.umask(0o077)  # as the unit has it; the daemon inherits it
    try:
        sqlite_stack.start(extra=f'[lmtp]\nlisten = "unix:{path}"\n')
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o660
    raw, mid = complaint()
    client = LmtpClient(path)
    assert client.deliver(raw, ["support@example.com"])[1] == [f"250 2.0.0 <{mid}> recorded"]
    client.close()
    wait_for_n(sqlite_stack, lambda m: "maria@example.net" in m.rcpt_tos, 1, timeout=10)

"""Helpers for end-to-end tests: raw mail as clients write it, and a Stack of real servers plus the daemon."""
from __future__ import annotations

import contextlib
import email
import email.policy
import json
import re
import time
from dataclasses import dataclass, field
from email.utils import make_msgid
from pathlib import Path

from aftercare.testing.daemonproc import DaemonProcess, run_cli, write_config
from aftercare.testing.dovecot import Dovecot
from aftercare.testing.smtpsink import SmtpSink

SUPPORT = ("support", "secret")


def complaint(subject="My order arrived broken", sender="Maria Rossi <maria@example.net>", body="It broke.",
              message_id=None, extra_headers="") -> tuple[bytes, str]:
    mid = message_id or make_msgid(domain="mail.example.net")
    raw = (f"From: {sender}\r\nTo: support@example.com\r\nSubject: {subject}\r\n"
           f"Date: Mon, 02 Mar 2026 09:14:00 +0100\r\nMessage-ID: {mid}\r\n{extra_headers}"
           f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n")
    return raw.encode(), mid.strip("<>")


def reply_to(parent: email.message.EmailMessage, sender: str, body: str, extra_headers="", to=None) -> bytes:
    """A reply as a mail client writes it: to the Reply-To address if there is one, threaded."""
    mid = make_msgid(domain="example.org")
    to = to or parent["Reply-To"] or "support@example.com"
    raw = (f"From: {sender}\r\nTo: {to}\r\nSubject: Re: {parent['Subject']}\r\n"
           f"Date: Mon, 02 Mar 2026 10:00:00 +0100\r\nMessage-ID: {mid}\r\n"
           f"In-Reply-To: {parent['Message-ID']}\r\nReferences: {parent['Message-ID']}\r\n{extra_headers}"
           f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n")
    return raw.encode()


@dataclass
class Stack:
    tmp: Path
    dovecot: Dovecot
    smtp: SmtpSink
    database_url: str
    config_options: dict = field(default_factory=dict)
    daemon: DaemonProcess | None = None
    config: Path | None = None

    def write_config(self, **options) -> Path:
        self.config_options.update(options)
        self.config = write_config(self.tmp / "config.toml", imap_port=self.dovecot.port, smtp_port=self.smtp.port,
                                   database_url=self.database_url, **self.config_options)
        return self.config

    def start(self, **options) -> DaemonProcess:
        if self.config is None or options:
            self.write_config(**options)
        self.daemon = DaemonProcess(self.config, self.tmp / "daemon.log").start()
        self.daemon.wait_ready()
        return self.daemon

    def deliver(self, raw: bytes) -> None:
        self.dovecot.append(*SUPPORT, "INBOX", raw)

    def folder(self, name: str) -> list[bytes]:
        names = self.dovecot.folders(*SUPPORT)
        server_name = name if name in names else name.replace("/", ".")
        return self.dovecot.fetch_all(*SUPPORT, server_name) if server_name in names else []

    def cli(self, *args: str):
        return run_cli(self.config, *args)

    def case_json(self, n: int) -> dict:
        out = self.cli("cases", "show", str(n), "--json")
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    def cases(self) -> list[dict]:
        out = self.cli("cases", "list", "--json")
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)


def wait_for_n(stack: "Stack", predicate, n: int, timeout: float = 15.0) -> list:
    """At least ``n`` emails the SMTP server accepted that match ``predicate``, waiting up to ``timeout``."""
    deadline = time.monotonic() + timeout
    found: list = []
    while time.monotonic() < deadline:
        found = [m for m in stack.smtp.messages if predicate(m)]
        if len(found) >= n:
            return found
        time.sleep(0.1)
    raise TimeoutError(f"expected {n} matching emails, got {len(found)}")


def parsed(received) -> email.message.EmailMessage:
    return email.message_from_bytes(received.data, policy=email.policy.default)


def running_stack(tmp, dovecot, smtp, database_url):
    """Fixture body shared by the e2e and reliability suites: a Stack whose daemon is stopped afterwards."""
    s = Stack(tmp, dovecot, smtp, database_url)
    yield s
    if s.daemon:
        s.daemon.stop()


def smtp_login_stack(tmp, dovecot, sink, password: str) -> Stack:
    """A SQLite Stack whose daemon logs in to the SMTP server as ``aftercare`` with ``password``."""
    s = Stack(tmp, dovecot, sink, f"sqlite:///{tmp}/aftercare.db")
    s.write_config(max_retry_interval="1s")
    s.config.write_text(s.config.read_text().replace(
        'from_address =', f'username = "aftercare"\npassword = "{password}"\nfrom_address ='))
    return s


class SharedStacks:
    """Stacks a module's tests share (``SHARED_STACKS = True``, see tests/conftest.py), instead of one each.

    ``get(database, group="", **options)``: the running stack for that database ("sqlite" or "postgresql"),
    group and daemon options (``Stack.start``), made at its first use on servers and a database of its own;
    every one is stopped at ``close``. Tests sharing a stack use customers of their own and find their case
    by its number (``case_number``), so that none depends on what another test left behind.
    """

    def __init__(self, tmp_path_factory) -> None:
        self._tmp = tmp_path_factory
        self._stacks: dict[tuple, Stack] = {}
        self._cleanup = contextlib.ExitStack()

    def get(self, database: str, group: str = "", **options) -> Stack:
        key = (database, group, json.dumps(options, sort_keys=True, default=str))
        if key not in self._stacks:
            from server_fixtures import fresh_postgres_database, require_postgres, started_dovecot

            tmp = self._tmp.mktemp("shared-stack")
            if database == "postgresql":
                require_postgres()
                url = self._cleanup.enter_context(fresh_postgres_database("aftercare_test"))
            else:
                url = f"sqlite:///{tmp}/aftercare.db"
            dovecot = self._cleanup.enter_context(started_dovecot(tmp / "dovecot"))
            smtp = self._cleanup.enter_context(SmtpSink())
            stack = Stack(tmp, dovecot, smtp, url)
            self._cleanup.callback(lambda: stack.daemon and stack.daemon.stop())
            stack.start(**options)
            self._stacks[key] = stack
        return self._stacks[key]

    def close(self) -> None:
        self._cleanup.close()


def case_number(received) -> int:
    """The N of the ``[Case #N]`` tag in an email's subject."""
    found = re.search(r"\[Case #(\d+)\]", parsed(received)["Subject"] or "")
    assert found, parsed(received)["Subject"]
    return int(found.group(1))

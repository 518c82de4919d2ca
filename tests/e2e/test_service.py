"""The daemon as systemd and an operator see it: notify protocol, restarts, check-config."""
from __future__ import annotations

import os
import random
import socket
import sqlite3
import time

from aftercare.testing.daemonproc import DaemonProcess

from e2e_support import complaint


def test_ready_comes_after_the_first_sync_and_the_watchdog_is_fed(sqlite_stack, tmp_path):
    s = sqlite_stack
    for i in range(3):
        s.deliver(complaint(sender=f"c{i}@example.net")[0])
    sock_path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.settimeout(15)
    s.write_config()
    s.daemon = DaemonProcess(s.config, tmp_path / "daemon.log",
                             env={"NOTIFY_SOCKET": sock_path, "WATCHDOG_USEC": "3000000"}).start()
    got = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not (any("READY=1" in g for g in got) and
                                               sum("WATCHDOG=1" in g for g in got) >= 2):
        got.append(sock.recv(4096).decode())
    sock.close()
    ready_at = next(i for i, g in enumerate(got) if "READY=1" in g)
    assert "STATUS=mailbox synced" in got[ready_at]
    # READY only once the backlog waiting at start-up has been recorded.
    assert len(s.cases()) == 3
    assert sum("WATCHDOG=1" in g for g in got) >= 2


def test_killed_mid_backlog_and_restarted_nothing_is_lost_or_doubled(sqlite_stack):
    s = sqlite_stack
    n = 300
    for i in range(n):
        s.deliver(complaint(subject=f"Complaint {i}", sender=f"c{i}@example.net")[0])
    rng = random.Random(7)
    kills = 0
    s.write_config()
    progress = []
    for _ in range(3):
        # Not waiting for READY: the kill lands while the backlog is being worked through.
        s.daemon = DaemonProcess(s.config, s.tmp / "daemon.log").start()
        s.daemon.wait_connected()
        time.sleep(rng.uniform(0.05, 0.3))  # intake records a few hundred complaints a second
        s.daemon.kill()
        kills += 1
        progress.append(len(s.cases()))
    assert progress[0] < n, "the first kill should land mid-backlog"
    s.start()
    acks = lambda: [m for m in s.smtp.messages if m.rcpt_tos[0].startswith("c")]
    deadline = time.monotonic() + 60
    while len({m.rcpt_tos[0] for m in acks()}) < n and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)
    cases = s.cases()
    assert len(cases) == n and len({c["customer"] for c in cases}) == n
    assert len({m.rcpt_tos[0] for m in acks()}) == n
    duplicates = len(acks()) - n
    print(f"kills={kills} cases after each kill={progress} duplicates={duplicates}")
    assert duplicates <= kills  # only a send caught in flight at a kill may repeat
    assert s.folder("INBOX") == [] and len(s.folder("Aftercare/Processed")) == n
    db = sqlite3.connect(s.tmp / "aftercare.db")
    assert db.execute("select count(*) from message where direction='out' and status != 'sent'").fetchone()[0] == 0


def test_a_uidvalidity_change_rescans_without_a_second_case(sqlite_stack):
    s = sqlite_stack
    raw, _ = complaint()
    s.start()
    s.deliver(raw)
    s.smtp.wait_for_count(2)
    s.daemon.stop()
    db = sqlite3.connect(s.tmp / "aftercare.db")
    db.execute("update mailbox_state set uidvalidity = uidvalidity + 1000, last_uid = 99")
    db.commit()
    s.deliver(raw)  # the same email is back in the folder, as after a server-side rebuild
    s.start()
    s.daemon.wait_for_log(lambda l: l.get("event", "").startswith("UIDVALIDITY changed"))
    deadline = time.monotonic() + 10
    while s.folder("INBOX") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert s.folder("INBOX") == [] and len(s.cases()) == 1 and len(s.smtp.messages) == 2


def test_check_config_logs_in_to_both_servers(sqlite_stack):
    s = sqlite_stack
    s.write_config()
    out = s.cli("check-config")
    assert out.returncode == 0, out.stderr
    assert "imap: logged in" in out.stdout and "IDLE yes, MOVE yes" in out.stdout
    assert "smtp: connected" in out.stdout
    s.config.write_text(s.config.read_text().replace('password = "secret"', 'password = "wrong-pass"'))
    out = s.cli("check-config")
    assert out.returncode == 1 and "imap: cannot use" in out.stderr
    assert "wrong-pass" not in out.stdout + out.stderr


def test_cases_list_filters_by_status_and_render_uses_a_real_case(sqlite_stack):
    s = sqlite_stack
    s.start()
    s.deliver(complaint(subject="Lost parcel")[0])
    s.smtp.wait_for_count(2)
    assert [c["subject"] for c in s.cases()] == ["Lost parcel"]
    out = s.cli("cases", "list", "--status", "closed", "--json")
    assert out.returncode == 0 and out.stdout.strip() == "[]"
    out = s.cli("render", "customer/acknowledgment", "--case", "1")
    assert out.returncode == 0, out.stderr
    assert "Subject: Re: Lost parcel [Case #1]" in out.stdout


def test_a_second_daemon_on_the_same_database_refuses_to_start(sqlite_stack):
    s = sqlite_stack
    s.start()
    second = DaemonProcess(s.config, s.tmp / "second.log").start()
    assert second.proc.wait(20) == 1
    assert "another aftercare is already running" in second.log_path.read_text()
    assert s.daemon.proc.poll() is None


def test_a_refused_smtp_login_keeps_emails_waiting_instead_of_failing_them(tmp_path, dovecot):
    from e2e_support import smtp_login_stack
    from aftercare.testing.smtpsink import SmtpSink
    with SmtpSink(username="aftercare", password="right-password") as sink:
        s = smtp_login_stack(tmp_path, dovecot, sink, "wrong-password")
        s.start()
        s.deliver(complaint()[0])
        s.daemon.wait_for_log(lambda l: l.get("event") == "send failed; will retry" and "login refused" in l["error"])
        time.sleep(1)
        assert s.case_json(1)["outbox"] == {"pending": 2}
        s.config.write_text(s.config.read_text().replace("wrong-password", "right-password"))
        s.daemon.signal(__import__("signal").SIGHUP)
        sink.wait_for_count(2, timeout=20)
        assert "wrong-password" not in s.daemon.log_path.read_text()
        assert "right-password" not in s.daemon.log_path.read_text()
        s.daemon.stop()


def test_postgresql_connections_cut_by_the_server_are_reopened(tmp_path, dovecot, smtp_sink, postgres_url):
    import psycopg2
    from e2e_support import Stack
    s = Stack(tmp_path, dovecot, smtp_sink, postgres_url)
    s.start()
    dbname = postgres_url.rsplit("/", 1)[1]
    admin = psycopg2.connect("postgresql://postgres@127.0.0.1:5432/test")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (dbname,))
        assert cur.fetchone()[0] >= 1
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (dbname,))
    admin.close()
    s.deliver(complaint()[0])
    s.smtp.wait_for_count(2, timeout=30)
    assert len(s.cases()) == 1
    s.daemon.stop()

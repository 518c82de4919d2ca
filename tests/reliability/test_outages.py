"""Outages: the IMAP server gone for 30 s, the SMTP server gone then refusing, the database locked for 20 s.

The daemon never exits; everything that arrived is processed once the servers are back, and every email
goes out exactly once.
"""
from __future__ import annotations

import collections
import subprocess
import sys
import time

import pytest

from e2e_support import complaint
from reliability_support import log_events, maildir_deliver, outbox_unfinished, sql, wait_until

pytestmark = pytest.mark.reliability

OUTAGE_SECONDS = 30
LOCK_SECONDS = 20


def _acked(s, customers) -> bool:
    got = {m.rcpt_tos[0] for m in s.smtp.messages}
    return set(customers) <= got


def _one_ack_each(s, customers) -> None:
    sent = collections.Counter(m.rcpt_tos[0] for m in s.smtp.messages)
    assert {c: sent[c] for c in customers} == {c: 1 for c in customers}


def test_imap_outage_of_30s_while_mail_arrives_is_survived_and_everything_is_processed(rstack):
    s = rstack
    s.start(poll_interval="1s")
    before = [f"before{i}@example.net" for i in range(3)]
    during = [f"during{i}@example.net" for i in range(5)]
    after = [f"after{i}@example.net" for i in range(3)]
    for c in before:
        s.deliver(complaint(subject="Sent just before the outage", sender=c)[0])
    stopped_at = time.monotonic()
    s.dovecot.stop()
    s.daemon.wait_for_log(lambda l: l.get("event") == "mailbox connection lost; reconnecting", timeout=20)
    # Mail keeps arriving: the MTA delivers into the Maildir while the IMAP server is down.
    for i, c in enumerate(during):
        while time.monotonic() < stopped_at + (i + 1) * OUTAGE_SECONDS / (len(during) + 1):
            assert s.daemon.proc.poll() is None, s.daemon.tail()
            time.sleep(0.2)
        maildir_deliver(s.dovecot, complaint(subject="Arrived during the outage", sender=c)[0])
    while time.monotonic() < stopped_at + OUTAGE_SECONDS:
        assert s.daemon.proc.poll() is None, s.daemon.tail()
        time.sleep(0.2)
    attempts_while_down = len(log_events(s.daemon, "mailbox connection lost; reconnecting"))
    s.dovecot.start()
    back_at = time.monotonic()
    for c in after:
        s.deliver(complaint(subject="Sent after the outage", sender=c)[0])
    customers = before + during + after
    assert wait_until(lambda: _acked(s, before + during), timeout=120), s.daemon.tail()
    recovered_in = time.monotonic() - back_at
    assert wait_until(lambda: _acked(s, customers), timeout=60), s.daemon.tail()
    assert wait_until(lambda: s.folder("INBOX") == [], timeout=30)
    time.sleep(1)
    assert s.daemon.proc.poll() is None
    _one_ack_each(s, customers)
    assert sorted(c["customer"] for c in s.cases()) == sorted(customers)
    assert len(s.folder("Aftercare/Processed")) == len(customers)
    lost = log_events(s.daemon, "mailbox connection lost; reconnecting")
    assert len(lost) >= 2, "reconnect attempts are logged"
    assert log_events(s.daemon, "mailbox reconnected")
    assert not log_events(s.daemon, "worker crashed; restarting")
    print(f"\nRELIABILITY imap-outage: Dovecot down {OUTAGE_SECONDS}s, {len(customers)} complaints "
          f"({len(before)} before, {len(during)} delivered during, {len(after)} after), "
          f"{attempts_while_down} reconnect attempts while down, daemon never exited, "
          f"recovered in {recovered_in:.1f} s")


def test_smtp_down_then_451_then_back_sends_every_email_exactly_once_and_550_tells_the_owner(rstack):
    s = rstack
    s.start(max_retry_interval="1s")
    s.smtp.stop()
    customers = [f"smtp{i}@example.net" for i in range(5)]
    for c in customers:
        s.deliver(complaint(subject="Waiting for the mail server", sender=c)[0])
    s.daemon.wait_for_log(lambda l: l.get("event") == "send failed; will retry", timeout=20)
    time.sleep(4)
    assert wait_until(lambda: len(s.cases()) == len(customers), timeout=20)
    s.smtp.start()
    s.smtp.refuse(451, "4.3.0 try again later")
    s.daemon.wait_for_log(lambda l: l.get("event") == "send failed; will retry" and "451" in l.get("error", ""),
                          timeout=20)
    time.sleep(4)
    assert s.smtp.messages == []
    s.smtp.refuse(None)
    back_at = time.monotonic()
    got = s.smtp.wait_for_count(2 * len(customers), timeout=30)
    recovered_in = time.monotonic() - back_at
    time.sleep(3)  # a second copy of anything would arrive now
    got = s.smtp.messages
    assert len(got) == 2 * len(customers)
    assert len({m.message["Message-ID"] for m in got}) == len(got)
    _one_ack_each(s, customers)
    assert outbox_unfinished(s.tmp / "aftercare.db") == 0
    for case in s.cases():
        assert s.case_json(case["id"])["outbox"] == {"sent": 2}
    retries = len(log_events(s.daemon, "send failed; will retry"))
    print(f"\nRELIABILITY smtp-outage: server down then 451, {len(got)} emails queued, {retries} retries logged, "
          f"each sent exactly once, delivered within {recovered_in:.1f} s of the server accepting again")

    # A permanent refusal: marked failed, never retried, the owner told.
    s.smtp.clear()
    s.smtp.refuse(550, "5.1.1 mailbox unavailable", at="RCPT", times=1)  # the acknowledgment's RCPT
    s.deliver(complaint(subject="Mailbox about to vanish", sender="gone@example.net")[0])
    notice = s.smtp.wait_for(lambda m: m.rcpt_tos == ["jane@example.com"] and
                             "Not sent" in (m.message["Subject"] or ""), timeout=30)[0]
    assert "gone@example.net" in notice.message["Subject"]
    assert "550" in notice.data.decode("utf-8", "replace")
    case_id = next(c["id"] for c in s.cases() if c["customer"] == "gone@example.net")
    time.sleep(3)
    case = s.case_json(case_id)
    ack = next(m for m in case["messages"] if m["kind"] == "acknowledgment")
    assert ack["status"] == "failed" and "550" in (ack["last_error"] or "")
    assert case["outbox"] == {"failed": 1, "sent": 2}
    assert s.smtp.for_recipient("gone@example.net") == []
    assert s.daemon.proc.poll() is None


def test_the_database_locked_by_another_process_for_20s_only_delays(rstack):
    s = rstack
    db = s.tmp / "aftercare.db"
    s.start()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys, time\n"
         "c = sqlite3.connect(sys.argv[1], timeout=5, isolation_level=None)\n"
         "c.execute('BEGIN EXCLUSIVE')\n"
         "print('locked', flush=True)\n"
         "time.sleep(float(sys.argv[2]))\n"
         "c.execute('ROLLBACK')\n"
         "print('released', flush=True)\n",
         str(db), str(LOCK_SECONDS)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        locked_at = time.monotonic()
        customers = [f"lock{i}@example.net" for i in range(5)]
        for c in customers:
            s.deliver(complaint(subject="Written while the database was locked", sender=c)[0])
        while time.monotonic() < locked_at + LOCK_SECONDS - 1.5:
            assert s.daemon.proc.poll() is None, s.daemon.tail()
            assert s.smtp.messages == []  # nothing can be recorded, so nothing is sent
            time.sleep(0.5)
        assert sql(db, 'select count(*) from "case"')[0][0] == 0
        assert holder.stdout.readline().strip() == "released"
        released_at = time.monotonic()
        assert holder.wait(10) == 0
    finally:
        if holder.poll() is None:
            holder.kill()
    s.smtp.wait_for_count(2 * len(customers), timeout=60)
    recovered_in = time.monotonic() - released_at
    assert wait_until(lambda: s.folder("INBOX") == [], timeout=30)
    time.sleep(1)
    assert s.daemon.proc.poll() is None
    assert sorted(c["customer"] for c in s.cases()) == sorted(customers)
    _one_ack_each(s, customers)
    assert len(s.smtp.messages) == 2 * len(customers)
    assert not log_events(s.daemon, "worker crashed; restarting")
    print(f"\nRELIABILITY database-lock: SQLite held EXCLUSIVE by another process for {LOCK_SECONDS}s, "
          f"{len(customers)} complaints waited, none lost, all answered {recovered_in:.1f} s after the lock went")

"""Outages, servers without IDLE or MOVE, poison mail, reloads: the daemon carries on."""
from __future__ import annotations

import signal
import sqlite3
import time

import pytest

from e2e_support import Stack, complaint, parsed


def wait_until(predicate, timeout=15.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


@pytest.fixture
def plain_stack(tmp_path, dovecot_factory, smtp_sink):
    """A server that offers neither IDLE nor MOVE."""
    server = dovecot_factory(idle=False, move=False)
    s = Stack(tmp_path, server, smtp_sink, f"sqlite:///{tmp_path}/aftercare.db")
    yield s
    if s.daemon:
        s.daemon.stop()


def test_a_server_without_idle_or_move_is_polled_and_messages_are_still_filed(plain_stack):
    s = plain_stack
    s.start(poll_interval="1s")
    connected = s.daemon.wait_for_log(lambda l: l.get("event") == "mailbox connected")
    assert connected["idle"] is False and connected["move"] is False
    s.deliver(complaint()[0])
    s.smtp.wait_for_count(2, timeout=10)
    assert wait_until(lambda: s.folder("INBOX") == [] and len(s.folder("Aftercare/Processed")) == 1)


def test_imap_outage_is_survived_with_reconnects_logged(sqlite_stack):
    s = sqlite_stack
    s.start(poll_interval="1s")
    s.dovecot.stop()
    s.daemon.wait_for_log(lambda l: l.get("event") == "mailbox connection lost; reconnecting", timeout=15)
    time.sleep(2)
    s.dovecot.start()
    s.deliver(complaint(subject="During the outage")[0])
    s.smtp.wait_for_count(2, timeout=30)
    assert s.daemon.proc.poll() is None
    assert any(l.get("event") == "mailbox reconnected" for l in s.daemon.log_lines())


def test_smtp_outage_then_temporary_refusal_then_delivery(sqlite_stack):
    s = sqlite_stack
    s.start(max_retry_interval="1s")
    s.smtp.stop()
    s.deliver(complaint()[0])
    s.daemon.wait_for_log(lambda l: l.get("event") == "send failed; will retry", timeout=15)
    s.smtp.start()
    s.smtp.refuse(451, "4.3.0 try again later")
    s.daemon.wait_for_log(lambda l: l.get("event") == "send failed; will retry" and "451" in l.get("error", ""),
                          timeout=15)
    s.smtp.refuse(None)
    got = s.smtp.wait_for_count(2, timeout=20)
    assert sorted(m.rcpt_tos[0] for m in got) == ["jane@example.com", "maria@example.net"]
    time.sleep(1.5)
    assert len(s.smtp.messages) == 2  # each sent once, nothing twice
    assert s.case_json(1)["outbox"] == {"sent": 2}


def test_a_permanent_refusal_marks_failed_and_tells_the_owner(sqlite_stack):
    s = sqlite_stack
    s.smtp.refuse(550, "5.1.1 mailbox unavailable", at="RCPT", times=1)  # the first email: the acknowledgment
    s.start()
    s.deliver(complaint()[0])
    notice = s.smtp.wait_for(lambda m: "jane@example.com" in m.rcpt_tos and
                             "Not sent" in (m.message["Subject"] or ""), timeout=20)
    assert "550" in notice[0].data.decode("utf-8", "replace")
    outbox = s.case_json(1)["outbox"]
    assert outbox == {"failed": 1, "sent": 2}


def test_a_poison_message_is_quarantined_after_three_failures_and_the_rest_go_on(sqlite_stack, tmp_path):
    s = sqlite_stack
    tdir = tmp_path / "templates"
    (tdir / "customer").mkdir(parents=True)
    # A template that breaks on one subject only (it passes check-config's sample rendering): the failure
    # is the message's, not the daemon's.
    (tdir / "customer" / "acknowledgment.txt").write_text(
        "Subject: Re: {{ case.subject }}\n\n{% if 'POISON' in case.subject %}{{ case.no_such_field }}{% endif %}"
        "Thanks.\n")
    s.start(templates_dir=tdir, poll_interval="1s")
    s.deliver(complaint(subject="POISON pill", sender="p@example.net")[0])
    s.deliver(complaint(subject="Ordinary complaint", sender="o@example.net")[0])
    s.smtp.wait_for(lambda m: "o@example.net" in m.rcpt_tos, timeout=15)
    assert wait_until(lambda: len(s.folder("Aftercare/Quarantine")) == 1, timeout=20)
    notice = s.smtp.wait_for(lambda m: "jane@example.com" in m.rcpt_tos and
                             "Set aside" in (m.message["Subject"] or ""), timeout=15)
    assert "no_such_field" in notice[0].data.decode("utf-8", "replace")
    failures = [l for l in s.daemon.log_lines() if l.get("event") == "message failed"]
    assert [l["attempt"] for l in failures] == [1, 2, 3]
    assert s.daemon.proc.poll() is None


def test_sighup_reloads_and_a_broken_config_is_refused_while_running_on(sqlite_stack):
    s = sqlite_stack
    s.start()
    good = s.config.read_text()
    s.config.write_text(good.replace('first_response_due = "24h"', 'first_response_due = "48h"'))
    s.daemon.signal(signal.SIGHUP)
    s.daemon.wait_for_log(lambda l: l.get("event") == "configuration reloaded")
    s.deliver(complaint()[0])
    ack = s.smtp.wait_for(lambda m: "maria@example.net" in m.rcpt_tos)[0]
    assert "within 2 days" in parsed(ack).get_body(("plain",)).get_content()
    s.config.write_text(good.replace("[mailbox]", "[mailbox]\nbogus = 1"))
    s.daemon.signal(signal.SIGHUP)
    refused = s.daemon.wait_for_log(lambda l: l.get("event") == "reload refused; keeping the running configuration")
    assert "mailbox.bogus" in refused["error"]
    s.deliver(complaint(subject="Still working", sender="x@example.net")[0])
    s.smtp.wait_for(lambda m: "x@example.net" in m.rcpt_tos)


def test_logs_are_json_with_context_and_never_contain_the_password(sqlite_stack):
    s = sqlite_stack
    s.start()
    s.deliver(complaint()[0])
    s.smtp.wait_for_count(2)
    s.daemon.wait_for_log(lambda l: l.get("event") == "email sent")
    lines = s.daemon.log_lines()
    assert lines and not any(l.get("raw") for l in lines)
    opened = next(l for l in lines if l.get("event") == "case opened")
    assert opened["case_id"] == 1 and opened["message_id"] and opened["mailbox"].startswith("support@127.0.0.1")
    assert "secret" not in s.daemon.log_path.read_text()  # the IMAP password


def test_the_database_locked_for_a_while_only_delays(sqlite_stack, tmp_path):
    s = sqlite_stack
    s.start()
    lock = sqlite3.connect(tmp_path / "aftercare.db", timeout=1)
    lock.execute("BEGIN EXCLUSIVE")
    s.deliver(complaint()[0])
    time.sleep(3)
    assert s.smtp.messages == []
    lock.rollback()
    lock.close()
    s.smtp.wait_for_count(2, timeout=20)
    assert len(s.cases()) == 1

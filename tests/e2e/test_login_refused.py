"""A refused login is said once, loudly, and retried on a slow schedule: never a "connection lost" storm."""
from __future__ import annotations

import signal
import time

from aftercare.testing.daemonproc import DaemonProcess
from aftercare.testing.smtpsink import SmtpSink
from e2e_support import Stack, complaint, smtp_login_stack


def _events(daemon, name):
    return [l for l in daemon.log_lines() if l.get("event") == name]


def test_a_refused_imap_login_is_said_once_then_retried_slowly_and_a_reload_puts_it_right(tmp_path, dovecot,
                                                                                        smtp_sink):
    s = Stack(tmp_path, dovecot, smtp_sink, f"sqlite:///{tmp_path}/aftercare.db")
    config = s.write_config()
    good = config.read_text()
    config.write_text(good.replace('password = "secret"', 'password = "not-the-password"'))
    s.daemon = DaemonProcess(config, tmp_path / "daemon.log").start()
    s.daemon.wait_for_log(lambda l: l.get("event") == "mailbox login refused", timeout=20)
    time.sleep(6)
    refused = _events(s.daemon, "mailbox login refused")
    assert len(refused) == 1, refused
    assert refused[0]["level"] == "error" and "login refused for support@127.0.0.1" in refused[0]["error"]
    assert refused[0]["retry_in"] >= 15  # the slow schedule, not the reconnect backoff
    assert not _events(s.daemon, "mailbox connection lost; reconnecting")
    assert "not-the-password" not in s.daemon.log_path.read_text()
    config.write_text(good)
    s.daemon.signal(signal.SIGHUP)
    s.daemon.wait_ready(timeout=20)
    s.deliver(complaint()[0])
    s.smtp.wait_for(lambda m: "maria@example.net" in m.rcpt_tos, timeout=20)
    s.daemon.stop()


def test_a_refused_smtp_login_is_said_once_and_counts_no_try_against_the_emails(tmp_path, dovecot):
    with SmtpSink(username="aftercare", password="right-password") as sink:
        s = smtp_login_stack(tmp_path, dovecot, sink, "wrong-password")
        s.start()
        for i in range(3):
            s.deliver(complaint(sender=f"c{i}@example.net")[0])
        s.daemon.wait_for_log(lambda l: l.get("event") == "send failed; will retry" and "login refused" in l["error"])
        time.sleep(6)
        said = _events(s.daemon, "send failed; will retry")
        assert len(said) == 1, said  # not once per email and per second
        assert said[0]["retry_in"] >= 15
        cases = s.cases()
        assert len(cases) == 3
        for c in cases:
            detail = s.case_json(c["id"])
            assert detail["outbox"] == {"pending": 2}
        s.daemon.stop()

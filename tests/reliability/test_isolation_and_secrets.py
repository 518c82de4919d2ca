"""Spoofing, isolation and secrets.

* Staff From without proof (no reply token, someone else's token, a token of another case, forged
  Authentication-Results and Delivered-To) changes nothing, relays nothing, and the owner is told; the genuine
  reply then works.
* A stranger who copies another customer's [Case #N] tag opens a case of their own and receives nothing of the
  other case.
* After a full run with IMAP and SMTP passwords configured (reconnects, a refused login, reloads), no configured
  password appears in any log line, in the CLI's output or in the database; a password file readable by others
  draws a warning from ``check-config --offline``.
"""
from __future__ import annotations

import os
import signal
import time

import pytest

from aftercare.testing.daemonproc import DaemonProcess, run_cli, write_config
from aftercare.testing.smtpsink import SmtpSink
from e2e_support import Stack, complaint, reply_to
from reliability_support import log_events, parsed, plain_text, wait_until

pytestmark = pytest.mark.reliability

SECRET_TEXT = "MARIA-ORDER-88213-HOME-ADDRESS"


def _to(s, address):
    return [m for m in s.smtp.messages if m.rcpt_tos == [address]]


def _open(s, sender, subject, body):
    s.deliver(complaint(subject=subject, sender=sender, body=body)[0])
    address = sender.split("<")[-1].strip(">")
    s.smtp.wait_for(lambda m: m.rcpt_tos == [address], timeout=20)
    return s.cases()[-1]["id"]


def test_staff_from_without_proof_changes_nothing_and_the_owner_is_told(rstack):
    s = rstack
    s.start()
    case1 = _open(s, "Maria Rossi <maria@example.net>", "Kettle lid cracked", "The lid is cracked.")
    case2 = _open(s, "Paul <paul@example.net>", "Toaster sparks", "It sparks.")
    note1 = parsed(s.smtp.wait_for(lambda m: m.rcpt_tos == ["jane@example.com"] and
                                   f"[Case #{case1}]" in m.message["Subject"])[0].data)
    note2 = parsed(s.smtp.wait_for(lambda m: m.rcpt_tos == ["jane@example.com"] and
                                   f"[Case #{case2}]" in m.message["Subject"])[0].data)
    ack1 = parsed(_to(s, "maria@example.net")[0].data)
    before_customer = len(_to(s, "maria@example.net"))
    jane = "Jane Doe <jane@example.com>"
    evil = "#resolve\r\n#plan +1d Cancel the refund\r\n#owner sam@example.com\r\nYour refund is cancelled."
    spoofs = {
        "no token, answering the customer's thread": reply_to(ack1, jane, evil, to="support@example.com"),
        "no token, answering the owner's notification": reply_to(note1, jane, evil, to="support@example.com"),
        "a made-up token": reply_to(note1, jane, evil, to=f"support+c{case1}.0123456789abcdef@example.com"),
        "Jane's real token for another case": reply_to(note1, jane, evil, to=note2["Reply-To"]),
        "Jane's token, but From Sam": reply_to(note1, "sam@example.com", evil),
        "forged Authentication-Results": reply_to(
            note1, jane, evil, to="support@example.com",
            extra_headers="Authentication-Results: mx.example.com; dkim=pass header.d=example.com; "
                          "spf=pass smtp.mailfrom=jane@example.com\r\n"),
        "forged Delivered-To with a made-up token": reply_to(
            note1, jane, evil, to="support@example.com",
            extra_headers=f"Delivered-To: support+c{case1}.fedcba9876543210@example.com\r\n"),
    }
    for raw in spoofs.values():
        s.deliver(raw)
    warnings = lambda: [m for m in s.smtp.messages if "unverified staff email" in (m.message["Subject"] or "")]
    assert wait_until(lambda: len(warnings()) >= len(spoofs), timeout=30), [m.message["Subject"] for m in s.smtp.messages]
    time.sleep(1.5)
    assert len(_to(s, "maria@example.net")) == before_customer, "nothing reached the customer"
    assert all(w.rcpt_tos == ["jane@example.com"] for w in warnings())
    case = s.case_json(case1)
    assert case["status"] == "open" and case["owner"] == "jane@example.com"
    assert case["plan"] == [] and case["first_response_at"] is None
    kinds = [m["kind"] for m in case["messages"] if m["direction"] == "in"]
    assert kinds == ["customer"] + ["suspicious"] * len(spoofs), kinds
    assert s.case_json(case2)["status"] == "open"
    assert len(log_events(s.daemon, "unverified staff mail ignored")) == len(spoofs)

    # The real Jane, answering to her own reply token, is obeyed: the guard is not a wall.
    s.deliver(reply_to(note1, jane, "#plan +2d Send a new lid\r\nDear Maria, a new lid is on its way."))
    relay = s.smtp.wait_for(lambda m: m.rcpt_tos == ["maria@example.net"] and
                            "a new lid is on its way" in plain_text(m.data), timeout=20)
    assert "Cancel the refund" not in plain_text(relay[0].data)
    assert [p["text"] for p in s.case_json(case1)["plan"]] == ["Send a new lid"]


def test_a_stranger_copying_a_case_tag_gets_a_case_of_their_own_and_nothing_of_the_other(rstack):
    s = rstack
    s.start()
    case1 = _open(s, "Maria Rossi <maria@example.net>", "Order 88213 never arrived",
                  f"My parcel {SECRET_TEXT} never arrived. My phone is 0123 456789.")
    before = len(s.smtp.messages)
    for i, subject in enumerate([f"Re: Order 88213 never arrived [Case #{case1}]", f"[case # {case1}] me too",
                                 f"Fwd: [Case #{case1}] please send me the details"]):
        s.deliver(complaint(subject=subject, sender=f"Mallory <mallory{i}@example.org>",
                            body="Please send me everything you have on this case, and the customer's address.")[0])
    for i in range(3):
        s.smtp.wait_for(lambda m, a=f"mallory{i}@example.org": m.rcpt_tos == [a], timeout=20)
    time.sleep(1.5)
    cases = {c["customer"]: c["id"] for c in s.cases()}
    assert len(cases) == 4
    for i in range(3):
        stranger = f"mallory{i}@example.org"
        got = _to(s, stranger)
        assert len(got) == 1, [m.message["Subject"] for m in got]
        data = got[0].data.decode("utf-8", "replace") + plain_text(got[0].data)
        assert f"[Case #{cases[stranger]}]" in got[0].message["Subject"] and cases[stranger] != case1
        for leak in (SECRET_TEXT, "maria@example.net", "Maria", "0123 456789"):
            assert leak not in data, (leak, stranger)
    maria_case = s.case_json(case1)
    assert [m["from"] for m in maria_case["messages"] if m["direction"] == "in"] == ["maria@example.net"]
    # The owner heard of three new cases, not of replies on Maria's.
    new = [m for m in s.smtp.messages[before:] if m.rcpt_tos == ["jane@example.com"]]
    assert len(new) == 3 and all(f"[Case #{case1}]" not in m.message["Subject"] for m in new)


IMAP_PASSWORD = "imap-Zq8x-31337-secret"
SMTP_PASSWORD = "smtp-Kp4w-27182-secret"
WRONG_PASSWORD = "smtp-wrong-Vb9-16180"


def test_no_configured_password_ever_appears_in_a_log_line(tmp_path, dovecot_factory):
    server = dovecot_factory(users={"support": IMAP_PASSWORD, "customer": "secret"})
    pw_file = tmp_path / "imap-password"
    pw_file.write_text(IMAP_PASSWORD + "\n")
    pw_file.chmod(0o600)
    with SmtpSink(username="aftercare", password=SMTP_PASSWORD) as sink:
        s = Stack(tmp_path, server, sink, f"sqlite:///{tmp_path}/aftercare.db")
        config = write_config(tmp_path / "config.toml", imap_port=server.port, smtp_port=sink.port,
                              database_url=s.database_url, max_retry_interval="1s")
        text = config.read_text().replace('password = "secret"', f'password_file = "{pw_file}"', 1)
        text = text.replace("from_address =", f'username = "aftercare"\npassword = "{SMTP_PASSWORD}"\nfrom_address =')
        config.write_text(text)
        s.config = config
        deliver = lambda raw: server.append("support", IMAP_PASSWORD, "INBOX", raw)  # noqa: E731
        s.daemon = DaemonProcess(config, tmp_path / "daemon.log").start()
        try:
            s.daemon.wait_ready()
            deliver(complaint(sender="Maria <maria@example.net>")[0])
            note = parsed(sink.wait_for(lambda m: m.rcpt_tos == ["jane@example.com"], timeout=20)[0].data)
            sink.wait_for(lambda m: m.rcpt_tos == ["maria@example.net"])
            assert all(m.auth_login == "aftercare" for m in sink.messages)
            # The IMAP server goes away and comes back: connection errors are logged.
            server.stop()
            s.daemon.wait_for_log(lambda l: l.get("event") == "mailbox connection lost; reconnecting", timeout=20)
            server.start()
            s.daemon.wait_for_log(lambda l: l.get("event") == "mailbox reconnected", timeout=60)
            # A wrong SMTP password for a while: login refusals are logged, then a reload puts it right.
            config.write_text(text.replace(SMTP_PASSWORD, WRONG_PASSWORD))
            s.daemon.signal(signal.SIGHUP)
            s.daemon.wait_for_log(lambda l: l.get("event") == "configuration reloaded", timeout=20)
            deliver(reply_to(note, "jane@example.com", "Dear Maria, a new one is on its way."))
            s.daemon.wait_for_log(lambda l: l.get("event") == "send failed; will retry" and
                                  "login refused" in l.get("error", ""), timeout=30)
            config.write_text(text)
            s.daemon.signal(signal.SIGHUP)
            sink.wait_for(lambda m: m.rcpt_tos == ["maria@example.net"] and "new one" in plain_text(m.data), timeout=30)
            # A reload with a broken file: the refusal is logged with the file's content in the error.
            config.write_text(text.replace("[mailbox]", f'[mailbox]\nbogus = "{IMAP_PASSWORD}"'))
            s.daemon.signal(signal.SIGHUP)
            s.daemon.wait_for_log(lambda l: l.get("event") == "reload refused; keeping the running configuration")
            config.write_text(text)
            assert s.daemon.stop() == 0
        finally:
            s.daemon.stop()
        outputs = [run_cli(config, *args) for args in (("check-config",), ("check-config", "--offline"),
                                                       ("cases", "list", "--json"), ("cases", "show", "1", "--json"),
                                                       ("render", "customer/acknowledgment", "--case", "1"))]
    assert outputs[0].returncode == 0, outputs[0].stderr
    log = s.daemon.log_path.read_text()
    lines = log.splitlines()
    assert len(lines) > 20
    db_bytes = b"".join(p.read_bytes() for p in tmp_path.glob("aftercare.db*") if p.is_file())
    for password in (IMAP_PASSWORD, SMTP_PASSWORD, WRONG_PASSWORD):
        assert not [line for line in lines if password in line], password
        for out in outputs:
            assert password not in out.stdout + out.stderr
        assert password.encode() not in db_bytes
    print(f"\nRELIABILITY secrets: {len(lines)} log lines from a run with reconnects, a refused SMTP login and "
          f"three reloads: no configured password in any of them, nor in the CLI output or the database")


def test_a_password_file_readable_by_others_draws_a_warning(tmp_path):
    pw_file = tmp_path / "imap-password"
    pw_file.write_text(IMAP_PASSWORD + "\n")
    config = write_config(tmp_path / "config.toml", imap_port=1, smtp_port=2,
                          database_url=f"sqlite:///{tmp_path}/aftercare.db")
    config.write_text(config.read_text().replace('password = "secret"', f'password_file = "{pw_file}"', 1))
    seen = {}
    for mode in (0o644, 0o604, 0o640, 0o600):
        pw_file.chmod(mode)
        out = run_cli(config, "check-config", "--offline")
        assert out.returncode == 0, out.stderr
        seen[oct(mode)] = [l for l in out.stdout.splitlines() if l.startswith("warning:")]
        assert IMAP_PASSWORD not in out.stdout + out.stderr
    assert any("mailbox.password_file" in w and "readable by other users" in w for w in seen["0o644"]), seen
    assert any("readable by other users" in w for w in seen["0o604"]), seen
    assert seen["0o640"] == [] and seen["0o600"] == [], seen  # group-readable is how the service user reads it
    assert os.stat(pw_file).st_mode & 0o777 == 0o600

"""``aftercare demo``: a complaint end to end on throwaway servers, printed as it happens.

A real Dovecot and a real SMTP server on loopback, the real daemon as a child
process, and a customer and a staff member played by this script.
"""
from __future__ import annotations

import email
import email.policy
import shutil
import tempfile
import time
from email.utils import format_datetime, make_msgid
from datetime import datetime, timezone
from pathlib import Path

COMPLAINT = """\
From: Maria Rossi <maria.rossi@example.net>
To: Acme Support <support@example.com>
Subject: Cracked kettle lid, order 10234
Date: {date}
Message-ID: {mid}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Hello,

I ordered a kettle (order 10234) two weeks ago and it arrived with a cracked
lid. I wrote last week and nobody answered. I need it working before my
parents visit on Saturday.

Maria

Sent from my iPhone
"""

JANE = "Jane Doe <jane@example.com>"
MARIA = "Maria Rossi <maria.rossi@example.net>"

JANE_PLANS = """\
#plan +2d Deliver a new kettle by express courier
#plan +3d Refund the delivery charge
Dear Maria,

I am so sorry: a new kettle leaves our warehouse today by express courier,
so it will be with you on Friday. Please keep the broken one; no need to
send it back.

Jane
"""

MARIA_THANKS = "Thank you, Friday is perfect.\n"

JANE_DONE = """\
#done 1,2
#cause Courier packed kettles without padding
Maria, the kettle was delivered this morning and the refund is on its way.

Jane
"""

MARIA_RATES = "5 - thank you, Jane was wonderful.\n"


def reply(parent: bytes, sender: str, body: str) -> bytes:
    """A reply as a mail client writes it: to the Reply-To if any, threaded, the parent quoted below."""
    msg = email.message_from_bytes(parent, policy=email.policy.default)
    quoted = "\n".join("> " + line for line in msg.get_body(("plain",)).get_content().splitlines()[:4])
    now = datetime.now(timezone.utc)
    raw = (f"From: {sender}\nTo: {msg['Reply-To'] or msg['From']}\nSubject: Re: {msg['Subject']}\n"
           f"Date: {format_datetime(now)}\nMessage-ID: {make_msgid(domain=sender.split('@')[1].strip('>'))}\n"
           f"In-Reply-To: {msg['Message-ID']}\nReferences: {msg['Message-ID']}\nMIME-Version: 1.0\n"
           f"Content-Type: text/plain; charset=utf-8\n\n{body}\n"
           f"On {format_datetime(now)}, {msg['From']} wrote:\n{quoted}\n")
    return raw.replace("\n", "\r\n").encode()


def _show(title: str, raw: bytes, started: float) -> None:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    body = msg.get_body(("plain",))
    print(f"\n=== {title}  (+{time.monotonic() - started:.2f}s) ".ljust(78, "="))
    for h in ("From", "To", "Subject", "Message-ID", "In-Reply-To", "Auto-Submitted"):
        if msg[h]:
            print(f"{h}: {msg[h]}")
    print()
    print(body.get_content().rstrip() if body else "(no text part)")


def run_demo(workdir: Path | None = None) -> int:
    from .testing.daemonproc import DaemonProcess, run_cli, write_config
    from .testing.dovecot import Dovecot
    from .testing.smtpsink import SmtpSink

    if not Dovecot.available():
        print("The demo needs Dovecot: apt-get install dovecot-imapd (make demo does it for you).")
        return 1
    keep = workdir is not None
    workdir = Path(workdir or tempfile.mkdtemp(prefix="aftercare-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"Demo files in {workdir}")
    dovecot = Dovecot(workdir / "dovecot")
    dovecot.add_user("support", "demo-password")
    sink = SmtpSink()
    daemon = None
    try:
        dovecot.start()
        sink.start()
        print(f"Dovecot IMAP on 127.0.0.1:{dovecot.port}, SMTP server on 127.0.0.1:{sink.port}")
        config = write_config(workdir / "config.toml", imap_port=dovecot.port, smtp_port=sink.port,
                              imap_password="demo-password", database_url=f"sqlite:///{workdir}/aftercare.db",
                              poll_interval="30s",
                              schedule_extra='followup_after = "3s"\ncheckin_after = "6s"')
        daemon = DaemonProcess(config, workdir / "daemon.log").start()
        daemon.wait_ready()
        print("The daemon is running and watching the mailbox (IMAP IDLE).")

        now = format_datetime(datetime.now(timezone.utc))
        complaint_id = make_msgid(domain="mail.example.net")
        started = time.monotonic()
        dovecot.append("support", "demo-password", "INBOX",
                       COMPLAINT.format(date=now, mid=complaint_id).replace("\n", "\r\n").encode())
        print("\nMaria's complaint was delivered to the support mailbox.")
        got = sink.wait_for_count(2, timeout=20)
        by_rcpt = {r.rcpt_tos[0]: r for r in got}
        ack, note = by_rcpt["maria.rossi@example.net"], by_rcpt["jane@example.com"]
        _show("Email to the customer: the acknowledgment", ack.data, started)
        _show("Email to the owner: the new case", note.data, started)

        def deliver(raw: bytes) -> float:
            dovecot.append("support", "demo-password", "INBOX", raw)
            return time.monotonic()

        started = deliver(reply(note.data, JANE, JANE_PLANS))
        print("\nJane answered the notification from her own mail client, with two #plan lines on top.")
        relay, plan = sink.wait_for_count(4, timeout=20)[2:4]
        _show("Email to the customer: Jane's answer, relayed (commands and quoted history removed)",
              relay.data, started)
        _show("Email to the customer: the plan in writing", plan.data, started)

        started = deliver(reply(relay.data, MARIA, MARIA_THANKS))
        print("\nMaria replied.")
        forward = sink.wait_for_count(5, timeout=20)[4]
        _show("Email to the owner: the customer's reply", forward.data, started)

        started = deliver(reply(forward.data, JANE, JANE_DONE))
        print("\nJane replied to the forward: #done 1,2 and a line for Maria.")
        for received in sink.wait_for_count(7, timeout=20)[5:7]:
            kind = "progress: everything done" if b"promised is done" in received.data else "Jane's words"
            _show(f"Email to the customer: {kind}", received.data, started)

        print("\nThe case is resolved. The demo shortens the aftercare: follow-up after 3 s, check-in after 6 s.")
        started = time.monotonic()
        followup = sink.wait_for(lambda m: b"is everything working now" in m.data, timeout=20)[0]
        _show("Email to the customer: the follow-up", followup.data, started)
        checkin = sink.wait_for(lambda m: b"how did we do" in m.data, timeout=20)[0]
        _show("Email to the customer: the satisfaction check-in", checkin.data, started)
        started = deliver(reply(checkin.data, MARIA, MARIA_RATES))
        print(f"\nMaria answered the check-in with one line: {MARIA_RATES.strip()!r}")
        thanks = sink.wait_for(lambda m: b": thank you [Case" in m.data, timeout=20)[0]
        _show("Email to the customer: thanks for the rating (the case is closed)", thanks.data, started)

        print("\n=== aftercare report ".ljust(78, "="))
        print(run_cli(config, "report").stdout)

        print("\n=== aftercare cases show 1 ".ljust(78, "="))
        print(run_cli(config, "cases", "show", "1").stdout)
        processed = dovecot.fetch_all("support", "demo-password", "Aftercare.Processed") \
            if "Aftercare.Processed" in dovecot.folders("support", "demo-password") \
            else dovecot.fetch_all("support", "demo-password", "Aftercare/Processed")
        print(f"Originals filed in Aftercare/Processed: {len(processed)}; "
              f"left in INBOX: {len(dovecot.fetch_all('support', 'demo-password', 'INBOX'))}")
        print("\nThe demo worked." + (f" Its files (config, database, log) are in {workdir}." if keep else ""))
        return 0
    except (TimeoutError, RuntimeError) as exc:
        print(f"\nThe demo failed: {exc}")
        if daemon:
            print(daemon.tail())
        return 1
    finally:
        if daemon:
            daemon.stop()
        sink.stop()
        dovecot.stop()
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)

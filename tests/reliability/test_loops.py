"""Loops and bounces: customers whose mailboxes answer everything, and a delivery report for an acknowledgment.

Three kinds of autoresponder answer every email the daemon sends them, for about 20 s:
  * a polite one (Auto-Submitted: auto-replied, RFC 3834): never answered at all;
  * a rude one (no automatic headers, "Re: <subject>", threaded with In-Reply-To): taken for a customer
    reply on the case, forwarded to the owner, never answered;
  * a ticketing system (no automatic headers, no threading, a new subject each time): every answer looks like
    a new complaint, the real loop; the per-recipient limit (outbox.recipient_limit, default 5 an hour)
    holds the acknowledgments back once reached, and the loop dies.
"""
from __future__ import annotations

import collections
import threading
import time
from email.utils import make_msgid

import pytest

from e2e_support import complaint
from reliability_support import log_events, parsed, sql, wait_until

pytestmark = pytest.mark.reliability

LOOP_SECONDS = 20
RECIPIENT_LIMIT = 5  # the default of outbox.recipient_limit (per outbox.recipient_limit_window, 1h)


class AutoResponder(threading.Thread):
    """A customer's mailbox that answers every email it gets from us, back into the support INBOX."""

    def __init__(self, stack, address: str, style: str):
        super().__init__(daemon=True)
        self.stack, self.address, self.style = stack, address, style
        self.stop = threading.Event()
        self.replies = 0
        self.errors: list[BaseException] = []

    def reply(self, received) -> bytes:
        original = parsed(received.data)
        mid = make_msgid(domain="autoreply.example.net")
        self.replies += 1
        head = f"From: Auto Responder <{self.address}>\r\nTo: support@example.com\r\nMessage-ID: {mid}\r\n" \
               f"Date: Mon, 02 Mar 2026 10:00:{self.replies % 60:02d} +0000\r\n"
        if self.style == "polite":
            head += (f"Subject: Automatic reply: {original['Subject']}\r\nAuto-Submitted: auto-replied\r\n"
                     f"In-Reply-To: {original['Message-ID']}\r\nReferences: {original['Message-ID']}\r\n")
        elif self.style == "rude":
            head += (f"Subject: Re: {original['Subject']}\r\n"
                     f"In-Reply-To: {original['Message-ID']}\r\nReferences: {original['Message-ID']}\r\n")
        else:  # ticketing: a fresh ticket, no threading, nothing that says "automatic"
            head += f"Subject: [Ticket #{1000 + self.replies}] We have received your request\r\n"
        body = "Thank you for your message. I am out of the office and will read it on my return.\r\n"
        return (head + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body).encode()

    def run(self) -> None:
        answered = 0
        while not self.stop.is_set():
            try:
                mails = self.stack.smtp.for_recipient(self.address)
                for m in mails[answered:]:
                    self.stack.deliver(self.reply(m))
                answered = len(mails)
            except Exception as exc:  # noqa: BLE001 - reported by the test
                self.errors.append(exc)
            self.stop.wait(0.1)


def test_autoresponders_answering_everything_for_20s_cannot_start_a_loop(rstack):
    s = rstack
    s.start()
    responders = {style: AutoResponder(s, f"{style}@example.net", style) for style in ("polite", "rude", "ticketing")}
    for r in responders.values():
        r.start()
    started = time.monotonic()
    for style in responders:
        s.deliver(complaint(subject=f"Complaint from the {style} mailbox", sender=f"{style}@example.net")[0])
    sent_over_time = []  # emails to the ticketing mailbox, once a second
    # At least LOOP_SECONDS, and until the count has stood still for 8 s (a slow machine needs longer).
    while time.monotonic() < started + LOOP_SECONDS or (
            len(set(sent_over_time[-8:])) > 1 and time.monotonic() < started + 3 * LOOP_SECONDS):
        assert s.daemon.proc.poll() is None, s.daemon.tail()
        sent_over_time.append(len(s.smtp.for_recipient("ticketing@example.net")))
        time.sleep(1)
    for r in responders.values():
        r.stop.set()
        r.join(5)
        assert not r.errors, r.errors
    assert wait_until(lambda: s.folder("INBOX") == [], timeout=20)
    time.sleep(2)
    to = collections.Counter(m.rcpt_tos[0] for m in s.smtp.messages)
    cases = collections.defaultdict(list)
    for c in s.cases():
        cases[c["customer"]].append(c["id"])

    # Polite: acknowledged once, the auto-reply filed as automatic and never answered.
    assert to["polite@example.net"] == 1 and responders["polite"].replies == 1
    [polite_case] = cases["polite@example.net"]
    kinds = [m["kind"] for m in s.case_json(polite_case)["messages"] if m["direction"] == "in"]
    assert kinds == ["customer", "automatic"]

    # Rude: its "Re:" is threaded into the case, goes to the owner, and is never answered.
    assert to["rude@example.net"] == 1 and responders["rude"].replies == 1
    [rude_case] = cases["rude@example.net"]
    rude = s.case_json(rude_case)
    assert [m["kind"] for m in rude["messages"] if m["direction"] == "in"] == ["customer", "customer"]
    assert [m["kind"] for m in rude["messages"] if m["direction"] == "out"] == [
        "acknowledgment", "notification", "forward"]

    # Ticketing: the loop is cut at the per-recipient limit; the excess is held, recorded and logged.
    ticket_cases = cases["ticketing@example.net"]
    assert to["ticketing@example.net"] == RECIPIENT_LIMIT, sent_over_time
    assert responders["ticketing"].replies == RECIPIENT_LIMIT
    assert len(ticket_cases) == RECIPIENT_LIMIT + 1
    held = [m for cid in ticket_cases for m in s.case_json(cid)["messages"]
            if m["direction"] == "out" and m["status"] == "held"]
    assert len(held) == 1 and held[0]["kind"] == "acknowledgment"
    assert "recipient_limit" in (held[0]["last_error"] or "")
    assert log_events(s.daemon, "automated email held back by the loop limit")
    assert sql(s.tmp / "aftercare.db", "select count(*) from message where status='held' and recipient=?",
               ("ticketing@example.net",))[0][0] == 1
    # The loop is over: nothing more went out in the last 8 s of the run.
    assert set(sent_over_time[-8:]) == {RECIPIENT_LIMIT}, sent_over_time
    assert s.daemon.proc.poll() is None
    total_replies = sum(r.replies for r in responders.values())
    print(f"\nRELIABILITY loops: 3 autoresponders answering everything for {len(sent_over_time)} s sent {total_replies} "
          f"replies; emails to them: polite {to['polite@example.net']}, rude {to['rude@example.net']}, "
          f"ticketing {to['ticketing@example.net']} (bound = outbox.recipient_limit {RECIPIENT_LIMIT}/h), "
          f"{len(held)} held; emails to the ticketing mailbox, second by second: {sent_over_time}")


def _delivery_report(reporting_mta: str, recipient: str, ack) -> bytes:
    """An RFC 3464 report as Postfix and Exchange write it, naming our acknowledgment in the returned headers."""
    ack_msg = parsed(ack.data)
    returned = "".join(f"{k}: {v}\r\n" for k, v in (
        ("From", ack_msg["From"]), ("To", ack_msg["To"]), ("Subject", ack_msg["Subject"]),
        ("Message-ID", ack_msg["Message-ID"]), ("Date", ack_msg["Date"])))
    return (f"Return-Path: <>\r\nFrom: Mail Delivery System <MAILER-DAEMON@{reporting_mta}>\r\n"
            f"To: support@example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n"
            f"Date: Mon, 02 Mar 2026 10:05:00 +0000\r\nMessage-ID: {make_msgid(domain=reporting_mta)}\r\n"
            f"Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: multipart/report; report-type=delivery-status; boundary=\"dsn-b\"\r\n\r\n"
            f"--dsn-b\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
            f"Your message could not be delivered to {recipient}.\r\n\r\n"
            f"--dsn-b\r\nContent-Type: message/delivery-status\r\n\r\n"
            f"Reporting-MTA: dns; {reporting_mta}\r\nOriginal-Envelope-Id: {ack_msg['Message-ID'].strip('<>')}\r\n\r\n"
            f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
            f"Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient address rejected: User unknown\r\n\r\n"
            f"--dsn-b\r\nContent-Type: text/rfc822-headers\r\n\r\n{returned}\r\n--dsn-b--\r\n").encode()


def test_a_delivery_report_marks_the_acknowledgment_bounced_and_tells_the_owner_without_a_loop(rstack):
    s = rstack
    s.start()
    s.deliver(complaint(subject="Parcel never came", sender="Vanished <vanished@example.net>")[0])
    ack = s.smtp.wait_for(lambda m: m.rcpt_tos == ["vanished@example.net"], timeout=20)[0]
    s.smtp.wait_for(lambda m: m.rcpt_tos == ["jane@example.com"], timeout=20)
    before = len(s.smtp.messages)
    s.deliver(_delivery_report("mx.example.net", "vanished@example.net", ack))
    notice = s.smtp.wait_for(lambda m: m.rcpt_tos == ["jane@example.com"] and
                             "Undeliverable" in (m.message["Subject"] or ""), timeout=20)[0]
    assert "vanished@example.net" in notice.message["Subject"] and "[Case #1]" in notice.message["Subject"]
    assert wait_until(lambda: s.folder("INBOX") == [], timeout=20)
    time.sleep(2)
    case = s.case_json(1)
    ack_row = next(m for m in case["messages"] if m["kind"] == "acknowledgment")
    assert ack_row["message_id"] == parsed(ack.data)["Message-ID"].strip("<>")
    assert ack_row["status"] == "bounced"
    assert "5.1.1" in (ack_row["last_error"] or "")
    assert [m["kind"] for m in case["messages"] if m["direction"] == "in"] == ["customer", "bounce"]
    # The report is never answered, and nothing more went to the customer: one email, the owner's notice.
    assert len(s.smtp.messages) == before + 1
    assert not any("mailer-daemon" in r.lower() for m in s.smtp.messages for r in m.rcpt_tos)
    assert s.daemon.proc.poll() is None

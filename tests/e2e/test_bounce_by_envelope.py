"""Delivery reports matched by the envelope: every email's MAIL FROM names its outbox row (VERP).

The reports here carry nothing the body heuristics could use (no returned headers, no Message-ID), as some
servers send them; only the envelope address they come back to says which email bounced.
"""
from __future__ import annotations

import re

from e2e_support import complaint

VERP = re.compile(r"^support\+b(\d+)\.[0-9a-f]{12}@example\.com$")


def _dsn(to: str, recipient: str) -> bytes:
    return (f"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\nTo: {to}\r\n"
            f"Delivered-To: {to}\r\nReturn-Path: <>\r\nSubject: Undelivered Mail Returned to Sender\r\n"
            "Date: Mon, 02 Mar 2026 09:20:00 +0100\r\nMessage-ID: <dsn1@mx.example.net>\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
            "--b1\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your message could not be "
            "delivered.\r\n\r\n--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n"
            f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
            "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n--b1--\r\n").encode()


def _plain_bounce(to: str) -> bytes:
    """A bounce in no standard form at all (qmail-like), with nothing of the original."""
    return (f"From: MAILER-DAEMON@old.example.org\r\nTo: {to}\r\nDelivered-To: {to}\r\n"
            "Subject: failure notice\r\nDate: Mon, 02 Mar 2026 09:21:00 +0100\r\nMessage-ID: <q1@old.example.org>\r\n"
            "\r\nHi. This is the qmail-send program. I'm afraid I wasn't able to deliver your message.\r\n").encode()


def _vacation(to: str) -> bytes:
    return (f"From: Maria Rossi <maria@example.net>\r\nTo: {to}\r\nDelivered-To: {to}\r\n"
            "Subject: Away until Monday\r\nAuto-Submitted: auto-replied\r\nDate: Mon, 02 Mar 2026 09:22:00 +0100\r\n"
            "Message-ID: <away1@example.net>\r\n\r\nI am away until Monday.\r\n").encode()


def test_a_report_with_nothing_of_the_original_is_matched_to_the_exact_email_by_its_envelope(sqlite_stack):
    s = sqlite_stack
    s.start()
    s.deliver(complaint(sender="Maria Rossi <maria@example.net>")[0])
    s.deliver(complaint(subject="Another thing", sender="bob@example.net")[0])
    ack = s.smtp.wait_for(lambda m: m.rcpt_tos == ["maria@example.net"])[0]
    other = s.smtp.wait_for(lambda m: m.rcpt_tos == ["bob@example.net"])[0]
    for received in (ack, other):
        assert VERP.match(received.mail_from), received.mail_from
    assert ack.mail_from != other.mail_from  # each email its own envelope
    s.smtp.wait_for_count(4)

    s.deliver(_dsn(ack.mail_from, "maria@example.net"))
    s.smtp.wait_for(lambda m: m.rcpt_tos == ["jane@example.com"]
                    and (m.message["Subject"] or "").startswith("Undeliverable: our email to maria@example.net"),
                    timeout=20)
    case = s.case_json(1)
    assert case["outbox"].get("bounced") == 1, case["outbox"]
    assert s.case_json(2)["outbox"].get("bounced") is None  # bob's case untouched

    s.deliver(_plain_bounce(other.mail_from))
    s.daemon.wait_for_log(lambda l: l.get("event") == "delivery report" and l.get("case_id") == 2, timeout=20)
    assert s.case_json(2)["outbox"].get("bounced") == 1

    # A person's auto-reply to the envelope is filed on that email's case, never a new case.
    s.deliver(_vacation(ack.mail_from))
    s.daemon.wait_for_log(lambda l: l.get("event") == "automatic mail filed" and l.get("case_id") == 1, timeout=20)
    assert len(s.cases()) == 2


def test_a_forged_envelope_address_matches_nothing(sqlite_stack):
    s = sqlite_stack
    s.start()
    s.deliver(complaint()[0])
    ack = s.smtp.wait_for(lambda m: m.rcpt_tos == ["maria@example.net"])[0]
    row = VERP.match(ack.mail_from).group(1)
    forged = f"support+b{row}.000000000000@example.com"
    s.deliver(_dsn(forged, "maria@example.net"))
    s.daemon.wait_for_log(lambda l: l.get("event") == "delivery report", timeout=20)
    assert s.case_json(1)["outbox"].get("bounced") is None

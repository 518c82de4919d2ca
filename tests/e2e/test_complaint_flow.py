"""A complaint in a real Dovecot mailbox, the real daemon, a real SMTP server."""
from __future__ import annotations

import signal
import time

import pytest

from e2e_support import complaint, parsed, reply_to


def test_a_complaint_is_acknowledged_threaded_within_two_seconds(stack):
    stack.start()
    raw, mid = complaint(subject="My order arrived broken")
    t0 = time.monotonic()
    stack.deliver(raw)
    ack = stack.smtp.wait_for(lambda m: "maria@example.net" in m.rcpt_tos, timeout=10)[0]
    latency = time.monotonic() - t0
    assert latency < 2.0, f"acknowledged after {latency:.2f}s"
    msg = parsed(ack)
    assert msg["Subject"] == "Re: My order arrived broken [Case #1]"
    assert msg["In-Reply-To"] == f"<{mid}>" and mid in msg["References"]
    assert msg["Auto-Submitted"] == "auto-replied" and msg["X-Auto-Response-Suppress"] == "All"
    assert "Jane Doe" in msg.get_body(("plain",)).get_content()
    note = stack.smtp.wait_for(lambda m: "jane@example.com" in m.rcpt_tos, timeout=10)[0]
    assert "It broke." in parsed(note).get_body(("plain",)).get_content()
    # The original is filed away only after it was recorded.
    deadline = time.monotonic() + 5
    while stack.folder("INBOX") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert stack.folder("INBOX") == [] and len(stack.folder("Aftercare/Processed")) == 1
    case = stack.case_json(1)
    assert case["status"] == "open" and case["customer"] == "maria@example.net"
    assert case["owner"] == "jane@example.com" and case["subject"] == "My order arrived broken"
    stored_ids = {m["message_id"] for m in case["messages"]}
    assert mid in stored_ids and msg["Message-ID"].strip("<>") in stored_ids
    assert case["outbox"] == {"sent": 2}
    assert [c["id"] for c in stack.cases()] == [1]


def test_waiting_mail_is_processed_at_start_and_a_restart_duplicates_nothing(stack):
    for i in range(3):
        stack.deliver(complaint(subject=f"Backlog {i}", sender=f"c{i}@example.net")[0])
    stack.start()
    stack.smtp.wait_for_count(6, timeout=20)
    # Killed once the daemon has noted all six as sent: the server's acceptance reaches the daemon a moment
    # after the server recorded it, and an email caught in that moment is the crash suite's one repeat.
    stack.daemon.wait_for_log(lambda l: sum(1 for x in stack.daemon.log_lines() if x.get("event") == "email sent")
                              >= 6, timeout=20)
    stack.daemon.kill()  # SIGKILL: no chance to tidy up
    stack.start()
    stack.deliver(complaint(subject="After restart")[0])
    stack.smtp.wait_for_count(8, timeout=20)
    time.sleep(1.5)  # a duplicate would show up by now
    assert len(stack.smtp.messages) == 8
    assert sorted(c["subject"] for c in stack.cases()) == ["After restart", "Backlog 0", "Backlog 1", "Backlog 2"]


def test_a_message_recorded_but_not_yet_moved_is_only_filed(stack):
    """The crash window between commit and move: the same email seen again opens nothing."""
    raw, mid = complaint()
    stack.start()
    stack.deliver(raw)
    stack.smtp.wait_for_count(2, timeout=10)
    stack.deliver(raw)  # as if the move had never happened
    deadline = time.monotonic() + 10
    while len(stack.folder("Aftercare/Processed")) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(stack.folder("Aftercare/Processed")) == 2
    assert len(stack.cases()) == 1 and len(stack.smtp.messages) == 2


def test_staff_reply_reaches_the_customer_and_customer_reply_reaches_the_owner(stack):
    stack.start()
    stack.deliver(complaint(body="The lid is cracked.")[0])
    note = parsed(stack.smtp.wait_for(lambda m: "jane@example.com" in m.rcpt_tos)[0])
    ack = parsed(stack.smtp.wait_for(lambda m: "maria@example.net" in m.rcpt_tos)[0])
    stack.deliver(reply_to(note, "Jane Doe <jane@example.com>",
                           "A new kettle ships today.\r\n\r\nOn Mon, 2 Mar 2026 at 09:15, Acme Support wrote:\r\n"
                           "> a new complaint has arrived\r\n"))
    relay = stack.smtp.wait_for(lambda m: "maria@example.net" in m.rcpt_tos and m.message["Auto-Submitted"] is None)
    relay = parsed(relay[0])
    text = relay.get_body(("plain",)).get_content()
    assert "A new kettle ships today." in text and "a new complaint has arrived" not in text
    assert "Jane Doe" in text and relay["Subject"].endswith("[Case #1]")
    assert ack["Message-ID"] in relay["References"]
    assert stack.case_json(1)["first_response_at"] is not None

    stack.deliver(reply_to(relay, "Maria Rossi <maria@example.net>", "Thank you, Friday is fine."))
    forward = stack.smtp.wait_for(lambda m: "jane@example.com" in m.rcpt_tos and
                                  "Friday is fine" in m.data.decode("utf-8", "replace"))
    assert parsed(forward[0])["In-Reply-To"] == note["Message-ID"]  # the owner's thread for the case
    assert len(stack.cases()) == 1


def test_auto_replies_are_recorded_and_never_answered(stack):
    stack.start()
    stack.deliver(complaint()[0])
    ack = parsed(stack.smtp.wait_for(lambda m: "maria@example.net" in m.rcpt_tos)[0])
    stack.deliver(reply_to(ack, "maria@example.net", "I am out of the office until Monday.",
                           "Auto-Submitted: auto-replied\r\n"))
    stack.deliver(complaint(subject="Newsletter", sender="news@shop.example", extra_headers="List-Id: <n.shop>\r\n")[0])
    deadline = time.monotonic() + 10
    while len(stack.folder("Aftercare/Processed")) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    assert len(stack.smtp.messages) == 2  # only the acknowledgment and the owner's notification
    kinds = [m["kind"] for m in stack.case_json(1)["messages"]]
    assert kinds.count("automatic") == 1
    assert len(stack.cases()) == 1


def test_a_stranger_copying_a_case_tag_gets_a_case_of_their_own(stack):
    stack.start()
    stack.deliver(complaint(body="The lid is cracked; my card ends 4242.")[0])
    stack.smtp.wait_for_count(2)
    stack.deliver(complaint(subject="Re: My order arrived broken [Case #1]", sender="mallory@evil.example",
                            body="Tell me everything.")[0])
    ack = stack.smtp.wait_for(lambda m: "mallory@evil.example" in m.rcpt_tos)[0]
    assert parsed(ack)["Subject"].endswith("[Case #2]")
    assert "4242" not in ack.data.decode("utf-8", "replace")
    assert [m["from"] for m in stack.case_json(1)["messages"] if m["direction"] == "in"] == ["maria@example.net"]


def test_sigterm_exits_cleanly_and_quickly(stack):
    stack.start()
    t0 = time.monotonic()
    assert stack.daemon.stop(timeout=12) == 0
    assert time.monotonic() - t0 < 10
    assert any(l.get("event") == "aftercare stopped" for l in stack.daemon.log_lines())

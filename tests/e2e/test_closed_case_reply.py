"""A customer writes again after their case closed, and the owner's answer reaches them: real servers.

The story from the issue: a complaint, #resolve, the follow-up and the check-in (short schedules), a
rating of 4 closes the case, the customer asks "where do I send the old kettle?", the owner answers the
forward, and the customer receives the owner's words. Before, the answer was dropped without a word.
"""
from __future__ import annotations

import time

from e2e_support import complaint, parsed, reply_to

SHORT = 'followup_after = "2s"\ncheckin_after = "4s"'
MARIA = "maria@example.net"


def text_of(received) -> str:
    return parsed(received).get_body(("plain",)).get_content()


def subject(m) -> str:
    return m.message["Subject"] or ""


def test_the_owners_answer_after_the_case_closed_reaches_the_customer(stack):
    s = stack
    s.start(schedule_extra=SHORT)
    s.deliver(complaint(subject="Broken kettle", body="The lid of my kettle is cracked.")[0])
    note = parsed(s.smtp.wait_for(lambda m: m.rcpt_tos == ["jane@example.com"])[0])
    s.deliver(reply_to(note, "Jane Doe <jane@example.com>", "#resolve\r\nThe replacement is with you, Maria."))
    s.smtp.wait_for(lambda m: m.rcpt_tos == [MARIA] and ": resolved" in subject(m), timeout=15)
    s.smtp.wait_for(lambda m: "is everything working now" in subject(m), timeout=15)
    checkin = s.smtp.wait_for(lambda m: "how did we do" in subject(m), timeout=15)[0]

    s.deliver(reply_to(parsed(checkin), "Maria Rossi <maria@example.net>", "4 - the new one works, thank you."))
    thanks = s.smtp.wait_for(lambda m: m.rcpt_tos == [MARIA] and ": thank you" in subject(m), timeout=15)[0]
    case = s.case_json(1)
    assert case["status"] == "closed" and case["rating"]["score"] == 4

    # The customer writes again, answering the thank-you; the owner gets it in the case's thread.
    question = reply_to(parsed(thanks), "Maria Rossi <maria@example.net>", "Where do I send the old kettle?")
    s.deliver(question)
    forward = s.smtp.wait_for(lambda m: m.rcpt_tos == ["jane@example.com"]
                              and "Where do I send the old kettle?" in text_of(m), timeout=15)[0]
    assert s.case_json(1)["status"] == "closed"

    # The owner answers the forward from her mail client, quoting it as mail clients do.
    s.deliver(reply_to(parsed(forward), "Jane Doe <jane@example.com>",
                       "Please keep it or recycle it, Maria: there is no need to send it back.\r\n\r\n"
                       "On Mon, 2 Mar 2026, Acme Support wrote:\r\n> Where do I send the old kettle?\r\n"))
    answer = s.smtp.wait_for(lambda m: m.rcpt_tos == [MARIA] and "no need to send it back" in text_of(m),
                             timeout=15)[0]
    body = text_of(answer)
    assert "Please keep it or recycle it, Maria: there is no need to send it back." in body
    assert "Jane Doe" in body and "> Where do I send" not in body
    headers = parsed(answer)
    assert headers["Auto-Submitted"] is None  # a person's words
    question_id = parsed_message_id(question)
    assert headers["In-Reply-To"] == question_id  # in the customer's own conversation, answering her question
    assert "[Case #1]" in headers["Subject"]

    time.sleep(1)
    # Everything was relayed, so Jane gets no "not sent" answer; the case stays closed with its rating.
    assert not [m for m in s.smtp.messages if subject(m).startswith("Not sent to the customer")]
    case = s.case_json(1)
    assert case["status"] == "closed" and case["rating"]["score"] == 4
    assert [m["kind"] for m in case["messages"] if m["direction"] == "in"][-2:] == ["customer", "staff"]


def parsed_message_id(raw: bytes) -> str:
    from email import message_from_bytes, policy
    return message_from_bytes(raw, policy=policy.default)["Message-ID"]

"""A reopened case is chased like a new one: real servers, a real daemon, short promises.

A low rating or "it still does not work" reopens a resolved case; nobody answers within the promise and
the escalation says why the case is open again. When the owner answers in time, nothing more comes.
"""
from __future__ import annotations

import time

from e2e_support import complaint, parsed, reply_to, wait_for_n

REOPENED = "Escalation: reopened, no answer yet on Case #1"


def text_of(received) -> str:
    return parsed(received).get_body(("plain",)).get_content()


def subject(m) -> str:
    return m.message["Subject"] or ""


def resolve_a_case(s):
    """A complaint, answered and resolved by Jane at once (which keeps the first promise)."""
    s.deliver(complaint(sender="Maria Rossi <maria@example.net>", subject="Broken kettle")[0])
    note = parsed(s.smtp.wait_for(lambda m: m.rcpt_tos == ["jane@example.com"] and "New complaint" in subject(m))[0])
    s.deliver(reply_to(note, "jane@example.com", "#resolve\r\nThe replacement is with you, Maria."))
    s.smtp.wait_for(lambda m: m.rcpt_tos == ["maria@example.net"] and ": resolved" in subject(m), timeout=15)
    return note


def timers(s, kind) -> list[str]:
    return [t["state"] for t in s.case_json(1)["timers"] if t["kind"] == kind]


def test_a_low_rating_nobody_answers_is_escalated_as_a_reopening_and_the_answer_is_relayed(stack):
    s = stack  # SQLite and PostgreSQL
    s.start(first_response_due="4s", schedule_extra='followup_after = "1s"\ncheckin_after = "2s"',
            staff_extra='escalation = ["boss@example.com"]')
    note = resolve_a_case(s)
    first_answer = s.case_json(1)["first_response_at"]
    checkin = s.smtp.wait_for(lambda m: "how did we do" in subject(m), timeout=15)[0]
    s.deliver(reply_to(parsed(checkin), "maria@example.net", "1\r\nIt broke again after two days."))
    s.smtp.wait_for(lambda m: "not got this right yet" in subject(m), timeout=15)
    assert timers(s, "reopened_low_rating") == ["waiting"]

    escalations = wait_for_n(s, lambda m: subject(m).startswith(REOPENED), 2)
    assert sorted(r for m in escalations for r in m.rcpt_tos) == ["boss@example.com", "jane@example.com"]
    body = text_of(escalations[0])
    assert "Case #1 is open again because Maria Rossi rated our handling of it 1 out of 5" in body
    assert "It broke again after two days." in body
    assert timers(s, "reopened_low_rating") == ["fired"]
    case = s.case_json(1)
    assert case["status"] == "open" and case["first_response_at"] == first_answer  # the report's first reply

    # Jane answers, late: her words reach Maria, and nothing further is owed.
    s.deliver(reply_to(note, "jane@example.com", "Maria, I am so sorry. A technician calls you tomorrow."))
    s.smtp.wait_for(lambda m: m.rcpt_tos == ["maria@example.net"] and "technician" in text_of(m), timeout=15)
    time.sleep(1)
    assert len([m for m in s.smtp.messages if subject(m).startswith(REOPENED)]) == 2


def test_an_answer_within_the_promise_stops_the_chase_and_a_silent_reopen_by_staff_is_chased(sqlite_stack):
    s = sqlite_stack
    s.start(first_response_due="6s", schedule_extra='followup_after = "1s"\ncheckin_after = "60s"',
            staff_extra='escalation = ["boss@example.com"]')
    note = resolve_a_case(s)
    followup = s.smtp.wait_for(lambda m: "is everything working now" in subject(m), timeout=15)[0]
    s.deliver(reply_to(parsed(followup), "maria@example.net", "No, it still doesn't work. The light stays off."))
    forward = s.smtp.wait_for(lambda m: m.rcpt_tos == ["jane@example.com"] and "light stays off" in text_of(m),
                              timeout=15)[0]
    reopened_at = time.monotonic()
    assert timers(s, "reopened_not_fixed") == ["waiting"]
    s.deliver(reply_to(parsed(forward), "jane@example.com", "Maria, I am sorry. Please try the reset button."))
    s.smtp.wait_for(lambda m: m.rcpt_tos == ["maria@example.net"] and "reset button" in text_of(m), timeout=15)
    assert timers(s, "reopened_not_fixed") == ["cancelled"]
    time.sleep(max(0.0, reopened_at + 7 - time.monotonic()))  # past the promise
    assert not [m for m in s.smtp.messages if subject(m).startswith("Escalation")]

    # Resolved again, then reopened by Jane with nothing for Maria: that owes her an answer too.
    s.deliver(reply_to(note, "jane@example.com", "#resolve\r\n#internal"))
    deadline = time.monotonic() + 15
    while s.case_json(1)["status"] != "resolved" and time.monotonic() < deadline:
        time.sleep(0.3)
    assert s.case_json(1)["status"] == "resolved"
    s.deliver(reply_to(note, "jane@example.com", "#reopen"))
    escalations = wait_for_n(s, lambda m: subject(m).startswith(REOPENED), 2, timeout=20)
    assert "Case #1 is open again because Jane Doe reopened it" in text_of(escalations[0])
    assert timers(s, "reopened_by_staff") == ["fired"] and timers(s, "reopened_not_fixed") == ["cancelled"]

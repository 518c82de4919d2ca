"""Staff work a case by plain email: commands, the plan in writing, reminders and escalation."""
from __future__ import annotations

import time

from e2e_support import complaint, parsed, reply_to, wait_for_n


def text_of(received) -> str:
    return parsed(received).get_body(("plain",)).get_content()


def open_case(stack, **config):
    stack.start(**config)
    stack.deliver(complaint(body="The lid of my kettle is cracked.")[0])
    note = parsed(stack.smtp.wait_for(lambda m: "jane@example.com" in m.rcpt_tos)[0])
    stack.smtp.wait_for(lambda m: "maria@example.net" in m.rcpt_tos)
    assert note["Reply-To"].startswith("support+c1.") and note["Reply-To"].endswith("@example.com")
    return note




def to_customer(stack):
    return [m for m in stack.smtp.messages if m.rcpt_tos == ["maria@example.net"]]


def test_a_plan_agreed_by_email_reaches_the_customer_in_writing_and_is_followed_through(stack):
    note = open_case(stack)
    stack.deliver(reply_to(note, "Jane Doe <jane@example.com>",
                           "#plan +2d Send a replacement kettle\r\n#plan +3d Refund the delivery charge\r\n"
                           "Dear Maria, I am sorry about the lid. Here is what we will do.\r\n\r\n"
                           "On Mon, 2 Mar 2026, Acme Support wrote:\r\n> a new complaint has arrived\r\n"))
    stack.smtp.wait_for(lambda m: "our plan" in (m.message["Subject"] or ""), timeout=15)
    time.sleep(0.5)
    mails = to_customer(stack)
    relay = [m for m in mails if "Here is what we will do" in text_of(m)]
    plans = [m for m in mails if "our plan" in parsed(m)["Subject"]]
    assert len(relay) == 1 and len(plans) == 1
    relay_text = text_of(relay[0])
    assert "#plan" not in relay_text and "a new complaint has arrived" not in relay_text
    assert parsed(relay[0])["Auto-Submitted"] is None
    plan_text = text_of(plans[0])
    assert "1. Send a replacement kettle" in plan_text and "2. Refund the delivery charge" in plan_text
    assert "Jane Doe" in plan_text
    case = stack.case_json(1)
    assert [s["number"] for s in case["plan"]] == [1, 2] and all(s["done_at"] is None for s in case["plan"])
    assert case["owner"] == "jane@example.com" and case["first_response_at"] is not None

    progress = parsed(plans[0])
    stack.deliver(reply_to(note, "jane@example.com", "#done 1\r\nThe new kettle is on its way."))
    stack.smtp.wait_for(lambda m: "progress on our plan" in (m.message["Subject"] or ""), timeout=15)
    assert stack.case_json(1)["plan"][0]["done_at"] is not None
    assert stack.case_json(1)["status"] == "open"

    stack.deliver(reply_to(note, "jane@example.com", "#done 2\r\n#cause Courier dropped the parcel"))
    done = stack.smtp.wait_for(lambda m: "everything we promised is done" in (m.message["Subject"] or ""),
                               timeout=15)
    assert "Every step we agreed is now done" in text_of(done[0])
    case = stack.case_json(1)
    assert case["status"] == "resolved" and case["resolved_at"] and case["cause"] == "Courier dropped the parcel"
    assert progress["References"]  # the plan email is threaded in the customer's conversation


def test_a_spoofed_staff_email_changes_nothing_and_the_owner_is_told(stack):
    note = open_case(stack)
    before = len(to_customer(stack))
    # Looks like Jane, answers the right thread, but is not sent to her personal reply token.
    stack.deliver(reply_to(note, "Jane Doe <jane@example.com>", "#resolve\r\nYour refund is cancelled.",
                           to="support@example.com"))
    warning = stack.smtp.wait_for(lambda m: "unverified staff email" in (m.message["Subject"] or ""), timeout=15)
    assert warning[0].rcpt_tos == ["jane@example.com"]
    time.sleep(1)
    assert len(to_customer(stack)) == before
    case = stack.case_json(1)
    assert case["status"] == "open" and case["first_response_at"] is None
    assert [m["kind"] for m in case["messages"] if m["direction"] == "in"] == ["customer", "suspicious"]


def test_a_bad_command_is_answered_with_the_line_and_nothing_reaches_the_customer(stack):
    note = open_case(stack)
    before = len(to_customer(stack))
    stack.deliver(reply_to(note, "jane@example.com", "#plan soon Call the courier\r\nDear Maria, we will call."))
    answer = stack.smtp.wait_for(lambda m: "needs fixing" in (m.message["Subject"] or ""), timeout=15)
    body = text_of(answer[0])
    assert "Line 1: #plan soon Call the courier" in body and "is not a date" in body
    time.sleep(1)
    assert len(to_customer(stack)) == before and stack.case_json(1)["plan"] == []


def test_reminder_overdue_reminder_and_escalation_arrive_on_time(sqlite_stack):
    s = sqlite_stack
    note = open_case(s, schedule_extra='step_reminder_before = "3s"\noverdue_escalation_after = "3s"',
                     staff_extra='escalation = ["boss@example.com"]')
    t0 = time.monotonic()
    s.deliver(reply_to(note, "jane@example.com", "#plan +6s Call the courier\r\n#internal"))
    s.daemon.wait_for_log(lambda l: l.get("event") == "staff reply applied")
    reminder = s.smtp.wait_for(lambda m: (m.message["Subject"] or "").startswith("Due soon"), timeout=15)[0]
    overdue = s.smtp.wait_for(lambda m: (m.message["Subject"] or "").startswith("Overdue"), timeout=15)[0]
    escalations = wait_for_n(s, lambda m: (m.message["Subject"] or "").startswith("Escalation: step 1"), 2)
    at = lambda m: m.received_at - (time.time() - (time.monotonic() - t0))  # seconds after the reply was sent
    assert 1.5 <= at(reminder) <= 5.5, at(reminder)
    assert 4.5 <= at(overdue) <= 8.5, at(overdue)
    assert sorted(r for m in escalations for r in m.rcpt_tos) == ["boss@example.com", "jane@example.com"]
    assert 7.5 <= at(escalations[0]) <= 11.5
    assert reminder.rcpt_tos == ["jane@example.com"] and "#done 1" in text_of(reminder)
    assert to_customer(s) and all("Call the courier" not in text_of(m) for m in to_customer(s))  # internal


def test_no_reply_within_the_promise_escalates(sqlite_stack):
    s = sqlite_stack
    open_case(s, first_response_due="3s", staff_extra='escalation = ["boss@example.com"]')
    esc = wait_for_n(s, lambda m: "no answer yet" in (m.message["Subject"] or ""), 2)
    assert {r for m in esc for r in m.rcpt_tos} == {"boss@example.com", "jane@example.com"}


def test_a_handover_tells_the_customer_and_gives_the_new_owner_everything(stack):
    note = open_case(stack)
    stack.deliver(reply_to(note, "jane@example.com", "#owner sam@example.com\r\n#plan +2d Replace the lid"))
    handover = stack.smtp.wait_for(lambda m: m.rcpt_tos == ["sam@example.com"], timeout=15)[0]
    body = text_of(handover)
    assert "Jane Doe has handed Case #1 to you" in body and "The lid of my kettle is cracked." in body
    assert "Replace the lid" in body
    told = stack.smtp.wait_for(lambda m: "is now looking after your case" in (m.message["Subject"] or ""))[0]
    assert "Sam" in text_of(told)
    assert stack.case_json(1)["owner"] == "sam@example.com"
    # Sam answers from his own client, to his own reply token.
    stack.deliver(reply_to(parsed(handover), "sam@example.com", "#status"))
    status = stack.smtp.wait_for(lambda m: m.rcpt_tos == ["sam@example.com"] and
                                 "Status of Case #1" in (m.message["Subject"] or ""), timeout=15)
    assert "Replace the lid" in text_of(status[0]) and "Owner:     Sam" in text_of(status[0])


def test_a_staff_out_of_office_never_reaches_the_customer(sqlite_stack):
    s = sqlite_stack
    note = open_case(s)
    before = len(s.smtp.messages)
    s.deliver(reply_to(note, "jane@example.com", "I am on holiday until Monday.",
                       "Auto-Submitted: auto-replied\r\nX-Auto-Response-Suppress: All\r\n"))
    s.daemon.wait_for_log(lambda l: l.get("event") == "automatic mail filed")
    time.sleep(1)
    assert len(s.smtp.messages) == before
    kinds = [m["kind"] for m in s.case_json(1)["messages"] if m["direction"] == "in"]
    assert kinds == ["customer", "automatic"]


def test_timers_fall_due_while_the_daemon_is_down_and_fire_once_after_restart(sqlite_stack):
    s = sqlite_stack
    note = open_case(s, schedule_extra='step_reminder_before = "1s"\noverdue_escalation_after = "2s"')
    s.deliver(reply_to(note, "jane@example.com", "#plan +2s Call the courier\r\n#internal"))
    s.daemon.wait_for_log(lambda l: l.get("event") == "staff reply applied")
    s.daemon.kill()
    time.sleep(5)  # the reminder, the overdue reminder and the escalation all fall due while it is down
    s.start()
    wait_for_n(s, lambda m: (m.message["Subject"] or "").startswith(("Overdue", "Escalation")), 2)
    time.sleep(2)
    subjects = sorted((m.message["Subject"] or "").split(":")[0] for m in s.smtp.messages
                      if (m.message["Subject"] or "").startswith(("Due soon", "Overdue", "Escalation")))
    # Each fires once; the "due soon" reminder that fell due while down is dropped as the step is overdue.
    assert subjects == ["Escalation", "Overdue"], subjects
    timers = s.case_json(1)["timers"]
    # The three step timers fired once each; the first-response promise (24h) still waits: #internal is no answer.
    assert sorted((t["kind"], t["state"]) for t in timers) == [
        ("first_response", "waiting"), ("step_escalation", "fired"), ("step_overdue", "fired"),
        ("step_reminder", "fired")]

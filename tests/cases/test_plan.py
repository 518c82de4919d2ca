"""Staff work a case by email: commands applied to the case, the plan in writing, reminders and escalation.

Conversations against the pure plan rules: a case, its steps, a staff reply and an injected ``now`` in; the
changes, the emails and the timers out. ``Desk`` plays the store: it applies each outcome the way the
daemon does, so a conversation can go on from one reply to the next.
"""
from dataclasses import replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from aftercare.cases import plan
from aftercare.cases.calendar import BusinessHours
from aftercare.cases.commands import CommandError, parse_reply
from aftercare.cases.lifecycle import Policy
from aftercare.cases.plan import StepView, TimerSpec, first_response_timer, on_timer, step_timers, work_reply
from aftercare.cases.routing import CaseView
from aftercare.inbound import InboundMail

NOW = datetime(2026, 3, 2, 9, 0)  # Monday, naive UTC (10:00 in Berlin)
JANE, SAM, BOSS, MARIA = "jane@example.com", "sam@example.com", "boss@example.com", "maria@example.net"
BERLIN = ZoneInfo("Europe/Berlin")
POLICY = Policy(first_response_due=timedelta(hours=24), support_name="Acme Support",
                support_address="support@example.com",
                staff_names={JANE: "Jane Doe", SAM: "Sam Smith", BOSS: "Bo Boss"}, default_owner=JANE,
                staff_addresses=(JANE, SAM, BOSS), escalation=(BOSS,), timezone="Europe/Berlin")
OFFICE = BusinessHours(days=frozenset(range(5)), start=time(9), end=time(17), timezone=BERLIN)
OFFICE_POLICY = replace(POLICY, business_hours=OFFICE)


def mail(text, sender=JANE):
    return InboundMail(message_id="s1@example.com", fingerprint="s1@example.com", from_address=sender,
                       from_name="", to=("support+c3.0123456789abcdef@example.com",), cc=(), reply_to=(),
                       subject="Re: Broken kettle [Case #3]", date=None, in_reply_to=(), references=(), text=text,
                       attachments=(), headers={}, return_path=sender, delivery_report=None, size=10)


def view(**kw):
    base = dict(id=3, status="open", customer_address=MARIA, customer_name="Maria Rossi", subject="Broken kettle",
                owner=JANE, created_at=NOW - timedelta(hours=1), first_response_due_at=NOW + timedelta(hours=23))
    base.update(kw)
    return CaseView(**base)


def reply(text, sender=JANE, case=None, steps=(), now=NOW, policy=POLICY, history=()):
    return work_reply(case or view(), steps, parse_reply(text), mail(text, sender), now, policy, history)


def kinds(outcome_or_emails):
    emails = getattr(outcome_or_emails, "emails", outcome_or_emails)
    return [(e.kind, e.template, e.to) for e in emails]


def only(emails, kind):
    (email,) = [e for e in emails if e.kind == kind]
    return email


def refused(outcome, line_number, reason, sender=JANE):
    """Nothing applied, nothing relayed: one email to the sender naming the line and the reason."""
    assert outcome.error is not None and outcome.error.line_number == line_number
    assert reason in outcome.error.reason
    assert kinds(outcome) == [("command_error", "staff/command_error", sender)]
    ctx = outcome.emails[0].context
    assert ctx["error"]["line_number"] == line_number and reason in ctx["error"]["reason"]
    assert (outcome.new_steps, outcome.done, outcome.status, outcome.owner, outcome.notes, outcome.cause,
            outcome.extra, outcome.first_response_at, outcome.timers, outcome.cancel_steps,
            outcome.cancel_first_response, outcome.relayed, outcome.reopened) == (
        [], [], None, None, [], None, None, None, [], [], False, False, False)


class Desk:
    """The case as the store keeps it between replies."""

    def __init__(self, policy=POLICY, **kw):
        self.case, self.steps, self.policy = view(**kw), [], policy

    def reply(self, text, sender=JANE, now=NOW):
        out = reply(text, sender, self.case, self.steps, now, self.policy)
        if out.error is None:
            self.steps = [replace(s, done_at=now) if s.number in out.done else s for s in self.steps]
            self.steps += [replace(s, done_at=now) if s.number in out.done else s for s in out.new_steps]
            self.case = replace(self.case, status=out.status or self.case.status,
                                owner=out.owner or self.case.owner,
                                first_response_at=out.first_response_at or self.case.first_response_at)
        return out


# --- the plan in writing ---------------------------------------------------------------------------------------


def test_two_plan_lines_and_a_message_relay_the_message_and_put_both_steps_in_one_plan_email():
    out = reply("#plan 2026-03-06 Send a replacement kettle\n"
                "#plan +2d Call the courier\n"
                "Dear Maria,\n\nI am sorry about the lid. Here is what we will do.\n")
    assert out.error is None
    assert kinds(out) == [("relay", "customer/staff_reply", MARIA), ("plan", "customer/plan", MARIA)]
    relay, plan_mail = out.emails
    assert relay.auto_submitted is None and relay.thread == "customer"  # a person's words
    assert plan_mail.auto_submitted == "auto-generated" and plan_mail.thread == "customer"
    assert relay.context["message"]["text"] == "Dear Maria,\n\nI am sorry about the lid. Here is what we will do."
    assert "#plan" not in relay.context["message"]["text"]
    assert relay.context["author"] == {"name": "Jane Doe", "address": JANE}
    # Every step with its date, and the owner's name.
    ctx = plan_mail.context
    assert [(s["number"], s["text"], s["due_at"], s["done_at"]) for s in ctx["plan"]] == [
        (1, "Send a replacement kettle", datetime(2026, 3, 6, 16, 0), None),  # 17:00 CET
        (2, "Call the courier", datetime(2026, 3, 4, 9, 0), None),
    ]
    assert ctx["new_steps"] == [1, 2] and ctx["owner"]["name"] == "Jane Doe"
    assert [(s.number, s.text, s.due_at, s.done_at) for s in out.new_steps] == [
        (1, "Send a replacement kettle", datetime(2026, 3, 6, 16, 0), None),
        (2, "Call the courier", datetime(2026, 3, 4, 9, 0), None)]
    assert out.status is None and out.relayed


def test_each_step_gets_a_reminder_an_overdue_notice_and_an_escalation():
    out = reply("#plan 2026-03-06 Send a replacement kettle\n#plan +2d Call the courier")
    assert sorted(out.timers, key=lambda t: (t.step_number, t.due_at)) == [
        TimerSpec("step_reminder", datetime(2026, 3, 6, 14, 0), 1),  # two hours before
        TimerSpec("step_overdue", datetime(2026, 3, 6, 16, 0), 1),  # when due
        TimerSpec("step_escalation", datetime(2026, 3, 7, 16, 0), 1),  # a day later
        TimerSpec("step_reminder", datetime(2026, 3, 4, 7, 0), 2),
        TimerSpec("step_overdue", datetime(2026, 3, 4, 9, 0), 2),
        TimerSpec("step_escalation", datetime(2026, 3, 5, 9, 0), 2),
    ]


def test_timers_wait_for_business_hours():
    out = reply("#plan 2026-03-06 10:00 Call the courier", policy=OFFICE_POLICY)  # Friday 10:00 CET = 09:00 UTC
    assert out.timers == [
        TimerSpec("step_reminder", datetime(2026, 3, 6, 8, 0), 1),  # 08:00 local waits for 09:00
        TimerSpec("step_overdue", datetime(2026, 3, 6, 9, 0), 1),  # inside hours: unchanged
        TimerSpec("step_escalation", datetime(2026, 3, 9, 8, 0), 1),  # Saturday waits for Monday 09:00
    ]


def test_with_business_hours_a_bare_date_means_closing_time_and_overdue_means_the_next_morning():
    late = replace(POLICY, business_hours=replace(OFFICE, end=time(18)))
    out = reply("#plan 2026-03-04 Refund the delivery charge", policy=late)
    assert out.new_steps[0].due_at == datetime(2026, 3, 4, 17, 0)  # 18:00 CET
    assert out.timers == [
        TimerSpec("step_reminder", datetime(2026, 3, 4, 15, 0), 1),
        TimerSpec("step_overdue", datetime(2026, 3, 5, 8, 0), 1),  # closing time is after hours
        TimerSpec("step_escalation", datetime(2026, 3, 6, 8, 0), 1),
    ]


def test_a_step_due_sooner_than_the_reminder_gets_no_reminder():
    out = reply("#plan +1h Ring Maria back")
    assert out.timers == [TimerSpec("step_overdue", NOW + timedelta(hours=1), 1),
                          TimerSpec("step_escalation", NOW + timedelta(days=1, hours=1), 1)]
    assert [t.kind for t in step_timers(StepView(1, "x", NOW + timedelta(hours=2)), NOW, POLICY)] == [
        "step_overdue", "step_escalation"]  # exactly two hours ahead: the reminder would be now


def test_custom_reminder_and_escalation_durations():
    quick = replace(POLICY, step_reminder_before=timedelta(minutes=30), overdue_escalation_after=timedelta(hours=4))
    assert step_timers(StepView(5, "x", NOW + timedelta(hours=3)), NOW, quick) == [
        TimerSpec("step_reminder", NOW + timedelta(hours=2, minutes=30), 5),
        TimerSpec("step_overdue", NOW + timedelta(hours=3), 5),
        TimerSpec("step_escalation", NOW + timedelta(hours=7), 5),
    ]


def test_new_steps_are_numbered_after_the_existing_ones():
    steps = [StepView(1, "a", NOW + timedelta(days=1)), StepView(2, "b", NOW + timedelta(days=2), NOW)]
    out = reply("#plan +3d c", steps=steps)
    assert [s.number for s in out.new_steps] == [3]
    assert [s["number"] for s in only(out.emails, "plan").context["plan"]] == [1, 2, 3]


def test_a_plan_date_in_the_past_is_refused():
    refused(reply("#plan 2026-03-01 Send it\nDear Maria"), 1, "already past")
    refused(reply("#plan 2026-03-02 08:00 Send it"), 1, "already past")  # 07:00 UTC, two hours ago
    refused(reply("#plan 2026-03-02 10:00 Send it"), 1, "already past")  # exactly now: not a promise
    assert reply("#plan 2026-03-02 Send it today").new_steps[0].due_at == datetime(2026, 3, 2, 16, 0)


def test_one_bad_line_refuses_the_whole_reply():
    out = reply("#plan +2d Call the courier\n#owner sam@example.com\n#reopen\nDear Maria, sorry.")
    refused(out, 3, "already open")


def test_a_parse_error_is_answered_the_same_way():
    try:
        parse_reply("#plan +2d ok\n#frobnicate\nDear Maria")
    except CommandError as exc:
        out = plan.command_error(view(), exc, mail("#frobnicate", SAM), NOW, POLICY)
    refused(out, 2, "unknown command #frobnicate", sender=SAM)
    assert out.emails[0].context["staff"] == {"name": "Sam Smith", "address": SAM}
    assert out.emails[0].context["error"]["line"] == "#frobnicate"
    assert out.emails[0].thread == "staff"


# --- done, resolve, close, reopen ------------------------------------------------------------------------------


def test_a_plan_followed_through_to_resolution():
    desk = Desk()
    out = desk.reply("#plan 2026-03-06 Send a replacement kettle\n#plan +3d Refund the delivery charge\n"
                     "Dear Maria, here is our plan.")
    assert [e.kind for e in out.emails] == ["relay", "plan"] and out.first_response_at == NOW

    later = NOW + timedelta(days=1)
    out = desk.reply("#done 1\nThe kettle is on its way.", now=later)
    assert out.done == [1] and out.cancel_steps == [1] and out.status is None
    assert [e.kind for e in out.emails] == ["relay", "progress"]
    progress = only(out.emails, "progress")
    assert progress.context["all_done"] is False and progress.context["done_now"] == [1]
    assert [(s["number"], s["done_at"]) for s in progress.context["plan"]] == [(1, later), (2, None)]
    assert out.first_response_at is None  # only the first reply stamps it

    last = later + timedelta(days=1)
    out = desk.reply("#done 2", now=last)
    assert out.status == "resolved" and out.done == [2]
    assert kinds(out) == [("progress", "customer/progress", MARIA)]  # the progress email says it all
    assert out.emails[0].context["all_done"] is True
    assert out.emails[0].context["case"]["status"] == "resolved"
    assert desk.case.status == "resolved"


def test_done_names_several_steps_at_once_and_the_last_open_one_resolves():
    steps = [StepView(1, "a", NOW + timedelta(days=1)), StepView(2, "b", NOW + timedelta(days=2)),
             StepView(3, "c", NOW - timedelta(days=1), NOW - timedelta(hours=1))]
    out = reply("#done 1 2", steps=steps)
    assert out.done == [1, 2] and out.status == "resolved" and out.cancel_steps == [1, 2]
    assert only(out.emails, "progress").context["all_done"] is True
    out = reply("#done 2", steps=steps)
    assert out.status is None and only(out.emails, "progress").context["all_done"] is False


def test_done_of_an_unknown_or_finished_step_is_refused():
    steps = [StepView(1, "a", NOW + timedelta(days=1)), StepView(2, "b", NOW + timedelta(days=2), NOW)]
    refused(reply("#done 1,7\nDear Maria", steps=steps), 1, "there is no step 7 (steps: 1, 2)")
    refused(reply("#done 2", steps=steps), 1, "step 2 is already done")
    refused(reply("#done 1"), 1, "there is no step 1 (steps: none yet)")
    refused(reply("#plan +1d x\n#done 1\n#done 2", steps=steps), 3, "step 2 is already done")


def test_resolve_tells_the_customer():
    out = reply("#resolve\nDear Maria, glad it is sorted.")
    assert out.status == "resolved"
    assert kinds(out) == [("relay", "customer/staff_reply", MARIA), ("resolved", "customer/resolved", MARIA)]
    assert out.emails[1].context["case"]["status"] == "resolved"


def test_resolve_with_an_open_step_left_still_tells_the_customer_it_is_resolved():
    steps = [StepView(1, "a", NOW + timedelta(days=1)), StepView(2, "b", NOW + timedelta(days=2))]
    out = reply("#done 1\n#resolve", steps=steps)
    assert out.status == "resolved"
    assert "resolved" in [e.kind for e in out.emails]


def test_resolve_refused_unless_open():
    refused(reply("#resolve", case=view(status="resolved")), 1, "already resolved")
    refused(reply("#resolve", case=view(status="closed")), 1, "already closed")


def test_close_sends_the_customer_nothing():
    out = reply("#close\n#cause duplicate of case 2")
    assert out.status == "closed" and out.emails == [] and out.cause == "duplicate of case 2"
    refused(reply("#close", case=view(status="closed")), 1, "already closed")
    assert reply("#close", case=view(status="resolved")).status == "closed"


def test_reopen():
    refused(reply("#reopen\nDear Maria"), 1, "the case is already open")
    for status in ("resolved", "closed"):
        out = reply("#reopen", case=view(status=status))
        assert out.status == "open" and out.reopened and out.emails == []


def test_a_new_step_on_a_resolved_case_reopens_it_but_a_closed_case_must_be_reopened_first():
    out = reply("#plan +2d Send the missing part", case=view(status="resolved"))
    assert out.status == "open" and out.reopened and [e.kind for e in out.emails] == ["plan"]
    refused(reply("#plan +2d Send the missing part", case=view(status="closed")), 1, "#reopen it first")
    out = reply("#reopen\n#plan +2d Send the missing part", case=view(status="closed"))
    assert out.status == "open" and [s.number for s in out.new_steps] == [1]


# --- owner -----------------------------------------------------------------------------------------------------


def test_handing_over_tells_the_customer_and_gives_the_new_owner_the_whole_case():
    history = [{"time": NOW - timedelta(hours=1), "who": MARIA, "text": "The lid is cracked."}]
    out = reply("#owner sam@example.com\nDear Maria, my colleague Sam takes over.", history=history)
    assert out.owner == SAM
    assert kinds(out) == [("relay", "customer/staff_reply", MARIA), ("handover", "customer/handover", MARIA),
                          ("handover_staff", "staff/handover", SAM)]
    customer = only(out.emails, "handover").context
    assert customer["owner"] == {"name": "Sam Smith", "first_name": "Sam", "address": SAM}
    assert customer["previous_owner"] == {"name": "Jane Doe", "address": JANE}
    staff = only(out.emails, "handover_staff")
    assert staff.context["history"] == history and staff.thread == "staff" and staff.to_name == "Sam Smith"


def test_handover_refused_to_a_non_staff_address_or_the_current_owner():
    refused(reply("#owner mallory@evil.example\nDear Maria"), 1, "is not a staff address")
    refused(reply("#owner jane@example.com"), 1, "already owns the case")
    refused(reply("#owner sam@example.com\n#owner sam@example.com"), 2, "already owns the case")


def test_a_colleague_may_hand_the_case_to_themselves():
    out = reply("#owner sam@example.com", sender=SAM)
    assert out.owner == SAM and [e.kind for e in out.emails] == ["handover", "handover_staff"]


# --- what reaches the customer ---------------------------------------------------------------------------------


def test_the_first_relayed_reply_stamps_the_first_response():
    out = reply("Dear Maria, we are on it.")
    assert out.relayed and out.first_response_at == NOW and out.cancel_first_response
    out = reply("And one more thing.", case=view(first_response_at=NOW - timedelta(minutes=5)))
    assert out.relayed and out.first_response_at is None and not out.cancel_first_response


def test_an_internal_reply_is_not_relayed_and_is_no_first_response():
    out = reply("#internal\nThe courier lost it, do not tell her yet.")
    assert not out.relayed and out.emails == [] and out.first_response_at is None
    assert not out.cancel_first_response


def test_nothing_of_an_internal_reply_reaches_the_customer_but_its_commands_apply():
    steps = [StepView(1, "Send a replacement", NOW + timedelta(days=1))]
    out = reply("#internal\n#plan +2d Check the stock\n#done 1\n#owner sam@example.com\nWe have one.",
                steps=steps)
    assert not out.relayed and out.first_response_at is None
    assert [s.number for s in out.new_steps] == [2] and out.done == [1] and out.owner == SAM
    assert kinds(out) == [("handover_staff", "staff/handover", SAM)]


def test_commands_alone_relay_nothing():
    out = reply("#note customer called too\n#cause cracked in transit\n#extra discount\n\n")
    assert out.emails == [] and not out.relayed
    assert out.notes == ["customer called too"] and out.cause == "cracked in transit" and out.extra == "discount"


def test_a_case_without_a_customer_address_sends_the_customer_nothing_and_tells_the_sender():
    out = reply("#plan +2d x\nDear Maria", case=view(customer_address=""), sender=SAM)
    assert not out.relayed and len(out.new_steps) == 1
    # Nothing goes to any customer; the one email is the answer to the staff member who wrote.
    assert kinds(out) == [("not_relayed", "staff/not_relayed", SAM)]
    assert out.withheld == [{"item": "message", "reason": "no_address"}, {"item": "plan", "reason": "no_address"}]
    ctx = out.emails[0].context
    assert ctx["withheld"] == out.withheld and ctx["relayed"] is False and ctx["staff"]["address"] == SAM
    assert ctx["message"]["text"] == "Dear Maria" and ctx["commands"] == ["#plan +2d x"]
    assert out.emails[0].thread == "staff" and out.emails[0].auto_submitted == "auto-generated"


def test_status_answers_the_sender_only():
    steps = [StepView(1, "Send a replacement", NOW - timedelta(hours=1))]
    out = reply("#status\n#note asked for an update", sender=SAM, steps=steps)
    assert kinds(out) == [("status", "staff/status", SAM)]
    ctx = out.emails[0].context
    assert out.emails[0].thread == "staff" and ctx["notes"] == ["asked for an update"]
    assert ctx["plan"][0]["overdue"] is True and ctx["author"]["name"] == "Sam Smith"
    assert out.status is None and out.new_steps == []


def test_a_staff_reply_without_a_from_counts_as_the_owners():
    out = work_reply(view(), [], parse_reply("#status"), mail("#status", sender=None), NOW, POLICY)
    assert kinds(out) == [("status", "staff/status", JANE)]


# --- timers ----------------------------------------------------------------------------------------------------

STEP = StepView(1, "Send a replacement kettle", NOW + timedelta(hours=2))


@pytest.mark.parametrize("kind", ["step_reminder", "step_overdue"])
def test_reminders_go_to_the_owner_while_the_step_is_open(kind):
    out = on_timer(kind, view(owner=SAM), STEP, [STEP], NOW, POLICY)
    assert kinds(out) == [("reminder", "staff/reminder", SAM)]
    assert out[0].context["reason"] == kind and out[0].context["step"]["number"] == 1
    assert out[0].to_name == "Sam Smith" and out[0].thread == "staff"


def test_a_reminder_that_fires_late_gives_way_to_the_overdue_notice():
    # The daemon was down over the reminder's time: the owner gets the overdue notice, not "due soon" as well.
    assert on_timer("step_reminder", view(), STEP, [STEP], STEP.due_at, POLICY) == []
    assert on_timer("step_reminder", view(), STEP, [STEP], STEP.due_at + timedelta(hours=1), POLICY) == []
    assert len(on_timer("step_overdue", view(), STEP, [STEP], STEP.due_at, POLICY)) == 1


@pytest.mark.parametrize("kind", ["step_reminder", "step_overdue", "step_escalation"])
def test_no_reminder_once_the_step_is_done_or_gone(kind):
    done = replace(STEP, done_at=NOW - timedelta(minutes=1))
    assert on_timer(kind, view(), done, [done], NOW, POLICY) == []
    assert on_timer(kind, view(), None, [], NOW, POLICY) == []


def test_an_overdue_step_is_escalated_to_the_escalation_addresses_and_the_owner():
    overdue = replace(STEP, due_at=NOW - timedelta(days=1))
    out = on_timer("step_escalation", view(), overdue, [overdue], NOW, POLICY)
    assert kinds(out) == [("escalation", "staff/escalation", BOSS), ("escalation", "staff/escalation", JANE)]
    assert out[0].context["step"]["overdue"] is True and out[0].context["reason"] == "step_escalation"


def test_the_first_response_escalation_goes_to_the_escalation_addresses_and_the_owner():
    out = on_timer("first_response", view(), None, [], NOW, POLICY)
    assert kinds(out) == [("escalation", "staff/escalation", BOSS), ("escalation", "staff/escalation", JANE)]
    assert out[0].context["reason"] == "first_response" and out[0].context["step"] is None
    assert on_timer("first_response", view(first_response_at=NOW - timedelta(hours=1)), None, [], NOW,
                    POLICY) == []


def test_escalation_reaches_each_person_once_and_defaults_to_the_default_owner():
    two = replace(POLICY, escalation=(BOSS, JANE, BOSS))
    assert [e.to for e in on_timer("first_response", view(), None, [], NOW, two)] == [BOSS, JANE]
    nobody = replace(POLICY, escalation=())
    assert [e.to for e in on_timer("first_response", view(owner=SAM), None, [], NOW, nobody)] == [JANE, SAM]
    assert [e.to for e in on_timer("first_response", view(), None, [], NOW, nobody)] == [JANE]


@pytest.mark.parametrize("status", ["resolved", "closed"])
@pytest.mark.parametrize("kind", ["first_response", "step_reminder", "step_overdue", "step_escalation"])
def test_nothing_fires_on_a_case_that_is_not_open(status, kind):
    assert on_timer(kind, view(status=status), STEP, [STEP], NOW, POLICY) == []


def test_an_unknown_timer_kind_sends_nothing():
    assert on_timer("mystery", view(), STEP, [STEP], NOW, POLICY) == []


def test_the_first_response_timer_is_due_when_promised_within_business_hours():
    assert first_response_timer(view(), POLICY) == TimerSpec("first_response", NOW + timedelta(hours=23))
    assert first_response_timer(view(first_response_due_at=None), POLICY) is None
    friday_evening = datetime(2026, 3, 6, 17, 0)  # 18:00 CET
    assert first_response_timer(view(first_response_due_at=friday_evening), OFFICE_POLICY) == TimerSpec(
        "first_response", datetime(2026, 3, 9, 8, 0))


def test_a_reminder_and_an_escalation_in_a_whole_conversation():
    desk = Desk()
    out = desk.reply("#plan 2026-03-03 12:00 Call the courier\nDear Maria, I will call the courier tomorrow.")
    timers = {t.kind: t for t in out.timers}
    step = desk.steps[0]
    assert step.due_at == datetime(2026, 3, 3, 11, 0)
    reminder = on_timer("step_reminder", desk.case, step, desk.steps, timers["step_reminder"].due_at, POLICY)
    assert [e.to for e in reminder] == [JANE]
    escalation = on_timer("step_escalation", desk.case, step, desk.steps, timers["step_escalation"].due_at, POLICY)
    assert [e.to for e in escalation] == [BOSS, JANE]
    # Once done, the same timers are silent.
    desk.reply("#done 1", now=datetime(2026, 3, 3, 10, 0))
    assert on_timer("step_overdue", desk.case, desk.steps[0], desk.steps, timers["step_overdue"].due_at,
                    POLICY) == []


def test_a_reply_of_commands_only_keeps_the_first_response_promise():
    out = reply("#plan +1d Send a new lid")
    assert out.first_response_at == NOW and out.cancel_first_response
    assert [e.kind for e in out.emails] == ["plan"]


def test_reopened_only_counts_a_case_that_was_resolved_or_closed():
    assert reply("#resolve\n#plan +1d x").reopened is False


def test_reopen_then_close_is_a_close_not_a_reopening():
    out = reply("#reopen\n#close", case=view(status="resolved"))
    assert out.status == "closed" and out.reopened is False


def test_a_closed_case_gets_the_staff_members_words_but_no_automatic_emails():
    # Formerly "a closed case sends the customer nothing": the owner's words were dropped without a word to
    # anyone. Now the words go; the automatic progress email still does not, and the sender is told so.
    steps = [StepView(1, "a", NOW + timedelta(days=1))]
    out = reply("#done 1\nThanks", steps=steps, case=view(status="closed"))
    assert [(e.kind, e.to) for e in out.emails if e.to == MARIA] == [("relay", MARIA)]
    assert out.relayed and out.done == [1] and out.status is None
    assert out.withheld == [{"item": "progress", "reason": "closed"}]
    assert kinds(out) == [("relay", "customer/staff_reply", MARIA), ("not_relayed", "staff/not_relayed", JANE)]


def test_refusals_quote_the_line_as_typed():
    out = reply("#done   7")
    assert out.error is not None and out.error.line == "#done   7"


# --- a staff reply is never dropped silently -------------------------------------------------------------------


def mail_with(text, attachments=(), sender=JANE):
    from aftercare.inbound import Attachment
    return replace(mail(text, sender), attachments=tuple(Attachment(n, "application/pdf", 2048) for n in attachments))


@pytest.mark.parametrize("status", ["resolved", "closed"])
def test_words_on_a_resolved_or_closed_case_reach_the_customer_and_change_no_status(status):
    text = "Dear Maria, please keep the old kettle or recycle it; no need to send it back."
    out = reply(text, case=view(status=status))
    assert kinds(out) == [("relay", "customer/staff_reply", MARIA)]
    assert out.relayed and out.status is None and not out.reopened and out.withheld == []
    assert out.emails[0].context["message"]["text"] == text
    assert out.emails[0].context["case"]["status"] == status


def test_close_with_words_relays_the_words_and_closes():
    out = reply("#close\nDear Maria, we continue on your other case, #12.")
    assert out.status == "closed" and kinds(out) == [("relay", "customer/staff_reply", MARIA)]
    assert out.withheld == []


def test_commands_on_a_closed_case_apply_and_their_automatic_emails_are_reported_not_sent():
    out = reply("#owner sam@example.com", case=view(status="closed"))
    assert out.owner == SAM and out.status is None
    assert kinds(out) == [("handover_staff", "staff/handover", SAM), ("not_relayed", "staff/not_relayed", JANE)]
    assert out.withheld == [{"item": "handover", "reason": "closed"}]


def test_an_address_the_outbox_would_refuse_is_reported_instead_of_failing_quietly():
    out = reply("Dear Maria, your refund is on its way.", case=view(customer_address="=?utf-8?q?x?=@example.net"))
    assert not out.relayed and kinds(out) == [("not_relayed", "staff/not_relayed", JANE)]
    assert out.withheld == [{"item": "message", "reason": "unsafe_address"}]
    assert plan.customer_unreachable("maria@example.net") is None
    assert plan.customer_unreachable("") == "no_address"


def _file(name, size=2048, ctype="application/pdf"):
    from aftercare.inbound import Attachment
    return Attachment(name, ctype, size, sha256=f"{abs(hash(name)):064x}"[-64:])


def test_a_staff_members_files_go_with_the_words_and_only_those_held_back_are_reported():
    text = "Dear Maria, here is the return label."
    label, photo = _file("label.pdf"), _file("photo.jpg", ctype="image/jpeg")
    out = work_reply(view(), [], parse_reply(text), mail(text, SAM), NOW, POLICY, own_files=[label, photo])
    assert kinds(out) == [("relay", "customer/staff_reply", MARIA)]
    assert out.emails[0].attachments == (label, photo) and out.withheld == []
    listed = out.emails[0].context["message"]["attachments"]
    assert listed == [] or all(a["attached"] for a in listed)


def test_a_program_and_what_passes_the_budget_stay_behind_and_the_sender_is_told_which_and_why():
    text = "Dear Maria, the label, the video and the fix."
    label, video, tool = _file("label.pdf"), _file("unboxing.mov", 15_000_000), _file("KettleFix.EXE")
    small_budget = replace(POLICY, max_attachments_size=10_000_000)
    out = work_reply(view(), [], parse_reply(text), mail(text, SAM), NOW, small_budget,
                     own_files=[label, video, tool])
    assert kinds(out) == [("relay", "customer/staff_reply", MARIA), ("not_relayed", "staff/not_relayed", SAM)]
    assert out.emails[0].attachments == (label,)
    assert out.withheld == [{"item": "attachments", "reason": "blocked_type", "files": ["KettleFix.EXE"]},
                            {"item": "attachments", "reason": "too_large", "files": ["unboxing.mov"]}]


def test_a_reply_of_commands_only_keeps_its_files_with_the_team_and_says_so():
    out = work_reply(view(), [], parse_reply("#note supplier invoice attached"),
                     mail("#note supplier invoice attached", SAM), NOW, POLICY, own_files=[_file("cost.pdf")])
    assert kinds(out) == [("not_relayed", "staff/not_relayed", SAM)] and not out.relayed
    assert out.withheld == [{"item": "attachments", "reason": "no_words", "files": ["cost.pdf"]}]
    assert out.first_response_at is None  # nothing reached the customer


def test_an_internal_reply_is_an_explicit_request_and_gets_no_answer():
    # Nothing of it reaches the customer, on purpose: no notice, even with no address or an attachment.
    text = "#internal\nThe courier lost it."
    for case in (view(), view(customer_address=""), view(status="closed")):
        out = work_reply(case, [], parse_reply(text), mail_with(text, ["scan.pdf"]), NOW, POLICY)
        assert out.emails == [] and out.withheld == [] and not out.relayed


def test_a_reply_that_is_all_relayed_gets_no_answer():
    out = reply("#plan +2d Send a new lid\nDear Maria, a new lid is coming.")
    assert [e.kind for e in out.emails] == ["relay", "plan"] and out.withheld == []

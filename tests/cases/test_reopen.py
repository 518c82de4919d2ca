"""A reopened case is chased: it owes the customer an answer by the promise, as a new case does.

Pure rules with an injected ``now``: the changes a reopening decides (``transitions``), what the staff
answer cancels, and the escalation its timer sends when nobody answered (``plan.on_timer``). ``Desk``
plays the store: it applies each change the way ``repository.apply_change`` does (cancellations first,
then the columns, then the new timers), so a case can be followed from one event to the next.
"""
from dataclasses import replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from aftercare.cases import reminders, transitions
from aftercare.cases.aftercare import AftercarePolicy
from aftercare.cases.calendar import BusinessHours
from aftercare.cases.commands import parse_reply
from aftercare.cases.lifecycle import Policy
from aftercare.cases.plan import REOPEN_TIMERS, Reopening, TimerSpec, on_timer, work_reply
from aftercare.cases.ratings import Rating
from aftercare.cases.routing import CaseView
from aftercare.cases.states import CaseStatus, TimerKind
from aftercare.inbound import InboundMail
from aftercare.templates import Templates

NOW = datetime(2026, 3, 2, 9, 0)  # Monday, naive UTC (10:00 in Berlin)
JANE, SAM, BOSS, MARIA = "jane@example.com", "sam@example.com", "boss@example.com", "maria@example.net"
POLICY = Policy(first_response_due=timedelta(hours=24), support_name="Acme Support",
                support_address="support@example.com",
                staff_names={JANE: "Jane Doe", SAM: "Sam Smith", BOSS: "Bo Boss"}, default_owner=JANE,
                staff_addresses=(JANE, SAM, BOSS), escalation=(BOSS,), timezone="Europe/Berlin")
CARE = AftercarePolicy(followup_after=timedelta(days=2), checkin_after=timedelta(days=7),
                       close_after=timedelta(days=14))
FIRST_ANSWER = NOW - timedelta(days=9)


def view(**kw):
    base = dict(id=3, status=CaseStatus.RESOLVED, customer_address=MARIA, customer_name="Maria Rossi",
                subject="Broken kettle", owner=JANE, created_at=NOW - timedelta(days=10),
                first_response_due_at=NOW - timedelta(days=9), first_response_at=FIRST_ANSWER)
    base.update(kw)
    return CaseView(**base)


def mail(text, sender=JANE):
    return InboundMail(message_id="s1@example.com", fingerprint="s1@example.com", from_address=sender,
                       from_name="", to=("support+c3.0123456789abcdef@example.com",), cc=(), reply_to=(),
                       subject="Re: Broken kettle [Case #3]", date=None, in_reply_to=(), references=(), text=text,
                       attachments=(), headers={}, return_path=sender, delivery_report=None, size=10)


class Desk:
    """The case and its timers as the store keeps them between events."""

    def __init__(self, **kw):
        self.case = view(**kw)
        self.timers: list[list] = []  # [kind, due_at, state]

    def apply(self, change: transitions.CaseChange) -> None:
        for t in self.timers:
            if t[2] == "waiting" and t[0] in change.cancel:
                t[2] = "cancelled"
        known = set(CaseView.__dataclass_fields__)
        self.fields = {**getattr(self, "fields", {}), **change.fields}  # every column, the case row's too
        self.case = replace(self.case, **{k: v for k, v in change.fields.items() if k in known})
        self.timers += [[t.kind, t.due_at, "waiting"] for t in change.timers]

    def waiting(self):
        return [(k, due) for k, due, state in self.timers if state == "waiting"]

    def rate(self, score, comment="", now=NOW):
        status = CaseStatus.OPEN if score <= CARE.reopen_at_or_below else CaseStatus.CLOSED
        self.apply(transitions.rated(self.case, Rating(score, comment), status, False, now, CARE, POLICY))

    def customer(self, not_fixed, now=NOW):
        self.apply(transitions.customer_reply(self.case, not_fixed, now, POLICY))

    def staff(self, text, sender=JANE, now=NOW):
        out = work_reply(self.case, [], parse_reply(text), mail(text, sender), now, POLICY)
        assert out.error is None, out.error
        self.apply(transitions.staff_reply(self.case, out, now, CARE, POLICY))
        return out


# --- every way a case reopens owes the customer an answer -----------------------------------------------------


def test_a_low_rating_owes_the_customer_an_answer_within_the_promise_and_keeps_the_first_answer():
    desk = Desk()
    desk.rate(1, "It broke again after two days.")
    assert desk.case.status == CaseStatus.OPEN and desk.case.reopened_count == 1
    assert desk.waiting() == [(TimerKind.REOPENED_LOW_RATING, NOW + timedelta(hours=24))]
    # The timer holds this opening's promise; the case keeps the original complaint's, which the report measures.
    assert desk.case.first_response_due_at == NOW - timedelta(days=9) and desk.case.first_response_at == FIRST_ANSWER


def test_a_good_rating_closes_and_owes_nothing():
    desk = Desk()
    desk.rate(5, "Lovely.")
    assert desk.case.status == CaseStatus.CLOSED and desk.waiting() == []


def test_still_not_working_owes_an_answer_and_an_ordinary_reply_does_not():
    desk = Desk()
    desk.customer(not_fixed=False)
    assert desk.case.status == CaseStatus.RESOLVED and desk.waiting() == []
    desk.customer(not_fixed=True)
    assert desk.case.status == CaseStatus.OPEN
    assert desk.waiting() == [(TimerKind.REOPENED_NOT_FIXED, NOW + timedelta(hours=24))]


def test_reopen_by_staff_with_nothing_for_the_customer_owes_them_an_answer():
    desk = Desk(status=CaseStatus.CLOSED)
    out = desk.staff("#reopen", sender=SAM)
    assert out.reopened and not out.answered
    assert desk.waiting() == [(TimerKind.REOPENED_BY_STAFF, NOW + timedelta(hours=24))]


def test_reopen_by_staff_with_words_for_the_customer_is_itself_the_answer():
    desk = Desk(status=CaseStatus.CLOSED)
    out = desk.staff("#reopen\nMaria, I am sorry it broke again; a new one goes out today.")
    assert out.reopened and out.answered and desk.case.status == CaseStatus.OPEN
    assert desk.waiting() == []
    assert desk.case.first_response_at == FIRST_ANSWER  # not stamped again


def test_a_new_step_on_a_resolved_case_kept_internal_owes_an_answer_beside_the_step_timers():
    desk = Desk()
    desk.staff("#plan +3d Send a new kettle\n#internal")
    assert desk.case.status == CaseStatus.OPEN
    kinds = [k for k, _ in desk.waiting()]
    assert TimerKind.REOPENED_BY_STAFF in kinds and TimerKind.STEP_OVERDUE in kinds


# --- the answer stops the timer, as do resolving and closing; restarts change nothing --------------------------


@pytest.mark.parametrize("settle", ["Maria, I am so sorry. A technician will call you tomorrow morning.",
                                    "#resolve\n#internal", "#close"])
def test_the_owed_answer_is_on_the_case_until_answered_resolved_or_closed(settle):
    """The timer fires once (the escalation); the case's answer_due_at keeps saying it is owed, for overdue lists."""
    desk = Desk()
    desk.rate(1, "Broke again.")
    assert desk.fields["answer_due_at"] == NOW + timedelta(hours=24)
    desk.staff("#note called the courier\n#internal")
    assert desk.fields["answer_due_at"] == NOW + timedelta(hours=24)  # a note answers nobody
    desk.staff(settle)
    assert desk.fields["answer_due_at"] is None


def test_the_owners_answer_cancels_the_timer_and_an_internal_note_does_not():
    desk = Desk()
    desk.customer(not_fixed=True)
    desk.staff("#note called the courier\n#internal")
    assert [k for k, _ in desk.waiting()] == [TimerKind.REOPENED_NOT_FIXED]
    out = desk.staff("Maria, I am so sorry. A technician will call you tomorrow morning.")
    assert out.answered and out.first_response_at is None and not out.cancel_first_response
    assert desk.waiting() == []
    assert desk.case.first_response_at == FIRST_ANSWER


@pytest.mark.parametrize("command", ["#resolve\n#internal", "#close"])  # nothing sent to the customer
def test_resolving_or_closing_again_cancels_the_timer(command):
    desk = Desk()
    desk.rate(2)
    desk.staff(command)
    assert not [k for k, _ in desk.waiting() if k in REOPEN_TIMERS]


def test_one_waiting_timer_per_case_however_often_it_reopens():
    desk = Desk()
    desk.customer(not_fixed=True)
    desk.staff("#resolve\n#internal")
    desk.rate(1, now=NOW + timedelta(hours=1))
    assert desk.waiting()[-1:] == [(TimerKind.REOPENED_LOW_RATING, NOW + timedelta(hours=25))]
    assert [k for k, _ in desk.waiting() if k in REOPEN_TIMERS] == [TimerKind.REOPENED_LOW_RATING]
    assert desk.case.reopened_count == 2


def test_reopening_a_case_never_answered_replaces_its_first_response_timer():
    """One escalation for the one answer owed, with this opening's promise."""
    desk = Desk(status=CaseStatus.OPEN, first_response_at=None)
    desk.timers.append([TimerKind.FIRST_RESPONSE, NOW + timedelta(hours=3), "waiting"])
    desk.staff("#resolve\n#internal")
    desk.customer(not_fixed=True, now=NOW + timedelta(hours=1))
    assert desk.waiting() == [(TimerKind.REOPENED_NOT_FIXED, NOW + timedelta(hours=25))]


def test_with_business_hours_the_timer_waits_for_the_next_working_moment():
    office = BusinessHours(days=frozenset(range(5)), start=time(9), end=time(17), timezone=ZoneInfo("Europe/Berlin"))
    friday_evening = datetime(2026, 3, 6, 17, 0)  # 18:00 in Berlin
    change = transitions.customer_reply(view(), True, friday_evening, replace(POLICY, business_hours=office))
    # The promise runs out on Saturday evening: the escalation reaches people on Monday at 09:00.
    assert change.timers == (TimerSpec(TimerKind.REOPENED_NOT_FIXED, datetime(2026, 3, 9, 8, 0)),)
    assert "first_response_due_at" not in change.fields


# --- when nobody answered: the escalation says why the case is open again ---------------------------------------

HISTORY = [
    {"time": NOW - timedelta(days=10), "who": MARIA, "text": "My kettle is broken."},
    {"time": NOW - timedelta(days=9), "who": f"us to {MARIA}", "text": "We are on it."},
    {"time": NOW - timedelta(hours=3), "who": "Jane@Example.com", "text": "#reopen"},
    {"time": NOW - timedelta(hours=2), "who": SAM, "text": "#reopen\n#plan yesterday oops"},  # refused
    {"time": NOW - timedelta(hours=1), "who": MARIA, "text": "It still doesn't work. The light stays off."},
    {"time": NOW - timedelta(minutes=30), "who": SAM, "text": "#note looked at it\n#internal"},
]
DUE = NOW + timedelta(hours=20)


def escalate(kind, reopening=Reopening(due_at=DUE), **kw):
    return on_timer(kind, view(status=CaseStatus.OPEN, reopened_count=1, **kw), None, [], DUE, POLICY, reopening)


def test_a_low_ratings_escalation_goes_to_escalation_and_owner_with_the_rating():
    emails = escalate(TimerKind.REOPENED_LOW_RATING, Reopening(DUE, 1, "It broke again."), rating_score=1)
    assert [(e.kind, e.template, e.to, e.thread) for e in emails] == [
        ("escalation", "staff/escalation", BOSS, "staff"), ("escalation", "staff/escalation", JANE, "staff")]
    ctx = emails[0].context
    assert ctx["reason"] == "reopened_low_rating" and ctx["step"] is None
    assert ctx["reopen"] == {"reason": "low_rating", "due_at": DUE, "count": 1,
                             "rating": {"score": 1, "comment": "It broke again."}, "words": "", "by": None}


def test_not_fixeds_escalation_quotes_the_customers_latest_words():
    (ctx, _) = [e.context for e in escalate(TimerKind.REOPENED_NOT_FIXED, Reopening(history=HISTORY))]
    assert ctx["reopen"]["reason"] == "not_fixed" and ctx["reopen"]["rating"] is None
    assert ctx["reopen"]["words"] == "It still doesn't work. The light stays off."


def test_a_staff_reopens_escalation_names_who_typed_reopen():
    (ctx, _) = [e.context for e in escalate(TimerKind.REOPENED_BY_STAFF, Reopening(history=HISTORY))]
    # Sam's later #reopen was refused (a past date): Jane's is the one that reopened it.
    assert ctx["reopen"]["by"] == {"name": "Jane Doe", "address": JANE}
    (ctx, _) = [e.context for e in escalate(TimerKind.REOPENED_BY_STAFF, Reopening(history=HISTORY[:2]))]
    assert ctx["reopen"]["by"] is None  # a new step on a resolved case: no #reopen to name


def test_a_reopened_cases_timer_on_a_case_no_longer_open_sends_nothing():
    for status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        assert on_timer(TimerKind.REOPENED_NOT_FIXED, view(status=status), None, [], DUE, POLICY) == []


def test_a_new_cases_escalation_has_no_reopening():
    (ctx, _) = [e.context for e in on_timer(TimerKind.FIRST_RESPONSE, view(status=CaseStatus.OPEN,
                                                                           first_response_at=None),
                                            None, [], DUE, POLICY)]
    assert ctx["reason"] == "first_response" and ctx["reopen"] is None


def test_a_digest_lists_a_reopened_case_with_why_and_its_due_time():
    decided = [reminders.Decided(c.id, e) for c, kind, r in [
        (view(id=3, status=CaseStatus.OPEN, reopened_count=1, rating_score=2),
         TimerKind.REOPENED_LOW_RATING, Reopening(DUE, 2, "Slow.")),
        (view(id=4, status=CaseStatus.OPEN, first_response_at=None, first_response_due_at=NOW),
         TimerKind.FIRST_RESPONSE, Reopening())] for e in on_timer(kind, c, None, [], DUE, POLICY, r) if e.to == BOSS]
    (digest,) = reminders.gather(decided, DUE, POLICY)
    items = {i["case"]["id"]: i for i in digest.email.context["items"]}
    assert items[3]["reopen"]["rating"]["score"] == 2 and items[3]["due_at"] == DUE and items[3]["overdue"]
    assert items[4]["reopen"] is None


# --- the bundled templates tell it as a reopening, not as a new case ------------------------------------------


@pytest.mark.parametrize("kind,reopening,says", [
    (TimerKind.REOPENED_LOW_RATING, Reopening(DUE, 1, "It broke again."),
     ["rated our handling of it 1 out of 5", "It broke again."]),
    (TimerKind.REOPENED_NOT_FIXED, Reopening(DUE, history=HISTORY),
     ["wrote that it still does not work", "The light stays off."]),
    (TimerKind.REOPENED_BY_STAFF, Reopening(DUE, history=HISTORY), ["because Jane Doe reopened it"]),
    (TimerKind.REOPENED_BY_STAFF, Reopening(DUE), ["because staff reopened it"]),
])
def test_the_escalation_says_the_case_was_reopened_and_why(kind, reopening, says):
    email = escalate(kind, reopening, rating_score=1)[0]
    rendered = Templates().render(email.template, email.context)
    assert rendered.subject == "Escalation: reopened, no answer yet on Case #3: Broken kettle"
    assert "Case #3 is open again" in rendered.text
    assert "within 24 hours of the reopening, by Tue 03 Mar 2026, 05:00 UTC" in rendered.text  # the timer's time
    for words in says:
        assert words in rendered.text
    assert "no staff reply has gone out yet" not in rendered.text  # not the new case's wording


def test_the_escalation_digest_says_which_cases_were_reopened():
    decided = [reminders.Decided(c.id, e) for c, kind, r in [
        (view(id=3, status=CaseStatus.OPEN, reopened_count=1),
         TimerKind.REOPENED_NOT_FIXED, Reopening(DUE, history=HISTORY)),
        (view(id=4, status=CaseStatus.OPEN, reopened_count=2),
         TimerKind.REOPENED_LOW_RATING, Reopening(DUE, 1, ""))] for e in on_timer(kind, c, None, [], DUE, POLICY, r)
        if e.to == BOSS]
    (digest,) = reminders.gather(decided, DUE, POLICY)
    text = Templates().render(digest.email.template, digest.email.context).text
    assert "Reopened (the customer says it still does not work) and no answer since" in text
    assert "Reopened (a low rating, 1/5) and no answer since" in text

"""What an event changes on a case: decided here as data, applied by the store in one transaction.

Pure, like the rest of ``cases/``. A ``CaseChange`` names the case's columns to
set and its timers to cancel and to set (``store/repository.apply_change``).
Each rule has one home: every way a case opens again (a low rating, "it is
still not fixed", ``#reopen``, a new step on a resolved case) goes through
``reopen``, and every change of status re-plans the aftercare through
``status_change``.

A reopened case owes the customer an answer, as a new one does (``answer_owed``):
a timer, due when the configured promise runs out and named for why the case
reopened, escalates it unless a staff answer reaches the customer first. The
case's ``answer_due_at`` says the same for people (overdue lists) until the answer,
a resolution or a closing clears it: ``first_response_due_at`` and
``first_response_at`` keep the original complaint's promise and first answer, which
the report measures.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from .aftercare import AFTERCARE_TIMERS, AftercarePolicy, timers_on_resolve
from .lifecycle import NORMAL, URGENT, Policy
from .plan import REOPEN_TIMERS, StaffOutcome, TimerSpec, working
from .ratings import Rating
from .routing import CaseView
from .states import CaseStatus, TimerKind


@dataclass(frozen=True)
class CaseChange:
    """Columns of the case to set; kinds of its waiting timers to cancel; timers to set.

    The store cancels before it sets, so one change may cancel a kind and plan it afresh."""

    fields: Mapping[str, Any] = field(default_factory=dict)
    cancel: tuple[TimerKind, ...] = ()
    timers: tuple[TimerSpec, ...] = ()

    def then(self, later: CaseChange) -> CaseChange:
        """Both changes as one: ``later``'s columns win; every cancellation still comes before every timer set."""
        return CaseChange({**self.fields, **later.fields}, tuple(dict.fromkeys(self.cancel + later.cancel)),
                          self.timers + later.timers)


def reopen(case: CaseView, why: TimerKind | None, now: datetime, rules: Policy) -> CaseChange:
    """The case is open again: counted, its resolution and closing forgotten, its aftercare cancelled, and an
    answer owed to the customer for ``why`` (a ``REOPEN_TIMERS`` kind; None when whoever reopened it
    answered the customer at once)."""
    change = CaseChange({"status": CaseStatus.OPEN, "reopened_count": case.reopened_count + 1,
                         "resolved_at": None, "closed_at": None}, cancel=AFTERCARE_TIMERS)
    return change.then(answer_owed(why, now, rules, case.priority)) if why is not None else change


def answer_owed(why: TimerKind, now: datetime, rules: Policy, priority: str = NORMAL) -> CaseChange:
    """The customer of a reopened case is owed an answer within the configured promise, as for a new case.

    Its timer replaces any earlier one for the same answer (a first response never given included), so one
    escalation says it, with the promise of this opening. The case's own columns are left to the original
    complaint. An urgent case's promise is the shorter one (``Policy.response_due``)."""
    due = working(now + rules.response_due(priority), rules.business_hours)
    return CaseChange({"answer_due_at": due}, cancel=(TimerKind.FIRST_RESPONSE, *REOPEN_TIMERS),
                      timers=(TimerSpec(why, due),))


def status_change(case: CaseView, status: CaseStatus, now: datetime, policy: AftercarePolicy, rules: Policy,
                  why: TimerKind | None) -> CaseChange:
    """Any change of status re-plans the aftercare: cancelled on reopen or close, planned afresh on resolve.
    Reopening owes the customer an answer (``why``: see ``reopen``); resolving or closing owes none."""
    if status == CaseStatus.OPEN:
        return reopen(case, why, now, rules)
    cancel = AFTERCARE_TIMERS + REOPEN_TIMERS
    if status == CaseStatus.RESOLVED:
        return CaseChange({"status": status, "resolved_at": now, "answer_due_at": None}, cancel=cancel,
                          timers=tuple(timers_on_resolve(now, policy)))
    return CaseChange({"status": status, "closed_at": now, "answer_due_at": None}, cancel=cancel)


def customer_reply(case: CaseView, not_fixed: bool, now: datetime, rules: Policy) -> CaseChange:
    """A reply touches the case; one that says it is still not fixed reopens it (the owner hears why), and
    staff owe the customer an answer."""
    change = reopen(case, TimerKind.REOPENED_NOT_FIXED, now, rules) if not_fixed else CaseChange()
    return change.then(CaseChange({"updated_at": now}))


def triaged(case: CaseView, priority: str, now: datetime, rules: Policy) -> CaseChange:
    """A customer's later message was read: a case it makes urgent is marked so, and a first answer still owed
    is owed by the urgent promise from now, when that is sooner (its timer moves; the acknowledgment's
    promise to the customer is not taken back)."""
    if priority != URGENT or case.priority == URGENT:
        return CaseChange()
    change = CaseChange({"priority": URGENT})
    due = now + rules.response_due(URGENT)
    if case.first_response_at is None and case.first_response_due_at is not None and due < case.first_response_due_at:
        timer = TimerSpec(TimerKind.FIRST_RESPONSE, working(due, rules.business_hours))
        change = change.then(CaseChange({"first_response_due_at": due}, cancel=(TimerKind.FIRST_RESPONSE,),
                                        timers=(timer,)))
    return change


def staff_reply(case: CaseView, outcome: StaffOutcome, now: datetime, policy: AftercarePolicy,
                rules: Policy) -> CaseChange:
    """What an applied staff reply changes on the case row and its timers (its plan steps are the store's).
    Anything it sent the customer answers them: a reopened case's timer is cancelled; a reply that reopens
    the case without sending them anything owes them an answer."""
    fields: dict[str, Any] = {"answer_due_at": None} if outcome.answered else {}
    if outcome.first_response_at:
        fields["first_response_at"] = outcome.first_response_at
    cancel = (TimerKind.FIRST_RESPONSE,) if outcome.cancel_first_response else ()
    change = CaseChange(fields, cancel=cancel + (REOPEN_TIMERS if outcome.answered else ()),
                        timers=tuple(outcome.timers))
    if outcome.status:
        why = None if outcome.answered else TimerKind.REOPENED_BY_STAFF
        change = change.then(status_change(case, outcome.status, now, policy, rules, why))
    after: dict[str, Any] = {}
    if outcome.owner:
        after["owner"] = outcome.owner
    if outcome.cause is not None:
        after["cause"] = outcome.cause
    if outcome.extra is not None:
        after["extra"] = outcome.extra
    if outcome.language is not None:
        after["language"] = outcome.language
    return change.then(CaseChange({**after, "updated_at": now}))


def rated(case: CaseView, rating: Rating, status: CaseStatus, apology: bool, now: datetime,
          policy: AftercarePolicy, rules: Policy) -> CaseChange:
    """The rating is kept and the case moves to ``status`` (``aftercare.on_rating``: closed, or open again
    and owing the customer the answer to "what would make it right?")."""
    change = CaseChange({"rating_score": rating.score, "rating_comment": rating.comment[:4000], "rated_at": now},
                        cancel=AFTERCARE_TIMERS)
    after: dict[str, Any] = {"apology_sent": True} if apology else {}
    return (change.then(status_change(case, status, now, policy, rules, TimerKind.REOPENED_LOW_RATING))
            .then(CaseChange({**after, "updated_at": now})))


def checkin_sent(apology: bool, now: datetime, policy: AftercarePolicy) -> CaseChange:
    """The check-in asks afresh (an earlier rating is forgotten); unrated, the case closes after close_after."""
    fields: dict[str, Any] = {"checkin_sent_at": now, "rating_score": None, "rating_comment": "", "rated_at": None}
    if apology:
        fields["apology_sent"] = True
    return CaseChange(fields, timers=(TimerSpec(TimerKind.CHECKIN_CLOSE, now + policy.close_after),))


def checkin_unanswered(case: CaseView, now: datetime) -> CaseChange | None:
    """``checkin_close`` fell due: a case still resolved and unrated closes; any other is left as it is."""
    if case.status != CaseStatus.RESOLVED or case.rating_score is not None:
        return None
    return CaseChange({"status": CaseStatus.CLOSED, "closed_at": now, "answer_due_at": None, "updated_at": now})

"""What an event changes on a case: decided here as data, applied by the store in one transaction.

Pure, like the rest of ``cases/``. A ``CaseChange`` names the case's columns to
set and its timers to cancel and to set (``store/repository.apply_change``).
Each rule has one home: every way a case opens again (a low rating, "it is
still not fixed", ``#reopen``, a new step on a resolved case) goes through
``reopen``, and every change of status re-plans the aftercare through
``status_change``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from .aftercare import AFTERCARE_TIMERS, AftercarePolicy, timers_on_resolve
from .plan import StaffOutcome, TimerSpec
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


def reopen(case: CaseView) -> CaseChange:
    """The case is open again: counted, its resolution and closing forgotten, its aftercare cancelled."""
    return CaseChange({"status": CaseStatus.OPEN, "reopened_count": case.reopened_count + 1,
                       "resolved_at": None, "closed_at": None}, cancel=AFTERCARE_TIMERS)


def status_change(case: CaseView, status: CaseStatus, now: datetime, policy: AftercarePolicy) -> CaseChange:
    """Any change of status re-plans the aftercare: cancelled on reopen or close, planned afresh on resolve."""
    if status == CaseStatus.OPEN:
        return reopen(case)
    if status == CaseStatus.RESOLVED:
        return CaseChange({"status": status, "resolved_at": now}, cancel=AFTERCARE_TIMERS,
                          timers=tuple(timers_on_resolve(now, policy)))
    return CaseChange({"status": status, "closed_at": now}, cancel=AFTERCARE_TIMERS)


def customer_reply(case: CaseView, not_fixed: bool, now: datetime) -> CaseChange:
    """A reply touches the case; one that says it is still not fixed reopens it (the owner hears why)."""
    change = reopen(case) if not_fixed else CaseChange()
    return change.then(CaseChange({"updated_at": now}))


def staff_reply(case: CaseView, outcome: StaffOutcome, now: datetime, policy: AftercarePolicy) -> CaseChange:
    """What an applied staff reply changes on the case row and its timers (its plan steps are the store's)."""
    fields: dict[str, Any] = {}
    if outcome.first_response_at:
        fields["first_response_at"] = outcome.first_response_at
    change = CaseChange(fields, cancel=(TimerKind.FIRST_RESPONSE,) if outcome.cancel_first_response else (),
                        timers=tuple(outcome.timers))
    if outcome.status:
        change = change.then(status_change(case, outcome.status, now, policy))
    after: dict[str, Any] = {}
    if outcome.owner:
        after["owner"] = outcome.owner
    if outcome.cause is not None:
        after["cause"] = outcome.cause
    if outcome.extra is not None:
        after["extra"] = outcome.extra
    return change.then(CaseChange({**after, "updated_at": now}))


def rated(case: CaseView, rating: Rating, status: CaseStatus, apology: bool, now: datetime,
          policy: AftercarePolicy) -> CaseChange:
    """The rating is kept and the case moves to ``status`` (``aftercare.on_rating``: closed, or open again)."""
    change = CaseChange({"rating_score": rating.score, "rating_comment": rating.comment[:4000], "rated_at": now},
                        cancel=AFTERCARE_TIMERS)
    after: dict[str, Any] = {"apology_sent": True} if apology else {}
    return change.then(status_change(case, status, now, policy)).then(CaseChange({**after, "updated_at": now}))


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
    return CaseChange({"status": CaseStatus.CLOSED, "closed_at": now, "updated_at": now})

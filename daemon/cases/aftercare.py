"""After the remedy: follow-up, the satisfaction check-in, ratings by reply, and extras.

Pure rules. Resolving a case plans a follow-up and a check-in; reopening
cancels them; the customer's one-line reply to the check-in is a rating; a low
one reopens the case and asks what would make it right, a better one closes it
with thanks. Extras (a discount code, a personal apology) ride on the check-in
or on the answer to a low rating, as configured or as staff asked with #extra.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from .calendar import BusinessHours
from .lifecycle import AUTO_GENERATED, Outgoing, Policy, context, person_name
from .plan import TimerSpec
from .ratings import Rating, parse_rating, says_not_fixed
from .routing import CaseView
from .states import CaseStatus, MessageKind, TimerKind

AFTERCARE_TIMERS = (TimerKind.FOLLOWUP, TimerKind.CHECKIN, TimerKind.CHECKIN_CLOSE)
CUSTOMER_SCHEDULED = (TimerKind.FOLLOWUP, TimerKind.CHECKIN)  # these wait for the send window


@dataclass(frozen=True)
class Extras:
    """What the configuration offers beyond the fix."""

    discount_enabled: bool = False
    discount_when: str = "always"  # always, on_request, low_rating
    discount_value: str = ""
    apology_enabled: bool = False
    apology_when: str = "always"


@dataclass(frozen=True)
class AftercarePolicy:
    followup_after: Any  # timedelta
    checkin_after: Any
    close_after: Any
    reopen_at_or_below: int = 2
    send_window: BusinessHours | None = None
    extras: Extras = field(default_factory=Extras)


def timers_on_resolve(now: datetime, policy: AftercarePolicy) -> list[TimerSpec]:
    """Resolving sets the aftercare in motion without anyone remembering it."""
    return [TimerSpec(TimerKind.FOLLOWUP, now + policy.followup_after),
            TimerSpec(TimerKind.CHECKIN, now + policy.checkin_after)]


def checkin_after_followup(followup_at: datetime, checkin_due_at: datetime, policy: AftercarePolicy) -> datetime | None:
    """The check-in's new due time when the follow-up goes out at ``followup_at``, or None to leave it.

    Normally the check-in is due ``checkin_after - followup_after`` after the follow-up anyway. After an
    outage both may be overdue at once: the customer should not get "is everything working?" and "how did
    we do?" in the same minute, so the check-in keeps the configured gap behind the follow-up actually sent.
    """
    earliest = followup_at + (policy.checkin_after - policy.followup_after)
    return earliest if checkin_due_at < earliest else None


def send_time(kind: TimerKind, now: datetime, window: BusinessHours | None) -> datetime:
    """When a scheduled customer email may go: now, or the next moment inside the send window."""
    if kind not in CUSTOMER_SCHEDULED or window is None:
        return now
    return window.next_working_moment(now)


def wants(kind: str, moment: str, case_extra: str, extras: Extras) -> bool:
    """Does this case get the discount/apology at this moment ("checkin" or "low_rating")?

    ``case_extra`` is what staff set with #extra: it overrides the configuration for the check-in
    (``none`` turns both off)."""
    if case_extra == "none":
        return False
    if case_extra == kind:
        return moment == "checkin"
    enabled = extras.discount_enabled if kind == "discount" else extras.apology_enabled
    when = extras.discount_when if kind == "discount" else extras.apology_when
    if not enabled or when == "on_request":
        return False
    return (when == "always" and moment == "checkin") or (when == "low_rating" and moment == "low_rating")


def on_followup(case: CaseView, now: datetime, policy: Policy) -> list[Outgoing]:
    if case.status != CaseStatus.RESOLVED or not case.customer_address:
        return []
    return [Outgoing(MessageKind.FOLLOWUP, "customer/followup", case.customer_address, case.customer_name,
                     context(case, policy, now), AUTO_GENERATED, "customer")]


def on_checkin(case: CaseView, now: datetime, policy: Policy, *, discount_code: str | None, discount_value: str,
               apology: bool, pool_empty: bool) -> list[Outgoing]:
    """Ask for a rating by plain reply; carry the extras; warn the owner if the code pool ran dry."""
    if case.status != CaseStatus.RESOLVED or not case.customer_address:
        return []
    ctx = context(case, policy, now, discount={"code": discount_code, "value": discount_value} if discount_code
                  else None, apology=apology)
    out = [Outgoing(MessageKind.CHECKIN, "customer/checkin", case.customer_address, case.customer_name, ctx,
                    AUTO_GENERATED, "customer")]
    if pool_empty:
        out.append(Outgoing(MessageKind.POOL_EMPTY, "staff/discount_pool_empty", case.owner,
                            person_name(case.owner, policy.staff_names), context(case, policy, now),
                            AUTO_GENERATED, "staff"))
    return out


def checkin_due(case: CaseView) -> bool:
    """Whether a check-in timer that fell due still asks: only a case still resolved is asked for a rating
    (nor is a discount code spent on any other)."""
    return case.status == CaseStatus.RESOLVED


def awaiting_rating(case: CaseView) -> bool:
    """The check-in went out and no rating came back yet: the customer's next reply may be the rating."""
    return case.status == CaseStatus.RESOLVED and case.checkin_sent_at is not None and case.rating_score is None


@dataclass(frozen=True)
class ReplyReading:
    """What a customer's reply on a case means for the aftercare."""

    rating: Rating | None = None  # take it as the check-in's rating
    not_fixed: bool = False  # the case was resolved and they say it still does not work: reopen it


def read_reply(text: str, *, status: CaseStatus, awaiting_rating: bool, words: Mapping[str, int],
               reopen_at_or_below: int) -> ReplyReading:
    """A rating, "it is still not fixed", or neither (an ordinary reply).

    "Not fixed" wins over a rating that would close the case: "5 minutes after the new kettle arrived it
    broke again" is no 5, and the case reopens with the owner. A low rating that says so keeps the low-rating
    path, which reopens the case too and also escalates and asks the customer what would make it right.
    """
    not_fixed = status == CaseStatus.RESOLVED and says_not_fixed(text)
    rating = parse_rating(text, words) if awaiting_rating else None
    if rating is not None and rating.score <= reopen_at_or_below:
        return ReplyReading(rating=rating)
    if not_fixed:
        return ReplyReading(not_fixed=True)
    return ReplyReading(rating=rating)


def low_rating(rating: Rating, policy: AftercarePolicy) -> bool:
    """A rating at or below ``satisfaction.reopen_at_or_below``: the case reopens, and extras may ride on it."""
    return rating.score <= policy.reopen_at_or_below


@dataclass
class RatingOutcome:
    status: CaseStatus  # the case's new status
    reopened: bool
    emails: list[Outgoing]


def on_rating(case: CaseView, rating: Rating, now: datetime, policy: Policy, aftercare: AftercarePolicy, *,
              discount_code: str | None = None, apology: bool = False) -> RatingOutcome:
    """A low rating reopens and escalates, and asks what would make it right; a better one closes with thanks."""
    rating_ctx = {"score": rating.score, "comment": rating.comment}
    if low_rating(rating, aftercare):
        ctx = context(CaseView(**{**case.__dict__, "status": CaseStatus.OPEN}), policy, now, rating=rating_ctx,
                      discount={"code": discount_code, "value": aftercare.extras.discount_value}
                      if discount_code else None, apology=apology)
        emails = [Outgoing(MessageKind.RATING_LOW, "customer/rating_low", case.customer_address, case.customer_name,
                           ctx, AUTO_GENERATED, "customer")]
        for address in dict.fromkeys([case.owner, *policy.escalation_to]):
            emails.append(Outgoing(MessageKind.LOW_RATING, "staff/low_rating", address,
                                   person_name(address, policy.staff_names), ctx, AUTO_GENERATED, "staff"))
        return RatingOutcome(CaseStatus.OPEN, True, emails)
    ctx = context(CaseView(**{**case.__dict__, "status": CaseStatus.CLOSED}), policy, now, rating=rating_ctx)
    return RatingOutcome(CaseStatus.CLOSED, False, [
        Outgoing(MessageKind.RATING_THANKS, "customer/rating_thanks", case.customer_address, case.customer_name, ctx,
                 AUTO_GENERATED, "customer"),
        Outgoing(MessageKind.RATING_NOTICE, "staff/rating", case.owner, person_name(case.owner, policy.staff_names),
                 ctx, AUTO_GENERATED, "staff"),
    ])

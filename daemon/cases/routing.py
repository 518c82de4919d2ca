"""What an inbound email is, and which case it belongs to.

Pure: the store looks up the candidate cases (by the ids the mail answers, and
by a ``[Case #N]`` tag) and this module decides. A tag alone never attaches a
stranger's mail to somebody else's case.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Collection

from ..inbound import InboundMail
from .states import CaseStatus

_TAG = re.compile(r"\[\s*Case\s*#\s*(\d{1,9})\s*\]", re.IGNORECASE)


def case_tag(subject: str) -> int | None:
    """The case number in a ``[Case #N]`` subject tag, if any."""
    m = _TAG.search(subject or "")
    return int(m.group(1)) if m else None


_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|vs|antw|odp|ynt|fwd?|wg|tr|r|rif)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


def strip_tag(subject: str) -> str:
    return _TAG.sub("", subject or "").strip()


def case_subject(subject: str) -> str:
    """A case's own subject: no [Case #N] tag and no Re:/AW:/Fwd: prefixes, so ours never read "Re: Re:"."""
    return _REPLY_PREFIX.sub("", strip_tag(subject)).strip()


@dataclass(frozen=True)
class CaseView:
    """What routing and the case rules need to know about a stored case."""

    id: int
    status: CaseStatus
    customer_address: str
    customer_name: str
    subject: str
    owner: str
    created_at: datetime
    first_response_due_at: datetime | None = None
    first_response_at: datetime | None = None
    participants: frozenset[str] = frozenset()
    # What the aftercare rules read: a reopening counts, a rating is awaited only after the check-in.
    reopened_count: int = 0
    checkin_sent_at: datetime | None = None
    rating_score: int | None = None
    mailbox: str = "default"  # the mailbox its complaint came in by: whose address and staff work it
    mailbox_address: str = ""  # that mailbox's address when the case opened (it may have left the configuration)
    language: str = ""  # the customer's language (ISO 639-1); "": [customer] default_language
    priority: str = "normal"  # "urgent": an angry or abusive message, or a repeated complaint (it stays urgent)


class Route(enum.Enum):
    NEW_CASE = "new_case"  # a new complaint
    CUSTOMER_REPLY = "customer_reply"  # the customer (or a participant) writes again
    STAFF_REPLY = "staff_reply"  # staff answer on a case
    STAFF_UNMATCHED = "staff_unmatched"  # staff mail that names no case
    AUTOMATIC = "automatic"  # auto-replies, lists, our own mail: never answered
    BOUNCE = "bounce"  # a delivery report about mail we sent


@dataclass(frozen=True)
class Routing:
    route: Route
    case: CaseView | None
    reason: str


def route(
    mail: InboundMail,
    *,
    automatic: str | None,
    threaded: CaseView | None,
    tagged: CaseView | None,
    staff: Collection[str],
) -> Routing:
    """Decide what ``mail`` is. ``threaded`` is the case its In-Reply-To/References name;
    ``tagged`` the case its subject tag names; ``automatic`` why it is automatic, if it is."""
    sender = (mail.from_address or "").lower()
    tag_ok = tagged if tagged is not None and (sender in tagged.participants or sender in staff) else None
    case = threaded or tag_ok
    if mail.delivery_report is not None:
        return Routing(Route.BOUNCE, threaded, "delivery report")
    if automatic:
        return Routing(Route.AUTOMATIC, case, automatic)
    if sender and sender in staff:
        if case is not None:
            return Routing(Route.STAFF_REPLY, case, "staff reply on the case")
        return Routing(Route.STAFF_UNMATCHED, None, "staff mail that names no case")
    if threaded is not None:
        return Routing(Route.CUSTOMER_REPLY, threaded, "answers a message of the case")
    if tag_ok is not None:
        return Routing(Route.CUSTOMER_REPLY, tag_ok, "case tag from a participant")
    if tagged is not None:
        return Routing(Route.NEW_CASE, None, f"case tag #{tagged.id} from a stranger: a new case")
    return Routing(Route.NEW_CASE, None, "a new complaint")

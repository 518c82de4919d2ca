"""The named states of the support world: case statuses, message kinds, outbox statuses, timers.

Every name is a ``StrEnum`` whose value is exactly the string the database has
always stored: rows written before these names existed read back equal to
them (``Case.status == CaseStatus.OPEN`` holds for a stored ``"open"``), so no
migration was needed, and logs, JSON and templates show the same text as
before. Neutral on purpose: the domain (``cases/``) and the store both import
it and it imports nothing of theirs.
"""
from __future__ import annotations

import enum


class CaseStatus(enum.StrEnum):
    OPEN = "open"  # staff are on it
    RESOLVED = "resolved"  # fixed as far as staff know: the aftercare (follow-up, check-in) runs
    CLOSED = "closed"  # rated, closed by staff, or unrated after the check-in


class Direction(enum.StrEnum):
    IN = "in"  # received
    OUT = "out"  # sent: the row is also the outbox entry


class MessageKind(enum.StrEnum):
    """What a stored email is. Received mail is filed as one of the first seven; sent mail is named after
    the rule that decided it (the ``Outgoing.kind``)."""

    # Received.
    CUSTOMER = "customer"  # the customer (or a participant) writes
    STAFF = "staff"  # a verified staff reply, or staff mail that names no case
    RATING = "rating"  # the customer's reply to the check-in, read as a rating
    AUTOMATIC = "automatic"  # auto-replies, lists, our own mail: filed, never answered
    BOUNCE = "bounce"  # a delivery report
    SUSPICIOUS = "suspicious"  # staff From without proof: nothing changes
    QUARANTINED = "quarantined"  # could not be processed: set aside for a person
    # Sent to the customer.
    ACKNOWLEDGMENT = "acknowledgment"
    RELAY = "relay"  # a staff member's own words
    PLAN = "plan"
    PROGRESS = "progress"
    HANDOVER = "handover"
    RESOLVED = "resolved"
    FOLLOWUP = "followup"
    CHECKIN = "checkin"
    RATING_THANKS = "rating_thanks"
    RATING_LOW = "rating_low"
    # Sent to staff.
    NOTIFICATION = "notification"  # a new case: the root of the case's staff thread
    URGENT_NOTICE = "urgent_notice"  # an urgent case (angry, abusive, complained before): staff.escalation at once
    FORWARD = "forward"
    HANDOVER_STAFF = "handover_staff"
    STATUS = "status"
    NOT_RELAYED = "not_relayed"
    COMMAND_ERROR = "command_error"
    STAFF_NOTICE = "staff_notice"
    SUSPICIOUS_NOTICE = "suspicious_notice"
    BOUNCE_NOTICE = "bounce_notice"
    DELIVERY_FAILED = "delivery_failed"
    QUARANTINE_NOTICE = "quarantine_notice"
    REMINDER = "reminder"
    ESCALATION = "escalation"
    REMINDER_DIGEST = "reminder_digest"
    ESCALATION_DIGEST = "escalation_digest"
    POOL_EMPTY = "pool_empty"
    LOW_RATING = "low_rating"
    LOGIN_ALERT = "login_alert"  # a mailbox login only a person can mend (a dead OAuth2 grant)
    RATING_NOTICE = "rating_notice"


class OutboxStatus(enum.StrEnum):
    """A sent message's way out; see store/outbox.py."""

    PENDING = "pending"  # waiting, maybe for a retry time
    SENDING = "sending"  # claimed by a dispatcher
    SENT = "sent"
    FAILED = "failed"  # refused for good
    HELD = "held"  # kept back by the loop limit, never sent automatically
    BOUNCED = "bounced"  # a delivery report came back
    CANCELLED = "cancelled"  # an operator cancelled it (``aftercare outbox cancel``): never sent


class TimerKind(enum.StrEnum):
    FIRST_RESPONSE = "first_response"  # no first reply by the promised time: escalate
    STEP_REMINDER = "step_reminder"  # a plan step falls due soon
    STEP_OVERDUE = "step_overdue"
    STEP_ESCALATION = "step_escalation"  # a step long overdue
    FOLLOWUP = "followup"  # aftercare, after resolving
    CHECKIN = "checkin"
    CHECKIN_CLOSE = "checkin_close"  # no rating in time: the case closes
    # A reopened case owes the customer an answer, as a new one does: no staff answer by the promised time,
    # escalate. The kind says why it reopened, so that the escalation can say it (plan.REOPEN_TIMERS).
    REOPENED_LOW_RATING = "reopened_low_rating"  # a rating at or below satisfaction.reopen_at_or_below
    REOPENED_NOT_FIXED = "reopened_not_fixed"  # the customer wrote that it still does not work
    REOPENED_BY_STAFF = "reopened_by_staff"  # #reopen, or a new step on a resolved case, with nothing sent


class TimerState(enum.StrEnum):
    WAITING = "waiting"
    FIRED = "fired"
    CANCELLED = "cancelled"

"""What an operator does to the outbox (``aftercare outbox``): list, retry, cancel, each recorded on the case.

Safe while the daemon runs: every change is one conditional UPDATE (``WHERE status IN (...)``), so an email
the dispatcher claimed a moment earlier (``sending``) is refused, never changed under it; the case event is
written in the same transaction, so the record and the change stand or fall together.

Attempts are history, not a budget: the dispatcher never gives up after N tries (a temporary refusal is
retried with the backoff capped at ``outbox.max_retry_interval``; ``failed`` means a permanent refusal), so
a retry keeps the count and the last error and only makes the email due ``now``.
"""
from __future__ import annotations

from datetime import datetime

import structlog

from ..cases.states import Direction, OutboxStatus
from . import leases
from .models import CaseEvent, Message, database

log = structlog.get_logger("aftercare.outbox")

PENDING, SENDING, SENT = OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.SENT
FAILED, HELD, BOUNCED, CANCELLED = OutboxStatus.FAILED, OutboxStatus.HELD, OutboxStatus.BOUNCED, OutboxStatus.CANCELLED

#: What ``outbox list`` shows without ``--status``: every email not yet sent, and not given up by anyone.
UNSENT = (PENDING, SENDING, HELD, FAILED)
#: The statuses an operator may ask for with ``--status``.
LISTABLE = (FAILED, PENDING, HELD)
RETRYABLE = (FAILED, HELD, PENDING)
CANCELLABLE = (PENDING, HELD, FAILED)

_WHY_NOT = {
    SENT: "already sent",
    SENDING: "in flight (sending): the dispatcher is handing it to the mail server now",
    BOUNCED: "already sent, and a delivery report came back (bounced)",
    CANCELLED: "already cancelled (a cancelled email is never sent)",
}


class OutboxRefused(Exception):
    """The email is not there, or its status does not allow what was asked; the message says which."""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


def row_dict(m: Message) -> dict:
    return {"id": m.id, "case": m.case_id, "recipient": m.recipient, "kind": m.kind, "status": m.status,
            "attempts": m.attempts, "last_error": m.last_error or None, "subject": m.subject,
            "created_at": _iso(m.created_at), "next_attempt_at": _iso(m.next_attempt_at),
            "sent_at": _iso(m.sent_at), "mailbox": m.mailbox, "message_id": m.message_id}


def list_outbox(status: str | None = None) -> list[dict]:
    """Outgoing emails with ``status``, or every one not yet sent (``UNSENT``), oldest first."""
    statuses = [status] if status else list(UNSENT)
    q = (Message.select().where((Message.direction == Direction.OUT) & Message.status.in_(statuses))
         .order_by(Message.id))
    return [row_dict(m) for m in q]


def _outgoing(message_id: int) -> Message:
    m = Message.get_or_none((Message.id == message_id) & (Message.direction == Direction.OUT))
    if m is None:
        raise OutboxRefused(f"no outgoing email #{message_id}")
    return m


def _record(m: Message, now: datetime, actor: str, action: str, detail: str) -> None:
    if m.case_id is None:
        log.info("outbox email changed by an operator (no case to record it on)", action=action, email=m.id,
                 actor=actor, detail=detail)
        return
    CaseEvent.create(case=m.case_id, created_at=now, actor=actor, action=action, detail=detail)
    log.info("outbox email changed by an operator", action=action, email=m.id, case_id=m.case_id, actor=actor)


def _describe(m: Message) -> str:
    return f"email #{m.id} ({m.kind} to {m.recipient})"


def retry(message_id: int, now: datetime, actor: str) -> dict:
    """Make a failed, held or pending email due at ``now``; return it as ``row_dict`` after the change.

    For a held email this is the operator deciding it may go despite the loop limit.
    """
    with database.atomic():
        m = _outgoing(message_id)
        changed = (Message.update(status=PENDING, next_attempt_at=now, claimed_by=None, claim_until=None)
                   .where((Message.id == m.id) & Message.status.in_(list(RETRYABLE))).execute())
        if not changed:
            raise OutboxRefused(_refusal(message_id, "retried"))
        leases.notify(leases.OUTBOX_CHANNEL)  # a running daemon sends it at once
        was = f", was {m.status}" + (f": {m.last_error}" if m.last_error else "")
        _record(m, now, actor, "outbox_retry", f"retried {_describe(m)}{was}"[:2000])
        return row_dict(Message.get_by_id(m.id))


def retry_all_failed(now: datetime, actor: str) -> list[dict]:
    """Retry every failed email, each recorded on its case; return those retried."""
    ids = [r[0] for r in Message.select(Message.id).where((Message.direction == Direction.OUT)
                                                           & (Message.status == FAILED))
           .order_by(Message.id).tuples()]
    done = []
    for i in ids:
        try:
            done.append(retry(i, now, actor))
        except OutboxRefused:
            continue  # another operator got there first
    return done


def cancel(message_id: int, now: datetime, actor: str) -> dict:
    """Never send this pending, held or failed email; return it as ``row_dict`` after the change."""
    with database.atomic():
        m = _outgoing(message_id)
        changed = (Message.update(status=CANCELLED, claimed_by=None, claim_until=None)
                   .where((Message.id == m.id) & Message.status.in_(list(CANCELLABLE))).execute())
        if not changed:
            raise OutboxRefused(_refusal(message_id, "cancelled"))
        _record(m, now, actor, "outbox_cancel", f"cancelled {_describe(m)}, was {m.status}")
        return row_dict(Message.get_by_id(m.id))


def _refusal(message_id: int, verb: str) -> str:
    """Why the conditional update changed nothing, read after it (the status that won the race)."""
    status = _outgoing(message_id).status
    return f"email #{message_id} cannot be {verb}: {_WHY_NOT.get(status, status)}"


def case_events(case_id: int) -> list[dict]:
    """What operators did to a case, oldest first."""
    q = CaseEvent.select().where(CaseEvent.case == case_id).order_by(CaseEvent.id)
    return [{"time": _iso(e.created_at), "actor": e.actor, "action": e.action, "detail": e.detail} for e in q]

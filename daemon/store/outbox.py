"""The outbox: outgoing messages from stored to sent.

States: ``pending`` (waiting, maybe for a retry time) -> ``sending`` (claimed by
the dispatcher) -> ``sent``; or ``failed`` (refused for good), ``held`` (kept
back by the loop limit, never sent automatically), ``bounced`` (a delivery
report came back). A row left in ``sending`` by a crash goes back to
``pending`` at start-up and is sent again with the same Message-ID; nothing
else is ever sent twice.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from peewee import PostgresqlDatabase, fn

from .models import Message, database

PENDING, SENDING, SENT, FAILED, HELD, BOUNCED = "pending", "sending", "sent", "failed", "held", "bounced"


def recent_automated_count(recipient: str, since: datetime, kinds: tuple[str, ...]) -> int:
    """Automatic answers of ``kinds`` stored for ``recipient`` since ``since`` (held ones not counted)."""
    return (Message.select(fn.COUNT(Message.id))
            .where((Message.direction == "out") & (Message.automated == True)  # noqa: E712
                   & (Message.recipient == recipient) & (Message.created_at >= since)
                   & Message.kind.in_(list(kinds)) & (Message.status != HELD))
            .scalar())


def recover_in_flight() -> int:
    """After a crash: rows caught mid-send go back to pending (same Message-ID)."""
    return (Message.update(status=PENDING)
            .where((Message.direction == "out") & (Message.status == SENDING)).execute())


def claim_due(now: datetime, limit: int = 100) -> list[Message]:
    """Mark up to ``limit`` due rows as sending and return them, oldest first."""
    with database.atomic():
        query = (Message.select()
                 .where((Message.status == PENDING) & (Message.next_attempt_at <= now))
                 .order_by(Message.id).limit(limit))
        if isinstance(database.obj, PostgresqlDatabase):
            # Two dispatchers on one database never claim the same row.
            query = query.for_update(skip_locked=True)
        rows = list(query)
        if rows:
            (Message.update(status=SENDING)
             .where(Message.id.in_([r.id for r in rows]) & (Message.status == PENDING)).execute())
    return rows


def next_due_at() -> datetime | None:
    return (Message.select(fn.MIN(Message.next_attempt_at))
            .where(Message.status == PENDING).scalar())


def mark_sent(ids: list[int], now: datetime) -> None:
    if ids:
        with database.atomic():
            Message.update(status=SENT, sent_at=now, last_error="").where(Message.id.in_(ids)).execute()


def mark_retry(message_id: int, error: str, now: datetime, delay: timedelta) -> None:
    with database.atomic():
        Message.update(status=PENDING, attempts=Message.attempts + 1, last_error=error[:2000],
                       next_attempt_at=now + delay).where(Message.id == message_id).execute()


def defer(ids: list[int], until: datetime) -> None:
    """Put claimed rows back to wait until ``until`` without counting a try."""
    if ids:
        with database.atomic():
            Message.update(status=PENDING, next_attempt_at=until).where(Message.id.in_(ids)).execute()


def release_claims(ids: list[int]) -> None:
    """Give back rows claimed but not tried (shutdown, lost connection before sending)."""
    if ids:
        with database.atomic():
            Message.update(status=PENDING).where(Message.id.in_(ids) & (Message.status == SENDING)).execute()


def counts() -> dict[str, int]:
    q = (Message.select(Message.status, fn.COUNT(Message.id).alias("n"))
         .where(Message.direction == "out").group_by(Message.status))
    return {row.status: row.n for row in q}

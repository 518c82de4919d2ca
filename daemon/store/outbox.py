"""The outbox: outgoing messages from stored to sent.

States: ``pending`` (waiting, maybe for a retry time) -> ``sending`` (claimed by
the dispatcher) -> ``sent``; or ``failed`` (refused for good), ``held`` (kept
back by the loop limit, never sent automatically), ``bounced`` (a delivery
report came back). A row left in ``sending`` by a crash goes back to
``pending`` at start-up and is sent again with the same Message-ID; nothing
else is ever sent twice.

With SQLite, "sent" is first noted in a side log (``SentLog``) and folded into
the outbox a batch at a time: see there why.
"""
from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timedelta

from peewee import PostgresqlDatabase, SqliteDatabase, __exception_wrapper__, fn

from .models import Message, database
from .prepared import Prepared, param

PENDING, SENDING, SENT, FAILED, HELD, BOUNCED = "pending", "sending", "sent", "failed", "held", "bounced"


_MARK_SENT = Prepared(lambda: Message.update(status=SENT, last_error="", sent_at=param("at"))
                      .where((Message.id == param("id")) & Message.status.in_([SENDING, PENDING])))
_RECENT_AUTOMATED: dict[tuple[str, ...], Prepared] = {}


def recent_automated_count(recipient: str, since: datetime, kinds: tuple[str, ...]) -> int:
    """Automatic answers of ``kinds`` stored for ``recipient`` since ``since`` (held ones not counted)."""
    query = _RECENT_AUTOMATED.get(kinds)
    if query is None:
        query = _RECENT_AUTOMATED[kinds] = Prepared(lambda: (
            Message.select(fn.COUNT(Message.id))
            .where((Message.direction == "out") & (Message.automated == True)  # noqa: E712
                   & (Message.recipient == param("recipient")) & (Message.created_at >= param("since"))
                   & Message.kind.in_(list(kinds)) & (Message.status != HELD))))
    return query.first(recipient=recipient, since=since)[0]


def recover_in_flight() -> int:
    """After a crash: rows caught mid-send go back to pending (same Message-ID).

    What the side log says was accepted is folded in first: those are sent, not in flight.
    """
    SentLog.for_database().fold(close=True)
    return (Message.update(status=PENDING)
            .where((Message.direction == "out") & (Message.status == SENDING)).execute())


def claim_due(now: datetime, limit: int = 100) -> list:
    """Mark up to ``limit`` due rows as sending and return them, oldest first.

    Each row carries what sending needs: id, case_id, message_id, kind, recipient, raw, attempts.
    """
    with database.atomic():
        query = (Message.select(Message.id, Message.case.alias("case_id"), Message.message_id, Message.kind,
                                Message.recipient, Message.raw, Message.attempts)
                 .where((Message.status == PENDING) & (Message.next_attempt_at <= now))
                 .order_by(Message.id).limit(limit))
        if isinstance(database.obj, PostgresqlDatabase):
            # Two dispatchers on one database never claim the same row.
            query = query.for_update(skip_locked=True)
        rows = list(query.namedtuples())
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


class SentLog:
    """Which claimed emails the SMTP server accepted, noted the moment it accepts each one.

    Marking a row sent in SQLite means taking the database's one write lock,
    which intake holds while it records a message: the dispatcher would send at
    the pace of intake's transactions (bench/RESULTS.md measured it waiting
    more than it sent). So each acceptance is first written to a small side
    database with a lock of its own, ``<database>-sent``, and folded into the
    outbox once per claimed batch and at start-up. Its commits are not fsynced:
    they survive the process being killed, which is what keeps a crash to at
    most the one email in flight; a power cut can at worst repeat the emails
    accepted since the last fold. PostgreSQL locks rows, not the database, so
    there the row is marked at once and the side log is not used.
    """

    def __init__(self, path: str | None):
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_database(cls) -> "SentLog":
        db = database.obj
        if isinstance(db, SqliteDatabase) and db.database not in ("", ":memory:") \
                and not str(db.database).startswith("file::memory:"):
            return cls(f"{db.database}-sent")
        return cls(None)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=60)
            conn.execute("PRAGMA journal_mode=wal")
            conn.execute("PRAGMA synchronous=normal")
            conn.execute("CREATE TABLE IF NOT EXISTS sent (id INTEGER PRIMARY KEY, sent_at TEXT NOT NULL)")
            self._conn = conn
        return self._conn

    def record(self, row_id: int, now: datetime) -> None:
        """The server accepted this row's email: note it before the next one is sent."""
        if self.path is None:
            mark_sent([row_id], now)
            return
        with self._lock, __exception_wrapper__:  # a disk error is the database's, not a crash
            self._connection().execute("INSERT OR REPLACE INTO sent (id, sent_at) VALUES (?, ?)",
                                       (row_id, now.isoformat(sep=" ")))

    def fold(self, close: bool = False) -> int:
        """Mark every noted row sent in the outbox, in one transaction, then forget the notes."""
        if self.path is None:
            return 0
        with self._lock, __exception_wrapper__:
            try:
                rows = self._connection().execute("SELECT id, sent_at FROM sent ORDER BY id").fetchall()
                if rows:
                    ids = [r[0] for r in rows]
                    with database.atomic():
                        _MARK_SENT.run_many([{"id": i, "at": datetime.fromisoformat(at)} for i, at in rows])
                    # Only after the outbox committed: folding the same note twice changes nothing.
                    self._conn.execute(f"DELETE FROM sent WHERE id IN ({','.join('?' * len(ids))})", ids)
                return len(rows)
            finally:
                if close and self._conn is not None:
                    self._conn.close()
                    self._conn = None

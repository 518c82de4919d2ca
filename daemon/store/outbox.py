"""The outbox: outgoing messages from stored to sent.

States: ``pending`` (waiting, maybe for a retry time) -> ``sending`` (claimed by
the dispatcher) -> ``sent``; or ``failed`` (refused for good), ``held`` (kept
back by the loop limit, never sent automatically), ``bounced`` (a delivery
report came back), ``cancelled`` (by an operator, store/outbox_admin.py: never
claimed, never sent).

A claim names its holder (``holder_id()``: host, process, a random tag) and
lasts until ``claim_until`` (renewed while the holder works). Only the holder
gives its rows back; another process takes over a row in ``sending`` only
once its claim has expired, or once its holder is known dead (a process of
this host that no longer exists, or any holder at all when the SQLite file
lock proves this is the only daemon). A row taken over is sent again with
the same Message-ID: that is the one email a crash can repeat.

What the SMTP server accepted is noted in a side log (``SentLog``) before
anything else, and folded into the outbox once the database takes it, so an
email accepted while the database was away is never sent again.
"""
from __future__ import annotations

import os
import secrets
import socket
import sqlite3
import threading
from datetime import datetime, timedelta
from typing import Collection

from peewee import InterfaceError, OperationalError, PostgresqlDatabase, SqliteDatabase, __exception_wrapper__, fn

from ..cases.states import OutboxStatus
from .models import Message, database
from .prepared import Prepared, param

PENDING, SENDING, SENT = OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.SENT
FAILED, HELD, BOUNCED = OutboxStatus.FAILED, OutboxStatus.HELD, OutboxStatus.BOUNCED
CANCELLED = OutboxStatus.CANCELLED

#: How long a claim stands without renewal. The dispatcher renews its claims
#: every few seconds while it holds rows; only a holder that stopped renewing
#: (dead, or cut off from the database longer than this) loses them.
CLAIM_TTL = timedelta(minutes=2)

_HOLDER: tuple[int, str] | None = None


def holder_id() -> str:
    """This process's name on the claims it holds: ``host:pid:tag`` (the tag tells a reused pid apart)."""
    global _HOLDER
    if _HOLDER is None or _HOLDER[0] != os.getpid():
        _HOLDER = (os.getpid(), f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}")
    return _HOLDER[1]


def _holder_is_dead(holder: str) -> bool:
    """True only when the holder was a process of this host that no longer exists."""
    parts = holder.split(":")
    try:
        host, pid = parts[0], int(parts[1])
    except (IndexError, ValueError):
        return False
    if host != socket.gethostname() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, but not ours to signal
        return False
    return False


_MARK_SENT = Prepared(lambda: Message.update(status=SENT, last_error="", sent_at=param("at"), claimed_by=None,
                                             claim_until=None)
                      .where((Message.id == param("id")) & Message.status.in_([SENDING, PENDING])))
_RECENT_AUTOMATED: dict[tuple[str, ...], Prepared] = {}


def recent_automated_count(recipient: str, since: datetime, kinds: tuple[str, ...]) -> int:
    """Automatic answers of ``kinds`` stored for ``recipient`` since ``since`` (held and cancelled ones, never
    sent, not counted)."""
    query = _RECENT_AUTOMATED.get(kinds)
    if query is None:
        query = _RECENT_AUTOMATED[kinds] = Prepared(lambda: (
            Message.select(fn.COUNT(Message.id))
            .where((Message.direction == "out") & (Message.automated == True)  # noqa: E712
                   & (Message.recipient == param("recipient")) & (Message.created_at >= param("since"))
                   & Message.kind.in_(list(kinds)) & Message.status.not_in([HELD, CANCELLED]))))
    return query.first(recipient=recipient, since=since)[0]


def recover_in_flight(now: datetime | None = None, *, sole_daemon: bool = False,
                      sent_log: "SentLog | None" = None) -> int:
    """At start-up: rows caught mid-send go back to pending (same Message-ID); return how many.

    What the side log says was accepted is folded in first: those are sent, not in flight.
    Only rows this process held, rows whose claim expired, and rows of holders known dead are
    touched; with ``sole_daemon`` (the SQLite file lock is held) every holder is known dead.
    """
    (sent_log or SentLog.for_database()).fold(close=sent_log is None)
    return rescue_claims(now, sole_daemon=sole_daemon)


def rescue_claims(now: datetime | None = None, *, sole_daemon: bool = False) -> int:
    """Give rows in ``sending`` whose holder is gone back to ``pending``; return how many.

    A holder of this host is gone when its process no longer exists; one that is frozen (SIGSTOP) keeps its
    claims until they expire, so that when it resumes mid-send nobody else has sent the same email meanwhile.
    A holder of another host is never judged by its heartbeat, which a database outage or a stalled thread
    can stop while it is still sending: only its claims' expiry frees its rows (several instances: issue 19).
    """
    me = holder_id()
    holders = [r[0] for r in Message.select(Message.claimed_by).distinct()
               .where((Message.direction == "out") & (Message.status == SENDING)).tuples()]
    gone = [h for h in holders if h is not None and h != me and (sole_daemon or _holder_is_dead(h))]
    stale = (Message.claimed_by.is_null() | (Message.claimed_by == me) | Message.claimed_by.in_(gone or [""]))
    if now is not None:
        stale = stale | (Message.claim_until < now)
    with database.atomic():
        return (Message.update(status=PENDING, claimed_by=None, claim_until=None)
                .where((Message.direction == "out") & (Message.status == SENDING) & stale).execute())


def release_own_claims(keep: list[int] = ()) -> int:
    """After this process lost the database mid-batch: its rows in ``sending`` (but ``keep``) go back."""
    cond = (Message.status == SENDING) & (Message.claimed_by == holder_id())
    if keep:
        cond = cond & Message.id.not_in(list(keep))
    with database.atomic():
        return Message.update(status=PENDING, claimed_by=None, claim_until=None).where(cond).execute()


def renew_claims(now: datetime) -> int:
    """The holder is alive and working: push its claims' expiry forward."""
    with database.atomic():
        return (Message.update(claim_until=now + CLAIM_TTL)
                .where((Message.status == SENDING) & (Message.claimed_by == holder_id())).execute())


def still_claimed(ids: Collection[int], now: datetime) -> set[int]:
    """Of ``ids``, the rows this process still holds, their claims renewed; a process that could not beat for a
    while (frozen, cut off) asks this before it sends another of its rows, which another may have taken."""
    if not ids:
        return set()
    with database.atomic():
        query = Message.select(Message.id).where(_mine(list(ids)))
        if isinstance(database.obj, PostgresqlDatabase):
            query = query.for_update()
        mine = {r.id for r in query}
        if mine:
            Message.update(claim_until=now + CLAIM_TTL).where(Message.id.in_(list(mine))).execute()
    return mine


def _not_waiting(waiting: Collection[str]):
    """Rows of mailboxes that are not waiting for a login ('' stands for rows that name no mailbox)."""
    if not waiting:
        return True
    return fn.COALESCE(Message.mailbox, "").not_in(list(waiting))


def claim_due(now: datetime, limit: int = 100, waiting: Collection[str] = ()) -> list:
    """Mark up to ``limit`` due rows as sending by this process and return them, oldest first; rows of the
    mailboxes in ``waiting`` (their SMTP login was refused) are left alone.

    Each row carries what sending needs: id, case_id, message_id, kind, recipient, raw, attempts, and the
    mailbox (and From address) it goes by.
    """
    with database.atomic():
        query = (Message.select(Message.id, Message.case.alias("case_id"), Message.message_id, Message.kind,
                                Message.recipient, Message.raw, Message.attempts, Message.mailbox,
                                Message.from_address)
                 .where((Message.status == PENDING) & (Message.next_attempt_at <= now) & _not_waiting(waiting))
                 .order_by(Message.id).limit(limit))
        if isinstance(database.obj, PostgresqlDatabase):
            # Two dispatchers on one database never claim the same row.
            query = query.for_update(skip_locked=True)
        rows = list(query.namedtuples())
        if rows:
            (Message.update(status=SENDING, claimed_by=holder_id(), claim_until=now + CLAIM_TTL)
             .where(Message.id.in_([r.id for r in rows]) & (Message.status == PENDING)).execute())
    return rows


def next_due_at(waiting: Collection[str] = ()) -> datetime | None:
    return (Message.select(fn.MIN(Message.next_attempt_at))
            .where((Message.status == PENDING) & _not_waiting(waiting)).scalar())


def mark_sent(ids: list[int], now: datetime) -> None:
    """The server accepted these: sent, whoever holds them now (a later bounce or failure stands)."""
    if ids:
        with database.atomic():
            (Message.update(status=SENT, sent_at=now, last_error="", claimed_by=None, claim_until=None)
             .where(Message.id.in_(ids) & Message.status.in_([SENDING, PENDING])).execute())


def _mine(message_ids) -> object:
    return Message.id.in_(message_ids) & (Message.status == SENDING) & (Message.claimed_by == holder_id())


def mark_retry(message_id: int, error: str, now: datetime, delay: timedelta) -> None:
    with database.atomic():
        Message.update(status=PENDING, attempts=Message.attempts + 1, last_error=error[:2000],
                       next_attempt_at=now + delay, claimed_by=None, claim_until=None).where(
            _mine([message_id])).execute()


def defer(ids: list[int], until: datetime) -> None:
    """Put claimed rows back to wait until ``until`` without counting a try."""
    if ids:
        with database.atomic():
            Message.update(status=PENDING, next_attempt_at=until, claimed_by=None, claim_until=None).where(
                _mine(ids)).execute()


def release_claims(ids: list[int]) -> None:
    """Give back rows claimed but not tried (shutdown, lost connection before sending)."""
    if ids:
        with database.atomic():
            Message.update(status=PENDING, claimed_by=None, claim_until=None).where(_mine(ids)).execute()


def counts() -> dict[str, int]:
    q = (Message.select(Message.status, fn.COUNT(Message.id).alias("n"))
         .where(Message.direction == "out").group_by(Message.status))
    return {row.status: row.n for row in q}


class SentLog:
    """Which claimed emails the SMTP server accepted, noted the moment it accepts each one.

    The note outlives the database being away: an email the server accepted
    is never sent again because the outbox could not be written at that moment.

    SQLite: marking a row sent means taking the database's one write lock,
    which intake holds while it records a message, so each acceptance is first
    written to a small side database with a lock of its own, ``<database>-sent``,
    and folded into the outbox once per claimed batch and at start-up (bench/
    RESULTS.md measured the dispatcher waiting more than it sent without it).

    PostgreSQL locks rows, not the database: the row is marked at once, and
    only an acceptance the database could not take is noted in the side log
    (``database.sent_log``, in the state directory) until it can.

    When even the side log cannot be written (a full disk), the note is kept in
    memory until it can. Side-log commits are not fsynced: they survive the
    process being killed; a power cut can at worst repeat the emails accepted
    since the last fold.
    """

    def __init__(self, path: str | None, mark_at_once: bool = False):
        self.path = path or None
        self.mark_at_once = mark_at_once
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._memory: dict[int, datetime] = {}  # accepted, but neither side log nor outbox has it yet

    @classmethod
    def for_database(cls, path: str | None = None) -> "SentLog":
        """The side log of the open database; ``path`` (``database.sent_log``) where the config names one."""
        db = database.obj
        if isinstance(db, SqliteDatabase):
            if db.database in ("", ":memory:") or str(db.database).startswith("file::memory:"):
                return cls(None, mark_at_once=True)
            return cls(path or f"{db.database}-sent")
        return cls(path, mark_at_once=True)

    @property
    def unwritten(self) -> int:
        """Acceptances held in memory only (neither the side log nor the outbox took them yet)."""
        return len(self._memory)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=60)
            try:
                conn.execute("PRAGMA journal_mode=wal")
                conn.execute("PRAGMA synchronous=normal")
                conn.execute("CREATE TABLE IF NOT EXISTS sent (id INTEGER PRIMARY KEY, sent_at TEXT NOT NULL)")
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except sqlite3.Error:
                pass
            self._conn = None

    def record(self, row_id: int, now: datetime) -> None:
        """The server accepted this row's email: note it before the next one is sent.

        Never loses the note: when the outbox or the side log refuses it, it is kept (side log,
        else memory) and the database error is raised for the caller's loop to handle.
        """
        if self.mark_at_once:
            try:
                mark_sent([row_id], now)
                return
            except (OperationalError, InterfaceError):
                self._note(row_id, now)
                raise
        self._note(row_id, now)

    def _note(self, row_id: int, now: datetime) -> None:
        with self._lock:
            if self.path is not None:
                try:
                    with __exception_wrapper__:  # a disk error is the database's, not a crash
                        self._connection().execute("INSERT OR REPLACE INTO sent (id, sent_at) VALUES (?, ?)",
                                                   (row_id, now.isoformat(sep=" ")))
                    return
                except (OperationalError, InterfaceError):
                    self._drop_connection()
                    self._memory[row_id] = now
                    raise
            self._memory[row_id] = now

    def pending(self) -> list[int]:
        """The rows noted as accepted and not yet folded into the outbox (memory, then side log)."""
        with self._lock:
            ids = set(self._memory)
            if self.path is not None and (self._conn is not None or os.path.exists(self.path)):
                try:
                    with __exception_wrapper__:
                        ids.update(r[0] for r in self._connection().execute("SELECT id FROM sent"))
                except (OperationalError, InterfaceError):
                    self._drop_connection()
                    raise
            return sorted(ids)

    def fold(self, close: bool = False) -> int:
        """Mark every noted row sent in the outbox, in one transaction, then forget the notes."""
        with self._lock:
            try:
                with __exception_wrapper__:
                    rows = dict(self._memory)
                    on_disk = []
                    if self.path is not None and (self._conn is not None or os.path.exists(self.path)):
                        on_disk = self._connection().execute("SELECT id, sent_at FROM sent ORDER BY id").fetchall()
                    for i, at in on_disk:
                        rows.setdefault(i, datetime.fromisoformat(at))
                    if rows:
                        with database.atomic():
                            _MARK_SENT.run_many([{"id": i, "at": at} for i, at in sorted(rows.items())])
                        # Only after the outbox committed: folding the same note twice changes nothing.
                        for i in rows:
                            self._memory.pop(i, None)
                        if on_disk:
                            ids = [r[0] for r in on_disk]
                            self._conn.execute(f"DELETE FROM sent WHERE id IN ({','.join('?' * len(ids))})", ids)
                    return len(rows)
            except (OperationalError, InterfaceError):
                self._drop_connection()
                raise
            finally:
                if close:
                    self._drop_connection()

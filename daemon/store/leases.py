"""Several daemons on one PostgreSQL database: who is alive, and who watches which mailbox.

Each running daemon (an *instance*) keeps a row in ``instance`` with a heartbeat. Each mailbox has a row in
``mailbox_lease``: the instance that watches it, until when (``expires_at``), and an ``epoch`` that grows by
one at every take. The epoch is the fencing token: a transaction of the intake commits only while the lease
row still names its instance and epoch, read ``FOR SHARE`` as the transaction's last statement, so a taker
(which must lock the row to change it) cannot slip in between that check and the commit. A daemon that was
frozen or cut off and comes back finds another epoch and records nothing (Oban's and River's leader leases,
per mailbox).

Every time here is the database's own clock (``clock_timestamp()``), so hosts whose clocks disagree still
agree on who holds what. PostgreSQL only: on SQLite the file lock allows one daemon, which watches every
mailbox.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from peewee import PostgresqlDatabase

from .models import database

NOW = "(clock_timestamp() AT TIME ZONE 'UTC')"

#: Channels of NOTIFY: new outbox rows, timers set, a lease given back.
OUTBOX_CHANNEL, TIMERS_CHANNEL, LEASES_CHANNEL = "aftercare_outbox", "aftercare_timers", "aftercare_leases"


class LeaseLost(RuntimeError):
    """This instance no longer holds the mailbox (another took it, or it could not renew in time)."""


@dataclass(frozen=True)
class LeaseRow:
    mailbox: str
    holder: str | None
    epoch: int
    held_since: datetime | None
    expired_for: float  # seconds since it expired (negative: still running)


def _rows(sql: str, params: tuple = ()) -> list[tuple]:
    return list(database.execute_sql(sql, params).fetchall())


def heartbeat(instance_id: str, label: str, started_at: datetime, info: dict | None = None) -> None:
    """This instance is alive (the row is made at the first beat)."""
    import json

    database.execute_sql(
        f'INSERT INTO "instance" ("id", "label", "started_at", "heartbeat_at", "info") VALUES (%s, %s, %s, {NOW}, %s) '
        f'ON CONFLICT ("id") DO UPDATE SET "heartbeat_at" = {NOW}'
        + (', "info" = EXCLUDED."info"' if info is not None else ""),
        (instance_id, label, started_at, json.dumps(info or {}, sort_keys=True)))


def live_instances(within_seconds: float) -> list[str]:
    """The instances whose last heartbeat is at most ``within_seconds`` old."""
    return [r[0] for r in _rows(
        f'SELECT "id" FROM "instance" WHERE "heartbeat_at" > {NOW} - make_interval(secs => %s) ORDER BY "id"',
        (within_seconds,))]


def forget_stale_instances(older_than_seconds: float) -> int:
    """Rows of instances silent for long (killed, their host gone): status stops listing them."""
    return database.execute_sql(
        f'DELETE FROM "instance" WHERE "heartbeat_at" < {NOW} - make_interval(secs => %s)',
        (older_than_seconds,)).rowcount


def ensure_mailboxes(names: list[str]) -> None:
    """A lease row for each configured mailbox (free, epoch 0) where none exists yet."""
    for name in names:
        database.execute_sql(
            f'INSERT INTO "mailbox_lease" ("mailbox", "holder", "epoch", "held_since", "expires_at") '
            f'VALUES (%s, NULL, 0, NULL, {NOW}) ON CONFLICT ("mailbox") DO NOTHING', (name,))


def all_leases() -> dict[str, LeaseRow]:
    return {r[0]: LeaseRow(r[0], r[1], r[2], r[3], r[4]) for r in _rows(
        f'SELECT "mailbox", "holder", "epoch", "held_since", EXTRACT(EPOCH FROM {NOW} - "expires_at")::float8 '
        'FROM "mailbox_lease" ORDER BY "mailbox"')}


def take(instance_id: str, mailbox: str, seconds: float, free_for: float = 0.0) -> int | None:
    """Take the mailbox if it is free or its lease ended at least ``free_for`` seconds ago; return the new epoch.

    A row another transaction has locked (a holder renewing, another taker, a fenced commit) is skipped,
    never waited for: the next pass tries again.
    """
    found = _rows(
        f'UPDATE "mailbox_lease" SET "holder" = %s, "epoch" = "epoch" + 1, "held_since" = {NOW}, '
        f'"expires_at" = {NOW} + make_interval(secs => %s) '
        f'WHERE "mailbox" = (SELECT "mailbox" FROM "mailbox_lease" WHERE "mailbox" = %s AND ("holder" IS NULL '
        f'OR "expires_at" <= {NOW} - make_interval(secs => %s)) FOR UPDATE SKIP LOCKED) RETURNING "epoch"',
        (instance_id, seconds, mailbox, free_for))
    return found[0][0] if found else None


def renew(instance_id: str, held: dict[str, int], seconds: float) -> set[str]:
    """Push the leases still held (same holder, same epoch) forward; return the mailboxes still held.

    An ended lease that nobody took is renewed too: the epoch proves nobody recorded under another.
    """
    if not held:
        return set()
    still = set()
    with database.atomic():
        database.execute_sql("SET LOCAL lock_timeout = '1s'")
        for mailbox, epoch in held.items():
            if _rows(f'UPDATE "mailbox_lease" SET "expires_at" = {NOW} + make_interval(secs => %s) '
                     'WHERE "mailbox" = %s AND "holder" = %s AND "epoch" = %s RETURNING "mailbox"',
                     (seconds, mailbox, instance_id, epoch)):
                still.add(mailbox)
    return still


def release(instance_id: str, mailbox: str, epoch: int) -> bool:
    """Give the mailbox back at once and wake the other instances (a clean stop, a handover)."""
    with database.atomic():
        done = database.execute_sql(
            f'UPDATE "mailbox_lease" SET "holder" = NULL, "held_since" = NULL, "expires_at" = {NOW} '
            'WHERE "mailbox" = %s AND "holder" = %s AND "epoch" = %s', (mailbox, instance_id, epoch)).rowcount
        notify(LEASES_CHANNEL)
    return bool(done)


def still_holds(mailbox: str, instance_id: str, epoch: int) -> bool:
    """Inside a transaction, as its last statement: the lease still names this instance and epoch.

    ``FOR SHARE`` keeps a taker out until the transaction ends; ``NOWAIT`` is not used: a taker holds the row
    only for its one statement.
    """
    return bool(_rows('SELECT 1 FROM "mailbox_lease" WHERE "mailbox" = %s AND "holder" = %s AND "epoch" = %s '
                      'FOR SHARE', (mailbox, instance_id, epoch)))


def notify(channel: str) -> None:
    """Wake every instance listening on ``channel`` (delivered when the current transaction commits; PostgreSQL
    sends one notification per channel per transaction however often it is asked). Nothing on SQLite."""
    if isinstance(database.obj, PostgresqlDatabase):
        database.execute_sql("SELECT pg_notify(%s, '')", (channel,))

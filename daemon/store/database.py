"""Opening SQLite or PostgreSQL from the configured URL, and the schema's migrations.

The schema carries a version number from the first release; each migration is a
function applied once, in order, inside a transaction.
"""
from __future__ import annotations

import fcntl
import threading
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlparse

from peewee import Database, OperationalError, PostgresqlDatabase, SqliteDatabase
from playhouse.migrate import SchemaMigrator
from playhouse.migrate import migrate as run_migrations
from playhouse.shortcuts import ReconnectMixin


class ReconnectingPostgresqlDatabase(ReconnectMixin, PostgresqlDatabase):
    """Reconnects when the server dropped the connection (restart, failover, idle cut)."""


class SerializedSqliteDatabase(SqliteDatabase):
    """SQLite whose writers in this process take turns through one lock.

    SQLite lets one writer at a time in; a second one waits in SQLite's busy
    handler, which sleeps in steps of up to 100 ms and so leaves the database
    idle long after the lock is free. Intake, dispatcher and timers all write
    in short transactions, so they queue on a Python lock instead, which hands
    over the moment a transaction ends. Other processes (the CLI) still meet
    the busy timeout.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._writer = threading.Lock()
        self._holder = threading.local()

    def begin(self, lock_type=None):
        # As long as SQLite's own busy timeout: a turn that never comes is an error the caller handles.
        if not self._writer.acquire(timeout=BUSY_TIMEOUT_SECONDS):
            raise OperationalError("database is locked (another thread of this process kept it busy)")
        self._holder.held = True
        try:
            super().begin(lock_type)
        except BaseException:
            self._release_writer()
            raise

    def commit(self):
        super().commit()  # if this fails, the transaction's rollback releases the turn
        self._release_writer()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self._release_writer()

    def _close(self, conn):
        try:
            super()._close(conn)
        finally:
            self._release_writer()

    def _release_writer(self) -> None:
        if getattr(self._holder, "held", False):
            self._holder.held = False
            self._writer.release()


from .models import ALL_MODELS, SchemaVersion, database

# How long a writer waits for a lock held by another process before failing.
BUSY_TIMEOUT_SECONDS = 120


def open_database(url: str) -> Database:
    """Connect the models to the database named by ``url`` and bring its schema up to date."""
    db = make_database(url)
    database.initialize(db)
    db.connect(reuse_if_open=True)
    migrate(db)
    return db


def make_database(url: str) -> Database:
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):] or ":memory:"
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # IMMEDIATE: a write transaction takes the write lock at BEGIN, so two
        # writers queue on busy_timeout instead of deadlocking on upgrade.
        return SerializedSqliteDatabase(
            path,
            timeout=BUSY_TIMEOUT_SECONDS,
            lock_type="IMMEDIATE",
            pragmas={
                "journal_mode": "wal",
                "foreign_keys": 1,
                "busy_timeout": BUSY_TIMEOUT_SECONDS * 1000,
                # FULL: a commit survives power loss, so a message moved after it is never lost.
                "synchronous": "full",
            },
        )
    if url.startswith(("postgresql://", "postgres://")):
        u = urlparse(url)
        return ReconnectingPostgresqlDatabase(
            unquote(u.path.lstrip("/")),
            host=u.hostname or None,
            port=u.port or None,
            user=unquote(u.username) if u.username else None,
            password=unquote(u.password) if u.password else None,
        )
    raise ValueError(f"unsupported database URL scheme: {url.split(':', 1)[0]}")


class AlreadyRunning(RuntimeError):
    """Another Aftercare works on this database: two would answer every customer twice."""


_held_locks: list = []
_LOCK_KEY = 0x41667465  # "Afte": the advisory lock every Aftercare on one PostgreSQL database shares


def acquire_instance_lock(url: str) -> None:
    """Hold a lock for the life of the process, so only one daemon serves a database."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if path in ("", ":memory:"):
            return
        fh = open(path + ".lock", "w")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            raise AlreadyRunning(f"another aftercare is already running on {path}") from None
        _held_locks.append(fh)
        return
    got = database.execute_sql("SELECT pg_try_advisory_lock(%s)", (_LOCK_KEY,)).fetchone()[0]
    if not got:
        raise AlreadyRunning(f"another aftercare is already running on {redact_url(url)}")


def reset_connection() -> None:
    """Drop this thread's connection after a database error; the next query opens a fresh one."""
    try:
        if not database.is_closed():
            database.close()
    except Exception:  # already broken: nothing to tidy
        pass


def redact_url(url: str) -> str:
    u = urlparse(url)
    if u.password:
        return url.replace(f":{u.password}@", ":********@", 1)
    return url


def _ensure_schema(db: Database) -> None:
    """Create missing tables and add missing columns (with their defaults); never drops anything."""
    db.create_tables(ALL_MODELS, safe=True)
    migrator = SchemaMigrator.from_database(db)
    for model in ALL_MODELS:
        table = model._meta.table_name
        have = {c.name for c in db.get_columns(table)}
        for f in model._meta.sorted_fields:
            if f.column_name not in have:
                if not f.null and f.default is None:
                    raise RuntimeError(f"cannot add {table}.{f.column_name}: it needs a default")
                run_migrations(migrator.add_column(table, f.column_name, f))


def _v1(db: Database) -> None:
    """Cases, messages (in and out: the outbox), intake state."""
    _ensure_schema(db)


def _v2(db: Database) -> None:
    """Remedy plan steps, timers; case cause, extra and reopen count."""
    _ensure_schema(db)


def _v3(db: Database) -> None:
    """Aftercare: check-in, rating, discount codes, apology."""
    _ensure_schema(db)


# Index i holds the migration that brings the schema to version i + 1.
MIGRATIONS: list[Callable[[Database], None]] = [_v1, _v2, _v3]
SCHEMA_VERSION = len(MIGRATIONS)


def current_version(db: Database) -> int:
    if not db.table_exists(SchemaVersion._meta.table_name):
        return 0
    row = SchemaVersion.select().order_by(SchemaVersion.version.desc()).first()
    return row.version if row else 0


def migrate(db: Database) -> int:
    """Apply every migration the database lacks; return the resulting version."""
    with db.atomic():
        version = current_version(db)
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"the database is at schema version {version}, newer than this Aftercare "
                f"({SCHEMA_VERSION}); upgrade Aftercare"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[target - 1](db)
            SchemaVersion.delete().execute()
            SchemaVersion.create(version=target)
    return SCHEMA_VERSION

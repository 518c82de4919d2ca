"""Opening SQLite or PostgreSQL from the configured URL; the schema is brought up to date on opening.

The schema's versions and the steps between them are in ``migrations.py``
(re-exported here: ``SCHEMA_VERSION``, ``MIGRATIONS``, ``current_version``, ``migrate``).
"""
from __future__ import annotations

import fcntl
import threading
from pathlib import Path
from urllib.parse import unquote, urlparse

from typing import Callable

from peewee import (Database, InterfaceError, OperationalError, PostgresqlDatabase, SqliteDatabase,
                    __exception_wrapper__)

#: What a loop catches when the database fails it: the statement is not the message's fault.
DATABASE_ERRORS = (OperationalError, InterfaceError)


class ReconnectingPostgresqlDatabase(PostgresqlDatabase):
    """Reconnects when the server dropped the connection (restart, failover, admin shutdown, idle cut).

    A statement outside a transaction that fails on a connection-level error
    (``OperationalError`` or ``InterfaceError: connection already closed``) is
    tried once more on a fresh connection: nothing of it was applied. Inside a
    transaction the error goes to the caller, whose loop drops the connection
    (``reset_connection``) and tries the whole transaction again later.
    """

    def __init__(self, *args, session: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.session = session or {}

    def _connect(self):
        """Each new session gets ``session``'s settings with SET (not as a startup option, which PgBouncer
        refuses or drops; with session pooling a SET stays with the session)."""
        conn = super()._connect()
        if self.session:
            with conn.cursor() as cur:
                for name, value in self.session.items():
                    cur.execute(f"SET {name} = %s", (value,))
        return conn

    def execute_sql(self, sql, params=None, *args, **kwargs):
        try:
            return super().execute_sql(sql, params, *args, **kwargs)
        except DATABASE_ERRORS:
            if self.in_transaction():
                raise
            _drop(self)
        return super().execute_sql(sql, params, *args, **kwargs)

    def begin(self, *args, **kwargs):
        try:
            return super().begin(*args, **kwargs)
        except DATABASE_ERRORS:
            if self.in_transaction():
                raise
            _drop(self)
        return super().begin(*args, **kwargs)

    def commit(self):
        """Run this thread's fence (``bind_fence``) as the transaction's last statement, then commit."""
        fence = getattr(_fences, "check", None)
        if fence is not None and not self.is_closed():
            with __exception_wrapper__:
                fence(self.cursor())
        return super().commit()


_fences = threading.local()


def bind_fence(check: Callable | None) -> None:
    """Every transaction this thread commits on PostgreSQL first calls ``check(cursor)``, which raises to
    refuse the commit (the intake of a mailbox whose lease was taken: store/leases.py)."""
    _fences.check = check


def _drop(db: Database) -> None:
    """Forget this thread's connection whatever state it is in; the next statement opens a fresh one."""
    state = db._state
    conn = state.conn
    try:
        if conn is not None:
            conn.close()
    except Exception:  # already broken: nothing to tidy
        pass
    state.reset()
    release = getattr(db, "_release_writer", None)
    if release is not None:
        release()


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

    def writer_timeout(self, seconds: float) -> None:
        """How long this thread waits for its turn (default: SQLite's busy timeout, 120 s). The LMTP intake
        waits less: a delivery that cannot be recorded soon is answered 451 and comes again."""
        self._holder.timeout = seconds

    def begin(self, lock_type=None):
        # As long as SQLite's own busy timeout: a turn that never comes is an error the caller handles.
        if not self._writer.acquire(timeout=getattr(self._holder, "timeout", BUSY_TIMEOUT_SECONDS)):
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
        except OperationalError as exc:
            # SQLite already rolled back (a COMMIT refused for a full disk does): the error that matters
            # is the one that made us roll back, so this one must not replace it.
            if "no transaction is active" not in str(exc):
                raise
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


from .migrations import MIGRATIONS, SCHEMA_VERSION, SchemaTooNew, current_version, migrate  # noqa: F401
from .models import database

# How long a writer waits for a lock held by another process before failing.
BUSY_TIMEOUT_SECONDS = 120


#: The service's PostgreSQL sessions: a transaction left idle this long (its process frozen, SIGSTOP) is ended
#: by the server, so the row locks it holds cannot keep another instance from taking over its mailboxes.
IDLE_IN_TRANSACTION_SECONDS = 5


def open_database(url: str, service: bool = False) -> Database:
    """Connect the models to the database named by ``url`` and bring its schema up to date."""
    db = make_database(url, service=service)
    database.initialize(db)
    db.connect(reuse_if_open=True)
    migrate(db)
    return db


class DatabaseMissing(RuntimeError):
    """A command that only reads found no database where the configuration says: it creates none."""


def open_existing(url: str) -> Database:
    """Connect the models to an Aftercare database that exists, for a command that must not create one.

    A missing SQLite file, or a PostgreSQL database without Aftercare's tables, is ``DatabaseMissing``
    naming where it looked (a mistyped path must not answer "no cases"); a file this user may not read, or a
    server that does not answer, is ``DatabaseUnavailable``. The schema is never changed from here: one at
    another version than this code's is refused (the service migrates it when it starts), so a command
    typed during an upgrade cannot change the tables under the daemon still running the old code.
    """
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if path not in ("", ":memory:"):
            try:
                found_file = Path(path).is_file()
                if found_file:
                    with open(path, "rb"):
                        pass
            except PermissionError:
                raise DatabaseUnavailable(f"database {path}: this user may not read it (run the command as the "
                                          "service's user: sudo -u aftercare aftercare ..., or as root)") from None
            if not found_file:
                raise DatabaseMissing(f"no Aftercare database at {path} (database.url in the configuration; "
                                      "the service creates it when it first starts)")
    db = make_database(url, create=False)
    try:
        db.connect(reuse_if_open=True)
        found = current_version(db)
    except DATABASE_ERRORS as exc:
        raise DatabaseUnavailable(describe_error(url, exc)) from exc
    if found == 0:
        db.close()
        raise DatabaseMissing(f"no Aftercare tables in {redact_url(url)} (database.url in the configuration; "
                              "the service creates them when it first starts)")
    if found != SCHEMA_VERSION:
        db.close()
        where = url[len("sqlite:///"):] if url.startswith("sqlite:///") else redact_url(url)
        if found > SCHEMA_VERSION:
            raise DatabaseMissing(f"the database {where} is at schema version {found}, newer than this Aftercare "
                                  f"({SCHEMA_VERSION}): use the Aftercare that the service runs")
        raise DatabaseMissing(f"the database {where} is at schema version {found}; this Aftercare reads version "
                              f"{SCHEMA_VERSION}: restart the service (systemctl restart aftercare), which "
                              "upgrades it, then run the command again")
    database.initialize(db)
    return db


def make_database(url: str, create: bool = True, service: bool = False) -> Database:
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):] or ":memory:"
        if path != ":memory:" and create:
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
            session=({"idle_in_transaction_session_timeout": f"{IDLE_IN_TRANSACTION_SECONDS * 1000}"}
                     if service else {}),
        )
    raise ValueError(f"unsupported database URL scheme: {url.split(':', 1)[0]}")


class AlreadyRunning(RuntimeError):
    """Another Aftercare works on this SQLite database: two would answer every customer twice."""


class InstanceGuard:
    """SQLite: one daemon per database file, for the life of the process.

    An exclusive ``flock`` on ``<file>.lock``, which the kernel drops only when the process dies. PostgreSQL
    takes any number of daemons: they share the mailboxes by lease and the outbox and timers by row locks
    (store/leases.py), so there is nothing to guard.
    """

    def __init__(self, url: str):
        self.url = url
        self._file = None
        self.held = False

    @property
    def postgresql(self) -> bool:
        return self.url.startswith(("postgresql://", "postgres://"))

    def acquire(self) -> None:
        if not self.url.startswith("sqlite:///"):
            return
        path = self.url[len("sqlite:///"):]
        if path in ("", ":memory:"):
            return
        fh = open(path + ".lock", "w")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            raise AlreadyRunning(f"another aftercare is already running on {path} (SQLite takes one daemon; "
                                 "several need PostgreSQL)") from None
        self._file = fh
        self.held = True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self.held = False


def reset_connection() -> None:
    """Drop this thread's connection after a database error; the next query opens a fresh one.

    Works even where peewee's own ``close`` refuses (a transaction it thinks is
    still open on a connection the server already dropped).
    """
    db = database.obj
    if db is not None:
        _drop(db)


def probe_write(now) -> None:
    """Write one small row and commit: raises the database's error if it cannot take writes now."""
    from .models import Setting

    with database.atomic():
        (Setting.insert(key="last_write_probe", value=now.isoformat())
         .on_conflict(conflict_target=[Setting.key], update={Setting.value: now.isoformat()}).execute())


class DatabaseUnavailable(RuntimeError):
    """The database cannot be opened or written: names the database and the cause, for people."""


def describe_error(url: str, exc: BaseException) -> str:
    """One line an operator can act on: which database (file path or redacted URL) and why."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    # A failed rollback may stand in front of the error that caused it: look down the chain.
    seen, inner = set(), exc
    while inner is not None and id(inner) not in seen:
        seen.add(id(inner))
        if "no transaction is active" not in str(inner) and "cannot rollback" not in str(inner):
            text = " ".join(str(inner).split()) or type(inner).__name__
            break
        inner = inner.__cause__ or inner.__context__
    lowered = text.lower()
    where = url[len("sqlite:///"):] if url.startswith("sqlite:///") else redact_url(url)
    causes = (
        ("database or disk is full", "the disk is full"),
        ("no space left", "the disk is full"),
        ("disk i/o error", "disk I/O error (a full disk or a failing device)"),
        ("readonly database", "the file or its folder is read-only"),
        ("read-only file system", "the file system is read-only"),
        ("unable to open database file", "the file cannot be opened (missing folder, permissions or a full disk)"),
        ("connection refused", "the server refuses connections (is it running?)"),
        ("could not connect", "the server cannot be reached"),
        ("server closed the connection", "the server closed the connection (restart or failover)"),
        ("terminating connection", "the server is shutting down or restarting"),
        ("connection already closed", "the connection was lost"),
        ("the database system is", "the server is starting up or shutting down"),
        ("database is locked", "another process keeps the database locked"),
    )
    cause = next((c for fragment, c in causes if fragment in lowered), None)
    return f"database {where}: {cause} ({text})" if cause else f"database {where}: {text}"


def redact_url(url: str) -> str:
    u = urlparse(url)
    if u.password:
        return url.replace(f":{u.password}@", ":********@", 1)
    return url

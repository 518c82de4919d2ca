"""``aftercare check-config``'s look at the database: is it there, does it answer, which schema does it hold.

Read only, by design: a check creates no file, no folder, no database and no table, and migrates nothing,
so running it before the first start (or against the live service) changes nothing. What the service will
do at start (create the file, create the tables, migrate) is said, not done.
"""
from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

from peewee import PeeweeException, PostgresqlDatabase, SqliteDatabase

from .store.database import describe_error, redact_url
from .store.migrations import SCHEMA_VERSION, current_version


@dataclass
class DatabaseFindings:
    """What the check found: ``lines`` to show, ``warnings`` worth a look, ``problems`` that stop the service."""

    lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_database(url: str, timeout: float = 5) -> DatabaseFindings:
    """Check the database ``url`` names without changing anything; a server gets ``timeout`` seconds."""
    if url.startswith("sqlite:///"):
        return _check_sqlite(url[len("sqlite:///"):], timeout)
    if url.startswith(("postgresql://", "postgres://")):
        return _check_postgresql(url, timeout)
    return DatabaseFindings(problems=[f"database.url must start with sqlite:/// or postgresql://, got {url!r}"])


def _check_sqlite(path: str, timeout: float) -> DatabaseFindings:
    found = DatabaseFindings()
    if path in ("", ":memory:"):
        found.lines.append("database: SQLite in memory: nothing is kept when the service stops")
        return found
    file = Path(path)
    if not file.exists():
        found.lines.append(f"database: SQLite {file} will be created at first start (schema version {SCHEMA_VERSION})")
        folder = file.parent
        nearest = folder if folder.is_dir() else next((p for p in folder.parents if p.is_dir()), None)
        creates = "" if nearest == folder else f" will be created too: {nearest}"
        if nearest is not None and os.access(nearest, os.W_OK | os.X_OK):
            found.lines.append(f"  its folder {folder}{creates} is writable by {_user()}")
        else:
            found.warnings.append(f"database: the folder {folder}{creates} is not writable by {_user()}: the "
                                  "service's user must be able to write there (systemd's StateDirectory= does that)")
        return found
    if not file.is_file():
        found.problems.append(f"database: {file} is not a file (database.url names a SQLite file)")
        return found
    # Read only, and no -wal or -shm file made by the check: made by root for a service running as another user,
    # they would keep the service out. Without both, no process has the database open and everything written
    # is in the file itself, which can then be read as it lies (immutable: no locks, no side files).
    side = all(Path(f"{file}{suffix}").exists() for suffix in ("-wal", "-shm"))
    db = SqliteDatabase(f"file:{quote(str(file))}?mode=ro{'' if side else '&immutable=1'}", uri=True,
                        timeout=timeout)
    try:
        db.connect()
        version = current_version(db)
    except (PeeweeException, OSError) as exc:
        found.problems.append(describe_error(f"sqlite:///{file}", exc))
        return found
    finally:
        db.close()
    found.lines.append(f"database: SQLite {file}, {_schema(version, found)}")
    if not os.access(file, os.W_OK):
        found.warnings.append(f"database: {file} is not writable by {_user()}: the service's user must be able "
                              "to write it")
    return found


def _check_postgresql(url: str, timeout: float) -> DatabaseFindings:
    found = DatabaseFindings()
    shown = redact_url(url)
    if importlib.util.find_spec("psycopg2") is None:
        found.problems.append("database: PostgreSQL needs its driver, which is not installed: "
                              "pip install 'aftercare[postgresql]' (or Debian's python3-psycopg2)")
        return found
    u = urlparse(url)
    name = unquote(u.path.lstrip("/"))
    db = PostgresqlDatabase(name, host=u.hostname or None, port=u.port or None,
                            user=unquote(u.username) if u.username else None,
                            password=unquote(u.password) if u.password else None,
                            connect_timeout=max(1, round(timeout)), application_name="aftercare check-config")
    try:
        db.connect()
        version = current_version(db)
    except PeeweeException as exc:
        text = " ".join(str(exc).split())
        if "does not exist" in text and f'database "{name}"' in text:
            found.problems.append(f'database: {shown}: the database "{name}" does not exist on the server: create '
                                  f"it (createdb {name}); the service makes its tables, not the database")
        else:
            found.problems.append(describe_error(url, exc))
        return found
    finally:
        db.close()
    found.lines.append(f"database: PostgreSQL {shown} answers; {_schema(version, found)}")
    return found


def _schema(version: int, found: DatabaseFindings) -> str:
    """The schema version in words, noting a problem when this code cannot use it."""
    if version == 0:
        return f"no Aftercare tables yet: the service creates them at first start (schema version {SCHEMA_VERSION})"
    if version < SCHEMA_VERSION:
        return f"schema version {version}: a migration from v{version} to v{SCHEMA_VERSION} will run at start"
    if version > SCHEMA_VERSION:
        found.problems.append(f"database: schema version {version} is newer than this Aftercare knows "
                              f"({SCHEMA_VERSION}): a newer release wrote it; upgrade Aftercare")
        return f"schema version {version} (newer than this Aftercare)"
    return f"schema version {version} (current)"


def _user() -> str:
    import pwd
    try:
        return f"user {pwd.getpwuid(os.geteuid()).pw_name}"
    except KeyError:
        return f"uid {os.geteuid()}"

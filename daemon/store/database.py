"""Opening SQLite or PostgreSQL from the configured URL, and the schema's migrations.

The schema carries a version number from the first release; each migration is a
function applied once, in order, inside a transaction.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlparse

from peewee import Database, PostgresqlDatabase, SqliteDatabase

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
        return SqliteDatabase(
            path,
            timeout=BUSY_TIMEOUT_SECONDS,
            lock_type="IMMEDIATE",
            pragmas={
                "journal_mode": "wal",
                "foreign_keys": 1,
                "busy_timeout": BUSY_TIMEOUT_SECONDS * 1000,
                "synchronous": "normal",
            },
        )
    if url.startswith(("postgresql://", "postgres://")):
        u = urlparse(url)
        return PostgresqlDatabase(
            unquote(u.path.lstrip("/")),
            host=u.hostname or None,
            port=u.port or None,
            user=unquote(u.username) if u.username else None,
            password=unquote(u.password) if u.password else None,
        )
    raise ValueError(f"unsupported database URL scheme: {url.split(':', 1)[0]}")


def redact_url(url: str) -> str:
    u = urlparse(url)
    if u.password:
        return url.replace(f":{u.password}@", ":********@", 1)
    return url


def _v1(db: Database) -> None:
    db.create_tables(ALL_MODELS)


# Index i holds the migration that brings the schema to version i + 1.
MIGRATIONS: list[Callable[[Database], None]] = [_v1]
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

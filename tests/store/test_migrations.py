"""The schema's versions, one explicit step each: SQLite and PostgreSQL.

A fresh database goes through every step and must end up exactly where ``create_tables`` of today's
models would put it; a database at version N gets exactly the steps after N, and keeps its rows.
"""
from __future__ import annotations

import threading
from datetime import datetime

import pytest
from peewee import SqliteDatabase

from aftercare.store import migrations
from aftercare.store.database import SCHEMA_VERSION, current_version, make_database, migrate
from aftercare.store.models import ALL_MODELS, Case, Message, database
from server_fixtures import fresh_postgres_database

NOW = datetime(2026, 3, 2, 9, 0)


def schema_of(db) -> dict:
    """Every table's columns (type, nullability, default), indexes and constraints, as the database reports them."""
    out: dict = {}
    if isinstance(db, SqliteDatabase):
        tables = [r[0] for r in db.execute_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        for t in tables:
            columns = {r[1]: {"type": r[2], "not_null": bool(r[3]), "default": r[4], "pk": r[5]}
                       for r in db.execute_sql(f'PRAGMA table_info("{t}")')}
            indexes = {}
            for _, name, unique, origin, _partial in db.execute_sql(f'PRAGMA index_list("{t}")').fetchall():
                cols = tuple(r[2] for r in db.execute_sql(f'PRAGMA index_info("{name}")'))
                indexes[name] = {"unique": bool(unique), "origin": origin, "columns": cols}
            fks = sorted((r[2], r[3], r[4], r[5], r[6]) for r in db.execute_sql(f'PRAGMA foreign_key_list("{t}")'))
            out[t] = {"columns": columns, "indexes": indexes, "foreign_keys": fks}
        return out
    for t, c, typ, length, nullable, default in db.execute_sql(
            "SELECT table_name, column_name, data_type, character_maximum_length, is_nullable, column_default "
            "FROM information_schema.columns WHERE table_schema = 'public'"):
        table = out.setdefault(t, {"columns": {}, "indexes": {}, "constraints": {}})
        table["columns"][c] = {"type": typ, "length": length, "nullable": nullable, "default": default}
    for t, name, definition in db.execute_sql(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"):
        out[t]["indexes"][name] = definition
    for t, name, kind, definition in db.execute_sql(
            "SELECT cl.relname, co.conname, co.contype, pg_get_constraintdef(co.oid) FROM pg_constraint co "
            "JOIN pg_class cl ON cl.oid = co.conrelid JOIN pg_namespace ns ON ns.oid = cl.relnamespace "
            "WHERE ns.nspname = 'public'"):
        out[t]["constraints"][name] = (kind, definition)
    return out


def made_by_create_tables(url: str) -> dict:
    """The schema ``create_tables`` of today's models makes on an empty database."""
    db = make_database(url)
    try:
        with db.bind_ctx(ALL_MODELS):
            db.create_tables(ALL_MODELS)
        return schema_of(db)
    finally:
        db.close()


@pytest.fixture
def other_url(database_url, tmp_path):
    """A second empty database of the same kind as ``database_url``."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/other.db"
        return
    with fresh_postgres_database("aftercare_other") as url:
        yield url


@pytest.fixture
def raw(database_url):
    """The database, connected but not migrated, with the models bound to it."""
    db = make_database(database_url)
    database.initialize(db)
    yield db
    db.close()
    database.initialize(None)


@pytest.fixture
def steps_run(monkeypatch):
    """Which steps ``migrate`` runs, in order."""
    ran: list[int] = []

    def recorded(version, step):
        def run(db):
            ran.append(version)
            step(db)
        return run

    wrapped = [recorded(i, step) for i, step in enumerate(migrations.MIGRATIONS, start=1)]
    monkeypatch.setattr(migrations, "MIGRATIONS", wrapped)
    return ran


def test_a_fresh_database_goes_through_every_step_to_exactly_what_create_tables_makes(raw, other_url):
    assert migrate(raw) == SCHEMA_VERSION == 11
    migrated = schema_of(raw)
    expected = made_by_create_tables(other_url)
    assert set(migrated) == set(expected) == {m._meta.table_name for m in ALL_MODELS}
    for table in expected:  # one table at a time, so a difference names its table
        assert migrated[table] == expected[table], table
    # The claims of version 4, as today's models have them.
    assert migrated["message"]["columns"]["claimed_by"] == expected["message"]["columns"]["claimed_by"]
    assert not any(c["default"] for t in migrated.values() for name, c in t["columns"].items() if name != "id")


def test_each_version_is_one_step_run_once_in_order(raw, steps_run):
    assert current_version(raw) == 0
    assert migrate(raw, target=1) == 1 and steps_run == [1]
    assert set(schema_of(raw)) == {"schema_version", "setting", "mailbox_state", "case", "message",
                                   "inbound_failure"}
    assert migrate(raw, target=3) == 3 and steps_run == [1, 2, 3]
    assert "claimed_by" not in schema_of(raw)["message"]["columns"]
    assert migrate(raw) == SCHEMA_VERSION and steps_run == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert migrate(raw) == SCHEMA_VERSION and migrate(raw, target=2) == SCHEMA_VERSION  # never back
    assert steps_run == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] and current_version(raw) == SCHEMA_VERSION
    assert raw.execute_sql('SELECT COUNT(*) FROM "schema_version"').fetchone()[0] == 1
    with pytest.raises(ValueError):
        migrate(raw, target=SCHEMA_VERSION + 1)


def test_every_step_has_a_docstring_saying_what_it_changes():
    for version, step in enumerate(migrations.MIGRATIONS, start=1):
        assert step.__doc__ and step.__doc__.startswith(f"Version {version}"), step.__name__


def test_an_upgrade_from_version_1_keeps_every_row_backfills_new_columns_and_keeps_foreign_keys(raw):
    migrate(raw, target=1)
    p = raw.param
    raw.execute_sql('INSERT INTO "case" ("status", "customer_address", "customer_name", "subject", "owner", '
                    f'"created_at", "updated_at") VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})',
                    ("open", "maria@example.net", "Maria", "Broken kettle", "jane@example.com", NOW, NOW))
    for n in (1, 2):
        raw.execute_sql(
            'INSERT INTO "message" ("case_id", "direction", "kind", "message_id", "fingerprint", "from_address", '
            '"to", "recipient", "subject", "text", "attachments", "note", "created_at", "status", "raw", '
            f'"automated", "attempts", "next_attempt_at", "last_error") VALUES ({", ".join([p] * 19)})',
            (1, "out", "acknowledgment", f"m{n}@example.com", None, "", "[]", "maria@example.net", "Re", "Thanks",
             "[]", "", NOW, "pending", "raw", True, 0, NOW, ""))
    assert migrate(raw) == SCHEMA_VERSION  # on SQLite, rebuilding "case" must not cascade to its messages
    case = Case.get_by_id(1)
    assert (case.status, case.customer_address, case.created_at) == ("open", "maria@example.net", NOW)
    assert (case.cause, case.extra, case.reopened_count) == ("", "", 0)
    assert (case.rating_comment, case.discount_code, case.apology_sent, case.rating_score) == ("", "", False, None)
    rows = list(Message.select().order_by(Message.id))
    assert [(m.message_id, m.status, m.claimed_by, m.claim_until) for m in rows] == [
        ("m1@example.com", "pending", None, None), ("m2@example.com", "pending", None, None)]
    if isinstance(raw, SqliteDatabase):
        assert raw.pragma("foreign_keys") == 1
        assert raw.execute_sql("PRAGMA foreign_key_check").fetchall() == []
    # The foreign keys still hold after the rebuild: deleting the case takes its messages along.
    Case.delete().where(Case.id == 1).execute()
    assert Message.select().count() == 0


def test_sqlite_will_not_migrate_inside_a_transaction_where_foreign_keys_cannot_be_switched_off(tmp_path):
    raw = make_database(f"sqlite:///{tmp_path}/aftercare.db")
    with pytest.raises(RuntimeError, match="inside a transaction"):
        with raw.atomic():
            migrate(raw)
    assert current_version(raw) == 0 and not raw.table_exists("case")
    assert raw.pragma("foreign_keys") == 1
    raw.close()


def test_two_processes_opening_one_new_postgresql_database_at_once_migrate_it_once(postgres_url):
    # (On SQLite, BEGIN IMMEDIATE lets one writer in at a time already.)
    database_url = postgres_url
    start = threading.Barrier(2)
    results: list = []

    def open_it():
        db = make_database(database_url)
        try:
            start.wait()
            results.append(migrate(db))
        except Exception as exc:  # noqa: BLE001 - the test reports it
            results.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=open_it) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == [SCHEMA_VERSION, SCHEMA_VERSION]
    db = make_database(database_url)
    assert db.execute_sql('SELECT "version" FROM "schema_version"').fetchall() == [(SCHEMA_VERSION,)]
    db.close()

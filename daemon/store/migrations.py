"""The schema's history: one explicit step per version, each applied once, in order.

A database records the version its schema is at (table ``schema_version``).
Opening it runs exactly the steps after that version, all in one transaction:
either the database reaches the latest version or it stays where it was. A
database at a version newer than this code is refused (``SchemaTooNew``).

Each step says what it changes, in the DDL it runs: new tables as explicit SQL
(``_ddl`` puts in each dialect's words for a key, a big integer, a boolean and
a time), changes to existing tables as ``playhouse.migrate`` operations (add,
rename, backfill). A step never looks at the current models: they say what
the code wants today, a step says what happened at one release, and must keep
saying it after the models change again. A new version is a new function at
the end of ``MIGRATIONS``; a released step is never edited.

=======  =========  =====================================================
Version  Release    What changed
=======  =========  =====================================================
1        (before)   cases, messages (the outbox), intake state, settings
2        (before)   plan steps and timers; case cause, extra, reopen count
3        0.1.0      check-in, rating, discount codes, apology
4        (after)    outbox claims name their holder and expire
5        (after)    several mailboxes: the case's mailbox, the mailbox an email goes out by
6        (after)    attachment bytes, stored once each
7        (after)    what each part of the service last did (status), and what operators did to a case
8        (after)    a reopened case's owed answer; the customer's language; tone and priority
9        (after)    raw messages received by LMTP (no IMAP copy exists)
10       (after)    several instances: each instance's heartbeat, and a lease per mailbox
11       (after)    a customer's data erased on request: when, on the case; a record of each erasure
=======  =========  =====================================================

A fresh database goes through every step and ends with exactly the tables,
columns, types, nullability, defaults (none in the DDL: defaults are the
models' business) and indexes that ``create_tables`` of the current models
makes; ``tests/store/test_migrations.py`` holds the two side by side, and
``tests/store/test_upgrade.py`` upgrades databases that release 0.1.0 made.

SQLite cannot add a NOT NULL column without a default in the DDL, so
``add_column`` rebuilds the table there (copy, drop, rename). Foreign keys are
switched off for the whole migration, outside its transaction (SQLite ignores
the switch inside one), or dropping the old ``case`` table would cascade to
every message; ``PRAGMA foreign_key_check`` must find nothing before commit.
On PostgreSQL the migration holds a transaction-level advisory lock, so two
processes opening one database at once migrate it once.
"""
from __future__ import annotations

from typing import Callable

from peewee import (
    BooleanField,
    CharField,
    Database,
    DateTimeField,
    IntegerField,
    PostgresqlDatabase,
    SqliteDatabase,
    TextField,
)
from playhouse.migrate import SchemaMigrator
from playhouse.migrate import migrate as run_operations

# Each dialect's words for what peewee's fields make: ``create_tables`` writes the same.
_TYPES = {
    "sqlite": {"pk": "INTEGER NOT NULL PRIMARY KEY", "bigint": "INTEGER", "bool": "INTEGER", "time": "DATETIME",
               "blob": "BLOB"},
    "postgresql": {"pk": "SERIAL NOT NULL PRIMARY KEY", "bigint": "BIGINT", "bool": "BOOLEAN", "time": "TIMESTAMP",
                   "blob": "BYTEA"},
}

#: PostgreSQL advisory lock held (per transaction) while migrating: "Aftm". Not the instance guard's key.
_MIGRATION_LOCK_KEY = 0x4166746D


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer Aftercare than this one: it is not touched."""


def dialect(db: Database) -> str:
    if isinstance(db, PostgresqlDatabase):
        return "postgresql"
    if isinstance(db, SqliteDatabase):
        return "sqlite"
    raise ValueError(f"no migrations for {type(db).__name__}")


def _ddl(db: Database, *statements: str) -> None:
    """Run explicit DDL, with {pk}, {bigint}, {bool} and {time} in the database's own words."""
    words = _TYPES[dialect(db)]
    for statement in statements:
        db.execute_sql(statement.format(**words))


def _alter(db: Database, build: Callable[[SchemaMigrator], list]) -> None:
    """Run playhouse.migrate operations (add_column backfills its default, then sets NOT NULL)."""
    run_operations(*build(SchemaMigrator.from_database(db)))


# --- the steps ---------------------------------------------------------------------------------


def v1_cases_and_messages(db: Database) -> None:
    """Version 1: the first tables.

    ``schema_version``; ``setting`` (key, value); ``mailbox_state`` (how far intake read a folder,
    unique name); ``case`` (status, customer, subject, owner, times; indexed by status and customer);
    ``message`` (every email in and out, the outbox too: unique fingerprint, indexed by Message-ID,
    by case, by status and retry time, by recipient for the loop limit); ``inbound_failure`` (failed
    attempts per mailbox message, unique per mailbox, UIDVALIDITY and UID).
    """
    _ddl(
        db,
        'CREATE TABLE "schema_version" ("id" {pk}, "version" INTEGER NOT NULL)',
        'CREATE TABLE "setting" ("key" VARCHAR(100) NOT NULL PRIMARY KEY, "value" TEXT NOT NULL)',
        'CREATE TABLE "mailbox_state" ("id" {pk}, "name" VARCHAR(500) NOT NULL, "uidvalidity" {bigint} NOT NULL, '
        '"last_uid" {bigint} NOT NULL)',
        'CREATE UNIQUE INDEX "mailbox_state_name" ON "mailbox_state" ("name")',
        'CREATE TABLE "case" ("id" {pk}, "status" VARCHAR(20) NOT NULL, "customer_address" VARCHAR(320) NOT NULL, '
        '"customer_name" VARCHAR(200) NOT NULL, "subject" TEXT NOT NULL, "owner" VARCHAR(320) NOT NULL, '
        '"created_at" {time} NOT NULL, "updated_at" {time} NOT NULL, "first_response_due_at" {time}, '
        '"first_response_at" {time}, "resolved_at" {time}, "closed_at" {time})',
        'CREATE INDEX "case_status" ON "case" ("status")',
        'CREATE INDEX "case_customer_address" ON "case" ("customer_address")',
        'CREATE TABLE "message" ("id" {pk}, "case_id" INTEGER, "direction" VARCHAR(3) NOT NULL, '
        '"kind" VARCHAR(40) NOT NULL, "message_id" VARCHAR(998), "fingerprint" VARCHAR(998), '
        '"from_address" VARCHAR(320) NOT NULL, "to" TEXT NOT NULL, "recipient" VARCHAR(320) NOT NULL, '
        '"subject" TEXT NOT NULL, "text" TEXT NOT NULL, "attachments" TEXT NOT NULL, "note" TEXT NOT NULL, '
        '"created_at" {time} NOT NULL, "status" VARCHAR(10), "raw" TEXT, "automated" {bool} NOT NULL, '
        '"attempts" INTEGER NOT NULL, "next_attempt_at" {time}, "last_error" TEXT NOT NULL, "sent_at" {time}, '
        'FOREIGN KEY ("case_id") REFERENCES "case" ("id") ON DELETE CASCADE)',
        'CREATE INDEX "message_case_id" ON "message" ("case_id")',
        'CREATE INDEX "message_message_id" ON "message" ("message_id")',
        'CREATE UNIQUE INDEX "message_fingerprint" ON "message" ("fingerprint")',
        'CREATE INDEX "message_status_next_attempt_at" ON "message" ("status", "next_attempt_at")',
        'CREATE INDEX "message_recipient_automated_created_at" ON "message" ("recipient", "automated", "created_at")',
        'CREATE TABLE "inbound_failure" ("id" {pk}, "mailbox" VARCHAR(500) NOT NULL, "uidvalidity" {bigint} NOT NULL, '
        '"uid" {bigint} NOT NULL, "attempts" INTEGER NOT NULL, "last_error" TEXT NOT NULL, '
        '"updated_at" {time} NOT NULL)',
        'CREATE UNIQUE INDEX "inbound_failure_mailbox_uidvalidity_uid" ON "inbound_failure" '
        '("mailbox", "uidvalidity", "uid")',
    )


def v2_plan_steps_and_timers(db: Database) -> None:
    """Version 2: the remedy plan and its timers; what staff say about a case.

    New tables ``plan_step`` (case, number unique within the case, text, due, done, created) and
    ``timer`` (case, kind, optional step, due, state, fired; indexed by state and due time), both
    deleted with their case. New NOT NULL columns on ``case``, existing rows backfilled: ``cause``
    TEXT ('' = none given), ``extra`` VARCHAR(20) ('' = the configured default), ``reopened_count``
    INTEGER (0).
    """
    _ddl(
        db,
        'CREATE TABLE "plan_step" ("id" {pk}, "case_id" INTEGER NOT NULL, "number" INTEGER NOT NULL, '
        '"text" TEXT NOT NULL, "due_at" {time} NOT NULL, "done_at" {time}, "created_at" {time} NOT NULL, '
        'FOREIGN KEY ("case_id") REFERENCES "case" ("id") ON DELETE CASCADE)',
        'CREATE INDEX "plan_step_case_id" ON "plan_step" ("case_id")',
        'CREATE UNIQUE INDEX "plan_step_case_id_number" ON "plan_step" ("case_id", "number")',
        'CREATE TABLE "timer" ("id" {pk}, "case_id" INTEGER NOT NULL, "kind" VARCHAR(40) NOT NULL, '
        '"step_id" INTEGER, "due_at" {time} NOT NULL, "state" VARCHAR(10) NOT NULL, "fired_at" {time}, '
        'FOREIGN KEY ("case_id") REFERENCES "case" ("id") ON DELETE CASCADE, '
        'FOREIGN KEY ("step_id") REFERENCES "plan_step" ("id") ON DELETE CASCADE)',
        'CREATE INDEX "timer_case_id" ON "timer" ("case_id")',
        'CREATE INDEX "timer_step_id" ON "timer" ("step_id")',
        'CREATE INDEX "timer_state_due_at" ON "timer" ("state", "due_at")',
    )
    _alter(db, lambda m: [
        m.add_column("case", "cause", TextField(default="")),
        m.add_column("case", "extra", CharField(max_length=20, default="")),
        m.add_column("case", "reopened_count", IntegerField(default=0)),
    ])


def v3_checkin_ratings_discounts(db: Database) -> None:
    """Version 3 (release 0.1.0): the satisfaction check-in and what it carries.

    New table ``discount_code`` (unique code, the case it went to or NULL, SET NULL when the case is
    deleted; issued, added; indexed by case and issue time). New columns on ``case``: nullable
    ``checkin_sent_at``, ``rating_score`` INTEGER, ``rated_at``; NOT NULL, existing rows backfilled:
    ``rating_comment`` TEXT (''), ``discount_code`` VARCHAR(200) (''), ``apology_sent`` boolean (false).
    """
    _ddl(
        db,
        'CREATE TABLE "discount_code" ("id" {pk}, "code" VARCHAR(200) NOT NULL, "case_id" INTEGER, '
        '"issued_at" {time}, "added_at" {time} NOT NULL, '
        'FOREIGN KEY ("case_id") REFERENCES "case" ("id") ON DELETE SET NULL)',
        'CREATE UNIQUE INDEX "discount_code_code" ON "discount_code" ("code")',
        'CREATE INDEX "discount_code_case_id" ON "discount_code" ("case_id")',
        'CREATE INDEX "discount_code_issued_at" ON "discount_code" ("issued_at")',
    )
    _alter(db, lambda m: [
        m.add_column("case", "checkin_sent_at", DateTimeField(null=True)),
        m.add_column("case", "rating_score", IntegerField(null=True)),
        m.add_column("case", "rating_comment", TextField(default="")),
        m.add_column("case", "rated_at", DateTimeField(null=True)),
        m.add_column("case", "discount_code", CharField(max_length=200, default="")),
        m.add_column("case", "apology_sent", BooleanField(default=False)),
    ])


def v4_outbox_claim_holders(db: Database) -> None:
    """Version 4: an outbox claim names its holder and expires.

    New nullable columns on ``message``: ``claimed_by`` VARCHAR(200) (``host:pid:tag`` of the process
    sending the row) and ``claim_until`` (when the claim lapses unless renewed). Nothing to backfill:
    a row an older release left in ``sending`` has no holder, and ``outbox.rescue_claims`` gives
    such rows back to ``pending`` at start-up, to be sent with their stored Message-ID.
    """
    _alter(db, lambda m: [
        m.add_column("message", "claimed_by", CharField(max_length=200, null=True)),
        m.add_column("message", "claim_until", DateTimeField(null=True)),
    ])


def v5_several_mailboxes(db: Database) -> None:
    """Version 5: several mailboxes.

    New columns on ``case``: ``mailbox`` VARCHAR(100) NOT NULL (the name of the mailbox its complaint
    came in by; existing rows backfilled with 'default', the name a single [mailbox] has), indexed, and
    ``mailbox_address`` VARCHAR(320) NOT NULL ('' for existing rows: the configured address then), the
    address its emails go From even after the mailbox is removed from the configuration. New nullable
    column on ``message``: ``mailbox`` VARCHAR(100), the mailbox whose address and SMTP server an
    outgoing email uses (NULL for received mail and for rows older releases stored: the default).
    """
    _alter(db, lambda m: [
        m.add_column("case", "mailbox", CharField(max_length=100, default="default")),
        m.add_column("case", "mailbox_address", CharField(max_length=320, default="")),
        m.add_column("message", "mailbox", CharField(max_length=100, null=True)),
        m.add_index("case", ("mailbox",), False),
    ])


def v6_attachment_files(db: Database) -> None:
    """Version 6: attachments both ways.

    New table ``attachment_file``: the bytes of each distinct file a customer or a staff member sent,
    once, named by their SHA-256 (``sha256`` VARCHAR(64) primary key, ``data`` BLOB/BYTEA, ``size``
    INTEGER, ``created_at``). Received messages list their files (with the hash) in the existing
    ``message.attachments`` JSON; an outgoing email's ``raw`` names a file's hash where its body goes
    (``store/files.py``), so an attachment relayed to several people is stored once.
    """
    _ddl(
        db,
        'CREATE TABLE "attachment_file" ("sha256" VARCHAR(64) NOT NULL PRIMARY KEY, "data" {blob} NOT NULL, '
        '"size" INTEGER NOT NULL, "created_at" {time} NOT NULL)',
    )


def v7_service_state_and_case_events(db: Database) -> None:
    """Version 7: what an operator sees.

    New table ``component_state``: one row per part of the running service (``daemon``, ``mailbox:<name>``,
    ``smtp:<name>``), written by the daemon as it works and read by ``aftercare status`` and the metrics
    endpoint with the daemon stopped or running: ``name`` VARCHAR(200) primary key, ``ok`` boolean, ``error``
    TEXT, ``error_kind`` VARCHAR(20) (transient, permanent), ``failing_since``, ``last_ok_at``,
    ``updated_at``, ``info`` TEXT (JSON: the daemon's version, host and pid...).

    New table ``case_event``: what was done to a case from outside its emails (an email retried or
    cancelled from the command line, ...): ``case_id`` (cascade), ``created_at``, ``actor``, ``action``,
    ``detail``.
    """
    _ddl(
        db,
        'CREATE TABLE "component_state" ("name" VARCHAR(200) NOT NULL PRIMARY KEY, "ok" {bool} NOT NULL, '
        '"error" TEXT NOT NULL, "error_kind" VARCHAR(20) NOT NULL, "failing_since" {time}, "last_ok_at" {time}, '
        '"updated_at" {time} NOT NULL, "info" TEXT NOT NULL)',
        'CREATE TABLE "case_event" ("id" {pk}, "case_id" INTEGER NOT NULL, "created_at" {time} NOT NULL, '
        '"actor" VARCHAR(200) NOT NULL, "action" VARCHAR(40) NOT NULL, "detail" TEXT NOT NULL, '
        'FOREIGN KEY ("case_id") REFERENCES "case" ("id") ON DELETE CASCADE)',
        'CREATE INDEX "case_event_case_id" ON "case_event" ("case_id")',
    )


def v8_answers_language_tone(db: Database) -> None:
    """Version 8: what a case owes and how its customer writes.

    New columns on ``case``: ``answer_due_at`` (nullable: when a reopened case owes the customer an
    answer; cleared by the answer, by resolving or closing), ``language`` VARCHAR(8) NOT NULL (ISO 639-1
    code the customer is written to in; '' for existing rows: the configured default), ``priority``
    VARCHAR(10) NOT NULL ('normal' for existing rows, or 'urgent'). New columns on ``message``: ``tone``
    VARCHAR(10) NOT NULL ('' for existing rows and outgoing mail; calm, upset, angry, abusive for a
    customer's message) and ``tone_signals`` TEXT NOT NULL (JSON list of what was found; '[]').
    """
    _alter(db, lambda m: [
        m.add_column("case", "answer_due_at", DateTimeField(null=True)),
        m.add_column("case", "language", CharField(max_length=8, default="")),
        m.add_column("case", "priority", CharField(max_length=10, default="normal")),
        m.add_column("message", "tone", CharField(max_length=10, default="")),
        m.add_column("message", "tone_signals", TextField(default="[]")),
    ])


def v9_raw_messages(db: Database) -> None:
    """Version 9: mail delivered by LMTP has no copy in any mailbox, so its bytes are kept here.

    New table ``raw_message``: ``id``; ``message_id`` (nullable, cascade: the received ``message`` row it
    became; NULL for a message that could not be processed), ``fingerprint`` VARCHAR(998) unique (the
    intake's dedupe key: a retried delivery stores nothing new), ``inbox`` VARCHAR(100), ``recipients``
    TEXT (JSON list), ``received_at``, ``data`` BLOB/BYTEA, ``size`` INTEGER, ``quarantined`` TEXT (why it
    could not be processed; '' when it was).
    """
    _ddl(
        db,
        'CREATE TABLE "raw_message" ("id" {pk}, "message_id" INTEGER, "fingerprint" VARCHAR(998) NOT NULL, '
        '"inbox" VARCHAR(100) NOT NULL, "recipients" TEXT NOT NULL, "received_at" {time} NOT NULL, '
        '"data" {blob} NOT NULL, "size" INTEGER NOT NULL, "quarantined" TEXT NOT NULL, '
        'FOREIGN KEY ("message_id") REFERENCES "message" ("id") ON DELETE CASCADE)',
        'CREATE UNIQUE INDEX "raw_message_fingerprint" ON "raw_message" ("fingerprint")',
        'CREATE INDEX "raw_message_message_id" ON "raw_message" ("message_id")',
    )


def v10_instances_and_mailbox_leases(db: Database) -> None:
    """Version 10: several daemons on one PostgreSQL database.

    New table ``instance``: one row per running daemon: ``id`` VARCHAR(200) primary key (``host:pid:tag``, the
    name its outbox claims carry), ``label`` VARCHAR(200) (``host:pid``), ``started_at``, ``heartbeat_at``
    (database time), ``info`` TEXT (JSON: version, problems). New table ``mailbox_lease``: which instance
    watches a mailbox: ``mailbox`` VARCHAR(100) primary key (the mailbox's name), ``holder`` VARCHAR(200)
    (NULL: free), ``epoch`` BIGINT (the fencing token: one more at every take), ``held_since``,
    ``expires_at`` (database time).
    """
    _ddl(
        db,
        'CREATE TABLE "instance" ("id" VARCHAR(200) NOT NULL PRIMARY KEY, "label" VARCHAR(200) NOT NULL, '
        '"started_at" {time} NOT NULL, "heartbeat_at" {time} NOT NULL, "info" TEXT NOT NULL)',
        'CREATE TABLE "mailbox_lease" ("mailbox" VARCHAR(100) NOT NULL PRIMARY KEY, "holder" VARCHAR(200), '
        '"epoch" {bigint} NOT NULL, "held_since" {time}, "expires_at" {time} NOT NULL)',
    )


def v11_erasures(db: Database) -> None:
    """Version 11: a customer's data erased on request (``aftercare customer erase``).

    New column on ``case``: ``erased_at`` (nullable: when its customer's data was erased; such a case keeps its
    times, counts, rating score and root cause for the report, and no mail is ever threaded to it again). New
    table ``erasure``: one row per erasure, with nothing of the erased data: ``id``, ``erased_at``, ``actor``
    VARCHAR(200) (who ran it: $SUDO_USER or $USER), and how many ``cases``, ``messages``, ``attachments``,
    ``raw_messages`` and ``folder_messages`` (in the mailbox folders) were erased.
    """
    _alter(db, lambda m: [m.add_column("case", "erased_at", DateTimeField(null=True))])
    _ddl(
        db,
        'CREATE TABLE "erasure" ("id" {pk}, "erased_at" {time} NOT NULL, "actor" VARCHAR(200) NOT NULL, '
        '"cases" INTEGER NOT NULL, "messages" INTEGER NOT NULL, "attachments" INTEGER NOT NULL, '
        '"raw_messages" INTEGER NOT NULL, "folder_messages" INTEGER NOT NULL)',
    )


# Index i holds the step that brings the schema to version i + 1.
MIGRATIONS: list[Callable[[Database], None]] = [
    v1_cases_and_messages,
    v2_plan_steps_and_timers,
    v3_checkin_ratings_discounts,
    v4_outbox_claim_holders,
    v5_several_mailboxes,
    v6_attachment_files,
    v7_service_state_and_case_events,
    v8_answers_language_tone,
    v9_raw_messages,
    v10_instances_and_mailbox_leases,
    v11_erasures,
]
SCHEMA_VERSION = len(MIGRATIONS)


# --- running them ------------------------------------------------------------------------------


def current_version(db: Database) -> int:
    """The version the database's schema is at; 0 for an empty database."""
    if not db.table_exists("schema_version"):
        return 0
    row = db.execute_sql('SELECT MAX("version") FROM "schema_version"').fetchone()
    return row[0] if row and row[0] is not None else 0


def _refuse_newer(version: int) -> None:
    if version > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"the database is at schema version {version}, newer than this Aftercare "
            f"({SCHEMA_VERSION}); upgrade Aftercare"
        )


def _set_version(db: Database, version: int) -> None:
    db.execute_sql('DELETE FROM "schema_version"')
    db.execute_sql(f'INSERT INTO "schema_version" ("version") VALUES ({db.param})', (version,))


def migrate(db: Database, target: int | None = None) -> int:
    """Apply the steps after the database's version, up to ``target`` (default: the latest), in one
    transaction; return the version the database is at. Refuses a database newer than this code.
    """
    target = SCHEMA_VERSION if target is None else target
    if not 0 <= target <= SCHEMA_VERSION:
        raise ValueError(f"no schema version {target} (this Aftercare knows 1 to {SCHEMA_VERSION})")
    version = current_version(db)
    _refuse_newer(version)
    if version >= target:
        return version  # nothing to do: no write lock taken, no pragma touched
    kind = dialect(db)
    with SchemaMigrator.from_database(db).migration_context():  # SQLite: foreign keys off, then one transaction
        if kind == "sqlite" and db.pragma("foreign_keys"):
            # Only possible when called inside a transaction: a table rebuild would cascade-delete.
            raise RuntimeError("cannot migrate a SQLite database inside a transaction (foreign keys stay on)")
        if kind == "postgresql":
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK_KEY,))
        version = current_version(db)  # again, now that this process has the database to itself
        _refuse_newer(version)
        for step in range(version + 1, target + 1):
            MIGRATIONS[step - 1](db)
            _set_version(db, step)
        if kind == "sqlite":
            broken = db.execute_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"migration left rows whose foreign keys point nowhere: {broken[:5]}")
    return max(version, target)

"""Upgrading a database that release 0.1.0 made: SQLite and PostgreSQL.

``data/aftercare-0.1.0.sqlite`` and ``data/aftercare-0.1.0-postgresql.sql`` were made by the code
of release 0.1.0 (``data/make_010_database.py`` says how, and tells the story they hold): four cases,
closed, open, resolved and open, with plan steps, timers fired and waiting, 17 emails sent, three
pending and one left in ``sending`` by a kill. Today's ``open_database`` must bring them to the
latest version with every row intact, and today's dispatcher and timers must carry on from there:
every stored email sent exactly once with its stored Message-ID, every waiting timer fired once.
"""
from __future__ import annotations

import shutil
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from aftercare.casework import Casework
from aftercare.config import load_config
from aftercare.dispatch import Dispatcher
from aftercare.mail.smtp import SmtpSender
from aftercare.store import outbox
from aftercare.store.database import SCHEMA_VERSION, current_version, make_database, migrate, open_database
from aftercare.store.models import Case, DiscountCode, Message, PlanStep, Timer, database
from aftercare.templates import Templates
from test_migrations import made_by_create_tables, other_url, schema_of, steps_run  # noqa: F401 (fixtures)

DATA = Path(__file__).parent / "data"
T0 = datetime(2026, 3, 2, 9, 0)  # the story's day; 0.1.0 stopped at T0+5h
RESTART = T0 + timedelta(hours=6)  # today's code starts here
UNTIL = T0 + timedelta(days=8)  # and runs this long: every timer 0.1.0 left waiting falls due by then

CONFIG = """
[mailbox]
host = "127.0.0.1"
username = "support@example.com"
password = "unused"
[smtp]
host = "127.0.0.1"
port = {port}
security = "none"
from_address = "Acme Support <support@example.com>"
[staff]
addresses = ["Jane Doe <jane@example.com>", "sam@example.com"]
[extras.discount]
enabled = true
codes_file = "{codes}"
[database]
url = "{url}"
"""


def load_dump(url: str, dump: Path) -> None:
    """Load a plain pg_dump with psycopg2 alone (psql meta-commands such as \\restrict are skipped)."""
    import psycopg2

    # Bytes, split on LF only: the stored emails' CRLF line ends are inside the dump's string literals.
    text = dump.read_bytes().decode("utf-8")
    sql = "\n".join(line for line in text.split("\n") if not line.startswith("\\"))
    conn = psycopg2.connect(url)  # its own connection: the dump empties search_path for the session
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


@pytest.fixture
def old_url(database_url):
    """A fresh copy of the database 0.1.0 made, at ``database_url``; nothing of today's code touched it."""
    if database_url.startswith("sqlite"):
        shutil.copyfile(DATA / "aftercare-0.1.0.sqlite", database_url[len("sqlite:///"):])
    else:
        load_dump(database_url, DATA / "aftercare-0.1.0-postgresql.sql")
    yield database_url
    if database.obj is not None:
        database.obj.close()
    database.initialize(None)


def rows_of(url: str) -> dict[str, list[dict]]:
    """Every row of every table, as plain values, read without migrating anything."""
    db = make_database(url)
    try:
        out = {}
        for table in sorted(schema_of(db)):
            cursor = db.execute_sql(f'SELECT * FROM "{table}" ORDER BY 1')
            names = [d[0] for d in cursor.description]
            out[table] = [dict(zip(names, row)) for row in cursor.fetchall()]
        return out
    finally:
        db.close()


def schema_at(url: str) -> dict:
    db = make_database(url)
    try:
        return schema_of(db)
    finally:
        db.close()


def test_the_010_database_is_what_versions_1_to_3_make(old_url, other_url):
    db = make_database(other_url)
    migrate(db, target=3)
    made_by_steps = schema_of(db)
    db.close()
    old = schema_at(old_url)
    assert set(old) == set(made_by_steps)
    for table in old:
        assert old[table] == made_by_steps[table], table


def test_opening_it_upgrades_it_to_the_latest_version_with_every_row_and_the_schema_of_today(
        old_url, other_url, steps_run):
    before = rows_of(old_url)
    db = open_database(old_url)
    assert steps_run == [4, 5, 6, 7, 8, 9, 10, 11] and current_version(db) == SCHEMA_VERSION
    db.close()

    # Every row still there, every value as 0.1.0 wrote it; the new columns are empty.
    after = rows_of(old_url)
    new_tables = {"attachment_file", "component_state", "case_event", "raw_message", "instance", "mailbox_lease", "erasure"}
    assert set(after) == set(before) | new_tables and all(after[t] == [] for t in new_tables)
    for table, rows in before.items():
        if table == "schema_version":
            continue
        old_columns = list(rows[0]) if rows else []
        assert [{k: r[k] for k in old_columns} for r in after[table]] == rows, table
    assert {(r["claimed_by"], r["claim_until"]) for r in after["message"]} == {(None, None)}
    assert after["schema_version"] == [{"id": after["schema_version"][0]["id"], "version": SCHEMA_VERSION}]

    # What the story left, read through today's models.
    open_database(old_url)
    assert {c.id: c.status for c in Case.select()} == {1: "closed", 2: "open", 3: "resolved", 4: "open"}
    assert [(s.case_id, s.number, s.done_at is not None) for s in PlanStep.select().order_by(PlanStep.id)] == [
        (2, 1, False), (2, 2, False), (3, 1, True)]
    timers = Counter((t.case_id, t.state) for t in Timer.select())
    assert timers == {(1, "fired"): 3, (1, "cancelled"): 1, (2, "cancelled"): 1, (2, "waiting"): 6,
                      (3, "cancelled"): 4, (3, "waiting"): 2, (4, "waiting"): 1}
    assert outbox.counts() == {"sent": 17, "pending": 3, "sending": 1}
    assert Case.get_by_id(1).rating_score == 5 and Case.get_by_id(1).discount_code == "SORRY-0001"
    assert DiscountCode.select().where(DiscountCode.case.is_null()).count() == 2

    # And the upgraded schema is exactly the one a new database gets.
    upgraded, expected = schema_at(old_url), made_by_create_tables(other_url)
    assert set(upgraded) == set(expected)
    for table in expected:
        assert upgraded[table] == expected[table], table


def test_todays_code_carries_on_nothing_lost_and_nothing_sent_twice(old_url, tmp_path, smtp_sink):
    codes = tmp_path / "codes.txt"
    codes.write_text("SORRY-0001\nSORRY-0002\nSORRY-0003\n")  # the pool file 0.1.0 loaded
    (tmp_path / "c.toml").write_text(CONFIG.format(port=smtp_sink.port, codes=codes, url=old_url))
    config = load_config(tmp_path / "c.toml")
    open_database(old_url)
    sent_by_010 = {m.message_id for m in Message.select().where(Message.status == "sent")}
    waiting_in_010 = {t.id for t in Timer.select().where(Timer.state == "waiting")}
    done_in_010 = {t.id: (t.state, t.fired_at) for t in Timer.select().where(Timer.state != "waiting")}
    left_by_010 = {m.id: m.message_id for m in Message.select().where(
        (Message.direction == "out") & Message.status.in_(["pending", "sending"]))}
    assert len(left_by_010) == 4 and len(sent_by_010) == 17

    now = [RESTART]
    casework = Casework(config, Templates())
    dispatcher = Dispatcher(config, casework, lambda: now[0], sender=SmtpSender(config.smtp))
    try:
        # Start-up, as the service does it: the row 0.1.0 was sending when killed is pending again.
        assert outbox.recover_in_flight(now[0], sole_daemon=old_url.startswith("sqlite")) == 1
        assert dispatcher.run_until_idle() == 4
        received = Counter(r.message["Message-ID"] for r in smtp_sink.messages)
        assert received == Counter(f"<{mid}>" for mid in left_by_010.values())  # each once, its stored ID
        assert {m.id: m.message_id for m in Message.select().where(Message.id.in_(list(left_by_010)))} \
            == left_by_010

        # The timers 0.1.0 left waiting, fired as the timers loop would, each at its time.
        fired = 0
        while (due := casework.next_timer_at()) is not None and due <= UNTIL:
            now[0] = max(now[0], due)
            fired += casework.fire_due_timers(now[0])
            dispatcher.run_until_idle()
    finally:
        dispatcher.sender.close()

    timers = {t.id: t for t in Timer.select()}
    assert all(timers[i].state == "fired" and timers[i].fired_at >= RESTART for i in waiting_in_010)
    assert {i: (timers[i].state, timers[i].fired_at) for i in done_in_010} == done_in_010
    assert fired == len(waiting_in_010) == 9
    new_timers = [t for i, t in timers.items() if i not in waiting_in_010 and i not in done_in_010]
    assert [(t.case_id, t.kind, t.state) for t in new_timers] == [(3, "checkin_close", "waiting")]
    kinds = Counter(m.kind for m in Message.select().where(
        (Message.direction == "out") & Message.message_id.not_in(list(sent_by_010) + list(left_by_010.values()))))
    assert kinds["followup"] == kinds["checkin"] == 1 and kinds["escalation"] >= 1
    assert Case.get_by_id(3).discount_code == "SORRY-0002"  # the next free code of 0.1.0's pool
    assert Case.get_by_id(1).discount_code == "SORRY-0001"

    # Every email stored, old and new, is sent; each one the server got exactly once; none of 0.1.0's again.
    rows = list(Message.select().where(Message.direction == "out"))
    assert {m.status for m in rows} == {"sent"}
    received = Counter(r.message["Message-ID"] for r in smtp_sink.messages)
    assert set(received.values()) == {1}
    assert set(received) == {f"<{m.message_id}>" for m in rows if m.message_id not in sent_by_010}
    assert not set(received) & {f"<{mid}>" for mid in sent_by_010}


def test_migrating_twice_is_a_no_op(old_url, steps_run):
    db = open_database(old_url)
    assert steps_run == [4, 5, 6, 7, 8, 9, 10, 11]
    schema, rows = schema_of(db), rows_of(old_url)
    assert migrate(db) == SCHEMA_VERSION
    db.close()
    database.initialize(None)
    db = open_database(old_url)  # and opening it again
    assert steps_run == [4, 5, 6, 7, 8, 9, 10, 11]
    assert schema_of(db) == schema and rows_of(old_url) == rows


@pytest.mark.parametrize("upgraded_first", [False, True], ids=["0.1.0", "upgraded"])
def test_a_database_from_a_newer_aftercare_is_refused_and_left_alone(old_url, steps_run, upgraded_first):
    if upgraded_first:
        open_database(old_url).close()
        database.initialize(None)
        steps_run.clear()
    raw = make_database(old_url)
    raw.execute_sql(f'UPDATE "schema_version" SET "version" = {SCHEMA_VERSION + 1}')
    raw.close()
    schema, rows = schema_at(old_url), rows_of(old_url)

    with pytest.raises(RuntimeError, match=rf"the database is at schema version {SCHEMA_VERSION + 1}, newer "
                                           rf"than this Aftercare \({SCHEMA_VERSION}\); upgrade Aftercare"):
        open_database(old_url)
    database.obj.close()
    assert steps_run == []
    assert schema_at(old_url) == schema and rows_of(old_url) == rows
    assert ("claimed_by" in schema["message"]["columns"]) is upgraded_first

"""SQLite writers of one process take turns on a lock that hands over at once, and never wait forever."""
import threading
import time

from peewee import OperationalError

from aftercare.store import database as db_module
from aftercare.store.database import make_database


def test_a_writer_waits_for_the_turn_and_gets_it_as_soon_as_the_other_commits(tmp_path):
    db = make_database(f"sqlite:///{tmp_path}/w.db")
    db.execute_sql("CREATE TABLE t (x INTEGER)")
    got_turn = []

    def second_writer():
        with db.atomic():
            got_turn.append(time.monotonic())
            db.execute_sql("INSERT INTO t VALUES (2)")

    with db.atomic():
        db.execute_sql("INSERT INTO t VALUES (1)")
        other = threading.Thread(target=second_writer)
        other.start()
        time.sleep(0.3)
        assert got_turn == []  # still waiting
        committed = time.monotonic()
    other.join(5)
    assert got_turn and got_turn[0] - committed < 0.05  # no busy-handler sleep
    assert [r[0] for r in db.execute_sql("SELECT x FROM t ORDER BY x")] == [1, 2]


def test_a_turn_that_never_comes_is_a_database_error_not_a_hang(tmp_path, monkeypatch):
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_SECONDS", 0.3)
    db = make_database(f"sqlite:///{tmp_path}/w.db")
    failures = []

    def second_writer():
        try:
            with db.atomic():
                pass
        except OperationalError as exc:
            failures.append(str(exc))

    with db.atomic():
        other = threading.Thread(target=second_writer)
        other.start()
        other.join(5)
    assert failures and "locked" in failures[0]
    with db.atomic():  # the lock was not left held by the failed attempt
        db.execute_sql("SELECT 1")

"""Mailbox leases on a real PostgreSQL: taken once, renewed under the same epoch, handed over, and fencing.

The fence is the point: a transaction of an intake whose lease another instance took must not commit, even
when the take happens while the transaction is open (a frozen holder, a slow one). Two real connections on
two threads stand for two instances.
"""
from __future__ import annotations

import threading
import time

import psycopg2
import pytest
from peewee import InterfaceError, OperationalError

from aftercare import sharing
from aftercare.instances import Fence
from aftercare.store import health, leases
from aftercare.store.database import bind_fence, open_database, reset_connection
from aftercare.store.leases import LeaseLost
from aftercare.store.models import Setting, database


@pytest.fixture
def pg(postgres_url):
    d = open_database(postgres_url, service=True)
    leases.ensure_mailboxes(["support", "billing"])
    yield postgres_url
    bind_fence(None)
    d.close()
    database.initialize(None)


def _in_thread(fn):
    """Run ``fn`` on a thread of its own (its own peewee connection: another instance) and return its result."""
    out = {}

    def run():
        try:
            out["value"] = fn()
        except BaseException as exc:  # handed back to the test
            out["error"] = exc
        finally:
            database.close() if not database.is_closed() else None

    t = threading.Thread(target=run)
    t.start()
    t.join(20)
    if "error" in out:
        raise out["error"]
    return out.get("value")


def test_a_free_mailbox_is_taken_once_and_each_take_raises_the_epoch(pg):
    assert leases.take("a", "support", 3) == 1
    assert _in_thread(lambda: leases.take("b", "support", 3)) is None  # held: nobody else gets it
    assert leases.renew("a", {"support": 1}, 3) == {"support"}
    assert leases.renew("b", {"support": 1}, 3) == set()  # only the holder renews
    assert leases.release("a", "support", 1)
    assert leases.take("b", "support", 3) == 2
    assert leases.renew("a", {"support": 1}, 3) == set()  # the old epoch is over for good
    row = leases.all_leases()["support"]
    assert (row.holder, row.epoch) == ("b", 2) and row.held_since is not None and row.expired_for < 0


def test_an_ended_lease_is_taken_by_another_and_renewed_by_its_holder_only_if_nobody_did(pg):
    assert leases.take("a", "support", 0.3) == 1
    assert leases.take("a", "billing", 0.3) == 1
    time.sleep(0.5)
    assert leases.renew("a", {"billing": 1}, 3) == {"billing"}  # ended, but nobody took it: the epoch holds
    assert _in_thread(lambda: leases.take("b", "support", 3)) == 2
    assert leases.renew("a", {"support": 1}, 3) == set()


def test_a_commit_under_a_lease_taken_meanwhile_is_refused_and_leaves_nothing(pg):
    epoch = leases.take("a", "support", 3)
    fence = Fence("support", "a", epoch, time.monotonic() + 60)
    bind_fence(fence.check_commit)
    with database.atomic():
        Setting.create(key="before", value="x")  # the lease holds: committed
    with pytest.raises(LeaseLost, match="epoch 1 is over"):
        with database.atomic():
            Setting.create(key="during", value="x")
            # Another instance takes the mailbox while this transaction is open (the holder was frozen).
            conn = psycopg2.connect(pg)
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("update mailbox_lease set holder = 'b', epoch = epoch + 1 where mailbox = 'support'")
            conn.close()
    bind_fence(None)
    assert [s.key for s in Setting.select().where(Setting.key.in_(["before", "during"]))] == ["before"]
    assert fence.lost and not fence.holds()


def test_a_taker_never_waits_for_a_holder_mid_commit_and_the_holder_commits_before_the_take(pg):
    """The fence reads the lease FOR SHARE as the last statement: a take skips the locked row (SKIP LOCKED)
    instead of waiting, and tries again; so no commit happens under an epoch that is already over."""
    epoch = leases.take("a", "support", 0.2)
    fence = Fence("support", "a", epoch, time.monotonic() + 60)
    time.sleep(0.3)  # ended: another may take it once the row is free
    database.execute_sql("BEGIN")
    fence.check_commit(database.cursor())  # the row is now share-locked by this open transaction
    t0 = time.monotonic()
    assert _in_thread(lambda: leases.take("b", "support", 3)) is None  # skipped, not waited for
    assert time.monotonic() - t0 < 2
    database.execute_sql("COMMIT")
    assert _in_thread(lambda: leases.take("b", "support", 3)) == epoch + 1


def test_a_transaction_left_open_by_a_frozen_process_is_ended_by_the_server(pg):
    """The service's sessions end a transaction idle for IDLE_IN_TRANSACTION_SECONDS, so its locks go too."""
    assert database.execute_sql("SHOW idle_in_transaction_session_timeout").fetchone()[0] == "5s"
    with pytest.raises((OperationalError, InterfaceError), match="closed|not open"):
        with database.atomic():
            database.execute_sql('SELECT 1 FROM "mailbox_lease" FOR SHARE')
            assert _in_thread(lambda: leases.take("b", "support", 3)) is None  # locked: skipped
            time.sleep(5.6)  # frozen
            database.execute_sql("SELECT 1")
    reset_connection()
    assert _in_thread(lambda: leases.take("b", "support", 3)) == 1


def test_a_fence_past_its_own_deadline_refuses_without_asking_the_database(pg):
    fence = Fence("support", "a", 1, time.monotonic() - 0.01)
    with pytest.raises(LeaseLost, match="could not be renewed in time"):
        fence.ensure()
    assert not fence.holds()


def test_instances_beat_and_the_silent_are_told_apart(pg):
    from datetime import datetime

    leases.heartbeat("a", "host:1", datetime(2026, 12, 6), {"version": "x"})
    leases.heartbeat("b", "host:2", datetime(2026, 12, 6))
    database.execute_sql("update instance set heartbeat_at = heartbeat_at - interval '10 seconds' where id = 'b'")
    assert leases.live_instances(3) == ["a"]
    assert leases.forget_stale_instances(5) == 1  # b, silent for 10 s
    health.forget_instance("a")
    assert leases.live_instances(3) == []


def test_notify_reaches_a_listener_only_when_the_transaction_commits(pg):
    conn = psycopg2.connect(pg)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'LISTEN "{leases.OUTBOX_CHANNEL}"')
    with database.atomic():
        leases.notify(leases.OUTBOX_CHANNEL)
        leases.notify(leases.OUTBOX_CHANNEL)
        conn.poll()
        assert conn.notifies == []  # not before the commit
    time.sleep(0.1)
    conn.poll()
    assert [n.channel for n in conn.notifies] == [leases.OUTBOX_CHANNEL]  # one per transaction
    conn.close()


# --- the fair share (pure) -------------------------------------------------------------------------------------

def _lease(holder, ended=-1.0):
    return sharing.Lease(holder, ended)


def test_alone_an_instance_takes_every_mailbox():
    moves = sharing.plan("a", ["s", "b", "x"], {}, {"a"}, grace=1.0)
    assert moves == sharing.Moves(["s", "b", "x"], [])


def test_a_newcomer_gets_its_share_from_the_instance_holding_more():
    view = {"s": _lease("a"), "b": _lease("a"), "x": _lease("a")}
    assert sharing.plan("a", ["s", "b", "x"], view, {"a", "n"}, 1.0) == sharing.Moves([], ["x"])
    assert sharing.plan("n", ["s", "b", "x"], view, {"a", "n"}, 1.0) == sharing.Moves([], [])
    after = {"s": _lease("a"), "b": _lease("a"), "x": _lease(None)}
    assert sharing.plan("n", ["s", "b", "x"], after, {"a", "n"}, 1.0) == sharing.Moves(["x"], [])
    # Two of three at a share of two: the first keeps both, nobody gives back or takes any more.
    settled = {"s": _lease("a"), "b": _lease("a"), "x": _lease("n")}
    assert sharing.plan("a", ["s", "b", "x"], settled, {"a", "n"}, 1.0) == sharing.Moves([], [])


def test_an_instance_holding_every_mailbox_gives_the_newcomers_their_share_in_one_pass():
    view = {m: _lease("a") for m in ("s", "b", "x", "y", "z", "w")}
    assert sharing.plan("a", list(view), view, {"a", "n", "o"}, 1.0) == sharing.Moves([], ["x", "y", "z", "w"])
    # Given back, not yet taken: the giver, at its share now, neither gives more nor takes them again.
    given = {**view, "x": _lease("n"), "y": _lease(None, 0.1), "z": _lease(None, 0.1), "w": _lease(None, 0.1)}
    assert sharing.plan("a", list(view), given, {"a", "n", "o"}, 1.0) == sharing.Moves([], [])
    assert sharing.plan("o", list(view), given, {"a", "n", "o"}, 1.0).take == ["y", "z"]


def test_a_mailbox_given_back_goes_to_the_instance_below_its_share_not_back_to_the_giver():
    view = {"s": _lease("a"), "b": _lease("a"), "x": _lease("a"), "y": _lease(None, ended=0.05), "z": _lease("n")}
    live = {"a", "n"}
    assert sharing.plan("a", ["s", "b", "x", "y", "z"], view, live, 1.0).take == []  # a is at its share
    assert sharing.plan("n", ["s", "b", "x", "y", "z"], view, live, 1.0).take == ["y"]


def test_a_dead_holders_mailbox_goes_to_the_instance_below_its_share_at_once_and_to_any_after_the_grace():
    view = {"s": _lease("dead", ended=0.1), "b": _lease("a")}
    live = {"a", "c", "dead"}  # the dead one still counts as live for a few seconds
    assert sharing.plan("c", ["s", "b"], view, live, 1.0).take == ["s"]  # c holds none: below its share
    assert sharing.plan("a", ["s", "b"], view, live, 1.0).take == []  # a is at its share: c's turn first
    late = {"s": _lease("dead", ended=1.5), "b": _lease("a")}
    assert sharing.plan("a", ["s", "b"], late, live, 1.0).take == ["s"]  # nobody took it: a does

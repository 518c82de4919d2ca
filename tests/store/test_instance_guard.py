"""The one-daemon-per-database guard outlives a PostgreSQL restart, and knows when another daemon took it."""
import pytest

from aftercare.store.database import AlreadyRunning, GuardLost, InstanceGuard


def test_the_guard_is_taken_again_after_a_restart_and_a_second_daemon_is_still_refused(pg_cluster):
    url = pg_cluster.url("aftercare")
    first = InstanceGuard(url)
    first.acquire()
    with pytest.raises(AlreadyRunning):
        InstanceGuard(url).acquire()
    assert first.check() == "held"
    pg_cluster.restart()  # the server forgets every session lock
    assert first.check() == "retaken"
    with pytest.raises(AlreadyRunning):
        InstanceGuard(url).acquire()
    first.release()
    second = InstanceGuard(url)
    second.acquire()  # released for good: another may start
    second.release()


def test_a_guard_taken_by_another_daemon_while_the_database_was_away_is_lost(pg_cluster):
    url = pg_cluster.url("aftercare")
    first = InstanceGuard(url)
    first.acquire()
    pg_cluster.stop()
    assert first.check() == "unreachable"
    pg_cluster.start()
    second = InstanceGuard(url)
    second.acquire()  # the other daemon came first
    with pytest.raises(GuardLost, match="took over"):
        first.check()
    assert not first.held and second.check() == "held"
    second.release()
    first.release()


def test_on_sqlite_the_file_lock_refuses_a_second_daemon(tmp_path):
    url = f"sqlite:///{tmp_path}/aftercare.db"
    first = InstanceGuard(url)
    first.acquire()
    with pytest.raises(AlreadyRunning):
        InstanceGuard(url).acquire()
    assert first.check() == "held"
    first.release()
    InstanceGuard(url).acquire()

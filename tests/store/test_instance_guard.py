"""SQLite takes one daemon: the file lock refuses a second (PostgreSQL takes several: tests/store/test_leases.py)."""
import pytest

from aftercare.store.database import AlreadyRunning, InstanceGuard


def test_on_sqlite_the_file_lock_refuses_a_second_daemon(tmp_path):
    url = f"sqlite:///{tmp_path}/aftercare.db"
    first = InstanceGuard(url)
    first.acquire()
    with pytest.raises(AlreadyRunning, match="several need PostgreSQL"):
        InstanceGuard(url).acquire()
    first.release()
    InstanceGuard(url).acquire()


def test_on_postgresql_the_guard_refuses_nobody():
    url = "postgresql://127.0.0.1:5432/test"
    first, second = InstanceGuard(url), InstanceGuard(url)
    first.acquire()
    second.acquire()  # several instances share one PostgreSQL database
    assert first.postgresql and not first.held and not second.held

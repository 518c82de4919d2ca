"""An Aftercare stack per test: Dovecot, SMTP server, database (SQLite or PostgreSQL), the daemon."""
from __future__ import annotations

import pytest

from e2e_support import Stack


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/aftercare.db"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def stack(tmp_path, dovecot, smtp_sink, database_url):
    s = Stack(tmp_path, dovecot, smtp_sink, database_url)
    yield s
    if s.daemon:
        s.daemon.stop()


@pytest.fixture
def sqlite_stack(tmp_path, dovecot, smtp_sink):
    s = Stack(tmp_path, dovecot, smtp_sink, f"sqlite:///{tmp_path}/aftercare.db")
    yield s
    if s.daemon:
        s.daemon.stop()

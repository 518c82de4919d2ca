"""An Aftercare stack per test: Dovecot, SMTP server, database (SQLite or PostgreSQL), the daemon."""
from __future__ import annotations

import pytest

from e2e_support import running_stack


@pytest.fixture
def stack(tmp_path, dovecot, smtp_sink, database_url):
    yield from running_stack(tmp_path, dovecot, smtp_sink, database_url)


@pytest.fixture
def sqlite_stack(tmp_path, dovecot, smtp_sink):
    yield from running_stack(tmp_path, dovecot, smtp_sink, f"sqlite:///{tmp_path}/aftercare.db")

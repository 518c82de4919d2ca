"""The reliability suite (issue 5): crashes, outages, loops, hostile mail, spoofing, the service.

Every module here carries ``pytestmark = pytest.mark.reliability``; run only this suite with
``pytest tests/reliability`` or ``-m reliability``, or leave it out with ``-m "not reliability"``.
The servers come from ``tests/server_fixtures.py`` (loaded by tests/conftest.py); the Stack and raw
mail helpers from tests/e2e/e2e_support.py.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for extra in (HERE, HERE.parent / "e2e"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from e2e_support import running_stack  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "reliability: the full-scale fault tests of issue 5 (crashes, outages, loops, hostile mail)")


@pytest.fixture
def rstack(tmp_path, dovecot, smtp_sink):
    """Dovecot + SMTP sink + SQLite + (later) the daemon; the daemon is stopped at teardown."""
    yield from running_stack(tmp_path, dovecot, smtp_sink, f"sqlite:///{tmp_path}/aftercare.db")

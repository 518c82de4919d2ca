"""Pytest fixtures for real servers: Dovecot, an SMTP server, PostgreSQL (shared and a cluster of a test's own).

Loaded for every test by ``tests/conftest.py``. It lives in tests/, not in the package, because it needs
pytest: the wheel ships the servers themselves (``aftercare.testing``, which ``aftercare demo`` uses), not this.

Missing infrastructure (no dovecot binary, PostgreSQL unreachable) skips the
test, unless ``AFTERCARE_REQUIRE_INTEGRATION=1`` is set (CI), in which case it
fails instead.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from aftercare.testing.dovecot import Dovecot
from aftercare.testing.pgcluster import PgCluster
from aftercare.testing.smtpsink import SmtpSink
from aftercare.testing.tokenserver import TokenServer

__all__ = [
    "DOVECOT_USERS",
    "PG_ADMIN_URL",
    "database_url",
    "dovecot",
    "dovecot_factory",
    "oauth2_dovecot",
    "pg_cluster",
    "postgres_url",
    "require_integration",
    "require_postgres",
    "started_dovecot",
    "smtp_sink",
    "token_server",
]

#: Users every ``dovecot`` fixture has: name -> password.
DOVECOT_USERS: dict[str, str] = {
    "support": "secret",
    "customer": "secret",
    "staff": "secret",
}

#: Where ``postgres_url`` creates its databases (trust auth; db "test" exists).
PG_ADMIN_URL = os.environ.get(
    "AFTERCARE_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def require_integration(reason: str) -> None:
    """Skip, or fail when AFTERCARE_REQUIRE_INTEGRATION=1, because ``reason``."""
    if os.environ.get("AFTERCARE_REQUIRE_INTEGRATION") == "1":
        pytest.fail(f"{reason} (AFTERCARE_REQUIRE_INTEGRATION=1)", pytrace=False)
    pytest.skip(reason)


def _require_dovecot() -> None:
    if not Dovecot.available():
        require_integration("dovecot is not installed (apt-get install dovecot-imapd)")


@pytest.fixture
def dovecot_factory(tmp_path: Path) -> Iterator[Callable[..., Dovecot]]:
    """``make(idle=True, move=True, users=DOVECOT_USERS) -> started Dovecot``.

    Every server made is stopped at teardown.
    """
    _require_dovecot()
    made: list[Dovecot] = []

    def make(
        *, idle: bool = True, move: bool = True, users: dict[str, str] | None = None
    ) -> Dovecot:
        server = Dovecot(tmp_path / f"dovecot-{len(made)}", idle=idle, move=move)
        made.append(server)
        for name, password in (DOVECOT_USERS if users is None else users).items():
            server.add_user(name, password)
        return server.start()

    yield make
    for server in made:
        server.stop()


@pytest.fixture
def dovecot(tmp_path: Path) -> Iterator[Dovecot]:
    """A started Dovecot with users support/customer/staff, password 'secret'."""
    yield from _started_dovecot(tmp_path / "dovecot")


@pytest.fixture
def token_server() -> Iterator[TokenServer]:
    """A started OAuth2 TokenServer (client "aftercare", secret "client-secret"), stopped afterwards."""
    with TokenServer() as server:
        yield server


@pytest.fixture
def oauth2_dovecot(tmp_path: Path, token_server: TokenServer) -> Iterator[Dovecot]:
    """A started Dovecot that also takes XOAUTH2/OAUTHBEARER logins with ``token_server``'s access tokens.

    Users support/customer/staff, password 'secret', as in ``dovecot``: password logins (and the
    append/fetch_all/client helpers) work as usual; a token logs in only as the user it was issued for.
    """
    yield from _started_dovecot(tmp_path / "dovecot-oauth2", oauth2_introspection_url=token_server.introspection_url)


@contextlib.contextmanager
def started_dovecot(workdir: Path, **options) -> Iterator[Dovecot]:
    """A Dovecot with the DOVECOT_USERS, started on entry and stopped on exit (for a module's shared servers)."""
    yield from _started_dovecot(workdir, **options)


def _started_dovecot(workdir: Path, **options) -> Iterator[Dovecot]:
    """A Dovecot with the DOVECOT_USERS, started for one test and stopped after it."""
    _require_dovecot()
    server = Dovecot(workdir, **options)
    for name, password in DOVECOT_USERS.items():
        server.add_user(name, password)
    with server:
        yield server


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A started SmtpSink (no AUTH) on a free loopback port."""
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """URL of a fresh, uniquely named PostgreSQL database, dropped afterwards."""
    require_postgres()
    with fresh_postgres_database("aftercare_test") as url:
        yield url


def require_postgres() -> None:
    """Skip (or fail, ``require_integration``) unless psycopg2 is installed and ``PG_ADMIN_URL`` answers."""
    try:
        import psycopg2
    except ImportError:
        require_integration("psycopg2 is not installed")
    try:
        admin = psycopg2.connect(PG_ADMIN_URL, connect_timeout=3)
    except psycopg2.OperationalError as exc:
        require_integration(f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc}".strip())
    admin.close()


@contextlib.contextmanager
def fresh_postgres_database(prefix: str) -> Iterator[str]:
    """A new, uniquely named database on the shared server (``PG_ADMIN_URL``), dropped on exit."""
    import psycopg2

    admin = psycopg2.connect(PG_ADMIN_URL, connect_timeout=3)
    admin.autocommit = True
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        # Same server, credentials and options; other database.
        yield urlunsplit(urlsplit(PG_ADMIN_URL)._replace(path=f"/{name}"))
    finally:
        with admin.cursor() as cur:
            try:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except psycopg2.Error:  # PostgreSQL < 13
                cur.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    (name,),
                )
                cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


@pytest.fixture
def pg_cluster() -> Iterator[PgCluster]:
    """A PostgreSQL server of this test's own (``stop``/``start`` it at will), with database ``aftercare``."""
    if not PgCluster.available():
        require_integration("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    cluster = PgCluster()  # not under tmp_path: pytest makes that 0700, closed to the postgres user
    try:
        cluster.init().start()
        cluster.create_database("aftercare")
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path: Path) -> str:
    """Runs the test twice: on a fresh SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/aftercare.db"
    return request.getfixturevalue("postgres_url")

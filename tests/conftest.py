"""Real servers for every test that asks: Dovecot, an SMTP server, PostgreSQL."""
import os

pytest_plugins = ["server_fixtures"]  # tests/server_fixtures.py: test-only, not shipped in the wheel


def pytest_collection_modifyitems(config, items):
    """The long scenarios first (reliability, then end-to-end), the quick unit tests last.

    ``make test`` runs the suite on several workers (pytest-xdist); started first, the 20-45 s outage and
    crash scenarios overlap everything else instead of finishing the run alone. The order is the same on
    every worker, as xdist requires.
    """
    def weight(item) -> int:
        path = str(item.path)
        if item.path.name in LONGEST:
            return 0
        return 1 if "/reliability/" in path else 2 if "/e2e/" in path else 3
    items.sort(key=weight)
    # xdist's work stealing hands each worker one contiguous share of the list and steals from the tails:
    # deal the sorted list out so that every share begins with its part of the long scenarios. The tests of a
    # module that shares its servers and daemons between tests (``SHARED_STACKS = True``: module-scoped
    # fixtures) are dealt as one, so that they run on one worker, one after another, and share them there.
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        units: list[list] = []
        together: dict = {}
        for item in items:
            module = getattr(item, "module", None)
            if getattr(module, "SHARED_STACKS", False):
                if module not in together:
                    together[module] = []
                    units.append(together[module])
                together[module].append(item)
            else:
                units.append([item])
        shares: list[list] = [[] for _ in range(workers)]
        for unit in units:  # to the smallest share (round robin while every unit is one test): equal shares
            min(shares, key=len).extend(unit)
        items[:] = [item for share in shares for item in share]


#: Modules whose scenarios take 20-45 s each (outages held for their full length, the SIGKILL backlog).
LONGEST = {"test_outages.py", "test_database_outages.py", "test_loops.py", "test_service_unit.py", "test_crash.py",
           "test_oauth2_logins.py",
           # end-to-end modules whose tests wait on timers or several restarts (10-25 s each): started early
           "test_reopened_chased.py", "test_outbox_cli.py", "test_status.py", "test_lmtp.py",
           # several instances (a 60 s chaos scenario), a customer's export and erasure with the daemon running
           "test_instances.py", "test_customer_requests.py"}


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _state_directory(tmp_path_factory, monkeypatch):
    """Relative paths of a configuration resolve in a directory of the test's own, never /var/lib/aftercare
    (``config_values.state_directory``); a test about that resolution sets the variables itself."""
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    monkeypatch.setenv("AFTERCARE_STATE_DIRECTORY", str(tmp_path_factory.mktemp("state")))


@pytest.fixture(autouse=True)
def _structlog_as_configured_by_nobody():
    """A test that runs a command in-process (``cli.main``) configures structlog for the whole process (level,
    stream): the next test on this worker starts from structlog's defaults again."""
    yield
    import structlog
    structlog.reset_defaults()

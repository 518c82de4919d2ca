"""Real servers for every test that asks: Dovecot, an SMTP server, PostgreSQL."""
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


#: Modules whose scenarios take 20-45 s each (outages held for their full length, the SIGKILL backlog).
LONGEST = {"test_outages.py", "test_database_outages.py", "test_loops.py", "test_service_unit.py", "test_crash.py"}

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
        return 0 if "/reliability/" in path else 1 if "/e2e/" in path else 2
    items.sort(key=weight)

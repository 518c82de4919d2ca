"""Real servers for every test that asks: Dovecot, an SMTP server, PostgreSQL."""
pytest_plugins = ["daemon.testing.fixtures"]

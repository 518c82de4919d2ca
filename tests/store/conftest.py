import pytest

from daemon.config import load_config
from daemon.store.database import open_database
from daemon.store.models import database
from daemon.templates import Templates

CONFIG = """
[mailbox]
host = "127.0.0.1"
username = "support"
password = "pw"
[smtp]
host = "127.0.0.1"
from_address = "Acme Support <support@example.com>"
[staff]
addresses = ["Jane Doe <jane@example.com>", "sam@example.com"]
assign = "{assign}"
[outbox]
recipient_limit = 3
[database]
url = "{url}"
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/t.db"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def make_config(tmp_path, db_url):
    def make(assign="default"):
        p = tmp_path / "c.toml"
        p.write_text(CONFIG.format(url=db_url, assign=assign))
        return load_config(p)
    return make


@pytest.fixture
def db(db_url):
    d = open_database(db_url)
    yield d
    d.close()
    database.initialize(None)

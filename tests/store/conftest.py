import pytest

from aftercare.config import load_config
from aftercare.store.database import open_database
from aftercare.store.models import database
from aftercare.templates import Templates

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


@pytest.fixture
def make_config(tmp_path, database_url):
    def make(assign="default"):
        p = tmp_path / "c.toml"
        p.write_text(CONFIG.format(url=database_url, assign=assign))
        return load_config(p)
    return make


@pytest.fixture
def db(database_url):
    d = open_database(database_url)
    yield d
    d.close()
    database.initialize(None)

"""The metrics from known rows: exact figures on SQLite and PostgreSQL, the endpoint over HTTP, a database away."""
import socket
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from aftercare import metrics
from aftercare.config import ConfigError, load_config
from aftercare.metrics import LATENCY_BUCKETS, DatabaseCollector
from aftercare.store.database import open_database, reset_connection
from aftercare.store.models import Case, ComponentState, Message, Timer, database

NOW = datetime(2026, 3, 20, 12, 0)
S, M, H = timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1)

CONFIG = """
[mailbox]
host = "127.0.0.1"
username = "support"
password = "pw"
[smtp]
host = "127.0.0.1"
from_address = "Acme Support <support@example.com>"
[staff]
addresses = ["jane@example.com"]
[database]
url = "{url}"
[metrics]
listen = "{listen}"
"""


def samples(families) -> dict:
    """{(sample name, ((label, value), ...)): value} of metric families, collected or parsed."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


def make_case(created_at, mailbox="default"):
    return Case.create(status="open", customer_address="maria@example.net", owner="jane@example.com",
                       created_at=created_at, updated_at=created_at, mailbox=mailbox)


def out(case, kind, status, created_at, sent_at=None):
    Message.create(case=case, direction="out", kind=kind, status=status, created_at=created_at, sent_at=sent_at)


def mailbox_state(name, ok, error_kind="", last_ok_at=None):
    ComponentState.create(name=name, ok=ok, error_kind=error_kind, last_ok_at=last_ok_at, updated_at=NOW,
                          error="" if ok else "refused")


def unix(at: datetime) -> float:
    return at.replace(tzinfo=timezone.utc).timestamp()


def histogram(observations: list[float]) -> dict:
    """The acknowledgment histogram's samples for these latencies, worked out here independently."""
    name = "aftercare_acknowledgment_latency_seconds"
    out = {(f"{name}_bucket", (("le", repr(b)),)): float(sum(1 for o in observations if o <= b))
           for b in LATENCY_BUCKETS}
    out[(f"{name}_bucket", (("le", "+Inf"),))] = float(len(observations))
    out[(f"{name}_count", ())] = float(len(observations))
    out[(f"{name}_sum", ())] = float(sum(observations))
    return out


def test_figures_are_exact_for_known_rows(db):
    c1 = make_case(NOW - 3 * H)
    out(c1, "acknowledgment", "sent", c1.created_at, sent_at=c1.created_at + 0.4 * S)
    out(c1, "acknowledgment", "sent", c1.created_at, sent_at=c1.created_at + 30 * S)  # a later one: not counted
    out(c1, "notification", "sent", c1.created_at, sent_at=c1.created_at + S)
    Message.create(case=c1, direction="in", kind="customer", created_at=c1.created_at)  # received: not outgoing
    c2 = make_case(NOW - 2 * H)
    out(c2, "acknowledgment", "bounced", c2.created_at, sent_at=c2.created_at + S)  # exactly on a bound; it left
    out(c2, "checkin", "pending", NOW - 10 * M)  # the oldest still to go out
    out(c2, "relay", "sending", NOW - 5 * M)
    out(c2, "acknowledgment", "held", NOW - 5 * H)  # held for a person: not waiting to go out
    c3 = make_case(NOW - H, mailbox="billing")
    out(c3, "acknowledgment", "sent", c3.created_at, sent_at=c3.created_at + 90 * S)
    out(c3, "forward", "failed", NOW - 4 * H)
    out(c3, "followup", "cancelled", NOW - 4 * H)
    c4 = make_case(NOW - M, mailbox="billing")
    out(c4, "acknowledgment", "pending", NOW - M)  # not sent: no latency yet
    for due_at, state in [(NOW - M, "waiting"), (NOW, "waiting"), (NOW + H, "waiting"), (NOW - H, "fired"),
                          (NOW - H, "cancelled")]:
        Timer.create(case=c1, kind="checkin", due_at=due_at, state=state)
    mailbox_state("mailbox:default", True, last_ok_at=NOW - 2 * S)
    mailbox_state("mailbox:billing", False, "permanent", last_ok_at=NOW - 3 * H)
    mailbox_state("mailbox:returns", False, "transient")  # no longer configured: its last state is not shown
    mailbox_state("smtp:default", False, "transient")  # not a mailbox
    mailbox_state("daemon", True)

    got = samples(DatabaseCollector("", ["default", "billing", "support"], now=lambda: NOW).collect())

    assert got == {
        ("aftercare_complaints_received_total", (("mailbox", "billing"),)): 2.0,
        ("aftercare_complaints_received_total", (("mailbox", "default"),)): 2.0,
        ("aftercare_complaints_received_total", (("mailbox", "support"),)): 0.0,  # configured, nothing yet
        **{("aftercare_outgoing_emails", (("kind", k), ("status", s))): n for k, s, n in [
            ("acknowledgment", "bounced", 1.0), ("acknowledgment", "held", 1.0), ("acknowledgment", "pending", 1.0),
            ("acknowledgment", "sent", 3.0), ("checkin", "pending", 1.0), ("followup", "cancelled", 1.0),
            ("forward", "failed", 1.0), ("notification", "sent", 1.0), ("relay", "sending", 1.0)]},
        ("aftercare_emails_sent_total", (("kind", "acknowledgment"),)): 4.0,  # the bounced one left too
        ("aftercare_emails_sent_total", (("kind", "notification"),)): 1.0,
        ("aftercare_outbox_emails", (("status", "pending"),)): 2.0,
        ("aftercare_outbox_emails", (("status", "sending"),)): 1.0,
        ("aftercare_outbox_emails", (("status", "held"),)): 1.0,
        ("aftercare_outbox_emails", (("status", "failed"),)): 1.0,
        ("aftercare_outbox_oldest_pending_age_seconds", ()): 600.0,
        **histogram([0.4, 1.0, 90.0]),
        ("aftercare_timers_due", ()): 2.0,  # one overdue, one due this very moment
        ("aftercare_timers_waiting", ()): 3.0,
        ("aftercare_mailbox_up", (("mailbox", "billing"),)): 0.0,
        ("aftercare_mailbox_up", (("mailbox", "default"),)): 1.0,
        ("aftercare_mailbox_error_permanent", (("mailbox", "billing"),)): 1.0,
        ("aftercare_mailbox_error_permanent", (("mailbox", "default"),)): 0.0,
        ("aftercare_mailbox_last_sync_timestamp_seconds", (("mailbox", "billing"),)): unix(NOW - 3 * H),
        ("aftercare_mailbox_last_sync_timestamp_seconds", (("mailbox", "default"),)): unix(NOW - 2 * S),
        ("aftercare_database_up", ()): 1.0,
    }
    # The latencies land where they should: 0.4 s under half a second, 1 s in the one-second bucket itself.
    assert got[("aftercare_acknowledgment_latency_seconds_bucket", (("le", "0.5"),))] == 1.0
    assert got[("aftercare_acknowledgment_latency_seconds_bucket", (("le", "1.0"),))] == 2.0
    assert got[("aftercare_acknowledgment_latency_seconds_bucket", (("le", "60.0"),))] == 2.0
    assert got[("aftercare_acknowledgment_latency_seconds_bucket", (("le", "120.0"),))] == 3.0


def test_an_empty_database_says_zero_not_nothing(db):
    """Zeros from the start: a rate or an alert on a series that does not exist yet sees nothing."""
    got = samples(DatabaseCollector("", ["default"], now=lambda: NOW).collect())
    assert got == {
        ("aftercare_complaints_received_total", (("mailbox", "default"),)): 0.0,
        **{("aftercare_outbox_emails", (("status", s),)): 0.0 for s in ("pending", "sending", "held", "failed")},
        ("aftercare_outbox_oldest_pending_age_seconds", ()): 0.0,
        **histogram([]),
        ("aftercare_timers_due", ()): 0.0,
        ("aftercare_timers_waiting", ()): 0.0,
        ("aftercare_database_up", ()): 1.0,
    }


# --- the endpoint ------------------------------------------------------------------

def free_port(host="127.0.0.1", family=socket.AF_INET) -> int:
    with socket.socket(family) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def scrape(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as answer:
        assert answer.status == 200
        return samples(text_string_to_metric_families(answer.read().decode()))


@pytest.fixture
def sqlite_db(tmp_path):
    url = f"sqlite:///{tmp_path}/aftercare.db"
    d = open_database(url)
    yield url
    d.close()
    database.initialize(None)


def serve(tmp_path, url: str, listen: str):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(url=url, listen=listen))
    return metrics.start(load_config(path))


def test_nothing_listens_unless_configured(tmp_path, sqlite_db):
    assert serve(tmp_path, sqlite_db, "") is None


def test_the_endpoint_serves_the_figures_over_http_and_stops_on_close(tmp_path, sqlite_db):
    make_case(NOW)
    port = free_port()
    server = serve(tmp_path, sqlite_db, f"127.0.0.1:{port}")
    try:
        got = scrape(f"http://127.0.0.1:{port}/metrics")
        assert got[("aftercare_complaints_received_total", (("mailbox", "default"),))] == 1.0
        assert got[("aftercare_database_up", ())] == 1.0
        assert got[("process_resident_memory_bytes", ())] > 0  # the process's own figures too
        make_case(NOW)
        got = scrape(f"http://127.0.0.1:{port}/metrics")  # read afresh at each scrape
        assert got[("aftercare_complaints_received_total", (("mailbox", "default"),))] == 2.0
    finally:
        server.close()
    assert not server.thread.is_alive()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2)


def test_an_ipv6_address_in_brackets_is_served(tmp_path, sqlite_db):
    try:
        port = free_port("::1", socket.AF_INET6)
    except OSError:
        pytest.skip("no IPv6 loopback on this host")
    server = serve(tmp_path, sqlite_db, f"[::1]:{port}")
    try:
        assert scrape(f"http://[::1]:{port}/metrics")[("aftercare_database_up", ())] == 1.0
    finally:
        server.close()


def test_a_port_in_use_stops_the_start_naming_the_file_key_and_address(tmp_path, sqlite_db):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError) as err:
            serve(tmp_path, sqlite_db, f"127.0.0.1:{port}")
    assert err.value.file == str(tmp_path / "config.toml") and err.value.key == "metrics.listen"
    assert err.value.reason == f"cannot listen on 127.0.0.1:{port}: Address already in use"


def test_a_scrape_while_the_database_is_away_answers_and_the_next_one_recovers(tmp_path, pg_cluster):
    url = pg_cluster.url("aftercare")
    open_database(url)
    port = free_port()
    try:
        make_case(NOW, mailbox="billing")
        server = serve(tmp_path, url, f"127.0.0.1:{port}")
        endpoint = f"http://127.0.0.1:{port}/metrics"
        try:
            assert scrape(endpoint)[("aftercare_complaints_received_total", (("mailbox", "billing"),))] == 1.0
            pg_cluster.stop()
            with capture_logs() as lines:
                for _ in range(3):
                    got = scrape(endpoint)  # an answer, not an error page or a hang
                    assert got[("aftercare_database_up", ())] == 0.0
                    assert not [k for k in got if k[0].startswith("aftercare_") and k[0] != "aftercare_database_up"]
                    assert got[("process_resident_memory_bytes", ())] > 0
                assert server.thread.is_alive()
                pg_cluster.start()
                got = scrape(endpoint)
            assert got[("aftercare_database_up", ())] == 1.0
            assert got[("aftercare_complaints_received_total", (("mailbox", "billing"),))] == 1.0
            # Said once when it began and once when it ended, not at every scrape.
            said = [(line["log_level"], line["event"]) for line in lines]
            assert said == [("warning", "metrics cannot read the database; scrapes say aftercare_database_up 0"),
                            ("info", "metrics read the database again")]
            assert "the server refuses connections" in lines[0]["error"]
        finally:
            server.close()
    finally:
        reset_connection()  # the server was restarted under it
        database.initialize(None)


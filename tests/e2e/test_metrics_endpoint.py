"""The metrics endpoint of a real daemon: a complaint through Dovecot, its acknowledgment through SMTP, a scrape."""
from __future__ import annotations

import socket
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from aftercare.testing.daemonproc import DaemonProcess
from e2e_support import complaint


def free_port() -> int:
    """A loopback port where nothing listens (bound, then let go)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port: int) -> dict:
    """{(sample name, ((label, value), ...)): value}, as Prometheus would parse the answer."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        assert answer.status == 200
        families = text_string_to_metric_families(answer.read().decode())
        return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


def test_a_complaint_and_its_acknowledgment_show_in_a_scrape(stack):
    port = free_port()
    stack.start(extra=f'[metrics]\nlisten = "127.0.0.1:{port}"\n')
    before = scrape(port)
    assert before[("aftercare_complaints_received_total", (("mailbox", "default"),))] == 0.0
    assert before[("aftercare_acknowledgment_latency_seconds_count", ())] == 0.0

    stack.deliver(complaint()[0])
    stack.smtp.wait_for(lambda m: "maria@example.net" in m.rcpt_tos, timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the daemon notes "sent" a moment after the server accepted
        got = scrape(port)
        if all(got.get(("aftercare_outgoing_emails", (("kind", kind), ("status", "sent")))) == 1.0
               for kind in ("acknowledgment", "notification")):
            break
        time.sleep(0.1)

    assert got[("aftercare_database_up", ())] == 1.0
    assert got[("aftercare_complaints_received_total", (("mailbox", "default"),))] == 1.0
    assert {k: v for k, v in got.items() if k[0] == "aftercare_outgoing_emails"} == {
        ("aftercare_outgoing_emails", (("kind", "acknowledgment"), ("status", "sent"))): 1.0,
        ("aftercare_outgoing_emails", (("kind", "notification"), ("status", "sent"))): 1.0,
    }
    assert got[("aftercare_emails_sent_total", (("kind", "acknowledgment"),))] == 1.0
    assert {k[1][0][1]: v for k, v in got.items() if k[0] == "aftercare_outbox_emails"} == {
        "pending": 0.0, "sending": 0.0, "held": 0.0, "failed": 0.0}
    assert got[("aftercare_outbox_oldest_pending_age_seconds", ())] == 0.0
    assert got[("aftercare_acknowledgment_latency_seconds_count", ())] == 1.0
    assert got[("aftercare_acknowledgment_latency_seconds_bucket", (("le", "+Inf"),))] == 1.0
    assert 0.0 <= got[("aftercare_acknowledgment_latency_seconds_sum", ())] < 10.0
    assert got[("aftercare_acknowledgment_latency_seconds_bucket", (("le", "10.0"),))] == 1.0
    assert got[("aftercare_timers_due", ())] == 0.0
    assert got[("aftercare_timers_waiting", ())] >= 1.0  # the first-response promise, 24 h away
    assert got[("aftercare_mailbox_up", (("mailbox", "default"),))] == 1.0  # the daemon's component_state
    assert got[("aftercare_mailbox_error_permanent", (("mailbox", "default"),))] == 0.0
    assert got[("aftercare_mailbox_last_sync_timestamp_seconds", (("mailbox", "default"),))] > time.time() - 60

    assert stack.daemon.stop() == 0  # the endpoint closes with the daemon
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2)
        raise AssertionError("the endpoint still answers after the daemon stopped")
    except OSError:
        pass


def test_a_port_in_use_stops_the_start_with_the_address_named(sqlite_stack):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = sqlite_stack.write_config(extra=f'[metrics]\nlisten = "127.0.0.1:{port}"\n')
        daemon = sqlite_stack.daemon = DaemonProcess(config, sqlite_stack.tmp / "daemon.log").start()
        code = daemon.proc.wait(timeout=30)
    output = daemon.tail(200)
    assert code == 1, output
    assert (f"configuration error: {config}: metrics.listen: cannot listen on 127.0.0.1:{port}: "
            "Address already in use") in output
    assert "Traceback" not in output

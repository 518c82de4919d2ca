"""PostgreSQL goes away and comes back: nothing stuck, nothing doubled, the guard still stands, the log stays quiet.

Each test runs a PostgreSQL cluster of its own (``pg_cluster``) that it stops and starts, a real Dovecot,
a slow SMTP server and the daemon as systemd would run it.
"""
from __future__ import annotations

import collections
import signal
import time
from datetime import datetime, timezone

import psycopg2
import pytest

from aftercare.testing.daemonproc import DaemonProcess
from e2e_support import Stack, complaint
from reliability_support import append_all, log_events, wait_until

pytestmark = pytest.mark.reliability

BACKLOG = 300
OUTAGE_SECONDS = 20
SETTLE_LIMIT_SECONDS = 30


@pytest.fixture
def pg_stack(tmp_path, dovecot, smtp_sink, pg_cluster):
    s = Stack(tmp_path, dovecot, smtp_sink, pg_cluster.url("aftercare"))
    s.cluster = pg_cluster
    others: list[DaemonProcess] = []
    s.others = others
    yield s
    for d in [s.daemon, *others]:
        if d is not None:
            d.stop()


def _query(url: str, sql: str) -> list[tuple]:
    conn = psycopg2.connect(url, connect_timeout=3)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        conn.close()


def _unfinished(url: str) -> int:
    return _query(url, "select count(*) from message where direction='out' and status in ('pending','sending')")[0][0]


def _log_time(line: dict) -> float | None:
    stamp = line.get("timestamp")
    if not stamp:
        return None
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _lines_between(daemon: DaemonProcess, start: float, end: float) -> list[dict]:
    return [l for l in daemon.log_lines() if (t := _log_time(l)) is not None and start <= t <= end]


def _sent_counts(sink) -> tuple[collections.Counter, collections.Counter]:
    by_recipient = collections.Counter(m.rcpt_tos[0] for m in sink.messages)
    by_message_id = collections.Counter(m.message["Message-ID"] for m in sink.messages)
    return by_recipient, by_message_id


def test_an_outage_and_a_restart_of_postgresql_mid_backlog_leave_nothing_stuck_lost_or_doubled(pg_stack):
    s = pg_stack
    url = s.cluster.url("aftercare")
    s.smtp.data_delay = 0.02  # a slow SMTP server: 20 ms to accept each email
    s.start(poll_interval="2s")
    customers = [f"backlog{i}@example.net" for i in range(BACKLOG)]
    append_all(s.dovecot, [complaint(subject=f"Complaint {i}", sender=c)[0] for i, c in enumerate(customers)])
    acked = lambda n: len({m.rcpt_tos[0] for m in s.smtp.messages} & set(customers)) >= n  # noqa: E731
    assert wait_until(lambda: acked(40), timeout=60), s.daemon.tail()

    # 1. An outage of 20 s, with an email in flight: the server accepts it while the database is away.
    s.smtp.gate.clear()
    assert wait_until(lambda: s.smtp.held >= 1, timeout=10)
    outage_start = time.time()
    s.cluster.stop("fast")
    s.smtp.gate.set()
    time.sleep(OUTAGE_SECONDS)
    assert s.daemon.proc.poll() is None, s.daemon.tail()
    outage_end = time.time()
    s.cluster.start()
    # Work under way at the moment of the stop logs its lines before its commit fails: not part of the outage.
    outage_lines = [l for l in _lines_between(s.daemon, outage_start, outage_end)
                    if l.get("event") not in ("case opened", "message recorded")]

    # 2. Mid-way through what is left, a restart (an operator's, or a failover).
    assert wait_until(lambda: acked(BACKLOG // 2), timeout=90), s.daemon.tail()
    s.cluster.restart()
    back = time.monotonic()
    assert wait_until(lambda: _unfinished(url) == 0 and acked(BACKLOG), timeout=SETTLE_LIMIT_SECONDS + 60), \
        (_unfinished(url), s.daemon.tail())
    settled_in = time.monotonic() - back
    time.sleep(2)  # anything sent twice would arrive now
    assert s.daemon.proc.poll() is None, s.daemon.tail()

    by_recipient, by_message_id = _sent_counts(s.smtp)
    twice = {mid: n for mid, n in by_message_id.items() if n > 1}
    assert twice == {}, f"sent twice: {twice}"
    assert {c: by_recipient[c] for c in customers} == {c: 1 for c in customers}
    assert _unfinished(url) == 0
    statuses = dict(_query(url, "select status, count(*) from message where direction='out' group by status"))
    assert set(statuses) == {"sent"}, statuses
    # The email accepted while the database was away was noted, then written as sent, not sent again.
    noted = log_events(s.daemon, "email accepted while the database was away: noted, it will not be sent again")
    assert len(noted) >= 1, "the acceptance during the outage was kept"
    assert by_message_id[f"<{noted[0]['message_id'].strip('<>')}>"] == 1
    assert settled_in <= SETTLE_LIMIT_SECONDS, settled_in
    per_minute = len(outage_lines) * 60 / OUTAGE_SECONDS
    assert len(outage_lines) <= 12, [l.get("event") for l in outage_lines]
    assert not log_events(s.daemon, "worker crashed; restarting")
    print(f"\nRELIABILITY postgresql-outage: {BACKLOG} complaints, SMTP 20 ms per email, PostgreSQL stopped "
          f"{OUTAGE_SECONDS} s with an email in flight then restarted mid-backlog; settled {settled_in:.1f} s "
          f"after the restart; {sum(by_recipient[c] for c in customers)} acknowledgments, 0 twice; "
          f"{len(outage_lines)} log lines during the outage ({per_minute:.0f}/min); "
          f"statuses {statuses}")


def test_after_a_postgresql_restart_the_lease_is_renewed_and_a_second_instance_joins_without_doubling(pg_stack):
    s = pg_stack
    url = s.cluster.url("aftercare")
    s.start(poll_interval="1s")
    s.deliver(complaint(sender="first@example.net")[0])
    s.smtp.wait_for(lambda m: "first@example.net" in m.rcpt_tos, timeout=20)
    [(holder, epoch)] = _query(url, "select holder, epoch from mailbox_lease")
    s.cluster.restart()
    second = DaemonProcess(s.config, s.tmp / "second.log").start()
    s.others.append(second)
    second.wait_ready(timeout=30)
    # The first keeps its mailbox through the restart (same epoch: nobody else recorded meanwhile); the second
    # runs beside it, sending and firing timers, and would take the mailbox if the first went.
    time.sleep(1.5)
    assert _query(url, "select holder, epoch from mailbox_lease") == [(holder, epoch)]
    assert second.proc.poll() is None and s.daemon.proc.poll() is None
    for i in range(10):
        s.deliver(complaint(subject=f"After {i}", sender=f"after{i}@example.net")[0])
    for i in range(10):
        s.smtp.wait_for(lambda m, i=i: f"after{i}@example.net" in m.rcpt_tos, timeout=30)
    time.sleep(1.5)
    by_recipient, by_message_id = _sent_counts(s.smtp)
    assert by_recipient["first@example.net"] == 1 and all(by_recipient[f"after{i}@example.net"] == 1
                                                          for i in range(10))
    assert max(by_message_id.values()) == 1
    print("\nRELIABILITY postgresql-lease: after a restart of PostgreSQL the mailbox's lease was renewed under the "
          "same epoch; a second instance joined; the next 10 complaints were answered, each email once")


def test_an_instance_frozen_while_postgresql_restarts_loses_its_mailbox_and_no_email_goes_out_twice(pg_stack):
    s = pg_stack
    url = s.cluster.url("aftercare")
    s.smtp.data_delay = 0.02
    s.start(poll_interval="1s")
    customers = [f"race{i}@example.net" for i in range(60)]
    append_all(s.dovecot, [complaint(subject=f"Race {i}", sender=c)[0] for i, c in enumerate(customers)])
    assert wait_until(lambda: len(s.smtp.messages) >= 10, timeout=30)
    # The first instance is frozen while the server restarts, so a second one takes its mailbox.
    [(first_holder, _)] = _query(url, "select holder, epoch from mailbox_lease")
    s.daemon.signal(signal.SIGSTOP)
    frozen_at = time.monotonic()
    try:
        s.cluster.restart()
        second = DaemonProcess(s.config, s.tmp / "second.log").start()
        s.others.append(second)
        second.wait_ready(timeout=30)
        assert wait_until(lambda: _query(url, "select holder from mailbox_lease")[0][0] not in (None, first_holder),
                          timeout=15)
        taken_in = time.monotonic() - frozen_at
    finally:
        thawed = time.time()
        s.daemon.signal(signal.SIGCONT)
    stopped = s.daemon.wait_for_log(lambda l: l.get("event") == "mailbox no longer held by this instance: "
                                              "intake stops", timeout=15)
    # Back from the freeze it records nothing: its fence says the mailbox is another's now.
    assert not [l for l in s.daemon.log_lines() if l.get("event") in ("message recorded", "messages filed")
                and _log_time(l) and _log_time(l) >= thawed]
    assert s.daemon.proc.poll() is None  # it stays, as a spare that sends and fires timers
    acked = lambda: set(customers) <= {m.rcpt_tos[0] for m in s.smtp.messages}  # noqa: E731
    assert wait_until(lambda: acked() and _unfinished(url) == 0, timeout=60), second.tail()
    time.sleep(1.5)
    by_recipient, by_message_id = _sent_counts(s.smtp)
    assert {c: by_recipient[c] for c in customers} == {c: 1 for c in customers}
    assert max(by_message_id.values()) == 1
    print(f"\nRELIABILITY postgresql-takeover: {len(customers)} complaints; the first instance, frozen through a "
          f"restart, lost its mailbox to a second {taken_in:.1f} s after the freeze and stopped its intake "
          f"{_log_time(stopped) - thawed:.1f} s after SIGCONT; {len(s.smtp.messages)} emails, 0 sent twice")


def test_the_main_thread_reconnects_and_status_says_what_fails_during_an_outage(pg_stack, tmp_path):
    from reliability_support import NotifySocket

    s = pg_stack
    notify = NotifySocket()
    try:
        s.write_config(poll_interval="1s")
        s.daemon = DaemonProcess(s.config, tmp_path / "daemon.log", env={"NOTIFY_SOCKET": notify.path})
        s.daemon.start()
        s.daemon.wait_ready()
        s.cluster.stop("fast")
        down = time.monotonic()
        assert wait_until(lambda: notify.starting("STATUS=FAILING", since=down), timeout=15)
        status_in = notify.starting("STATUS=FAILING", since=down)[0] - down
        time.sleep(8)
        s.cluster.start()
        up = time.monotonic()
        assert wait_until(lambda: [t for t in notify.starting("STATUS=processed", since=up)], timeout=30), \
            s.daemon.tail()
        s.deliver(complaint(sender="later@example.net")[0])
        s.smtp.wait_for(lambda m: "later@example.net" in m.rcpt_tos, timeout=30)
        tracebacks = [l for l in s.daemon.log_lines() if "exception" in l]
        assert len(tracebacks) <= 4, [l.get("event") for l in tracebacks]  # each distinct error once
        assert not log_events(s.daemon, "periodic job failed")
        print(f"\nRELIABILITY postgresql-status: STATUS said FAILING {status_in:.1f} s after the stop; "
              f"{len(tracebacks)} tracebacks in all; the main thread reconnected and the next complaint was "
              "answered")
    finally:
        notify.close()

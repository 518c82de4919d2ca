"""Troubles: each distinct error said once with its traceback, then at most once a minute, and in STATUS."""
from structlog.testing import capture_logs

from aftercare.trouble import Troubles


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _boom(text="connection refused"):
    try:
        raise ConnectionError(text)
    except ConnectionError as exc:
        return exc


def test_a_repeated_error_is_logged_once_then_once_a_minute_with_the_count_held_back():
    clock = Clock()
    t = Troubles(clock=clock, repeat_every=60)
    with capture_logs() as lines:
        for _ in range(240):  # four times a second for a minute
            t.report("outbox", _boom(), "database unavailable; the outbox waits")
            clock.now += 0.25
        t.report("outbox", _boom(), "database unavailable; the outbox waits")
    assert [l["event"] for l in lines] == ["database unavailable; the outbox waits"] * 2
    assert lines[0].get("exc_info") and not lines[1].get("exc_info")  # the traceback once
    assert lines[1]["repeats_not_logged"] == 239 and lines[1]["still_failing_for"] == 60


def test_the_same_error_from_several_loops_is_one_trouble_and_status_names_them_until_each_recovers():
    clock = Clock()
    t = Troubles(clock=clock)
    with capture_logs() as lines:
        for source in ("outbox", "timers", "intake"):
            t.report(source, _boom(), f"{source} waits", describe="database x: the server refuses connections")
        assert len(lines) == 1
        clock.now += 12
        assert t.summary() == ("FAILING for 12 s (intake, outbox, timers): database x: the server refuses "
                               "connections")
        t.clear("outbox", "back")
        t.clear("timers", "back")
        assert t.active()
        t.clear("intake", "back")
    assert not t.active() and t.summary() == ""
    assert [l["event"] for l in lines[1:]] == ["back", "back", "back"]
    assert lines[-1]["failures"] == 3 and lines[-1]["failed_for"] == 12


def test_a_new_error_is_said_at_once_and_a_source_that_never_failed_clears_silently():
    t = Troubles(clock=Clock())
    with capture_logs() as lines:
        t.clear("outbox")
        t.report("outbox", _boom("connection refused"), "waits")
        t.report("outbox", _boom("the database system is starting up"), "waits")
    assert [l["error"].split(": ", 1)[1] for l in lines] == ["connection refused",
                                                             "the database system is starting up"]
    assert t.summary().endswith("the database system is starting up")


class _Refused(Exception):
    permanent = True


def test_a_permanent_failure_is_one_trouble_whatever_per_attempt_text_the_server_adds_and_repeats_hourly():
    clock, wall = Clock(), Clock()
    t = Troubles(clock=clock, wall_clock=wall)
    with capture_logs() as lines:
        for attempt in range(20):  # a retry every 15 minutes for five hours, each 535 with its own request id
            t.report("imap-login", _Refused(f"535 5.7.3 Authentication unsuccessful [MW4PR0{attempt}CA0001.namprd]"),
                     "mailbox login refused", repeat_every=3600)
            clock.now += 900
    assert len(lines) == 5 and all(l["failure"] == "permanent" for l in lines)
    assert [l.get("repeats_not_logged") for l in lines] == [None, 3, 3, 3, 3]
    (failing,) = t.snapshot()
    assert failing["kind"] == "permanent" and failing["since"] == 1000.0 and failing["failures"] == 20
    assert t.failing("imap-login")["kind"] == "permanent" and t.failing("smtp-login") is None

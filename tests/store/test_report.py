"""The lessons report from known cases: exact figures, `since`, text and HTML; SQLite and PostgreSQL."""
import json
from datetime import date, datetime, timedelta, timezone

import pytest

from aftercare.report import build_report, human_duration, median, percentile, render_html, render_text
from aftercare.store.models import Case, DiscountCode, Message, PlanStep

NOW = datetime(2026, 3, 20, 12, 0)
T0 = datetime(2026, 3, 2, 9, 0)  # a Monday, ISO week 10
SCRIPT = "<script>alert(1)</script>"
H, D = timedelta(hours=1), timedelta(days=1)
M = timedelta(minutes=1)


def make_case(created_at, status="open", **kw):
    return Case.create(status=status, customer_address="maria@example.net", owner="jane@example.com",
                       created_at=created_at, updated_at=created_at, **kw)


def ack(case, after, status="sent"):
    at = case.created_at + after
    Message.create(case=case, direction="out", kind="acknowledgment", created_at=case.created_at, status=status,
                   sent_at=at if status == "sent" else None)


def step(case, number, due_at, done_at=None):
    PlanStep.create(case=case, number=number, text=f"step {number}", due_at=due_at, done_at=done_at,
                    created_at=case.created_at)


@pytest.fixture
def cases(db):
    c1 = make_case(T0, "closed", first_response_at=T0 + H, resolved_at=T0 + D, closed_at=T0 + 8 * D,
                   cause="Courier damage", rating_score=5, rating_comment="Lovely", rated_at=datetime(2026, 3, 3, 10),
                   discount_code="SAVE-A", checkin_sent_at=datetime(2026, 3, 10, 10))
    ack(c1, timedelta(hours=2), status="held")  # never sent: does not count
    ack(c1, 5 * M)
    ack(c1, 30 * M)  # a later one: the first sent counts
    Message.create(case=c1, direction="out", kind="notification", created_at=T0, status="sent", sent_at=T0 + M)
    step(c1, 1, T0 + D, T0 + 20 * H)  # on time
    step(c1, 2, T0 + 2 * D, T0 + 3 * D)  # late

    c2 = make_case(T0 + D, "open", first_response_at=T0 + D + 3 * H, cause="courier  damage", reopened_count=1,
                   rating_score=1, rating_comment="<b>still broken</b>", rated_at=datetime(2026, 3, 4, 10))
    ack(c2, 10 * M)
    step(c2, 1, datetime(2026, 3, 10), None)  # overdue at NOW
    step(c2, 2, datetime(2026, 3, 25), None)  # not due yet: not judged

    c3 = make_case(T0 + 2 * D, "resolved", first_response_at=T0 + 2 * D + 2 * H, resolved_at=T0 + 4 * D,
                   cause="Wrong size", rating_score=4, rated_at=datetime(2026, 3, 10, 10),
                   discount_code="THANKS15", checkin_sent_at=datetime(2026, 3, 9, 9))  # static code: no pool row
    ack(c3, 20 * M)
    step(c3, 1, T0 + 3 * D, T0 + 3 * D)  # done exactly at the due time: on time

    c4 = make_case(T0 + 3 * D, "closed", first_response_at=T0 + 3 * D + 30 * M, resolved_at=T0 + 3 * D + 12 * H,
                   cause=SCRIPT, rating_score=4, rated_at=datetime(2026, 3, 11, 10), reopened_count=2)
    ack(c4, M)

    c5 = make_case(T0 + 4 * D, "open", cause="   ")  # blank cause: not a cause
    ack(c5, 0 * M, status="pending")

    c6 = make_case(datetime(2026, 1, 5, 9), "closed", first_response_at=datetime(2026, 1, 5, 19),
                   resolved_at=datetime(2026, 1, 10, 9), cause="Old cause", rating_score=2,
                   rated_at=datetime(2026, 1, 6, 9), reopened_count=1, discount_code="OLD-1")
    ack(c6, 2 * H)
    step(c6, 1, datetime(2026, 1, 6), datetime(2026, 1, 5, 12))

    c7 = make_case(T0 + 4 * D, "resolved", resolved_at=T0 + 4 * D + 6 * H, cause="Wrong size")

    DiscountCode.create(code="SAVE-A", case=c1, issued_at=datetime(2026, 3, 10, 10), added_at=T0)
    DiscountCode.create(code="OLD-1", case=c6, issued_at=datetime(2026, 1, 7, 9), added_at=T0 - 60 * D)
    DiscountCode.create(code="FREE-1", added_at=T0)  # still in the pool
    return [c1, c2, c3, c4, c5, c6, c7]


def test_figures_for_the_cases_since_a_date(cases):
    c1, c2, c3, c4, c5, c6, c7 = cases
    r = build_report(since=T0, now=NOW)
    assert json.loads(json.dumps(r)) == r
    assert (r["since"], r["generated_at"]) == ("2026-03-02T09:00:00Z", "2026-03-20T12:00:00Z")
    assert r["cases"] == {"total": 6, "by_status": {"open": 2, "resolved": 2, "closed": 2}}
    # 60, 300, 600, 1200: even count, the median is the mean of the middle two; p90 by nearest rank is the 4th.
    assert r["time_to_acknowledgment"] == {"count": 4, "median_seconds": 450, "p90_seconds": 1200}
    assert r["time_to_first_reply"] == {"count": 4, "median_seconds": 5400, "p90_seconds": 10800}
    assert r["time_to_resolution"] == {"count": 4, "median_seconds": 64800, "p90_seconds": 172800}
    assert r["plan_steps"] == {"total": 5, "done": 3, "done_on_time": 2, "overdue": 1, "share_on_time": 0.5}
    sat = r["satisfaction"]
    assert (sat["count"], sat["average"]) == (4, 3.5)
    assert sat["distribution"] == {"1": 1, "2": 0, "3": 0, "4": 2, "5": 1}
    assert sat["by_week"] == [{"week": "2026-W10", "count": 2, "average": 3.0},
                              {"week": "2026-W11", "count": 2, "average": 4.0}]
    assert [(c["case_id"], c["score"], c["comment"]) for c in sat["comments"]] == [
        (c2.id, 1, "<b>still broken</b>"), (c1.id, 5, "Lovely")]
    assert r["causes"] == [{"cause": "Courier damage", "count": 2}, {"cause": "Wrong size", "count": 2},
                           {"cause": SCRIPT, "count": 1}]
    assert r["reopened"] == {"count": 2, "cases": [c2.id, c4.id]}
    assert r["discount_codes"] == {"issued": 2, "codes": [
        {"code": "THANKS15", "case_id": c3.id, "issued_at": "2026-03-09T09:00:00Z"},
        {"code": "SAVE-A", "case_id": c1.id, "issued_at": "2026-03-10T10:00:00Z"},
    ]}


def test_without_since_every_case_counts(cases):
    c1, c2, c3, c4, c5, c6, c7 = cases
    r = build_report(now=NOW)
    assert r["since"] is None
    assert r["cases"] == {"total": 7, "by_status": {"open": 2, "resolved": 2, "closed": 3}}
    assert r["time_to_acknowledgment"] == {"count": 5, "median_seconds": 600, "p90_seconds": 7200}
    assert r["time_to_first_reply"] == {"count": 5, "median_seconds": 7200, "p90_seconds": 36000}
    assert r["time_to_resolution"] == {"count": 5, "median_seconds": 86400, "p90_seconds": 432000}
    assert r["plan_steps"] == {"total": 6, "done": 4, "done_on_time": 3, "overdue": 1, "share_on_time": 0.6}
    assert (r["satisfaction"]["count"], r["satisfaction"]["average"]) == (5, 3.2)
    assert r["satisfaction"]["by_week"][0] == {"week": "2026-W02", "count": 1, "average": 2.0}
    assert r["causes"][-1] == {"cause": "Old cause", "count": 1}
    assert r["reopened"] == {"count": 3, "cases": [c2.id, c4.id, c6.id]}
    assert [c["code"] for c in r["discount_codes"]["codes"]] == ["OLD-1", "THANKS15", "SAVE-A"]


def test_since_is_inclusive_and_accepts_dates_and_aware_times(cases):
    just_after = build_report(since=T0 + timedelta(seconds=1), now=NOW)
    assert just_after["cases"]["total"] == 5  # the case created exactly at T0 is gone
    as_naive = build_report(since=T0, now=NOW)
    assert build_report(since=T0.replace(tzinfo=timezone.utc), now=NOW) == as_naive
    aware_elsewhere = datetime(2026, 3, 2, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    assert build_report(since=aware_elsewhere, now=NOW) == as_naive
    assert build_report(since=date(2026, 3, 2), now=NOW)["cases"]["total"] == 6
    assert build_report(since=date(2026, 3, 7), now=NOW)["cases"]["total"] == 0


def test_an_empty_database_gives_an_empty_report(db):
    r = build_report(now=NOW)
    assert r["cases"] == {"total": 0, "by_status": {"open": 0, "resolved": 0, "closed": 0}}
    assert r["time_to_resolution"] == {"count": 0, "median_seconds": None, "p90_seconds": None}
    assert r["plan_steps"]["share_on_time"] is None
    assert (r["satisfaction"]["count"], r["satisfaction"]["average"]) == (0, None)
    assert (r["causes"], r["reopened"]["cases"], r["discount_codes"]["codes"]) == ([], [], [])
    assert "No ratings yet" in render_html(r) and "<svg" not in render_html(r)
    assert "Cases: 0" in render_text(r)


def test_the_html_is_one_self_contained_file_with_charts_and_escaped_text(cases):
    html = render_html(build_report(since=T0, now=NOW))
    assert html.startswith("<!DOCTYPE html>")
    assert html.count("<svg") == 4  # satisfaction over time, ratings, causes, response times
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html and "<link" not in html and " src=" not in html and "@import" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;still broken&lt;/b&gt;" in html and "<b>still broken" not in html
    for text in ("Courier damage", "2026-W10", "7m 30s", "20m", "1h 30m", "50%", "3.50", "SAVE-A", "THANKS15", "#4"):
        assert text in html


def test_the_text_report_mentions_the_figures(cases):
    text = render_text(build_report(since=T0, now=NOW))
    assert "Cases: 6 (open 2, resolved 2, closed 2)" in text
    for figure in ("7m 30s", "20m", "1h 30m", "3h", "18h", "2d", "50%", "average 3.50", "2026-W11 4.00 (2)",
                   "Courier damage", SCRIPT, "Reopened cases: 2", "Discount codes issued: 2", "SAVE-A", "THANKS15"):
        assert figure in text, figure


@pytest.mark.parametrize("seconds, shown", [
    (None, "–"), (0, "0s"), (45, "45s"), (60, "1m"), (450, "7m 30s"), (5400, "1h 30m"), (7200, "2h"),
    (8100, "2h 15m"), (86400, "1d"), (90000, "1d 1h"), (64800, "18h"),
])
def test_human_durations(seconds, shown):
    assert human_duration(seconds) == shown


def test_median_and_nearest_rank_percentile():
    assert median([]) is None and percentile([], 90) is None
    assert median([3, 1, 2]) == 2 and median([4, 1, 3, 2]) == 2.5
    assert percentile(list(range(1, 11)), 90) == 9 and percentile(list(range(1, 12)), 90) == 10
    assert percentile([7], 90) == 7 and percentile([5, 1], 90) == 5 and percentile([5, 1], 50) == 1

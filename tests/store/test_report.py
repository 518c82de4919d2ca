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


def make_case(created_at, status="open", owner="jane@example.com", **kw):
    return Case.create(status=status, customer_address="maria@example.net", owner=owner,
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
    assert sat["by_week"] == [{"week": "2026-W10", "starts": "2026-03-02", "count": 2, "average": 3.0},
                              {"week": "2026-W11", "starts": "2026-03-09", "count": 2, "average": 4.0}]
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
    assert r["satisfaction"]["by_week"][0] == {"week": "2026-W02", "starts": "2026-01-05", "count": 1,
                                               "average": 2.0}
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
    assert html.count("<svg") == 3  # satisfaction over time, response times, volume; the bars are HTML
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


# --- the manager's view: owners, promises kept, volume per week, open cases, local times ---------------------

BERLIN = "Europe/Berlin"  # CET (UTC+1) throughout March 2026 until the 29th
LONG_SUBJECT = "<i>Refund</i> never arrived"


@pytest.fixture
def team(db):
    """Two owners. Every case but the oldest promised a first reply within 24 hours."""
    def case(owner, created_at, status="open", answered_after=None, promise=True, **kw):
        return make_case(created_at, status, owner=owner,
                         first_response_due_at=created_at + 24 * H if promise else None,
                         first_response_at=created_at + answered_after if answered_after is not None else None,
                         **kw)

    # 23:30 UTC on Sunday 1 March is 00:30 on Monday 2 March in Berlin: week 10 there, week 9 in UTC.
    j1 = case("jane@example.com", datetime(2026, 3, 1, 23, 30), "resolved", 2 * H,
              resolved_at=datetime(2026, 3, 3, 10), rating_score=5, subject="Kettle broken")
    step(j1, 1, datetime(2026, 3, 5), datetime(2026, 3, 4))  # on time
    j2 = case("jane@example.com", datetime(2026, 3, 3, 9), "open", 24 * H, subject="Late parcel")  # just in time
    PlanStep.create(case=j2, number=1, text="replace the kettle", due_at=datetime(2026, 3, 10, 8),
                    created_at=j2.created_at)  # overdue at NOW
    step(j2, 2, datetime(2026, 3, 25))  # not due yet
    j3 = case("jane@example.com", datetime(2026, 3, 10, 9), "closed", 27 * H,  # 3 hours late
              closed_at=datetime(2026, 3, 12, 9), rating_score=2, subject="Wrong colour")  # closed, never resolved
    s1 = case("Sam@Example.com", datetime(2026, 3, 10, 10), subject=LONG_SUBJECT)  # never answered: missed
    step(s1, 1, datetime(2026, 3, 15, 10))  # overdue
    step(s1, 2, datetime(2026, 3, 12), datetime(2026, 3, 13))  # done late
    s2 = case("sam@example.com", datetime(2026, 3, 20, 8), subject="Scratched lid")  # not due yet: left out
    s3 = case("sam@example.com", datetime(2026, 2, 16, 9), "resolved", H, promise=False,
              resolved_at=datetime(2026, 2, 17, 9), rating_score=4, subject="Old one")  # no promise recorded
    return {"j1": j1, "j2": j2, "j3": j3, "s1": s1, "s2": s2, "s3": s3}


JANE = {"owner": "jane@example.com", "cases": 3, "open": 1, "median_first_reply_seconds": 86400,
        "within_promise_share": 0.6667, "promises_kept": 2, "promises_judged": 3,
        "steps_on_time_share": 0.5, "steps_on_time": 1, "steps_judged": 2, "ratings": 2, "average_rating": 3.5}
SAM = {"owner": "sam@example.com", "cases": 3, "open": 2, "median_first_reply_seconds": 3600,
       "within_promise_share": 0.0, "promises_kept": 0, "promises_judged": 1,
       "steps_on_time_share": 0.0, "steps_on_time": 0, "steps_judged": 2, "ratings": 1, "average_rating": 4.0}


def test_owners_promises_volume_and_open_cases(team):
    t = team
    r = build_report(now=NOW, tz=BERLIN)
    assert json.loads(json.dumps(r)) == r
    assert (r["timezone"], r["period"], r["owner"]) == (BERLIN, {"since": None, "until": None}, None)
    assert r["owners"] == [JANE, SAM]
    assert r["within_promise"] == {"share": 0.5, "judged": 4, "within": 2, "late": 1, "unanswered_past_due": 1,
                                   "not_yet_due": 1, "without_promise": 1}
    # Local weeks from the oldest case to the week of NOW; a quiet week shows as zeros; a case closed without
    # being resolved counts as resolved the week it was closed.
    assert [{k: w[k] for k in ("week", "starts", "opened", "resolved")} for w in r["volume_by_week"]] == [
        {"week": "2026-W08", "starts": "2026-02-16", "opened": 1, "resolved": 1},
        {"week": "2026-W09", "starts": "2026-02-23", "opened": 0, "resolved": 0},
        {"week": "2026-W10", "starts": "2026-03-02", "opened": 2, "resolved": 1},
        {"week": "2026-W11", "starts": "2026-03-09", "opened": 2, "resolved": 1},
        {"week": "2026-W12", "starts": "2026-03-16", "opened": 1, "resolved": 0},
    ]
    assert r["open_cases"] == [
        {"id": t["j2"].id, "owner": "jane@example.com", "subject": "Late parcel", "mailbox": "default",
         "created_at": "2026-03-03T09:00:00Z", "overdue": [
             {"what": "plan_step", "step": 1, "text": "replace the kettle", "due_at": "2026-03-10T08:00:00Z"}]},
        {"id": t["s1"].id, "owner": "Sam@Example.com", "subject": LONG_SUBJECT, "mailbox": "default",
         "created_at": "2026-03-10T10:00:00Z", "overdue": [
             {"what": "first_response", "due_at": "2026-03-11T10:00:00Z"},
             {"what": "plan_step", "step": 1, "text": "step 1", "due_at": "2026-03-15T10:00:00Z"}]},
        {"id": t["s2"].id, "owner": "sam@example.com", "subject": "Scratched lid", "mailbox": "default",
         "created_at": "2026-03-20T08:00:00Z", "overdue": []},
    ]
    # The same cases in UTC: the Sunday-night case falls in week 9.
    in_utc = build_report(now=NOW)
    assert [(w["week"], w["opened"]) for w in in_utc["volume_by_week"][1:3]] == [("2026-W09", 1), ("2026-W10", 1)]


def test_a_promise_is_judged_once_it_falls_due(team):
    """At the due time itself an unanswered case is not yet late; a moment after, it is."""
    s2_due = team["s2"].first_response_due_at
    assert build_report(now=s2_due, tz=BERLIN)["within_promise"]["not_yet_due"] == 1
    later = build_report(now=s2_due + timedelta(seconds=1), tz=BERLIN)
    assert later["within_promise"] | {"share": None} == {"share": None, "judged": 5, "within": 2, "late": 1,
                                                         "unanswered_past_due": 2, "not_yet_due": 0,
                                                         "without_promise": 1}
    assert later["within_promise"]["share"] == 0.4
    assert later["open_cases"][-1]["overdue"] == [{"what": "first_response", "due_at": "2026-03-21T08:00:00Z"}]


def test_since_and_until_are_local_days_and_until_is_included(team):
    t = team
    r = build_report(since=date(2026, 3, 2), until=date(2026, 3, 10), now=NOW, tz=BERLIN)
    # Berlin's 2 March starts at 23:00 UTC on the 1st; its 10 March ends at 23:00 UTC.
    assert r["period"] == {"since": "2026-03-01T23:00:00Z", "until": "2026-03-10T23:00:00Z"}
    assert r["since"] == "2026-03-01T23:00:00Z"
    assert r["cases"]["total"] == 4  # j1 (00:30 local on the 2nd), j2, j3 and s1 (both on the 10th)
    assert [o["cases"] for o in r["owners"]] == [3, 1]
    assert [c["id"] for c in r["open_cases"]] == [t["j2"].id, t["s1"].id]
    # Resolutions count in the week they happened, within the period: j3, closed on the 12th, is after it.
    assert [{k: w[k] for k in ("week", "starts", "opened", "resolved")} for w in r["volume_by_week"]] == [
        {"week": "2026-W10", "starts": "2026-03-02", "opened": 2, "resolved": 1},
        {"week": "2026-W11", "starts": "2026-03-09", "opened": 2, "resolved": 0},
    ]
    # ... and a case opened before the period but resolved within it counts there.
    later = build_report(since=date(2026, 3, 3), until=date(2026, 3, 12), now=NOW, tz=BERLIN)
    assert [(w["week"], w["opened"], w["resolved"]) for w in later["volume_by_week"]] == [
        ("2026-W10", 1, 1), ("2026-W11", 2, 1)]  # j1 (opened 2 March, resolved the 3rd); j3 closed the 12th
    assert build_report(since=date(2026, 3, 2), until=date(2026, 3, 10), now=NOW)["cases"]["total"] == 3  # UTC
    # A datetime bound is UTC and excludes its own instant.
    assert build_report(until=datetime(2026, 3, 10, 9), now=NOW, tz=BERLIN)["cases"]["total"] == 3
    assert build_report(until=datetime(2026, 3, 10, 9, 0, 1), now=NOW, tz=BERLIN)["cases"]["total"] == 4
    # A period with nothing in it still shows its weeks, as zeros.
    empty = build_report(since=date(2026, 3, 23), until=date(2026, 3, 31), now=datetime(2026, 4, 2), tz=BERLIN)
    assert (empty["cases"]["total"], empty["open_cases"], empty["owners"]) == (0, [], [])
    assert [(w["week"], w["opened"]) for w in empty["volume_by_week"]] == [("2026-W13", 0), ("2026-W14", 0)]


def test_the_owner_filter_ignores_case_and_cuts_every_figure(team):
    t = team
    sam = build_report(owner="SAM@example.com", now=NOW, tz=BERLIN)
    assert (sam["owner"], sam["cases"]["total"], sam["owners"]) == ("SAM@example.com", 3, [SAM])
    assert sam["within_promise"]["judged"] == 1 and sam["within_promise"]["share"] == 0.0
    assert sam["plan_steps"] | {"share_on_time": None} == {"total": 2, "done": 1, "done_on_time": 0, "overdue": 1,
                                                           "share_on_time": None}
    assert [c["id"] for c in sam["open_cases"]] == [t["s1"].id, t["s2"].id]
    jane = build_report(owner="jane@example.com", now=NOW, tz=BERLIN, since=date(2026, 3, 4))
    assert (jane["cases"]["total"], jane["owners"][0]["cases"]) == (1, 1)
    assert build_report(owner="nobody@example.com", now=NOW)["owners"] == []


def test_without_now_there_is_no_report(db):
    with pytest.raises(TypeError):
        build_report()


def test_text_shows_owners_volume_and_overdue_cases_in_local_time(team):
    t = team
    text = render_text(build_report(now=NOW, tz=BERLIN))
    assert "(as of 2026-03-20 13:00 CET; times in Europe/Berlin)" in text
    assert ("First reply within the promise: 50% (2 of 4; 1 answered late, 1 unanswered past due); "
            "left out: 1 not yet due, 1 without a due time") in text
    rows = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.startswith("  ")}
    assert rows["jane@example.com"] == ["3", "1", "1d", "67%", "50%", "3.50", "(2)"]
    assert rows["sam@example.com"] == ["3", "2", "1h", "0%", "0%", "4.00", "(1)"]
    assert rows["2026-W10"] == ["(from", "2", "Mar", "2026)", "2", "1", "0", "0/0/0/0"]
    assert rows["2026-W09"][-4:] == ["0", "0", "0", "0/0/0/0"]
    assert "Open cases: 3, 2 with something overdue" in text
    lines = text.splitlines()
    s1 = lines.index(f"  #{t['s1'].id} Sam@Example.com: {LONG_SUBJECT}")
    assert lines[s1 + 1:s1 + 3] == ["      first reply was due 2026-03-11 11:00 CET, 9d 2h ago",
                                    "      step 1 “step 1” was due 2026-03-15 11:00 CET, 5d 2h ago"]
    assert f"  #{t['s2'].id} sam@example.com: Scratched lid (nothing overdue)" in lines
    period = render_text(build_report(since=date(2026, 3, 2), until=date(2026, 3, 10), owner="jane@example.com",
                                      now=NOW, tz=BERLIN))
    assert period.startswith("Aftercare report: cases created from 2026-03-02 00:00 CET through 10 Mar 2026 "
                             "of jane@example.com (as of")


def test_html_shows_owners_volume_and_open_cases_in_local_time(team):
    html = render_html(build_report(now=NOW, tz=BERLIN))
    assert "Times in Europe/Berlin." in html and "2026-03-20 13:00 CET" in html and " UTC" not in html
    owners = html[html.index('<section id="owners">'):]
    owners = owners[:owners.index("</section>")]
    assert "<td>jane@example.com</td>" in owners and "<td>sam@example.com</td>" in owners
    assert "67% <small>(2/3)</small>" in owners and "50% <small>(1/2)</small>" in owners
    volume = html[html.index('<section id="volume">'):]
    assert 'aria-label="Cases opened and resolved per week"' in volume
    assert "<td>2026-W10</td><td>2 Mar 2026</td>\n      <td class=\"num\">2</td><td class=\"num\">1</td>" in volume
    open_cases = html[html.index('<section id="open-cases">'):]
    assert "Open cases: 3, 2 with something overdue" in open_cases
    assert "&lt;i&gt;Refund&lt;/i&gt; never arrived" in open_cases and "<i>Refund" not in html
    assert "<li>first reply was due 2026-03-11 11:00 CET, 9d 2h ago</li>" in open_cases
    assert "<li>step 1 “replace the kettle” was due 2026-03-10 09:00 CET, 10d 4h ago</li>" in open_cases


def test_charts_keep_their_size_and_long_labels_whole(cases):
    from aftercare.report_charts import bar_list
    html = render_html(build_report(since=T0, now=NOW))
    for svg in html.split("<svg")[1:]:
        head = svg[:svg.index(">")]
        assert ' width="' in head and ' height="' in head and "100%" not in head
        sizes = [int(s.split('"')[0]) for s in svg.split('font-size="')[1:]]
        assert sizes and min(sizes) >= 12
    label = "Courier lost the parcel and the replacement arrived with the wrong plug for the country " * 2
    bars = bar_list([(label, 3, "3"), ("Short", 1, "1")], "causes")
    assert f'<span class="bar-label">{label}</span>' in bars and "…" not in bars


def test_local_times_name_their_zone():
    from zoneinfo import ZoneInfo

    from aftercare.report import human_time
    assert human_time("2026-03-05T10:00:00Z") == "2026-03-05 10:00 UTC"
    assert human_time("2026-03-05T10:00:00Z", ZoneInfo(BERLIN)) == "2026-03-05 11:00 CET"
    assert human_time("2026-07-01T10:00:00.250000Z", ZoneInfo(BERLIN)) == "2026-07-01 12:00 CEST"
    assert human_time(None, ZoneInfo(BERLIN)) == "–"


def test_the_command_takes_since_until_and_owner_in_the_configured_timezone(team, make_config):
    from aftercare.testing.daemonproc import run_cli
    config = make_config().path
    config.write_text(config.read_text() + f'[schedule]\ntimezone = "{BERLIN}"\n')
    out = run_cli(config, "report", "--since", "2026-03-02", "--until", "2026-03-10", "--owner", "jane@example.com",
                  "--json")
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert (r["timezone"], r["owner"], r["cases"]["total"]) == (BERLIN, "jane@example.com", 3)
    assert r["period"] == {"since": "2026-03-01T23:00:00Z", "until": "2026-03-10T23:00:00Z"}
    assert [o["owner"] for o in r["owners"]] == ["jane@example.com"]
    text = run_cli(config, "report", "--owner", "sam@example.com")
    assert "times in Europe/Berlin" in text.stdout and "Open cases: 2, " in text.stdout  # as of the real clock
    backwards = run_cli(config, "report", "--since", "2026-03-10", "--until", "2026-03-02")
    assert backwards.returncode == 2 and "--until 2026-03-02 is before --since 2026-03-10" in backwards.stderr
    bad = run_cli(config, "report", "--until", "10 March")
    assert bad.returncode == 2 and "--until: '10 March' is not a date (YYYY-MM-DD)" in bad.stderr


def test_each_week_counts_its_urgent_cases_and_the_tone_of_customers_messages(team):
    t = team
    Case.update(priority="urgent").where(Case.id.in_([t["j2"].id, t["s1"].id])).execute()
    for case, at, tone in ((t["j2"], datetime(2026, 3, 3, 9), "angry"), (t["j2"], datetime(2026, 3, 4, 9), "upset"),
                           (t["s1"], datetime(2026, 3, 10, 10), "abusive"), (t["j3"], datetime(2026, 3, 10, 9), "calm"),
                           (t["j3"], datetime(2026, 3, 11, 9), "")):  # "": a message from before tones were read
        Message.create(case=case, direction="in", kind="customer", created_at=at, tone=tone)
    Message.create(case=t["j2"], direction="out", kind="acknowledgment", created_at=datetime(2026, 3, 3, 9),
                   tone="")  # ours: never counted
    weeks = {w["week"]: w for w in build_report(now=NOW, tz=BERLIN)["volume_by_week"]}
    assert (weeks["2026-W10"]["urgent"], weeks["2026-W10"]["tones"]) == (
        1, {"calm": 0, "upset": 1, "angry": 1, "abusive": 0})
    assert (weeks["2026-W11"]["urgent"], weeks["2026-W11"]["tones"]) == (
        1, {"calm": 1, "upset": 0, "angry": 0, "abusive": 1})
    assert weeks["2026-W12"]["urgent"] == 0
    # A period counts the messages that came in it, on whatever case: j2 opened on the 3rd, its upset reply
    # came on the 4th.
    later = build_report(since=date(2026, 3, 4), until=date(2026, 3, 10), now=NOW, tz=BERLIN)
    assert {w["week"]: w["tones"]["upset"] for w in later["volume_by_week"]} == {"2026-W10": 1, "2026-W11": 0}
    text = render_text(build_report(now=NOW, tz=BERLIN))
    assert "messages calm/upset/angry/abusive" in text
    html = render_html(build_report(now=NOW, tz=BERLIN))
    assert "<th class=\"num\">Abusive</th>" in html

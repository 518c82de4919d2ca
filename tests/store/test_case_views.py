"""``cases list`` filters and ``cases show`` in words, on SQLite and PostgreSQL, with hand-built rows and a
fixed ``now``: what an operator steers by must be right at the edges (due this very minute, opened exactly
that long ago)."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from aftercare.cli import main
from aftercare.cli.cases import show_lines
from aftercare.store.models import Case, CaseEvent, Message, PlanStep, Timer, database
from aftercare.store.views import case_detail, case_summaries

NOW = datetime(2026, 12, 6, 13, 3)
H, D = timedelta(hours=1), timedelta(days=1)


def make_case(created_at, status="open", owner="jane@example.com", **kw):
    return Case.create(status=status, customer_address="maria@example.net", owner=owner,
                       subject=f"opened {created_at}", created_at=created_at, updated_at=created_at, **kw)


@pytest.fixture
def cases(db):
    c = {
        # first response due a day ago, none given
        "unanswered": make_case(NOW - 5 * D, owner="Jane@Example.com", first_response_due_at=NOW - 4 * D),
        # answered, but a step was due an hour ago and is not done
        "late_step": make_case(NOW - 2 * D, first_response_due_at=NOW - D, first_response_at=NOW - 2 * D + H),
        # due this very minute: not past due yet
        "due_now": make_case(NOW - H, owner="sam@example.com", first_response_due_at=NOW),
        # every step done or not due yet
        "on_time": make_case(NOW - 10 * D, owner="sam@example.com", first_response_at=NOW - 10 * D + H,
                             mailbox="billing"),
        # late on every count, but resolved: nothing is overdue on a resolved case
        "resolved": make_case(NOW - 20 * D, "resolved", first_response_due_at=NOW - 19 * D),
    }
    PlanStep.create(case=c["late_step"], number=1, text="refund", due_at=NOW - H, created_at=NOW - 2 * D)
    PlanStep.create(case=c["on_time"], number=1, text="call", due_at=NOW - D, done_at=NOW - 2 * D,
                    created_at=NOW - 10 * D)
    PlanStep.create(case=c["on_time"], number=2, text="credit", due_at=NOW + D, created_at=NOW - 10 * D)
    PlanStep.create(case=c["resolved"], number=1, text="refund", due_at=NOW - 18 * D, created_at=NOW - 20 * D)
    return {name: case.id for name, case in c.items()}


def ids(cases, *names):
    return [cases[n] for n in names]


def listed(**filters):
    return [r["id"] for r in case_summaries(now=NOW, **filters)]


def test_cases_filter_by_owner_in_any_letter_case(cases):
    assert listed(owner="JANE@example.COM") == ids(cases, "unanswered", "late_step", "resolved")
    assert listed(owner="sam@example.com", mailbox="billing") == ids(cases, "on_time")
    assert listed(owner="nobody@example.com") == []


def test_cases_filter_by_age_counted_from_now(cases):
    assert listed(older_than=3 * D) == ids(cases, "unanswered", "on_time", "resolved")
    assert listed(older_than=2 * D) == ids(cases, "unanswered", "on_time", "resolved")  # exactly 2 days: not older
    assert listed(older_than=2 * D - timedelta(minutes=1)) == ids(cases, "unanswered", "late_step", "on_time",
                                                                  "resolved")
    assert listed(older_than=3 * D, status="resolved") == ids(cases, "resolved")


def test_overdue_means_open_with_a_first_response_or_a_step_past_due(cases):
    assert listed(overdue=True) == ids(cases, "unanswered", "late_step")
    assert listed(overdue=True, owner="jane@example.com", older_than=3 * D) == ids(cases, "unanswered")
    rows = {r["id"]: r["overdue"] for r in case_summaries(now=NOW)}
    assert [i for i, late in rows.items() if late] == ids(cases, "unanswered", "late_step")
    # a minute later the case due "now" is late too
    assert listed(overdue=True) != [r["id"] for r in case_summaries(now=NOW + timedelta(minutes=1), overdue=True)]
    assert cases["due_now"] in [r["id"] for r in case_summaries(now=NOW + timedelta(minutes=1), overdue=True)]
    with pytest.raises(ValueError, match="need now"):
        case_summaries(overdue=True)


@pytest.fixture
def full_case(db):
    """A case with something in every field ``cases show`` has, times with microseconds, winter and summer."""
    at = NOW.replace(second=27, microsecond=123456)
    case = Case.create(status="resolved", customer_address="maria@example.net", customer_name="Maria Rossi",
                       owner="jane@example.com", subject="Cracked kettle lid", created_at=at - 200 * D,
                       updated_at=at, first_response_due_at=at - 199 * D, first_response_at=at - 200 * D + H,
                       resolved_at=at - D, cause="Courier damage", extra="discount", reopened_count=2,
                       checkin_sent_at=at - 12 * H, rating_score=2, rating_comment="Took three weeks.",
                       rated_at=at, discount_code="THANKYOU-7Q2X", apology_sent=True, mailbox="support",
                       mailbox_address="support@example.com")
    PlanStep.create(case=case, number=1, text="Send a new kettle", due_at=at - 150 * D, done_at=at - 151 * D,
                    created_at=at - 200 * D)
    Timer.create(case=case, kind="checkin_close", due_at=at + 7 * D)
    Timer.create(case=case, kind="followup", due_at=at - 3 * D, state="fired", fired_at=at - 3 * D)
    Message.create(case=case, direction="in", kind="staff", from_address="jane@example.com",
                   subject="Re: Cracked kettle lid", created_at=at - 100 * D,
                   text="#note supplier invoice attached\n#internal\nThe courier admits it.\n\n> quoted customer",
                   note="note: supplier invoice attached; internal")
    Message.create(case=case, direction="out", kind="acknowledgment", to=["maria@example.net"],
                   subject="Re: Cracked kettle lid", created_at=at - 200 * D, status="failed", attempts=3,
                   last_error="550 5.1.1 mailbox unavailable")
    # written out of order: shown in the order they happened
    CaseEvent.create(case=case, created_at=at - H, actor="operator root (CLI)", action="outbox_cancel",
                     detail="email 2")
    CaseEvent.create(case=case, created_at=at - 2 * H, actor="operator root (CLI)", action="outbox_retry",
                     detail="")
    return case.id


def test_case_detail_carries_events_and_notes_in_utc(full_case):
    detail = case_detail(full_case)
    assert detail["events"] == [
        {"time": "2026-12-06T11:03:27.123456Z", "actor": "operator root (CLI)", "action": "outbox_retry",
         "detail": None},
        {"time": "2026-12-06T12:03:27.123456Z", "actor": "operator root (CLI)", "action": "outbox_cancel",
         "detail": "email 2"}]
    assert [(n["internal"], n["text"]) for n in detail["notes"]] == [
        (False, "supplier invoice attached"), (True, "The courier admits it.")]
    assert detail["rating"] == {"score": 2, "comment": "Took three weeks.", "at": "2026-12-06T13:03:27.123456Z"}
    assert detail["apology_sent"] is True


def test_show_says_everything_in_local_time_without_microseconds(full_case):
    lines = show_lines(case_detail(full_case), ZoneInfo("Europe/Berlin"))
    text = "\n".join(lines)
    # opened in May (summer time), rated in December: both abbreviations, named once
    assert lines[0] == f"Case #{full_case}  resolved  (times in Europe/Berlin, CEST/CET)"
    assert "CET" not in "\n".join(lines[1:]) and ".123" not in text and ":27" not in text
    expected = [
        "owner:    jane@example.com",
        "mailbox:  support (support@example.com)",
        "customer: Maria Rossi <maria@example.net>",
        "subject:  Cracked kettle lid",
        "opened:   2026-05-20 15:03",
        "response: first one given 2026-05-20 16:03 (due 2026-05-21 15:03)",
        "changed:  2026-12-06 14:03",
        "resolved: 2026-12-05 14:03",
        "reopened: 2 times",
        "cause:    Courier damage",
        "extra:    discount",
        "check-in: sent 2026-12-06 02:03",
        "discount: THANKYOU-7Q2X",
        "apology:  sent",
        "rating:   2/5 on 2026-12-06 14:03: 'Took three weeks.'",
        "outbox:   1 failed",
        "  1. Send a new kettle  (done 2026-07-08 15:03)",
        "  2026-12-13 14:03  checkin_close",
        "  2026-08-28 15:03 jane@example.com (note): supplier invoice attached",
        "  2026-08-28 15:03 jane@example.com (internal reply): The courier admits it.",
        "  2026-12-06 12:03 operator root (CLI): outbox_retry",
        "  2026-12-06 13:03 operator root (CLI): outbox_cancel (email 2)",
        "       3 attempts, last error: 550 5.1.1 mailbox unavailable",
        "       note: note: supplier invoice attached; internal",
    ]
    missing = [line for line in expected if line not in lines]
    assert missing == [], text
    assert "followup" not in text  # a fired timer is history, not something waiting


def test_show_in_utc_names_the_zone_once(full_case):
    lines = show_lines(case_detail(full_case), ZoneInfo("UTC"))
    assert lines[0].endswith("(times in UTC)") and "changed:  2026-12-06 13:03" in lines


def test_the_list_command_takes_the_filters_and_refuses_bad_ones(cases, make_config, capsys):
    path = str(make_config().path)
    try:
        assert main(["--config", path, "cases", "list", "--owner", "Jane Doe <JANE@example.com>",
                     "--older-than", "3d"]) == 0
        table = capsys.readouterr().out.splitlines()
        assert table[0].split()[:5] == ["case", "status", "mailbox", "age", "late"]
        assert [line.split()[0] for line in table[1:]] == [str(i) for i in ids(cases, "unanswered", "resolved")]
        assert main(["--config", path, "cases", "list", "--overdue", "--owner", "nobody@example.com",
                     "--older-than", "1d12h"]) == 0
        assert capsys.readouterr().out == ("no overdue cases owned by nobody@example.com opened more than 1d12h "
                                           "ago\n")
    finally:
        database.obj.close()
    for bad, said in ((["--older-than", "soon"], "'soon' is not a duration"),
                      (["--owner", "jane"], "'jane' is not an email address")):
        with pytest.raises(SystemExit) as exit_:
            main(["--config", path, "cases", "list", *bad])
        assert exit_.value.code == 2 and said in capsys.readouterr().err


def test_a_reopened_case_whose_answer_is_late_is_overdue_in_cases_list_and_the_report(db):
    """The reopen's promise is the case's answer_due_at; its timer has fired (the escalation went out), as the
    running daemon leaves it, and the case stays overdue until the answer clears it."""
    from datetime import datetime, timedelta

    from aftercare.report import build_report
    from aftercare.store.models import Case, Timer
    from aftercare.store.views import case_summaries
    now = datetime(2026, 3, 10, 12, 0)
    common = dict(customer_address="c@example.net", owner="jane@example.com", updated_at=now,
                  created_at=now - timedelta(days=10), reopened_count=1)
    late = Case.create(status="open", subject="late", first_response_due_at=now - timedelta(days=9),
                       first_response_at=now - timedelta(days=9, hours=2), answer_due_at=now - timedelta(hours=3),
                       **common)
    Timer.create(case=late, kind="reopened_low_rating", due_at=now - timedelta(hours=3), state="fired",
                 fired_at=now - timedelta(hours=3))
    waiting = Case.create(status="open", subject="waiting", first_response_due_at=now - timedelta(days=9),
                          first_response_at=now - timedelta(days=9, hours=2), answer_due_at=now + timedelta(hours=3),
                          **common)
    # Never answered the first time, reopened, and late again: one answer is owed, listed once.
    twice = Case.create(status="open", subject="twice", first_response_due_at=now - timedelta(days=9),
                        answer_due_at=now - timedelta(hours=1), **common)
    answered = Case.create(status="open", subject="answered", first_response_due_at=now - timedelta(days=9),
                           first_response_at=now - timedelta(days=9, hours=2), **common)
    assert [r["id"] for r in case_summaries(overdue=True, now=now)] == [late.id, twice.id]
    assert {r["id"]: r["overdue"] for r in case_summaries(now=now)} == {
        late.id: True, waiting.id: False, twice.id: True, answered.id: False}
    report = build_report(now=now)
    by_id = {c["id"]: c["overdue"] for c in report["open_cases"]}
    assert by_id == {late.id: [{"what": "reopened_answer", "due_at": "2026-03-10T09:00:00Z"}], waiting.id: [],
                     twice.id: [{"what": "reopened_answer", "due_at": "2026-03-10T11:00:00Z"}], answered.id: []}


def test_urgent_cases_come_first_and_the_priority_filter_keeps_them(db):
    from datetime import datetime, timedelta

    from aftercare.store.models import Case
    from aftercare.store.views import case_summaries
    now = datetime(2026, 3, 10, 12, 0)
    made = {}
    for name, priority in (("old normal", "normal"), ("urgent one", "urgent"), ("new normal", "normal"),
                           ("urgent two", "urgent")):
        made[name] = Case.create(status="open", subject=name, customer_address="c@example.net",
                                 owner="jane@example.com", created_at=now - timedelta(days=len(made)),
                                 updated_at=now, priority=priority)
    assert [r["subject"] for r in case_summaries()] == ["urgent one", "urgent two", "old normal", "new normal"]
    assert [r["subject"] for r in case_summaries(priority="urgent")] == ["urgent one", "urgent two"]
    assert [r["priority"] for r in case_summaries(priority="normal")] == ["normal", "normal"]

"""After the remedy, as conversations with the pure rules."""
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from aftercare.cases import aftercare
from aftercare.cases.aftercare import AftercarePolicy, Extras
from aftercare.cases.calendar import BusinessHours
from aftercare.cases.lifecycle import Policy
from aftercare.cases.ratings import Rating
from aftercare.cases.routing import CaseView

NOW = datetime(2026, 3, 6, 17, 30)  # a Friday, 17:30 UTC
POLICY = Policy(first_response_due=timedelta(hours=24), support_name="Acme Support",
                support_address="support@example.com", staff_names={"jane@example.com": "Jane Doe"},
                default_owner="jane@example.com", staff_addresses=("jane@example.com",),
                escalation=("boss@example.com",))
CARE = AftercarePolicy(followup_after=timedelta(days=2), checkin_after=timedelta(days=7),
                       close_after=timedelta(days=14), reopen_at_or_below=2)
WINDOW = BusinessHours(days=frozenset(range(5)), start=time(9), end=time(18), timezone=ZoneInfo("UTC"))


def resolved(**kw):
    base = dict(id=4, status="resolved", customer_address="maria@example.net", customer_name="Maria Rossi",
                subject="Kettle", owner="jane@example.com", created_at=NOW - timedelta(days=3))
    base.update(kw)
    return CaseView(**base)


def test_resolving_plans_a_followup_and_a_checkin():
    timers = aftercare.timers_on_resolve(NOW, CARE)
    assert [(t.kind, t.due_at) for t in timers] == [("followup", NOW + timedelta(days=2)),
                                                    ("checkin", NOW + timedelta(days=7))]


def test_scheduled_customer_emails_wait_for_the_send_window_and_staff_timers_do_not():
    saturday = datetime(2026, 3, 7, 8, 0)
    assert aftercare.send_time("checkin", saturday, WINDOW) == datetime(2026, 3, 9, 9, 0)
    assert aftercare.send_time("followup", datetime(2026, 3, 9, 10, 0), WINDOW) == datetime(2026, 3, 9, 10, 0)
    assert aftercare.send_time("checkin_close", saturday, WINDOW) == saturday
    assert aftercare.send_time("checkin", saturday, None) == saturday


@pytest.mark.parametrize("kind,when,enabled,case_extra,moment,expected", [
    ("discount", "always", True, "", "checkin", True),
    ("discount", "always", True, "", "low_rating", False),
    ("discount", "low_rating", True, "", "low_rating", True),
    ("discount", "low_rating", True, "", "checkin", False),
    ("discount", "on_request", True, "", "checkin", False),
    ("discount", "on_request", True, "discount", "checkin", True),
    ("discount", "always", False, "", "checkin", False),
    ("discount", "always", False, "discount", "checkin", True),   # staff asked for it
    ("discount", "always", True, "none", "checkin", False),       # staff turned it off
    ("apology", "always", True, "discount", "checkin", True),     # #extra discount does not cancel the apology
    ("apology", "always", True, "none", "checkin", False),
])
def test_which_extras_a_case_gets(kind, when, enabled, case_extra, moment, expected):
    extras = Extras(discount_enabled=enabled, discount_when=when, apology_enabled=enabled, apology_when=when)
    assert aftercare.wants(kind, moment, case_extra, extras) is expected


def test_a_checkin_carries_its_extras_and_warns_when_the_pool_is_empty():
    out = aftercare.on_checkin(resolved(), NOW, POLICY, discount_code="AAA", discount_value="15%", apology=True,
                               pool_empty=False)
    assert [o.kind for o in out] == ["checkin"]
    assert out[0].context["discount"] == {"code": "AAA", "value": "15%"} and out[0].context["apology"] is True
    out = aftercare.on_checkin(resolved(), NOW, POLICY, discount_code=None, discount_value="15%", apology=False,
                               pool_empty=True)
    assert [(o.kind, o.to) for o in out] == [("checkin", "maria@example.net"), ("pool_empty", "jane@example.com")]
    assert out[0].context["discount"] is None


def test_no_followup_or_checkin_for_a_case_that_is_open_again():
    assert aftercare.on_followup(resolved(status="open"), NOW, POLICY) == []
    assert aftercare.on_checkin(resolved(status="open"), NOW, POLICY, discount_code=None, discount_value="",
                                apology=False, pool_empty=False) == []


def test_a_low_rating_reopens_escalates_and_asks_what_would_make_it_right():
    result = aftercare.on_rating(resolved(), Rating(2, "Took three weeks."), NOW, POLICY, CARE)
    assert result.status == "open" and result.reopened
    assert [(o.kind, o.to) for o in result.emails] == [
        ("rating_low", "maria@example.net"), ("low_rating", "jane@example.com"), ("low_rating", "boss@example.com")]
    assert result.emails[0].context["rating"] == {"score": 2, "comment": "Took three weeks."}


def test_a_better_rating_closes_with_thanks():
    result = aftercare.on_rating(resolved(), Rating(3, ""), NOW, POLICY, CARE)
    assert result.status == "closed" and not result.reopened
    assert [o.kind for o in result.emails] == ["rating_thanks", "rating_notice"]


# --- catching up after an outage --------------------------------------------------------------------------------


def test_a_checkin_overdue_with_its_followup_keeps_the_configured_gap_behind_it():
    gap = CARE.checkin_after - CARE.followup_after  # five days
    resolved_at = NOW - timedelta(days=14)  # both fell due a week or more ago, while the daemon was down
    checkin_due = resolved_at + CARE.checkin_after
    assert aftercare.checkin_after_followup(NOW, checkin_due, CARE) == NOW + gap
    # Due a little sooner than the gap: still moved to exactly the gap.
    assert aftercare.checkin_after_followup(NOW, NOW + gap - timedelta(seconds=1), CARE) == NOW + gap


def test_a_checkin_already_far_enough_behind_the_followup_stays_where_it_is():
    gap = CARE.checkin_after - CARE.followup_after
    assert aftercare.checkin_after_followup(NOW, NOW + gap, CARE) is None  # the normal case: on time
    assert aftercare.checkin_after_followup(NOW, NOW + gap + timedelta(days=1), CARE) is None


# --- "not fixed" wins over a rating ------------------------------------------------------------------------------


def read(text, status="resolved", awaiting=True):
    from aftercare.cases.ratings import DEFAULT_WORDS
    return aftercare.read_reply(text, status=status, awaiting_rating=awaiting, words=DEFAULT_WORDS,
                                reopen_at_or_below=CARE.reopen_at_or_below)


@pytest.mark.parametrize("text", ["5 stars for Jane, but the kettle broke again.", "4 - but it still doesn't work",
                                  "Good, but it still does not work"])
def test_a_reply_that_reads_like_a_good_rating_but_says_it_is_not_fixed_reopens(text):
    from aftercare.cases.ratings import DEFAULT_WORDS, parse_rating
    assert parse_rating(text, DEFAULT_WORDS).score > CARE.reopen_at_or_below  # a rating that would close the case
    assert read(text) == aftercare.ReplyReading(rating=None, not_fixed=True)


def test_not_fixed_wins_whatever_the_rating_parser_makes_of_the_reply(monkeypatch):
    text = "5 minutes after the new kettle arrived it broke again. Please call me."
    assert read(text) == aftercare.ReplyReading(not_fixed=True)
    # The parser of the time this was reported read "5 minutes" as a 5: not fixed still wins.
    monkeypatch.setattr(aftercare, "parse_rating", lambda t, words: Rating(5, t[2:]))
    assert read(text) == aftercare.ReplyReading(not_fixed=True)


def test_a_low_rating_that_says_not_fixed_keeps_the_low_rating_path_which_reopens_too():
    reading = read("1\nIt broke again after two days.")
    assert reading.rating == Rating(1, "It broke again after two days.") and not reading.not_fixed


def test_a_plain_rating_and_a_plain_not_fixed_are_read_as_before():
    assert read("5 - the new kettle works perfectly.") == aftercare.ReplyReading(
        rating=Rating(5, "the new kettle works perfectly."))
    assert read("No, it still does not work.", awaiting=False) == aftercare.ReplyReading(not_fixed=True)
    assert read("5", awaiting=False) == aftercare.ReplyReading()  # no check-in yet: not a rating
    assert read("It still does not work.", status="open", awaiting=False) == aftercare.ReplyReading()
    assert read("Can I order spare lids too?") == aftercare.ReplyReading()

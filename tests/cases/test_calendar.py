"""Business hours: when a reminder may reach a person, with an injected clock and naive-UTC moments."""
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings, strategies as st

from aftercare.cases.calendar import BusinessHours, parse_clock, parse_days

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
JERUSALEM = ZoneInfo("Asia/Jerusalem")
UTC = ZoneInfo("UTC")
MON_FRI = frozenset(range(5))


def hours(days=MON_FRI, start=time(9), end=time(17), zone=BERLIN, holidays=()):
    return BusinessHours(days=frozenset(days), start=start, end=end, timezone=zone, holidays=frozenset(holidays))


def utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in ``zone`` as naive UTC, the way the daemon stores moments."""
    return local.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


# --- next_working_moment ---------------------------------------------------------------------------------------


def test_friday_evening_waits_for_monday_morning_local_time():
    friday_evening = utc(datetime(2026, 3, 6, 18, 30), BERLIN)
    assert hours().next_working_moment(friday_evening) == utc(datetime(2026, 3, 9, 9, 0), BERLIN)
    assert hours().next_working_moment(friday_evening) == datetime(2026, 3, 9, 8, 0)  # CET = UTC+1


def test_the_weekend_itself_waits_for_monday():
    for day in (7, 8):  # Saturday, Sunday, any time
        for hour in (0, 9, 12, 23):
            assert hours().next_working_moment(utc(datetime(2026, 3, day, hour), BERLIN)) == datetime(2026, 3, 9, 8)


def test_closing_time_itself_is_after_hours():
    assert not hours().is_working(utc(datetime(2026, 3, 4, 17, 0), BERLIN))
    assert hours().is_working(utc(datetime(2026, 3, 4, 16, 59, 59), BERLIN))
    assert hours().next_working_moment(utc(datetime(2026, 3, 4, 17, 0), BERLIN)) == utc(datetime(2026, 3, 5, 9),
                                                                                        BERLIN)


def test_before_opening_waits_for_the_same_days_start():
    early = utc(datetime(2026, 3, 4, 6, 15), BERLIN)
    assert hours().next_working_moment(early) == utc(datetime(2026, 3, 4, 9, 0), BERLIN)
    # Just after midnight local is still the previous day in UTC; the local day is what counts.
    after_midnight = utc(datetime(2026, 3, 4, 0, 30), BERLIN)
    assert after_midnight.day == 3
    assert hours().next_working_moment(after_midnight) == utc(datetime(2026, 3, 4, 9, 0), BERLIN)


def test_inside_hours_a_moment_is_unchanged():
    for moment in (utc(datetime(2026, 3, 4, 9, 0), BERLIN), utc(datetime(2026, 3, 4, 12, 34, 56), BERLIN)):
        assert hours().is_working(moment) and hours().next_working_moment(moment) == moment


def test_a_holiday_is_skipped():
    easter = hours(holidays=[date(2026, 4, 3), date(2026, 4, 6)])  # Good Friday and Easter Monday
    thursday_evening = utc(datetime(2026, 4, 2, 20, 0), BERLIN)
    assert easter.next_working_moment(thursday_evening) == utc(datetime(2026, 4, 7, 9, 0), BERLIN)
    assert not easter.is_working(utc(datetime(2026, 4, 3, 11, 0), BERLIN))
    assert easter.next_working_moment(utc(datetime(2026, 4, 6, 11, 0), BERLIN)) == utc(datetime(2026, 4, 7, 9),
                                                                                       BERLIN)
    assert easter.next_working_moment(utc(datetime(2026, 4, 6, 7, 0), BERLIN)) == utc(datetime(2026, 4, 7, 9),
                                                                                      BERLIN)


def test_a_sunday_to_thursday_week():
    week = hours(days=parse_days("Sun-Thu"), start=time(8, 30), end=time(16, 30), zone=JERUSALEM)
    thursday_evening = utc(datetime(2026, 3, 5, 17, 0), JERUSALEM)
    assert week.next_working_moment(thursday_evening) == utc(datetime(2026, 3, 8, 8, 30), JERUSALEM)
    assert not week.is_working(utc(datetime(2026, 3, 6, 10, 0), JERUSALEM))  # Friday
    assert week.is_working(utc(datetime(2026, 3, 8, 10, 0), JERUSALEM))  # Sunday


def test_new_york_across_the_march_clock_change():
    # 2026-03-08 is the Sunday the clocks go forward: EST (UTC-5) before, EDT (UTC-4) after.
    ny = hours(zone=NEW_YORK)
    friday_evening = datetime(2026, 3, 6, 23, 0)  # 18:00 EST
    assert ny.next_working_moment(friday_evening) == datetime(2026, 3, 9, 13, 0)  # Monday 09:00 EDT
    assert ny.next_working_moment(datetime(2026, 3, 6, 14, 0)) == datetime(2026, 3, 6, 14, 0)  # Fri 09:00 EST
    assert not ny.is_working(datetime(2026, 3, 9, 12, 30))  # 08:30 EDT, though 09:00 the week before
    assert ny.is_working(datetime(2026, 3, 9, 13, 0))


def test_a_start_inside_the_skipped_hour_begins_when_the_clock_allows():
    every_day = hours(days=range(7), start=time(2, 30), zone=NEW_YORK)
    sunday_1am = datetime(2026, 3, 8, 6, 0)  # 01:00 EST; 02:30 does not exist this night
    result = every_day.next_working_moment(sunday_1am)
    assert result >= sunday_1am and every_day.is_working(result)
    assert result == datetime(2026, 3, 8, 7, 30)  # 03:30 EDT, the first working moment that day


def test_hours_that_fall_wholly_in_the_skipped_hour_wait_for_the_next_day():
    odd = hours(days=range(7), start=time(2, 0), end=time(2, 45), zone=NEW_YORK)
    sunday_1am = datetime(2026, 3, 8, 6, 0)
    result = odd.next_working_moment(sunday_1am)
    assert odd.is_working(result)
    assert result == datetime(2026, 3, 9, 6, 0)  # Monday 02:00 EDT


def test_the_november_change_repeats_an_hour_and_both_count():
    every_day = hours(days=range(7), start=time(0, 30), end=time(1, 45), zone=NEW_YORK)
    # 2026-11-01: 01:00-02:00 happens twice (EDT then EST).
    assert every_day.is_working(datetime(2026, 11, 1, 5, 30))  # 01:30 EDT
    assert every_day.is_working(datetime(2026, 11, 1, 6, 30))  # 01:30 EST
    assert every_day.next_working_moment(datetime(2026, 11, 1, 6, 50)) >= datetime(2026, 11, 1, 6, 50)


def test_a_start_in_the_repeated_hour_is_not_missed_on_its_second_pass():
    night = hours(days=range(7), start=time(2, 15), end=time(2, 30), zone=BERLIN)
    # 2027-10-31: 03:00 CEST becomes 02:00 CET. 01:00 UTC is the second 02:00; the second 02:15 is 01:15 UTC.
    assert night.next_working_moment(datetime(2027, 10, 31, 1, 0)) == datetime(2027, 10, 31, 1, 15)
    assert night.next_working_moment(datetime(2027, 10, 31, 0, 0)) == datetime(2027, 10, 31, 0, 15)  # first pass


def test_no_working_day_at_all_holds_nothing_back():
    never = hours(days=[0], holidays=[date(2026, 3, 2) + timedelta(weeks=w) for w in range(60)])
    moment = datetime(2026, 3, 1, 12)
    assert never.next_working_moment(moment) == moment


# --- properties ------------------------------------------------------------------------------------------------

ZONES = st.sampled_from([BERLIN, NEW_YORK, JERUSALEM, UTC, ZoneInfo("Australia/Lord_Howe"),
                         ZoneInfo("Pacific/Chatham"), ZoneInfo("America/St_Johns"), ZoneInfo("Asia/Kathmandu")])
CLOCK = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45, 59]))
MOMENTS = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31))


@st.composite
def business_hours(draw):
    start, end = draw(CLOCK), draw(CLOCK)
    assume(start < end)
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    holidays = draw(st.frozensets(st.dates(date(2025, 1, 1), date(2028, 1, 31)), max_size=20))
    return BusinessHours(days=days, start=start, end=end, timezone=draw(ZONES), holidays=holidays)


@settings(max_examples=400, deadline=None)
@given(business_hours(), MOMENTS)
def test_the_next_working_moment_is_never_earlier_and_always_working(bh, moment):
    result = bh.next_working_moment(moment)
    assert result >= moment
    assert bh.is_working(result)
    assert result.tzinfo is None
    if bh.is_working(moment):
        assert result == moment
    else:
        assert result - moment < timedelta(days=400)
        assert bh.next_working_moment(result) == result


@settings(max_examples=200, deadline=None)
@given(business_hours(), MOMENTS)
def test_nothing_between_the_moment_and_the_result_was_a_working_minute(bh, moment):
    result = bh.next_working_moment(moment)
    assume(result - moment <= timedelta(days=3))
    probe = moment
    while probe < result - timedelta(minutes=15):
        assert not bh.is_working(probe), probe
        probe += timedelta(minutes=15)


# --- parse_days / parse_clock ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text,days", [
    ("Mon-Fri", {0, 1, 2, 3, 4}), ("mon-fri", {0, 1, 2, 3, 4}), ("Sun-Thu", {6, 0, 1, 2, 3}),
    ("Mon,Wed,Fri", {0, 2, 4}), ("Mon, Wed , Fri", {0, 2, 4}), ("Fri-Mon", {4, 5, 6, 0}), ("Sat", {5}),
    ("Mon-Mon", {0}), ("Monday-Friday", {0, 1, 2, 3, 4}), ("Tues,Thurs", {1, 3}), ("Mon-Wed,Fri", {0, 1, 2, 4}),
    ("Mon,,Tue", {0, 1}),
])
def test_days_are_read_as_people_write_them(text, days):
    assert parse_days(text) == frozenset(days)


@pytest.mark.parametrize("text", ["", ",", "Mo-Fr", "Mon-", "-Fri", "Funday", "Monkey", "Mon-Frisbee", "1-5",
                                  "Mon-Tue-Wed", "Fri-Sundae"])
def test_days_refuse_what_is_not_a_day(text):
    with pytest.raises(ValueError):
        parse_days(text)


@pytest.mark.parametrize("text,clock", [("09:00", time(9)), ("9:00", time(9)), ("17:30", time(17, 30)),
                                        (" 08:15 ", time(8, 15)), ("00:00", time(0)), ("23:59", time(23, 59))])
def test_clock_times(text, clock):
    assert parse_clock(text) == clock


@pytest.mark.parametrize("text", ["", "9", "9am", "24:00", "12:60", "09:00:00", "-1:00", "9:5", "1_0:00", "+9:00",
                                  "09 : 00", "nine"])
def test_clock_refuses_what_is_not_hh_mm(text):
    with pytest.raises(ValueError, match="HH:MM"):
        parse_clock(text)


@given(st.text(max_size=20))
def test_parse_days_and_clock_raise_only_value_error(text):
    for parse in (parse_days, parse_clock):
        try:
            parse(text)
        except ValueError:
            pass

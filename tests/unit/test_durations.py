from datetime import timedelta

import pytest
from hypothesis import given, strategies as st

from aftercare.durations import DurationError, format_duration, humanize, parse_duration


@pytest.mark.parametrize("text,expected", [
    ("90s", timedelta(seconds=90)), ("15m", timedelta(minutes=15)), ("24h", timedelta(hours=24)),
    ("7d", timedelta(days=7)), ("1d12h", timedelta(hours=36)), (" 2w ", timedelta(days=14)),
    ("1h30m", timedelta(minutes=90)), ("1D", timedelta(days=1)),
])
def test_accepted_forms(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "10", "h", "1x", "1h1h", "-5m", "1.5h", "1m1h2", "24 hours"])
def test_rejected_forms_say_what_is_accepted(text):
    with pytest.raises(DurationError, match="for example"):
        parse_duration(text)


@given(st.text())
def test_never_raises_anything_but_its_own_error(text):
    try:
        parse_duration(text)
    except DurationError:
        pass


@given(st.integers(min_value=1, max_value=10**7))
def test_format_round_trips(seconds):
    assert parse_duration(format_duration(timedelta(seconds=seconds))) == timedelta(seconds=seconds)


def test_humanize_reads_like_a_person():
    assert humanize(timedelta(hours=24)) == "24 hours"
    assert humanize(timedelta(days=2)) == "2 days"
    assert humanize(timedelta(hours=36)) == "36 hours"
    assert humanize(timedelta(hours=4)) == "4 hours"
    assert humanize(timedelta(minutes=90)) == "90 minutes"
    assert humanize(timedelta(seconds=90)) == "1 minute"
    assert humanize(timedelta(seconds=3700)) == "1 hour 1 minute"
    assert humanize(timedelta(seconds=1)) == "1 second"

"""Property-based: the parsers that see outside input never raise anything but their own documented error.

* ``aftercare.mail.parse.parse``: never raises, on any bytes (and gives one-line header values);
* ``aftercare.cases.commands.parse_reply``: raises only ``CommandError`` (and what it accepts can be resolved);
* ``aftercare.cases.ratings.parse_rating``: never raises; a rating it finds is 1..5;
* ``aftercare.durations.parse_duration``: raises only ``DurationError``; what it accepts round-trips.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftercare.cases.commands import COMMANDS, CommandError, parse_reply, resolve_when
from aftercare.cases.ratings import DEFAULT_WORDS, parse_rating
from aftercare.durations import DurationError, format_duration, parse_duration
from aftercare.inbound import InboundMail
from aftercare.mail.parse import parse

pytestmark = pytest.mark.reliability

BOUNDED = settings(max_examples=300, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# --- mail ----------------------------------------------------------------------------------------

HEADER_NAMES = ["From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
                "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "MIME-Version", "Return-Path",
                "Auto-Submitted", "X-Loop", "Precedence", "List-Id", "X-Failed-Recipients"]
NASTY_VALUES = ["", " ", "<>", "=?utf-8?B?DQpCY2M6IHZAZXhhbXBsZS5vcmc=?=", "=?x-unknown?Q?=FF?=", "=?utf-8?Q?", "\x00",
                "multipart/mixed; boundary=\"b\"", "multipart/report; report-type=delivery-status; boundary=b",
                "message/rfc822", "message/delivery-status", "text/rfc822-headers", "text/html; charset=utf-16",
                "text/plain; charset=\"x-\\\"evil\"", "base64", "quoted-printable", "x-uuencode",
                "attachment; filename*=utf-8''%0D%0A", "a@b", "\"q\\\"\" <a@b>, <c@d>", "<a@b> <c@d>",
                "Mon, 32 Foo 99999 99:99:99 +9999", "{{ 7*7 }}"]
header_value = st.one_of(st.sampled_from(NASTY_VALUES), st.text(max_size=80),
                         st.binary(max_size=80).map(lambda b: b.decode("latin-1")))
header = st.tuples(st.one_of(st.sampled_from(HEADER_NAMES), st.text(max_size=12)), header_value)
body_part = st.one_of(st.binary(max_size=400), st.sampled_from([
    b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n",
    b"--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: x@y\r\n\r\nin\r\n--b--\r\n",
    b"--b\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; a@b\r\nAction: failed\r\n--b",
    b"--b\r\nContent-Type: text/html\r\n\r\n<p>" + b"<div>" * 300 + b"\r\n--b--\r\n",
    b"=\r\n=ZZ=E9", b"!!!!====", b"\r\n.\r\n", b"\x00\xff\xfe"]))


@st.composite
def raw_mail(draw) -> bytes:
    headers = draw(st.lists(header, max_size=12))
    sep = draw(st.sampled_from([b"\r\n", b"\n", b"\r"]))
    head = sep.join(f"{k}: {v}".encode("utf-8", "surrogateescape") for k, v in headers)
    body = b"".join(draw(st.lists(body_part, max_size=4)))
    return head + sep + sep + body


def _one_line(value: str) -> bool:
    return "\r" not in value and "\n" not in value and "\x00" not in value


@BOUNDED
@given(st.one_of(st.binary(max_size=3000), raw_mail()))
def test_parse_never_raises_and_header_values_are_one_line(raw):
    mail = parse(raw)
    assert isinstance(mail, InboundMail)
    assert mail.fingerprint and mail.size == len(raw)
    assert _one_line(mail.subject) and _one_line(mail.from_name)
    assert all(_one_line(v) for v in mail.headers.values())
    for address in (mail.from_address, *mail.to, *mail.cc, *mail.reply_to):
        assert address is None or _one_line(address)
    for mid in (mail.message_id, *mail.in_reply_to, *mail.references):
        assert mid is None or (_one_line(mid) and "<" not in mid and ">" not in mid)


# --- staff commands ----------------------------------------------------------------------------

command_line = st.one_of(
    st.text(max_size=60),
    st.builds(lambda name, rest: f"#{name} {rest}", st.sampled_from(COMMANDS + ("Plan", "DONE", "nope", "")),
              st.one_of(st.text(max_size=40),
                        st.from_regex(r"\+[0-9]{1,7}[wdhms]{1,3} [a-z ]{0,10}", fullmatch=True),
                        st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{1,2}:[0-9]{2})? [a-z]{0,8}", fullmatch=True),
                        st.from_regex(r"[0-9 ,²٣]{0,12}", fullmatch=True))),
)


@BOUNDED
@given(st.lists(command_line, max_size=8).map("\n".join),
       st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
       st.sampled_from(["UTC", "Europe/Berlin", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/St_Johns"]))
def test_parse_reply_raises_only_command_error_and_its_dates_resolve(text, now, tz):
    try:
        parsed = parse_reply(text)
    except CommandError as exc:
        assert exc.line_number >= 1 and exc.reason
        return
    for command in parsed.commands:
        assert command.name in COMMANDS
        if command.when is not None:
            assert isinstance(resolve_when(command.when, now, ZoneInfo(tz)), datetime)


# --- ratings -----------------------------------------------------------------------------------

rating_text = st.one_of(
    st.text(max_size=200),
    st.builds(lambda a, b: a + b, st.sampled_from(["4", "４/５", "5 stars", "***", "★★★☆☆", "⭐⭐", "0", "10/10", "4.5",
                                                   "4-5", "4:30", "Very good", "sehr gut!", "\ufeff 3 of 5"]),
              st.text(max_size=60)),
)


@BOUNDED
@given(rating_text, st.dictionaries(st.text(max_size=12), st.integers(min_value=-10, max_value=10), max_size=4))
def test_parse_rating_never_raises(text, extra_words):
    for words in (DEFAULT_WORDS, {**DEFAULT_WORDS, **extra_words}):
        rating = parse_rating(text, words)
        assert rating is None or (words is not DEFAULT_WORDS or 1 <= rating.score <= 5)


# --- durations ---------------------------------------------------------------------------------

@BOUNDED
@given(st.one_of(st.text(max_size=30), st.from_regex(r"\s*([0-9]{1,8}\s*[wdhmsWDHMS]\s*){0,6}", fullmatch=True),
                 st.integers(), st.none(), st.binary(max_size=10), st.floats(allow_nan=True)))
def test_parse_duration_raises_only_duration_error(text):
    try:
        delta = parse_duration(text)
    except DurationError as exc:
        assert str(exc)
        return
    assert isinstance(delta, timedelta) and delta >= timedelta(0)
    assert parse_duration(format_duration(delta)) == delta or delta == timedelta(0)

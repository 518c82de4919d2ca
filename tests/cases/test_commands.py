"""The staff #command grammar: what a staff member types at the top of a reply, and what the daemon reads."""
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from aftercare.cases.commands import (COMMANDS, EXTRAS, MAX_TEXT, Command, CommandError, When, parse_reply,
                                   resolve_when)

NOW = datetime(2026, 3, 2, 9, 0)  # naive UTC, a Monday
UTC = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")


def error_of(text: str) -> CommandError:
    with pytest.raises(CommandError) as info:
        parse_reply(text)
    return info.value


# --- a reply as a whole ----------------------------------------------------------------------------------------


def test_a_reply_without_commands_is_all_body():
    parsed = parse_reply("Dear Maria,\n\nwe are sorry.\n")
    assert parsed.commands == () and parsed.body == "Dear Maria,\n\nwe are sorry." and not parsed.internal


def test_an_empty_reply_has_no_commands_and_no_body():
    assert parse_reply("") == parse_reply("\n\n  \n")
    assert parse_reply("").commands == () and parse_reply("").body == ""


def test_commands_come_first_and_the_first_other_line_starts_the_body():
    parsed = parse_reply("#plan 2026-03-06 Send a replacement kettle\n"
                         "#plan +2d Call the courier\n"
                         "#done 1,2\n"
                         "#owner sam@example.com\n"
                         "Dear Maria, ...\n"
                         "#status\n")
    assert [c.name for c in parsed.commands] == ["plan", "plan", "done", "owner"]
    assert [c.line_number for c in parsed.commands] == [1, 2, 3, 4]
    assert parsed.body == "Dear Maria, ...\n#status"  # a # line after the text is just text


def test_leading_blank_lines_and_blank_lines_between_commands_are_skipped_but_counted():
    parsed = parse_reply("\n  \n#note first\n\n#status\n\nHello")
    assert [(c.name, c.line_number) for c in parsed.commands] == [("note", 3), ("status", 5)]
    assert parsed.body == "Hello"


def test_crlf_and_bare_cr_line_endings_read_like_lf():
    lf = parse_reply("#plan +2d Call the courier\n#done 1\nDear Maria,\nbye\n")
    assert parse_reply("#plan +2d Call the courier\r\n#done 1\r\nDear Maria,\r\nbye\r\n") == lf
    assert parse_reply("#plan +2d Call the courier\r#done 1\rDear Maria,\rbye\r") == lf
    error = error_of("\r\n#plan +2d ok\r\n#frobnicate\r\nHi")
    assert error.line_number == 3 and error.line == "#frobnicate"


def test_command_lines_may_be_indented_or_carry_a_byte_order_mark():
    parsed = parse_reply("\ufeff#status\n   #note indented\t\nBody")
    assert [(c.name, c.text) for c in parsed.commands] == [("status", ""), ("note", "indented")]


def test_commands_are_case_insensitive():
    parsed = parse_reply("#PLAN +2d Call\n#Done 1\n#Extra APOLOGY\n#STATUS")
    assert [c.name for c in parsed.commands] == ["plan", "done", "extra", "status"]
    assert parsed.commands[2].text == "apology"


def test_a_reply_that_is_only_commands_has_an_empty_body():
    assert parse_reply("#done 1\n\n").body == ""


def test_internal_makes_the_whole_reply_internal():
    parsed = parse_reply("#internal\nJust between us: the courier lost it.")
    assert parsed.internal and parsed.body == "Just between us: the courier lost it."
    assert not parse_reply("#note x\nHello").internal


# --- #plan -----------------------------------------------------------------------------------------------------


def test_plan_with_a_date():
    (cmd,) = parse_reply("#plan 2026-03-06 Send a replacement kettle").commands
    assert cmd == Command("plan", 1, text="Send a replacement kettle", when=When(day=date(2026, 3, 6)))


def test_plan_with_a_date_and_a_time():
    (cmd,) = parse_reply("#plan 2026-03-06 14:30 Send a replacement kettle").commands
    assert cmd.when == When(day=date(2026, 3, 6), at=time(14, 30)) and cmd.text == "Send a replacement kettle"
    (cmd,) = parse_reply("#plan 2026-03-06 9:05 Call back").commands
    assert cmd.when.at == time(9, 5)


def test_plan_with_a_duration():
    (cmd,) = parse_reply("#plan +2d Call the courier").commands
    assert cmd.when == When(after=timedelta(days=2)) and cmd.text == "Call the courier"
    (cmd,) = parse_reply("#plan +1d12h Refund").commands
    assert cmd.when == When(after=timedelta(hours=36))
    (cmd,) = parse_reply("#plan +4h Ring her").commands
    assert cmd.when == When(after=timedelta(hours=4))


def test_plan_text_keeps_its_own_words_and_may_start_with_a_number():
    (cmd,) = parse_reply("#plan 2026-03-06 3 new lids, sent by DHL  ").commands
    assert cmd.text == "3 new lids, sent by DHL" and cmd.when.at is None


def test_a_past_date_is_not_the_parsers_business():
    (cmd,) = parse_reply("#plan 2020-01-01 Too late").commands
    assert cmd.when == When(day=date(2020, 1, 1))


@pytest.mark.parametrize("line,reason", [
    ("#plan", "needs a date and a step"),
    ("#plan 2026-03-06", "needs the step"),
    ("#plan 2026-03-06 14:30", "needs the step"),
    ("#plan +2d", "needs the step"),
    ("#plan 2026-02-30 Refund", "not a real date"),
    ("#plan 2026-13-01 Refund", "not a real date"),
    ("#plan 2026-03-06 24:00 Refund", "not a time of day"),
    ("#plan 2026-03-06 12:60 Refund", "not a time of day"),
    ("#plan 6.3.2026 Refund", "not a date"),
    ("#plan tomorrow Refund", "not a date"),
    ("#plan 2026-3-6 Refund", "not a date"),
    ("#plan +2x Refund", "not a duration"),
    ("#plan + Refund", "not a duration"),
    ("#plan +0d Refund", "longer than zero"),
    ("#plan +2d " + "x" * (MAX_TEXT + 1), f"longer than {MAX_TEXT}"),
])
def test_bad_plan_lines_name_the_line_and_the_reason(line, reason):
    error = error_of(f"\n#status\n{line}\nDear Maria")
    assert error.line_number == 3 and error.line == line and reason in error.reason
    assert f"line 3: {line!r}" in str(error)


def test_a_plan_step_of_exactly_the_maximum_length_is_accepted():
    (cmd,) = parse_reply("#plan +2d " + "x" * MAX_TEXT).commands
    assert len(cmd.text) == MAX_TEXT


def test_a_plan_too_far_ahead_is_refused_rather_than_overflowing_later():
    assert "too far" in error_of("#plan +999999w Refund").reason
    assert "too far" in error_of("#plan 9999-12-31 Refund").reason


# --- #done -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("line,steps", [
    ("#done 1", (1,)), ("#done 1,2", (1, 2)), ("#done 1 2", (1, 2)), ("#done 1, 2", (1, 2)),
    ("#done 3,1", (3, 1)), ("#done 1,,2,", (1, 2)), ("#done 1\t2", (1, 2)), ("#done 9999", (9999,)),
])
def test_done_takes_step_numbers_separated_by_commas_or_spaces(line, steps):
    (cmd,) = parse_reply(line).commands
    assert cmd == Command("done", 1, steps=steps)


@pytest.mark.parametrize("line,reason", [
    ("#done", "needs step numbers"),
    ("#done ,", "needs step numbers"),
    ("#done 0", "'0' is not a step number"),
    ("#done one", "'one' is not a step number"),
    ("#done -1", "'-1' is not a step number"),
    ("#done 1.5", "'1.5' is not a step number"),
    ("#done 10000", "'10000' is not a step number"),
    ("#done \u00b2", "is not a step number"),  # a superscript two is a digit to str.isdigit, not to int()
    ("#done \u0661", "is not a step number"),  # an Arabic-Indic one
])
def test_bad_done_lines(line, reason):
    error = error_of(f"#status\n{line}")
    assert error.line_number == 2 and error.line == line and reason in error.reason


def test_a_step_named_twice_is_an_error_on_the_line_that_names_it_again():
    error = error_of("#done 1,1")
    assert error.line_number == 1 and error.line == "#done 1,1" and "twice" in error.reason
    error = error_of("#done 1\n#note x\n#done 2, 1\nHi")
    assert error.line_number == 3 and error.line == "#done 2, 1" and "twice" in error.reason
    error = error_of("#done 1\n#done 2\n#done 2")
    assert error.line_number == 3 and error.line == "#done 2"


# --- the other commands ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["resolve", "close", "reopen", "internal", "status"])
def test_bare_commands_take_nothing(name):
    assert parse_reply(f"#{name}").commands == (Command(name, 1),)
    assert parse_reply(f"#{name}   ").commands == (Command(name, 1),)
    error = error_of(f"#{name} now please")
    assert error.line_number == 1 and f"#{name} takes nothing" in error.reason


@pytest.mark.parametrize("line,address", [
    ("#owner sam@example.com", "sam@example.com"),
    ("#owner <sam@example.com>", "sam@example.com"),
    ("#owner Sam.Smith@Example.COM", "sam.smith@example.com"),
    ("#owner   a@b.c  ", "a@b.c"),
])
def test_owner_takes_one_address(line, address):
    assert parse_reply(line).commands == (Command("owner", 1, text=address),)


@pytest.mark.parametrize("line", ["#owner", "#owner sam", "#owner sam@localhost", "#owner Sam <sam@example.com>",
                                  "#owner a@b.c d@e.f", "#owner @example.com"])
def test_owner_without_a_usable_address(line):
    error = error_of(line)
    assert error.line_number == 1 and "#owner needs a staff email address" in error.reason


@pytest.mark.parametrize("value", EXTRAS)
def test_extra_takes_one_of_its_values(value):
    assert parse_reply(f"#extra {value}").commands == (Command("extra", 1, text=value),)
    assert parse_reply(f"#extra {value.upper()}").commands == (Command("extra", 1, text=value),)


@pytest.mark.parametrize("line", ["#extra", "#extra voucher", "#extra discount apology"])
def test_extra_refuses_anything_else(line):
    assert "#extra takes one of: discount, apology, none" in error_of(line).reason


@pytest.mark.parametrize("name", ["note", "cause"])
def test_note_and_cause_carry_text(name):
    (cmd,) = parse_reply(f"#{name}   The courier dropped it   \nHi").commands
    assert cmd == Command(name, 1, text="The courier dropped it")
    assert "needs some text" in error_of(f"#{name}").reason
    assert f"longer than {MAX_TEXT}" in error_of(f"#{name} " + "y" * (MAX_TEXT + 1)).reason


def test_an_unknown_command_lists_the_known_ones():
    error = error_of("#plan +1d ok\n#foo bar\nHi")
    assert error.line_number == 2 and error.line == "#foo bar"
    assert "unknown command #foo" in error.reason and all(f"#{c}" in error.reason for c in COMMANDS)
    assert "unknown command #planx" in error_of("#planx +1d a").reason


@pytest.mark.parametrize("line", ["#1 priority for us is your kettle", "# plan +2d x", "#", "#plan2026-03-06 x",
                                  "#!status"])
def test_a_hash_line_that_is_not_a_command_word_is_refused_not_relayed(line):
    # A reply opening with "#1 priority ..." could be a mistyped command; it is safer to ask than to relay it.
    error = error_of(f"{line}\nDear Maria")
    assert error.line_number == 1 and error.line == line and "# followed by a word" in error.reason


def test_a_hash_line_after_the_text_is_text():
    parsed = parse_reply("Dear Maria,\n#1 priority is your kettle.")
    assert parsed.commands == () and parsed.body == "Dear Maria,\n#1 priority is your kettle."


# --- full-width characters (Japanese keyboards) ----------------------------------------------------------------


@pytest.mark.parametrize("typed, ascii_line", [
    ("＃resolve", "#resolve"),
    ("＃plan +2d Call the courier", "#plan +2d Call the courier"),
    ("＃done 1", "#done 1"),
    ("＃ｄｏｎｅ　１，２", "#done 1,2"),  # full-width letters, ideographic space, full-width digits and comma
    ("＃ＰＬＡＮ　＋２ｄ Call the courier", "#plan +2d Call the courier"),
    ("＃plan ２０２６－０３－０６ １４：３０ Call the courier", "#plan 2026-03-06 14:30 Call the courier"),
    ("＃owner ｓａｍ＠ｅｘａｍｐｌｅ．ｃｏｍ", "#owner sam@example.com"),
    ("＃extra ａｐｏｌｏｇｙ", "#extra apology"),
    ("　＃status　", "#status"),
    ("\ufeff＃internal", "#internal"),
])
def test_full_width_hash_and_ascii_read_like_ascii(typed, ascii_line):
    parsed = parse_reply(f"{typed}\nDear Maria")
    expected = parse_reply(f"{ascii_line}\nDear Maria")
    assert parsed == expected and parsed.commands and parsed.body == "Dear Maria"
    assert parsed.commands[0].line == typed.strip().lstrip("\ufeff")  # as typed, for error answers


def test_a_full_width_hash_line_is_a_command_not_text_for_the_customer():
    parsed = parse_reply("＃plan +2d Call the courier\n＃done 1\nDear Maria,\n＃status")
    assert [c.name for c in parsed.commands] == ["plan", "done"]
    assert parsed.body == "Dear Maria,\n＃status"  # after the text it is text, as with #


def test_free_text_of_a_command_keeps_the_characters_as_typed():
    (cmd,) = parse_reply("＃note　配送業者に電話済み（再送）").commands
    assert cmd == Command("note", 1, text="配送業者に電話済み（再送）")
    (cmd,) = parse_reply("＃plan ＋２ｄ　ＤＨＬで交換品を発送").commands
    assert cmd == Command("plan", 1, text="ＤＨＬで交換品を発送", when=When(after=timedelta(days=2)))
    (cmd,) = parse_reply("＃cause Ｃｏｕｒｉｅｒ damage").commands
    assert cmd.text == "Ｃｏｕｒｉｅｒ damage"


@pytest.mark.parametrize("line, reason", [
    ("＃frobnicate", "unknown command #frobnicate"),
    ("＃ plan +2d x", "# followed by a word"),
    ("＃１ priority for us is your kettle", "# followed by a word"),
    ("＃plan ＋２ｘ Refund", "'＋２ｘ' is not a duration"),
    ("＃plan ２０２６－０２－３０ Refund", "２０２６－０２－３０ is not a real date"),
    ("＃plan 明日 Refund", "'明日' is not a date"),
    ("＃plan 2026-03-06 ２４：００ Refund", "２４：００ is not a time of day"),
    ("＃done １，ｏｎｅ", "'ｏｎｅ' is not a step number"),
    ("＃done \u00b2", "is not a step number"),  # only full-width ASCII is folded, not superscripts
    ("＃resolve ｎｏｗ", "#resolve takes nothing"),
])
def test_errors_on_full_width_lines_quote_the_line_as_typed(line, reason):
    error = error_of(f"#status\n{line}\nDear Maria")
    assert error.line_number == 2 and error.line == line and reason in error.reason
    assert f"line 2: {line!r}" in str(error)


def test_a_step_named_twice_in_full_width_is_still_named_twice():
    error = error_of("＃done １\n#done 1")
    assert error.line_number == 2 and error.line == "#done 1" and "twice" in error.reason


# --- resolve_when ----------------------------------------------------------------------------------------------


def test_a_duration_counts_from_now():
    assert resolve_when(When(after=timedelta(hours=36)), NOW, BERLIN) == NOW + timedelta(hours=36)


def test_a_bare_date_means_the_end_of_that_day_local_time():
    assert resolve_when(When(day=date(2026, 3, 6)), NOW, BERLIN) == datetime(2026, 3, 6, 16, 0)  # CET = UTC+1
    assert resolve_when(When(day=date(2026, 3, 6)), NOW, BERLIN, time(18, 30)) == datetime(2026, 3, 6, 17, 30)
    assert resolve_when(When(day=date(2026, 3, 6)), NOW, UTC) == datetime(2026, 3, 6, 17, 0)


def test_a_date_and_time_is_local_and_comes_back_as_naive_utc():
    due = resolve_when(When(day=date(2026, 7, 1), at=time(14, 30)), NOW, BERLIN)
    assert due == datetime(2026, 7, 1, 12, 30) and due.tzinfo is None  # CEST = UTC+2


def test_the_day_the_clocks_go_forward_in_berlin():
    # 2026-03-29: 02:00 CET becomes 03:00 CEST.
    assert resolve_when(When(day=date(2026, 3, 28)), NOW, BERLIN) == datetime(2026, 3, 28, 16, 0)
    assert resolve_when(When(day=date(2026, 3, 29)), NOW, BERLIN) == datetime(2026, 3, 29, 15, 0)
    assert resolve_when(When(day=date(2026, 3, 29), at=time(1, 30)), NOW, BERLIN) == datetime(2026, 3, 29, 0, 30)
    assert resolve_when(When(day=date(2026, 3, 29), at=time(3, 30)), NOW, BERLIN) == datetime(2026, 3, 29, 1, 30)
    # 02:30 does not exist that night; it is read with the offset in force before the change, i.e. 03:30 CEST.
    assert resolve_when(When(day=date(2026, 3, 29), at=time(2, 30)), NOW, BERLIN) == datetime(2026, 3, 29, 1, 30)


def test_the_day_the_clocks_go_back_in_berlin():
    # 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:30 happens twice and means the first one.
    assert resolve_when(When(day=date(2026, 10, 25), at=time(2, 30)), NOW, BERLIN) == datetime(2026, 10, 25, 0, 30)
    assert resolve_when(When(day=date(2026, 10, 25)), NOW, BERLIN) == datetime(2026, 10, 25, 16, 0)


def test_parsed_lines_resolve_end_to_end():
    plan, dated, timed = parse_reply("#plan +1d12h a\n#plan 2026-03-06 b\n#plan 2026-03-06 14:30 c").commands
    assert resolve_when(plan.when, NOW, BERLIN) == datetime(2026, 3, 3, 21, 0)
    assert resolve_when(dated.when, NOW, BERLIN) == datetime(2026, 3, 6, 16, 0)
    assert resolve_when(timed.when, NOW, BERLIN) == datetime(2026, 3, 6, 13, 30)


def test_extreme_dates_resolve_without_overflowing():
    # The earliest date is simply in the past; the caller refuses it.
    due = resolve_when(When(day=date(1, 1, 1), at=time(0, 0)), NOW, ZoneInfo("Asia/Tokyo"))
    assert due < NOW


# --- properties ------------------------------------------------------------------------------------------------

COMMANDISH = st.sampled_from([f"#{c}" for c in COMMANDS] + ["#", "# ", "#1", "#plan +", "#plan 2026-", "#done ",
                                                            "#owner <", "#extra ", "#PLAN", "\ufeff#", "  #"])
ARGUMENT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["+2d", "+1d12h", "+0s", "+999999w", "2026-03-06", "2026-02-30", "0001-01-01", "9999-12-31",
                     "14:30", "24:00", "1,2", "1 1", "\u00b2", "\u0661", "a@b.c", "<a@b.c>", "discount"]),
)
COMMANDISH_LINE = st.builds(lambda head, args: " ".join([head, *args]), COMMANDISH, st.lists(ARGUMENT, max_size=4))


def parses_or_refuses(text: str) -> None:
    try:
        parsed = parse_reply(text)
    except CommandError as exc:
        assert exc.line_number >= 1 and isinstance(exc.reason, str) and exc.reason
        return
    for cmd in parsed.commands:
        assert cmd.name in COMMANDS and cmd.line_number >= 1
        if cmd.when is not None:  # whatever parses must also resolve, in any zone
            for zone in (UTC, BERLIN, ZoneInfo("Asia/Tokyo"), ZoneInfo("Pacific/Pago_Pago")):
                assert isinstance(resolve_when(cmd.when, NOW, zone), datetime)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_parses_or_raises_command_error(text):
    parses_or_refuses(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(COMMANDISH_LINE, min_size=1, max_size=6),
       st.sampled_from(["\n", "\r\n", "\r", "\n\n"]), st.text(max_size=40))
def test_arbitrary_command_ish_lines_parse_or_raise_command_error(lines, newline, rest):
    parses_or_refuses(newline.join(lines) + newline + rest)


# Round trip: valid command lines, written the way people write them, parse to exactly the commands meant.

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'-éü", min_size=1,
               max_size=12)
WORDS = st.lists(WORD, min_size=1, max_size=8).map(" ".join)
PLAIN_WORDS = WORDS.filter(lambda t: not t.split()[0][:1].isdigit())  # a step that could not be read as a time
DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2999, 12, 31))
TIMES = st.builds(time, st.integers(0, 23), st.integers(0, 59))
UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}


@st.composite
def durations(draw):
    units = draw(st.lists(st.sampled_from("wdhms"), min_size=1, max_size=5, unique=True))
    units.sort(key="wdhms".index)
    amounts = [draw(st.integers(1, 99)) for _ in units]
    text = "".join(f"{n}{u.upper() if draw(st.booleans()) else u}" for n, u in zip(amounts, units))
    return text, timedelta(seconds=sum(n * UNITS[u] for n, u in zip(amounts, units)))


@st.composite
def command_lines(draw, line_number, used_steps):
    """One valid command line and the Command it must parse to."""
    name = draw(st.sampled_from(COMMANDS))
    head = "#" + draw(st.sampled_from([name, name.upper(), name.capitalize()]))
    gap = draw(st.sampled_from([" ", "  ", "\t"]))
    if name == "plan":
        kind = draw(st.sampled_from(["date", "datetime", "duration"]))
        text = draw(PLAIN_WORDS)
        if kind == "duration":
            written, delta = draw(durations())
            return f"{head}{gap}+{written} {text}", Command("plan", line_number, text=text, when=When(after=delta))
        day = draw(DAYS)
        if kind == "date":
            return (f"{head}{gap}{day.isoformat()} {text}",
                    Command("plan", line_number, text=text, when=When(day=day)))
        at = draw(TIMES)
        hour = f"{at.hour:02d}" if draw(st.booleans()) else str(at.hour)
        return (f"{head}{gap}{day.isoformat()} {hour}:{at.minute:02d} {text}",
                Command("plan", line_number, text=text, when=When(day=day, at=at)))
    if name == "done":
        steps = draw(st.lists(st.integers(1, 9999).filter(lambda n: n not in used_steps), min_size=1, max_size=5,
                              unique=True))
        used_steps.update(steps)
        sep = draw(st.sampled_from([",", ", ", " ", " , "]))
        return f"{head}{gap}{sep.join(map(str, steps))}", Command("done", line_number, steps=tuple(steps))
    if name == "owner":
        local = draw(st.from_regex(r"[a-z][a-z0-9._+-]{0,10}", fullmatch=True))
        domain = draw(st.from_regex(r"[a-z0-9-]{1,10}\.[a-z]{2,6}", fullmatch=True))
        written = f"{local}@{domain}"
        if draw(st.booleans()):
            written = written.upper()
        if draw(st.booleans()):
            written = f"<{written}>"
        return f"{head}{gap}{written}", Command("owner", line_number, text=f"{local}@{domain}")
    if name == "language":
        code = draw(st.sampled_from(["de", "fr", "es", "en", "it"]))
        written = draw(st.sampled_from([code, code.upper()]))
        return f"{head}{gap}{written}", Command("language", line_number, text=code)
    if name == "extra":
        value = draw(st.sampled_from(EXTRAS))
        return f"{head}{gap}{value.capitalize()}", Command("extra", line_number, text=value)
    if name in ("note", "cause"):
        text = draw(WORDS)
        return f"{head}{gap}{text}", Command(name, line_number, text=text)
    return head + draw(st.sampled_from(["", " ", "\t"])), Command(name, line_number)


@st.composite
def replies(draw):
    written, expected, used = [], [], set()
    for _ in range(draw(st.integers(0, 4))):
        written.append(draw(st.sampled_from(["", "  "])))  # leading / separating blank lines
    for _ in range(draw(st.integers(0, 6))):
        for _ in range(draw(st.integers(0, 1))):
            written.append("")
        line, cmd = draw(command_lines(len(written) + 1, used))
        written.append(draw(st.sampled_from(["", " ", "  "])) + line)
        expected.append(cmd)
    body = draw(st.sampled_from(["", "Dear Maria,\nwe are sorry.", "Hello\n#status\n\n-- \nJane"]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(written + [body]), tuple(expected), body


@settings(max_examples=300, deadline=None)
@given(replies())
def test_valid_command_lines_round_trip(reply):
    text, expected, body = reply
    parsed = parse_reply(text)
    assert parsed.commands == expected
    assert parsed.body == body

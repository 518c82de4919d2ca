"""The staff ``#command`` grammar: command lines at the top of a reply.

Pure parsing: text in, commands out, or a ``CommandError`` naming the line and
the reason. Dates are parsed here but resolved against ``now`` and the
timezone by ``resolve_when``, so the parser itself never reads the clock.

    #plan 2026-03-06 Send a replacement kettle
    #plan +2d Call the courier
    #done 1,2
    #owner sam@example.com
    #language de           <- later emails to the customer in German (an ISO 639-1 code)
    Dear Maria, ...        <- the first other line ends the commands

Command lines are read with full-width ASCII folded to ASCII and the ideographic
space read as a space, as typed on a Japanese keyboard: ``＃plan ＋２ｄ Call``
is ``#plan +2d Call``. The folding is one character for one, so the free text of
a command (a plan step, a note, a cause) and the line quoted in an error are
kept exactly as typed. Nothing else is folded: ``#done ²`` is still refused.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..durations import DurationError, parse_duration
from ..language import is_language

COMMANDS = ("plan", "done", "resolve", "close", "reopen", "owner", "note", "internal", "cause", "extra", "status",
            "language")
EXTRAS = ("discount", "apology", "none")
MAX_TEXT = 500
MAX_AHEAD = timedelta(days=3660)  # a +duration longer than about ten years is a typo
MAX_YEAR = 2999  # likewise a date; and later arithmetic on it (timers, time zones) must not overflow


def language_code_problem(code: str) -> str | None:
    """Why ``code`` is no ISO 639-1 language code (two letters, lower case, one Babel can name), or None."""
    if is_language(code):
        return None
    if re.fullmatch(r"[a-z]{2}[-_][A-Za-z0-9]{2,8}", code) and is_language(code[:2]):
        return f"{code!r} names a region too; write the language alone: {code[:2]!r}"
    return f"{code!r} is not an ISO 639-1 language code; write two letters, e.g. 'en', 'de', 'fr', 'es'"


class CommandError(ValueError):
    """A command line that cannot be obeyed; nothing of the reply is applied."""

    def __init__(self, line_number: int, line: str, reason: str):
        self.line_number, self.line, self.reason = line_number, line, reason
        super().__init__(f"line {line_number}: {line!r}: {reason}")


@dataclass(frozen=True)
class When:
    """A due time as written: a date, a date and time (local), or a duration from now."""

    day: date | None = None
    at: time | None = None
    after: timedelta | None = None


@dataclass(frozen=True)
class Command:
    name: str
    line_number: int
    text: str = ""  # plan/note/cause text, owner address, extra kind
    when: When | None = None
    steps: tuple[int, ...] = ()
    line: str = field(default="", compare=False)  # as the staff member typed it, for error answers


@dataclass(frozen=True)
class ParsedReply:
    commands: tuple[Command, ...]
    body: str  # everything after the command lines

    @property
    def internal(self) -> bool:
        return any(c.name == "internal" for c in self.commands)


# Full-width ASCII (U+FF01..U+FF5E, e.g. "＃") and the ideographic space to ASCII: one character for one.
_FULL_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_COMMAND_LINE = re.compile(r"^#([A-Za-z]+)\b\s*(.*)$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_ADDRESS = re.compile(r"^<?([^\s<>@]+@[^\s<>@]+\.[^\s<>@]+)>?$")


def parse_reply(text: str) -> ParsedReply:
    """Split a staff reply into its leading commands and the rest; raise CommandError."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    commands: list[Command] = []
    index = 0
    while index < len(lines):
        raw = lines[index]
        stripped = raw.strip().lstrip("\ufeff")
        if not stripped:
            index += 1
            continue
        folded = stripped.translate(_FULL_WIDTH)  # same length as ``stripped``
        if not folded.startswith("#"):
            break
        commands.append(dataclasses.replace(_parse_line(index + 1, stripped, folded), line=stripped))
        index += 1
    named: set[int] = set()
    for c in commands:
        if c.name == "done":
            if named.intersection(c.steps) or len(set(c.steps)) != len(c.steps):
                raise CommandError(c.line_number, lines[c.line_number - 1].strip().lstrip("\ufeff"),
                                   "a step is named twice")
            named.update(c.steps)
    return ParsedReply(tuple(commands), "\n".join(lines[index:]).strip("\n"))


def _parse_line(number: int, line: str, folded: str) -> Command:
    """Parse ``folded``; quote ``line`` (as typed, same length) in errors and take free text from it."""
    m = _COMMAND_LINE.match(folded)
    if not m:
        raise CommandError(number, line, "a command is # followed by a word, e.g. #plan, #done, #status")
    name, rest, typed = m.group(1).lower(), m.group(2).strip(), line[m.start(2):m.end(2)].strip()
    if name not in COMMANDS:
        raise CommandError(number, line, f"unknown command #{name}; known: " + ", ".join(f"#{c}" for c in COMMANDS))
    if name == "plan":
        return _parse_plan(number, line, rest, typed)
    if name == "done":
        return Command("done", number, steps=_parse_steps(number, line, rest, typed))
    if name in ("resolve", "close", "reopen", "internal", "status"):
        if rest:
            raise CommandError(number, line, f"#{name} takes nothing after it")
        return Command(name, number)
    if name == "owner":
        am = _ADDRESS.match(rest)
        if not am:
            raise CommandError(number, line, "#owner needs a staff email address, e.g. #owner sam@example.com")
        return Command("owner", number, text=am.group(1).lower())
    if name == "language":
        if not rest:
            raise CommandError(number, line, "#language needs a language code, e.g. #language de")
        if problem := language_code_problem(rest.lower()):
            raise CommandError(number, line, problem)
        return Command("language", number, text=rest.lower())
    if name == "extra":
        if rest.lower() not in EXTRAS:
            raise CommandError(number, line, "#extra takes one of: " + ", ".join(EXTRAS))
        return Command("extra", number, text=rest.lower())
    # note, cause
    if not rest:
        raise CommandError(number, line, f"#{name} needs some text after it")
    if len(typed) > MAX_TEXT:
        raise CommandError(number, line, f"#{name} text is longer than {MAX_TEXT} characters")
    return Command(name, number, text=typed)


def _parse_plan(number: int, line: str, rest: str, typed: str) -> Command:
    # Folding keeps whitespace where it was, so the typed parts line up with the folded ones.
    parts, typed_parts = rest.split(None, 2), typed.split(None, 2)
    if not parts:
        raise CommandError(number, line, "#plan needs a date and a step, e.g. #plan 2026-03-06 Send a replacement")
    when: When
    text_parts: list[str]
    if parts[0].startswith("+"):
        try:
            when = When(after=parse_duration(parts[0][1:]))
        except DurationError:
            raise CommandError(number, line,
                               f"{typed_parts[0]!r} is not a duration; write e.g. +2d, +4h, +1d12h") from None
        if when.after <= timedelta(0):
            raise CommandError(number, line, "the duration must be longer than zero")
        if when.after > MAX_AHEAD:
            raise CommandError(number, line, f"{typed_parts[0]} is too far ahead; write a date instead")
        text_parts = typed_parts[1:]
    else:
        dm = _DATE.match(parts[0])
        if not dm:
            raise CommandError(number, line, f"{typed_parts[0]!r} is not a date; write YYYY-MM-DD, "
                                             "YYYY-MM-DD HH:MM or +<duration> such as +2d")
        try:
            day = date(int(dm.group(1)), int(dm.group(2)), int(dm.group(3)))
        except ValueError:
            raise CommandError(number, line, f"{typed_parts[0]} is not a real date") from None
        if day.year > MAX_YEAR:
            raise CommandError(number, line, f"{typed_parts[0]} is too far ahead")
        at = None
        text_parts = typed_parts[1:]
        tm = _TIME.match(parts[1]) if len(parts) > 1 else None
        if tm:
            hour, minute = int(tm.group(1)), int(tm.group(2))
            if hour > 23 or minute > 59:
                raise CommandError(number, line, f"{typed_parts[1]} is not a time of day")
            at = time(hour, minute)
            text_parts = typed_parts[2:]
        when = When(day=day, at=at)
    text = " ".join(text_parts).strip()
    if not text:
        raise CommandError(number, line, "#plan needs the step after the date, e.g. #plan +2d Call the courier")
    if len(text) > MAX_TEXT:
        raise CommandError(number, line, f"the step is longer than {MAX_TEXT} characters")
    return Command("plan", number, text=text, when=when)


def _parse_steps(number: int, line: str, rest: str, typed: str) -> tuple[int, ...]:
    items = list(re.finditer(r"[^\s,]+", rest))  # the items between commas and spaces
    if not items:
        raise CommandError(number, line, "#done needs step numbers, e.g. #done 1 or #done 1,2")
    steps = []
    for item in items:
        if not re.fullmatch(r"[0-9]{1,4}", item.group()) or int(item.group()) == 0:  # not str.isdigit: "²" is one
            raise CommandError(number, line, f"{typed[item.start():item.end()]!r} is not a step number")
        steps.append(int(item.group()))
    return tuple(steps)


def resolve_when(when: When, now: datetime, tz: ZoneInfo, end_of_day: time = time(17, 0)) -> datetime:
    """A due time in naive UTC: a bare date means ``end_of_day`` local time on that day."""
    if when.after is not None:
        return now + when.after
    local = datetime.combine(when.day, when.at or end_of_day, tzinfo=tz)
    try:
        return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    except OverflowError:  # the first day of year 1 east of UTC: long past, which the caller refuses
        return datetime.min

"""Durations as operators write them: ``90s``, ``15m``, ``24h``, ``7d``, ``1d12h``.

One parser for the config file, the staff ``#plan +2d`` command and the CLI, so
a duration means the same thing wherever it is typed.
"""
from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .language import LocalDuration

_UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d{1,6})\s*([wdhms])")


class DurationError(ValueError):
    """The text is not a duration; the message says what is accepted."""


def parse_duration(text: str) -> timedelta:
    """Parse ``1d12h``-style text into a timedelta; raise DurationError otherwise."""
    if not isinstance(text, str):
        raise DurationError(f"expected a duration such as \"90s\", \"15m\", \"24h\", \"7d\", got {text!r}")
    s = text.strip().lower().replace(" ", "")
    pos, seconds, units_seen = 0, 0, set()
    for m in _PART.finditer(s):
        if m.start() != pos or m.group(2) in units_seen:
            break
        units_seen.add(m.group(2))
        seconds += int(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not s or pos != len(s):
        raise DurationError(
            f"{text!r} is not a duration: write a number and a unit (s, m, h, d, w), "
            "for example \"90s\", \"15m\", \"24h\", \"7d\" or \"1d12h\""
        )
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """The shortest ``1d12h`` text for a timedelta (inverse of parse_duration)."""
    total = int(delta.total_seconds())
    if total <= 0:
        return "0s"
    out = []
    for unit in ("d", "h", "m", "s"):
        n, total = divmod(total, _UNITS[unit])
        if n:
            out.append(f"{n}{unit}")
    return "".join(out)


def humanize(delta: timedelta) -> "LocalDuration":
    """Words a customer reads: ``24 hours``, ``2 days``, ``90 minutes``, in the language of the email they
    are rendered into (a ``language.LocalDuration``: equal to the English text, printed in German in a
    German email)."""
    from .language import LocalDuration  # language.py imports this module for the English words
    return LocalDuration(delta)


def english_words(delta: timedelta) -> str:
    """``humanize``'s English: the unit people say ("within 24 hours", not "within 1 day")."""
    seconds = int(delta.total_seconds())
    for size, one, many in ((86400, "day", "days"), (3600, "hour", "hours"), (60, "minute", "minutes")):
        if size == 86400 and seconds < 2 * 86400:
            continue  # "within 24 hours" is what people say, not "within 1 day"
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {one if n == 1 else many}"
    if seconds >= 3600:
        hours, minutes = divmod(seconds // 60, 60)
        return f"{hours} {'hour' if hours == 1 else 'hours'} {minutes} {'minute' if minutes == 1 else 'minutes'}"
    if seconds >= 60:
        return f"{seconds // 60} {'minute' if seconds // 60 == 1 else 'minutes'}"
    return f"{seconds} {'second' if seconds == 1 else 'seconds'}"

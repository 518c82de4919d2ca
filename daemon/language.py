"""Which language a customer writes in, and the formats an email follows in its language (issue 17).

A case's language comes from the complaint's ``Content-Language`` header when it has a valid one (the
sender's client knows better than any guess), else from the text, else the operator's default
(``choose``). Codes are ISO 639-1, lower case ("de"), and only those Babel knows.

The detector is py3langid (a maintained fork of langid.py; its model ships in the wheel, so it works
offline). Measured with bench/language_detectors.py on the 256 labelled complaints (en/de/fr/es, quoted
history cut), against lingua and langdetect: 99.6 % right as shipped (lingua 100 %, langdetect 97.3 %),
0.09 ms a message (lingua 3.4 ms, langdetect 2 ms), 138 MB peak memory with numpy (lingua 934 MB over all
its languages), a 4.6 MB wheel plus numpy (lingua's is 96 MB). Two adjustments, tuned on the same set:

* the text is read in lower case: langid's n-grams come from ordinary text, and a complaint in capitals
  ("ICH WILL MEIN GELD ZURÜCK") read as written scores 0.07 to 0.31;
* only its languages with a two-letter code compete (not its regional ``ext``, ``lij``, ...): Spanish
  otherwise shares its probability with Extremaduran and Aragonese and drops below the threshold.

Then a guess counts when the text has at least ``MIN_LETTERS`` letters and the detector gives the
language at least ``MIN_CONFIDENCE``: on the set's texts and their first 1 to 8 words (2,048 samples)
that accepts 1,101 with none wrong, and 254 of the 256 whole complaints (the two left are a four-word
Spanish shout and a 0.66 Spanish note: they get the default language, never a wrong one).

Formats: ``Templates.render`` sets the language an email is written in (``rendering_in``); the template
filters and ``LocalDuration`` read it, so a template needs no change to show "Mittwoch, 4. März 2026" or
"24 Stunden". English keeps the wording it always had.
"""
from __future__ import annotations

import threading

import re
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta, timezone
from functools import cache
from typing import Any, Iterator
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel.numbers import format_decimal
from babel.units import format_unit

from .durations import english_words

MIN_LETTERS = 15
MIN_CONFIDENCE = 0.7

_render_language: ContextVar[str] = ContextVar("render_language", default="en")
_SUBTAG = re.compile(r"[A-Za-z]{2}(?=$|-)")


@cache
def is_language(code: str) -> bool:
    """``code`` is an ISO 639-1 code (two lower-case letters) that Babel has a name for."""
    if not (len(code) == 2 and code.isascii() and code.isalpha() and code.islower()):
        return False
    return code in Locale("en").languages


def content_language(header: str | None) -> str | None:
    """The first language of a ``Content-Language`` header ("de-AT, en" gives "de"); None for junk.

    RFC 3282 allows a list of RFC 5646 tags; the first is the one the text is mostly in. Only a valid
    two-letter primary subtag counts: "x-klingon", "i-default", "*" and "german" give None.
    """
    if not header:
        return None
    first = header.split(",")[0].strip()
    first = re.sub(r"\([^)]*\)", "", first).strip()  # RFC 2822 comments
    if not _SUBTAG.match(first):
        return None
    code = first[:2].lower()
    return code if is_language(code) else None


_MODEL_LOCK = threading.Lock()


@cache
def _identifier():
    """py3langid's model, loaded once (0.75 s) on the first text to read, with two-letter codes only. The lock:
    the service's warm-up thread and a first complaint may ask at once; the second waits for the first."""
    with _MODEL_LOCK:
        return _load_identifier()


#: The languages a complaint may be told to be in: the world's widely written ones. Fewer columns of the model
#: kept in memory (the daemon's resident memory grew by ~110 MB with all of py3langid's; ~60 MB with these),
#: and no confusion with regional ones; a text in another language gets the nearest of these or none.
DETECTABLE = ("ar", "bg", "ca", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "he", "hi", "hr", "hu", "id",
              "it", "ja", "ko", "lt", "lv", "nl", "no", "pl", "pt", "ro", "ru", "sk", "sl", "sv", "th", "tr", "uk",
              "vi", "zh")


@cache
def _load_identifier():
    import gc

    from py3langid.langid import MODEL_FILE, LanguageIdentifier
    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages([c for c in DETECTABLE if c in ident.nb_classes])
    ident._full_model = None  # kept by py3langid to allow set_languages again, which we never call: 27 MB
    gc.collect()
    try:  # give the freed loading buffers back to the system (glibc), or they stay in the resident size
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    # The model is some 200,000 Python objects that live as long as the process: out of the garbage collector's
    # sight, or every full collection walks them all (the intake's backlog ran 20 % slower).
    gc.freeze()
    return ident


def warm_up() -> None:
    """Load the model now (the service calls this on a thread at start), so that the first complaint after
    a restart is not acknowledged 0.75 s late."""
    _identifier()


def guess(text: str) -> tuple[str | None, float]:
    """The detector's best language for ``text`` and its probability, before any threshold."""
    if not any(ch.isalpha() for ch in text):
        return None, 0.0
    lang, probability = _identifier().classify(text.lower())
    return str(lang), float(probability)


def detect(text: str) -> str | None:
    """The language ``text`` is written in, or None when it is too short or the detector is unsure."""
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return None
    lang, probability = guess(text)
    if lang is None or probability < MIN_CONFIDENCE or not is_language(lang):
        return None
    return lang


def choose(header: str | None, text: str, default: str) -> str:
    """The case's language: the Content-Language header, else the text's, else ``default``."""
    return content_language(header) or detect(text) or default


def name_of(code: str, in_language: str = "en") -> str:
    """The language's name for people: "French"; "Französisch" in German, "français" in French (as written
    mid-sentence); the code itself when unknown."""
    try:
        name = Locale.parse(in_language).languages.get(code)
    except (ValueError, UnknownLocaleError):
        name = Locale("en").languages.get(code)
    return name or code


# --- formats in the language an email is written in -------------------------------------------------------

@contextmanager
def rendering_in(language: str) -> Iterator[None]:
    """While the block runs, dates, numbers and durations format in ``language``."""
    token = _render_language.set(language)
    try:
        yield
    finally:
        _render_language.reset(token)


def render_language() -> str:
    """The language of the email being rendered ("en" outside a render)."""
    return _render_language.get()


def _english(language: str) -> bool:
    return language == "en" or not is_language(language)


class LocalDuration(str):
    """A duration a customer reads ("24 hours"), written in the language of the email it lands in.

    A ``str`` whose value is the English wording (so comparisons, logs and JSON see what they always saw),
    while ``str()`` and ``format()`` (what Jinja and f-strings call) give it in ``render_language()``:
    "24 Stunden", "24 heures", "24 horas". The unit is the one the English uses, from
    ``durations.english_words``; the words come from Babel's CLDR units.
    """

    delta: timedelta

    def __new__(cls, delta: timedelta) -> "LocalDuration":
        self = super().__new__(cls, english_words(delta))
        self.delta = delta
        return self

    def __str__(self) -> str:
        return self.in_language(render_language())

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __reduce__(self):
        return (LocalDuration, (self.delta,))

    def in_language(self, language: str) -> str:
        if _english(language):
            return str.__str__(self)
        parts = []
        seconds = int(self.delta.total_seconds())
        for n, unit in _units(seconds):
            parts.append(format_unit(n, f"duration-{unit}", length="long", locale=language))
        return " ".join(parts)


def _units(seconds: int) -> list[tuple[int, str]]:
    """The (number, unit) pairs ``english_words`` writes for ``seconds``: "24 hours", "1 hour 30 minutes"."""
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if size == 86400 and seconds < 2 * 86400:
            continue
        if seconds >= size and seconds % size == 0:
            return [(seconds // size, unit)]
    if seconds >= 3600:
        hours, minutes = divmod(seconds // 60, 60)
        return [(hours, "hour"), (minutes, "minute")]
    if seconds >= 60:
        return [(seconds // 60, "minute")]
    return [(seconds, "second")]


# strftime directives an operator's template may pass to the date filters, as CLDR pattern letters.
_STRFTIME_TO_CLDR = {"a": "EEE", "A": "EEEE", "d": "dd", "e": "d", "b": "MMM", "h": "MMM", "B": "MMMM",
                     "m": "MM", "y": "yy", "Y": "y", "H": "HH", "I": "hh", "M": "mm", "S": "ss", "p": "a",
                     "Z": "z", "z": "xx", "j": "DDD", "%": "%"}


def _cldr_pattern(fmt: str) -> str | None:
    """A strftime format as a CLDR pattern, literals quoted; None when it uses a directive we do not map."""
    out, literal, i = [], [], 0

    def flush():
        if literal:
            text = "".join(literal).replace("'", "''")
            out.append(f"'{text}'" if any(ch.isalpha() for ch in text) else text)
            literal.clear()

    while i < len(fmt):
        if fmt[i] != "%" or i + 1 == len(fmt):
            literal.append(fmt[i])
            i += 1
            continue
        unpadded = fmt[i + 1] == "-"  # %-d: no leading zero
        directive = fmt[i + 2: i + 3] if unpadded else fmt[i + 1]
        mapped = _STRFTIME_TO_CLDR.get(directive)
        if mapped is None:
            return None
        if mapped == "%":
            literal.append("%")
        else:
            flush()
            out.append(mapped[:1] if unpadded and mapped in ("dd", "MM", "HH", "hh", "mm", "ss") else mapped)
        i += 3 if unpadded else 2
    flush()
    return "".join(out)


def format_datetime(value: Any, zone: ZoneInfo = ZoneInfo("UTC"), fmt: str | None = None,
                    language: str | None = None) -> str:
    """A stored (naive UTC) time as people read it in ``language``, in the configured timezone.

    English keeps the strftime wording ("Wed 04 Mar 2026, 09:00 UTC"); another language gets its CLDR
    full date and short time ("Mittwoch, 4. März 2026, 10:00 MEZ"), or ``fmt`` read as CLDR pattern letters.
    """
    language = language or render_language()
    if not isinstance(value, (datetime, date)):
        return str(value)
    if not isinstance(value, datetime):
        return format_date(value, fmt, language)
    local = value.replace(tzinfo=timezone.utc).astimezone(zone)
    if _english(language):
        return local.strftime(fmt or "%a %d %b %Y, %H:%M %Z")
    pattern = _cldr_pattern(fmt) if fmt else None
    if pattern is None:
        if fmt:
            return local.strftime(fmt)
        locale = Locale.parse(language)
        time = locale.time_formats["short"].pattern + " '" + _zone_name(local, zone, language).replace("'", "''") + "'"
        pattern = str(locale.datetime_formats["full"]).replace("{1}", locale.date_formats["full"].pattern) \
            .replace("{0}", time)
    return babel_dates.format_datetime(local, pattern, tzinfo=zone, locale=language)


def _zone_name(local: datetime, zone: ZoneInfo, language: str) -> str:
    """The zone as the language abbreviates it ("MEZ"), or, where it has no abbreviation (French for Paris,
    German for New York), its name in words, in parentheses: "(heure normale d’Europe centrale)", never an
    offset such as "UTC+01:00", which reads as machine output to a customer."""
    name = babel_dates.format_datetime(local, "z", tzinfo=zone, locale=language)
    if name[:1] in "+-":
        name = f"({babel_dates.get_timezone_name(local, width='long', locale=language)})"
    return name


def format_date(value: Any, fmt: str | None = None, language: str | None = None,
                zone: ZoneInfo = ZoneInfo("UTC")) -> str:
    """A day as people read it in ``language``: "Wed 04 Mar 2026", "Mittwoch, 4. März 2026"."""
    language = language or render_language()
    if isinstance(value, datetime):
        value = value.replace(tzinfo=timezone.utc).astimezone(zone).date()
    if not isinstance(value, date):
        return str(value)
    if _english(language):
        return value.strftime(fmt or "%a %d %b %Y")
    pattern = _cldr_pattern(fmt) if fmt else "full"
    if pattern is None:
        return value.strftime(fmt or "")
    return babel_dates.format_date(value, pattern, locale=language)


def format_number(value: Any, decimals: int | None = None, language: str | None = None) -> str:
    """A number with the language's separators: 1,234.5 in English, 1.234,5 in German."""
    language = language or render_language()
    if decimals is None:
        return format_decimal(value, locale="en" if _english(language) else language)
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale="en" if _english(language) else language)

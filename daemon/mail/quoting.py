"""Cut a reply down to what the sender actually wrote this time.

``new_text(text)`` removes quoted history (attribution lines such as "On ...
wrote:", Outlook "From:/Sent:" blocks and separators, ">" quoted lines) and the
signature ("-- " delimiter, "Sent from my iPhone" and its translations) from
the plain text of a reply.

Library choice: we evaluated mail-parser-reply 1.36 and quotequail 0.5.4 on the
34 reply shapes in tests/mail/test_quoting.py (Gmail, Outlook, Apple Mail,
iPhone, Thunderbird; English, French, German, Russian, Japanese, plus Italian,
Polish, Dutch). Alone, mail-parser-reply got 21/34 exactly right,
quotequail.unwrap 20/34 and quotequail.quote 16/34: neither knows Russian or
Japanese Outlook headers, strips "Sent from my iPhone", or handles a fully
quoted or inline-answered message, and mail-parser-reply's loose Outlook-block
rule cuts a complaint at two harmless lines like "Date: 3 March" / "To: John".
Our own line-based rules alone got 32/34, ours plus quotequail 32/34, and ours
plus mail-parser-reply 34/34 (its Italian/Polish attribution patterns). So we
use mail-parser-reply (already a project dependency; quotequail is not) as an
extra header detector, trusting a header only it finds when that line is a
"From"-style label, a separator or an attribution line ending in ":". Ours:
attribution lines in en/fr/de/ru/ja/es (wrapped over up to three lines), a
language-independent "<date> <time> Name <addr>:" line (Gmail ru/ja, mail.ru),
Outlook blocks and separators, "-- " and "Sent from my ..." signatures in
several languages, ">" lines, and "never empty while the input has text".
"""
from __future__ import annotations

import re

try:  # the library is optional at run time; our own rules work without it
    from mailparser_reply.parser import EmailMessage as _MPRMessage
except Exception:  # pragma: no cover - exercised only without the dependency
    _MPRMessage = None

__all__ = ["new_text"]

_LIB_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "ja", "pl", "sv", "da", "cs"]
_MAX_LINE = 1000  # header lines are short; never run patterns over huge lines
_LIB_WINDOW = 64_000  # the library's regexes only see the first chars before our cut

_lib_regex = None


def _library_header_regex():
    global _lib_regex
    if _lib_regex is None and _MPRMessage is not None:
        try:
            _lib_regex = _MPRMessage(text="", languages=list(_LIB_LANGUAGES)).HEADER_REGEX
        except Exception:  # pragma: no cover
            _lib_regex = False
    return _lib_regex or None


_Q = r"(?:>\s*)*"  # attribution lines may themselves be quoted

# Lines introducing quoted history ("... wrote:") in the languages we serve.
_ATTRIBUTION = [
    re.compile(_Q + r"On\b.{0,400}\bwrote\s*:$", re.I),
    re.compile(_Q + r"Le\b.{0,400}\ba\s+écrit\s*:$", re.I),
    re.compile(_Q + r"Am\b.{0,400}\bschrieb\b.{0,300}:$", re.I),
    re.compile(_Q + r".{0,400}\b(?:пишет|написал|написала|написал\(а\))\s*:$", re.I),
    re.compile(_Q + r".{0,400}(?:のメッセージ|は書きました|さんは書きました)\s*[:：]$"),
    re.compile(_Q + r"El\b.{0,400}\bescribió\s*:$", re.I),
    # Language independent (Gmail ru/ja, mail.ru, Yandex): a line with a time
    # of day that ends in "<address>:" - "пн, 9 мар. 2026 г. в 10:00, X <x@y>:"
    re.compile(_Q + r"(?=.*\d{1,2}:\d{2}).{0,400}<[^<>\s]+@[^<>\s]+>\s*[:：]$"),
]

_SEPARATOR = re.compile(
    _Q
    + r"(?:-{2,}\s*(?:Original Message|Forwarded message|Ursprüngliche Nachricht|"
    r"Weitergeleitete Nachricht|Message d'origine|Message transféré|Mensaje original|"
    r"Исходное сообщение|Пересылаемое сообщение|Переадресованное сообщение|"
    r"元のメッセージ|転送されたメッセージ)\s*-{2,}"
    r"|_{20,}"
    r"|Begin forwarded message\s*:|Anfang der weitergeleiteten (?:E-Mail|Nachricht)\s*:"
    r"|Début du message réexpédié\s*:)$",
    re.I,
)

# Outlook style header blocks: a "From" label followed shortly by another label.
_FROM_LABEL = re.compile(
    _Q + r"\*?(?:From|Von|De|От|От кого|差出人|送信者|Van|Da|Od|Från|Fra|Sender)\*?\s?[:：]", re.I
)
_OTHER_LABEL = re.compile(
    _Q
    + r"\*?(?:Sent|Date|To|Subject|Cc|Gesendet|Datum|An|Betreff|Envoyé|À|Objet|Date d'envoi|"
    r"Отправлено|Дата|Кому|Тема|Копия|送信日時|日付|宛先|件名|Verzonden|Aan|Onderwerp|"
    r"Inviato|Oggetto|Enviado|Para|Asunto)\*?\s?[:：]",
    re.I,
)

# a line that starts like "Label:" ("Data: ...", "To: ...") is not an attribution
_LABEL_START = re.compile(r"(?:>\s*)*[\w\s*]{1,25}[:：]")

# cheap pre-filter: every history line above contains one of these
_MAYBE_HEADER = re.compile(r"[:：_-]|^(?:>\s*)*\S{0,3}\d|^(?:>\s*)*(?:On|Le|Am|El)\b", re.I)

_SIGNATURE = re.compile(r"--\s?$")
_SENT_FROM = re.compile(
    r"(?:Sent from my\b|Sent from Mail for\b|Get Outlook for\b|Envoyé de mon\b|Envoyé depuis\b|"
    r"Von meinem\b.{0,40}\bgesendet|Gesendet von meinem\b|Gesendet vom\b|Отправлено с\b|"
    r"Отправлено из\b|iPhoneから送信|Enviado desde mi\b|Inviato da\b).{0,80}$",
    re.I,
)
_QUOTED = re.compile(r"\s*>")
_QUOTE_MARKER = re.compile(r"^\s*(?:>\s?)+")


def new_text(text: str) -> str:
    """The part of ``text`` the sender wrote, without quoted history and signature."""
    try:
        return _new_text(text)
    except Exception:
        try:
            return _normalise(text).strip()
        except Exception:
            return ""


def _normalise(text) -> str:
    if text is None:
        return ""
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = bytes(text).decode("utf-8", "replace")
    elif not isinstance(text, str):
        text = str(text)
    return text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")


def _new_text(text) -> str:
    text = _normalise(text)
    if not text.strip():
        return ""
    lines = text.split("\n")
    short = [line.strip() if len(line) <= _MAX_LINE else "" for line in lines]

    cut = _first_history_line(short)
    lib_cut = _library_cut(short[: len(short) if cut is None else cut + 6])
    if lib_cut is not None and (cut is None or lib_cut < cut):
        cut = lib_cut
    top = lines[:cut] if cut is not None else lines

    sig = _signature_line(top)
    if sig is not None:
        top = top[:sig]

    kept = [line for line in top if not _QUOTED.match(line)]
    result = _tidy(kept)
    if result:
        return result
    # Nothing of the sender's own before the history (the whole message is
    # quoted or forwarded): give the history back, without the ">" markers.
    return _tidy([_QUOTE_MARKER.sub("", line) for line in lines])


def _tidy(lines: list[str]) -> str:
    text = "\n".join(line.rstrip() for line in lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def _first_history_line(short: list[str]) -> int | None:
    n = len(short)
    for i, line in enumerate(short):
        if not line or not _MAYBE_HEADER.search(line):
            continue
        if _SEPARATOR.fullmatch(line):
            return i
        if _FROM_LABEL.match(line) and any(
            _OTHER_LABEL.match(short[j]) for j in range(i + 1, min(n, i + 5))
        ):
            return i
        # attribution lines, possibly wrapped over up to three lines
        joined = line
        for j in range(i, min(n, i + 3)):
            if j > i:
                if not short[j]:
                    break
                joined = joined + " " + _QUOTE_MARKER.sub("", short[j])
            if short[j][-1] not in ":：":
                continue
            if any(p.fullmatch(joined) for p in _ATTRIBUTION):
                # a wrapped attribution must not start in the middle of prose
                if j == i or _starts_attribution(line):
                    return i
    return None


def _starts_attribution(line: str) -> bool:
    stripped = _QUOTE_MARKER.sub("", line)
    return bool(
        re.match(r"(?:On|Le|Am|El)\b", stripped)
        or re.match(r"\S{0,4}\d", stripped)  # dates: "09.03.2026", "2026/03/09"
        or re.match(r"(?:пн|вт|ср|чт|пт|сб|вс)\b", stripped)
    )


def _library_cut(short: list[str]) -> int | None:
    """First history line according to mail-parser-reply, when we trust it."""
    regex = _library_header_regex()
    if regex is None:
        return None
    stripped = "\n".join(short)[:_LIB_WINDOW]
    for match in regex.finditer(stripped):
        groups = [g for g in range(1, (match.re.groups or 0) + 1) if match.group(g)]
        start = match.start(groups[0]) if groups else match.start()
        while start < len(stripped) and stripped[start] == "\n":
            start += 1
        index = stripped.count("\n", 0, start)
        if index >= len(short):
            return None
        line = short[index]
        # Its Outlook-block rule accepts any two "Label:" lines ("Date: 3 March"
        # / "To: John" inside a complaint); trust it only for a "From" label,
        # a separator or an attribution line ("Il giorno ... ha scritto:").
        if _FROM_LABEL.match(line) or _SEPARATOR.fullmatch(line) or (
            len(line) > 20 and re.search(r"[:：]$", line) and not _LABEL_START.match(line)
        ):
            return index
    return None


def _signature_line(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        if i == 0:
            continue
        if _SIGNATURE.fullmatch(line):
            return i
        if len(line) <= 120 and _SENT_FROM.match(line.strip()):
            return i
    return None

"""Cut a reply down to what the sender actually wrote this time.

``new_text(text)`` removes quoted history and the signature ("-- ", "Sent from
my iPhone" and its translations) from the plain text of a reply. Pure, never
raises, linear time.

History starts at an attribution line ("On ... wrote:" in en/fr/de/es/ru/ja,
mutt's "* Name <addr> [date]:", "<date> <time> Name <addr>:"), an Outlook
"From:/Sent:" block or a separator. One rule: unquoted lines are the sender's
own unless they sit under an unquoted history header. So a separator or
From:/Sent: block, or an attribution followed by unquoted text, ends the
sender's text wherever it stands (after an answer too); an attribution followed
by ">" lines only introduces a quote, and unquoted text after the quote, up to
a signature or unquoted history, is an answer. The shapes:

* top-posted: the text above the history;
* bottom-posted (one answer below the quote, maybe text above it too): the
  text above, then the answer, without the quote, so no history leaks;
* interleaved (two or more answers): the text above (a greeting), then each
  answer under the quoted paragraph just before it (not the salutation or
  paragraphs nobody answered), as "> " lines of depth 1 (">>" lines are older
  history, quoted attributions go); the unanswered quote at the end goes.

Command lines ("#done 1") leading the first answer move to the very top, where
the command parser reads them. Without an attribution, ">" lines are dropped.
A message that is all quoted or forwarded gives the history back without the
">" markers: never empty while the input has text.

Library choice: we evaluated mail-parser-reply 1.36 and quotequail 0.5.4 on the
34 top-posted shapes in tests/mail/test_quoting.py (Gmail, Outlook, Apple Mail,
iPhone, Thunderbird; English, French, German, Russian, Japanese, plus Italian,
Polish, Dutch). Alone, mail-parser-reply got 21/34 exactly right,
quotequail.unwrap 20/34 and quotequail.quote 16/34: neither knows Russian or
Japanese Outlook headers, strips "Sent from my iPhone", or handles a fully
quoted or inline-answered message, and mail-parser-reply's loose Outlook-block
rule cuts a complaint at two harmless lines like "Date: 3 March" / "To: John".
Our own line-based rules alone got 32/34, ours plus quotequail 32/34, and ours
plus mail-parser-reply 34/34 (its Italian/Polish attribution patterns). So we
use mail-parser-reply (already a project dependency; quotequail is not) as an
extra detector of the first history line, trusting a header only it finds when
that line is a "From"-style label, a separator or an attribution line ending in
":". Everything after that first line (bottom-posts, interleaving) is ours.
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
    # Thunderbird ja: "2026/03/09 10:00、Name wrote:"
    re.compile(_Q + r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}.{0,400}\bwrote\s*:$", re.I),
    # mutt's common attribution: "* Name <addr> [2026-03-09 10:00]:"
    re.compile(_Q + r"\*\s.{1,400}\[(?=[^\]]{0,40}\d:\d\d)[^\[\]]{1,60}\]\s*:$"),
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


def own_text(text: str) -> str:
    """Like ``new_text``, but "" when the sender wrote nothing of their own (no fallback to the history):
    what decides which of a reply's pictures are the sender's."""
    try:
        return _new_text(text, fallback=False)
    except Exception:
        return ""


def new_text(text: str) -> str:
    """The part of ``text`` the sender wrote, without quoted history and signature (see the module)."""
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


def _new_text(text, fallback: bool = True) -> str:
    text = _normalise(text)
    if not text.strip():
        return ""
    lines = text.split("\n")
    short = [line.strip() if len(line) <= _MAX_LINE else "" for line in lines]

    start, end, kind = _history_start(short)
    top = lines[:start] if start is not None else lines
    pairs = _answers(lines, short, end + 1) if kind == _ATTRIBUTED else []

    sig = _signature_line(top, from_first=bool(pairs))
    if sig is not None:
        top = top[:sig]
    kept = [line for line in top if not _QUOTED.match(line)]
    result = _compose(_tidy(kept), pairs, lines, short)
    if result or not fallback:
        return result
    # Nothing of the sender's own outside the history (the whole message is
    # quoted or forwarded): give the history back, without the ">" markers.
    return _tidy([_QUOTE_MARKER.sub("", line) for line in lines])


def _tidy(lines: list[str]) -> str:
    text = "\n".join(line.rstrip() for line in lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


_UNQUOTED_HISTORY = "history"  # a separator or From:/Sent: block: the rest is history
_ATTRIBUTED = "attribution"  # an attribution line (or a quoted header): a quote follows


def _history_start(short: list[str]) -> tuple[int | None, int, str | None]:
    """(first history line, its last line, kind), ours or the library's if it finds one earlier."""
    n = len(short)
    cut = None
    for i in range(n):
        hit = _header_at(short, i)
        if hit is not None:
            cut = (i, hit[0], hit[1])
            break
    lib_cut = _library_cut(short[: n if cut is None else cut[0] + 6])
    if lib_cut is not None and (cut is None or lib_cut < cut[0]):
        line = short[lib_cut]
        unquoted_header = not _QUOTED.match(line) and (_FROM_LABEL.match(line) or _SEPARATOR.fullmatch(line))
        cut = (lib_cut, lib_cut, _UNQUOTED_HISTORY if unquoted_header else _ATTRIBUTED)
    return cut if cut is not None else (None, -1, None)


def _header_at(short: list[str], i: int) -> tuple[int, str] | None:
    """If a history header starts at line ``i``: (its last line, kind)."""
    line = short[i]
    if not line or not _MAYBE_HEADER.search(line):
        return None
    n = len(short)
    # a quoted separator or From: block is part of a quote, like an attribution
    kind = _ATTRIBUTED if _QUOTED.match(line) else _UNQUOTED_HISTORY
    if _SEPARATOR.fullmatch(line):
        return i, kind
    if _FROM_LABEL.match(line) and any(_OTHER_LABEL.match(short[j]) for j in range(i + 1, min(n, i + 5))):
        return i, kind
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
                return j, _ATTRIBUTED
    return None


def _starts_attribution(line: str) -> bool:
    stripped = _QUOTE_MARKER.sub("", line)
    return bool(
        re.match(r"(?:On|Le|Am|El)\b", stripped)
        or re.match(r"\S{0,4}\d", stripped)  # dates: "09.03.2026", "2026/03/09"
        or re.match(r"(?:пн|вт|ср|чт|пт|сб|вс)\b", stripped)
        or re.match(r"\*\s", stripped)  # mutt
    )


def _is_signature(line: str) -> bool:
    return bool(_SIGNATURE.fullmatch(line)) or (len(line) <= 120 and bool(_SENT_FROM.match(line.strip())))


# (indices of the quoted lines before an answer, the answer's lines)
_Pair = tuple[list[int], list[str]]


def _answers(lines: list[str], short: list[str], begin: int) -> list[_Pair]:
    """The sender's answers below an attribution, each with the quoted lines just before it.

    Ends at a signature or at unquoted history (a separator, a From:/Sent: block, an
    attribution followed by unquoted text); an attribution followed by ">" lines belongs to
    the quote. Linear: every line is looked at once, headers at most a few lines ahead."""
    n = len(lines)
    next_text = [n] * (n + 1)  # index of the first non-blank line at or after i
    for i in range(n - 1, begin - 1, -1):
        next_text[i] = i if lines[i].strip() else next_text[i + 1]
    if next_text[begin] >= n or not _QUOTED.match(lines[next_text[begin]]):
        return []  # the attribution heads unquoted history: the rest is not the sender's
    pairs: list[_Pair] = []
    quote: list[int] = []
    answer: list[str] = []
    i = begin
    while i < n:
        line = lines[i]
        if not line.strip():
            if answer:
                answer.append("")
            elif quote:
                quote.append(-1)  # a gap inside the quote
            i += 1
            continue
        if _QUOTED.match(line):
            if answer:
                pairs.append((quote, answer))
                quote, answer = [], []
            quote.append(i)
            i += 1
            continue
        if _is_signature(line):
            break
        hit = _header_at(short, i)
        if hit is not None:
            last, kind = hit
            following = next_text[min(last + 1, n)]
            if kind == _UNQUOTED_HISTORY or following >= n or not _QUOTED.match(lines[following]):
                break  # unquoted history: the rest is not the sender's
            if answer:
                pairs.append((quote, answer))
                quote, answer = [], []
            i = last + 1  # the attribution of the quote that follows
            continue
        answer.append(line)
        i += 1
    if answer:
        pairs.append((quote, answer))
    return pairs


def _quote_lines(lines: list[str], short: list[str], indices: list[int]) -> list[str]:
    """A quoted block as "> " lines: depth 1 only, no quoted headers, no blank ends or runs."""
    out: list[str] = []
    skip_to = -1
    for i in indices:
        if i < 0:
            content = ""
        else:
            if i <= skip_to:
                continue
            marker = _QUOTE_MARKER.match(lines[i])
            depth = marker.group().count(">") if marker else 0
            if depth != 1:
                continue
            hit = _header_at(short, i)
            if hit is not None:
                if _SEPARATOR.fullmatch(short[i]) or _FROM_LABEL.match(short[i]):
                    break  # older history, quoted without a deeper marker
                skip_to = hit[0]
                continue
            content = lines[i][marker.end():].rstrip()
        if not content.strip():
            if out and out[-1] != ">":
                out.append(">")
            continue
        out.append("> " + content)
    while out and out[-1] == ">":
        out.pop()
    return out


_COMMAND = re.compile(r"\s*[#＃]")


def _is_top_post(top: str) -> bool:
    """Text above the quote that is more than a greeting ("Hi Anna," / "Hello,"): a top-posted answer."""
    lines = [line for line in top.split("\n") if line.strip() and not _COMMAND.match(line)]
    return len(lines) > 1 or (len(lines) == 1 and len(lines[0]) > 40)


def _last_paragraph(quote: list[str]) -> list[str]:
    """What an interleaved answer answers: the quoted paragraph right above it, not the salutation or
    the paragraphs before (those were answered earlier, or not at all)."""
    if ">" in quote:
        return quote[len(quote) - quote[::-1].index(">"):]
    return quote


def _compose(top: str, pairs: list[_Pair], lines: list[str], short: list[str]) -> str:
    """The text above the attribution, then the answers: one answer alone (a bottom-post),
    several each under the quote it answers (interleaved). Command lines leading the first
    answer go first when something would otherwise precede them."""
    if not pairs:
        return top
    if len(pairs) == 1 and _is_top_post(top):
        # Words above the quote and one block below it: a top-post whose client, mail server or
        # sender put a footer, a disclaimer or a signature under the quote. Below stays out.
        return top
    answers = [_tidy(answer) for _, answer in pairs]
    interleaved = len(pairs) > 1
    first = answers[0].split("\n")
    k = 0
    while k < len(first) and (not first[k].strip() or _COMMAND.match(first[k])):
        k += 1
    commands = ""
    if k and (top or interleaved):
        commands, answers[0] = _tidy(first[:k]), _tidy(first[k:])
    if interleaved:
        parts = [
            "\n".join(_last_paragraph(_quote_lines(lines, short, quote)) + [answer])
            for (quote, _), answer in zip(pairs, answers)
            if answer
        ]
    else:
        parts = [answers[0]]
    return _tidy("\n\n".join(p for p in [commands, top, *parts] if p).split("\n"))


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


def _signature_line(lines: list[str], from_first: bool = False) -> int | None:
    """The first signature line; not the first line, unless ``from_first`` (the sender's text is
    further down: an iPhone bottom-post starts with "Sent from my iPhone")."""
    for i, line in enumerate(lines):
        if i == 0 and not from_first:
            continue
        if _is_signature(line):
            return i
    return None

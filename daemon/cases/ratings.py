"""What a customer's one-line reply means: a rating from 1 to 5, or "it still does not work".

Pure text rules, no I/O. The text handed in is the *new* text of a reply, with
quoted lines already removed.

Ratings (``parse_rating``) are read from the start of the first non-blank line
only, so a rating buried in a sentence ("I would say 4") is not a rating. Full-width
ASCII (``４／５``, ``：``) reads as ASCII. The line may open with a short label and a
colon: ``Rating: 4``, ``My rating: 4``, ``Score: 5``, ``Note : 4/5``, ``Ma note : 4``,
``Bewertung: 5``, ``Calificación: 5``, ``Puntuación: 4``, ``Оценка: 5``, ``評価：４``,
``評価は４です``. Then comes one of:

* a number from 1 to 5 in a rating form: ``4``, ``4/5``, ``4 / 5``, ``4 out of 5``,
  ``4 of 5``, ``4 von 5``, ``4 sur 5``, ``4 de 5``, ``4 su 5``, ``4 из 5``, with or
  without a unit: ``5 stars``, ``5 star``, ``5 Sterne``, ``4 von 5 Sternen``,
  ``5 étoiles``, ``5 estrellas``, ``5 звёзд``, ``4 points``, ``4 Punkte``,
  ``4 puntos``, ``5 баллов``, ``5★``; in Japanese ``５です``, ``５点``, ``５点です``,
  ``５つ星``, ``星４つ``;
* star symbols, one to five of them: ``***``, ``★★★★``, ``★★★☆☆``, ``⭐⭐⭐``
  (a single ``*`` followed by text is a list bullet, not a rating);
* a word or phrase from ``[satisfaction.words]`` (``DEFAULT_WORDS`` unless
  configured), case-insensitive, whole words only, the longest phrase winning:
  ``Sehr gut`` is 5, not the 4 of ``gut``. Greetings such as ``Good morning``
  are not ratings.

The token may be followed by punctuation (``.``, ``!``, ``,``, ``-``, ``:``, ``;``,
``)``, dashes, ``…``, and after a number also ``。`` or ``、``) and more text, or
by a space and more text; that text and the lines after it are the comment.

A number is a quantity, not a rating, when it opens a sentence: a bare number
(without ``/5``, ``of 5`` or a unit) followed by a space and then a word (``5 minutes after ...``, ``3 weeks``,
``2 questions``, ``1 more thing``, ``1 of them``, ``4 Wochen``, ``3 jours``,
``5 минут``) is not a rating, unless that word is a unit or ``of 5`` as above, a
rating word or phrase (``5 excellent``, ``4 good``, ``5 sehr gut``; but not the
German ``2 mal``, "twice"), or thanks (``thanks``, ``thank you``, ``many thanks``,
``thx``, ``cheers``, ``danke``, ``vielen Dank``, ``merci``, ``gracias``,
``muchas gracias``, ``grazie``, ``спасибо``, ``ありがとう``). Nor is it a rating
when a space and another number, a currency sign or ``%`` follow it (``5 000``,
``5 € back``), when it is glued to letters (``5pm``, ``５分後``, ``２つ``; ``つ``
counts only after ``星``), when it is a German date (``3. März``), or when the
line opens a numbered list (``1. ...`` or ``1) ...`` with a later line starting
``2.`` or ``2)``). Numbers outside 1..5 (``0``, ``6``, ``10``), other scales
(``8/10``, ``3 of 4``), decimals (``4.5``, ``4,5``), ranges (``4-5``) and times
(``4:30``) are not ratings.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping


@dataclass(frozen=True)
class Rating:
    score: int  # 1..5
    comment: str


DEFAULT_WORDS: dict[str, int] = {
    # English
    "excellent": 5, "great": 5, "perfect": 5, "outstanding": 5, "amazing": 5, "fantastic": 5, "superb": 5,
    "very good": 5,
    "good": 4, "fine": 4,
    "ok": 3, "okay": 3, "average": 3, "not bad": 3,
    "poor": 2, "not good": 2,
    "bad": 1, "terrible": 1, "awful": 1, "horrible": 1, "very bad": 1,
    # German
    "sehr gut": 5, "ausgezeichnet": 5, "hervorragend": 5, "super": 5, "perfekt": 5,
    "gut": 4, "in ordnung": 3, "mittelmäßig": 3, "geht so": 3,
    "schlecht": 2, "sehr schlecht": 1, "miserabel": 1, "furchtbar": 1,
    # French ("excellent" as in English)
    "parfait": 5, "très bien": 5, "tres bien": 5,
    "bien": 4, "bon": 4, "pas mal": 4, "moyen": 3, "correct": 3,
    "mauvais": 2, "mal": 2, "très mauvais": 1, "nul": 1,
    # Spanish ("bien" and "mal" as in French, "terrible" as in English)
    "excelente": 5, "perfecto": 5, "muy bien": 5, "muy bueno": 5,
    "bueno": 4, "normal": 3,
    "malo": 2, "muy malo": 1, "pésimo": 1, "pesimo": 1,
}

# Full-width ASCII (U+FF01..U+FF5E) to ASCII: one character for one, so offsets stay put.
_FULL_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u200e\u200f\u2060"

# What may follow a rating token: the end, a space, or punctuation (then more text).
_AFTER = r"(?=$|[\s.!,\-:;)\u2013\u2014\u2026])"
_UNIT = (r"(?:stars?|stern(?:en|e)?|[ée]toiles?|estrellas?|points?|punkte?n?|puntos?|"
         r"зв[её]зд\w*|балл\w*|[★⭐]\ufe0f?)")
_NUMBER = re.compile(
    r"(?P<pre>星\s*)?(?P<n>[0-9]{1,3})(?![0-9])"
    r"(?:\s*/\s*(?P<d1>[0-9]{1,3})(?![0-9])"
    r"|\s+(?:out\s+of|of|von|sur|de|su|из)\s+(?P<d2>[0-9]{1,3})(?![0-9]))?"
    r"(?P<unit>\s*" + _UNIT + r"|点|つ星|つ)?"
    r"(?P<desu>です|でした)?"
    r"(?:[。、]|" + _AFTER + ")",
    re.IGNORECASE,
)
_STARS = re.compile(r"(?P<s>\*{1,5}|(?P<full>★{1,5})(?P<empty>☆{0,4})|(?:⭐\ufe0f?){1,5})" + _AFTER)
# A short label before the score: "Rating: 4", "Ma note : 4/5", "Bewertung: 5", "評価：４" (folded), "評価は４".
_LABEL = re.compile(
    r"(?:(?:my|our|your|meine|unsere|ihre|ma|notre|votre|mi|nuestra|su|моя|наша|ваша)\s+)?"
    r"(?:rating|score|grade|bewertung|wertung|note|calificaci[oó]n|puntuaci[oó]n|valoraci[oó]n|nota|"
    r"оценка|評価|点数)\s*(?::|は)\s*",
    re.IGNORECASE,
)
# Right after a number these make it a decimal, a time or (after a bare number) a range, not a rating.
_DECIMAL_OR_TIME = re.compile(r"[.,:][0-9]")
_RANGE = re.compile(r"\s*[-\u2013\u2014]\s*[0-9]")
# After a bare number and a space, a word makes the number a quantity ("5 minutes") unless it is
# a rating word (from the words table) or one of these thanks.
_THANKS = re.compile(
    r"(?:thanks|thank\s+you|many\s+thanks|thx|cheers|danke|vielen\s+dank|merci|gracias|muchas\s+gracias|grazie|"
    r"спасибо|ありがとう)(?!\w)",
    re.IGNORECASE,
)
_COUNT_WORDS = frozenset({"mal"})  # "2 mal" is German for "twice", not "2, bad"
# "3. März ..." is a German date.
_GERMAN_DATE = re.compile(
    r"\.\s*(?:januar|februar|märz|maerz|april|mai|juni|juli|august|september|oktober|november|dezember|"
    r"jan|feb|mär|mrz|apr|jun|jul|aug|sept?|okt|nov|dez)(?!\w)",
    re.IGNORECASE,
)
_LEADING_PUNCTUATION = ".!,-:;)\u2013\u2014\u2026"
_GREETING = re.compile(
    r"(?:good|great)\s+(?:morning|afternoon|evening|night|day)(?!\w)|bien\s+re[çc]u(?!\w)", re.IGNORECASE
)


def _first_line(text: str) -> tuple[str, list[str]] | None:
    """The first non-blank line (left-stripped) and the lines after it."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        stripped = line.lstrip().lstrip(_INVISIBLE).lstrip()
        if stripped:
            return stripped, lines[i + 1:]
    return None


@lru_cache(maxsize=32)
def _word_pattern(words: tuple[tuple[str, int], ...]) -> tuple[re.Pattern[str], dict[str, int]] | None:
    if not words:
        return None
    ordered = sorted(words, key=lambda kv: (-len(kv[0]), kv[0]))
    alternatives, scores = [], {}
    for i, (phrase, score) in enumerate(ordered):
        alternatives.append(f"(?P<w{i}>" + r"\s+".join(re.escape(p) for p in phrase.split()) + ")")
        scores[f"w{i}"] = score
    return re.compile("(?:" + "|".join(alternatives) + r")(?!\w)" + _AFTER, re.IGNORECASE), scores


def _normalise_words(words: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    out: dict[str, int] = {}
    for phrase, score in words.items():
        if not isinstance(phrase, str) or isinstance(score, bool) or not isinstance(score, int):
            continue
        key = " ".join(phrase.lower().split())
        if key and 1 <= score <= 5:
            out[key] = score
    return tuple(sorted(out.items()))


def _comment(rest: str, following: list[str]) -> str:
    first = rest.lstrip().lstrip(_LEADING_PUNCTUATION).strip()
    return "\n".join([first, *following]).strip()


def _bare_number_is_a_quantity(folded: str, end: int, following: list[str], n: int,
                                words: tuple[tuple[str, int], ...]) -> bool:
    """Whether what follows a bare number (no "/5", no unit) makes it a quantity, a date or a list item."""
    rest = folded[end:]
    if rest[:1] in (".", ")"):
        if rest[:1] == "." and _GERMAN_DATE.match(rest):
            return True
        item = re.compile(rf"\s*{n + 1}\s*[.)]")
        return any(item.match(line.translate(_FULL_WIDTH)) for line in following)
    stripped = rest.lstrip()
    if not stripped or stripped == rest:
        return False
    first = stripped[0]
    if first.isdigit() or first == "%" or unicodedata.category(first) == "Sc":
        return True  # "5 000", "5 € back", "5 %"
    if not first.isalpha():
        return False  # "4 - thanks", "4 :)", "5 (very quick)", "5 👍"
    at = len(folded) - len(stripped)
    if _THANKS.match(folded, at):
        return False
    if _GREETING.match(folded, at):
        return True
    compiled = _word_pattern(words)
    if compiled is not None:
        m = compiled[0].match(folded, at)
        if m and m.lastgroup in compiled[1] and m.group().lower() not in _COUNT_WORDS:
            return False
    return True  # "5 minutes", "3 weeks", "1 more thing", "4 Wochen", "5 минут"


def parse_rating(text: str, words: Mapping[str, int] = DEFAULT_WORDS) -> Rating | None:
    """The rating at the start of the first non-blank line of ``text``, or None; never raises."""
    found = _first_line(text)
    if found is None:
        return None
    line, following = found
    folded = line.translate(_FULL_WIDTH)  # same length as ``line``
    normalised = _normalise_words(words)
    label = _LABEL.match(folded)
    start = label.end() if label else 0

    m = _NUMBER.match(folded, start)
    if m:
        denominator = m.group("d1") or m.group("d2")
        if denominator is not None and int(denominator) != 5:
            return None
        if _DECIMAL_OR_TIME.match(folded, m.end()):
            return None
        unit = m.group("unit")
        if m.group("pre") is not None and unit not in (None, "つ"):
            return None  # "星" goes with "星４つ" or "星４" only
        if unit == "つ" and m.group("pre") is None:
            return None  # "２つ" is two pieces, not two stars
        bare = denominator is None and unit is None and m.group("desu") is None and m.end() == m.end("n")
        if bare and _RANGE.match(folded, m.end()):
            return None
        score = int(m.group("n"))
        if not 1 <= score <= 5:
            return None
        if bare and _bare_number_is_a_quantity(folded, m.end(), following, score, normalised):
            return None
        return Rating(score, _comment(line[m.end():], following))

    m = _STARS.match(folded, start)
    if m:
        token = m.group("s")
        if m.group("full") is not None:
            score = len(m.group("full"))
            if score + len(m.group("empty")) > 5:
                return None
        else:
            score = len(token.replace("\ufe0f", ""))
        rest = line[m.end():]
        if token == "*" and rest[:1].isspace() and rest.strip().lstrip(_LEADING_PUNCTUATION).strip():
            return None  # "* the kettle ..." is a bullet point
        return Rating(score, _comment(rest, following))

    if _GREETING.match(folded, start):
        return None
    compiled = _word_pattern(normalised)
    if compiled is not None:
        pattern, scores = compiled
        m = pattern.match(folded, start)
        if m and m.lastgroup in scores:
            return Rating(scores[m.lastgroup], _comment(line[m.end():], following))
    return None


# --- "it still does not work" -------------------------------------------------------------------------------------
#
# A heuristic over the first three non-blank lines of a reply to the follow-up
# ("does everything work as promised now?"). Lower-cased, with typographic
# apostrophes made plain, the reply says the problem is NOT solved when:
#
# * it contains one of NOT_FIXED_PHRASES anywhere in those lines:
#   English  still not working/fixed, still doesn't/does not/isn't/won't/can't ..., still broken,
#            still the same problem, still having the problem, not/isn't/hasn't been fixed/solved/resolved,
#            doesn't work, does not work, don't work, not working, stopped working, didn't help,
#            did not help, broke(n) again, still leaks/leaking/drips/dripping;
#   German   funktioniert (immer noch/noch/weiterhin) nicht, geht (immer) noch nicht, geht nicht mehr,
#            immer noch kaputt/defekt/nicht, wieder kaputt/defekt, nicht behoben/gelöst/repariert,
#            hat nicht geholfen;
#   French   ne marche/fonctionne (toujours) pas, marche/fonctionne toujours pas, toujours pas,
#            toujours/encore/de nouveau/à nouveau en panne/cassé, pas réglé/résolu/réparé, n'a pas aidé;
#   Spanish  sigue sin funcionar, todavía/aún no funciona, no funciona, sigue fallando/roto/igual,
#            se volvió a romper/estropear, se rompió/estropeó otra vez/de nuevo,
#            no se (ha) solucionado/arreglado/resuelto, no sirvió, no ha servido;
# * or one of those lines starts with a bare no: "no", "nope", "nein", "nö", "non" followed by
#   punctuation or the end of the line ("No.", "No, ...", "Nein!"), "no it doesn't", or a hedged
#   no ("not yet", "not really", "noch nicht", "nicht wirklich", "pas encore", "pas vraiment",
#   "todavía no", "aún no", "no del todo") -- unless the reply also says it works ("works now",
#   "all good", "alles gut", "ça marche", "ya funciona", ...).
#
# Positive phrases that contain a negation are removed first, so they never read as
# a no: "no problem(s)", "no issue(s)", "no worries", "no complaints", "not bad",
# "kein(e) Problem(e)", "nicht schlecht", "pas de problème", "pas mal", "no hay problema",
# "sin problema(s)", "ningún problema".

_POSITIVE_NEGATIONS = re.compile(
    r"\b(?:no\s+(?:more\s+)?(?:problems?|issues?|worries|complaints|trouble)|not\s+bad|"
    r"keine?\s+probleme?|nicht\s+schlecht|"
    r"pas\s+de\s+probl[eè]mes?|pas\s+mal|"
    r"no\s+hay\s+(?:ningún\s+|ningun\s+)?problemas?|sin\s+problemas?|ning[uú]n\s+problema)\b"
)
_WORKS = re.compile(
    r"\b(?:works?|working|fixed|solved|resolved)\s+(?:now|again|fine|perfectly|great|well)\b|"
    r"\ball\s+(?:good|fine|sorted)\b|\beverything\s+(?:works|is\s+(?:fine|good|working))\b|"
    r"\balles\s+(?:gut|in\s+ordnung)\b|\bfunktioniert\s+(?:jetzt|wieder|einwandfrei|gut|prima)\b|"
    r"\b(?:ça|ca)\s+(?:marche|fonctionne)\b(?!\s+(?:toujours\s+)?pas)|\b(?:marche|fonctionne)\s+(?:bien|maintenant)\b|"
    r"\bya\s+funciona\b|\bfunciona\s+(?:bien|perfectamente|ahora)\b|\btodo\s+bien\b"
)
NOT_FIXED_PHRASES = re.compile(
    r"\bstill\s+not\s+(?:working|fixed|solved|resolved|right)\b|"
    r"\bstill\s+(?:doesn'?t|does\s+not|don'?t|do\s+not|won'?t|will\s+not|isn'?t|is\s+not|can'?t|cannot|"
    r"broken|faulty|failing|fails|defective|the\s+same\s+(?:problem|issue)|"
    r"ha(?:ve|s|ving)\s+(?:the\s+)?(?:same\s+)?(?:problem|issue)s?)\b|"
    r"\b(?:not|isn'?t|is\s+not|wasn'?t|was\s+not|hasn'?t\s+been|has\s+not\s+been)\s+(?:fixed|solved|resolved)\b|"
    r"\b(?:doesn'?t|does\s+not|don'?t|do\s+not)\s+work\b|\bnot\s+working\b|"
    r"\b(?:didn'?t|did\s+not)\s+help\b|\bbrok(?:e|en)\s+again\b|\bstopped\s+working\b|"
    r"\bstill\s+(?:leaks?|leaking|drips?|dripping)\b|"
    r"\bfunktioniert\s+(?:immer\s+noch\s+|noch\s+|weiterhin\s+)?nicht\b|\bgeht\s+(?:immer\s+)?noch\s+nicht\b|"
    r"\bgeht\s+nicht\s+mehr\b|\bimmer\s+noch\s+(?:kaputt|defekt|nicht)\b|\bwieder\s+(?:kaputt|defekt)\b|"
    r"\bnicht\s+(?:behoben|gelöst|geloest|repariert)\b|\bhat\s+nicht\s+geholfen\b|"
    r"\b(?:ne\s+)?(?:marche|fonctionne)\s+(?:toujours\s+)?pas\b|\btoujours\s+pas\b|"
    r"\b(?:toujours|encore|de\s+nouveau|[àa]\s+nouveau)\s+(?:en\s+panne|cass[ée]e?)\b|"
    r"\bpas\s+(?:réglé|regle|résolu|resolu|réparé|repare)e?\b|"
    r"\bn'a\s+pas\s+aidé\b|"
    r"\bsigue\s+sin\s+funcionar\b|\b(?:todav[ií]a|a[uú]n)\s+no\s+funciona\b|\bno\s+funciona\b|"
    r"\bsigue\s+(?:fallando|roto|rota|igual)\b|\bse\s+volvi[oó]\s+a\s+(?:romper|estropear)\b|"
    r"\bse\s+(?:rompi[oó]|estrope[oó])\s+(?:otra\s+vez|de\s+nuevo)\b|"
    r"\bno\s+se\s+(?:ha\s+)?(?:solucionado|arreglado|resuelto)\b|"
    r"\bno\s+(?:sirvi[oó]|ha\s+servido)\b"
)
_BARE_NO = re.compile(
    r"^(?:(?:no|nope|nein|nö|noe|non|nee)(?:\s*[.,!;:\-\u2013\u2014]|\s*$)|"
    r"no\s+(?:it\s+)?(?:doesn'?t|does\s+not|isn'?t|is\s+not|hasn'?t|has\s+not)\b|"
    r"not\s+(?:yet|really|quite|completely|entirely|at\s+all)\b|noch\s+nicht\b|nicht\s+(?:wirklich|ganz)\b|"
    r"pas\s+(?:encore|vraiment|du\s+tout|compl[èe]tement)\b|(?:todav[ií]a|a[uú]n)\s+no\b|"
    r"no\s+(?:del\s+todo|realmente)\b)"
)


def says_not_fixed(text: str, lines: int = 3) -> bool:
    """Whether the first ``lines`` non-blank lines of a reply say the problem is not solved."""
    head = []
    for line in text.splitlines():
        line = " ".join(line.strip(_INVISIBLE + " \t").lower().replace("\u2019", "'").replace("`", "'").split())
        if line:
            head.append(line)
            if len(head) == lines:
                break
    cleaned = [_POSITIVE_NEGATIONS.sub(" ", line).strip() for line in head]
    if any(NOT_FIXED_PHRASES.search(line) for line in cleaned):
        return True
    if any(_WORKS.search(line) for line in head) or any(line != c for line, c in zip(head, cleaned)):
        return False
    return any(_BARE_NO.match(line) for line in cleaned)

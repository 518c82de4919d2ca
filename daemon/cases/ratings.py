"""What a customer's one-line reply means: a rating from 1 to 5, or "it still does not work".

Pure text rules, no I/O. The text handed in is the *new* text of a reply, with
quoted lines already removed.

Ratings (``parse_rating``) are read from the start of the first non-blank line
only, so a rating buried in a sentence ("I would say 4") is not a rating:

* a number from 1 to 5: ``4``, ``4/5``, ``4 / 5``, ``4 out of 5``, ``4 of 5``,
  ``5 stars``, ``5 star``, ``5 Sterne``, ``5 étoiles``, ``5 estrellas``;
  full-width digits (``４``) count as digits;
* star symbols, one to five of them: ``***``, ``★★★★``, ``★★★☆☆``, ``⭐⭐⭐``
  (a single ``*`` followed by text is a list bullet, not a rating);
* a word or phrase from ``[satisfaction.words]`` (``DEFAULT_WORDS`` unless
  configured), case-insensitive, whole words only, the longest phrase winning:
  ``Sehr gut`` is 5, not the 4 of ``gut``. Greetings such as ``Good morning``
  are not ratings.

The token may be followed by punctuation (``.``, ``!``, ``,``, ``-``, ``:``)
and more text; that text and the lines after it are the comment. Numbers
outside 1..5 (``0``, ``6``, ``10``), other scales (``8/10``), decimals
(``4.5``), ranges (``4-5``) and times (``4:30``) are not ratings.
"""
from __future__ import annotations

import re
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
_NUMBER = re.compile(
    r"(?P<n>[0-9]{1,3})(?![0-9])"
    r"(?:\s*/\s*(?P<d1>[0-9]{1,3})(?![0-9])|\s+(?:out\s+of|of)\s+(?P<d2>[0-9]{1,3})(?![0-9]))?"
    r"(?:\s*(?:stars?|sterne?|[ée]toiles?|estrellas?))?" + _AFTER,
    re.IGNORECASE,
)
_STARS = re.compile(r"(?P<s>\*{1,5}|(?P<full>★{1,5})(?P<empty>☆{0,4})|(?:⭐\ufe0f?){1,5})" + _AFTER)
# Right after a number these make it a decimal, a time or (after a bare number) a range, not a rating.
_DECIMAL_OR_TIME = re.compile(r"[.,:][0-9]")
_RANGE = re.compile(r"\s*[-\u2013\u2014]\s*[0-9]")
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


def parse_rating(text: str, words: Mapping[str, int] = DEFAULT_WORDS) -> Rating | None:
    """The rating at the start of the first non-blank line of ``text``, or None; never raises."""
    found = _first_line(text)
    if found is None:
        return None
    line, following = found
    folded = line.translate(_FULL_WIDTH)  # same length as ``line``

    m = _NUMBER.match(folded)
    if m:
        denominator = m.group("d1") or m.group("d2")
        if denominator is not None and int(denominator) != 5:
            return None
        if _DECIMAL_OR_TIME.match(folded, m.end()):
            return None
        if m.end() == m.end("n") and _RANGE.match(folded, m.end()):
            return None
        score = int(m.group("n"))
        if not 1 <= score <= 5:
            return None
        return Rating(score, _comment(line[m.end():], following))

    m = _STARS.match(folded)
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

    if _GREETING.match(folded):
        return None
    compiled = _word_pattern(_normalise_words(words))
    if compiled is not None:
        pattern, scores = compiled
        m = pattern.match(folded)
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
#            doesn't work, does not work, don't work, not working, didn't help, did not help, broke(n) again;
#   German   funktioniert (immer noch/noch/weiterhin) nicht, geht (immer) noch nicht, geht nicht mehr,
#            immer noch kaputt/defekt/nicht, nicht behoben/gelöst/repariert, hat nicht geholfen;
#   French   ne marche/fonctionne (toujours) pas, marche/fonctionne toujours pas, toujours pas,
#            toujours en panne/cassé, pas réglé/résolu/réparé, n'a pas aidé;
#   Spanish  sigue sin funcionar, todavía/aún no funciona, no funciona, sigue fallando/roto/igual,
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
    r"\b(?:didn'?t|did\s+not)\s+help\b|\bbrok(?:e|en)\s+again\b|"
    r"\bfunktioniert\s+(?:immer\s+noch\s+|noch\s+|weiterhin\s+)?nicht\b|\bgeht\s+(?:immer\s+)?noch\s+nicht\b|"
    r"\bgeht\s+nicht\s+mehr\b|\bimmer\s+noch\s+(?:kaputt|defekt|nicht)\b|"
    r"\bnicht\s+(?:behoben|gelöst|geloest|repariert)\b|\bhat\s+nicht\s+geholfen\b|"
    r"\b(?:ne\s+)?(?:marche|fonctionne)\s+(?:toujours\s+)?pas\b|\btoujours\s+pas\b|"
    r"\btoujours\s+(?:en\s+panne|cass[ée]e?)\b|\bpas\s+(?:réglé|regle|résolu|resolu|réparé|repare)e?\b|"
    r"\bn'a\s+pas\s+aidé\b|"
    r"\bsigue\s+sin\s+funcionar\b|\b(?:todav[ií]a|a[uú]n)\s+no\s+funciona\b|\bno\s+funciona\b|"
    r"\bsigue\s+(?:fallando|roto|rota|igual)\b|\bno\s+se\s+(?:ha\s+)?(?:solucionado|arreglado|resuelto)\b|"
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

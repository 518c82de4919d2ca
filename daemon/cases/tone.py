"""How upset a customer's message reads: calm, upset, angry or abusive, with the reasons shown to staff.

Pure text rules, no I/O, no clock. ``assess`` reads the customer's own new words and returns a
``ToneReading``: the tone and the signals it found, short phrases a member of staff can check against the
message ("threatens a chargeback", "calls you names: 'idiots'", "writes in capitals").

How the tone is decided (the words per language are in ``tone_lexicon``):

* **abusive**: names or swearing aimed at people ("you idiots", "Bande d'incompétents", "que les den",
  "Your company is a scam", "Ihr seid doch alle unfähig"), or a threat against staff ("I know where your
  office is"). One is enough. A name the writer gives themselves ("I felt like an idiot") does not count,
  and a name counts only when aimed: a word for "you", your company or your staff within four words before
  it or three after in the same sentence ("you thieves", "bunch of clowns", "he's a moron", "el idiota del
  soporte"), or said alone as a form of address ("Morons.", "Espèce de nuls,"); not "thieves stole my
  parcel", not "the movie is called 'Idiots and Angels'". Words such as "useless" or "unfähig" count only
  when said of "you" ("useless, the lot of you"; not "your useless app").
* otherwise the signals add up to a score; **angry** from 3, **upset** from 1, **calm** below:

  ======================================================================  ======
  signal                                                                  counts
  ======================================================================  ======
  a threat: chargeback, lawyer or court, regulator or consumer body,         3
  public review, leaving ("never again") -- however polite (see below)
  words of strong anger ("furious", "inadmissible"), swearing about things   3
  writes in capitals (most words of four letters or more all in capitals)   2
  "third time I write", "zum vierten Mal"                                   2
  demands: "I demand", "escalate", "j'exige"                                2
  "nobody answered", "no reply", "sin respuesta"                            1
  words of disappointment or annoyance (two at most)                        1 each
  the lowest rating ("1 star", "1 étoile": an answer to our check-in)       1
  sarcasm: praise and a fault in one sentence ("Great job, third broken      1
  kettle")
  complained before about the same thing (``earlier_complaints`` >= 1)      1
  runs of "!!" or "?!" (two at most) -- only on top of another signal       1 each
  a word stressed in capitals ("broke AGAIN") -- only on top of another     1
  ======================================================================  ======

* a lawyer, a court, a regulator or a review is only mentioned until an intent is near it in the same
  sentence (ten words before or six after): the future or intent ("I will", "going to", "werde", "je vais",
  "voy a"), a condition ("or", "sonst", "sinon"), an imperative ("Expect a 1 star review"), an action
  taken ("I have contacted"). "Mein Anwalt hat mir geraten, mich zuerst an Sie zu wenden" and "Our lawyer's
  office ordered two kettles" are no threats; a review needs a review word or platform ("review",
  "Trustpilot", "Bewertung", "avis", "reseña"): "1 star" alone is a rating, not a threat; a good review
  ("a 5 star review") is none either. A threat is negated by a negation at its intent ("I am not going
  to leave a 1 star review", "ich werde keine schlechte Bewertung schreiben", "je ne vais pas", "no voy a")
  or just before it ("I don't want a chargeback"); "I will not hesitate to" is no negation.
* a word of anger or disappointment with a negation in the three words before it, in the same clause
  ("not angry, just disappointed", "Ich bin nicht wütend"), does not count; nor do strong words in a harmless sense, which are simply not in the
  lexicon ("this bug kills the battery", "the delivery was a disaster but you fixed it").
* quoted history does not count: lines starting with ``>`` are skipped, and everything from an
  attribution line ("On ... wrote:", "Am ... schrieb ...:", "Le ... a écrit :", "El ... escribió:",
  "-----Original Message-----", a "From:" line with an address) on is cut, as are signature lines such
  as "Sent from my iPhone".

Languages: en, de, fr and es have their own words; any other language is read with the English words.
Every language also gets a few words customers use whatever language they write in ("chargeback",
"1 star"). Operators add words per language and level (``extra_words``, from ``[tone]``); they are
written as the lexicon's entries are (``*`` for any ending, case and accents ignored) and count as the
level they are listed under: abusive, angry (3) or upset (1).

Why a hand-curated lexicon and not VADER's (vaderSentiment 3.3.2, MIT, about 7,500 English entries):
VADER scores positive against negative in English only; it has no notion of a chargeback, a lawyer, a
consumer body or "nobody answered", which are what make a complaint urgent; it does not tell anger from
disappointment from abuse; its last release was in 2020; and a per-word valence is harder to show staff
than a named signal. The signals here are few and specific, and each one that fires is shown.

A case is ``urgent`` when a message is angry or abusive or the customer has complained about the same
thing before (``is_urgent``, ``ToneReading.priority``).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Mapping

from .tone_lexicon import ANY, LEXICON

TONES = ("calm", "upset", "angry", "abusive")
URGENT_TONES = frozenset({"angry", "abusive"})

ANGRY_FROM = 3
UPSET_FROM = 1

#: What each kind of lexicon entry means: "abusive" or the points it adds, and how staff see it.
KINDS: dict[str, tuple[str | int, str]] = {
    "insult": ("abusive", "calls you names"),
    "accuse": ("abusive", "calls you names"),
    "unfit": ("abusive", "calls you names"),
    "swear_at": ("abusive", "swears at you"),
    "staff_threat": ("abusive", "threatens staff"),
    "extra_abusive": ("abusive", "uses a word listed as abusive"),
    "chargeback": (3, "threatens a chargeback"),
    "legal": (3, "threatens legal action"),
    "legal_act": (3, "threatens legal action"),
    "regulator": (3, "threatens to go to a regulator or consumer body"),
    "review": (3, "threatens a public review"),
    "leave": (3, "threatens to leave"),
    "anger": (3, "strong words"),
    "swearing": (3, "swears"),
    "extra_angry": (3, "uses a word listed as angry"),
    "repeated": (2, "says this is not the first time they write"),
    "demand": (2, "makes demands"),
    "ignored": (1, "says nobody answered before"),
    "upset": (1, "sounds upset"),
    "low_rating": (1, "gives the lowest rating"),
    "extra_upset": (1, "uses a word listed as upset"),
}
UPSET_WORDS_AT_MOST = 2
CAPITALS_POINTS = 2
EXCLAMATION_RUNS_AT_MOST = 2
NEGATED_KINDS = frozenset({"anger", "upset", "extra_upset", "low_rating"})
#: Threats that are only mentions until an ``intent`` is near: a lawyer, a court, a regulator, a review.
NEEDS_INTENT = frozenset({"legal", "regulator", "review"})
#: How near, in words, in the same sentence: the intent before the mention, or after it.
INTENT_BEFORE, INTENT_AFTER = 10, 6
#: Threats that stand on their own ("I will file a chargeback"), unless negated just before.
THREATS = frozenset({"chargeback", "legal_act"})
#: All-capital words of four letters or more that are names, not shouting.
ACRONYMS = frozenset({"ASAP", "IBAN", "HTML", "HTTP", "HTTPS", "JPEG", "IKEA", "LEGO", "ALDI", "LIDL", "SONY",
                      "ASUS", "NASA", "UEFA", "FIFA", "BOSCH", "SEPA", "BIC", "GDPR", "DSGVO", "RGPD", "ISBN",
                      "USB", "HDMI", "WIFI", "WLAN", "GPS", "SIM", "PDF", "CEO", "PAYPAL", "UPS", "DPD", "GLS",
                      "SEUR", "MRW", "OCU", "UFC", "DGCCRF", "FACUA", "NFC", "LCD", "OLED", "LED"})


@dataclass(frozen=True)
class ToneReading:
    tone: str  # one of TONES
    signals: tuple[str, ...]  # what was found, in words staff can check against the message
    earlier_complaints: int = 0

    @property
    def urgent(self) -> bool:
        return is_urgent(self, self.earlier_complaints)

    @property
    def priority(self) -> str:
        return "urgent" if self.urgent else "normal"


def is_urgent(reading: ToneReading, earlier_complaints: int = 0) -> bool:
    """Urgent: the message is angry or abusive, or the customer complained about the same thing before."""
    return reading.tone in URGENT_TONES or earlier_complaints >= 1


def assess(text: str, language: str, *,
           extra_words: Mapping[str, Mapping[str, Iterable[str]]] | None = None,
           earlier_complaints: int = 0) -> ToneReading:
    """The tone of ``text``, the customer's own new words, written in ``language`` (an ISO 639-1 code)."""
    own = own_words(text)
    folded = fold(own)
    lang = _language(language)
    patterns = dict(_lexicon(lang))
    if extra_words:
        patterns.update(_extra(tuple((level, tuple(words)) for level, words in
                                     (extra_words.get(lang) or extra_words.get(language) or {}).items())))

    abusive: list[str] = []
    found: list[tuple[int, str]] = []  # (points, signal)
    for kind, pattern in patterns.items():
        if kind not in KINDS:
            continue
        hits = _hits(kind, pattern, own, folded, lang, patterns)
        if not hits:
            continue
        level, name = KINDS[kind]
        signal = f"{name}: " + ", ".join(f"'{hit}'" for hit in hits[:3])
        if kind == "chargeback":
            signal = name  # the words vary ("reverse the payment"); the threat is what staff need
        if level == "abusive":
            abusive.append(signal)
        elif kind in ("upset", "extra_upset"):
            found.append((min(len(hits), UPSET_WORDS_AT_MOST) * level, signal))
        else:
            found.append((level, signal))

    sarcasm = _sarcasm(folded, own, patterns)
    if sarcasm:
        found.append((1, f"sounds sarcastic: '{sarcasm}'"))
    shouting, stressed = _capitals(own)
    if shouting:
        found.append((CAPITALS_POINTS, "writes in capitals"))
    if earlier_complaints >= 1:
        times = "" if earlier_complaints == 1 else f" ({earlier_complaints} times)"
        found.append((1, f"complained before about the same thing{times}"))

    # Amplifiers: they count only on top of another signal ("Thanks so much!!!" stays calm).
    if found or abusive:
        runs = _exclamation_runs(own)
        if runs:
            longest = max(runs, key=len)
            found.append((min(len(runs), EXCLAMATION_RUNS_AT_MOST),
                          f"{longest} ({len(runs)} run{'s' if len(runs) > 1 else ''})"))
        if stressed and not shouting:
            found.append((1, "stresses words in capitals: " + ", ".join(f"'{w}'" for w in stressed[:3])))

    score = sum(points for points, _ in found)
    if abusive:
        tone = "abusive"
    elif score >= ANGRY_FROM:
        tone = "angry"
    elif score >= UPSET_FROM:
        tone = "upset"
    else:
        tone = "calm"
    signals = tuple(abusive) + tuple(signal for _, signal in sorted(found, key=lambda f: -f[0]))
    return ToneReading(tone=tone, signals=signals, earlier_complaints=earlier_complaints)


# --- the customer's own words ---------------------------------------------------------------------------

_ATTRIBUTION = re.compile(r"^(on|am|le|el)\b.*\b(wrote|schrieb|a\s+ecrit|escribio)\b.*:\s*$")
_ATTRIBUTION_END = re.compile(r"\b(wrote|schrieb|a\s+ecrit|escribio)\b.*:\s*$")
_ATTRIBUTION_START = re.compile(r"^(on|am|le|el)\b")
_ORIGINAL = re.compile(r"^-{2,}\s*(original message|ursprungliche nachricht|message d'origine|mensaje original)"
                       r"|^(from|von|de|da)\s?:\s.*@")
_SIGNATURE = re.compile(r"^(sent from my|von meinem|envoye de mon|enviado desde mi|get outlook for|"
                        r"von outlook|envoye depuis|enviado desde)\b")


def own_words(text: str) -> str:
    """``text`` without quoted history (``>`` lines, and everything from an attribution line on) and
    without "Sent from my iPhone" lines."""
    kept: list[str] = []
    previous = ""
    for line in text.splitlines():
        folded = fold(line).strip()
        if _ATTRIBUTION.search(folded) or _ORIGINAL.search(folded):
            break
        if _ATTRIBUTION_END.search(folded) and _ATTRIBUTION_START.search(previous):
            kept.pop()  # an attribution line wrapped over two lines
            break
        previous = folded
        if folded.startswith(">") or _SIGNATURE.search(folded):
            kept.append("")
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def fold(text: str) -> str:
    """Lower case without accents, one character for one, so that a match's span is the same in ``text``."""
    out = []
    for ch in text:
        low = ch.lower()
        if len(low) != 1:
            low = ch
        base = unicodedata.normalize("NFD", low)[0]
        out.append("'" if base in "\u2019\u2018`\u00b4" else base)
    return "".join(out)


# --- lexicon ---------------------------------------------------------------------------------------------

def _language(language: str) -> str:
    code = re.split(r"[-_]", (language or "").strip().lower())[0]
    return code if code in LEXICON else "en"


def _compile(entries: Iterable[str], strict_end: bool = False) -> re.Pattern[str] | None:
    """One pattern for the entries, whole words only; with ``strict_end`` a hyphen and a letter after the
    word make it part of a longer word ("idiot-proof" is no name)."""
    parts = []
    for entry in entries:
        part = fold(entry.strip())
        if not part:
            continue
        part = re.sub(r"(?<!\\)\*", r"\\w*", part)
        part = part.replace("'", "'?").replace(" ", r"[\s\-]+")
        parts.append(part)
    if not parts:
        return None
    end = r"(?!\w|-\w)" if strict_end else r"(?!\w)"
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + ")" + end)


@lru_cache(maxsize=None)
def _lexicon(lang: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    words = LEXICON[lang]
    kinds = sorted(set(words) | set(ANY))
    compiled = []
    for kind in kinds:
        pattern = _compile(tuple(words.get(kind, ())) + tuple(ANY.get(kind, ())),
                           strict_end=kind in ("insult", "accuse"))
        if pattern is not None:
            compiled.append((kind, pattern))
    return tuple(compiled)


@lru_cache(maxsize=64)
def _extra(levels: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    compiled = []
    for level, words in levels:
        if level not in ("abusive", "angry", "upset"):
            continue
        # Operator words are plain text: only * is special.
        pattern = _compile(re.escape(word).replace(r"\*", "*").replace("\\ ", " ") for word in words)
        if pattern is not None:
            compiled.append((f"extra_{level}", pattern))
    return tuple(compiled)


_SELF = re.compile(
    r"(?<!\w)(i'?m|i am|i feel|i felt|i look|i looked|made me (feel|look)|ich bin|ich komme mir|ich fuhle mich|"
    r"je suis|je me sens|je me sentais|j'?ai l'?air|me siento|me senti|soy|parezco)"
    r"(\s+(like|such|a|an|total|complete|completely|totally|real|so|un|une|una|uno|ein|eine|einen|wie|"
    r"como|comme|vor|total|completo|completa|vraiment|muy|so|ganz)){0,3}\s*$")


_WORD = re.compile(r"[\w']+")
_SENTENCE_END = re.compile(r"[.!?;\n\u00bf\u00a1]")
_CLAUSE_END = re.compile(r"[.,;:!?\n\u00bf\u00a1]")
#: "not hesitate" is no negation: "I will not hesitate to contact my lawyer".
_HESITATE = re.compile(r"^(hesitat\w*|zoger\w*|zauder\w*|hesit\w*|dud\w*)$")
#: A rating followed by a review word is part of a review ("a 1 star review"), read as one.
_REVIEW_AFTER = re.compile(r"[\s\-]+(\w+[\s\-]+)?(reviews?|ratings?|bewertung\w*|rezension\w*|avis|resenas?|"
                           r"valoraci\w*|opinion\w*)(?!\w)")


def _hits(kind: str, pattern: re.Pattern[str], own: str, folded: str, lang: str,
          patterns: Mapping[str, re.Pattern[str]]) -> list[str]:
    hits: list[str] = []
    words = LEXICON[lang]
    negators = set(words.get("negator", ()))
    for match in pattern.finditer(folded):
        before = folded[max(0, match.start() - 40):match.start()]
        if kind in NEGATED_KINDS and _negated(_clause_before(folded, match.start())[-3:], negators):
            continue
        if kind == "low_rating" and _REVIEW_AFTER.match(folded, match.end()):
            continue  # "a 1 star review": a review, read as one
        if kind in ("insult", "accuse", "unfit") and _SELF.search(before):
            continue
        if kind == "accuse" and not (_aimed(folded, match, set(words.get("aim", ()))) or _vocative(folded, match)):
            continue
        if kind == "unfit" and not _aimed(folded, match, set(words.get("person", ()))):
            continue
        if kind in THREATS and _negated(_clause_before(folded, match.start())[-3:], negators):
            continue
        if kind == "leave" and _negated(_clause_before(folded, match.start())[-1:], negators):
            continue  # "I'm not going to cancel my account"; "no compraré nunca más" stays a threat
        if kind in NEEDS_INTENT and not _threat(kind, folded, match, patterns, negators):
            continue
        word = own[match.start():match.end()]
        if word.lower() not in (h.lower() for h in hits):
            hits.append(word)
    return hits


def _clause_before(folded: str, at: int) -> list[str]:
    """The words before ``at`` in its clause: a negation does not reach over a comma."""
    return _WORD.findall(_CLAUSE_END.split(folded[max(0, at - 60):at])[-1])


def _negated(tokens: list[str], negators: set[str], following: list[str] | None = None) -> bool:
    """A negator among ``tokens``, unless "not hesitate" (``following``: the words after ``tokens``)."""
    following = following or []
    for i, token in enumerate(tokens):
        if token in negators or token.endswith("n't") or (token.startswith("n'") and len(token) > 2):
            after = (tokens[i + 1:] + following)[:2]
            if not any(_HESITATE.match(t) for t in after):
                return True
    return False


def _threat(kind: str, folded: str, match: re.Match[str], patterns: Mapping[str, re.Pattern[str]],
            negators: set[str]) -> bool:
    """A mention of a lawyer, a court, a regulator or a review is a threat when an intent is near it in the
    same sentence -- "I will contact my lawyer", "mein Anwalt wird sich melden", "voy a dejar una reseña",
    "Expect a 1 star review" -- and is not negated ("I am not going to leave a review", "ich werde keine
    schlechte Bewertung schreiben", "je ne vais pas laisser un avis"). A good review is no threat."""
    intent = patterns.get("intent")
    if intent is None:
        return False
    if kind == "review":
        positive = patterns.get("positive")
        near = " ".join(_clause_before(folded, match.start())[-3:] + _WORD.findall(folded[match.start():match.end()]))
        if positive is not None and positive.search(near):
            return False  # "a 5 star review", "eine gute Bewertung"
    begin = max((m.end() for m in _SENTENCE_END.finditer(folded, 0, match.start())), default=0)
    found = _SENTENCE_END.search(folded, match.end())
    end = found.start() if found else len(folded)
    best: tuple[int, re.Match[str]] | None = None
    for m in intent.finditer(folded, begin, end):
        if m.start() < match.start():
            gap = len(_WORD.findall(folded[m.end():match.start()]))
            if gap > INTENT_BEFORE:
                continue
        else:
            gap = len(_WORD.findall(folded[match.end():m.start()]))
            if gap > INTENT_AFTER:
                continue
        if best is None or gap < best[0]:
            best = (gap, m)
    if best is None:
        return False
    m = best[1]
    own_tokens = _WORD.findall(folded[m.start():m.end()])
    after = _WORD.findall(folded[m.end():end])
    window = _clause_before(folded, m.start())[-1:] + own_tokens + after[:2]
    if _negated(window, negators, after[2:4]):
        return False  # "not going to", "werde keine", "ne vais pas", "no voy a", "won't"
    return not _negated(_clause_before(folded, match.start())[-2:], negators,
                        _WORD.findall(folded[match.start():match.end()]))


def _aimed(folded: str, match: re.Match[str], aim: set[str]) -> bool:
    """A name is aimed at people when a word of ``aim`` is within four words before it or three after, in
    the same sentence: "you thieves", "bunch of clowns", "Betrüger, alle", "Vous êtes vraiment des
    incapables" -- not "thieves stole my parcel", not "the film 'Idiots and Angels'"."""
    before = _WORD.findall(_SENTENCE_END.split(folded[max(0, match.start() - 60):match.start()])[-1])[-4:]
    after = _WORD.findall(_SENTENCE_END.split(folded[match.end():match.end() + 60])[0])[:3]
    pairs = [f"{a} {b}" for words in (before, after) for a, b in zip(words, words[1:])]
    return any(word in aim for word in before + after + pairs)


def _vocative(folded: str, match: re.Match[str]) -> bool:
    """A name said alone, as a form of address: at the start of a sentence (two words at most before it:
    "Absolute morons.", "Espèce de nuls,") and followed by a comma or the sentence's end ("Imbéciles, ¿no
    saben leer?") -- not "Idiots and Angels"."""
    sentence = re.split(r"[.!?;:\n\u00bf\u00a1\"'\u00ab\u00bb\u201c\u201d]", folded[:match.start()])[-1]
    if len(_WORD.findall(sentence)) > 2:
        return False
    return re.match(r"\s*([,.!?;:\n]|$)", folded[match.end():]) is not None


def _sarcasm(folded: str, own: str, patterns: Mapping[str, re.Pattern[str]]) -> str | None:
    """Praise and a fault in one sentence: "Great job, third broken kettle", unless the sentence says the fault
    was put right ("thanks a lot for replacing the broken kettle"). The praise is returned."""
    praise, fault, fixed = patterns.get("praise"), patterns.get("fault"), patterns.get("fixed")
    if praise is None or fault is None:
        return None
    start = 0
    for sentence in re.split(r"[.!?;\n]", folded):
        found = praise.search(sentence)
        if found and fault.search(sentence) and not (fixed and fixed.search(sentence)):
            return own[start + found.start():start + found.end()]
        start += len(sentence) + 1
    return None


def _capitals(own: str) -> tuple[bool, list[str]]:
    """(the message is written in capitals, the words of four letters or more stressed in capitals)."""
    words = [w for w in re.findall(r"[^\W\d_]+", own) if len(w) >= 3]
    words = [w for w in words if not (w.isupper() and (len(w) <= 3 or w in ACRONYMS))]
    shouted = [w for w in words if w.isupper()]
    letters = sum(len(w) for w in words)
    upper = sum(1 for w in words for c in w if c.isupper())
    shouting = len(shouted) >= 2 and letters > 0 and upper / letters >= 0.6
    return shouting, shouted


def _exclamation_runs(own: str) -> list[str]:
    """Runs of two or more "!" (or "?!", "!?"), and of three or more "?"; Spanish opening marks ignored."""
    text = own.replace("\u00a1", "").replace("\u00bf", "")
    return [run for run in re.findall(r"[!?]{2,}", text) if "!" in run or len(run) >= 3]

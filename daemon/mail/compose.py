"""Turn a rendered template into the exact bytes that will be sent.

The Message-ID is made here, before the email is stored, so a resend after a
crash carries the same id and threads (and deduplicates) as the first try.
Automated mail is marked per RFC 3834 so that well-behaved autoresponders stay
quiet, and carries our X-Loop marker so we recognise it if it comes back.
"""
from __future__ import annotations

import binascii
import secrets
from base64 import b64encode
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime

from ..addresses import writable_address  # noqa: F401 - compose refuses what it cannot write
from ..templates import RenderedEmail, one_line

MAX_REFERENCES = 20
MAX_ID_LENGTH = 250  # longer ids are left out of threading headers rather than folded
MAX_NAME_LENGTH = 200  # display names are cut here: a header line stays under RFC 5322's 998
MAX_SUBJECT_LENGTH = 200  # characters; a customer's 1 MB subject is not repeated back in every email
LINE_LIMIT = 998
_ENCODED_WORD_BYTES = 45  # 60 base64 characters: "=?utf-8?b?" + 60 + "?=" = 72, under RFC 2047's 75


@dataclass(frozen=True)
class Composed:
    message_id: str  # without <>
    subject: str
    raw: bytes


def new_message_id(domain: str, case_id: int | None) -> str:
    token = secrets.token_hex(12)
    return f"{token}.case{case_id}@{domain}" if case_id else f"{token}@{domain}"


def inert(value: str) -> str:
    """One line, and no RFC 2047 encoded-word syntax: text a customer wrote as a literal encoded word
    (decoded once already by parse) must not be decoded a second time, by a mail client or by any
    stdlib header class, into CR LF and an injected header."""
    return one_line(value).replace("=?", "= ?")


def shorten_subject(subject: str, limit: int = MAX_SUBJECT_LENGTH) -> str:
    """One line of at most ``limit`` characters, cut at a word where one is near, marked with an ellipsis.

    Mail clients show a few dozen characters; a subject of thousands makes a header of thousands of
    encoded words, which some parsers (Python's own among them) take quadratic time and memory to read.
    """
    subject = one_line(subject)
    if len(subject) <= limit:
        return subject
    cut = subject[:limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def _safe_id(mid: str, utf8: bool = False) -> str | None:
    """A message id we can write between <> as it is, or None: odd ids are left out, never mangled."""
    mid = one_line(mid)
    if (not mid or len(mid) > MAX_ID_LENGTH or "=?" in mid or any(ch in mid for ch in " <>()[]\\,;:\"")
            or not (utf8 or mid.isascii())):
        return None
    return mid


def _encoded_words(text: str) -> list[str]:
    """RFC 2047 base64 encoded words, each whole characters and at most 75 long."""
    words, chunk, size = [], [], 0
    for ch in text:
        n = len(ch.encode("utf-8"))
        if size + n > _ENCODED_WORD_BYTES:
            words.append(chunk)
            chunk, size = [], 0
        chunk.append(ch)
        size += n
    words.append(chunk)
    return [f"=?utf-8?b?{b64encode(''.join(c).encode('utf-8')).decode('ascii')}?=" for c in words if c]


def _octets(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _fold(name: str, words: list[str], sep: str = " ") -> str:
    """``Name: w1 w2 ...``, starting a continuation line wherever the next word would pass 998 octets."""
    lines, line, size = [], f"{name}:", len(name) + 1
    for i, word in enumerate(words):
        gap = " " if i == 0 else sep
        n = _octets(word)
        if i and size + len(gap) + n > LINE_LIMIT:
            lines.append(line)
            line, size = " " + word, 1 + n
        else:
            line, size = line + gap + word, size + len(gap) + n
    lines.append(line)
    return "\r\n".join(lines)


_ATEXT_PHRASE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~ ")


def _phrase(name: str, utf8: bool) -> list[str]:
    """A display name as header words: bare atoms, a quoted string, or encoded words."""
    if not name.isascii() and not utf8:
        return _encoded_words(name)
    if all(ch in _ATEXT_PHRASE or ord(ch) > 127 for ch in name):
        return name.split(" ")
    return ['"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"']


def _address_header(header: str, name: str, addr: str, utf8: bool) -> str:
    name = inert(name or "")[:MAX_NAME_LENGTH].strip()
    if not name:
        return f"{header}: {addr}"
    return _fold(header, [*_phrase(name, utf8), f"<{addr}>"])


def _unstructured(header: str, value: str, utf8: bool) -> str:
    """Plain words stay readable; runs of words that are not (non-ASCII, or too long) become encoded words."""
    words, run = [], []
    for word in value.split(" "):
        if (utf8 or word.isascii()) and _octets(word) < LINE_LIMIT - len(header) - 3:
            if run:
                words += _encoded_words(" ".join(run))
                run = []
            words.append(word)
        else:
            run.append(word)
    if run:
        words += _encoded_words(" ".join(run))
    return _fold(header, words)


def _qp(text: str) -> bytes:
    """The body as quoted-printable UTF-8 in CRLF lines of at most 76 characters."""
    normal = "\n".join(text.splitlines()) + "\n"
    return binascii.b2a_qp(normal.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")


def _text_part(subtype: str, body: str) -> list[bytes]:
    return [f'Content-Type: text/{subtype}; charset="utf-8"'.encode(),
            b"Content-Transfer-Encoding: quoted-printable", b"", _qp(body)]


def compose(
    rendered: RenderedEmail,
    *,
    from_name: str,
    from_address: str,
    to_name: str,
    to_address: str,
    message_id: str,
    now: datetime,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    auto_submitted: str | None = None,
    loop_marker: str,
    case_id: int | None = None,
    reply_to: str | None = None,
) -> Composed:
    """Build the email's bytes; every header value is one line of ours, so nothing can be injected.

    Written directly rather than through ``email.message.EmailMessage``: the stdlib's header objects
    cost more than everything else about an acknowledgment (see bench/RESULTS.md), and an email we
    write from known parts needs none of their parsing.
    """
    # An internationalised address cannot be encoded-word'ed: it needs SMTPUTF8 (RFC 6531), which the
    # SMTP edge asks the server for; then every header is written as UTF-8.
    utf8 = not (to_address.isascii() and from_address.isascii())
    subject = inert(rendered.subject)
    head = [
        _address_header("From", from_name, from_address, utf8),
        _address_header("To", to_name, to_address, utf8),
    ]
    if reply_to:
        head.append(f"Reply-To: {reply_to}")
    head += [
        _unstructured("Subject", subject, utf8),
        f"Date: {format_datetime(now.replace(tzinfo=timezone.utc))}",
        f"Message-ID: <{message_id}>",
    ]
    parent = _safe_id(in_reply_to, utf8) if in_reply_to else None
    if parent:
        head.append(f"In-Reply-To: <{parent}>")
    refs = [r for r in (_safe_id(r, utf8) for r in (references or []) if r) if r]
    if refs:
        head.append(_fold("References", [f"<{r}>" for r in refs[-MAX_REFERENCES:]]))
    if auto_submitted:
        head += [f"Auto-Submitted: {auto_submitted}", "X-Auto-Response-Suppress: All"]
    # X-Loop on every email: a reply that quotes our headers back, or our own
    # mail delivered into the support mailbox, is recognised as ours.
    head.append(f"X-Loop: {loop_marker}")
    if case_id:
        head.append(f"X-Aftercare-Case: {case_id}")
    head.append("MIME-Version: 1.0")
    lines = [h.encode("utf-8") for h in head]
    if rendered.html:
        boundary = f"=_aftercare_{secrets.token_hex(12)}"  # "=_" never occurs in quoted-printable text
        lines += [f'Content-Type: multipart/alternative; boundary="{boundary}"'.encode(), b"",
                  f"--{boundary}".encode(), *_text_part("plain", rendered.text),
                  f"--{boundary}".encode(), *_text_part("html", rendered.html),
                  f"--{boundary}--".encode(), b""]
    else:
        lines += _text_part("plain", rendered.text)
    raw = b"\r\n".join(lines)
    return Composed(message_id=message_id, subject=subject, raw=raw)

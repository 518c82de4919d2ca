"""Turn a rendered template into the exact bytes that will be sent.

The Message-ID is made here, before the email is stored, so a resend after a
crash carries the same id and threads (and deduplicates) as the first try.
Automated mail is marked per RFC 3834 so that well-behaved autoresponders stay
quiet, and carries our X-Loop marker so we recognise it if it comes back.
"""
from __future__ import annotations

import binascii
import html as html_module
import re
import secrets
from base64 import b64encode
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Sequence
from urllib.parse import quote

from ..addresses import writable_address  # noqa: F401 - compose refuses what it cannot write
from ..inbound import Attachment
from ..templates import RenderedEmail, one_line

MAX_REFERENCES = 20
MAX_ID_LENGTH = 250  # longer ids are left out of threading headers rather than folded
MAX_NAME_LENGTH = 200  # display names are cut here: a header line stays under RFC 5322's 998
MAX_SUBJECT_LENGTH = 200  # characters; a customer's 1 MB subject is not repeated back in every email
LINE_LIMIT = 998
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8}){0,8}")  # RFC 5646's shape, nothing else
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


# -- attachments ---------------------------------------------------------------------------------

#: The line that stands in a stored email for a file's body; the outbox writes the body in at sending time
#: (store/files.py), so each file is stored once however many emails carry it. Never produced by our
#: quoted-printable (an "=" there is always followed by two hex digits or a line end) nor by base64.
FILE_MARK = re.compile(rb"^=aftercare-file:(base64|raw):([0-9a-f]{64})=(?=\r?$)", re.M)
FILE_MARK_PREFIX = b"=aftercare-file:"
_CONTENT_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
_SAFE_NAME = re.compile(r"[A-Za-z0-9 !#$%&'()*+,.\-;=@\[\]^_`{}~]{1,200}")
_MAX_NAME_OCTETS = 255  # a file name's UTF-8 bytes, at most (what file systems allow)


def file_mark(sha256: str, transfer: str) -> str:
    return f"=aftercare-file:{transfer}:{sha256}="


def file_name(name: str | None) -> str:
    """A file name safe to write and to save: one line, no path, no control characters, at most 255 bytes
    (the extension kept)."""
    name = re.sub(r"[\x00-\x1f\x7f/\\]+", "_", one_line(name or "")).strip(" .") or "attachment"
    if len(name.encode("utf-8")) > _MAX_NAME_OCTETS:
        stem, dot, ext = name.rpartition(".")
        ext = ext if dot and 0 < len(ext) <= 10 else ""
        stem = stem if ext else name
        while len((stem + ("." + ext if ext else "")).encode("utf-8")) > _MAX_NAME_OCTETS:
            stem = stem[:-1]
        name = stem + ("." + ext if ext else "")
    return name


def _content_type(value: str) -> str:
    value = (value or "").strip().lower()
    return value if _CONTENT_TYPE.fullmatch(value) else "application/octet-stream"


def _name_params(name: str) -> tuple[str, str]:
    """``name=`` for Content-Type and ``filename=`` for Content-Disposition: plain when the name is plain
    ASCII; else RFC 2231 (``filename*``, what standards-minded clients read) with RFC 2047 words in
    ``name`` (what Outlook reads)."""
    if _SAFE_NAME.fullmatch(name) and '"' not in name:
        return f'name="{name}"', f'filename="{name}"'
    words = "\r\n ".join(_encoded_words(name))
    return f'name="{words}"', "filename*=utf-8''" + quote(name, safe="")


def _file_part(a: Attachment, content_id: str | None) -> list[bytes]:
    ctype = _content_type(a.content_type)
    if ctype.startswith(("message/", "multipart/")) and a.transfer != "raw":
        ctype = "application/octet-stream"  # RFC 2046: no base64 for message/* (a forwarded mail goes raw)
    name_param, filename_param = _name_params(file_name(a.filename or ("forwarded.eml" if a.transfer == "raw"
                                                                       else "attachment")))
    disposition = "inline" if content_id else "attachment"
    head = [f"Content-Type: {ctype};\r\n {name_param}", f"Content-Disposition: {disposition};\r\n {filename_param}"]
    if a.transfer == "raw":
        head.append("Content-Transfer-Encoding: " + ("7bit" if a.data.isascii() else "8bit"))
    else:
        head.append("Content-Transfer-Encoding: base64")
    if content_id:
        head.append(f"Content-ID: <{content_id}>")
    return [h.encode("utf-8") for h in head] + [b"", file_mark(a.sha256, a.transfer).encode()]


def _image_tags(images: Sequence[tuple[str, Attachment]]) -> str:
    return "".join(f'<p><img src="cid:{cid}" alt="{html_module.escape(file_name(a.filename))}" '
                   f'style="max-width:100%"></p>' for cid, a in images)


def _html_with_images(rendered: RenderedEmail, images: Sequence[tuple[str, Attachment]]) -> str:
    """The HTML part that shows the inline images below the words: the operator's HTML template with them
    before its end, or the text email's words as HTML."""
    tags = _image_tags(images)
    if rendered.html:
        html = rendered.html
        return html.replace("</body>", tags + "</body>", 1) if "</body>" in html else html + tags
    return ('<!DOCTYPE html>\n<html><body>\n<div style="white-space:pre-wrap;font-family:sans-serif">'
            f"{html_module.escape(rendered.text)}</div>\n{tags}\n</body></html>\n")


def _boundary() -> str:
    return f"=_aftercare_{secrets.token_hex(12)}"  # "=_" never occurs in quoted-printable text


def _multipart(subtype: str, parts: list[list[bytes]], params: str = "") -> list[bytes]:
    boundary = _boundary()
    lines = [f'Content-Type: multipart/{subtype}; boundary="{boundary}"{params}'.encode(), b""]
    for part in parts:
        lines += [f"--{boundary}".encode(), *part]
    return lines + [f"--{boundary}--".encode(), b""]


def _body(rendered: RenderedEmail, attachments: Sequence[Attachment]) -> list[bytes]:
    """The MIME body: the words (text, maybe HTML); inline images beside the HTML (multipart/related);
    other files after the words (multipart/mixed)."""
    files = [a for a in attachments if a.sha256]
    images = [(f"{a.sha256[:20]}.{i}@aftercare", a) for i, a in enumerate(files)
              if a.inline and a.content_type.lower().startswith("image/")]
    others = [a for a in files if all(a is not img for _, img in images)]
    if images:
        words = _multipart("alternative", [_text_part("plain", rendered.text),
                                           _text_part("html", _html_with_images(rendered, images))])
        body = _multipart("related", [words] + [_file_part(a, cid) for cid, a in images],
                          '; type="multipart/alternative"')  # RFC 2387: the type of the root part
    elif rendered.html:
        body = _multipart("alternative", [_text_part("plain", rendered.text), _text_part("html", rendered.html)])
    else:
        body = _text_part("plain", rendered.text)
    if others:
        body = _multipart("mixed", [body] + [_file_part(a, None) for a in others])
    return body


def without_files(raw: bytes, text: str) -> bytes:
    """The same email (same headers, same Message-ID) with its files taken out: only ``text`` as its body.
    For a server that refused the email as too large (the files never reached anyone)."""
    head, sep, _ = raw.partition(b"\r\n\r\n")
    if not sep:
        return raw
    kept, skipping = [], False
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and skipping:
            continue
        skipping = line.lower().startswith((b"content-type:", b"content-transfer-encoding:"))
        if not skipping:
            kept.append(line)
    return b"\r\n".join(kept + _text_part("plain", text))


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
    attachments: Sequence[Attachment] = (),
    content_language: str | None = None,
) -> Composed:
    """Build the email's bytes; every header value is one line of ours, so nothing can be injected.

    Written directly rather than through ``email.message.EmailMessage``: the stdlib's header objects
    cost more than everything else about an acknowledgment (see bench/RESULTS.md), and an email we
    write from known parts needs none of their parsing.

    ``content_language``: the language the text is written in ("de"), sent as ``Content-Language`` (RFC
    3282) so that clients pick the right spelling checker and screen-reader voice; left out unless it is a
    well-formed language tag.
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
    if content_language and _LANGUAGE_TAG.fullmatch(content_language):
        head.append(f"Content-Language: {content_language}")
    head.append("MIME-Version: 1.0")
    lines = [h.encode("utf-8") for h in head] + _body(rendered, attachments)
    raw = b"\r\n".join(lines)
    return Composed(message_id=message_id, subject=subject, raw=raw)

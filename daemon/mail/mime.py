"""The MIME walk: the text of a mail, its attachments, and the parts a
delivery report is made of.

Why it exists: hostile structure (deep nesting, thousands of parts, missing
boundaries, huge base64) must cost bounded time and never raise.

* Bodies: text/plain preferred, else HTML turned into text with inscriptis
  (Apache-2.0); format=flowed is unflowed.
* The part walk is iterative and stops at depth ``MAX_DEPTH`` (and after
  ``MAX_PARTS`` parts), noting a defect. Attachment sizes are computed from
  the encoded payload without decoding it (base64: count of alphabet bytes).
* A forwarded mail (message/rfc822) adds its attachments to ours (marked
  ``nested``: they travel inside it); its text is used only when the outer
  mail has no text of its own.
* Attachments keep their decoded bytes and a SHA-256 (a forwarded message:
  its bytes as they came), so they can be relayed and stored once.
* HTML: ``<blockquote>`` becomes "> " lines, so quoting reads an HTML-only
  reply as it reads plain text, and a signature block (Thunderbird, Gmail,
  Outlook) starts with "-- ". When the HTML shows images by Content-ID, a
  second rendering marks each in place (``InboundMail.html_text``) so that
  quoting can tell the sender's own pictures from a logo or a quoted one.
"""
from __future__ import annotations

import binascii
import dataclasses
import hashlib
import re
from email.message import Message
from email.parser import BytesParser, HeaderParser
from email.policy import compat32
from email.utils import unquote
from urllib.parse import unquote as url_unquote

from .decoding import _B64_DELETE, _clean_text, _decode_bytes, _decode_header, _one_line
from .headers import _normalise_headers, _normalise_message_id, _raw_header
from ..inbound import Attachment, image_mark

MAX_DEPTH = 50  # MIME nesting we follow; deeper parts are ignored (defect noted)
MAX_PARTS = 1000  # parts we look at in one message
MAX_TEXT = 4 * 1024 * 1024  # characters of body text kept

_REPORT_MACHINERY = {
    "message/delivery-status",
    "message/global-delivery-status",
    "message/disposition-notification",
    "message/feedback-report",
    "text/rfc822-headers",
    "message/global-headers",
}
_RETURNED_MESSAGE = {"message/rfc822", "message/global"}


def _content_type(part: Message) -> str:
    try:
        ctype = part.get_content_type()
        return _one_line(str(ctype)).lower() or "text/plain"
    except Exception:  # noqa: BLE001
        return "application/octet-stream"


def _param(part: Message, name: str, header: str = "content-type") -> str | None:
    """A MIME parameter, RFC 2231 decoded with *our* charset handling (the
    stdlib helpers would run any codec the sender names, e.g. punycode)."""
    try:
        value = part.get_param(name, None, header)
    except Exception:  # noqa: BLE001
        return None
    if value is None:
        return None
    if isinstance(value, tuple):
        try:
            charset, _language, text = (list(value) + [None, None, None])[:3]
            data = str(text or "").encode("latin-1", "replace")
            return _decode_bytes(data, charset or "us-ascii")[0]
        except Exception:  # noqa: BLE001
            return str(value[-1])
    try:
        return unquote(str(value))
    except Exception:  # noqa: BLE001
        return str(value)


def _disposition(part: Message) -> str:
    value = _raw_header(part, "content-disposition")
    if not value:
        return ""
    return _one_line(value).split(";", 1)[0].strip().lower()


def _filename(part: Message) -> str | None:
    name = _param(part, "filename", "content-disposition")
    if name is None:
        name = _param(part, "name")
    if name is None:
        return None
    name = _decode_header(name).strip().strip('"')
    return name or None


def _raw_payload(part: Message):
    """The stored payload (str, or list of parts). Never ``get_payload()``:
    compat32 would decode it with whatever charset the sender named."""
    return getattr(part, "_payload", None)


def _payload_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        data = None
    if isinstance(data, bytes):
        return data
    raw = _raw_payload(part)
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _encoded_size(part: Message) -> int:
    """Decoded size of a leaf, computed without decoding base64."""
    payload = _raw_payload(part)
    if not isinstance(payload, str):
        return 0
    data = payload.encode("utf-8", "surrogateescape")
    cte = _one_line(_raw_header(part, "content-transfer-encoding") or "").lower()
    if cte == "base64":
        return len(data.translate(None, _B64_DELETE)) * 3 // 4
    if cte == "quoted-printable":
        try:
            return len(binascii.a2b_qp(data))
        except Exception:  # noqa: BLE001
            return len(data)
    return len(data)


def _tree_size(msg: Message) -> int:
    """Approximate raw size of an attached message (headers + encoded bodies)."""
    total, stack, seen = 0, [msg], 0
    while stack and seen < MAX_PARTS:
        part = stack.pop()
        seen += 1
        for key, value in getattr(part, "_headers", []):
            total += len(str(key)) + len(str(value)) + 4
        payload = _raw_payload(part)
        if isinstance(payload, list):
            stack.extend(p for p in payload if isinstance(p, Message))
            total += 40 * len(payload)
        elif isinstance(payload, str):
            total += len(payload)
    return total


def _split_without_boundary(part: Message) -> list[Message]:
    """A multipart whose boundary parameter is missing: guess it from the body."""
    payload = _raw_payload(part)
    if not isinstance(payload, str):
        return []
    match = re.search(r"^--([^\s]{1,200}?)(?:--)?[ \t]*\r?$", payload, re.M)
    if not match:
        return []
    boundary = re.escape(match.group(1))
    chunks = re.split(rf"^--{boundary}(?:--)?[ \t]*\r?\n?", payload, flags=re.M)
    children = []
    for chunk in chunks[1:]:
        if not chunk.strip():
            continue
        data = chunk.encode("utf-8", "surrogateescape")
        children.append(BytesParser(policy=compat32).parsebytes(data))
        if len(children) >= MAX_PARTS:
            break
    return children


def _message_bytes(inner: Message) -> bytes:
    """A forwarded message's bytes, as the parser read them (CRLF line ends, as on the wire)."""
    try:
        data = inner.as_bytes(policy=compat32.clone(linesep="\r\n", max_line_length=None))  # no refolding
    except Exception:  # noqa: BLE001 - a message we cannot write back is listed, not kept
        return b""
    return data


def _unflow(text: str, delsp: bool) -> str:
    """RFC 3676 format=flowed -> plain lines."""
    out: list[str] = []
    para: str | None = None
    depth_of_para = 0
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]
        flowed = content.endswith(" ") and content != "-- "
        if para is not None and depth != depth_of_para:
            out.append(_quote_prefix(depth_of_para) + para)
            para = None
        if para is None:
            para, depth_of_para = "", depth
        if flowed:
            para += content[:-1] if delsp else content
        else:
            out.append(_quote_prefix(depth_of_para) + para + content)
            para = None
    if para is not None:
        out.append(_quote_prefix(depth_of_para) + para)
    return "\n".join(out)


def _quote_prefix(depth: int) -> str:
    return ">" * depth + " " if depth else ""


_QUOTE_OPEN, _QUOTE_CLOSE = "\u27e6q\u27e7", "\u27e6/q\u27e7"
# Tags are found with "[^<>]" runs, so hostile HTML ("<div <div <div ..." without a ">") costs linear time;
# their attributes are then read on the small text of one tag.
_BLOCKQUOTE = re.compile(r"<(/?)blockquote\b[^<>]{0,4000}>", re.I)
_TAG = re.compile(r"<(div|span|p|table|a|img)\b([^<>]{0,4000})>", re.I)
# Where clients start a signature in HTML: Thunderbird, Gmail, Outlook on the web, Outlook desktop.
_SIGNATURE_ATTRS = re.compile(
    r"""\bclass\s*=\s*["']?[^"'>]{0,500}?\b(?:moz-signature|gmail_signature)\b"""
    r"""|\bid\s*=\s*["']?(?:Signature|signature|ms-outlook-mobile-signature)\b""", re.I)
_AUTOSIG = re.compile(r"""\bname\s*=\s*["']?_MailAutoSig\b""", re.I)
_CID_SRC = re.compile(r"""\bsrc\s*=\s*["']?cid:([^"'\s>]{1,500})""", re.I)
_CID_REFERENCE = re.compile(r"""cid:([^"'\s>)]{1,500})""", re.I)


def _quote_lines(text: str) -> str:
    """Turn the blockquote marks of a rendered HTML text into "> " prefixes."""
    if _QUOTE_OPEN not in text:
        return text
    out, depth = [], 0
    for line in text.split("\n"):
        pieces = re.split(f"({_QUOTE_OPEN}|{_QUOTE_CLOSE})", line)
        rest = ""
        for piece in pieces:
            if piece == _QUOTE_OPEN:
                if rest.strip():
                    out.append(">" * depth + (" " if depth else "") + rest.strip())
                rest, depth = "", min(depth + 1, MAX_DEPTH)
            elif piece == _QUOTE_CLOSE:
                if rest.strip():
                    out.append(">" * depth + (" " if depth else "") + rest.strip())
                rest, depth = "", max(depth - 1, 0)
            else:
                rest += piece
        if len(pieces) == 1:
            out.append((">" * depth + " " + line.strip()) if depth else line)
        elif rest.strip():
            out.append(">" * depth + (" " if depth else "") + rest.strip())
    return "\n".join(out)


def _html_to_text(html: str, defects: list[str], images: dict[str, int] | None = None) -> str:
    """HTML as the text a reader sees; with ``images`` (Content-ID -> attachment index), each image shown
    by Content-ID is marked in its place."""
    html = html.replace("\x00", "")
    html = re.sub(r"^\s*<\?xml[^>]*\?>", "", html)
    def tag(m: re.Match) -> str:
        name, attrs = m.group(1).lower(), m.group(2)
        if name == "img":
            src = _CID_SRC.search(attrs) if images is not None else None
            if src is None:
                return m.group(0)
            index = images.get(_cid(src.group(1)))
            return "" if index is None else f"<span> {image_mark(index)} </span>"
        if (_AUTOSIG.search(attrs) if name == "a" else _SIGNATURE_ATTRS.search(attrs)):
            return "<div>-- </div>" + m.group(0)
        return m.group(0)
    html = _TAG.sub(tag, html)
    if "<blockquote" in html.lower():
        html = _BLOCKQUOTE.sub(lambda m: f"<div>{_QUOTE_CLOSE if m.group(1) else _QUOTE_OPEN}</div>", html)
        return _quote_lines(_render_html(html, defects))
    return _render_html(html, defects)


def _cid(value: str) -> str:
    return url_unquote(value).strip().strip("<>").lower()


def _render_html(html: str, defects: list[str]) -> str:
    try:
        from inscriptis import get_text
        from inscriptis.css_profiles import CSS_PROFILES
        from inscriptis.model.config import ParserConfig

        # "strict" renders what the mail shows; "relaxed" indents every <div>
        config = ParserConfig(css=dict(CSS_PROFILES["strict"]), display_links=False)
        return get_text(html, config)
    except Exception as exc:  # noqa: BLE001
        defects.append(f"HTML conversion failed: {type(exc).__name__}")
        import html as html_module

        text = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", html)
        text = re.sub(r"(?i)<br\s*/?>|</p\s*>|</div\s*>|</tr\s*>", "\n", text)
        text = re.sub(r"<[^>]*>", " ", text)
        return html_module.unescape(text)


class _Parser:
    """One walk over the parts of a parsed message. ``run()`` leaves behind the mail's text, its
    attachments, and what a delivery report is made of (``dsn_texts``, ``returned_ids``);
    problems go to ``defects``, the list the header fields wrote theirs to."""

    def __init__(self, msg: Message, defects: list[str]) -> None:
        self.msg = msg
        self.defects = defects
        self.plain: list[str] = []  # text of the mail itself
        self.html: list[str] = []
        self.fwd_plain: list[str] = []  # text of forwarded (message/rfc822) mails
        self.fwd_html: list[str] = []
        self.attachments: list[Attachment] = []
        self.dsn_texts: list[str] = []
        self.returned_ids: list[str] = []
        self.html_sources: list[str] = []  # the mail's own HTML parts, as decoded
        self.text = ""
        self.html_text = ""

    def run(self) -> _Parser:
        self._walk(self.msg)
        self.text = self._best_text()
        self._link_images()
        return self

    def _link_images(self) -> None:
        """Which attachments the mail's own HTML shows by Content-ID, and that HTML with them marked."""
        if not self.html_sources:
            return
        shown = {_cid(c) for html in self.html_sources for c in _CID_REFERENCE.findall(html)}
        if not shown:
            return
        images: dict[str, int] = {}
        for i, a in enumerate(self.attachments):
            if a.content_id and not a.nested and a.content_id.lower() in shown:
                images.setdefault(a.content_id.lower(), i)
                self.attachments[i] = dataclasses.replace(a, referenced=True, inline=True)
        if images:
            texts = [_clean_text(_html_to_text(h, self.defects, images)) for h in self.html_sources]
            self.html_text = "\n\n".join(t.strip("\n") for t in texts if t.strip())[:MAX_TEXT]

    # -- walking -----------------------------------------------------------

    def _walk(self, root: Message) -> None:
        # (part, depth, inside a forwarded message: False, or (that message's index in attachments,))
        stack: list[tuple[Message, int, object]] = [(root, 0, False)]
        seen = 0
        while stack:
            part, depth, forwarded = stack.pop()
            seen += 1
            if seen > MAX_PARTS:
                self.defects.append(f"more than {MAX_PARTS} MIME parts; rest ignored")
                break
            if part is not root:
                _normalise_headers(part)
            for defect in getattr(part, "defects", []) or []:
                self.defects.append(f"MIME: {type(defect).__name__}")
            try:
                children = self._visit(part, depth, forwarded)
            except Exception as exc:  # noqa: BLE001
                self.defects.append(f"unreadable MIME part: {type(exc).__name__}")
                continue
            if not children:
                continue
            child_depth = depth + 1
            if child_depth > MAX_DEPTH:
                self.defects.append(f"MIME nesting deeper than {MAX_DEPTH}; inner parts ignored")
                continue
            child_forwarded, kids = children
            for child in reversed(kids):
                stack.append((child, child_depth, child_forwarded))

    def _visit(self, part: Message, depth: int, forwarded: bool):
        """Record a part; return (forwarded flag, children) for containers."""
        ctype = _content_type(part)
        maintype = ctype.split("/", 1)[0]
        payload = _raw_payload(part)

        if maintype == "multipart":
            if isinstance(payload, list):
                return forwarded, [p for p in payload if isinstance(p, Message)]
            self.defects.append("multipart without usable boundary")
            kids = _split_without_boundary(part)
            if kids:
                return forwarded, kids
            # give up on structure: treat the body as plain text
            self._add_text(part, "text/plain", forwarded, charset=None)
            return None

        is_message = maintype == "message" and isinstance(payload, list) and ctype not in _REPORT_MACHINERY
        if ctype in _RETURNED_MESSAGE or is_message:
            inner = self._inner_message(part, payload)
            if inner is None:
                self._add_attachment(part, ctype, size=_encoded_size(part), nested=forwarded)
                return None
            # Only the outermost forwarded message is kept whole (the files inside travel in it); its bytes
            # are read before the walk normalises its headers.
            data = b"" if forwarded else _message_bytes(inner)
            if not forwarded and ctype in _RETURNED_MESSAGE:
                _normalise_headers(inner)
                mid = _normalise_message_id(_raw_header(inner, "message-id"))
                if mid:
                    self.returned_ids.append(mid)
            self._add_attachment(part, ctype, size=len(data) if data else _tree_size(inner), nested=forwarded,
                                 data=data)
            # inside a forwarded message, ``forwarded`` names it: (its index in attachments,)
            return (forwarded or (len(self.attachments) - 1,)), [inner]

        if ctype in _REPORT_MACHINERY:
            if not forwarded:
                self._record_report_part(part, ctype, payload)
            return None

        filename = _filename(part)
        disposition = _disposition(part)
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and filename is None:
            self._add_text(part, ctype, forwarded, charset=self._charset(part))
            return None
        self._add_attachment(part, ctype, size=_encoded_size(part), filename=filename, nested=forwarded,
                             data=b"" if forwarded else _payload_bytes(part))
        return None

    def _inner_message(self, part: Message, payload) -> Message | None:
        if isinstance(payload, list):
            for item in payload:
                if isinstance(item, Message):
                    return item
            return None
        data = _payload_bytes(part)
        if not data.strip():
            return None
        return BytesParser(policy=compat32).parsebytes(data)

    def _charset(self, part: Message) -> str | None:
        value = _param(part, "charset")
        return _decode_header(value) if value else None

    def _add_text(self, part: Message, ctype: str, forwarded: bool, charset: str | None) -> None:
        data = _payload_bytes(part)
        text, defect = _decode_bytes(data, charset)
        if defect:
            self.defects.append(defect)
        text = _clean_text(text)
        if ctype == "text/html":
            if not forwarded:
                self.html_sources.append(text)
            text = _clean_text(_html_to_text(text, self.defects))
            (self.fwd_html if forwarded else self.html).append(text)
            return
        fmt = (_param(part, "format") or "").lower()
        if fmt == "flowed":
            delsp = (_param(part, "delsp") or "").lower() == "yes"
            try:
                text = _unflow(text, delsp)
            except Exception:  # noqa: BLE001
                pass
        (self.fwd_plain if forwarded else self.plain).append(text)

    def _add_attachment(self, part: Message, ctype: str, size: int, filename: str | None = None,
                        nested=False, data: bytes = b"") -> None:
        """``nested``: False, or (the index of the forwarded message it is inside,)."""
        if filename is None:
            filename = _filename(part)
        if nested:
            owner = nested[0]
            outer = self.attachments[owner]
            self.attachments[owner] = dataclasses.replace(outer, inside=outer.inside + ((filename, ctype),))
        content_id = _normalise_message_id(_raw_header(part, "content-id")) or ""
        self.attachments.append(Attachment(
            filename=filename, content_type=ctype, size=len(data) if data else max(0, size),
            sha256=hashlib.sha256(data).hexdigest() if data else "", content_id=content_id[:250],
            inline=_disposition(part) == "inline", nested=bool(nested), data=data))

    def _record_report_part(self, part: Message, ctype: str, payload) -> None:
        if ctype in ("message/delivery-status", "message/global-delivery-status"):
            if isinstance(payload, list):
                blocks = []
                for block in payload:
                    if isinstance(block, Message):
                        _normalise_headers(block)
                        blocks.append("\n".join(f"{k}: {v}" for k, v in block._headers))
                self.dsn_texts.append("\n\n".join(blocks))
            else:
                self.dsn_texts.append(_decode_bytes(_payload_bytes(part), None)[0])
        elif ctype in ("text/rfc822-headers", "message/global-headers"):
            data = _payload_bytes(part)
            headers = HeaderParser(policy=compat32).parsestr(_decode_bytes(data, None)[0], headersonly=True)
            mid = _normalise_message_id(_raw_header(headers, "message-id"))
            if mid:
                self.returned_ids.append(mid)

    # -- results -----------------------------------------------------------

    def _best_text(self) -> str:
        def join(parts: list[str]) -> str:
            return "\n\n".join(p.strip("\n") for p in parts if p.strip())

        text = join(self.plain) or join(self.html)
        if not text.strip():
            text = join(self.fwd_plain) or join(self.fwd_html)
        text = text.strip()
        if len(text) > MAX_TEXT:
            self.defects.append(f"text truncated to {MAX_TEXT} characters")
            text = text[:MAX_TEXT]
        return text

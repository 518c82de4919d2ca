"""Raw RFC 5322 bytes -> InboundMail, for any input whatsoever.

``parse(raw)`` never raises: a message the stdlib cannot make sense of still
yields an InboundMail (as much as could be read) with the problems listed in
``defects``.

How:

* Structure comes from the stdlib parser with ``policy=compat32``. The modern
  ``email.policy.default`` builds header objects that raise on hostile input
  (broken address lists, bad encoded words, 8-bit bytes), so headers are
  decoded here instead: raw 8-bit bytes as UTF-8, else windows-1252, else
  latin-1; then RFC 2047 encoded words (leniently, unknown charsets and bad
  base64 replaced, never raised); then NUL bytes dropped, control characters
  and every kind of whitespace, CR/LF included, folded to single spaces.
* Addresses are split by ``email.utils.getaddresses`` *before* encoded words
  are decoded, so an encoded word can never smuggle in an address.
* Bodies: text/plain preferred, else HTML turned into text with inscriptis
  (Apache-2.0). Charsets that are unknown or lie (declared UTF-8, really
  windows-1252) are decoded with replacement, never an exception.
* The part walk is iterative and stops at depth ``MAX_DEPTH`` (and after
  ``MAX_PARTS`` parts), noting a defect. Attachment sizes are computed from
  the encoded payload without decoding it (base64: count of alphabet bytes).
* A forwarded mail (message/rfc822) adds its attachments to ours; its text is
  used only when the outer mail has no text of its own.
* Delivery reports: RFC 3464 multipart/report (delivery-status part + the
  returned message/rfc822 or text/rfc822-headers), and non-RFC bounces from
  MAILER-DAEMON/postmaster that carry the returned message (attached or
  inline "Message-ID:" line) or an X-Failed-Recipients header.
"""
from __future__ import annotations

import binascii
import codecs
import hashlib
import re
from datetime import datetime, timezone
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser, HeaderParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime, unquote

from .inbound import Attachment, DeliveryReport, InboundMail

__all__ = ["parse", "MAX_DEPTH", "MAX_PARTS"]

MAX_DEPTH = 50  # MIME nesting we follow; deeper parts are ignored (defect noted)
MAX_PARTS = 1000  # parts we look at in one message
MAX_TEXT = 4 * 1024 * 1024  # characters of body text kept
MAX_HEADER_VALUE = 64 * 1024  # characters kept per value in InboundMail.headers
MAX_HEADERS = 500  # distinct header names kept
MAX_IDS = 200  # message ids kept from References
MAX_DEFECTS = 50

_REPORT_MACHINERY = {
    "message/delivery-status",
    "message/global-delivery-status",
    "message/disposition-notification",
    "message/feedback-report",
    "text/rfc822-headers",
    "message/global-headers",
}
_RETURNED_MESSAGE = {"message/rfc822", "message/global"}
_BOUNCE_SENDERS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}

# Charset aliases: what the sender declared -> what it really means in practice.
_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "ansi_x3.4-1968": "utf-8",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "x-sjis": "cp932",
    "sjis": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "unicode-1-1-utf-7": "utf-7",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
    "windows-874": "cp874",
    "tis-620": "cp874",
    "cp-850": "cp850",
}
# Python codecs that are not sender charsets and must never see mail bytes
# (punycode is quadratic, the escape codecs build arbitrary characters).
_FORBIDDEN_CODECS = {
    "punycode",
    "idna",
    "unicode_escape",
    "raw_unicode_escape",
    "unicode_internal",
    "escape_codec",
    "undefined",
    "mbcs",
    "oem",
    "charmap",
}

_WS = re.compile(r"\s+")
_BODY_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]")
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,80})\?([bBqQ])\?([^?]*)\?=")
_B64_KEEP = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_DELETE = bytes(b for b in range(256) if b not in _B64_KEEP)
_MSGID_BRACKETED = re.compile(r"<([^<>]*)>")
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


# --------------------------------------------------------------------------
# public entry point


def parse(raw: bytes) -> InboundMail:
    """Parse one raw message. Never raises."""
    try:
        raw = _as_bytes(raw)
    except Exception:
        raw = b""
    try:
        return _Parser(raw).run()
    except BaseException as exc:  # noqa: BLE001 - last line of defence
        if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
            raise
        return _fallback(raw, f"parser failed: {type(exc).__name__}")


def _as_bytes(raw) -> bytes:
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, (bytearray, memoryview)):
        return bytes(raw)
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    if raw is None:
        return b""
    return bytes(raw)


def _fingerprint(raw: bytes, message_id: str | None, headers: dict[str, str] | None = None) -> str:
    """The deduplication key: the same email delivered twice (or found again after a crash) has the
    same one; two different emails that share a Message-ID (web forms, forgeries) do not."""
    if message_id:
        h = headers or {}
        seen = "\x1f".join(h.get(k, "") for k in ("from", "date", "subject", "to"))
        return f"{message_id[:900]}#{hashlib.sha256(seen.encode('utf-8', 'replace')).hexdigest()[:16]}"
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _fallback(raw: bytes, defect: str) -> InboundMail:
    """Best effort when the full parse failed: headers only, body as text."""
    defects = [defect]
    try:
        msg = BytesHeaderParser(policy=compat32).parsebytes(raw)
        fields = _HeaderFields(msg, defects)
        head, sep, body = raw.partition(b"\r\n\r\n")
        if not sep:
            head, sep, body = raw.partition(b"\n\n")
        text = _clean_text(_decode_bytes(body[: MAX_TEXT], None)[0]) if sep else ""
        return InboundMail(
            message_id=fields.message_id,
            fingerprint=_fingerprint(raw, fields.message_id, fields.headers),
            from_address=fields.from_address,
            from_name=fields.from_name,
            to=fields.to,
            cc=fields.cc,
            reply_to=fields.reply_to,
            subject=fields.subject,
            date=fields.date,
            in_reply_to=fields.in_reply_to,
            references=fields.references,
            text=text,
            attachments=(),
            headers=fields.headers,
            return_path=fields.return_path,
            delivery_report=None,
            size=len(raw),
            defects=tuple(_dedupe(defects)[:MAX_DEFECTS]),
        )
    except Exception as exc:  # noqa: BLE001
        defects.append(f"header fallback failed: {type(exc).__name__}")
        return InboundMail(
            message_id=None,
            fingerprint=_fingerprint(raw, None),
            from_address=None,
            from_name="",
            to=(),
            cc=(),
            reply_to=(),
            subject="",
            date=None,
            in_reply_to=(),
            references=(),
            text="",
            attachments=(),
            headers={},
            return_path=None,
            delivery_report=None,
            size=len(raw),
            defects=tuple(defects),
        )


# --------------------------------------------------------------------------
# decoding helpers


def _has_surrogates(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def _decode_8bit(value: str) -> str:
    """Header text from BytesParser keeps raw 8-bit bytes as surrogates."""
    if not _has_surrogates(value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    for codec in ("utf-8", "cp1252"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _codec_for(charset: str | None) -> tuple[str | None, bool]:
    """(python codec name or None when unknown, whether the name was usable)."""
    if not charset:
        return None, True
    name = charset.strip().strip("\"'").lower()
    name = name.split("*", 1)[0]  # RFC 2231 language suffix
    name = _CHARSET_ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        return None, False
    if info.name in _FORBIDDEN_CODECS or not getattr(info, "_is_text_encoding", True):
        return None, False
    return info.name, True


def _decode_bytes(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """Decode with the declared charset; (text, defect or None). Never raises."""
    codec, known = _codec_for(charset)
    if codec is None:
        defect = None if known else f"unknown charset {charset!r:.60}"
        for candidate in ("utf-8", "cp1252"):
            try:
                return data.decode(candidate), defect
            except UnicodeDecodeError:
                continue
        return data.decode("cp1252", "replace"), defect
    try:
        return data.decode(codec), None
    except UnicodeDecodeError:
        pass
    except Exception:  # noqa: BLE001 - odd codecs may raise anything
        return data.decode("utf-8", "replace"), f"charset {charset!r:.60} failed"
    if codec in ("utf-8", "ascii"):
        # A lying charset: declared UTF-8 (or ASCII), really windows-1252.
        return data.decode("cp1252", "replace"), f"text is not valid {charset!r:.60}"
    if codec == "iso2022_jp_ext":
        for alt in ("iso2022_jp_2", "iso2022_jp_3", "iso2022_jp_2004"):
            try:
                return data.decode(alt), None
            except Exception:  # noqa: BLE001
                continue
    try:
        return data.decode(codec, "replace"), f"text is not valid {charset!r:.60}"
    except Exception:  # noqa: BLE001
        return data.decode("utf-8", "replace"), f"charset {charset!r:.60} failed"


def _decode_word_payload(encoding: str, text: str) -> bytes | None:
    try:
        if encoding in "bB":
            data = text.encode("ascii", "ignore").translate(None, _B64_DELETE)
            if len(data) % 4 == 1:
                data = data[:-1]
            data += b"=" * (-len(data) % 4)
            return binascii.a2b_base64(data)
        return binascii.a2b_qp(text.encode("utf-8", "replace"), header=True)
    except (binascii.Error, ValueError):
        return None


def _decode_encoded_words(value: str) -> str:
    """RFC 2047, leniently: also inside quoted strings and words; never raises."""
    if "=?" not in value:
        return value
    out: list[str] = []
    pending: list[tuple[str, bytes]] = []  # adjacent encoded words, same charset

    def flush() -> None:
        if pending:
            charset = pending[0][0]
            out.append(_decode_bytes(b"".join(p for _, p in pending), charset)[0])
            pending.clear()

    pos = 0
    after_word = False
    for match in _ENCODED_WORD.finditer(value):
        between = value[pos : match.start()]
        charset, encoding, text = match.groups()
        payload = _decode_word_payload(encoding, text)
        if payload is None:  # leave a broken word as it was
            flush()
            out.append(value[pos : match.end()])
            pos, after_word = match.end(), False
            continue
        if between and not (after_word and between.isspace()):
            flush()
            out.append(between)
        if pending and pending[0][0].lower() != charset.lower():
            flush()
        pending.append((charset, payload))
        pos, after_word = match.end(), True
    flush()
    out.append(value[pos:])
    return "".join(out)


def _one_line(value: str) -> str:
    """NULs dropped, control characters and all whitespace folded to one space."""
    value = value.replace("\x00", "")
    value = _CONTROL.sub(" ", value)
    return _WS.sub(" ", value).strip()


def _decode_header(value) -> str:
    try:
        return _one_line(_decode_encoded_words(_decode_8bit(str(value))))
    except Exception:  # noqa: BLE001
        try:
            return _one_line(str(value).encode("utf-8", "replace").decode("utf-8", "replace"))
        except Exception:  # noqa: BLE001
            return ""


def _clean_text(text: str) -> str:
    """Body text: LF line ends; NULs and other C0 controls (bar tab/LF) dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _BODY_CONTROL.sub("", text)
    text = text.encode("utf-8", "replace").decode("utf-8")  # no lone surrogates
    return text


def _dedupe(items) -> list:
    seen: dict = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


# --------------------------------------------------------------------------
# header fields


def _normalise_headers(part: Message) -> None:
    """Replace raw 8-bit header values by real text, in place (compat32 keeps
    them as surrogates and would hand out Header objects otherwise)."""
    headers = getattr(part, "_headers", None)
    if not isinstance(headers, list):
        return
    fixed = []
    for item in headers:
        try:
            name, value = item
            name, value = str(name), str(value)
        except Exception:  # noqa: BLE001
            continue
        if _has_surrogates(name) or _has_surrogates(value):
            name, value = _decode_8bit(name), _decode_8bit(value)
        fixed.append((name, value))
    part._headers = fixed


def _raw_header(msg: Message, name: str) -> str | None:
    """First raw (8-bit decoded, not RFC 2047 decoded) value of a header."""
    lname = name.lower()
    for key, value in getattr(msg, "_headers", []):
        if str(key).strip().lower() == lname:
            return str(value)
    return None


def _all_raw(msg: Message, name: str) -> list[str]:
    lname = name.lower()
    return [str(v) for k, v in getattr(msg, "_headers", []) if str(k).strip().lower() == lname]


def _clean_address(addr: str) -> str | None:
    addr = _one_line(addr).strip("<>").strip()
    if not addr or " " in addr or len(addr) > 320:
        return None
    if "@" in addr:
        local, _, domain = addr.rpartition("@")
        if not local or not domain or "@" in domain:
            return None
        return addr.lower()
    if re.fullmatch(r"[\w.+-]+", addr):  # bare local part, e.g. MAILER-DAEMON
        return addr.lower()
    return None


def _addresses(values: list[str]) -> list[tuple[str, str]]:
    """(decoded display name, lower-cased addr-spec) for each usable address."""
    result = []
    for value in values:
        unfolded = _WS.sub(" ", value.replace("\x00", ""))
        try:
            pairs = getaddresses([unfolded])
        except Exception:  # noqa: BLE001
            pairs = []
        for name, addr in pairs:
            clean = _clean_address(addr or "")
            if clean is None:
                continue
            display = _decode_header(name or "").strip().strip('"').strip()
            result.append((display, clean))
    return result


def _normalise_message_id(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.replace("\x00", "")
    match = _MSGID_BRACKETED.search(value)
    if match:
        candidate = _WS.sub("", match.group(1))
    else:  # no <...>: tolerate a bare id or an unterminated "<id"
        candidate = _WS.sub("", value.rsplit("<", 1)[-1]).strip("<>")
        if any(ch in candidate for ch in '<>()",;:\\[]'):
            return None
    if not candidate or len(candidate) > 998 or _CONTROL.search(candidate) or "<" in candidate or ">" in candidate:
        return None
    return candidate


def _message_ids(value: str | None) -> tuple[str, ...]:
    """Message ids in a References/In-Reply-To value; tolerant of garbage."""
    if not value:
        return ()
    value = value.replace("\x00", "")
    bracketed = _MSGID_BRACKETED.findall(value)
    if bracketed:
        tokens = bracketed
    else:
        tokens = [t for t in re.split(r"[\s,;]+", value) if "@" in t]
    ids = []
    for token in tokens:
        mid = _WS.sub("", token).strip("<>")
        if mid and len(mid) <= 998 and not _CONTROL.search(mid) and "<" not in mid and ">" not in mid:
            ids.append(mid)
    return tuple(_dedupe(ids)[:MAX_IDS])


def _parse_date(value: str | None, defects: list[str]) -> datetime | None:
    if value is None:
        return None
    text = _one_line(value)
    if not text:
        return None
    try:
        parsed = parsedate_to_datetime(text)
    except Exception:  # noqa: BLE001
        parsed = None
    if parsed is None:
        defects.append("unparseable Date header")
        return None
    try:
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
        return parsed
    except Exception:  # noqa: BLE001
        defects.append("Date header out of range")
        return None


class _HeaderFields:
    """Everything InboundMail takes from the top-level header block."""

    def __init__(self, msg: Message, defects: list[str]) -> None:
        _normalise_headers(msg)
        headers: dict[str, str] = {}
        for key, value in getattr(msg, "_headers", []):
            name = _one_line(str(key)).lower()
            if not name or name in headers:
                continue
            if len(headers) >= MAX_HEADERS:
                defects.append("too many headers; some dropped from headers dict")
                break
            decoded = _decode_header(value)
            if len(decoded) > MAX_HEADER_VALUE:
                decoded = decoded[:MAX_HEADER_VALUE]
                defects.append(f"header {name[:40]} truncated")
            headers[name] = decoded
        self.headers = headers

        raw_mid = _raw_header(msg, "message-id")
        self.message_id = _normalise_message_id(raw_mid)
        if raw_mid is None:
            defects.append("missing Message-ID")
        elif self.message_id is None:
            defects.append("unusable Message-ID")

        froms = _addresses(_all_raw(msg, "from")[:1])
        if _raw_header(msg, "from") is None:
            defects.append("missing From")
        if froms:
            self.from_name, self.from_address = froms[0]
        else:
            self.from_name, self.from_address = "", None
            raw_from = _raw_header(msg, "from")
            if raw_from is not None:
                defects.append("unparseable From")
                # keep a display name if that is all there is
                self.from_name = _decode_header(raw_from)[:200]
        self.to = tuple(_dedupe(a for _, a in _addresses(_all_raw(msg, "to"))))
        self.cc = tuple(_dedupe(a for _, a in _addresses(_all_raw(msg, "cc"))))
        self.reply_to = tuple(_dedupe(a for _, a in _addresses(_all_raw(msg, "reply-to")[:1])))
        self.subject = _decode_header(_raw_header(msg, "subject") or "")
        if _raw_header(msg, "date") is None:
            defects.append("missing Date")
        self.date = _parse_date(_raw_header(msg, "date"), defects)
        self.in_reply_to = _message_ids(_raw_header(msg, "in-reply-to"))
        self.references = _message_ids(" ".join(_all_raw(msg, "references")))

        raw_rp = _raw_header(msg, "return-path")
        if raw_rp is None:
            self.return_path = None
        else:
            rp = _one_line(raw_rp)
            match = _MSGID_BRACKETED.search(rp)
            inner = (match.group(1) if match else rp).strip()
            self.return_path = "" if not inner else (_clean_address(inner) or "")


# --------------------------------------------------------------------------
# body walk


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


def _html_to_text(html: str, defects: list[str]) -> str:
    html = html.replace("\x00", "")
    html = re.sub(r"^\s*<\?xml[^>]*\?>", "", html)
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
    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.defects: list[str] = []
        self.plain: list[str] = []  # text of the mail itself
        self.html: list[str] = []
        self.fwd_plain: list[str] = []  # text of forwarded (message/rfc822) mails
        self.fwd_html: list[str] = []
        self.attachments: list[Attachment] = []
        self.dsn_texts: list[str] = []
        self.returned_ids: list[str] = []

    def run(self) -> InboundMail:
        msg = BytesParser(policy=compat32).parsebytes(self.raw)
        fields = _HeaderFields(msg, self.defects)
        self._walk(msg)
        text = self._best_text()
        report = None
        try:
            report = self._delivery_report(msg, fields, text)
        except Exception as exc:  # noqa: BLE001
            self.defects.append(f"delivery report unreadable: {type(exc).__name__}")
        return InboundMail(
            message_id=fields.message_id,
            fingerprint=_fingerprint(self.raw, fields.message_id, fields.headers),
            from_address=fields.from_address,
            from_name=fields.from_name,
            to=fields.to,
            cc=fields.cc,
            reply_to=fields.reply_to,
            subject=fields.subject,
            date=fields.date,
            in_reply_to=fields.in_reply_to,
            references=fields.references,
            text=text,
            attachments=tuple(self.attachments),
            headers=fields.headers,
            return_path=fields.return_path,
            delivery_report=report,
            size=len(self.raw),
            defects=tuple(_dedupe(self.defects)[:MAX_DEFECTS]),
        )

    # -- walking -----------------------------------------------------------

    def _walk(self, root: Message) -> None:
        # (part, depth, inside a forwarded message)
        stack: list[tuple[Message, int, bool]] = [(root, 0, False)]
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
                self._add_attachment(part, ctype, size=_encoded_size(part))
                return None
            if not forwarded and ctype in _RETURNED_MESSAGE:
                _normalise_headers(inner)
                mid = _normalise_message_id(_raw_header(inner, "message-id"))
                if mid:
                    self.returned_ids.append(mid)
            self._add_attachment(part, ctype, size=_tree_size(inner))
            return True, [inner]

        if ctype in _REPORT_MACHINERY:
            if not forwarded:
                self._record_report_part(part, ctype, payload)
            return None

        filename = _filename(part)
        disposition = _disposition(part)
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and filename is None:
            self._add_text(part, ctype, forwarded, charset=self._charset(part))
            return None
        self._add_attachment(part, ctype, size=_encoded_size(part), filename=filename)
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

    def _add_attachment(self, part: Message, ctype: str, size: int, filename: str | None = None) -> None:
        if filename is None:
            filename = _filename(part)
        self.attachments.append(Attachment(filename=filename, content_type=ctype, size=max(0, size)))

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

    def _delivery_report(self, msg: Message, fields: _HeaderFields, text: str) -> DeliveryReport | None:
        ctype = _content_type(msg)
        report_type = (_param(msg, "report-type") or "").strip().lower()
        if ctype == "multipart/report" and (report_type == "delivery-status" or self.dsn_texts):
            return self._rfc3464(text)
        local = (fields.from_address or "").split("@", 1)[0]
        if local not in _BOUNCE_SENDERS:
            return None
        ids = list(self.returned_ids)
        if not ids:
            ids = [
                m
                for m in (_normalise_message_id(v) for v in re.findall(r"(?im)^\s*Message-ID:\s*(<[^>\n]+>)", text))
                if m
            ]
        failed = [a for _, a in _addresses(_all_raw(msg, "x-failed-recipients"))]
        if not ids and not failed:
            return None
        if not failed:
            failed = [m.lower() for m in re.findall(r"(?m)^<([^<>\s]+@[^<>\s]+)>:", text)]
        status_match = _STATUS.search(text)
        status = status_match.group(0) if status_match else ""
        diagnostic = ""
        for line in text.split("\n"):
            if (status and status in line) or re.search(r"\b[45]\d\d[ -]", line):
                diagnostic = _one_line(line)[:1000]
                break
        return DeliveryReport(
            original_message_ids=tuple(_dedupe(ids)),
            recipients=tuple(_dedupe(failed)),
            action="failed",
            status=status,
            diagnostic=diagnostic,
        )

    def _rfc3464(self, text: str) -> DeliveryReport:
        blocks = []
        for dsn in self.dsn_texts:
            for chunk in re.split(r"\n[ \t]*\n", dsn.replace("\r\n", "\n").replace("\r", "\n")):
                fields = _fields(chunk)
                if fields:
                    blocks.append(fields)
        recipients_blocks = [
            b for b in blocks if "final-recipient" in b or "original-recipient" in b or "action" in b
        ]
        primary = next(
            (b for b in recipients_blocks if b.get("action", "").lower().startswith("failed")),
            recipients_blocks[0] if recipients_blocks else {},
        )
        action = primary.get("action", "").split()[0].lower() if primary.get("action", "").split() else "failed"
        recipients = []
        for block in recipients_blocks:
            block_action = block.get("action", "").split()[0].lower() if block.get("action", "").split() else "failed"
            if block_action != action:
                continue
            recipient = _recipient(block.get("final-recipient") or block.get("original-recipient") or "")
            if recipient:
                recipients.append(recipient)
        status_match = _STATUS.search(primary.get("status", ""))
        status = status_match.group(0) if status_match else _one_line(primary.get("status", ""))[:20]
        diagnostic = primary.get("diagnostic-code", "")
        diagnostic = re.sub(r"^\s*[A-Za-z][\w-]*\s*;\s*", "", diagnostic)
        if not status:
            found = _STATUS.search(diagnostic) or _STATUS.search(text)
            status = found.group(0) if found else ""
        ids = list(self.returned_ids)
        for block in blocks:  # Gmail also names it in the per-message fields
            mid = _normalise_message_id(block.get("x-original-message-id"))
            if mid:
                ids.append(mid)
        return DeliveryReport(
            original_message_ids=tuple(_dedupe(ids)),
            recipients=tuple(_dedupe(recipients)),
            action=action or "failed",
            status=status,
            diagnostic=_one_line(diagnostic)[:1000],
        )


def _fields(chunk: str) -> dict[str, str]:
    """'Name: value' lines (with continuation lines) -> {lower name: value}."""
    fields: dict[str, str] = {}
    current = None
    for line in chunk.split("\n"):
        if line[:1] in (" ", "\t") and current:
            fields[current] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip() or " " in name.strip():
            current = None
            continue
        current = name.strip().lower()
        if current in fields:
            current = None  # keep the first occurrence
            continue
        fields[current] = value.strip()
    return {k: _decode_header(v) for k, v in fields.items()}


def _recipient(value: str) -> str | None:
    _, sep, addr = value.partition(";")
    addr = addr if sep else value
    return _clean_address(addr.strip())

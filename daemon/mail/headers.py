"""The top-level header fields of a mail: addresses, Message-IDs, Date, and
the decoded headers dict (``_HeaderFields``).

Why it exists: routing and deduplication rest on these fields, so each is
read from the raw value with its own tolerance of garbage, and a header that
cannot be used becomes a defect rather than an exception.

* Addresses are split by ``email.utils.getaddresses`` *before* encoded words
  are decoded, so an encoded word can never smuggle in an address.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from .decoding import _CONTROL, _WS, _decode_8bit, _decode_header, _dedupe, _has_surrogates, _one_line

MAX_HEADER_VALUE = 64 * 1024  # characters kept per value in InboundMail.headers
MAX_HEADERS = 500  # distinct header names kept
MAX_IDS = 200  # message ids kept from References

_MSGID_BRACKETED = re.compile(r"<([^<>]*)>")


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

    @classmethod
    def unreadable(cls) -> _HeaderFields:
        """The fields of a mail whose header block could not be read at all: none."""
        fields = cls.__new__(cls)
        fields.headers = {}
        fields.message_id = None
        fields.from_name, fields.from_address = "", None
        fields.to = fields.cc = fields.reply_to = ()
        fields.subject = ""
        fields.date = None
        fields.in_reply_to = fields.references = ()
        fields.return_path = None
        return fields

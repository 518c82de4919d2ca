"""Bytes and header text -> str, leniently: never an exception, never a codec
the sender should not have named.

Why it exists: compat32 hands out header values that still hold raw 8-bit
bytes (as surrogates) and RFC 2047 encoded words, and body bytes in whatever
charset the sender declared, so every piece of text goes through here:

* Headers: raw 8-bit bytes as UTF-8, else windows-1252, else latin-1; then
  RFC 2047 encoded words (leniently, unknown charsets and bad base64
  replaced, never raised); then NUL bytes dropped, control characters and
  every kind of whitespace, CR/LF included, folded to single spaces.
* Bodies: charsets that are unknown or lie (declared UTF-8, really
  windows-1252) are decoded with replacement, never an exception.
"""
from __future__ import annotations

import binascii
import codecs
import re

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

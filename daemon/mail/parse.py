"""Raw RFC 5322 bytes -> InboundMail, for any input whatsoever.

``parse(raw)`` never raises: a message the stdlib cannot make sense of still
yields an InboundMail (as much as could be read) with the problems listed in
``defects``.

How:

* Structure comes from the stdlib parser with ``policy=compat32``. The modern
  ``email.policy.default`` builds header objects that raise on hostile input
  (broken address lists, bad encoded words, 8-bit bytes), so text is decoded
  by hand instead, one concern a module:

  - ``decoding``: charsets, RFC 2047 encoded words, 8-bit header bytes;
  - ``headers``: the top-level header fields (addresses, Message-IDs, Date);
  - ``mime``: the part walk (text, HTML to text, format=flowed, attachments);
  - ``reports``: delivery reports, RFC 3464 and non-standard bounces.

* This module keeps the entry point and the one place an InboundMail is made,
  so the normal path and the fallback (headers only, when the full parse
  failed) cannot drift apart.
"""
from __future__ import annotations

import hashlib
from email.parser import BytesHeaderParser, BytesParser
from email.policy import compat32

from .decoding import _clean_text, _decode_bytes, _dedupe
from .headers import _HeaderFields
from ..inbound import Attachment, DeliveryReport, InboundMail
from .mime import MAX_DEPTH, MAX_PARTS, MAX_TEXT, _Parser
from .reports import _delivery_report

__all__ = ["parse", "MAX_DEPTH", "MAX_PARTS"]

MAX_DEFECTS = 50


def parse(raw: bytes) -> InboundMail:
    """Parse one raw message. Never raises."""
    try:
        raw = _as_bytes(raw)
    except Exception:
        raw = b""
    try:
        return _parse(raw)
    except BaseException as exc:  # noqa: BLE001 - last line of defence
        if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
            raise
        return _fallback(raw, f"parser failed: {type(exc).__name__}")


def _parse(raw: bytes) -> InboundMail:
    """Structure, header fields, MIME walk, delivery report: in that order, which is the order of
    ``defects``. Anything raised here sends the mail to ``_fallback``."""
    defects: list[str] = []
    msg = BytesParser(policy=compat32).parsebytes(raw)
    fields = _HeaderFields(msg, defects)
    body = _Parser(msg, defects).run()
    report = None
    try:
        report = _delivery_report(msg, fields, body.text, body.dsn_texts, body.returned_ids)
    except Exception as exc:  # noqa: BLE001
        defects.append(f"delivery report unreadable: {type(exc).__name__}")
    return _mail(raw, fields, _capped(defects), body.text, tuple(body.attachments), report, body.html_text)


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
        return _mail(raw, fields, _capped(defects), text)
    except Exception as exc:  # noqa: BLE001
        defects.append(f"header fallback failed: {type(exc).__name__}")
        return _mail(raw, _HeaderFields.unreadable(), tuple(defects))


def _capped(defects: list[str]) -> tuple[str, ...]:
    return tuple(_dedupe(defects)[:MAX_DEFECTS])


def _mail(
    raw: bytes,
    fields: _HeaderFields,
    defects: tuple[str, ...],
    text: str = "",
    attachments: tuple[Attachment, ...] = (),
    report: DeliveryReport | None = None,
    html_text: str = "",
) -> InboundMail:
    """The one constructor of InboundMail, for the full parse and both fallbacks."""
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
        attachments=attachments,
        headers=fields.headers,
        return_path=fields.return_path,
        delivery_report=report,
        size=len(raw),
        defects=defects,
        html_text=html_text,
    )

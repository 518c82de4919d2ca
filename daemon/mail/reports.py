"""Delivery reports: which of our emails bounced, for whom, and why.

Why it exists: a bounce is routed as one, never as a new case, and is tied to
the email it reports by that email's Message-ID; bounces come in two kinds:

* RFC 3464 multipart/report (delivery-status part + the returned
  message/rfc822 or text/rfc822-headers);
* non-RFC bounces from MAILER-DAEMON/postmaster that carry the returned
  message (attached or inline "Message-ID:" line) or an X-Failed-Recipients
  header.

The MIME walk (mime.py) collects the delivery-status texts and the returned
Message-IDs; this module reads them into a DeliveryReport.
"""
from __future__ import annotations

import re
from email.message import Message

from .decoding import _decode_header, _dedupe, _one_line
from .headers import _HeaderFields, _addresses, _all_raw, _clean_address, _normalise_message_id
from ..inbound import DeliveryReport
from .mime import _content_type, _param

_BOUNCE_SENDERS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


def _delivery_report(
    msg: Message, fields: _HeaderFields, text: str, dsn_texts: list[str], returned_ids: list[str]
) -> DeliveryReport | None:
    """The report a mail is, if any: ``dsn_texts`` and ``returned_ids`` are what the MIME walk
    found in its delivery-status parts and in the returned message."""
    ctype = _content_type(msg)
    report_type = (_param(msg, "report-type") or "").strip().lower()
    if ctype == "multipart/report" and (report_type == "delivery-status" or dsn_texts):
        return _rfc3464(text, dsn_texts, returned_ids)
    local = (fields.from_address or "").split("@", 1)[0]
    if local not in _BOUNCE_SENDERS:
        return None
    ids = list(returned_ids)
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

def _rfc3464(text: str, dsn_texts: list[str], returned_ids: list[str]) -> DeliveryReport:
    blocks = []
    for dsn in dsn_texts:
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
    ids = list(returned_ids)
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

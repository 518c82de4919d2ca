"""What the daemon knows about one received email, after parsing.

Everything downstream (routing, case logic, storage) works from this value and
never touches raw MIME again, so a hostile or broken message can only ever be
data here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Attachment:
    filename: str | None
    content_type: str
    size: int


@dataclass(frozen=True)
class DeliveryReport:
    """A bounce (RFC 3464 multipart/report or a recognisable non-standard one)."""

    original_message_ids: tuple[str, ...]  # Message-IDs of the mail that bounced, no <>
    recipients: tuple[str, ...]  # final recipients that failed, lower-case
    action: str  # "failed", "delayed", "delivered", ... ("failed" when unknown)
    status: str  # e.g. "5.1.1", "" when unknown
    diagnostic: str  # one line, may be ""


@dataclass(frozen=True)
class InboundMail:
    message_id: str | None  # without angle brackets; None when missing/unusable
    fingerprint: str  # message_id when present, else "sha256:<hex of raw bytes>"
    from_address: str | None  # lower-cased addr-spec; None when missing/unparseable
    from_name: str  # decoded display name, "" when none
    to: tuple[str, ...]  # lower-cased addr-specs
    cc: tuple[str, ...]
    reply_to: tuple[str, ...]
    subject: str  # decoded, whitespace folded to one line, "" when none
    date: datetime | None  # naive UTC
    in_reply_to: tuple[str, ...]  # message ids, no <>
    references: tuple[str, ...]  # message ids, no <>, oldest first
    text: str  # best body as text: text/plain preferred, HTML turned into text
    attachments: tuple[Attachment, ...]
    headers: dict[str, str]  # lower-case header name -> decoded, one-line value (first occurrence)
    return_path: str | None  # None when header absent; "" for "<>"
    delivery_report: DeliveryReport | None
    size: int  # bytes of the raw message
    defects: tuple[str, ...] = field(default=())  # human-readable parse problems

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Every message id this mail says it answers, most specific first."""
        seen: list[str] = []
        for mid in (*self.in_reply_to, *reversed(self.references)):
            if mid not in seen:
                seen.append(mid)
        return tuple(seen)

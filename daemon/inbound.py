"""What the daemon knows about one received email, after parsing.

Everything downstream (routing, case logic, storage) works from this value and
never touches raw MIME again, so a hostile or broken message can only ever be
data here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

#: How an image the HTML shows by Content-ID is marked in ``InboundMail.html_text``: its index in
#: ``attachments``. Quoting cuts the text; the marks that survive are the images the sender's own words show.
IMAGE_MARK = re.compile("\u27e6image:(\\d{1,4})\u27e7")


def image_mark(index: int) -> str:
    return f"\u27e6image:{index}\u27e7"


@dataclass(frozen=True)
class Attachment:
    """A file the mail carried. ``data`` holds its bytes (decoded; a forwarded message as it came) when the
    parser kept them, and ``sha256`` names them; files inside a forwarded message are ``nested`` (they
    travel inside it)."""

    filename: str | None
    content_type: str
    size: int
    sha256: str = field(default="", compare=False)
    content_id: str = field(default="", compare=False)  # without <>
    inline: bool = field(default=False, compare=False)  # Content-Disposition inline, or shown by the HTML in place
    referenced: bool = field(default=False, compare=False)  # the HTML shows it by its Content-ID ("cid:")
    nested: bool = field(default=False, compare=False)  # inside a forwarded (message/rfc822) message
    # a forwarded message: (filename, content type) of each file inside it
    inside: tuple[tuple[str | None, str], ...] = field(default=(), compare=False)
    data: bytes = field(default=b"", repr=False, compare=False)

    @property
    def transfer(self) -> str:
        """How it is written into an email: "raw" for a forwarded message (RFC 2046 allows no base64
        there), else "base64"."""
        return "raw" if self.content_type in ("message/rfc822", "message/global") else "base64"


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
    # The HTML part as text with its Content-ID images marked (IMAGE_MARK); "" when it shows none.
    html_text: str = ""

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Every message id this mail says it answers, most specific first."""
        seen: list[str] = []
        for mid in (*self.in_reply_to, *reversed(self.references)):
            if mid not in seen:
                seen.append(mid)
        return tuple(seen)

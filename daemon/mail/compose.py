"""Turn a rendered template into the exact bytes that will be sent.

The Message-ID is made here, before the email is stored, so a resend after a
crash carries the same id and threads (and deduplicates) as the first try.
Automated mail is marked per RFC 3834 so that well-behaved autoresponders stay
quiet, and carries our X-Loop marker so we recognise it if it comes back.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from email import policy as email_policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from ..templates import RenderedEmail, one_line

MAX_REFERENCES = 20
_HEADERS = email_policy.SMTP.clone(max_line_length=998)
_HEADERS_UTF8 = email_policy.SMTPUTF8.clone(max_line_length=998)


@dataclass(frozen=True)
class Composed:
    message_id: str  # without <>
    subject: str
    raw: bytes


def new_message_id(domain: str, case_id: int | None) -> str:
    token = secrets.token_hex(12)
    return f"{token}.case{case_id}@{domain}" if case_id else f"{token}@{domain}"


def inert(value: str) -> str:
    """One line, and no RFC 2047 encoded-word syntax: the stdlib header classes decode ``=?...?=`` in the
    value they are given, so text a customer wrote as a literal encoded word (decoded once already by
    parse) would otherwise be decoded a second time into CR LF and an injected header."""
    return one_line(value).replace("=?", "= ?")


def _safe_id(mid: str) -> str | None:
    mid = one_line(mid)
    if not mid or "=?" in mid or any(ch in mid for ch in " <>()[]\\,;:\""):
        return None
    return mid


_ADDR_BAD = set(" \t\r\n\"<>()[],;:\\")


def writable_address(addr: str) -> bool:
    """Whether we can put this address in a header without the stdlib reinterpreting it: one @, no
    encoded-word syntax (which the address parser would decode), no spaces, quotes or controls."""
    local, at, domain = addr.rpartition("@")
    return (bool(local) and bool(at) and bool(domain) and "@" not in local and "=?" not in addr
            and not any(ch in _ADDR_BAD or ord(ch) < 32 for ch in addr))


def _address(name: str, addr: str) -> Address:
    name = inert(name or "")
    try:
        return Address(display_name=name, addr_spec=addr)
    except (ValueError, IndexError, TypeError):
        local, _, domain = addr.rpartition("@")
        return Address(display_name=name, username=local, domain=domain)


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
    """Build the email; header values are folded to one line, so nothing can be injected."""
    msg = EmailMessage(policy=email_policy.SMTP)
    msg["From"] = _address(from_name, from_address)
    msg["To"] = _address(to_name, to_address)
    if reply_to:
        msg["Reply-To"] = reply_to
    subject = inert(rendered.subject)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now.replace(tzinfo=timezone.utc))
    msg["Message-ID"] = f"<{message_id}>"
    if in_reply_to and _safe_id(in_reply_to):
        msg["In-Reply-To"] = f"<{_safe_id(in_reply_to)}>"
    refs = [r for r in (_safe_id(r) for r in (references or []) if r) if r]
    if refs:
        msg["References"] = " ".join(f"<{r}>" for r in refs[-MAX_REFERENCES:])
    if auto_submitted:
        msg["Auto-Submitted"] = auto_submitted
        msg["X-Auto-Response-Suppress"] = "All"
    # X-Loop on every email: a reply that quotes our headers back, or our own
    # mail delivered into the support mailbox, is recognised as ours.
    msg["X-Loop"] = loop_marker
    if case_id:
        msg["X-Aftercare-Case"] = str(case_id)
    msg.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    if rendered.html:
        msg.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    # The body was encoded above in 76-character lines; headers are written without folding up to
    # RFC 5322's 998, which avoids the stdlib's habit of folding a whole subject onto a new line.
    if to_address.isascii() and from_address.isascii():
        raw = msg.as_bytes(policy=_HEADERS)
    else:
        # An internationalised address cannot be encoded-word'ed: it needs SMTPUTF8 (RFC 6531),
        # which the SMTP edge asks the server for.
        raw = msg.as_bytes(policy=_HEADERS_UTF8)
    return Composed(message_id=message_id, subject=subject, raw=raw)

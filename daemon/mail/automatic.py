"""Is this mail written by a machine? Then it must never be answered.

``automatic_reason()`` is the one place that decides. It returns a short
human-readable reason (for logs and the case history) or None for mail a
person wrote. Rules, first match wins:

1. our own outgoing mail: X-Loop equal to our loop marker, or From one of our
   own addresses;
2. Auto-Submitted present and not "no" (RFC 3834);
3. Precedence bulk, junk, list or auto_reply;
4. List-Id or List-Unsubscribe present (mailing lists, newsletters);
5. X-Autoreply, X-Autorespond or X-Auto-Response-Suppress present, any value;
6. Return-Path present and empty ("<>", the null sender of bounces and
   auto-replies);
7. delivery reports (InboundMail.delivery_report, or multipart/report);
8. sender (From or Return-Path) local part mailer-daemon, postmaster,
   no-reply, noreply, do-not-reply or donotreply, ignoring case and "+tag";
9. the subject starts with an autoresponder prefix, see ``AUTO_SUBJECT_PREFIXES``.
"""
from __future__ import annotations

import re
from collections.abc import Collection

from ..inbound import InboundMail

__all__ = ["automatic_reason", "is_bounce_sender", "AUTO_SUBJECT_PREFIXES"]

_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
_AUTO_HEADERS = ("x-autoreply", "x-autorespond", "x-auto-response-suppress")
_LIST_HEADERS = ("list-id", "list-unsubscribe")
_MACHINE_LOCAL_PARTS = {
    "mailer-daemon",
    "postmaster",
    "no-reply",
    "noreply",
    "do-not-reply",
    "donotreply",
}

# Subject prefixes autoresponders put in front of the original subject when
# they set none of the headers above (Outlook client-side rules, Lotus Notes,
# older Exchange). Kept small on purpose: every entry can silence a customer.
# Matched case-insensitively at the start of the subject, followed by ":"
# (French typography puts a space before it).
AUTO_SUBJECT_PREFIXES = (
    "Automatic reply",  # Outlook, English
    "Autoreply",  # various
    "Out of Office",  # Outlook/Exchange ("Out of Office: ..."), Lotus Notes ("Out of Office AutoReply")
    "Abwesenheitsnotiz",  # Outlook, German (older)
    "Automatische Antwort",  # Outlook, German
    "Réponse automatique",  # Outlook, French
    "Автоматический ответ",  # Outlook, Russian
    "自動応答",  # Outlook, Japanese
)
_SUBJECT_RE = re.compile(
    r"^\s*(?:" + "|".join(re.escape(p) for p in AUTO_SUBJECT_PREFIXES) + r")\b[^:]{0,30}?\s*:",
    re.IGNORECASE,
)
# "Auto:" (Lotus Notes, some Exchange setups) is also German for "car", so a
# customer could write "Auto: Bremse defekt". We only take it when another
# reply prefix follows: "Auto: Re: [Case #42] ...".
_AUTO_COLON_RE = re.compile(r"^\s*Auto\s*:\s*(?:Re|RE|AW|Aw|SV|Antw|Réf|Ответ|Fwd?|WG)\s*:", re.IGNORECASE)


def _header(mail: InboundMail, name: str) -> str | None:
    value = mail.headers.get(name)
    return None if value is None else str(value).strip()


def _local_part(address: str | None) -> str:
    if not address:
        return ""
    local = address.rsplit("@", 1)[0] if "@" in address else address
    return local.split("+", 1)[0].strip().lower()


def is_bounce_sender(mail: InboundMail) -> bool:
    """Sent by a mail server about delivery (MAILER-DAEMON or postmaster), not by a person's auto-reply."""
    return any(_local_part(a) in ("mailer-daemon", "postmaster") for a in (mail.from_address, mail.return_path))


def _token(value: str) -> str:
    """First word of a header value, lower-case, comments and params dropped."""
    return re.split(r"[\s;(]", value.strip().lower(), maxsplit=1)[0]


def automatic_reason(
    mail: InboundMail, *, own_addresses: Collection[str], loop_marker: str | Collection[str]
) -> str | None:
    """Why ``mail`` is automatic and must not be answered; None if a person wrote it. ``loop_marker``: the
    X-Loop value of our own emails (one per mailbox, so several may be given)."""
    own = {a.strip().lower() for a in own_addresses if a}
    markers = {loop_marker} if isinstance(loop_marker, str) else set(loop_marker)
    markers = {m.strip("<> ").lower() for m in markers if m}

    x_loop = _header(mail, "x-loop")
    if x_loop is not None and x_loop.strip("<> ").lower() in markers:
        return "X-Loop is ours: our own outgoing mail"
    if mail.from_address and mail.from_address.lower() in own:
        return f"From is our own address {mail.from_address}"

    auto_submitted = _header(mail, "auto-submitted")
    if auto_submitted is not None and _token(auto_submitted) != "no":
        return f"Auto-Submitted: {auto_submitted[:60]}"

    precedence = _header(mail, "precedence")
    if precedence is not None and _token(precedence) in _PRECEDENCE:
        return f"Precedence: {_token(precedence)}"

    for name in _LIST_HEADERS:
        if name in mail.headers:
            return f"mailing list ({_display(name)} header)"

    for name in _AUTO_HEADERS:
        if name in mail.headers:
            return f"autoresponder ({_display(name)} header)"

    if mail.return_path == "":
        return "empty Return-Path (null sender)"

    if mail.delivery_report is not None:
        return "delivery report (bounce)"
    content_type = (_header(mail, "content-type") or "").lower()
    if content_type.startswith("multipart/report"):
        return "report (multipart/report)"

    for label, address in (("From", mail.from_address), ("Return-Path", mail.return_path)):
        local = _local_part(address)
        if local in _MACHINE_LOCAL_PARTS:
            return f"machine sender ({label} {local})"

    subject = mail.subject or ""
    match = _SUBJECT_RE.match(subject) or _AUTO_COLON_RE.match(subject)
    if match:
        return f"autoresponder subject ({match.group(0).strip()})"
    return None


def _display(header: str) -> str:
    return "-".join(part.capitalize() for part in header.split("-")).replace("-Id", "-ID")

"""What each event on a case changes and which emails it sends.

Pure functions of the case, the event and ``now``: they return the new case's
fields or the changes, and the emails to send as ``Outgoing`` values (template
name, recipient, context). The store applies them in one transaction.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import formataddr
from typing import Any, Mapping, Sequence

from ..durations import humanize
from ..inbound import Attachment, DeliveryReport, InboundMail
from . import attachments as files
from .routing import CaseView, case_subject
from .states import CaseStatus, MessageKind

# Auto-Submitted values (RFC 3834).
AUTO_REPLIED = "auto-replied"
AUTO_GENERATED = "auto-generated"

# Automatic answers to mail that came in: the only emails that can form a loop with an
# autoresponder, so the only ones the per-recipient limit counts and holds back. Emails that
# staff caused (plan, progress) or that time caused (follow-up, check-in) cannot loop.
LOOP_PRONE_KINDS = (MessageKind.ACKNOWLEDGMENT, MessageKind.RATING_THANKS, MessageKind.RATING_LOW)


@dataclass(frozen=True)
class Policy:
    """The parts of the configuration the case rules use."""

    first_response_due: timedelta
    support_name: str
    support_address: str
    staff_names: Mapping[str, str] = field(default_factory=dict)
    default_owner: str = ""
    staff_addresses: tuple[str, ...] = ()
    escalation: tuple[str, ...] = ()  # who hears of missed promises; default owner when empty
    step_reminder_before: timedelta = timedelta(hours=2)
    overdue_escalation_after: timedelta = timedelta(days=1)
    timezone: str = "UTC"
    business_hours: Any = None  # calendar.BusinessHours or None
    mailbox: str = "default"  # the mailbox these rules work for: its name is stored on each case it opens
    max_attachments_size: int = 20 * 1024 * 1024  # one email's attachments together, at most
    blocked_attachment_types: tuple[str, ...] = files.BLOCKED_ATTACHMENT_TYPES
    processed_folder: str = ""  # where the mailbox keeps what it has read (the originals, with every file)

    def select_files(self, candidates: Sequence[Attachment]) -> files.Selection:
        return files.select(candidates, budget=self.max_attachments_size, blocked=self.blocked_attachment_types)

    @property
    def escalation_to(self) -> tuple[str, ...]:
        return self.escalation or (self.default_owner,)


@dataclass(frozen=True)
class Outgoing:
    """An email to send: which template, to whom, in which conversation."""

    kind: MessageKind
    template: str
    to: str
    to_name: str
    context: dict[str, Any]
    auto_submitted: str | None  # None for words a person wrote (relayed staff replies)
    thread: str  # "customer": the customer's conversation; "staff": the case's staff thread
    attachments: tuple[Attachment, ...] = ()  # files that go with it (stored: store/files.py)


@dataclass(frozen=True)
class NewCase:
    customer_address: str
    customer_name: str
    subject: str
    owner: str
    status: CaseStatus
    created_at: datetime
    first_response_due_at: datetime
    mailbox: str = "default"
    mailbox_address: str = ""


def person_name(address: str, names: Mapping[str, str]) -> str:
    """A staff member's name: as configured, else made from the address (``jane.doe@`` -> Jane Doe)."""
    if names.get(address):
        return names[address]
    local = address.split("@", 1)[0].split("+", 1)[0]
    return " ".join(part.capitalize() for part in local.replace("_", ".").replace("-", ".").split(".") if part) or address


def pick_owner(addresses: Sequence[str], default_owner: str, assign: str, cursor: int) -> tuple[str, int]:
    """The owner of a new case and the next round-robin cursor."""
    if assign == "round-robin" and addresses:
        return addresses[cursor % len(addresses)], (cursor + 1) % len(addresses)
    return default_owner, cursor


def new_case(mail: InboundMail, owner: str, now: datetime, policy: Policy) -> NewCase:
    return NewCase(
        customer_address=(mail.from_address or "").lower(),
        customer_name=mail.from_name,
        subject=case_subject(mail.subject) or "(no subject)",
        owner=owner,
        status=CaseStatus.OPEN,
        created_at=now,
        first_response_due_at=now + policy.first_response_due,
        mailbox=policy.mailbox,
        mailbox_address=formataddr((policy.support_name, policy.support_address)) if policy.support_name
        else policy.support_address,  # with its display name: a removed mailbox's emails keep it
    )


def context(case: CaseView, policy: Policy, now: datetime, **extra: Any) -> dict[str, Any]:
    """The variables every template may use; ``extra`` adds the event's own."""
    first = case.customer_name.split()[0] if case.customer_name.strip() else ""
    owner_name = person_name(case.owner, policy.staff_names)
    ctx = {
        "case": {
            "id": case.id,
            "ref": f"Case #{case.id}",
            "subject": case.subject,
            "status": case.status,
            "created_at": case.created_at,
            "first_response_due_at": case.first_response_due_at,
        },
        "customer": {"name": case.customer_name, "first_name": first, "address": case.customer_address},
        "owner": {"name": owner_name, "first_name": owner_name.split()[0], "address": case.owner},
        "support": {"name": policy.support_name or "Support", "address": policy.support_address},
        "promise": humanize(policy.first_response_due),
        "now": now,
    }
    ctx.update(extra)
    return ctx


def message_context(mail: InboundMail, text: str | None = None,
                    selection: files.Selection | None = None) -> dict[str, Any]:
    """The message as templates see it; with ``selection``, each file says whether it is attached
    (``attached``) or why not (``left_out``: blocked_type, too_large)."""
    sent = {id(a) for a in selection.sent} if selection else set()
    why = {id(x.file): x.reason for x in selection.left_out} if selection else {}
    return {
        "from": mail.from_address or "(no sender)",
        "from_name": mail.from_name,
        "subject": mail.subject,
        "text": mail.text if text is None else text,
        "attachments": [{**files.describe(a), "attached": id(a) in sent, "left_out": why.get(id(a), "")}
                        for a in mail.attachments if not a.nested],
        "left_out": [{**files.describe(x.file), "reason": x.reason} for x in selection.left_out] if selection else [],
        "date": mail.date,
    }


def _owner_copy(case: CaseView, mail: InboundMail, policy: Policy, now: datetime, text: str | None = None,
                **extra: Any) -> tuple[dict[str, Any], tuple[Attachment, ...]]:
    """What the owner's email about a customer's message says, and the customer's files that go with it."""
    selection = policy.select_files(files.customer_files(mail))
    ctx = context(case, policy, now, message=message_context(mail, text, selection),
                  processed_folder=policy.processed_folder, **extra)
    return ctx, selection.sent


def on_case_opened(case: CaseView, mail: InboundMail, now: datetime, policy: Policy) -> list[Outgoing]:
    """Thank and acknowledge the customer at once; tell the owner, with the customer's files."""
    ctx = context(case, policy, now, message=message_context(mail))
    out = []
    if case.customer_address:
        out.append(Outgoing(MessageKind.ACKNOWLEDGMENT, "customer/acknowledgment", case.customer_address,
                            case.customer_name, ctx, AUTO_REPLIED, "customer"))
    owner_ctx, attached = _owner_copy(case, mail, policy, now)
    out.append(Outgoing(MessageKind.NOTIFICATION, "staff/new_case", case.owner,
                        person_name(case.owner, policy.staff_names), owner_ctx, AUTO_GENERATED, "staff", attached))
    return out


def on_customer_reply(case: CaseView, mail: InboundMail, new_text: str, now: datetime, policy: Policy,
                      reopened: bool = False) -> list[Outgoing]:
    """Forward what the customer added to the owner, with their files."""
    ctx, attached = _owner_copy(case, mail, policy, now, new_text, full_text=mail.text, reopened=reopened)
    return [Outgoing(MessageKind.FORWARD, "staff/customer_reply", case.owner,
                     person_name(case.owner, policy.staff_names), ctx, AUTO_GENERATED, "staff", attached)]


def on_staff_unmatched(mail: InboundMail, now: datetime, policy: Policy) -> list[Outgoing]:
    """Tell a staff member their email reached no case, so nothing was sent."""
    sender = (mail.from_address or "").lower()
    ctx = {"message": message_context(mail), "support": {"name": policy.support_name, "address": policy.support_address},
           "now": now, "staff": {"name": person_name(sender, policy.staff_names), "address": sender}}
    return [Outgoing(MessageKind.STAFF_NOTICE, "staff/unmatched", sender, person_name(sender, policy.staff_names),
                     ctx, AUTO_GENERATED, "none")]


def on_suspicious(case: CaseView | None, mail: InboundMail, reason: str, now: datetime,
                  policy: Policy) -> list[Outgoing]:
    """Mail that claims to be from staff but cannot prove it: the owner is told, nothing else happens."""
    owner = case.owner if case else policy.default_owner
    ctx = {
        "case": {"id": case.id, "ref": f"Case #{case.id}", "subject": case.subject} if case else None,
        "message": message_context(mail), "reason": reason,
        "support": {"name": policy.support_name, "address": policy.support_address},
        "owner": {"name": person_name(owner, policy.staff_names), "address": owner}, "now": now,
    }
    return [Outgoing(MessageKind.SUSPICIOUS_NOTICE, "staff/suspicious", owner, person_name(owner, policy.staff_names),
                     ctx, AUTO_GENERATED, "staff" if case else "none")]


@dataclass(frozen=True)
class BouncedEmail:
    kind: str
    to: str
    subject: str
    message_id: str


def bounce_is_failure(report: DeliveryReport | None) -> bool:
    """A report that names no action, or a bounce in no standard form at all (no report), is a failure;
    "delayed" and "delivered" reports are only filed."""
    return report is None or report.action in ("failed", "")


def on_bounce(case: CaseView, bounced: Sequence[BouncedEmail], mail: InboundMail, now: datetime,
              policy: Policy) -> list[Outgoing]:
    """Tell the owner that mail to the customer did not arrive. Bounces of staff mail are only recorded."""
    to_customer = [b for b in bounced if b.to == case.customer_address]
    if not to_customer:
        return []
    report = mail.delivery_report
    ctx = context(case, policy, now, bounced=[b.__dict__ for b in to_customer],
                  report={"status": report.status if report else "", "diagnostic": report.diagnostic if report else "",
                          "action": report.action if report else "failed"})
    return [Outgoing(MessageKind.BOUNCE_NOTICE, "staff/bounce", case.owner, person_name(case.owner, policy.staff_names),
                     ctx, AUTO_GENERATED, "staff")]


def on_delivery_failed(case: CaseView, kind: str, to: str, subject: str, error: str, now: datetime,
                       policy: Policy) -> list[Outgoing]:
    """An email the SMTP server refused for good: the owner must know the customer did not get it."""
    if to == case.owner or kind in (MessageKind.DELIVERY_FAILED, MessageKind.BOUNCE_NOTICE,
                                    MessageKind.QUARANTINE_NOTICE):
        return []
    ctx = context(case, policy, now, failed={"kind": kind, "to": to, "subject": subject, "error": error})
    return [Outgoing(MessageKind.DELIVERY_FAILED, "staff/delivery_failed", case.owner,
                     person_name(case.owner, policy.staff_names), ctx, AUTO_GENERATED, "staff")]


def files_refused_notice(names: Sequence[str], case_id: int | None, to_staff: bool) -> str:
    """What an email says when a mail server refused it with its files and it went again without them."""
    listed = ", ".join(names)
    if to_staff:
        where = (f"Save them with: aftercare cases attachments {case_id} --save DIR"
                 if case_id else "The original email stays in the mailbox's processed folder.")
        return (f"[The mail server refused this email as too large with its attachments ({listed}), "
                f"so it comes without them. {where}]")
    return (f"We meant to send you {listed} with this email, but the files were too large to go by email. "
            f"We are sorry about that; we will get them to you another way.")


def on_files_refused(case: CaseView, kind: str, to: str, subject: str, names: Sequence[str], error: str,
                     now: datetime, policy: Policy) -> list[Outgoing]:
    """An email went again without its files (the mail server refused its size): the owner must know that
    the files did not reach ``to``. When the owner was the recipient, that email itself says so."""
    if to == case.owner:
        return []
    ctx = context(case, policy, now, failed={"kind": kind, "to": to, "subject": subject, "error": error,
                                             "files": list(names)})
    return [Outgoing(MessageKind.DELIVERY_FAILED, "staff/files_refused", case.owner,
                     person_name(case.owner, policy.staff_names), ctx, AUTO_GENERATED, "staff")]


def on_quarantine(case: CaseView | None, mail: InboundMail | None, reason: str, folder: str, now: datetime,
                  policy: Policy) -> list[Outgoing]:
    """An email that could not be processed was set aside: a person must look at it."""
    owner = case.owner if case else policy.default_owner
    ctx = {
        "case": {"id": case.id, "ref": f"Case #{case.id}", "subject": case.subject} if case else None,
        "message": message_context(mail) if mail else None,
        "reason": reason,
        "folder": folder,
        "support": {"name": policy.support_name, "address": policy.support_address},
        "owner": {"name": person_name(owner, policy.staff_names), "address": owner},
        "now": now,
    }
    return [Outgoing(MessageKind.QUARANTINE_NOTICE, "staff/quarantined", owner, person_name(owner, policy.staff_names),
                     ctx, AUTO_GENERATED, "staff" if case else "none")]


def on_login_refused(service: str, login: str, error: str, hint: str, since: datetime, now: datetime,
                     policy: Policy) -> list[Outgoing]:
    """A mailbox login that only a person can mend (a dead OAuth2 grant): whoever hears of missed promises
    must know that mail is not being read (or sent), and what to do; the log alone is not enough."""
    out = []
    for to in policy.escalation_to:
        name = person_name(to, policy.staff_names)
        ctx = {
            "login": {"service": service, "account": login, "error": error, "hint": hint, "since": since},
            "support": {"name": policy.support_name, "address": policy.support_address},
            "owner": {"name": name, "first_name": name.split()[0], "address": to},
            "now": now,
        }
        out.append(Outgoing(MessageKind.LOGIN_ALERT, "staff/login_refused", to, name, ctx, AUTO_GENERATED, "none"))
    return out

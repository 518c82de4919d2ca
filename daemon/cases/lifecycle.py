"""What each event on a case changes and which emails it sends.

Pure functions of the case, the event and ``now``: they return the new case's
fields or the changes, and the emails to send as ``Outgoing`` values (template
name, recipient, context). The store applies them in one transaction.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import formataddr
from typing import Any, Mapping, Sequence

from ..durations import humanize
from ..inbound import Attachment, DeliveryReport, InboundMail
from . import attachments as files
from .routing import CaseView, case_subject
from .states import CaseStatus, MessageKind
from .tone import ToneReading, assess, fold, own_words

URGENT, NORMAL = "urgent", "normal"

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
    urgent_first_response_due: timedelta | None = None  # an urgent case's promise (the shorter of the two applies)
    default_language: str = "en"  # customer emails go in it when the case's language is unknown or has no templates
    staff_language: str = "en"
    tone_enabled: bool = True  # False: no tone is read and every case stays normal priority
    tone_words: Mapping[str, Mapping[str, Sequence[str]]] = field(default_factory=dict)  # [tone.words]

    def response_due(self, priority: str) -> timedelta:
        """How soon the customer is promised an answer: an urgent case's promise is the shorter one."""
        if priority == URGENT and self.urgent_first_response_due is not None:
            return min(self.urgent_first_response_due, self.first_response_due)
        return self.first_response_due

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
    language: str = ""  # ISO 639-1; "": the default language
    priority: str = NORMAL


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


def new_case(mail: InboundMail, owner: str, now: datetime, policy: Policy, language: str = "",
             priority: str = NORMAL) -> NewCase:
    """The new case's fields; an urgent one is promised an answer sooner (``Policy.response_due``)."""
    return NewCase(
        customer_address=(mail.from_address or "").lower(),
        customer_name=mail.from_name,
        subject=case_subject(mail.subject) or "(no subject)",
        owner=owner,
        status=CaseStatus.OPEN,
        created_at=now,
        first_response_due_at=now + policy.response_due(priority),
        mailbox=policy.mailbox,
        mailbox_address=formataddr((policy.support_name, policy.support_address)) if policy.support_name
        else policy.support_address,  # with its display name: a removed mailbox's emails keep it
        language=language,
        priority=priority,
    )


# --- triage: language, tone, priority ------------------------------------------------------------------------------

#: Earlier cases of the same customer count as complaints about the same thing when opened this long before.
EARLIER_COMPLAINTS_WITHIN = timedelta(days=180)


@dataclass(frozen=True)
class Triage:
    """What was read from a customer's message for staff: the language and the tone."""

    language: str  # the case's language, ISO 639-1
    language_name: str  # its name, in the staff's language
    templates: bool  # customer templates exist in it; else customer emails go in the default language
    reading: ToneReading | None = None  # None: [tone] enabled = false


@dataclass(frozen=True)
class EarlierCase:
    """One of the customer's earlier cases, as the earlier-complaint rule reads it."""

    id: int
    created_at: datetime
    subject: str
    text: str  # the complaint that opened it
    status: str = ""  # its status now ("open", "resolved", "closed"); "": not known


# An order number: four to twelve digits right after an order word (and "no.", "Nr.", "n°", "#", ":" between),
# or after "#" alone. Not a date ("2026-03-02"), a year ("invoice 2026", "pedido 2025"), a postcode in an
# address ("Rechnungsadresse: 10115 Berlin": the order word must be a word of its own, not part of a
# compound), nor a phone number ("Tel #01512345678": ten digits or more with a leading 0). Read on folded
# text (lower case, no accents).
_ORDER_WORDS = (r"order|orders|bestellung|bestellungen|bestellnummer|bestellnr|bestell-nr|auftrag|auftragsnummer|"
                r"auftragsnr|rechnung|rechnungsnummer|rechnungsnr|invoice|commande|facture|pedido|factura|"
                r"ordine|fattura")
_ORDER = re.compile(r"(?:(?<![\w-])(?:" + _ORDER_WORDS + r")(?![\w-])"
                    r"(?:\s*(?:no|nr|n|num|number|nummer|numero|id|ref)\b\.?|\s*n\s*[\u00b0\u00ba])?\s*[:#]?\s*"
                    r"|(?<![\w#])#\s*)"
                    r"(?:[a-z]{1,4}-?)?(\d{4,})(?![-./]?\d)")
ORDER_DIGITS_AT_MOST = 12
#: An earlier case of the same customer, still open and opened this shortly before, is a follow-up ("Nachtrag:
#: Foto anbei" sent as a new email), not a complaint about the same thing made again.
FOLLOW_UP_WITHIN = timedelta(hours=24)
#: Words that say nothing of what a complaint is about: a subject made only of them (and of numbers), or of
#: fewer than three words, is generic and matches nothing on its own ("Reklamation", "Problem mit meiner
#: Bestellung", "Question about my order").
_GENERIC_SUBJECT_WORDS = frozenset("""
    complaint complaints refund problem problems issue issues question questions help request inquiry enquiry
    order orders my our your the a an about with for of on to and re fw fwd hi hello dear urgent please support
    again still info information update feedback regarding
    reklamation beschwerde erstattung ruckerstattung hallo problem frage fragen hilfe anfrage bestellung
    bestellungen rechnung auftrag mein meine meiner meinen mit zu zur zum der die das den dem und von uber
    fur bitte dringend aw wg nochmal wieder
    reclamation plainte remboursement bonjour probleme question demande aide commande facture ma mon mes le
    la les de du des et pour avec sur concernant tr urgent encore
    reclamacion queja reembolso hola problema pregunta consulta ayuda solicitud pedido factura mi mis el los
    las de del y con sobre para rv urgente otra vez
""".split())


def order_numbers(text: str) -> frozenset[str]:
    """The order numbers ``text`` names: "order 10234", "Bestellung Nr. 10234", "commande n° 10234",
    "pedido #10234", "#10234" (the digits)."""
    return frozenset(number for number in (m.group(1) for m in _ORDER.finditer(fold(text or "")))
                     if _an_order_number(number))


def _an_order_number(digits: str) -> bool:
    if len(digits) > ORDER_DIGITS_AT_MOST or (len(digits) >= 10 and digits.startswith("0")):
        return False  # a phone number
    return not (len(digits) == 4 and 1900 <= int(digits) <= 2099)  # a year


def subject_key(subject: str) -> str:
    """A subject as compared: no tag, no Re:/AW:, lower case, no accents, words only."""
    return " ".join(re.findall(r"\w+", fold(case_subject(subject or ""))))


def _telling_subject(key: str) -> bool:
    """A subject that says what the complaint is about: three words or more, two of them neither generic
    ("Reklamation", "Problem", "Hallo") nor numbers. "Broken kettle lid" is; "Refund", "Broken kettle",
    "Problem mit meiner Bestellung 10234" are not."""
    words = key.split()
    telling = [w for w in words if w not in _GENERIC_SUBJECT_WORDS and not w.isdigit()]
    return len(words) >= 3 and len(telling) >= 2


def same_complaints(subject: str, text: str, earlier: Sequence[EarlierCase], now: datetime) -> list[tuple[int, str]]:
    """The customer's earlier cases about the same thing, with why. An earlier case counts when it was opened
    within ``EARLIER_COMPLAINTS_WITHIN`` before ``now`` and is not a follow-up (still open and opened within
    ``FOLLOW_UP_WITHIN`` before ``now``: the customer adding to the same complaint), and

    * it shares an order number with this complaint (its subject or text; the earlier case's text is read in
      the customer's own words, without quoted history or signatures: ``tone.own_words``), or
    * it has the same subject (``subject_key``), the subject says what the complaint is about
      (``_telling_subject``: not "Reklamation", "Refund", "Hallo", nor one or two words), and the two do not
      name different orders (both name order numbers, none shared: not the same thing, whatever the
      subject)."""

    numbers = order_numbers(subject) | order_numbers(text)
    key = subject_key(subject)
    out = []
    for e in sorted(earlier, key=lambda e: e.id):
        if not now - EARLIER_COMPLAINTS_WITHIN <= e.created_at < now:
            continue
        if e.status == CaseStatus.OPEN and now - e.created_at <= FOLLOW_UP_WITHIN:
            continue  # a follow-up to a complaint still being handled
        theirs = order_numbers(e.subject) | order_numbers(own_words(e.text or ""))
        shared = sorted(numbers & theirs)
        if shared:
            out.append((e.id, f"order {shared[0]}"))
        elif (numbers and theirs) or not _telling_subject(key):
            continue
        elif subject_key(e.subject) == key:
            out.append((e.id, "same subject"))
    return out


def read_tone(text: str, language: str, policy: Policy,
              earlier: Sequence[tuple[int, str]] = ()) -> ToneReading | None:
    """The tone of a customer's own new words (``cases/tone.assess``), with the operator's words; None when
    [tone] is off. ``earlier``: the customer's earlier complaints about the same thing (``same_complaints``),
    named in the signal staff read."""
    if not policy.tone_enabled:
        return None
    reading = assess(text, language or policy.default_language, extra_words=policy.tone_words,
                     earlier_complaints=len(earlier))
    if earlier:
        which = ", ".join(f"Case #{case_id} ({why})" for case_id, why in earlier)
        reading = dataclasses.replace(reading, signals=tuple(
            f"complained before about the same thing: {which}" if s.startswith("complained before") else s
            for s in reading.signals))
    return reading


def priority_after(current: str, reading: ToneReading | None) -> str:
    """Urgent when a message is angry or abusive or the customer complained about the same thing before
    (``ToneReading.urgent``); once urgent, a case stays urgent. No reading (tone off): unchanged."""
    if current == URGENT or (reading is not None and reading.urgent):
        return URGENT
    return NORMAL


def urgent_recipients(case: CaseView, policy: Policy) -> list[str]:
    """Who hears of an urgent case at once: ``staff.escalation`` (the default owner when empty), but not the
    owner, whose own email says it."""
    if case.priority != URGENT:
        return []
    return [a for a in dict.fromkeys(policy.escalation_to) if a and a != case.owner]


def advice(reading: ToneReading, senior_told: bool) -> str:
    """The practice brief in one line, for the tone read."""
    if reading.tone == "abusive":
        return ("Stand firm and stay courteous: do not answer in kind, keep to the facts and what you will do; "
                + ("a senior colleague has been told." if senior_told else
                   "nobody else has been told (staff.escalation names no one besides you): ask a senior colleague "
                   "if you need to."))
    if reading.tone == "angry":
        return ("Slow down and stay calm: let them say everything, do not argue or defend, and offer to talk by "
                "phone at a time they name.")
    if reading.earlier_complaints:
        return "They have complained about this before: say that you know, and make sure it is put right this time."
    if reading.tone == "upset":
        return "Acknowledge how they feel before anything else, then say what you will do and by when."
    return ""


def triage_context(case: CaseView, policy: Policy, triage: Triage | None, senior_told: bool) -> dict[str, Any]:
    """``language``, ``tone`` and ``priority`` as the staff templates (staff/new_case, staff/urgent) see them."""
    code = triage.language if triage else (case.language or policy.default_language)
    language = {"code": code, "name": triage.language_name if triage else code,
                "templates": triage.templates if triage else True}
    reading = triage.reading if triage else None
    tone = None if reading is None else {"level": reading.tone, "signals": list(reading.signals),
                                         "advice": advice(reading, senior_told), "senior_told": senior_told}
    return {"language": language, "tone": tone, "priority": case.priority}


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
        "promise": humanize(policy.response_due(case.priority)),
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


def on_case_opened(case: CaseView, mail: InboundMail, now: datetime, policy: Policy,
                   triage: Triage | None = None) -> list[Outgoing]:
    """Thank and acknowledge the customer at once (an urgent case is offered a call: ``urgent``); tell the owner,
    with the customer's files, what language they wrote in and, when their tone was read, how upset they
    sound, why, and how to answer; tell ``staff.escalation`` at once of an urgent case (``staff/urgent``)."""
    ctx = context(case, policy, now, message=message_context(mail), urgent=case.priority == URGENT)
    out = []
    if case.customer_address:
        out.append(Outgoing(MessageKind.ACKNOWLEDGMENT, "customer/acknowledgment", case.customer_address,
                            case.customer_name, ctx, AUTO_REPLIED, "customer"))
    told = urgent_recipients(case, policy)
    owner_ctx, attached = _owner_copy(case, mail, policy, now, **triage_context(case, policy, triage, bool(told)))
    out.append(Outgoing(MessageKind.NOTIFICATION, "staff/new_case", case.owner,
                        person_name(case.owner, policy.staff_names), owner_ctx, AUTO_GENERATED, "staff", attached))
    out += [Outgoing(MessageKind.URGENT_NOTICE, "staff/urgent", to, person_name(to, policy.staff_names), owner_ctx,
                     AUTO_GENERATED, "staff") for to in told]
    return out


def on_became_urgent(case: CaseView, mail: InboundMail, text: str, now: datetime, policy: Policy,
                     triage: Triage) -> list[Outgoing]:
    """A customer's later message made their case urgent: ``staff.escalation`` hears of it at once, as of an
    urgent new case (the owner has the message forwarded)."""
    told = urgent_recipients(case, policy)
    ctx, _ = _owner_copy(case, mail, policy, now, text, **triage_context(case, policy, triage, bool(told)))
    return [Outgoing(MessageKind.URGENT_NOTICE, "staff/urgent", to, person_name(to, policy.staff_names), ctx,
                     AUTO_GENERATED, "staff") for to in told]


def on_customer_reply(case: CaseView, mail: InboundMail, new_text: str, now: datetime, policy: Policy,
                      reopened: bool = False, triage: Triage | None = None,
                      senior_told: bool = False) -> list[Outgoing]:
    """Forward what the customer added to the owner, with their files, and how it reads (``tone``: the signals
    and the practice brief's advice when it is not calm), so that an angry or abusive reply warns its owner."""
    ctx, attached = _owner_copy(case, mail, policy, now, new_text, full_text=mail.text, reopened=reopened,
                                **triage_context(case, policy, triage, senior_told))
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

"""The rows casework reads and writes: cases, their messages and plan steps, timers, settings.

Row level only: what to write is decided elsewhere (a ``CaseChange`` from
``cases/transitions.py``, an email from the mailer) and the caller holds the
transaction. The statements every incoming message runs are compiled once
(store/prepared.py says why).
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Iterable

from peewee import PostgresqlDatabase, fn

from ..cases.lifecycle import EarlierCase, NewCase
from ..cases.plan import StaffOutcome, StepView, TimerSpec
from ..cases.routing import CaseView
from ..cases.states import Direction, MessageKind, OutboxStatus, TimerKind, TimerState
from ..cases.transitions import CaseChange
from ..inbound import InboundMail
from . import files, leases
from .models import Case, InboundFailure, Message, PlanStep, Setting, Timer, database
from .prepared import Prepared, PreparedInsert, param

_INSERT_CASE = PreparedInsert(Case, ("status", "customer_address", "customer_name", "subject", "owner",
                                     "created_at", "updated_at", "first_response_due_at", "mailbox",
                                     "mailbox_address", "language", "priority"))
_INSERT_MESSAGE = PreparedInsert(Message, ("case", "direction", "kind", "message_id", "fingerprint", "from_address",
                                           "to", "recipient", "subject", "text", "attachments", "note",
                                           "created_at", "status", "raw", "automated", "next_attempt_at",
                                           "last_error", "mailbox", "tone", "tone_signals"))
_INSERT_TIMER = PreparedInsert(Timer, ("case", "kind", "step", "due_at"))
_SEEN = Prepared(lambda: Message.select(Message.id, Message.kind).where(Message.fingerprint == param("fp")).limit(1))
_SENDERS = Prepared(lambda: Message.select(fn.DISTINCT(Message.from_address))
                    .where((Message.case == param("case")) & (Message.direction == Direction.IN)))
_CUSTOMER_THREAD = Prepared(lambda: Message.select(Message.message_id, Message.direction)
                            .where((Message.case == param("case")) & Message.message_id.is_null(False)
                                   & (((Message.direction == Direction.IN) & (Message.kind == MessageKind.CUSTOMER))
                                      | ((Message.direction == Direction.OUT)
                                         & (Message.recipient == param("customer")))))
                            .order_by(Message.id))
_STAFF_THREAD_ROOT = Prepared(lambda: Message.select(Message.message_id)
                              .where((Message.case == param("case")) & (Message.direction == Direction.OUT)
                                     & (Message.kind == MessageKind.NOTIFICATION))
                              .order_by(Message.id).limit(1))

# What a new owner reads of the case on #owner: the conversation, not the notices around it.
_HISTORY_KINDS = [MessageKind.CUSTOMER, MessageKind.STAFF, MessageKind.RELAY, MessageKind.ACKNOWLEDGMENT,
                  MessageKind.PLAN, MessageKind.PROGRESS]
_ROUND_ROBIN = "round_robin_cursor"
_STAFF_SECRET = "staff_secret"


# --- cases --------------------------------------------------------------------------------------------------------

def case_view(case: Case, senders: tuple[str, ...] | None = None) -> CaseView:
    """What the case rules see of a case; ``senders`` saves the query when the caller knows them."""
    if senders is None:
        senders = tuple(r[0] for r in _SENDERS.rows(case=case.id))
    participants = {case.customer_address, case.owner, *senders}
    return CaseView(
        id=case.id, status=case.status, customer_address=case.customer_address,
        customer_name=case.customer_name, subject=case.subject, owner=case.owner,
        created_at=case.created_at, first_response_due_at=case.first_response_due_at,
        first_response_at=case.first_response_at,
        participants=frozenset(p for p in participants if p),
        reopened_count=case.reopened_count, checkin_sent_at=case.checkin_sent_at, rating_score=case.rating_score,
        mailbox=case.mailbox, mailbox_address=case.mailbox_address,
        language=case.language or "", priority=case.priority or "normal",
    )


def find_case(case_id: int | None) -> Case | None:
    """The case, unless its customer's data was erased: mail naming it (a tag, a reply token, a bounce's
    envelope) then counts as naming none, so a customer who writes again opens a fresh case."""
    return Case.get_or_none((Case.id == case_id) & Case.erased_at.is_null()) if case_id else None


def load_case(case_id: int) -> Case:
    return Case.get_by_id(case_id)


def open_case(new: NewCase, now: datetime) -> Case:
    """Store a new case as the rules made it."""
    case = Case(**new.__dict__, updated_at=now)
    case.id = _INSERT_CASE(**case.__data__)
    return case


def apply_change(case: Case, change: CaseChange) -> None:
    """Apply a decided change to the case row and its timers: cancellations first, then the columns, then timers."""
    if change.cancel:
        cancel_timers(case, change.cancel)
    for name, value in change.fields.items():
        setattr(case, name, value)
    set_timers(case, change.timers)
    case.save()


def earlier_cases(customer_address: str, since: datetime, before: datetime,
                  exclude: int | None = None) -> list[EarlierCase]:
    """The customer's cases opened from ``since`` until ``before``, each with the complaint that opened it (its
    first customer message), for the earlier-complaint rule (``lifecycle.same_complaints``)."""
    if not customer_address:
        return []
    query = Case.select(Case.id, Case.created_at, Case.subject).where(
        (Case.customer_address == customer_address.lower()) & (Case.created_at >= since) & (Case.created_at < before))
    if exclude is not None:
        query = query.where(Case.id != exclude)
    return [EarlierCase(c.id, c.created_at, c.subject, complaint_text(c.id)) for c in query.order_by(Case.id)]


def complaint_text(case_id: int) -> str:
    """The text of the customer's first message on the case: the complaint that opened it."""
    first = (Message.select(Message.text).where((Message.case == case_id) & (Message.direction == Direction.IN)
                                                & (Message.kind == MessageKind.CUSTOMER))
             .order_by(Message.id).first())
    return first.text if first else ""


def case_answered(ids: Iterable[str]) -> Case | None:
    """The case that the given message ids belong to; our own sent mail wins over received mail."""
    ids = tuple(ids)
    if not ids:
        return None
    rows = list(Message.select(Message.case, Message.message_id, Message.direction)
                .join(Case, on=(Message.case == Case.id))
                .where(Message.message_id.in_(list(ids)) & Case.erased_at.is_null()))
    if not rows:
        return None
    rank = {mid: i for i, mid in enumerate(ids)}
    rows.sort(key=lambda m: (m.direction != Direction.OUT, rank.get(m.message_id, len(ids))))
    return Case.get_by_id(rows[0].case_id)


def history(case: Case) -> list[dict]:
    """The case's conversation, oldest first, for a new owner."""
    rows = (Message.select().where((Message.case == case.id) & Message.kind.in_(_HISTORY_KINDS))
            .order_by(Message.id))
    return [{"time": m.created_at, "text": m.text.strip(),
             "who": (m.from_address if m.direction == Direction.IN else f"us to {m.recipient}")} for m in rows]


# --- plan steps and timers ----------------------------------------------------------------------------------------

def plan_steps(case_id: int) -> list[StepView]:
    return [StepView(s.number, s.text, s.due_at, s.done_at)
            for s in PlanStep.select().where(PlanStep.case == case_id)]


def step_number(step_id: int | None) -> int | None:
    """The number (within its case) of the plan step a timer is about."""
    row = PlanStep.get_or_none(PlanStep.id == step_id) if step_id else None
    return row.number if row else None


def apply_plan(case: Case, outcome: StaffOutcome, now: datetime) -> None:
    """A staff reply's plan steps: new ones stored, done ones marked, the timers of those done cancelled."""
    for step in outcome.new_steps:
        PlanStep.create(case=case.id, number=step.number, text=step.text, due_at=step.due_at, created_at=now)
    if outcome.done:
        (PlanStep.update(done_at=now)
         .where((PlanStep.case == case.id) & PlanStep.number.in_(outcome.done)).execute())
    if outcome.cancel_steps:
        steps = PlanStep.select(PlanStep.id).where((PlanStep.case == case.id)
                                                   & PlanStep.number.in_(outcome.cancel_steps))
        (Timer.update(state=TimerState.CANCELLED)
         .where((Timer.case == case.id) & (Timer.state == TimerState.WAITING) & Timer.step.in_(steps)).execute())


def set_timers(case: Case, timers: Iterable[TimerSpec]) -> None:
    for t in timers:
        step = (PlanStep.get_or_none((PlanStep.case == case.id) & (PlanStep.number == t.step_number))
                if t.step_number else None)
        _INSERT_TIMER(case=case.id, kind=t.kind, step=step.id if step else None, due_at=t.due_at)
        leases.notify(leases.TIMERS_CHANNEL)


def cancel_timers(case: Case, kinds: Iterable[TimerKind]) -> None:
    (Timer.update(state=TimerState.CANCELLED)
     .where((Timer.case == case.id) & (Timer.state == TimerState.WAITING) & Timer.kind.in_(list(kinds))).execute())


def any_timer_due(now: datetime) -> bool:
    return Timer.select(Timer.id).where((Timer.state == TimerState.WAITING) & (Timer.due_at <= now)).exists()


def due_timer_ids(now: datetime, limit: int) -> list[int]:
    """The due timers, soonest first; on PostgreSQL locked so that a second process skips them."""
    query = (Timer.select(Timer.id).where((Timer.state == TimerState.WAITING) & (Timer.due_at <= now))
             .order_by(Timer.due_at, Timer.id).limit(limit))
    if isinstance(database.obj, PostgresqlDatabase):
        query = query.for_update(skip_locked=True)
    return [row.id for row in query]


def due_timer(timer_id: int, now: datetime) -> Timer | None:
    """The timer, if it still waits and is still due (an earlier one of the pass may have moved or cancelled it)."""
    return Timer.get_or_none((Timer.id == timer_id) & (Timer.state == TimerState.WAITING) & (Timer.due_at <= now))


def move_timer(timer_id: int, due_at: datetime) -> None:
    """A waiting timer falls due later."""
    Timer.update(due_at=due_at).where((Timer.id == timer_id) & (Timer.state == TimerState.WAITING)).execute()


def claim_timer(timer_id: int, now: datetime) -> bool:
    """Mark a waiting timer fired; False if someone else fired (or cancelled) it first."""
    return (Timer.update(state=TimerState.FIRED, fired_at=now)
            .where((Timer.id == timer_id) & (Timer.state == TimerState.WAITING)).execute()) == 1


def waiting_timers(case: Case, kind: TimerKind) -> list[Timer]:
    return list(Timer.select().where((Timer.case == case.id) & (Timer.kind == kind)
                                     & (Timer.state == TimerState.WAITING)))


def next_timer_at() -> datetime | None:
    row = Timer.select(Timer.due_at).where(Timer.state == TimerState.WAITING).order_by(Timer.due_at).first()
    return row.due_at if row else None


# --- messages -----------------------------------------------------------------------------------------------------

def seen(fingerprint: str) -> tuple[int, str] | None:
    """Id and kind of the message recorded with this fingerprint, if any."""
    return _SEEN.first(fp=fingerprint) or _SEEN.first(fp=erased_fingerprint(fingerprint))


def erased_fingerprint(fingerprint: str) -> str:
    """What an erased message's dedupe key becomes (store/customer_data.py): the same message delivered again is
    still known as recorded, while its Message-ID, which may name the customer, is kept nowhere."""
    if fingerprint.startswith("erased:"):
        return fingerprint
    return "erased:" + hashlib.sha256(fingerprint.encode("utf-8", "surrogateescape")).hexdigest()


def already_recorded(fingerprint: str) -> bool:
    """Whether this email was recorded before (a quarantined one may be tried again)."""
    return (Message.select().where(Message.fingerprint.in_([fingerprint, erased_fingerprint(fingerprint)])
                                   & (Message.kind != MessageKind.QUARANTINED)).exists())


def fingerprint_known(fingerprint: str) -> bool:
    return Message.select().where(Message.fingerprint.in_([fingerprint, erased_fingerprint(fingerprint)])).exists()


def forget_fingerprint(row_id: int) -> None:
    """Keep the old record of a message but let it be recorded afresh."""
    Message.update(fingerprint=None).where(Message.id == row_id).execute()


#: Received mail whose files are kept (they may be relayed, and staff may save them); a delivery report's
#: returned message or an autoresponder's logo is only listed.
FILE_KEEPING_KINDS = (MessageKind.CUSTOMER, MessageKind.STAFF, MessageKind.RATING)


def record_inbound(mail: InboundMail, case_id: int | None, kind: MessageKind, now: datetime, note: str = "",
                   tone: str = "", tone_signals: Iterable[str] = ()) -> int:
    """Store a received email; a customer's message with its ``tone`` and what it was read from."""
    keep = kind in FILE_KEEPING_KINDS and case_id is not None
    if keep:
        files.store((a for a in mail.attachments if not a.nested), now)
    return _INSERT_MESSAGE(
        case=case_id, direction=Direction.IN, kind=kind, message_id=mail.message_id, fingerprint=mail.fingerprint,
        from_address=mail.from_address or "", to=list(mail.to), subject=mail.subject, text=mail.text,
        attachments=[attachment_entry(a, stored=keep and bool(a.data) and not a.nested) for a in mail.attachments],
        note="; ".join(filter(None, [note, *mail.defects]))[:4000], created_at=now,
        tone=tone, tone_signals=list(tone_signals),
    )


def attachment_entry(a, stored: bool) -> dict:
    """How a received file is listed on its message (``message.attachments``)."""
    entry = {"filename": a.filename, "content_type": a.content_type, "size": a.size}
    if a.sha256:
        entry["sha256"] = a.sha256
    if a.content_id:
        entry["content_id"] = a.content_id
    if a.inline:
        entry["inline"] = True
    if a.nested:
        entry["nested"] = True
    if stored:
        entry["stored"] = True
    return entry


def record_quarantined(mail: InboundMail | None, fingerprint: str, case_id: int | None, reason: str,
                       now: datetime) -> None:
    Message.create(case=case_id, direction=Direction.IN, kind=MessageKind.QUARANTINED,
                   message_id=mail.message_id if mail else None, fingerprint=fingerprint,
                   from_address=(mail.from_address or "") if mail else "",
                   subject=mail.subject if mail else "", text="", note=reason[:4000], created_at=now)


def insert_outgoing(**columns) -> int:
    """Store one outgoing email (the outbox row); return its id. Every instance's dispatcher is woken."""
    row_id = _INSERT_MESSAGE(direction=Direction.OUT, **columns)
    leases.notify(leases.OUTBOX_CHANNEL)
    return row_id


def resend_without_files(row_id: int, raw: str, text: str, note: str, now: datetime) -> None:
    """Store an email again, without its files, to be sent at once (same row, same Message-ID)."""
    (Message.update(raw=raw, text=text, attachments=[], status=OutboxStatus.PENDING, next_attempt_at=now,
                    claimed_by=None, claim_until=None, note=note, last_error=note)
     .where((Message.id == row_id) & (Message.direction == Direction.OUT)).execute())


def outgoing(row_id: int) -> Message | None:
    return Message.get_or_none((Message.id == row_id) & (Message.direction == Direction.OUT))


def outgoing_with_ids(message_ids: list[str]) -> list[Message]:
    if not message_ids:
        return []
    return list(Message.select().where((Message.direction == Direction.OUT) & Message.message_id.in_(message_ids)))


def customer_thread(case: Case) -> list[tuple[str, str]]:
    """Message-ID and direction of the customer's conversation on the case, oldest first."""
    return _CUSTOMER_THREAD.rows(case=case.id, customer=case.customer_address)


def staff_thread_root(case: Case) -> str | None:
    """The Message-ID of the case's first staff notification: the root of its staff thread."""
    row = _STAFF_THREAD_ROOT.first(case=case.id)
    return row[0] if row else None


def sent_recently(kind: MessageKind, recipient: str, since: datetime, mailbox: str | None = None) -> bool:
    """Whether an email of ``kind`` to ``recipient`` (about ``mailbox``) was stored at or after ``since``
    (alerts are said once a day per mailbox)."""
    query = Message.select().where((Message.direction == Direction.OUT) & (Message.kind == kind)
                                   & (Message.recipient == recipient) & (Message.created_at >= since))
    if mailbox is not None:
        query = query.where(Message.mailbox == mailbox)
    return query.exists()


def mark_bounced(rows: Iterable[Message], error: str) -> None:
    for row in rows:
        row.status = OutboxStatus.BOUNCED
        row.last_error = error[:2000]
        row.save()


def mark_failed(row_id: int, error: str) -> Message:
    """Refused for good: counted as a try, never sent again."""
    row = Message.get_by_id(row_id)
    row.status = OutboxStatus.FAILED
    row.attempts += 1
    row.last_error = error[:2000]
    row.save()
    return row


# --- intake failures and settings ---------------------------------------------------------------------------------

def note_failure(mailbox: str, uidvalidity: int, uid: int, error: str, now: datetime, count: bool = True) -> int:
    """Count an attempt at a mailbox message (or only note its error); return the attempts so far."""
    with database.atomic():
        row, _ = InboundFailure.get_or_create(mailbox=mailbox, uidvalidity=uidvalidity, uid=uid,
                                              defaults={"updated_at": now})
        if count:
            row.attempts += 1
        row.last_error = error[:4000]
        row.updated_at = now
        row.save()
        return row.attempts


def _round_robin_key(mailbox: str) -> str:
    return _ROUND_ROBIN if mailbox == "default" else f"{_ROUND_ROBIN}:{mailbox}"  # each mailbox its own turn


def round_robin_cursor(mailbox: str = "default") -> int:
    stored = Setting.get_or_none(Setting.key == _round_robin_key(mailbox))
    return int(stored.value) if stored else 0


def store_round_robin_cursor(cursor: int, mailbox: str = "default") -> None:
    (Setting.insert(key=_round_robin_key(mailbox), value=str(cursor))
     .on_conflict(conflict_target=[Setting.key], update={Setting.value: str(cursor)}).execute())


def staff_secret() -> str:
    """The generated key behind staff reply tokens and envelope addresses: made once, then kept."""
    with database.atomic():
        row = Setting.get_or_none(Setting.key == _STAFF_SECRET)
        if row is None:
            Setting.insert(key=_STAFF_SECRET, value=secrets.token_hex(32)).on_conflict_ignore().execute()
            row = Setting.get(Setting.key == _STAFF_SECRET)
    return row.value

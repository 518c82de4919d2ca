"""A customer's data: everything held about one address, handed over on request, erased on request, or let go
with age (``[retention]``).

One address is matched exactly, in any letter case, never as a part of another (``maria@example.net`` is not
``amaria@example.net``). A customer's cases are those opened by them; they may also be a participant on another
customer's case (they wrote to it, or were written to). What is theirs is what they wrote and what was sent to
them: another customer's words on the same case stay out of an export and stay put at an erasure, except that
their address and name are struck from them.

An erasure keeps the case rows with their times, counts, rating scores and root causes, so the report's figures
stay true, and never threads mail to an erased case again: the customer who writes afterwards opens a fresh
case. A record of each erasure says when, by whom and how much, and nothing of what was erased.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from peewee import PostgresqlDatabase, SqliteDatabase, fn

from ..cases.states import CaseStatus, Direction, OutboxStatus, TimerState
from ..mail.quoting import new_text
from .models import (AttachmentFile, Case, CaseEvent, Erasure, Message, PlanStep, RawMessage, Timer, database)
from .repository import erased_fingerprint
from .views import staff_notes

ERASED_MARK = "[erased]"  # what an address or a name becomes in another customer's words
#: Outgoing emails to the address that an erasure cancels before anything else (one being sent is waited for).
CANCELLABLE = (OutboxStatus.PENDING, OutboxStatus.HELD, OutboxStatus.FAILED)


def normal(address: str) -> str:
    return address.strip().lower()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value is not None else None


def address_pattern(addr: str, flags=re.IGNORECASE) -> re.Pattern:
    """The address as a whole word: never the tail of ``amaria@...`` or the head of ``...@example.network``."""
    return re.compile(r"(?<![\w.%+-])" + re.escape(addr) + r"(?!\.?[\w-])", flags)


def _involving(addr: str):
    """Messages from the address, to it as the recipient, or with it among their To/Cc addresses."""
    return ((fn.LOWER(Message.from_address) == addr) | (fn.LOWER(Message.recipient) == addr)
            | fn.LOWER(Message.to).contains(f'"{addr}"'))


def _theirs(m: Message, addr: str) -> bool:
    """Written by them, or sent to them (not another customer's message that merely names them)."""
    if m.direction == Direction.IN:
        return (m.from_address or "").lower() == addr
    return (m.recipient or "").lower() == addr or addr in [str(t).lower() for t in (m.to or [])]


def _own_cases(addr: str, erased: bool = False):
    query = Case.select().where(fn.LOWER(Case.customer_address) == addr)
    return query.where(Case.erased_at.is_null(not erased))


# --- export -----------------------------------------------------------------------------------------------------

def export(address: str, now: datetime, include_internal: bool = False) -> dict:
    """Everything Aftercare holds of the address, as one JSON-ready document. Attachments and original messages
    are listed with the keys ``attachments_bytes`` and ``originals`` (sha256 -> bytes, name -> bytes) for a
    caller that writes them out beside it."""
    addr = normal(address)
    own = {c.id for c in _own_cases(addr)}
    involved = {m.case_id for m in Message.select(Message.case).where(_involving(addr) & Message.case.is_null(False))}
    cases, files, originals = [], {}, {}
    for case in Case.select().where(Case.id.in_(sorted(own | involved)) & Case.erased_at.is_null()).order_by(Case.id):
        messages = list(Message.select().where(Message.case == case.id).order_by(Message.id))
        theirs = [m for m in messages if _theirs(m, addr)]
        if case.id not in own and not theirs:
            continue
        entry = {"id": case.id, "role": "customer" if case.id in own else "participant", "status": case.status,
                 "created_at": _iso(case.created_at), "resolved_at": _iso(case.resolved_at),
                 "closed_at": _iso(case.closed_at)}
        if case.id in own:
            entry.update({
                "customer_name": case.customer_name, "subject": case.subject, "owner": case.owner,
                "language": case.language,
                "plan": [{"number": p.number, "text": p.text, "due_at": _iso(p.due_at), "done_at": _iso(p.done_at)}
                         for p in PlanStep.select().where(PlanStep.case == case.id).order_by(PlanStep.number)],
                "rating": ({"score": case.rating_score, "comment": case.rating_comment, "at": _iso(case.rated_at)}
                           if case.rating_score is not None else None),
                "discount_code": case.discount_code or None, "apology_sent": case.apology_sent,
            })
            if include_internal:
                entry["internal_notes"] = staff_notes(messages)
        entry["messages"] = [_message(m, files, originals) for m in theirs]
        cases.append(entry)
    unfiled = [_message(m, files, originals) for m in
               Message.select().where(Message.case.is_null() & _involving(addr)).order_by(Message.id)
               if _theirs(m, addr)]
    return {"address": addr, "exported_at": _iso(now), "include_internal": include_internal,
            "cases": cases, "messages_without_case": unfiled,
            "attachments_bytes": files, "originals": originals}


def _message(m: Message, files: dict, originals: dict) -> dict:
    d = {"id": m.id, "direction": m.direction, "kind": m.kind, "time": _iso(m.created_at), "from": m.from_address,
         "to": list(m.to or []), "subject": m.subject, "text": m.text, "attachments": []}
    if m.direction == Direction.OUT:
        d.update(status=m.status, sent_at=_iso(m.sent_at))
        if m.raw:
            originals[f"message-{m.id}.eml"] = m.raw.encode("utf-8", "surrogateescape")
            d["original"] = f"originals/message-{m.id}.eml"
    for raw in RawMessage.select().where(RawMessage.message == m.id):
        originals[f"message-{m.id}.eml"] = bytes(raw.data)
        d["original"] = f"originals/message-{m.id}.eml"
    for a in m.attachments or []:
        item = {"filename": a.get("filename") or "(unnamed)", "content_type": a.get("content_type", ""),
                "size": a.get("size", 0), "sha256": a.get("sha256")}
        if a.get("sha256"):
            stored = AttachmentFile.get_or_none(AttachmentFile.sha256 == a["sha256"])
            if stored is not None:
                files[a["sha256"]] = bytes(stored.data)
                item["file"] = f"attachments/{a['sha256'][:12]}-{_safe(item['filename'])}"
        d["attachments"].append(item)
    return d


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:80] or "file"


# --- erasure ----------------------------------------------------------------------------------------------------

@dataclass
class ErasurePlan:
    """What an erasure of ``address`` finds now: shown before it asks, and what it then erases."""

    address: str
    cases: list[int] = field(default_factory=list)  # opened by them
    messages: list[int] = field(default_factory=list)  # on those cases, and theirs on other cases
    mentions: list[int] = field(default_factory=list)  # other messages naming them: struck out
    raw_messages: list[int] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)  # outgoing to them, to be cancelled first
    sending: list[int] = field(default_factory=list)  # being sent now: waited for
    names: list[str] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)  # received ones: their copies in the mailbox folders

    def summary(self) -> dict:
        return {"cases": len(self.cases), "messages": len(self.messages), "mentions": len(self.mentions),
                "raw_messages": len(self.raw_messages), "pending_emails": len(self.pending),
                "emails_being_sent": len(self.sending)}


def plan_erasure(address: str) -> ErasurePlan:
    addr = normal(address)
    plan = ErasurePlan(addr)
    owned = list(_own_cases(addr))
    plan.cases = [c.id for c in owned]
    plan.names = sorted({c.customer_name.strip() for c in owned if len(c.customer_name.strip()) >= 3})
    on_cases = list(Message.select().where(Message.case.in_(plan.cases))) if plan.cases else []
    elsewhere = [m for m in Message.select().where(_involving(addr) & (Message.case.is_null()
                                                                      | Message.case.not_in(plan.cases or [0])))]
    mine = on_cases + [m for m in elsewhere if _theirs(m, addr)]
    # What they wrote on another's case was forwarded to staff, maybe quoted: those emails carry their words.
    for m in [m for m in mine if m.direction == Direction.IN and m.case_id not in plan.cases]:
        words = " ".join(new_text(m.text or "").split())[:60]
        if len(words) >= 12:
            mine += [q for q in Message.select().where((Message.case == m.case_id) & (Message.id != m.id))
                     if words.lower() in " ".join((q.text or "").split()).lower()]
    plan.messages = sorted({m.id for m in mine})
    # Another's words that name them: by address, or by their name (a forward of a complaint that Cc'd them).
    named = Message.id.not_in(plan.messages or [0])
    strike = _striker(addr, plan.names)
    for needle in [addr] + [n.lower() for n in plan.names]:
        found = (fn.LOWER(Message.text).contains(needle) | fn.LOWER(Message.subject).contains(needle)
                 | fn.LOWER(fn.COALESCE(Message.raw, "")).contains(needle))
        # The database's LIKE finds "maria@..." inside "amaria@...": only a whole-word match counts.
        elsewhere += [m for m in Message.select().where(named & found)
                      if any(strike(v) != v for v in (m.text or "", m.subject or "", m.raw or ""))]
    plan.mentions = sorted({m.id for m in elsewhere if m.id not in set(plan.messages)})
    plan.message_ids = sorted({m.message_id for m in mine if m.direction == Direction.IN and m.message_id})
    plan.pending = sorted(m.id for m in mine if m.direction == Direction.OUT and m.status in CANCELLABLE)
    plan.sending = sorted(m.id for m in mine if m.direction == Direction.OUT and m.status == OutboxStatus.SENDING)
    linked = [r.id for r in RawMessage.select(RawMessage.id).where(RawMessage.message.in_(plan.messages or [0]))]
    exact = re.compile(address_pattern(addr).pattern.encode(), re.IGNORECASE)
    loose = [r.id for r in RawMessage.select(RawMessage.id, RawMessage.data).where(RawMessage.message.is_null())
             if exact.search(bytes(r.data))]
    plan.raw_messages = sorted(set(linked) | set(loose))
    return plan


def cancel_pending(plan: ErasurePlan) -> int:
    """Outgoing emails to the customer that have not gone: never sent now. Before anything else is erased."""
    if not plan.pending:
        return 0
    with database.atomic():
        return (Message.update(status=OutboxStatus.CANCELLED, claimed_by=None, claim_until=None)
                .where(Message.id.in_(plan.pending) & Message.status.in_(list(CANCELLABLE))).execute())


def still_sending(ids: list[int]) -> int:
    if not ids:
        return 0
    return Message.select().where(Message.id.in_(ids) & (Message.status == OutboxStatus.SENDING)).count()


def _hidden(fingerprint: str | None) -> str | None:
    return erased_fingerprint(fingerprint) if fingerprint else fingerprint


def erase(plan: ErasurePlan, now: datetime) -> dict:
    """Erase what ``plan`` found, in one transaction; return how many rows of each kind were changed."""
    counts = {"cases": 0, "messages": 0, "mentions": 0, "raw_messages": 0, "attachments": 0, "timers": 0}
    with database.atomic():
        if isinstance(database.obj, SqliteDatabase):
            database.execute_sql("PRAGMA secure_delete = ON")  # freed pages are zeroed, not left holding the text
        shas: set[str] = set()
        for m in Message.select().where(Message.id.in_(plan.messages or [0])):
            shas.update(a["sha256"] for a in (m.attachments or []) if a.get("sha256"))
            (Message.update(subject="", text="", raw=None, attachments=[], from_address="", to=[], recipient="",
                            note="", last_error="", tone_signals=[],
                            message_id=m.message_id if m.direction == Direction.OUT else None,
                            fingerprint=_hidden(m.fingerprint))
             .where(Message.id == m.id).execute())
            counts["messages"] += 1
        strike = _striker(plan.address, plan.names)
        for m in Message.select().where(Message.id.in_(plan.mentions or [0])):
            (Message.update(subject=strike(m.subject), text=strike(m.text), raw=strike(m.raw) if m.raw else m.raw,
                            to=[t for t in (m.to or []) if str(t).lower() != plan.address],
                            from_address=strike(m.from_address), note=strike(m.note))
             .where(Message.id == m.id).execute())
            counts["mentions"] += 1
        counts["raw_messages"] = RawMessage.delete().where(RawMessage.id.in_(plan.raw_messages or [0])).execute()
        if plan.cases:
            counts["cases"] = (Case.update(customer_address="", customer_name="", subject="", rating_comment="",
                                           erased_at=now, updated_at=now)
                               .where(Case.id.in_(plan.cases) & Case.erased_at.is_null()).execute())
            PlanStep.update(text="").where(PlanStep.case.in_(plan.cases)).execute()
            CaseEvent.update(detail="").where(CaseEvent.case.in_(plan.cases)).execute()
            counts["timers"] = (Timer.update(state=TimerState.CANCELLED)
                                .where(Timer.case.in_(plan.cases) & (Timer.state == TimerState.WAITING)).execute())
        counts["attachments"] = _drop_unreferenced(shas)
    return counts


def record(counts: dict, folder_messages: int, now: datetime, actor: str) -> Erasure:
    return Erasure.create(erased_at=now, actor=actor[:200], cases=counts.get("cases", 0),
                          messages=counts.get("messages", 0) + counts.get("mentions", 0),
                          attachments=counts.get("attachments", 0), raw_messages=counts.get("raw_messages", 0),
                          folder_messages=folder_messages)


def _striker(addr: str, names: list[str]):
    patterns = [address_pattern(addr)]
    patterns += [re.compile(r"\b" + re.escape(n) + r"\b", re.IGNORECASE) for n in names]

    def strike(text: str | None) -> str:
        for p in patterns:
            text = p.sub(ERASED_MARK, text or "")
        return text
    return strike


def _drop_unreferenced(shas: set[str]) -> int:
    """Attachment bytes that no message lists any more."""
    gone = 0
    for sha in shas:
        if not Message.select().where(fn.LOWER(Message.attachments).contains(sha)).exists():
            gone += AttachmentFile.delete().where(AttachmentFile.sha256 == sha).execute()
    return gone


def compact() -> None:
    """Leave no erased byte in the database's files: SQLite rewrites itself (free pages gone) and empties its
    write-ahead log; PostgreSQL vacuums the tables that held it (dead row versions reclaimed)."""
    db = database.obj
    if isinstance(db, SqliteDatabase):
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute_sql("VACUUM")
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    elif isinstance(db, PostgresqlDatabase):
        for table in ("message", "case", "raw_message", "attachment_file", "plan_step", "case_event"):
            db.execute_sql(f'VACUUM "{table}"')


# --- retention --------------------------------------------------------------------------------------------------

RETENTION_BATCH = 200  # rows per transaction: the database is never held for long


def prune(now: datetime, bodies_after: timedelta | None, cases_after: timedelta | None,
          batch: int = RETENTION_BATCH) -> dict:
    """Closed cases past their time: texts, attachments and raw originals removed (``bodies_after``), whole cases
    deleted (``cases_after``). Idempotent; each batch its own short transaction. Returns what was removed."""
    removed = {"messages": 0, "raw_messages": 0, "attachments": 0, "cases": 0}
    if bodies_after is not None:
        cutoff = now - bodies_after
        while True:
            with database.atomic():
                query = (Message.select(Message.id, Message.attachments).join(Case, on=(Message.case == Case.id))
                         .where((Case.status == CaseStatus.CLOSED) & (Case.closed_at < cutoff)
                                & ((Message.text != "") | Message.raw.is_null(False)
                                   | (fn.LENGTH(Message.attachments) > 2) | (fn.LENGTH(Message.tone_signals) > 2))
                                & (Message.status.is_null() | (Message.status != OutboxStatus.SENDING)))
                         .limit(batch))
                if isinstance(database.obj, PostgresqlDatabase):
                    query = query.for_update(of=Message, skip_locked=True)
                rows = list(query)
                if not rows:
                    break
                ids = [r.id for r in rows]
                shas = {a["sha256"] for r in rows for a in (r.attachments or []) if a.get("sha256")}
                Message.update(text="", raw=None, attachments=[], tone_signals=[]).where(Message.id.in_(ids)).execute()
                removed["raw_messages"] += RawMessage.delete().where(RawMessage.message.in_(ids)).execute()
                removed["attachments"] += _drop_unreferenced(shas)
                removed["messages"] += len(ids)
    if cases_after is not None:
        cutoff = now - cases_after
        while True:
            with database.atomic():
                ids = [c.id for c in Case.select(Case.id).where((Case.status == CaseStatus.CLOSED)
                                                                  & (Case.closed_at < cutoff)).limit(batch)]
                if not ids:
                    break
                shas = {a["sha256"] for m in Message.select(Message.attachments).where(Message.case.in_(ids))
                        for a in (m.attachments or []) if a.get("sha256")}
                removed["cases"] += Case.delete().where(Case.id.in_(ids)).execute()
                removed["attachments"] += _drop_unreferenced(shas)
    return removed

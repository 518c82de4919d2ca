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
from . import files
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
    cases, held, originals = [], {}, {}
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
        entry["messages"] = [_message(m, held, originals) for m in theirs]
        cases.append(entry)
    unfiled = [_message(m, held, originals) for m in
               Message.select().where(Message.case.is_null() & _involving(addr)).order_by(Message.id)
               if _theirs(m, addr)]
    return {"address": addr, "exported_at": _iso(now), "include_internal": include_internal,
            "cases": cases, "messages_without_case": unfiled,
            "attachments_bytes": held, "originals": originals}


def _message(m: Message, held: dict, originals: dict) -> dict:
    d = {"id": m.id, "direction": m.direction, "kind": m.kind, "time": _iso(m.created_at), "from": m.from_address,
         "to": list(m.to or []), "subject": m.subject, "text": m.text, "attachments": []}
    if m.direction == Direction.OUT:
        d.update(status=m.status, sent_at=_iso(m.sent_at))
        if m.raw:  # as it was sent: with its files written in (store/files.py), when they are still held
            try:
                originals[f"message-{m.id}.eml"] = files.expand(m.raw.encode("utf-8", "surrogateescape"))
            except files.MissingFile:
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
                held[a["sha256"]] = bytes(stored.data)
                item["file"] = f"attachments/{a['sha256'][:12]}-{_safe(item['filename'])}"
        d["attachments"].append(item)
    return d


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:80] or "file"


# --- erasure ----------------------------------------------------------------------------------------------------

class ErasureRefused(RuntimeError):
    """Nothing was erased, and why (an email to them being sent at this moment, a log that could not be emptied)."""


def valid_address(address: str) -> str | None:
    """The address as erased and exported (lower case), or None when it is not one address: an empty or blank
    argument would otherwise match every row."""
    addr = normal(address)
    local, at, domain = addr.rpartition("@")
    if not at or not local or not domain or "@" in local or any(c.isspace() or c in "<>,;\"" for c in addr):
        return None
    return addr


@dataclass
class ErasurePlan:
    """What an erasure of ``address`` finds now: shown before it asks, and what it then erases."""

    address: str
    cases: list[int] = field(default_factory=list)  # opened by them
    messages: list[int] = field(default_factory=list)  # on those cases, and theirs on other cases
    mentions: list[int] = field(default_factory=list)  # other people's messages naming them: struck out
    raw_messages: list[int] = field(default_factory=list)  # LMTP originals of their messages, or loose ones of theirs
    mention_raws: list[int] = field(default_factory=list)  # LMTP originals of mentions: struck out
    pending: list[int] = field(default_factory=list)  # outgoing to them, to be cancelled first
    sending: list[int] = field(default_factory=list)  # being sent now: waited for
    names: list[str] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)  # received ones: their copies in the mailbox folders

    def summary(self) -> dict:
        return {"cases": len(self.cases), "messages": len(self.messages), "mentions": len(self.mentions),
                "raw_messages": len(self.raw_messages), "pending_emails": len(self.pending),
                "emails_being_sent": len(self.sending)}

    @property
    def empty(self) -> bool:
        return not (self.cases or self.messages or self.mentions or self.raw_messages or self.mention_raws)


#: Emails to staff that carry a customer's words from another customer's case (what they wrote there).
_CARRIERS = ("forward", "notification", "urgent_notice")


def plan_erasure(address: str) -> ErasurePlan:
    addr = normal(address)
    plan = ErasurePlan(addr)
    owned = list(_own_cases(addr))
    plan.cases = [c.id for c in owned]
    plan.names = sorted({c.customer_name.strip() for c in owned if len(c.customer_name.strip()) >= 3})
    on_cases = list(Message.select().where(Message.case.in_(plan.cases))) if plan.cases else []
    # Not on their cases: anything involving them, erased cases included (mail that reached an erased case while
    # it was being erased is found by the next run).
    elsewhere = list(Message.select().where(_involving(addr) & (Message.case.is_null()
                                                                | Message.case.not_in(plan.cases or [0]))))
    mine = on_cases + [m for m in elsewhere if _theirs(m, addr)]
    # What they wrote on another's case went on to staff in a forward made with it (the same transaction, so the
    # same time): that email carries their words.
    for m in [m for m in mine if m.direction == Direction.IN and m.case_id not in plan.cases and m.case_id]:
        words = " ".join(new_text(m.text or "").split())[:80].lower()
        if words:
            mine += [q for q in Message.select().where(
                (Message.case == m.case_id) & (Message.direction == Direction.OUT) & Message.kind.in_(_CARRIERS)
                & (Message.created_at == m.created_at))
                if words in " ".join((q.text or "").split()).lower()]
    plan.messages = sorted({m.id for m in mine})
    taken = set(plan.messages)
    # Other people's messages that name them by address (the database's LIKE finds "maria@" inside "amaria@":
    # only a whole-word match counts); their name is struck only there and on the same cases, never alone.
    strike = _striker(addr, [])
    found = (fn.LOWER(Message.text).contains(addr) | fn.LOWER(Message.subject).contains(addr)
             | fn.LOWER(fn.COALESCE(Message.raw, "")).contains(addr) | fn.LOWER(Message.note).contains(addr)
             | fn.LOWER(Message.last_error).contains(addr) | fn.LOWER(Message.from_address).contains(addr))
    mentions = [m for m in Message.select().where(found & Message.id.not_in(list(taken) or [0]))
                if any(strike(v) != v for v in (m.text, m.subject, m.raw or "", m.note, m.last_error,
                                                 m.from_address))]
    mentions += [m for m in elsewhere if m.id not in taken]
    if plan.names:
        # A full name (two words or more) is theirs wherever it is written; a single word ("Maria", "Kettle") is
        # struck only on the cases where they are named by address, where it means them.
        near = {m.case_id for m in mentions if m.case_id}
        by_name = _striker("", plan.names)
        where = Message.case.in_(list(near) or [0])
        for full in [n for n in plan.names if len(n.split()) > 1]:
            where = where | fn.LOWER(Message.text).contains(full.lower()) | \
                fn.LOWER(Message.subject).contains(full.lower()) | \
                fn.LOWER(fn.COALESCE(Message.raw, "")).contains(full.lower())
        mentions += [m for m in Message.select().where(where & Message.id.not_in(list(taken) or [0]))
                     if (m.case_id in near and any(by_name(v) != v for v in (m.text, m.subject, m.raw or "")))
                     or any(_striker("", [n for n in plan.names if len(n.split()) > 1])(v) != v
                            for v in (m.text, m.subject, m.raw or ""))]
    plan.mentions = sorted({m.id for m in mentions})
    plan.message_ids = sorted({m.message_id for m in mine if m.direction == Direction.IN and m.message_id})
    plan.pending = sorted(m.id for m in mine if m.direction == Direction.OUT and m.status in CANCELLABLE)
    plan.sending = sorted(m.id for m in mine if m.direction == Direction.OUT and m.status == OutboxStatus.SENDING)
    linked = [r.id for r in RawMessage.select(RawMessage.id).where(RawMessage.message.in_(plan.messages or [0]))]
    exact = re.compile(address_pattern(addr).pattern.encode(), re.IGNORECASE)
    loose = [r.id for r in RawMessage.select(RawMessage.id, RawMessage.data).where(RawMessage.message.is_null())
             if exact.search(bytes(r.data))]
    plan.raw_messages = sorted(set(linked) | set(loose))
    plan.mention_raws = sorted(r.id for r in RawMessage.select(RawMessage.id)
                               .where(RawMessage.message.in_(plan.mentions or [0])))
    return plan


def _hidden(fingerprint: str | None) -> str | None:
    return erased_fingerprint(fingerprint) if fingerprint else fingerprint


#: An outgoing email's status after its words are gone: one not yet sent can never be sent now.
_FINAL = (OutboxStatus.SENT, OutboxStatus.BOUNCED, OutboxStatus.CANCELLED)


def erase(address: str, now: datetime, actor: str) -> tuple[ErasurePlan, dict]:
    """Find and erase, in one transaction (what arrives meanwhile waits for it, or is found by the next run), and
    record the erasure in it; return the plan it worked from and how many rows of each kind were changed.

    Raises ``ErasureRefused`` when an email to them is being sent at this moment: nothing is changed then.
    """
    counts = {"cases": 0, "messages": 0, "mentions": 0, "raw_messages": 0, "attachments": 0, "timers": 0}
    with database.atomic():
        if isinstance(database.obj, SqliteDatabase):
            database.execute_sql("PRAGMA secure_delete = ON")  # freed pages are zeroed, not left holding the text
        else:  # a concurrent intake cannot add a message to their cases until this commits
            list(Case.select(Case.id).where(fn.LOWER(Case.customer_address) == normal(address)).for_update())
        plan = plan_erasure(address)
        if plan.sending:
            raise ErasureRefused(f"{len(plan.sending)} email(s) to them are being sent at this moment")
        shas: set[str] = set()
        for m in Message.select().where(Message.id.in_(plan.messages or [0])):
            shas.update(a["sha256"] for a in (m.attachments or []) if a.get("sha256"))
            status = m.status if m.status is None or m.status in _FINAL else OutboxStatus.CANCELLED
            (Message.update(subject="", text="", raw=None, attachments=[], from_address="", to=[], recipient="",
                            note="", last_error="", tone_signals=[], status=status, claimed_by=None,
                            message_id=m.message_id if m.direction == Direction.OUT else None,
                            fingerprint=_hidden(m.fingerprint))
             .where(Message.id == m.id).execute())
            counts["messages"] += 1
        strike = _striker(plan.address, plan.names)
        for m in Message.select().where(Message.id.in_(plan.mentions or [0])):
            # A sent email's stored bytes are quoted-printable (a name split or encoded is not found in them):
            # once sent they are needed no more, so they go; one still to send keeps them, struck out.
            raw = None if m.direction == Direction.OUT and m.status in _FINAL else (strike(m.raw) if m.raw else m.raw)
            (Message.update(subject=strike(m.subject), text=strike(m.text), raw=raw,
                            to=[t for t in (m.to or []) if str(t).lower() != plan.address],
                            from_address=strike(m.from_address), note=strike(m.note), last_error=strike(m.last_error),
                            recipient=strike(m.recipient))
             .where(Message.id == m.id).execute())
            counts["mentions"] += 1
        counts["raw_messages"] = RawMessage.delete().where(RawMessage.id.in_(plan.raw_messages or [0])).execute()
        struck = byte_striker(plan.address, plan.names)
        for r in RawMessage.select().where(RawMessage.id.in_(plan.mention_raws or [0])):
            RawMessage.update(data=struck(bytes(r.data))).where(RawMessage.id == r.id).execute()
        if plan.cases:
            counts["cases"] = (Case.update(customer_address="", customer_name="", subject="", rating_comment="",
                                           erased_at=now, updated_at=now)
                               .where(Case.id.in_(plan.cases) & Case.erased_at.is_null()).execute())
            PlanStep.update(text="").where(PlanStep.case.in_(plan.cases)).execute()
            CaseEvent.update(detail="").where(CaseEvent.case.in_(plan.cases)).execute()
            counts["timers"] = (Timer.update(state=TimerState.CANCELLED)
                                .where(Timer.case.in_(plan.cases) & (Timer.state == TimerState.WAITING)).execute())
        _strike_elsewhere(plan.address, strike)
        counts["attachments"] = _drop_unreferenced(shas)
        if not plan.empty:
            Erasure.create(erased_at=now, actor=actor[:200], cases=counts["cases"],
                           messages=counts["messages"] + counts["mentions"], attachments=counts["attachments"],
                           raw_messages=counts["raw_messages"] + len(plan.mention_raws), folder_messages=0)
    return plan, counts


def note_folders(folder_messages: int) -> None:
    """Add what was deleted from the mailbox folders to the latest erasure's record."""
    latest = Erasure.select().order_by(Erasure.id.desc()).first()
    if latest is not None and folder_messages:
        Erasure.update(folder_messages=Erasure.folder_messages + folder_messages).where(
            Erasure.id == latest.id).execute()


def _strike_elsewhere(addr: str, strike) -> None:
    """Other rows that may quote the address: other cases' subjects and plan steps, operators' notes on cases,
    the failure notes of intake and of the service's parts (an SMTP server's reply names its recipient)."""
    from .models import ComponentState, InboundFailure

    for model, column in ((Case, Case.subject), (PlanStep, PlanStep.text), (CaseEvent, CaseEvent.detail),
                          (InboundFailure, InboundFailure.last_error), (ComponentState, ComponentState.error)):
        for row in model.select().where(fn.LOWER(column).contains(addr)):
            value = getattr(row, column.name)
            if strike(value) != value:
                model.update({column: strike(value)}).where(model._meta.primary_key == row._pk).execute()


def _striker(addr: str, names: list[str]):
    patterns = [address_pattern(addr)] if addr else []
    patterns += [re.compile(r"\b" + re.escape(n) + r"\b", re.IGNORECASE) for n in names]

    def strike(text: str | None) -> str:
        for p in patterns:
            text = p.sub(ERASED_MARK, text or "")
        return text
    return strike


def byte_striker(addr: str, names: list[str]):
    patterns = [re.compile(address_pattern(addr).pattern.encode(), re.IGNORECASE)]
    patterns += [re.compile(rb"\b" + re.escape(n.encode()) + rb"\b", re.IGNORECASE) for n in names]

    def strike(data: bytes) -> bytes:
        for p in patterns:
            data = p.sub(ERASED_MARK.encode(), data)
        return data
    return strike


def _drop_unreferenced(shas: set[str]) -> int:
    """Attachment bytes that no message lists any more."""
    gone = 0
    for sha in shas:
        if not Message.select().where(fn.LOWER(Message.attachments).contains(sha)).exists():
            gone += AttachmentFile.delete().where(AttachmentFile.sha256 == sha).execute()
    return gone


CHECKPOINT_TRIES = 50  # 10 s: the daemon's readers let go of old snapshots between their short transactions


def compact() -> None:
    """Leave no erased byte in the database's files: SQLite rewrites itself (free pages gone) and empties its
    write-ahead log; PostgreSQL vacuums the tables that held it (dead row versions reclaimed). Raises
    ``ErasureRefused`` when SQLite's log cannot be emptied (a reader held on): the data is erased, but its old
    pages may still sit in the log until the next checkpoint; running the command again finishes it."""
    db = database.obj
    if isinstance(db, SqliteDatabase):
        _checkpoint(db)
        db.execute_sql("VACUUM")
        _checkpoint(db)
    elif isinstance(db, PostgresqlDatabase):
        for table in ("message", "case", "raw_message", "attachment_file", "plan_step", "case_event",
                      "inbound_failure", "component_state"):
            db.execute_sql(f'VACUUM "{table}"')


def _checkpoint(db) -> None:
    import time

    for _ in range(CHECKPOINT_TRIES):
        busy, _, _ = db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if not busy:
            return
        time.sleep(0.2)
    raise ErasureRefused("SQLite's write-ahead log could not be emptied (a reader held on for 10 s); the data is "
                         "erased, but its old pages may stay in the log until the next checkpoint: run the command "
                         "again")


# --- retention --------------------------------------------------------------------------------------------------

RETENTION_BATCH = 200  # rows per transaction: the database is never held for long


def prune(now: datetime, bodies_after: timedelta | None, cases_after: timedelta | None,
          batch: int = RETENTION_BATCH) -> dict:
    """Closed cases past their time: texts, attachments and raw originals removed (``bodies_after``), whole cases
    deleted (``cases_after``). Idempotent; each batch its own short transaction. Returns what was removed.

    An outgoing email not sent, cancelled or bounced keeps its bytes (it may still be retried)."""
    removed = {"messages": 0, "raw_messages": 0, "attachments": 0, "cases": 0}
    if bodies_after is not None:
        cutoff = now - bodies_after
        while True:
            with database.atomic():
                query = (Message.select(Message.id, Message.attachments).join(Case, on=(Message.case == Case.id))
                         .where((Case.status == CaseStatus.CLOSED) & (Case.closed_at < cutoff)
                                & ((Message.text != "") | Message.raw.is_null(False)
                                   | (fn.LENGTH(Message.attachments) > 2) | (fn.LENGTH(Message.tone_signals) > 2))
                                & (Message.status.is_null() | Message.status.in_(list(_FINAL))))
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
        with database.atomic():  # set aside by the LMTP intake (no case): kept as long as a closed case's
            removed["raw_messages"] += RawMessage.delete().where(RawMessage.message.is_null()
                                                                 & (RawMessage.received_at < cutoff)).execute()
    if cases_after is not None:
        cutoff = now - cases_after
        old = (Case.status == CaseStatus.CLOSED) & (Case.closed_at < cutoff)
        while True:
            with database.atomic():
                query = Case.select(Case.id).where(old).limit(batch)
                if isinstance(database.obj, PostgresqlDatabase):
                    query = query.for_update(skip_locked=True)
                ids = [c.id for c in query]
                if not ids:
                    break
                shas = {a["sha256"] for m in Message.select(Message.attachments).where(Message.case.in_(ids))
                        for a in (m.attachments or []) if a.get("sha256")}
                # The conditions again: a case reopened since it was selected stays.
                removed["cases"] += Case.delete().where(Case.id.in_(ids) & old).execute()
                removed["attachments"] += _drop_unreferenced(shas)
    return removed

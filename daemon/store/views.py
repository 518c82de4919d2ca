"""Cases as plain dicts for the command line and JSON output."""
from __future__ import annotations

from datetime import datetime, timedelta

from peewee import fn

from ..cases.commands import CommandError, parse_reply
from ..cases.states import CaseStatus, Direction, MessageKind
from ..mail.quoting import new_text
from . import files
from .models import Case, CaseEvent, Message, PlanStep, Timer


def _iso(value):
    return value.isoformat() + "Z" if value is not None else None


def case_summaries(status: str | None = None, mailbox: str | None = None, owner: str | None = None,
                   older_than: timedelta | None = None, overdue: bool = False,
                   now: datetime | None = None, priority: str | None = None) -> list[dict]:
    """Every case, or those matching every filter given: urgent ones first, then oldest first.

    ``owner`` matches in any letter case; ``older_than`` keeps cases opened longer than that before ``now``;
    ``overdue`` keeps open cases whose first response is past due and not given, reopened ones whose answer
    is past due (``answer_due_at``), or with a plan step past due and not done. ``now`` (naive UTC) is required by the last two: time is the caller's. Given ``now``,
    each row says whether its case is ``overdue``.
    """
    if (older_than is not None or overdue) and now is None:
        raise ValueError("older_than and overdue need now")
    q = Case.select().order_by(Case.priority != "urgent", Case.id)
    if priority:
        q = q.where(Case.priority == priority)
    if status:
        q = q.where(Case.status == status)
    if mailbox:
        q = q.where(Case.mailbox == mailbox)
    if owner:
        q = q.where(fn.LOWER(Case.owner) == owner.strip().lower())
    if older_than is not None:
        q = q.where(Case.created_at < now - older_than)
    if overdue:
        late_step = (PlanStep.select(PlanStep.id)
                     .where((PlanStep.case == Case.id) & PlanStep.done_at.is_null() & (PlanStep.due_at < now)))
        q = q.where((Case.status == CaseStatus.OPEN.value)
                    & ((Case.first_response_at.is_null() & (Case.first_response_due_at < now))
                       | fn.EXISTS(late_step) | (Case.answer_due_at < now)))
    rows = list(q)
    late_steps = set()
    if now is not None and rows:
        late_steps = {s.case_id for s in PlanStep.select(PlanStep.case).distinct().where(
            PlanStep.done_at.is_null() & (PlanStep.due_at < now))}
    out = []
    for c in rows:
        row = {"id": c.id, "status": c.status, "mailbox": c.mailbox, "customer": c.customer_address,
               "customer_name": c.customer_name, "subject": c.subject, "owner": c.owner,
               "priority": c.priority, "language": c.language,
               "created_at": _iso(c.created_at), "updated_at": _iso(c.updated_at)}
        if now is not None:
            row["overdue"] = c.status == CaseStatus.OPEN and (
                c.id in late_steps or (c.answer_due_at is not None and c.answer_due_at < now)
                or (c.first_response_at is None and c.first_response_due_at is not None
                                       and c.first_response_due_at < now))
        out.append(row)
    return out


def message_dict(m: Message) -> dict:
    d = {"direction": m.direction, "kind": m.kind, "from": m.from_address, "to": m.to, "subject": m.subject,
         "message_id": m.message_id, "time": _iso(m.created_at)}
    if m.direction == "out":
        d.update(status=m.status, attempts=m.attempts, sent_at=_iso(m.sent_at), last_error=m.last_error or None)
        if m.attachments:
            d.update(attachments=m.attachments)
    else:
        d.update(attachments=m.attachments, note=m.note or None, tone=m.tone or None,
                 tone_signals=list(m.tone_signals or []))
    return d


def staff_notes(messages: list[Message]) -> list[dict]:
    """What staff wrote for the team only: each ``#note`` text, and the words of an ``#internal`` reply.

    Read again from the stored replies with the parser that applied them (the ``note`` column folds them
    into one line with the filing reason); a refused reply applied nothing, so it has no notes.
    """
    out = []
    for m in messages:
        if m.direction != Direction.IN or m.kind != MessageKind.STAFF or (m.note or "").startswith("refused"):
            continue
        try:
            parsed = parse_reply(new_text(m.text or ""))
        except CommandError:
            continue
        base = {"time": _iso(m.created_at), "from": m.from_address}
        out += [{**base, "internal": False, "text": c.text} for c in parsed.commands if c.name == "note"]
        if parsed.internal and parsed.body.strip():
            out.append({**base, "internal": True, "text": parsed.body.strip()})
    return out


def case_detail(case_id: int) -> dict | None:
    c = Case.get_or_none(Case.id == case_id)
    if c is None:
        return None
    messages = list(Message.select().where(Message.case == c.id).order_by(Message.id))
    outbox: dict[str, int] = {}
    for m in messages:
        if m.direction == "out":
            outbox[m.status] = outbox.get(m.status, 0) + 1
    return {
        "id": c.id, "status": c.status, "mailbox": c.mailbox,
        **({"mailbox_address": c.mailbox_address} if c.mailbox_address else {}), "customer": c.customer_address,
        "customer_name": c.customer_name, "subject": c.subject, "owner": c.owner,
        "language": c.language, "priority": c.priority,
        "created_at": _iso(c.created_at), "updated_at": _iso(c.updated_at),
        "first_response_due_at": _iso(c.first_response_due_at), "first_response_at": _iso(c.first_response_at),
        "resolved_at": _iso(c.resolved_at), "closed_at": _iso(c.closed_at),
        "messages": [message_dict(m) for m in messages],
        "notes": staff_notes(messages),
        "plan": [{"number": p.number, "text": p.text, "due_at": _iso(p.due_at), "done_at": _iso(p.done_at)}
                 for p in PlanStep.select().where(PlanStep.case == c.id).order_by(PlanStep.number)],
        "cause": c.cause or None,
        "extra": c.extra or None,
        "reopened_count": c.reopened_count,
        "timers": [{"kind": t.kind, "due_at": _iso(t.due_at), "state": t.state}
                   for t in Timer.select().where(Timer.case == c.id).order_by(Timer.due_at)],
        "rating": ({"score": c.rating_score, "comment": c.rating_comment, "at": _iso(c.rated_at)}
                   if c.rating_score is not None else None),
        "checkin_sent_at": _iso(c.checkin_sent_at),
        "discount_code": c.discount_code or None,
        "apology_sent": c.apology_sent,
        "outbox": outbox,
        "events": [{"time": _iso(e.created_at), "actor": e.actor, "action": e.action, "detail": e.detail or None}
                   for e in CaseEvent.select().where(CaseEvent.case == c.id).order_by(CaseEvent.created_at,
                                                                                       CaseEvent.id)],
    }


def case_attachments(case_id: int) -> list[dict] | None:
    """Every file the case's messages carried, received and sent, oldest first; ``stored`` says whether its
    bytes are in the database (``cases attachments N --save DIR`` writes those out). None: no such case."""
    if Case.get_or_none(Case.id == case_id) is None:
        return None
    out = []
    for m in Message.select().where(Message.case == case_id).order_by(Message.id):
        for a in m.attachments or []:
            out.append({"message": m.id, "direction": m.direction, "kind": m.kind, "time": _iso(m.created_at),
                        "from": m.from_address, "to": m.to, "filename": a.get("filename") or "(unnamed)",
                        "content_type": a.get("content_type", ""), "size": a.get("size", 0),
                        "sha256": a.get("sha256"), "inline": bool(a.get("inline")),
                        "inside_forwarded_message": bool(a.get("nested"))})
    held = files.stored(e["sha256"] for e in out if e["sha256"])
    for e in out:
        e["stored"] = e["sha256"] in held
    return out

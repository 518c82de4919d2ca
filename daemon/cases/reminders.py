"""One timer pass, one email per person: reminders and escalations gathered into digests.

Pure: the emails the plan rules decided for the timers of one pass go in, with
the case each is about; the emails to store come out. After an outage a pass
can find dozens of overdue steps at once, and staff should get one email
listing them, not dozens in a second. So, per pass:

* the reminders (a step due soon, or overdue) to one person become one email,
  and so do the escalations (no answer in time to a new or a reopened case,
  a step long overdue);
* one item alone keeps its own email exactly as when nothing is gathered
  (same template, same thread, its case's reply address);
* several become a digest (``staff/reminder_digest``, ``staff/escalation_digest``)
  listing each case's reference, customer, subject, step and due date, so staff
  can find each case in their mailbox by its tag;
* everything else passes through unchanged, in order.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Sequence

from .lifecycle import AUTO_GENERATED, Outgoing, Policy
from .states import MessageKind, TimerKind

# Which emails are gathered, and the digest each family becomes.
FAMILIES = {MessageKind.REMINDER: (MessageKind.REMINDER_DIGEST, "staff/reminder_digest"),
            MessageKind.ESCALATION: (MessageKind.ESCALATION_DIGEST, "staff/escalation_digest")}


@dataclass(frozen=True)
class Decided:
    """An email a timer of this pass decided, and the case it is about (None: not about one case)."""

    case_id: int | None
    email: Outgoing


ReplyAddress = Callable[[int, str], "str | None"]


def gather(decided: Sequence[Decided], now: datetime, policy: Policy,
           reply_address: ReplyAddress = lambda case_id, to: None) -> list[Decided]:
    """The emails to store for one pass: one reminder email and one escalation email per recipient.

    ``reply_address(case_id, recipient)`` is the address at which that recipient acts on that case (their
    personal reply address), or None; a digest lists it under each case, since a reply to the digest itself
    names no case."""
    groups: dict[tuple[str, str], list[Decided]] = {}
    order: list[tuple[str, str] | int] = []
    for i, d in enumerate(decided):
        if d.email.kind in FAMILIES:
            key = (d.email.kind, d.email.to.lower())
            if key not in groups:
                groups[key] = []
                order.append(key)
            groups[key].append(d)
        else:
            order.append(i)
    out: list[Decided] = []
    for entry in order:
        if isinstance(entry, int):
            out.append(decided[entry])
            continue
        members = groups[entry]
        out.append(members[0] if len(members) == 1
                   else Decided(None, digest(entry[0], members, now, policy, reply_address)))
    return out


def digest(family: str, members: Sequence[Decided], now: datetime, policy: Policy,
           reply_address: ReplyAddress = lambda case_id, to: None) -> Outgoing:
    """One email to one person listing every reminder (or escalation) of the pass, soonest due first."""
    kind, template = FAMILIES[family]
    first = members[0].email
    items = sorted(({**item(d.email.context), "reply_to": reply_address(d.email.context["case"]["id"], first.to)}
                    for d in members),
                   key=lambda i: (i["due_at"] is None, i["due_at"] or now, i["case"]["id"],
                                  i["step"]["number"] if i["step"] else 0))
    ctx: dict[str, Any] = {
        "items": items,
        "cases": len({i["case"]["id"] for i in items}),
        "overdue": sum(1 for i in items if i["overdue"]),
        "recipient": {"name": first.to_name, "first_name": (first.to_name.split() or [first.to])[0],
                      "address": first.to},
        "support": {"name": policy.support_name or "Support", "address": policy.support_address},
        "now": now,
    }
    # Not threaded into any one case, and no [Case #N] tag in the subject: a reply to a digest names no case.
    return Outgoing(kind, template, first.to, first.to_name, ctx, AUTO_GENERATED, "none")


def item(ctx: dict[str, Any]) -> dict[str, Any]:
    """One line of a digest, from the context of the email it replaces."""
    step = ctx.get("step")
    reason = ctx["reason"]
    reopen = ctx.get("reopen")
    due = step["due_at"] if step else reopen["due_at"] if reopen else ctx["case"].get("first_response_due_at")
    return {
        "reason": reason,  # step_reminder, step_overdue, step_escalation, first_response, reopened_*
        "reopen": reopen,  # why a reopened case is open again (plan.reopen_context), else None
        "case": {k: ctx["case"][k] for k in ("id", "ref", "subject")},
        "customer": {"name": ctx["customer"]["name"], "address": ctx["customer"]["address"]},
        "owner": {"name": ctx["owner"]["name"], "address": ctx["owner"]["address"]},
        "step": {"number": step["number"], "text": step["text"], "due_at": step["due_at"]} if step else None,
        "due_at": due,
        "overdue": reason != TimerKind.STEP_REMINDER,
    }

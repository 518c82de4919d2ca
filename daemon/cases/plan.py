"""The remedy plan: a staff reply's commands applied to a case, and the timers that keep promises.

Pure: the case, its steps, the parsed reply and ``now`` in; a ``StaffOutcome``
out (new steps, status and owner changes, emails, timers to set and cancel).
Nothing is applied when any command is wrong: the staff member is told which
line and why instead. Nothing of a reply is dropped silently either: the words
reach the customer whatever the case's status, and whatever cannot go (no
customer address, attachments, a closed case's automatic emails) is named in
an answer to the sender (``staff/not_relayed``); only ``#internal`` is kept
back without one, as asked.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any, Sequence
from zoneinfo import ZoneInfo

from ..addresses import writable_address
from ..inbound import Attachment, InboundMail
from .calendar import BusinessHours
from .commands import CommandError, ParsedReply, parse_reply, resolve_when
from .lifecycle import AUTO_GENERATED, Outgoing, Policy, context, message_context, person_name
from .routing import CaseView
from .states import CaseStatus, MessageKind, TimerKind

# The timers of a reopened case's owed answer, one kind per reason it reopened (states.TimerKind).
REOPEN_TIMERS = (TimerKind.REOPENED_LOW_RATING, TimerKind.REOPENED_NOT_FIXED, TimerKind.REOPENED_BY_STAFF)
REOPEN_REASONS = {TimerKind.REOPENED_LOW_RATING: "low_rating", TimerKind.REOPENED_NOT_FIXED: "not_fixed",
                  TimerKind.REOPENED_BY_STAFF: "staff"}


@dataclass(frozen=True)
class StepView:
    number: int
    text: str
    due_at: datetime
    done_at: datetime | None = None

    def as_dict(self, now: datetime | None = None) -> dict[str, Any]:
        return {"number": self.number, "text": self.text, "due_at": self.due_at, "done_at": self.done_at,
                "done": self.done_at is not None,
                "overdue": self.done_at is None and now is not None and self.due_at < now}


@dataclass(frozen=True)
class TimerSpec:
    kind: TimerKind
    due_at: datetime
    step_number: int | None = None


@dataclass
class StaffOutcome:
    error: CommandError | None = None
    new_steps: list[StepView] = field(default_factory=list)
    done: list[int] = field(default_factory=list)
    status: CaseStatus | None = None
    owner: str | None = None
    notes: list[str] = field(default_factory=list)
    cause: str | None = None
    extra: str | None = None
    language: str | None = None  # #language: later emails to the customer in it (ISO 639-1)
    first_response_at: datetime | None = None
    emails: list[Outgoing] = field(default_factory=list)
    timers: list[TimerSpec] = field(default_factory=list)
    cancel_steps: list[int] = field(default_factory=list)  # their timers
    cancel_first_response: bool = False
    answered: bool = False  # something of the reply reached the customer: it keeps a reopened case's promise too
    relayed: bool = False  # the staff member's words went to the customer
    reopened: bool = False
    # What of the reply did not reach the customer, and why: {"item": message | attachments | plan | progress |
    # handover | resolved, "reason": no_address | unsafe_address | closed | blocked_type | too_large | no_words, and for
    # attachments "files": their names}; the sender is told.
    withheld: list[dict[str, str]] = field(default_factory=list)


def working(moment: datetime, hours: BusinessHours | None) -> datetime:
    return hours.next_working_moment(moment) if hours else moment


def step_timers(step: StepView, now: datetime, policy: Policy) -> list[TimerSpec]:
    """Remind before the step falls due, again when overdue, escalate after a grace period."""
    hours = policy.business_hours
    out = []
    remind = step.due_at - policy.step_reminder_before
    if remind > now:
        out.append(TimerSpec(TimerKind.STEP_REMINDER, working(remind, hours), step.number))
    out.append(TimerSpec(TimerKind.STEP_OVERDUE, working(step.due_at, hours), step.number))
    out.append(TimerSpec(TimerKind.STEP_ESCALATION, working(step.due_at + policy.overdue_escalation_after, hours),
                         step.number))
    return out


def first_response_timer(case: CaseView, policy: Policy) -> TimerSpec | None:
    if case.first_response_due_at is None:
        return None
    return TimerSpec(TimerKind.FIRST_RESPONSE, working(case.first_response_due_at, policy.business_hours))


def plan_context(steps: Sequence[StepView], now: datetime) -> list[dict[str, Any]]:
    return [s.as_dict(now) for s in sorted(steps, key=lambda s: s.number)]


def work_reply(case: CaseView, steps: Sequence[StepView], parsed: ParsedReply, mail: InboundMail, now: datetime,
               policy: Policy, history: Sequence[dict[str, Any]] = (),
               own_files: Sequence[Attachment] = ()) -> StaffOutcome:
    """Apply a verified staff reply: its commands, then its text relayed to the customer with its files.

    ``history`` (time, who, text of the case's messages) goes to a new owner on #owner. ``own_files``: the
    files the reply itself carries (``attachments.staff_files``: not its signature logo, not the quoted
    history's pictures).
    """
    sender = (mail.from_address or case.owner).lower()
    try:
        return _apply(case, list(steps), parsed, mail, sender, now, policy, history, tuple(own_files))
    except CommandError as exc:
        return command_error(case, exc, mail, now, policy)


def command_error(case: CaseView, error: CommandError, mail: InboundMail, now: datetime,
                  policy: Policy) -> StaffOutcome:
    """Nothing applied, nothing relayed: the staff member learns which line failed and why."""
    sender = (mail.from_address or case.owner).lower()
    ctx = context(case, policy, now, error={"line_number": error.line_number, "line": error.line,
                                            "reason": error.reason},
                  staff={"name": person_name(sender, policy.staff_names), "address": sender},
                  message=message_context(mail))
    return StaffOutcome(error=error, emails=[Outgoing(MessageKind.COMMAND_ERROR, "staff/command_error", sender,
                                                     person_name(sender, policy.staff_names), ctx,
                                                     AUTO_GENERATED, "staff")])


def _apply(case: CaseView, steps: list[StepView], parsed: ParsedReply, mail: InboundMail, sender: str,
           now: datetime, policy: Policy, history: Sequence[dict[str, Any]],
           own_files: tuple[Attachment, ...] = ()) -> StaffOutcome:
    out = StaffOutcome()
    by_number = {s.number: s for s in steps}
    status = case.status
    tz = ZoneInfo(policy.timezone)
    # A bare date means the end of that working day.
    end_of_day = policy.business_hours.end if policy.business_hours else time(17, 0)
    next_number = max(by_number, default=0) + 1
    for cmd in parsed.commands:
        if cmd.name == "plan":
            if status == CaseStatus.CLOSED:
                raise CommandError(cmd.line_number, cmd.line, "the case is closed; #reopen it first")
            due = resolve_when(cmd.when, now, tz, end_of_day)
            if due <= now:
                raise CommandError(cmd.line_number, cmd.line, "that date is already past")
            step = StepView(next_number, cmd.text, due)
            next_number += 1
            out.new_steps.append(step)
            by_number[step.number] = step
            if status == CaseStatus.RESOLVED:
                status = CaseStatus.OPEN  # a new promise reopens a resolved case
        elif cmd.name == "done":
            for n in cmd.steps:
                step = by_number.get(n)
                if step is None:
                    known = ", ".join(str(k) for k in sorted(by_number)) or "none yet"
                    raise CommandError(cmd.line_number, cmd.line, f"there is no step {n} (steps: {known})")
                if step.done_at is not None or n in out.done:
                    raise CommandError(cmd.line_number, cmd.line, f"step {n} is already done")
                out.done.append(n)
        elif cmd.name == "resolve":
            if status != CaseStatus.OPEN:
                raise CommandError(cmd.line_number, cmd.line, f"the case is already {status}")
            status = CaseStatus.RESOLVED
        elif cmd.name == "close":
            if status == CaseStatus.CLOSED:
                raise CommandError(cmd.line_number, cmd.line, "the case is already closed")
            status = CaseStatus.CLOSED
        elif cmd.name == "reopen":
            if status == CaseStatus.OPEN:
                raise CommandError(cmd.line_number, cmd.line, "the case is already open")
            status = CaseStatus.OPEN
        elif cmd.name == "owner":
            if cmd.text not in policy.staff_addresses:
                raise CommandError(cmd.line_number, cmd.line,
                                   f"{cmd.text} is not a staff address (staff: {', '.join(policy.staff_addresses)})")
            if cmd.text == (out.owner or case.owner):
                raise CommandError(cmd.line_number, cmd.line, f"{cmd.text} already owns the case")
            out.owner = cmd.text
        elif cmd.name == "note":
            out.notes.append(cmd.text)
        elif cmd.name == "cause":
            out.cause = cmd.text
        elif cmd.name == "extra":
            out.extra = cmd.text
        elif cmd.name == "language":
            if cmd.text == (out.language or case.language):
                raise CommandError(cmd.line_number, cmd.line, f"the case's language is already {cmd.text!r}")
            out.language = cmd.text
    # Marking the last open step done resolves the case.
    open_after = [s for s in by_number.values() if s.done_at is None and s.number not in out.done]
    if out.done and not open_after and status == CaseStatus.OPEN:
        status = CaseStatus.RESOLVED
    if status != case.status:
        out.status = status
    out.reopened = case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED) and status == CaseStatus.OPEN
    out.cancel_steps = list(out.done)
    for step in out.new_steps:
        out.timers.extend(step_timers(step, now, policy))

    owner = out.owner or case.owner
    view = CaseView(**{**case.__dict__, "owner": owner, "status": status, "language": out.language or case.language})
    all_steps = [StepView(s.number, s.text, s.due_at, now if s.number in out.done else s.done_at)
                 for s in by_number.values()]
    plan = plan_context(all_steps, now)
    author = {"name": person_name(sender, policy.staff_names), "address": sender}
    base = dict(plan=plan, author=author, new_steps=[s.number for s in out.new_steps], done_now=list(out.done))

    # What this reply would send the customer: the staff member's own words, and the automatic emails that
    # describe its commands (the plan in writing, progress, the handover, "resolved").
    # Files go with the words: a reply of commands only ("#note supplier invoice attached") keeps its files
    # with staff. Executable types and what passes the size budget stay with the staff member, who is told.
    selection = policy.select_files(own_files)
    relay = (Outgoing(MessageKind.RELAY, "customer/staff_reply", case.customer_address, case.customer_name,
                      context(view, policy, now, message=message_context(mail, parsed.body, selection), **base),
                      None, "customer", selection.sent)
             if parsed.body.strip() else None)
    automatic: list[Outgoing] = []
    if out.new_steps:
        automatic.append(Outgoing(MessageKind.PLAN, "customer/plan", case.customer_address, case.customer_name,
                                  context(view, policy, now, **base), AUTO_GENERATED, "customer"))
    if out.done:
        automatic.append(Outgoing(MessageKind.PROGRESS, "customer/progress", case.customer_address, case.customer_name,
                                  context(view, policy, now, all_done=not open_after, **base),
                                  AUTO_GENERATED, "customer"))
    if out.owner:
        automatic.append(Outgoing(MessageKind.HANDOVER, "customer/handover", case.customer_address, case.customer_name,
                                  context(view, policy, now, previous_owner={
                                      "name": person_name(case.owner, policy.staff_names),
                                      "address": case.owner}, **base), AUTO_GENERATED, "customer"))
    all_done_by_this_reply = bool(out.done) and not open_after
    if out.status == CaseStatus.RESOLVED and not all_done_by_this_reply:
        automatic.append(Outgoing(MessageKind.RESOLVED, "customer/resolved", case.customer_address, case.customer_name,
                                  context(view, policy, now, **base), AUTO_GENERATED, "customer"))

    # #internal keeps the whole reply from the customer: an explicit request, so it needs no answer. Otherwise
    # the words go to the customer whatever the case's status (relaying changes no status); a closed case
    # (spam, duplicates, a rated case) gets no automatic emails. Whatever does not go, the sender is told.
    if not parsed.internal:
        blocked = customer_unreachable(case.customer_address)
        if relay is not None:
            if blocked:
                out.withheld.append({"item": "message", "reason": blocked})
            else:
                out.relayed = True
                out.emails.append(relay)
        for email in automatic:
            if blocked or status == CaseStatus.CLOSED:
                out.withheld.append({"item": email.kind, "reason": blocked or "closed"})
            else:
                out.emails.append(email)
        if relay is None and selection.sent and not blocked:
            out.withheld.append({"item": "attachments", "reason": "no_words",
                                 "files": [f.filename or "(unnamed)" for f in selection.sent]})
        for reason in ("blocked_type", "too_large"):
            left = [x.file for x in selection.left_out if x.reason == reason]
            if left and not blocked:
                out.withheld.append({"item": "attachments", "reason": reason,
                                     "files": [f.filename or "(unnamed)" for f in left]})
        if blocked and own_files:
            out.withheld.append({"item": "attachments", "reason": blocked,
                                 "files": [f.filename or "(unnamed)" for f in own_files]})
    # Whatever staff sent the customer (words, a plan, progress) keeps the promise of an answer: the first
    # one (stamped once, for the report) and a reopened case's.
    out.answered = any(e.to == case.customer_address for e in out.emails)
    if case.first_response_at is None and out.answered:
        out.first_response_at = now
        out.cancel_first_response = True
    if out.owner:
        out.emails.append(Outgoing(MessageKind.HANDOVER_STAFF, "staff/handover", owner,
                                   person_name(owner, policy.staff_names),
                                   context(view, policy, now, previous_owner={
                                       "name": person_name(case.owner, policy.staff_names), "address": case.owner},
                                       history=list(history), **base), AUTO_GENERATED, "staff"))
    if any(c.name == "status" for c in parsed.commands):
        out.emails.append(Outgoing(MessageKind.STATUS, "staff/status", sender, author["name"],
                                   context(view, policy, now, notes=out.notes, **base), AUTO_GENERATED, "staff"))
    if out.withheld:
        out.emails.append(Outgoing(MessageKind.NOT_RELAYED, "staff/not_relayed", sender, author["name"],
                                   context(view, policy, now, staff=author, relayed=out.relayed, limit=policy.max_attachments_size,
                                           withheld=list(out.withheld),
                                           commands=[c.line for c in parsed.commands],
                                           message=message_context(mail, parsed.body)),
                                   AUTO_GENERATED, "staff"))
    return out


def customer_unreachable(address: str) -> str | None:
    """Why no email can go to the case's customer, or None: ``no_address``, or ``unsafe_address`` for one
    that cannot be written safely into a header (the outbox would refuse it)."""
    if not address:
        return "no_address"
    if not writable_address(address):
        return "unsafe_address"
    return None


@dataclass(frozen=True)
class Reopening:
    """What is known of why a case is open again, beyond the reason its timer's kind names."""

    due_at: datetime | None = None  # when the answer was due: its timer's time (a working moment)
    rating_score: int | None = None  # the low rating: the case's own, kept until the next check-in
    rating_comment: str = ""
    # The case's conversation (time, who, text: its new text only), oldest first: the customer's latest words
    # and who typed #reopen are read from it.
    history: Sequence[dict[str, Any]] = ()


def reopen_context(kind: TimerKind, case: CaseView, reopening: Reopening, policy: Policy) -> dict[str, Any]:
    """``reopen`` as the escalation templates see it: why the case is open again, in the words of whoever
    reopened it, so that the email does not read like a brand-new case.

    reason: low_rating (``rating``: score and comment), not_fixed (``words``: the customer's latest message)
    or staff (``by``: who typed #reopen, None when no reply of theirs says so, as for a new step on a
    resolved case); due_at: when the answer was due; count: how many times the case has been reopened."""
    reason = REOPEN_REASONS[kind]
    rating = ({"score": reopening.rating_score, "comment": reopening.rating_comment}
              if reason == "low_rating" and reopening.rating_score is not None else None)
    words = ""
    if reason == "not_fixed":
        words = next((h["text"] for h in reversed(reopening.history)
                      if h["who"].lower() == case.customer_address and h["text"].strip()), "")
    by = None
    if reason == "staff":
        who = next((h["who"].lower() for h in reversed(reopening.history)
                    if h["who"].lower() in policy.staff_addresses and _says_reopen(h["text"])), "")
        by = {"name": person_name(who, policy.staff_names), "address": who} if who else None
    return {"reason": reason, "due_at": reopening.due_at, "count": case.reopened_count, "rating": rating,
            "words": words, "by": by}


def _says_reopen(text: str) -> bool:
    try:
        return any(c.name == "reopen" for c in parse_reply(text).commands)
    except CommandError:
        return False  # refused, so it reopened nothing


def on_timer(kind: TimerKind, case: CaseView, step: StepView | None, steps: Sequence[StepView], now: datetime,
             policy: Policy, reopening: Reopening = Reopening()) -> list[Outgoing]:
    """A timer fell due: remind or escalate, unless the promise was already kept. ``reopening``: what is known
    of why the case is open again, for a reopened case's timer."""
    if case.status != CaseStatus.OPEN:
        return []
    plan = plan_context(steps, now)
    owner_name = person_name(case.owner, policy.staff_names)
    if kind == TimerKind.FIRST_RESPONSE or kind in REOPEN_TIMERS:
        # A reopened case's timer is cancelled by the answer (and by a resolve or close): due, it is unanswered.
        if kind == TimerKind.FIRST_RESPONSE and case.first_response_at is not None:
            return []
        reopen = reopen_context(kind, case, reopening, policy) if kind in REOPEN_TIMERS else None
        ctx = context(case, policy, now, plan=plan, reason=kind, step=None, reopen=reopen)
        return [Outgoing(MessageKind.ESCALATION, "staff/escalation", a, person_name(a, policy.staff_names), ctx,
                         AUTO_GENERATED, "staff") for a in _with_owner(policy.escalation_to, case.owner)]
    if step is None or step.done_at is not None:
        return []
    if kind == TimerKind.STEP_REMINDER and now >= step.due_at:
        return []  # fired late (the daemon was down): the overdue reminder says it better
    ctx = context(case, policy, now, plan=plan, step=step.as_dict(now), reason=kind, reopen=None)
    if kind in (TimerKind.STEP_REMINDER, TimerKind.STEP_OVERDUE):
        return [Outgoing(MessageKind.REMINDER, "staff/reminder", case.owner, owner_name, ctx, AUTO_GENERATED, "staff")]
    if kind == TimerKind.STEP_ESCALATION:
        return [Outgoing(MessageKind.ESCALATION, "staff/escalation", a, person_name(a, policy.staff_names), ctx,
                         AUTO_GENERATED, "staff") for a in _with_owner(policy.escalation_to, case.owner)]
    return []


def _with_owner(addresses: Sequence[str], owner: str) -> list[str]:
    """Escalations go to the escalation addresses and the owner, each once."""
    out = list(dict.fromkeys(addresses))
    if owner not in out:
        out.append(owner)
    return out


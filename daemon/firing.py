"""Due timers fire: reminders, escalations and the aftercare, in one transaction per pass.

All or nothing: a process that dies mid-pass leaves every timer of the pass
waiting and no email stored, and the next pass does it again. Each timer is
claimed with a conditional update (still waiting) whose row count is checked,
and on PostgreSQL the due rows are selected FOR UPDATE SKIP LOCKED, so that no
timer ever fires twice, even with two processes on one database. The
reminders and escalations of a pass are gathered into one email per person
(cases/reminders.py). The loop that runs the passes is timers.py.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import structlog

from .cases import aftercare, plan, reminders, transitions
from .cases.states import TimerKind
from .mail.quoting import new_text
from .store import repository
from .store.models import Case, database
from .store.repository import case_view

if TYPE_CHECKING:
    from .casework import Casework

log = structlog.get_logger("aftercare.firing")


def fire_due(work: Casework, now: datetime, limit: int = 100) -> int:
    """Fire the timers due by ``now`` (up to ``limit``) with every email they cause; return how many fired."""
    if not repository.any_timer_due(now):
        return 0  # the usual pass: no write transaction at all
    fired = 0
    with database.atomic():
        decided: list[reminders.Decided] = []
        cases: dict[int, Case] = {}
        for timer_id in repository.due_timer_ids(now, limit):
            timer = repository.due_timer(timer_id, now)
            if timer is None:
                continue
            allowed = aftercare.send_time(timer.kind, now, work.aftercare.send_window)
            if allowed > now:  # outside the send window: wait for it
                repository.move_timer(timer.id, allowed)
                continue
            if not repository.claim_timer(timer.id, now):
                continue  # someone else fired (or cancelled) it
            fired += 1
            case = cases.get(timer.case_id) or repository.load_case(timer.case_id)
            cases[case.id] = case
            if timer.kind in aftercare.AFTERCARE_TIMERS:
                sent = _fire_aftercare(work, TimerKind(timer.kind), case, now)
                log.info("timer fired", case_id=case.id, kind=timer.kind, emails=sent)
                continue
            steps = repository.plan_steps(case.id)
            number = repository.step_number(timer.step_id)
            step = next((s for s in steps if number is not None and s.number == number), None)
            reopening = _reopening(case, timer.due_at) if timer.kind in plan.REOPEN_TIMERS else plan.Reopening()
            emails = plan.on_timer(timer.kind, case_view(case), step, steps, now, work.policy_for(case), reopening)
            decided += [reminders.Decided(case.id, e) for e in emails]
            log.info("timer fired", case_id=case.id, kind=timer.kind, step=step.number if step else None,
                     emails=len(emails))
        gathered = reminders.gather(decided, now, work.policy, reply_address=work.mailer.reply_address)
        for d in gathered:
            work.enqueue(d.email, cases[d.case_id] if d.case_id is not None else None, now)
        if len(gathered) < len(decided):
            log.info("reminders and escalations gathered", emails=len(decided), sent_as=len(gathered),
                     digests=sum(1 for d in gathered if d.case_id is None))
    return fired


def _reopening(case: Case, due_at: datetime) -> plan.Reopening:
    """What the escalation of a reopened case tells of why it reopened: its rating, its conversation (the new
    text of each message, as the rules read it when it came in); and when the answer was due."""
    history = [{**h, "text": new_text(h["text"])} for h in repository.history(case)]
    return plan.Reopening(due_at, case.rating_score, case.rating_comment, history)


def _fire_aftercare(work: Casework, kind: TimerKind, case: Case, now: datetime) -> int:
    """A follow-up, a check-in, or the close of an unanswered check-in; return the emails stored."""
    view = case_view(case)
    if kind == TimerKind.FOLLOWUP:
        queued = work.enqueue_all(aftercare.on_followup(view, now, work.policy_for(case)), case, now)
        # After an outage the check-in may be overdue too: it keeps its configured gap behind the follow-up.
        for checkin in repository.waiting_timers(case, TimerKind.CHECKIN):
            later = aftercare.checkin_after_followup(now, checkin.due_at, work.aftercare)
            if later is not None:
                repository.move_timer(checkin.id, later)
                log.info("check-in moved to keep its gap behind the follow-up", case_id=case.id,
                         due_at=later.isoformat())
        return queued
    if kind == TimerKind.CHECKIN:
        if not aftercare.checkin_due(view):
            return 0
        code, pool_empty = work.discount_for(case, "checkin", now)
        apology = aftercare.wants("apology", "checkin", case.extra, work.aftercare.extras)
        emails = aftercare.on_checkin(view, now, work.policy_for(case), discount_code=code,
                                      discount_value=work.aftercare.extras.discount_value,
                                      apology=apology, pool_empty=pool_empty)
        repository.apply_change(case, transitions.checkin_sent(apology, now, work.aftercare))
        return work.enqueue_all(emails, case, now)
    change = transitions.checkin_unanswered(view, now)  # TimerKind.CHECKIN_CLOSE
    if change is not None:
        repository.apply_change(case, change)
        log.info("no rating within satisfaction.close_after: case closed", case_id=case.id)
    return 0

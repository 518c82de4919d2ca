"""Where a case changes: an event, the case rules' decision, one transaction.

This is the seam between the pure rules (``cases/``) and storage: it looks up
what the rules need, asks them, and applies their answer, case rows and
outgoing emails together, so that either all of it is recorded or none.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import structlog
from peewee import PostgresqlDatabase, fn

from .cases import aftercare, lifecycle, plan, reminders
from .cases.ratings import DEFAULT_WORDS
from .cases.commands import CommandError, ParsedReply, parse_reply
from .cases.verification import bounced_row, recipients, reply_address, verify_staff
from .cases.lifecycle import Outgoing, Policy
from .cases.routing import CaseView, Route, case_tag, route
from .config import Config
from .mail.automatic import automatic_reason, is_bounce_sender
from .mail.compose import compose, new_message_id, shorten_subject, writable_address
from .mail.inbound import InboundMail
from .mail.quoting import new_text
from .store import discounts, outbox
from .store.models import Case, InboundFailure, Message, PlanStep, Setting, Timer, database
from .store.prepared import Prepared, PreparedInsert, param
from .templates import Templates

log = structlog.get_logger("aftercare.casework")

QUARANTINE_AFTER_FAILURES = 3


@dataclass(frozen=True)
class InboundOutcome:
    route: str
    case_id: int | None
    duplicate: bool
    outgoing: int  # emails put in the outbox


def policy_from(config: Config) -> Policy:
    return Policy(
        first_response_due=config.schedule.first_response_due,
        support_name=config.smtp.from_name,
        support_address=config.smtp.from_addr_spec,
        staff_names=dict(config.staff.names),
        default_owner=config.staff.default_owner,
        staff_addresses=config.staff.addresses,
        escalation=config.staff.escalation,
        step_reminder_before=config.schedule.step_reminder_before,
        overdue_escalation_after=config.schedule.overdue_escalation_after,
        timezone=config.schedule.timezone,
        business_hours=config.schedule.business_hours,
    )


def aftercare_policy_from(config: Config) -> aftercare.AftercarePolicy:
    d, a = config.extras.discount, config.extras.apology
    return aftercare.AftercarePolicy(
        followup_after=config.schedule.followup_after,
        checkin_after=config.schedule.checkin_after,
        close_after=config.satisfaction.close_after,
        reopen_at_or_below=config.satisfaction.reopen_at_or_below,
        send_window=config.schedule.send_window,
        extras=aftercare.Extras(discount_enabled=d.enabled, discount_when=d.when, discount_value=d.value,
                                apology_enabled=a.enabled, apology_when=a.when),
    )


# The statements every incoming message runs, compiled once (see store/prepared.py for why).
_INSERT_CASE = PreparedInsert(Case, ("status", "customer_address", "customer_name", "subject", "owner",
                                     "created_at", "updated_at", "first_response_due_at"))
_INSERT_MESSAGE = PreparedInsert(Message, ("case", "direction", "kind", "message_id", "fingerprint", "from_address",
                                           "to", "recipient", "subject", "text", "attachments", "note",
                                           "created_at", "status", "raw", "automated", "next_attempt_at",
                                           "last_error"))
_INSERT_TIMER = PreparedInsert(Timer, ("case", "kind", "step", "due_at"))
_SEEN = Prepared(lambda: Message.select(Message.id, Message.kind).where(Message.fingerprint == param("fp")).limit(1))
_SENDERS = Prepared(lambda: Message.select(fn.DISTINCT(Message.from_address))
                    .where((Message.case == param("case")) & (Message.direction == "in")))
_CUSTOMER_THREAD = Prepared(lambda: Message.select(Message.message_id, Message.direction)
                            .where((Message.case == param("case")) & Message.message_id.is_null(False)
                                   & (((Message.direction == "in") & (Message.kind == "customer"))
                                      | ((Message.direction == "out") & (Message.recipient == param("customer")))))
                            .order_by(Message.id))
_STAFF_THREAD_ROOT = Prepared(lambda: Message.select(Message.message_id)
                              .where((Message.case == param("case")) & (Message.direction == "out")
                                     & (Message.kind == "notification"))
                              .order_by(Message.id).limit(1))


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
    )


class Casework:
    def __init__(self, config: Config, templates: Templates):
        self._secret: bytes | None = None
        self.configure(config, templates)

    def configure(self, config: Config, templates: Templates) -> None:
        """Take a (re)loaded configuration and templates."""
        self.config = config
        self.templates = templates
        self.policy = policy_from(config)
        self.aftercare = aftercare_policy_from(config)
        self.rating_words = {**DEFAULT_WORDS, **dict(config.satisfaction.words)}
        self.loop_marker = config.smtp.from_addr_spec

    def secret(self) -> bytes:
        """The key behind staff reply tokens: staff.secret_file, else generated once and kept in the database."""
        if self._secret is None:
            if self.config.staff.secret_file is not None:
                self._secret = self.config.staff.secret_file.read_bytes().strip()
            else:
                with database.atomic():
                    row = Setting.get_or_none(Setting.key == "staff_secret")
                    if row is None:
                        (Setting.insert(key="staff_secret", value=secrets.token_hex(32))
                         .on_conflict_ignore().execute())
                        row = Setting.get(Setting.key == "staff_secret")
                self._secret = row.value.encode()
        return self._secret

    # --- inbound ------------------------------------------------------------

    def already_recorded(self, fingerprint: str) -> bool:
        """Whether this email was recorded before (a quarantined one may be tried again)."""
        return (Message.select().where((Message.fingerprint == fingerprint) & (Message.kind != "quarantined"))
                .exists())

    def handle_inbound(self, mail: InboundMail, now: datetime) -> InboundOutcome:
        """Record one received email and everything it causes, in one transaction."""
        with database.atomic():
            seen = _SEEN.first(fp=mail.fingerprint)
            if seen is not None and seen[1] != "quarantined":
                return InboundOutcome("duplicate", None, True, 0)
            if seen is not None:
                # An operator moved a quarantined message back: try it afresh, keep the old record.
                Message.update(fingerprint=None).where(Message.id == seen[0]).execute()
            reason = automatic_reason(mail, own_addresses={self.config.smtp.from_addr_spec},
                                      loop_marker=self.loop_marker)
            envelope_row = self._envelope_row(mail)
            if envelope_row is not None and (mail.delivery_report is not None or is_bounce_sender(mail)):
                # Came back to the envelope of one outbox row: that exact email bounced.
                case = Case.get_or_none(Case.id == envelope_row.case_id) if envelope_row.case_id else None
                case_id, queued = self._on_bounce(mail, case_view(case) if case else None, now,
                                                  "delivery report to the email's own envelope address",
                                                  rows=[envelope_row])
                return InboundOutcome(Route.BOUNCE.value, case_id, False, queued)
            report_ids = mail.delivery_report.original_message_ids if mail.delivery_report else ()
            threaded = self._case_answered(tuple(report_ids) + mail.thread_ids)
            if envelope_row is not None and envelope_row.case_id and threaded is None:
                # An auto-reply to the envelope (vacation notices do that): it belongs to that email's case.
                threaded = Case.get_or_none(Case.id == envelope_row.case_id)
            sender = (mail.from_address or "").lower()
            verdict = None
            if sender in self.config.staff.addresses:
                verdict = verify_staff(mail, methods=self.config.staff.verify, secret=self.secret(),
                                       authserv_id=self.config.staff.authserv_id)
                if verdict.token_case and (threaded is None or not verdict.verified):
                    threaded = Case.get_or_none(Case.id == verdict.token_case) or threaded
            tag = case_tag(mail.subject)
            tagged_row = Case.get_or_none(Case.id == tag) if tag else None
            decision = route(
                mail, automatic=reason,
                threaded=case_view(threaded) if threaded else None,
                tagged=case_view(tagged_row) if tagged_row else None,
                staff=self.config.staff.addresses,
            )
            if decision.route in (Route.STAFF_REPLY, Route.STAFF_UNMATCHED) and verdict is not None:
                if decision.case is not None:
                    verdict = verify_staff(mail, methods=self.config.staff.verify, secret=self.secret(),
                                           authserv_id=self.config.staff.authserv_id, case_id=decision.case.id)
                if not verdict.verified:
                    case_id, queued = self._on_suspicious(mail, decision.case, now, verdict.method)
                    return InboundOutcome("suspicious", case_id, False, queued)
            handler = getattr(self, f"_on_{decision.route.value}")
            case_id, queued = handler(mail, decision.case, now, decision.reason)
            return InboundOutcome(decision.route.value, case_id, False, queued)

    def _envelope_row(self, mail: InboundMail) -> Message | None:
        """The outgoing email whose envelope address (VERP, see cases/verification.py) this mail was sent to."""
        row_id = bounced_row(recipients(mail), self.secret())
        if row_id is None:
            return None
        return Message.get_or_none((Message.id == row_id) & (Message.direction == "out"))

    def _case_answered(self, ids: tuple[str, ...]) -> Case | None:
        """The case that the given message ids belong to; our own sent mail wins over received mail."""
        if not ids:
            return None
        rows = list(Message.select(Message.case, Message.message_id, Message.direction)
                    .where(Message.message_id.in_(list(ids)) & Message.case.is_null(False)))
        if not rows:
            return None
        rank = {mid: i for i, mid in enumerate(ids)}
        rows.sort(key=lambda m: (m.direction != "out", rank.get(m.message_id, len(ids))))
        return Case.get_by_id(rows[0].case_id)

    def _record(self, mail: InboundMail, case_id: int | None, kind: str, now: datetime, note: str = "") -> int:
        return _INSERT_MESSAGE(
            case=case_id, direction="in", kind=kind, message_id=mail.message_id, fingerprint=mail.fingerprint,
            from_address=mail.from_address or "", to=list(mail.to), subject=mail.subject, text=mail.text,
            attachments=[{"filename": a.filename, "content_type": a.content_type, "size": a.size}
                         for a in mail.attachments],
            note="; ".join(filter(None, [note, *mail.defects]))[:4000], created_at=now,
        )

    def _on_new_case(self, mail: InboundMail, _case: CaseView | None, now: datetime, reason: str):
        owner = self._next_owner()
        fields = lifecycle.new_case(mail, owner, now, self.policy)
        case = Case(**fields.__dict__, updated_at=now)
        case.id = _INSERT_CASE(**case.__data__)
        self._record(mail, case.id, "customer", now, reason)
        view = case_view(case, senders=(mail.from_address or "",))
        self._set_timers(case, [t for t in [plan.first_response_timer(view, self.policy)] if t])
        queued = self._enqueue_all(lifecycle.on_case_opened(view, mail, now, self.policy), case, now)
        log.info("case opened", case_id=case.id, message_id=mail.message_id, owner=owner, reason=reason)
        return case.id, queued

    def _next_owner(self) -> str:
        """The new case's owner; the round-robin cursor is stored only when it is used."""
        staff = self.config.staff
        if staff.assign != "round-robin" or not staff.addresses:
            return lifecycle.pick_owner(staff.addresses, staff.default_owner, staff.assign, 0)[0]
        stored = Setting.get_or_none(Setting.key == "round_robin_cursor")
        owner, cursor = lifecycle.pick_owner(staff.addresses, staff.default_owner, staff.assign,
                                             int(stored.value) if stored else 0)
        (Setting.insert(key="round_robin_cursor", value=str(cursor))
         .on_conflict(conflict_target=[Setting.key], update={Setting.value: str(cursor)}).execute())
        return owner

    def _on_customer_reply(self, mail: InboundMail, view: CaseView, now: datetime, reason: str):
        case = Case.get_by_id(view.id)
        text = new_text(mail.text)
        awaiting_rating = case.status == "resolved" and case.checkin_sent_at is not None and case.rating_score is None
        reading = aftercare.read_reply(text, status=case.status, awaiting_rating=awaiting_rating,
                                       words=self.rating_words, reopen_at_or_below=self.aftercare.reopen_at_or_below)
        if reading.rating is not None:
            self._record(mail, case.id, "rating", now, f"rating {reading.rating.score}")
            return case.id, self._apply_rating(case, view, reading.rating, now)
        self._record(mail, case.id, "customer", now, reason)
        emails = lifecycle.on_customer_reply(view, mail, text, now, self.policy)
        if reading.not_fixed:
            # "It still does not work" (even in a reply that reads like a good rating): the case is open again
            # and the owner hears why.
            self._reopen(case, now)
            emails = lifecycle.on_customer_reply(case_view(case), mail, text, now, self.policy, reopened=True)
            log.info("customer says it is not fixed: case reopened", case_id=case.id, message_id=mail.message_id)
        case.updated_at = now
        case.save()
        queued = self._enqueue_all(emails, case, now)
        log.info("customer reply", case_id=case.id, message_id=mail.message_id)
        return case.id, queued

    def _apply_rating(self, case: Case, view: CaseView, rating, now: datetime) -> int:
        code, apology = None, False
        if rating.score <= self.aftercare.reopen_at_or_below:
            code, _ = self._discount_for(case, "low_rating", now)
            apology = aftercare.wants("apology", "low_rating", case.extra, self.aftercare.extras)
        result = aftercare.on_rating(view, rating, now, self.policy, self.aftercare, discount_code=code,
                                     apology=apology)
        case.rating_score, case.rating_comment, case.rated_at = rating.score, rating.comment[:4000], now
        self._cancel_timers(case, aftercare.AFTERCARE_TIMERS)
        if result.reopened:
            self._reopen(case, now)
        else:
            case.status, case.closed_at = result.status, now
        case.apology_sent = case.apology_sent or apology
        case.updated_at = now
        case.save()
        log.info("rating recorded", case_id=case.id, score=rating.score, status=case.status)
        return self._enqueue_all(result.emails, case, now)

    def _reopen(self, case: Case, now: datetime) -> None:
        case.status = "open"
        case.reopened_count += 1
        case.resolved_at = case.closed_at = None
        self._cancel_timers(case, aftercare.AFTERCARE_TIMERS)

    def _cancel_timers(self, case: Case, kinds: tuple[str, ...]) -> None:
        (Timer.update(state="cancelled")
         .where((Timer.case == case.id) & (Timer.state == "waiting") & Timer.kind.in_(list(kinds))).execute())

    def _discount_for(self, case: Case, moment: str, now: datetime) -> tuple[str | None, bool]:
        """The code this case gets at this moment, if any, and whether the pool was empty."""
        if not aftercare.wants("discount", moment, case.extra, self.aftercare.extras):
            return None, False
        d = self.config.extras.discount
        if d.mode == "static" and d.code:
            code = d.code
        else:
            code = discounts.claim(case.id, now)
            if code is None:
                log.warning("discount code pool is empty: the email goes without a code", case_id=case.id)
                return None, True
        case.discount_code = code
        return code, False

    def _on_staff_reply(self, mail: InboundMail, view: CaseView, now: datetime, reason: str):
        """Commands first (all or nothing), then the text relayed to the customer."""
        case = Case.get_by_id(view.id)
        steps = [plan.StepView(s.number, s.text, s.due_at, s.done_at)
                 for s in PlanStep.select().where(PlanStep.case == case.id)]
        try:
            parsed = parse_reply(new_text(mail.text))
        except CommandError as exc:
            outcome = plan.command_error(view, exc, mail, now, self.policy)
        else:
            history = self._history(case) if any(c.name == "owner" for c in parsed.commands) else ()
            outcome = plan.work_reply(view, steps, parsed, mail, now, self.policy, history)
        if outcome.error is not None:
            self._record(mail, case.id, "staff", now, f"refused: {outcome.error}")
            queued = self._enqueue_all(outcome.emails, case, now)
            log.info("staff command refused", case_id=case.id, message_id=mail.message_id, error=str(outcome.error))
            return case.id, queued
        note = "; ".join(filter(None, [reason, *(f"note: {n}" for n in outcome.notes),
                                       "internal" if parsed.internal else ""]))
        self._record(mail, case.id, "staff", now, note)
        self._apply_staff_outcome(case, outcome, now)
        queued = self._enqueue_all(outcome.emails, case, now)
        log.info("staff reply applied", case_id=case.id, message_id=mail.message_id, relayed=outcome.relayed,
                 commands=[c.name for c in parsed.commands], status=case.status, owner=case.owner,
                 not_relayed=[f"{w['item']}: {w['reason']}" for w in outcome.withheld])
        return case.id, queued

    def _history(self, case: Case) -> list[dict]:
        """The case's conversation, oldest first, for a new owner."""
        rows = (Message.select().where((Message.case == case.id) & Message.kind.in_(
            ["customer", "staff", "relay", "acknowledgment", "plan", "progress"])).order_by(Message.id))
        return [{"time": m.created_at, "text": m.text.strip(),
                 "who": (m.from_address if m.direction == "in" else f"us to {m.recipient}")} for m in rows]

    def _apply_staff_outcome(self, case: Case, outcome: "plan.StaffOutcome", now: datetime) -> None:
        for step in outcome.new_steps:
            PlanStep.create(case=case.id, number=step.number, text=step.text, due_at=step.due_at, created_at=now)
        if outcome.done:
            (PlanStep.update(done_at=now)
             .where((PlanStep.case == case.id) & PlanStep.number.in_(outcome.done)).execute())
        cancel = Timer.update(state="cancelled").where((Timer.case == case.id) & (Timer.state == "waiting"))
        if outcome.cancel_steps:
            steps = PlanStep.select(PlanStep.id).where((PlanStep.case == case.id)
                                                       & PlanStep.number.in_(outcome.cancel_steps))
            cancel.where(Timer.step.in_(steps)).execute()
        if outcome.cancel_first_response:
            Timer.update(state="cancelled").where((Timer.case == case.id) & (Timer.state == "waiting")
                                                  & (Timer.kind == "first_response")).execute()
        self._set_timers(case, outcome.timers)
        if outcome.first_response_at:
            case.first_response_at = outcome.first_response_at
        if outcome.status:
            case.status = outcome.status
            # Any change of status re-plans the aftercare: cancelled on reopen or close, set on resolve.
            self._cancel_timers(case, aftercare.AFTERCARE_TIMERS)
            if outcome.status == "resolved":
                case.resolved_at = now
                self._set_timers(case, aftercare.timers_on_resolve(now, self.aftercare))
            elif outcome.status == "closed":
                case.closed_at = now
        if outcome.reopened:
            case.reopened_count += 1
            case.resolved_at = case.closed_at = None
        if outcome.owner:
            case.owner = outcome.owner
        if outcome.cause is not None:
            case.cause = outcome.cause
        if outcome.extra is not None:
            case.extra = outcome.extra
        case.updated_at = now
        case.save()

    def _set_timers(self, case: Case, timers: list["plan.TimerSpec"]) -> None:
        for t in timers:
            step = (PlanStep.get_or_none((PlanStep.case == case.id) & (PlanStep.number == t.step_number))
                    if t.step_number else None)
            _INSERT_TIMER(case=case.id, kind=t.kind, step=step.id if step else None, due_at=t.due_at)

    def _on_suspicious(self, mail: InboundMail, view: CaseView | None, now: datetime, reason: str):
        """Staff From without proof: change nothing, relay nothing, tell the owner."""
        self._record(mail, view.id if view else None, "suspicious", now, f"unverified staff mail: {reason}")
        case = Case.get_by_id(view.id) if view else None
        queued = self._enqueue_all(lifecycle.on_suspicious(view, mail, reason, now, self.policy), case, now)
        log.warning("unverified staff mail ignored", case_id=view.id if view else None, message_id=mail.message_id,
                    sender=mail.from_address, reason=reason)
        return (view.id if view else None), queued

    # --- timers -------------------------------------------------------------

    def fire_due_timers(self, now: datetime, limit: int = 100) -> int:
        """Fire the timers due by ``now`` (up to ``limit``) in one transaction with every email they cause.

        All or nothing: a process that dies mid-pass leaves every timer of the pass waiting and no email
        stored, and the next pass does it again. Each timer is claimed with a conditional update (still
        waiting) whose row count is checked, and on PostgreSQL the due rows are selected FOR UPDATE SKIP
        LOCKED, so that no timer ever fires twice, even with two processes on one database. The reminders and
        escalations of the pass are gathered into one email per person (cases/reminders.py).
        """
        if not Timer.select(Timer.id).where((Timer.state == "waiting") & (Timer.due_at <= now)).exists():
            return 0  # the usual pass: no write transaction at all
        fired = 0
        with database.atomic():
            query = (Timer.select(Timer.id).where((Timer.state == "waiting") & (Timer.due_at <= now))
                     .order_by(Timer.due_at, Timer.id).limit(limit))
            if isinstance(database.obj, PostgresqlDatabase):
                query = query.for_update(skip_locked=True)
            due = [row.id for row in query]
            decided: list[reminders.Decided] = []
            cases: dict[int, Case] = {}
            for timer_id in due:
                # Read again: an earlier timer of this pass may have moved or cancelled this one.
                timer = Timer.get_or_none((Timer.id == timer_id) & (Timer.state == "waiting") & (Timer.due_at <= now))
                if timer is None:
                    continue
                allowed = aftercare.send_time(timer.kind, now, self.aftercare.send_window)
                if allowed > now:  # outside the send window: wait for it
                    Timer.update(due_at=allowed).where((Timer.id == timer.id) & (Timer.state == "waiting")).execute()
                    continue
                claimed = (Timer.update(state="fired", fired_at=now)
                           .where((Timer.id == timer.id) & (Timer.state == "waiting")).execute())
                if claimed != 1:
                    continue  # someone else fired (or cancelled) it
                fired += 1
                case = cases.get(timer.case_id) or Case.get_by_id(timer.case_id)
                cases[case.id] = case
                if timer.kind in aftercare.AFTERCARE_TIMERS:
                    sent = self._fire_aftercare(timer.kind, case, now)
                    log.info("timer fired", case_id=case.id, kind=timer.kind, emails=sent)
                    continue
                steps = [plan.StepView(s.number, s.text, s.due_at, s.done_at)
                         for s in PlanStep.select().where(PlanStep.case == case.id)]
                step_row = PlanStep.get_or_none(PlanStep.id == timer.step_id) if timer.step_id else None
                step = next((s for s in steps if step_row and s.number == step_row.number), None)
                emails = plan.on_timer(timer.kind, case_view(case), step, steps, now, self.policy)
                decided += [reminders.Decided(case.id, e) for e in emails]
                log.info("timer fired", case_id=case.id, kind=timer.kind, step=step.number if step else None,
                         emails=len(emails))
            gathered = reminders.gather(decided, now, self.policy, reply_address=self._reply_address)
            for d in gathered:
                self.enqueue(d.email, cases[d.case_id] if d.case_id is not None else None, now)
            if len(gathered) < len(decided):
                log.info("reminders and escalations gathered", emails=len(decided), sent_as=len(gathered),
                         digests=sum(1 for d in gathered if d.case_id is None))
        return fired

    def _reply_address(self, case_id: int, recipient: str) -> str | None:
        """Where a staff member acts on a case by email: their personal reply address for it."""
        if recipient.lower() not in self.config.staff.addresses:
            return None
        return reply_address(self.config.smtp.from_addr_spec, self.secret(), case_id, recipient.lower())

    def _fire_aftercare(self, kind: str, case: Case, now: datetime) -> int:
        view = case_view(case)
        if kind == "followup":
            queued = self._enqueue_all(aftercare.on_followup(view, now, self.policy), case, now)
            # After an outage the check-in may be overdue too: it keeps its configured gap behind the follow-up.
            for checkin in Timer.select().where((Timer.case == case.id) & (Timer.kind == "checkin")
                                                & (Timer.state == "waiting")):
                later = aftercare.checkin_after_followup(now, checkin.due_at, self.aftercare)
                if later is not None:
                    (Timer.update(due_at=later)
                     .where((Timer.id == checkin.id) & (Timer.state == "waiting")).execute())
                    log.info("check-in moved to keep its gap behind the follow-up", case_id=case.id,
                             due_at=later.isoformat())
            return queued
        if kind == "checkin":
            if case.status != "resolved":
                return 0
            code, pool_empty = self._discount_for(case, "checkin", now)
            apology = aftercare.wants("apology", "checkin", case.extra, self.aftercare.extras)
            emails = aftercare.on_checkin(view, now, self.policy, discount_code=code,
                                          discount_value=self.aftercare.extras.discount_value,
                                          apology=apology, pool_empty=pool_empty)
            case.checkin_sent_at = now
            case.rating_score, case.rating_comment, case.rated_at = None, "", None
            case.apology_sent = case.apology_sent or apology
            case.save()
            self._set_timers(case, [plan.TimerSpec("checkin_close", now + self.aftercare.close_after)])
            return self._enqueue_all(emails, case, now)
        if kind == "checkin_close" and case.status == "resolved" and case.rating_score is None:
            case.status, case.closed_at, case.updated_at = "closed", now, now
            case.save()
            log.info("no rating within satisfaction.close_after: case closed", case_id=case.id)
        return 0

    def next_timer_at(self) -> datetime | None:
        row = (Timer.select(Timer.due_at).where(Timer.state == "waiting").order_by(Timer.due_at).first())
        return row.due_at if row else None

    def _on_staff_unmatched(self, mail: InboundMail, _view: None, now: datetime, reason: str):
        self._record(mail, None, "staff", now, reason)
        queued = self._enqueue_all(lifecycle.on_staff_unmatched(mail, now, self.policy), None, now)
        log.info("staff mail names no case", message_id=mail.message_id)
        return None, queued

    def _on_automatic(self, mail: InboundMail, view: CaseView | None, now: datetime, reason: str):
        self._record(mail, view.id if view else None, "automatic", now, reason)
        log.info("automatic mail filed", case_id=view.id if view else None, message_id=mail.message_id,
                 reason=reason)
        return (view.id if view else None), 0

    def _on_bounce(self, mail: InboundMail, view: CaseView | None, now: datetime, reason: str,
                   rows: list[Message] | None = None):
        """``rows``: the bounced email named by the envelope; else (a server that rewrote the envelope)
        the emails whose Message-IDs the report returns."""
        report = mail.delivery_report
        if rows is not None:
            bounced = rows
        else:
            ids = list(report.original_message_ids) if report else []
            bounced = (list(Message.select().where((Message.direction == "out") & Message.message_id.in_(ids)))
                       if ids else [])
        # A report that names no action, or a bounce in no standard form at all, is a failure.
        failed = report is None or report.action in ("failed", "")
        if failed:
            for row in bounced:
                row.status = outbox.BOUNCED
                row.last_error = (f"{report.status} {report.diagnostic}".strip() if report
                                  else f"bounced: {mail.subject}")[:2000]
                row.save()
        self._record(mail, view.id if view else None, "bounce", now, reason)
        queued = 0
        if view is not None and failed:
            queued = self._enqueue_all(lifecycle.on_bounce(
                view, [lifecycle.BouncedEmail(b.kind, b.recipient, b.subject, b.message_id) for b in bounced],
                mail, now, self.policy), Case.get_by_id(view.id), now)
        log.info("delivery report", case_id=view.id if view else None, message_id=mail.message_id,
                 bounced=[b.message_id for b in bounced], action=report.action if report else None)
        return (view.id if view else None), queued

    # --- failures -----------------------------------------------------------

    def note_failure(self, mailbox: str, uidvalidity: int, uid: int, error: str, now: datetime,
                     count: bool = True) -> int:
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

    def quarantine(self, mail: InboundMail | None, fingerprint: str, reason: str, now: datetime) -> int | None:
        """Record a message set aside for a person to look at, and tell its owner."""
        with database.atomic():
            if Message.select().where(Message.fingerprint == fingerprint).exists():
                return None
            case = None
            if mail is not None:
                try:
                    case = self._case_answered(mail.thread_ids)
                except Exception:  # the lookup itself may be what fails
                    case = None
            Message.create(case=case.id if case else None, direction="in", kind="quarantined",
                           message_id=mail.message_id if mail else None, fingerprint=fingerprint,
                           from_address=(mail.from_address or "") if mail else "",
                           subject=mail.subject if mail else "", text="", note=reason[:4000], created_at=now)
            self._enqueue_all(lifecycle.on_quarantine(case_view(case) if case else None, mail, reason,
                                                      self.config.mailbox.quarantine_folder, now, self.policy),
                              case, now)
            log.warning("message quarantined", case_id=case.id if case else None,
                        message_id=mail.message_id if mail else None, reason=reason)
            return case.id if case else None

    def delivery_failed(self, row_id: int, error: str, now: datetime) -> None:
        """The SMTP server refused an email for good: mark it failed and tell the owner."""
        with database.atomic():
            row = Message.get_by_id(row_id)
            row.status = outbox.FAILED
            row.attempts += 1
            row.last_error = error[:2000]
            row.save()
            if row.case_id:
                case = Case.get_by_id(row.case_id)
                self._enqueue_all(lifecycle.on_delivery_failed(case_view(case), row.kind, row.recipient,
                                                               row.subject, error, now, self.policy), case, now)
            log.error("email refused for good", case_id=row.case_id, message_id=row.message_id, error=error)

    # --- outgoing -----------------------------------------------------------

    def _enqueue_all(self, emails: list[Outgoing], case: Case | None, now: datetime) -> int:
        return sum(1 for e in emails if self.enqueue(e, case, now))

    def enqueue(self, out: Outgoing, case: Case | None, now: datetime) -> int:
        """Render, compose and store one email; it is sent only once this transaction commits."""
        if not writable_address(out.to):
            # An address the header classes would reinterpret (e.g. an encoded word before the @) is never
            # written into a header: the email is recorded as failed, and the case itself stands.
            reason = f"not sent: {out.to!r} cannot be written safely into an email header"
            log.warning("email not sent: unsafe recipient address", case_id=case.id if case else None,
                        recipient=out.to)
            return _INSERT_MESSAGE(
                case=case.id if case else None, direction="out", kind=out.kind, message_id=None,
                from_address=self.config.smtp.from_addr_spec, to=[out.to], recipient=out.to.lower(),
                subject="", text="", created_at=now, status=outbox.FAILED, raw="", automated=out.auto_submitted
                is not None, next_attempt_at=None, note=reason, last_error=reason)
        rendered = self.templates.render(out.template, out.context)
        subject = shorten_subject(rendered.subject)  # may cut a tag at the end: it is put back next
        if case is not None and case_tag(subject) != case.id:
            subject = f"{subject} [Case #{case.id}]"
        rendered = type(rendered)(subject, rendered.text, rendered.html)
        in_reply_to, references = self._thread(out.thread, case)
        mid = new_message_id(self.config.smtp.domain, case.id if case else None)
        composed = compose(
            rendered, from_name=self.config.smtp.from_name, from_address=self.config.smtp.from_addr_spec,
            to_name=out.to_name, to_address=out.to, message_id=mid, now=now,
            in_reply_to=in_reply_to, references=references, auto_submitted=out.auto_submitted,
            loop_marker=self.loop_marker, case_id=case.id if case else None,
            reply_to=(reply_address(self.config.smtp.from_addr_spec, self.secret(), case.id, out.to.lower())
                      if case is not None and out.to.lower() in self.config.staff.addresses else None),
        )
        recipient = out.to.lower()
        status, note = outbox.PENDING, ""
        limit = self.config.outbox
        if out.kind in lifecycle.LOOP_PRONE_KINDS and recipient not in self.config.staff.addresses:
            recent = outbox.recent_automated_count(recipient, now - limit.recipient_limit_window,
                                                   lifecycle.LOOP_PRONE_KINDS)
            if recent >= limit.recipient_limit:
                status = outbox.HELD
                note = (f"held back: {recent} automated emails to {recipient} in the last "
                        f"{limit.recipient_limit_window} (outbox.recipient_limit = {limit.recipient_limit})")
                log.warning("automated email held back by the loop limit", case_id=case.id if case else None,
                            message_id=mid, recipient=recipient, recent=recent)
        return _INSERT_MESSAGE(
            case=case.id if case else None, direction="out", kind=out.kind, message_id=mid,
            from_address=self.config.smtp.from_addr_spec, to=[out.to], recipient=recipient,
            subject=composed.subject, text=rendered.text, created_at=now, status=status,
            raw=composed.raw.decode("utf-8", "surrogateescape"), automated=out.auto_submitted is not None,
            next_attempt_at=now, note=note, last_error=note,
        )

    def _thread(self, thread: str, case: Case | None) -> tuple[str | None, list[str]]:
        """In-Reply-To and References that keep each conversation in one thread in every client."""
        if case is None or thread == "none":
            return None, []
        if thread == "customer":
            rows = _CUSTOMER_THREAD.rows(case=case.id, customer=case.customer_address)
            ids = [mid for mid, _ in rows]
            parent = next((mid for mid, direction in reversed(rows) if direction == "in"), None) or \
                (ids[-1] if ids else None)
            # RFC 5322 3.6.4: the References end with the message we answer (the In-Reply-To).
            return parent, [i for i in ids if i != parent] + ([parent] if parent else [])
        root = _STAFF_THREAD_ROOT.first(case=case.id)
        return (root[0], [root[0]]) if root else (None, [])

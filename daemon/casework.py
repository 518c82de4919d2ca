"""Where a case changes: an event, the case rules' decision, one transaction.

The seam between the pure rules (``cases/``) and storage: it looks up what the
rules need (``store/repository.py``), asks them, and applies their answer,
the case's change and the emails (through the mailer), so that either all of
it is recorded or none. Inbound mail goes to the handler of its route (one
table, ``_handlers``); due timers fire in ``firing.py``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

import structlog

from . import firing, language
from .cases import aftercare, attachments, lifecycle, plan, transitions
from .cases.commands import CommandError, parse_reply
from .cases.lifecycle import EARLIER_COMPLAINTS_WITHIN, NORMAL, Outgoing, Policy, Triage
from .cases.ratings import DEFAULT_WORDS, Rating
from .cases.routing import CaseView, Route, case_tag, route
from .cases.states import MessageKind
from .cases.tone import own_words
from .cases.verification import Verdict, bounced_row, recipients, verify_staff
from .config import Config, Inbox
from .mail.automatic import automatic_reason, is_bounce_sender
from .inbound import InboundMail
from .mail.compose import without_files
from .mail.quoting import new_text, own_text
from .mailer import Mailer
from .store import discounts, files, repository
from .store.models import Case, Message, database
from .store.repository import case_view
from .templates import Templates

__all__ = ["QUARANTINE_AFTER_FAILURES", "Casework", "InboundOutcome", "aftercare_policy_from", "case_view",
           "policy_from"]

LOGIN_ALERT_EVERY = timedelta(days=1)  # a login that stays dead is emailed about once a day, not per retry

log = structlog.get_logger("aftercare.casework")

QUARANTINE_AFTER_FAILURES = 3


@dataclass(frozen=True)
class InboundOutcome:
    route: str
    case_id: int | None
    duplicate: bool
    outgoing: int  # emails put in the outbox


def policy_from(config: Config, inbox: Inbox | None = None) -> Policy:
    """The case rules' view of one mailbox (default: the first): its address, its staff, the schedule."""
    inbox = inbox or config.default_inbox
    return Policy(
        first_response_due=config.schedule.first_response_due,
        support_name=inbox.smtp.from_name,
        support_address=inbox.smtp.from_addr_spec,
        staff_names=dict(inbox.staff.names),
        default_owner=inbox.staff.default_owner,
        staff_addresses=inbox.staff.addresses,
        escalation=inbox.staff.escalation,
        step_reminder_before=config.schedule.step_reminder_before,
        overdue_escalation_after=config.schedule.overdue_escalation_after,
        timezone=config.schedule.timezone,
        business_hours=config.schedule.business_hours,
        mailbox=inbox.name,
        max_attachments_size=config.outbox.max_attachments_size,
        blocked_attachment_types=config.outbox.blocked_attachment_types,
        processed_folder=inbox.mailbox.processed_folder,
        urgent_first_response_due=config.schedule.urgent_first_response_due,
        default_language=config.customer.default_language,
        staff_language=inbox.staff.language,
        tone_enabled=config.tone.enabled,
        tone_words=config.tone.extra_words,
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


class Casework:
    def __init__(self, config: Config, templates: Templates):
        self._secret: bytes | None = None
        # What each route of an inbound email does: (mail, case, now, reason) -> (case id, emails queued).
        self._handlers = {
            Route.NEW_CASE: self._on_new_case,
            Route.CUSTOMER_REPLY: self._on_customer_reply,
            Route.STAFF_REPLY: self._on_staff_reply,
            Route.STAFF_UNMATCHED: self._on_staff_unmatched,
            Route.AUTOMATIC: self._on_automatic,
            Route.BOUNCE: self._on_bounce,
        }
        self.configure(config, templates)

    def configure(self, config: Config, templates: Templates) -> None:
        """Take a (re)loaded configuration and templates."""
        self.config = config
        self.templates = templates
        self.policy = policy_from(config)  # the first mailbox's: for what belongs to no case and no mailbox
        self._policies = {inbox.name: policy_from(config, inbox) for inbox in config.inboxes}
        self._templates = {inbox.name: templates.with_first(inbox.templates) for inbox in config.inboxes}
        self.aftercare = aftercare_policy_from(config)
        self.rating_words = {**DEFAULT_WORDS, **dict(config.satisfaction.words)}
        self.own_addresses = frozenset(inbox.smtp.from_addr_spec for inbox in config.inboxes)
        self.staff_addresses = frozenset(a for inbox in config.inboxes for a in inbox.staff.addresses)
        self.mailer = Mailer(config, self.templates_for, self.secret)

    def policy_for(self, case: Case | CaseView | None = None, inbox: str | None = None) -> Policy:
        """The rules of the case's mailbox (or of ``inbox``); a mailbox removed from the file keeps its
        address, with [staff] and [smtp]."""
        name = case.mailbox if case is not None else inbox
        if name in self._policies:
            return self._policies[name]
        address = getattr(case, "mailbox_address", "") if case is not None else ""
        if address:
            return policy_from(self.config, self.config.inbox_for(name, address))
        return self.policy

    def templates_for(self, inbox: str) -> Templates:
        return self._templates.get(inbox, self.templates)

    def secret(self) -> bytes:
        """The key behind staff reply tokens: staff.secret_file, else generated once and kept in the database."""
        if self._secret is None:
            if self.config.staff.secret_file is not None:
                self._secret = self.config.staff.secret_file.read_bytes().strip()
            else:
                self._secret = repository.staff_secret().encode()
        return self._secret

    def enqueue(self, out: Outgoing, case: Case | None, now: datetime, inbox: str | None = None) -> int:
        """Render, compose and store one email (``Mailer.enqueue``); it is sent once this transaction commits.
        It goes by the case's mailbox, else by ``inbox`` (the mailbox the mail that caused it came in by).

        Every email casework and the timers store goes through here: one seam to watch or fail them all."""
        return self.mailer.enqueue(out, case, now, inbox)

    def enqueue_all(self, emails: Iterable[Outgoing], case: Case | None, now: datetime,
                    inbox: str | None = None) -> int:
        return sum(1 for e in emails if self.enqueue(e, case, now, inbox))

    # --- inbound ------------------------------------------------------------

    def already_recorded(self, fingerprint: str) -> bool:
        """Whether this email was recorded before (a quarantined one may be tried again)."""
        return repository.already_recorded(fingerprint)

    def handle_inbound(self, mail: InboundMail, now: datetime, inbox: str | None = None) -> InboundOutcome:
        """Record one received email and everything it causes, in one transaction. ``inbox``: the name of
        the mailbox it came in by (a new case belongs to it); replies are routed by thread and token
        whatever mailbox they came in by, and a message that came in by two is recorded once."""
        arrival = inbox if inbox in self._policies else self.config.default_inbox.name
        with database.atomic():
            seen = repository.seen(mail.fingerprint)
            if seen is not None and seen[1] != MessageKind.QUARANTINED:
                return InboundOutcome("duplicate", None, True, 0)
            if seen is not None:
                # An operator moved a quarantined message back: try it afresh, keep the old record.
                repository.forget_fingerprint(seen[0])
            reason = automatic_reason(mail, own_addresses=self.own_addresses, loop_marker=self.own_addresses)
            envelope_row = self._envelope_row(mail)
            if envelope_row is not None and (mail.delivery_report is not None or is_bounce_sender(mail)):
                # Came back to the envelope of one outbox row: that exact email bounced.
                case = repository.find_case(envelope_row.case_id)
                case_id, queued = self._on_bounce(mail, case_view(case) if case else None, now,
                                                  "delivery report to the email's own envelope address", arrival,
                                                  rows=[envelope_row])
                return InboundOutcome(Route.BOUNCE.value, case_id, False, queued)
            report_ids = mail.delivery_report.original_message_ids if mail.delivery_report else ()
            threaded = repository.case_answered(tuple(report_ids) + mail.thread_ids)
            if envelope_row is not None and envelope_row.case_id and threaded is None:
                # An auto-reply to the envelope (vacation notices do that): it belongs to that email's case.
                threaded = repository.find_case(envelope_row.case_id)
            verdict = None
            if (mail.from_address or "").lower() in self.staff_addresses:
                verdict = self._verify_staff(mail)
                if verdict.token_case and (threaded is None or not verdict.verified):
                    threaded = repository.find_case(verdict.token_case) or threaded
            tagged = repository.find_case(case_tag(mail.subject))
            decision = route(
                mail, automatic=reason,
                threaded=case_view(threaded) if threaded else None,
                tagged=case_view(tagged) if tagged else None,
                staff=self.staff_addresses,
            )
            if decision.route in (Route.STAFF_REPLY, Route.STAFF_UNMATCHED) and verdict is not None:
                if decision.case is not None:
                    verdict = self._verify_staff(mail, decision.case)
                if not verdict.verified:
                    case_id, queued = self._on_suspicious(mail, decision.case, now, verdict.method, arrival)
                    return InboundOutcome("suspicious", case_id, False, queued)
            case_id, queued = self._handlers[decision.route](mail, decision.case, now, decision.reason, arrival)
            return InboundOutcome(decision.route.value, case_id, False, queued)

    def _verify_staff(self, mail: InboundMail, case: CaseView | None = None) -> Verdict:
        """Staff mail is obeyed only from the staff of the case's mailbox, proven as that mailbox's staff
        section says."""
        staff = self.config.inbox_for(case.mailbox, case.mailbox_address).staff if case else self.config.staff
        if case is not None and (mail.from_address or "").lower() not in staff.addresses:
            return Verdict(False, f"not on the staff of mailbox {case.mailbox}", None)
        return verify_staff(mail, methods=staff.verify, secret=self.secret(), authserv_id=staff.authserv_id,
                            case_id=case.id if case else None)

    def _envelope_row(self, mail: InboundMail) -> Message | None:
        """The outgoing email whose envelope address (VERP, see cases/verification.py) this mail was sent to."""
        row_id = bounced_row(recipients(mail), self.secret())
        return repository.outgoing(row_id) if row_id is not None else None

    def _on_new_case(self, mail: InboundMail, _case: CaseView | None, now: datetime, reason: str, inbox: str):
        """A new complaint: its language (Content-Language, else its words), its tone and so its priority are read
        from the customer's own new words; an urgent case is promised a sooner answer and staff.escalation is
        told at once."""
        policy = self._policies[inbox]
        owner = self._next_owner(inbox)
        text = new_text(mail.text)
        code = language.choose(mail.headers.get("content-language"), text, policy.default_language)
        earlier = self._earlier(mail.from_address or "", mail.subject, text, now, policy)
        reading = lifecycle.read_tone(text, code, policy, earlier)
        priority = lifecycle.priority_after(NORMAL, reading)
        case = repository.open_case(lifecycle.new_case(mail, owner, now, policy, code, priority), now)
        repository.record_inbound(mail, case.id, MessageKind.CUSTOMER, now, reason, *_tone_columns(reading))
        view = case_view(case, senders=(mail.from_address or "",))
        repository.set_timers(case, [t for t in [plan.first_response_timer(view, policy)] if t])
        triage = self._triage(view, policy, reading)
        queued = self.enqueue_all(lifecycle.on_case_opened(view, mail, now, policy, triage), case, now)
        log.info("case opened", case_id=case.id, message_id=mail.message_id, owner=owner, reason=reason,
                 case_mailbox=inbox, language=code, tone=reading.tone if reading else None, priority=priority)
        return case.id, queued

    def _earlier(self, customer: str, subject: str, text: str, now: datetime, policy: Policy,
                 exclude: int | None = None) -> list[tuple[int, str]]:
        """The customer's earlier complaints about the same thing (``lifecycle.same_complaints``), before ``now``."""
        if not policy.tone_enabled or not customer:
            return []
        found = repository.earlier_cases(customer, now - EARLIER_COMPLAINTS_WITHIN, now, exclude)
        # Each one's status now: one still open and opened within a day is a follow-up, not a repeat.
        rows = Case.select(Case.id, Case.status).where(Case.id.in_([e.id for e in found])) if found else []
        status = {c.id: str(c.status) for c in rows}
        found = [lifecycle.EarlierCase(e.id, e.created_at, e.subject, e.text, status.get(e.id, e.status))
                 for e in found]
        return lifecycle.same_complaints(subject, text, found, now)

    def _triage(self, view: CaseView, policy: Policy, reading) -> Triage:
        """What staff are told of the customer's language (and whether customer templates exist in it) and tone."""
        code = view.language or policy.default_language
        templates = self.templates_for(view.mailbox).has_language("customer/acknowledgment", code,
                                                                  policy.default_language)
        return Triage(code, language.name_of(code, in_language=policy.staff_language), templates, reading)

    def _read_reply(self, view: CaseView, text: str, policy: Policy):
        """The tone of a customer's later message; the earlier complaints are the case's own (as it opened)."""
        if not policy.tone_enabled:
            return None
        earlier = self._earlier(view.customer_address, view.subject,
                                own_words(repository.complaint_text(view.id)) + "\n" + text, view.created_at,
                                policy, view.id)
        return lifecycle.read_tone(text, view.language or policy.default_language, policy, earlier)

    def _became_urgent(self, case: Case, view: CaseView, mail: InboundMail, text: str, reading, now: datetime,
                       policy: Policy) -> int:
        """A later message that makes the case urgent: marked, a first answer still owed is owed sooner, and
        staff.escalation is told; so it is of an abusive message on a case already urgent."""
        priority = lifecycle.priority_after(view.priority, reading)
        if priority == view.priority:
            if reading is None or reading.tone != "abusive" or priority != "urgent":
                return 0
            # Already urgent, and now abusive: the senior colleagues hear of this message too.
            log.info("abusive message on an urgent case", case_id=case.id, message_id=mail.message_id)
            return self.enqueue_all(lifecycle.on_became_urgent(view, mail, text, now, policy,
                                                               self._triage(view, policy, reading)), case, now)
        repository.apply_change(case, transitions.triaged(view, priority, now, policy))
        urgent = case_view(case)
        log.info("case became urgent", case_id=case.id, message_id=mail.message_id, tone=reading.tone)
        return self.enqueue_all(lifecycle.on_became_urgent(urgent, mail, text, now, policy,
                                                           self._triage(urgent, policy, reading)), case, now)

    def _next_owner(self, inbox: str) -> str:
        """The new case's owner among the mailbox's staff; the round-robin cursor (one per mailbox) is stored
        only when it is used."""
        staff = self.config.inbox_for(inbox).staff
        if staff.assign != "round-robin" or not staff.addresses:
            return lifecycle.pick_owner(staff.addresses, staff.default_owner, staff.assign, 0)[0]
        owner, cursor = lifecycle.pick_owner(staff.addresses, staff.default_owner, staff.assign,
                                             repository.round_robin_cursor(inbox))
        repository.store_round_robin_cursor(cursor, inbox)
        return owner

    def _on_customer_reply(self, mail: InboundMail, view: CaseView, now: datetime, reason: str, inbox: str):
        case = repository.load_case(view.id)
        text = new_text(mail.text)
        policy = self.policy_for(view)
        tone = self._read_reply(view, text, policy)
        reading = aftercare.read_reply(text, status=view.status, awaiting_rating=aftercare.awaiting_rating(view),
                                       words=self.rating_words, reopen_at_or_below=self.aftercare.reopen_at_or_below)
        if reading.rating is not None:
            repository.record_inbound(mail, case.id, MessageKind.RATING, now, f"rating {reading.rating.score}",
                                      *_tone_columns(tone))
            queued = self._apply_rating(case, view, reading.rating, now)
            return case.id, queued + self._became_urgent(case, case_view(case), mail, text, tone, now, policy)
        repository.record_inbound(mail, case.id, MessageKind.CUSTOMER, now, reason, *_tone_columns(tone))
        urgent = self._became_urgent(case, view, mail, text, tone, now, policy)
        if case.priority != view.priority:
            view = case_view(case)  # an urgent case's promise is the shorter one, a reopened case's too
        repository.apply_change(case, transitions.customer_reply(view, reading.not_fixed, now, self.policy_for(view)))
        triage = self._triage(case_view(case), policy, tone) if tone is not None else None
        told = bool(urgent) or (tone is not None and tone.tone == "abusive"
                                and bool(lifecycle.urgent_recipients(case_view(case), policy)))
        if reading.not_fixed:
            # "It still does not work" (even in a reply that reads like a good rating): the case is open again
            # and the owner hears why.
            emails = lifecycle.on_customer_reply(case_view(case), mail, text, now, self.policy_for(view),
                                                 reopened=True, triage=triage, senior_told=told)
            log.info("customer says it is not fixed: case reopened", case_id=case.id, message_id=mail.message_id)
        else:
            emails = lifecycle.on_customer_reply(view, mail, text, now, self.policy_for(view), triage=triage,
                                                 senior_told=told)
        queued = self.enqueue_all(emails, case, now) + urgent
        log.info("customer reply", case_id=case.id, message_id=mail.message_id, tone=tone.tone if tone else None)
        return case.id, queued

    def _apply_rating(self, case: Case, view: CaseView, rating: Rating, now: datetime) -> int:
        code, apology = None, False
        if aftercare.low_rating(rating, self.aftercare):
            code, _ = self.discount_for(case, "low_rating", now)
            apology = aftercare.wants("apology", "low_rating", case.extra, self.aftercare.extras)
        result = aftercare.on_rating(view, rating, now, self.policy_for(view), self.aftercare, discount_code=code,
                                     apology=apology)
        repository.apply_change(case, transitions.rated(view, rating, result.status, apology, now, self.aftercare,
                                                        self.policy_for(view)))
        log.info("rating recorded", case_id=case.id, score=rating.score, status=case.status)
        return self.enqueue_all(result.emails, case, now)

    def discount_for(self, case: Case, moment: str, now: datetime) -> tuple[str | None, bool]:
        """The code this case gets at this moment ("checkin" or "low_rating"), if any, and whether the pool
        was empty. A code from the pool is claimed for the case in the caller's transaction."""
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

    def _on_staff_reply(self, mail: InboundMail, view: CaseView, now: datetime, reason: str, inbox: str):
        """Commands first (all or nothing), then the text relayed to the customer."""
        case = repository.load_case(view.id)
        steps = repository.plan_steps(case.id)
        try:
            parsed = parse_reply(new_text(mail.text))
        except CommandError as exc:
            outcome = plan.command_error(view, exc, mail, now, self.policy_for(view))
        else:
            history = repository.history(case) if any(c.name == "owner" for c in parsed.commands) else ()
            own_files = attachments.staff_files(mail, own_text(mail.html_text) if mail.html_text else "")
            outcome = plan.work_reply(view, steps, parsed, mail, now, self.policy_for(view), history, own_files)
        if outcome.error is not None:
            repository.record_inbound(mail, case.id, MessageKind.STAFF, now, f"refused: {outcome.error}")
            queued = self.enqueue_all(outcome.emails, case, now)
            log.info("staff command refused", case_id=case.id, message_id=mail.message_id, error=str(outcome.error))
            return case.id, queued
        note = "; ".join(filter(None, [reason, *(f"note: {n}" for n in outcome.notes),
                                       "internal" if parsed.internal else ""]))
        repository.record_inbound(mail, case.id, MessageKind.STAFF, now, note)
        repository.apply_plan(case, outcome, now)
        repository.apply_change(case, transitions.staff_reply(view, outcome, now, self.aftercare,
                                                              self.policy_for(view)))
        queued = self.enqueue_all(outcome.emails, case, now)
        log.info("staff reply applied", case_id=case.id, message_id=mail.message_id, relayed=outcome.relayed,
                 commands=[c.name for c in parsed.commands], status=case.status, owner=case.owner,
                 not_relayed=[f"{w['item']}: {w['reason']}" for w in outcome.withheld])
        return case.id, queued

    def _on_suspicious(self, mail: InboundMail, view: CaseView | None, now: datetime, reason: str, inbox: str):
        """Staff From without proof: change nothing, relay nothing, tell the owner."""
        repository.record_inbound(mail, view.id if view else None, MessageKind.SUSPICIOUS, now,
                                  f"unverified staff mail: {reason}")
        case = repository.load_case(view.id) if view else None
        queued = self.enqueue_all(lifecycle.on_suspicious(view, mail, reason, now, self.policy_for(view, inbox)),
                                  case, now, inbox)
        log.warning("unverified staff mail ignored", case_id=view.id if view else None, message_id=mail.message_id,
                    sender=mail.from_address, reason=reason)
        return (view.id if view else None), queued

    def _on_staff_unmatched(self, mail: InboundMail, _view: None, now: datetime, reason: str, inbox: str):
        repository.record_inbound(mail, None, MessageKind.STAFF, now, reason)
        queued = self.enqueue_all(lifecycle.on_staff_unmatched(mail, now, self.policy_for(inbox=inbox)), None, now,
                                  inbox)
        log.info("staff mail names no case", message_id=mail.message_id)
        return None, queued

    def _on_automatic(self, mail: InboundMail, view: CaseView | None, now: datetime, reason: str, inbox: str):
        repository.record_inbound(mail, view.id if view else None, MessageKind.AUTOMATIC, now, reason)
        log.info("automatic mail filed", case_id=view.id if view else None, message_id=mail.message_id,
                 reason=reason)
        return (view.id if view else None), 0

    def _on_bounce(self, mail: InboundMail, view: CaseView | None, now: datetime, reason: str, inbox: str,
                   rows: list[Message] | None = None):
        """``rows``: the bounced email named by the envelope; else (a server that rewrote the envelope)
        the emails whose Message-IDs the report returns."""
        report = mail.delivery_report
        bounced = rows if rows is not None else repository.outgoing_with_ids(
            list(report.original_message_ids) if report else [])
        failed = lifecycle.bounce_is_failure(report)
        if failed:
            repository.mark_bounced(bounced, f"{report.status} {report.diagnostic}".strip() if report
                                    else f"bounced: {mail.subject}")
        repository.record_inbound(mail, view.id if view else None, MessageKind.BOUNCE, now, reason)
        queued = 0
        if view is not None and failed:
            queued = self.enqueue_all(lifecycle.on_bounce(
                view, [lifecycle.BouncedEmail(b.kind, b.recipient, b.subject, b.message_id) for b in bounced],
                mail, now, self.policy_for(view)), repository.load_case(view.id), now)
        log.info("delivery report", case_id=view.id if view else None, message_id=mail.message_id,
                 bounced=[b.message_id for b in bounced], action=report.action if report else None)
        return (view.id if view else None), queued

    # --- failures -----------------------------------------------------------

    def note_failure(self, mailbox: str, uidvalidity: int, uid: int, error: str, now: datetime,
                     count: bool = True) -> int:
        """Count an attempt at a mailbox message (or only note its error); return the attempts so far."""
        return repository.note_failure(mailbox, uidvalidity, uid, error, now, count)

    def quarantine(self, mail: InboundMail | None, fingerprint: str, reason: str, now: datetime,
                   inbox: str | None = None) -> int | None:
        """Record a message set aside for a person to look at (it came in by ``inbox``), and tell its owner."""
        with database.atomic():
            if repository.fingerprint_known(fingerprint):
                return None
            case = None
            if mail is not None:
                try:
                    case = repository.case_answered(mail.thread_ids)
                except Exception:  # the lookup itself may be what fails
                    case = None
            repository.record_quarantined(mail, fingerprint, case.id if case else None, reason, now)
            folder = self.config.inbox_for(inbox).mailbox.quarantine_folder
            policy = self.policy_for(case, inbox)
            self.enqueue_all(lifecycle.on_quarantine(case_view(case) if case else None, mail, reason, folder, now,
                                                     policy), case, now, inbox)
            log.warning("message quarantined", case_id=case.id if case else None,
                        message_id=mail.message_id if mail else None, reason=reason)
            return case.id if case else None

    def login_refused(self, service: str, login: str, error: str, hint: str, since: datetime, now: datetime,
                      inbox: str | None = None) -> int:
        """Tell the mailbox's escalation addresses that its login needs a person (once a day each, per
        mailbox); return emails stored."""
        stored = 0
        name = inbox if inbox in self._policies else self.config.default_inbox.name
        with database.atomic():
            for out in lifecycle.on_login_refused(service, login, error, hint, since, now, self._policies[name]):
                if not repository.sent_recently(out.kind, out.to.lower(), now - LOGIN_ALERT_EVERY, mailbox=name):
                    stored += bool(self.enqueue(out, None, now, name))
        if stored:
            log.warning("login alert emailed", service=service, recipients=stored)
        return stored

    def delivery_failed(self, row_id: int, error: str, now: datetime) -> None:
        """The SMTP server refused an email for good: mark it failed and tell the owner."""
        with database.atomic():
            row = repository.mark_failed(row_id, error)
            if row.case_id:
                case = repository.load_case(row.case_id)
                self.enqueue_all(lifecycle.on_delivery_failed(case_view(case), row.kind, row.recipient,
                                                              row.subject, error, now, self.policy_for(case)),
                                 case, now)
            log.error("email refused for good", case_id=row.case_id, message_id=row.message_id, error=error)

    def files_refused(self, row_id: int, error: str, now: datetime) -> bool:
        """The SMTP server refused an email as too large: when it carries files, it goes again without them,
        saying so, and the owner is told; return False when it carries none (then it is a plain failure).
        It never loops: the email stored again carries no files."""
        with database.atomic():
            row = repository.outgoing(row_id)
            if row is None or not row.attachments or not files.carries_files(row.raw or ""):
                return False
            names = [a.get("filename") or "(unnamed)" for a in row.attachments]
            to_staff = row.recipient in self.config.inbox_for(row.mailbox).staff.addresses
            notice = lifecycle.files_refused_notice(names, row.case_id, to_staff)
            text = f"{row.text.rstrip()}\n\n{notice}\n"
            raw = without_files(row.raw.encode("utf-8", "surrogateescape"), text)
            repository.resend_without_files(row_id, raw.decode("utf-8", "surrogateescape"), text,
                                            f"sent again without its attachments: {error}"[:2000], now)
            if row.case_id:
                case = repository.load_case(row.case_id)
                self.enqueue_all(lifecycle.on_files_refused(case_view(case), row.kind, row.recipient, row.subject,
                                                            names, error, now, self.policy_for(case)), case, now)
            log.warning("email too large for the mail server: sent again without its attachments",
                        case_id=row.case_id, message_id=row.message_id, error=error, files=len(names))
            return True

    # --- timers -------------------------------------------------------------

    def fire_due_timers(self, now: datetime, limit: int = 100) -> int:
        """Fire the timers due by ``now`` (up to ``limit``) with every email they cause, all or nothing
        (firing.py says how no timer fires twice); return how many fired."""
        return firing.fire_due(self, now, limit)

    def next_timer_at(self) -> datetime | None:
        return repository.next_timer_at()


def _tone_columns(reading) -> tuple[str, tuple[str, ...]]:
    """A customer message's tone and signals as stored ("" and none when [tone] is off)."""
    return (reading.tone, reading.signals) if reading is not None else ("", ())

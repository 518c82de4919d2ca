"""Sample data for ``aftercare render``: the real case rules run on a made-up case.

Rendering goes through the same lifecycle functions as the daemon, so a sample
shows exactly the variables a template receives in production.
"""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from .cases import aftercare, lifecycle, plan, reminders
from .cases.ratings import Rating
from .cases.commands import CommandError, parse_reply
from .cases.routing import CaseView
from .cases.tone import ToneReading
from .cases.verification import reply_address
from .casework import aftercare_policy_from, case_view, policy_from
from .config import Config
from .inbound import Attachment, DeliveryReport, InboundMail
from .templates import TemplateProblem, Templates

# What the triage of issue 17 tells staff about a new complaint, as staff/new_case and staff/urgent receive it:
# an angry French customer whose language has templates; then a calm Italian one whose has none.
SAMPLE_TRIAGE = {
    "language": {"code": "fr", "name": "French", "templates": True},
    "tone": {"level": "angry", "signals": ["threatens a chargeback", "writes in capitals"],
             "advice": "Slow down, stay calm, and offer to talk by phone.", "senior_told": True},
    "priority": "urgent",
}
SAMPLE_TRIAGE_CALM = {"language": {"code": "it", "name": "Italian", "templates": False}, "tone": None,
                      "priority": "normal"}

SAMPLE_TEXT = ("Hello,\n\nI ordered a kettle (order 10234) two weeks ago and it arrived with a cracked lid. "
               "I wrote last week and nobody answered. I would like a replacement before the weekend.\n\nMaria")


def sample_mail(text: str = SAMPLE_TEXT, subject: str = "Cracked kettle lid, order 10234",
                sender: str = "maria.rossi@example.net", name: str = "Maria Rossi") -> InboundMail:
    return InboundMail(
        message_id="CAF3x9sample@mail.example.net", fingerprint="CAF3x9sample@mail.example.net",
        from_address=sender, from_name=name, to=("support@example.com",), cc=(), reply_to=(),
        subject=subject, date=datetime(2026, 3, 2, 9, 14), in_reply_to=(), references=(), text=text,
        attachments=(Attachment("lid.jpg", "image/jpeg", 184_320, sha256="5a" * 32, data=b"(a photo)"),
                     Attachment("receipt.pdf", "application/pdf", 41_205, sha256="7c" * 32, data=b"(a pdf)")),
        headers={}, return_path=sender,
        delivery_report=None, size=4096,
    )


def sample_outgoing(config: Config, case: CaseView | None = None) -> list[lifecycle.Outgoing]:
    policy = policy_from(config)
    now = datetime(2026, 3, 2, 9, 15)
    mail = sample_mail()
    case = case or CaseView(id=1042, status="open", customer_address=mail.from_address, customer_name=mail.from_name,
                            subject=mail.subject, owner=config.default_inbox.staff.default_owner, created_at=now,
                            first_response_due_at=now + policy.first_response_due)
    inbox = config.default_inbox
    staff = inbox.staff.default_owner
    reply = sample_mail("I am so sorry about the lid, Maria. A new kettle leaves our warehouse today.", sender=staff,
                        name=lifecycle.person_name(staff, policy.staff_names))
    bounce = InboundMail(**{**mail.__dict__, "from_address": "mailer-daemon@mx.example.net",
                            "delivery_report": DeliveryReport(("ack@example.com",), (mail.from_address,), "failed",
                                                              "5.1.1", "550 5.1.1 User unknown")})
    out = []
    out += lifecycle.on_case_opened(case, mail, now, policy)
    out += lifecycle.on_customer_reply(case, mail, "Any news? The weekend is close.", now + timedelta(days=1), policy)
    abusive = ToneReading("abusive", ("calls you names: 'clowns'", "threatens a chargeback"))
    out += lifecycle.on_customer_reply(case, mail, "You clowns. I am calling my bank.", now + timedelta(days=2), policy,
                                       triage=lifecycle.Triage("en", "English", True, abusive), senior_told=True)
    later = now + timedelta(hours=2)
    steps = [plan.StepView(1, "Send a replacement kettle by express courier", now + timedelta(days=2)),
             plan.StepView(2, "Refund the delivery charge", now + timedelta(days=3))]
    history = [{"time": now, "who": case.customer_address, "text": mail.text}]

    words = dataclasses.replace(reply, attachments=())  # a plain reply: everything in it is relayed

    def staff(text: str, steps_now=(), case_now=case):
        return plan.work_reply(case_now, list(steps_now), parse_reply(text), words, later, policy, history).emails

    out += staff("#plan +2d Send a replacement kettle by express courier\n#plan +3d Refund the delivery charge\n"
                 + reply.text)
    out += staff("#done 1\nThe new kettle is on its way.", steps)
    out += staff("#done 1,2", steps)
    other = next((a for a in inbox.staff.addresses if a != case.owner), None)
    if other is None:  # a one-person team: a made-up colleague shows the handover emails
        other = "colleague@" + (inbox.smtp.domain or "example.com")
        policy = dataclasses.replace(policy, staff_addresses=policy.staff_addresses + (other,))
    out += plan.work_reply(case, steps, parse_reply(f"#owner {other}"), words, later, policy, history).emails
    out += staff("#status", steps)
    out += staff("#resolve")
    try:
        parse_reply("#plan tomorrow Call back")
    except CommandError as exc:
        out += plan.command_error(case, exc, reply, later, policy).emails
    out += plan.on_timer("first_response", case, None, steps, now + timedelta(days=1), policy)
    out += plan.on_timer("step_reminder", case, steps[0], steps, steps[0].due_at - timedelta(hours=2), policy)
    out += plan.on_timer("step_escalation", case, steps[0], steps, steps[0].due_at + timedelta(days=1), policy)
    owed = now + timedelta(days=8) + policy.first_response_due  # a low rating reopened it; nobody answered
    out += plan.on_timer("reopened_low_rating", CaseView(**{**case.__dict__, "status": "open", "reopened_count": 1}),
                         None, steps, owed, policy,
                         plan.Reopening(owed, 2, "The new kettle is fine but it took three weeks."))
    out += lifecycle.on_suspicious(case, reply, "no valid reply token", now, policy)
    # A reply on a closed case with files: the words go, the progress email does not, nor a program (blocked)
    # nor a file over the size budget.
    closed = CaseView(**{**case.__dict__, "status": "closed"})
    files = [Attachment("return-label.pdf", "application/pdf", 48_000, sha256="1e" * 32),
             Attachment("unboxing.mov", "video/quicktime", policy.max_attachments_size + 1, sha256="2f" * 32),
             Attachment("KettleFix.exe", "application/x-msdownload", 300_000, sha256="3a" * 32)]
    out += [e for e in plan.work_reply(closed, steps, parse_reply("#done 1\nHere is the return label."), reply,
                                       later, policy, history, files).emails if e.template == "staff/not_relayed"]
    out += lifecycle.on_files_refused(case, "relay", case.customer_address, f"Re: {case.subject} [Case #{case.id}]",
                                      ["return-label.pdf"], "552 5.3.4 Message size exceeds fixed maximum message size",
                                      later, policy)
    # One timer pass after an outage: two reminders and two escalations per person become one email each.
    other_case = CaseView(**{**case.__dict__, "id": case.id + 1, "customer_name": "Tom Berger",
                             "customer_address": "tom.berger@example.org", "subject": "Refund not received"})
    overdue = steps[0].due_at + timedelta(days=1, hours=1)
    decided = [reminders.Decided(c.id, e)
               for c, e in [(case, e) for e in plan.on_timer("step_overdue", case, steps[0], steps, overdue, policy)]
               + [(other_case, e) for e in plan.on_timer("step_overdue", other_case, steps[1], steps, overdue,
                                                         policy)]
               + [(case, e) for e in plan.on_timer("step_escalation", case, steps[0], steps, overdue, policy)]
               + [(other_case, e) for e in plan.on_timer("first_response", other_case, None, [], overdue, policy)]]
    out += [d.email for d in reminders.gather(
        decided, overdue, policy,
        reply_address=lambda case_id, to: reply_address(policy.support_address or "support@example.com",
                                                        b"sample", case_id, to)) if d.case_id is None]
    resolved = CaseView(**{**case.__dict__, "status": "resolved"})
    care = aftercare_policy_from(config)
    out += aftercare.on_followup(resolved, now + timedelta(days=2), policy)
    out += aftercare.on_checkin(resolved, now + timedelta(days=7), policy, discount_code="THANKYOU-7Q2X",
                                discount_value=care.extras.discount_value or "15%", apology=True, pool_empty=True)
    out += aftercare.on_rating(resolved, Rating(2, "The new kettle is fine but it took three weeks."),
                               now + timedelta(days=8), policy, care, discount_code="THANKYOU-7Q2X",
                               apology=True).emails
    out += aftercare.on_rating(resolved, Rating(5, "Thank you, Jane was wonderful."), now + timedelta(days=8),
                               policy, care).emails
    out += lifecycle.on_staff_unmatched(reply, now, policy)
    out += lifecycle.on_bounce(case, [lifecycle.BouncedEmail("acknowledgment", case.customer_address,
                                                             f"Re: {case.subject} [Case #{case.id}]", "ack@example.com")],
                               bounce, now, policy)
    out += lifecycle.on_delivery_failed(case, "acknowledgment", case.customer_address, f"Re: {case.subject}",
                                        "550 5.1.1 mailbox unavailable", now, policy)
    out += lifecycle.on_quarantine(case, mail, "failed 3 times: ValueError: example", inbox.mailbox.quarantine_folder,
                                   now, policy)
    out += lifecycle.on_login_refused(
        "IMAP", inbox.mailbox.username,
        "token endpoint login.microsoftonline.com refused: invalid_grant: AADSTS700082: The refresh token has expired",
        "run `aftercare oauth2 authorize`, then reload", now - timedelta(minutes=5), now, policy)
    return with_triage(out)


def with_triage(out: list[lifecycle.Outgoing]) -> list[lifecycle.Outgoing]:
    """The samples of issue 17's variables, whatever the case rules filled in: the acknowledgment both
    without and with the offer of a call (``urgent``), the owner's notification with a tone and a
    language and without, and ``staff/urgent`` (the notification's variables, for staff.escalation)."""
    done: list[lifecycle.Outgoing] = []
    for email in out:
        if email.template == "customer/acknowledgment":
            done += [dataclasses.replace(email, context={**email.context, "urgent": urgent}) for urgent in (False, True)]
        elif email.template == "staff/new_case":
            loud = dataclasses.replace(email, context={**email.context, **SAMPLE_TRIAGE})
            done += [loud, dataclasses.replace(email, context={**email.context, **SAMPLE_TRIAGE_CALM})]
            if not any(o.template == "staff/urgent" for o in out):
                done.append(dataclasses.replace(loud, template="staff/urgent"))
        elif email.template == "staff/urgent":
            done.append(dataclasses.replace(email, context={**email.context, **SAMPLE_TRIAGE}))
        else:
            done.append(email)
    return done


def render_sample(config: Config, templates: Templates, name: str, case_id: int | None = None,
                  language: str | None = None) -> str:
    """``name`` rendered as it would be sent: with sample data or a case's, in ``language`` (default: the
    case's for a customer email, else the configured default; staff emails in [staff] language)."""
    view = None
    if case_id is not None:
        from .store.models import Case
        row = Case.get_or_none(Case.id == case_id)
        if row is None:
            raise SystemExit(f"no case #{case_id}")
        view = case_view(row)
    default = config.customer.default_language
    if name.startswith("customer/"):
        language = language or (view.language if view is not None and view.language else default)
    else:
        language, default = language or config.default_inbox.staff.language, config.default_inbox.staff.language
    for out in sample_outgoing(config, view):
        if out.template == name:
            email = templates.render(name, out.context, language=language, default_language=default)
            parts = [f"To: {out.to_name} <{out.to}>", f"Content-Language: {email.language}",
                     f"Subject: {email.subject}", "", email.text]
            if email.html:
                parts += ["--- HTML alternative ---", email.html]
            return "\n".join(parts)
    known = sorted({o.template for o in sample_outgoing(config, view)})
    raise SystemExit(f"no template {name!r}; templates: {', '.join(known)}")


def variables_of(context: dict) -> list[str]:
    """``case.id``, ``case.ref``, ``customer.name``, ... : what a template may use."""
    out = []
    for key, value in context.items():
        if isinstance(value, dict):
            out += [f"{key}.{sub}" for sub in value]
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            out += [f"{key}[].{sub}" for sub in value[0]]
        else:
            out.append(key)
    return sorted(out)


def validate_templates(config: Config, templates: Templates) -> dict[str, list[str]]:
    """Compile every template, refuse one that uses a variable its emails never have, and render each with
    sample data, so a mistake is found now, not when the first customer writes.

    Returns each template's name with the variables it may use. Raises TemplateProblem.
    """
    names = templates.compile_all()
    variants = templates.variants()  # ("de", "customer/acknowledgment"), ...: each checked as its base is
    samples = sample_outgoing(config)
    contexts: dict[str, dict] = {}
    for out in samples:
        contexts.setdefault(out.template, {}).update(out.context)
    for language, name in [(None, n) for n in names] + variants:
        file = f"{language}/{name}" if language else name
        if name not in contexts:
            raise TemplateProblem(f"{templates.source_of(file + '.txt')}: Aftercare sends no email named {name!r}; "
                                  f"known: {', '.join(sorted(contexts))}")
        unknown = sorted(templates.undeclared(file) - set(contexts[name]))
        if unknown:
            raise TemplateProblem(f"{templates.where_used(file, unknown[0])}: uses {', '.join(unknown)}, which "
                                  f"this email does not have; it may use: {', '.join(sorted(contexts[name]))}")
    languages: dict[str, list[str]] = {}
    for language, name in variants:
        languages.setdefault(name, []).append(language)
    for out in samples:
        if out.template not in contexts or out.template not in names:
            continue  # an email whose template is not written yet (staff/urgent before its file): nothing to check
        templates.render(out.template, out.context)
        for language in languages.get(out.template, []):  # the variant that language gets
            templates.render_file(f"{language}/{out.template}", out.context, language)
    for inbox in config.inboxes:
        if inbox.templates is not None and inbox.templates not in templates.directories:
            validate_templates(config, templates.with_first(inbox.templates))  # a mailbox's own, over the others
    return {name: variables_of(contexts[name]) for name in names}

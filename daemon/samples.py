"""Sample data for ``aftercare render``: the real case rules run on a made-up case.

Rendering goes through the same lifecycle functions as the daemon, so a sample
shows exactly the variables a template receives in production.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from .cases import lifecycle, plan
from .cases.commands import CommandError, parse_reply
from .cases.routing import CaseView
from .casework import case_view, policy_from
from .config import Config
from .mail.inbound import Attachment, DeliveryReport, InboundMail
from .templates import Templates

SAMPLE_TEXT = ("Hello,\n\nI ordered a kettle (order 10234) two weeks ago and it arrived with a cracked lid. "
               "I wrote last week and nobody answered. I would like a replacement before the weekend.\n\nMaria")


def sample_mail(text: str = SAMPLE_TEXT, subject: str = "Cracked kettle lid, order 10234",
                sender: str = "maria.rossi@example.net", name: str = "Maria Rossi") -> InboundMail:
    return InboundMail(
        message_id="CAF3x9sample@mail.example.net", fingerprint="CAF3x9sample@mail.example.net",
        from_address=sender, from_name=name, to=("support@example.com",), cc=(), reply_to=(),
        subject=subject, date=datetime(2026, 3, 2, 9, 14), in_reply_to=(), references=(), text=text,
        attachments=(Attachment("lid.jpg", "image/jpeg", 184_320),), headers={}, return_path=sender,
        delivery_report=None, size=4096,
    )


def sample_outgoing(config: Config, case: CaseView | None = None) -> list[lifecycle.Outgoing]:
    policy = policy_from(config)
    now = datetime(2026, 3, 2, 9, 15)
    mail = sample_mail()
    case = case or CaseView(id=1042, status="open", customer_address=mail.from_address, customer_name=mail.from_name,
                            subject=mail.subject, owner=config.staff.default_owner, created_at=now,
                            first_response_due_at=now + policy.first_response_due)
    staff = config.staff.default_owner
    reply = sample_mail("I am so sorry about the lid, Maria. A new kettle leaves our warehouse today.", sender=staff,
                        name=lifecycle.person_name(staff, policy.staff_names))
    bounce = InboundMail(**{**mail.__dict__, "from_address": "mailer-daemon@mx.example.net",
                            "delivery_report": DeliveryReport(("ack@example.com",), (mail.from_address,), "failed",
                                                              "5.1.1", "550 5.1.1 User unknown")})
    out = []
    out += lifecycle.on_case_opened(case, mail, now, policy)
    out += lifecycle.on_customer_reply(case, mail, "Any news? The weekend is close.", now + timedelta(days=1), policy)
    later = now + timedelta(hours=2)
    steps = [plan.StepView(1, "Send a replacement kettle by express courier", now + timedelta(days=2)),
             plan.StepView(2, "Refund the delivery charge", now + timedelta(days=3))]
    history = [{"time": now, "who": case.customer_address, "text": mail.text}]

    def staff(text: str, steps_now=(), case_now=case):
        return plan.work_reply(case_now, list(steps_now), parse_reply(text), reply, later, policy, history).emails

    out += staff("#plan +2d Send a replacement kettle by express courier\n#plan +3d Refund the delivery charge\n"
                 + reply.text)
    out += staff("#done 1\nThe new kettle is on its way.", steps)
    out += staff("#done 1,2", steps)
    other = next((a for a in config.staff.addresses if a != case.owner), case.owner)
    if other != case.owner:
        out += staff(f"#owner {other}", steps)
    out += staff("#status", steps)
    out += staff("#resolve")
    try:
        parse_reply("#plan tomorrow Call back")
    except CommandError as exc:
        out += plan.command_error(case, exc, reply, later, policy).emails
    out += plan.on_timer("first_response", case, None, steps, now + timedelta(days=1), policy)
    out += plan.on_timer("step_reminder", case, steps[0], steps, steps[0].due_at - timedelta(hours=2), policy)
    out += plan.on_timer("step_escalation", case, steps[0], steps, steps[0].due_at + timedelta(days=1), policy)
    out += lifecycle.on_suspicious(case, reply, "no valid reply token", now, policy)
    out += lifecycle.on_staff_unmatched(reply, now, policy)
    out += lifecycle.on_bounce(case, [lifecycle.BouncedEmail("acknowledgment", case.customer_address,
                                                             f"Re: {case.subject} [Case #{case.id}]", "ack@example.com")],
                               bounce, now, policy)
    out += lifecycle.on_delivery_failed(case, "acknowledgment", case.customer_address, f"Re: {case.subject}",
                                        "550 5.1.1 mailbox unavailable", now, policy)
    out += lifecycle.on_quarantine(case, mail, "failed 3 times: ValueError: example", config.mailbox.quarantine_folder,
                                   now, policy)
    return out


def render_sample(config: Config, templates: Templates, name: str, case_id: int | None = None) -> str:
    view = None
    if case_id is not None:
        from .store.models import Case
        row = Case.get_or_none(Case.id == case_id)
        if row is None:
            raise SystemExit(f"no case #{case_id}")
        view = case_view(row)
    for out in sample_outgoing(config, view):
        if out.template == name:
            email = templates.render(name, out.context)
            parts = [f"To: {out.to_name} <{out.to}>", f"Subject: {email.subject}", "", email.text]
            if email.html:
                parts += ["--- HTML alternative ---", email.html]
            return "\n".join(parts)
    known = sorted({o.template for o in sample_outgoing(config, view)})
    raise SystemExit(f"no template {name!r}; templates: {', '.join(known)}")


def validate_templates(config: Config, templates: Templates) -> list[str]:
    """Compile every template and render each with sample data, so an unknown variable is found now,
    not when the first customer writes. Raises TemplateProblem; returns the names."""
    names = templates.compile_all()
    for out in sample_outgoing(config):
        templates.render(out.template, out.context)
    return names

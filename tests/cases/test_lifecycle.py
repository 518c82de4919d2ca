"""What opening a case and answering on it send: the case rules with an injected now."""
from datetime import datetime, timedelta

from aftercare.cases import lifecycle
from aftercare.cases.lifecycle import Policy
from aftercare.cases.routing import CaseView
from aftercare.inbound import InboundMail

NOW = datetime(2026, 3, 2, 9, 0)
POLICY = Policy(first_response_due=timedelta(hours=24), support_name="Acme Support",
                support_address="support@example.com", staff_names={"jane@example.com": "Jane Doe"},
                default_owner="jane@example.com")


def mail(sender="maria@example.net", name="Maria Rossi", subject="Re: Broken kettle [Case #3]", text="It broke."):
    return InboundMail(message_id="m1@x", fingerprint="m1@x", from_address=sender, from_name=name, to=(), cc=(),
                       reply_to=(), subject=subject, date=None, in_reply_to=(), references=(), text=text,
                       attachments=(), headers={}, return_path=sender, delivery_report=None, size=1)


def view(**kw):
    base = dict(id=3, status="open", customer_address="maria@example.net", customer_name="Maria Rossi",
                subject="Broken kettle", owner="jane@example.com", created_at=NOW,
                first_response_due_at=NOW + timedelta(hours=24))
    base.update(kw)
    return CaseView(**base)


def test_new_case_promises_a_reply_within_first_response_due_and_strips_the_tag():
    fields = lifecycle.new_case(mail(), "jane@example.com", NOW, POLICY)
    assert fields.first_response_due_at == NOW + timedelta(hours=24)
    assert fields.subject == "Broken kettle"
    assert lifecycle.new_case(mail(subject="AW: RE: Fwd: Kaputt"), "j@x", NOW, POLICY).subject == "Kaputt"
    assert fields.status == "open" and fields.owner == "jane@example.com"


def test_opening_acknowledges_the_customer_and_tells_the_owner():
    out = lifecycle.on_case_opened(view(), mail(), NOW, POLICY)
    assert [(o.kind, o.to, o.auto_submitted) for o in out] == [
        ("acknowledgment", "maria@example.net", "auto-replied"),
        ("notification", "jane@example.com", "auto-generated"),
    ]
    ctx = out[0].context
    assert ctx["owner"]["name"] == "Jane Doe" and ctx["promise"] == "24 hours"
    assert ctx["customer"]["first_name"] == "Maria" and ctx["case"]["ref"] == "Case #3"


def test_a_case_without_a_sender_address_is_still_shown_to_the_owner():
    out = lifecycle.on_case_opened(view(customer_address=""), mail(sender=None), NOW, POLICY)
    assert [o.kind for o in out] == ["notification"]


def test_first_staff_reply_stamps_first_response_and_later_ones_do_not():
    from aftercare.cases import plan
    from aftercare.cases.commands import parse_reply
    staff = mail(sender="jane@example.com")
    out = plan.work_reply(view(), [], parse_reply("We are on it."), staff, NOW, POLICY)
    assert out.first_response_at == NOW and out.cancel_first_response
    relay = out.emails[0]
    assert relay.kind == "relay" and relay.auto_submitted is None and relay.to == "maria@example.net"
    assert relay.context["author"]["name"] == "Jane Doe"
    later = plan.work_reply(view(first_response_at=NOW), [], parse_reply("More."), staff,
                            NOW + timedelta(hours=1), POLICY)
    assert later.first_response_at is None and [e.kind for e in later.emails] == ["relay"]


def test_an_empty_staff_reply_relays_nothing():
    from aftercare.cases import plan
    from aftercare.cases.commands import parse_reply
    out = plan.work_reply(view(), [], parse_reply("  \n"), mail(sender="jane@example.com"), NOW, POLICY)
    assert out.emails == [] and out.first_response_at is None


def test_round_robin_takes_turns_and_default_always_gives_the_default_owner():
    staff = ("a@x", "b@x", "c@x")
    owners, cursor = [], 0
    for _ in range(4):
        owner, cursor = lifecycle.pick_owner(staff, "a@x", "round-robin", cursor)
        owners.append(owner)
    assert owners == ["a@x", "b@x", "c@x", "a@x"]
    assert lifecycle.pick_owner(staff, "b@x", "default", 5) == ("b@x", 5)


def test_person_names_come_from_config_or_the_address():
    assert lifecycle.person_name("jane@example.com", POLICY.staff_names) == "Jane Doe"
    assert lifecycle.person_name("sam.o-neil+support@example.com", {}) == "Sam O Neil"


def test_delivery_failure_of_an_owner_notice_does_not_notify_again():
    assert lifecycle.on_delivery_failed(view(), "notification", "jane@example.com", "s", "550", NOW, POLICY) == []
    out = lifecycle.on_delivery_failed(view(), "acknowledgment", "maria@example.net", "s", "550 no", NOW, POLICY)
    assert out[0].to == "jane@example.com" and out[0].context["failed"]["error"] == "550 no"

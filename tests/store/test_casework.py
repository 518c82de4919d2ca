"""Cases change in one transaction with their emails: SQLite and PostgreSQL."""
from datetime import datetime, timedelta
from email import message_from_bytes, policy

from aftercare.casework import Casework
from aftercare.inbound import DeliveryReport, InboundMail
from aftercare.store import outbox
from aftercare.store.database import SCHEMA_VERSION, current_version, migrate
from aftercare.store.models import Case, Message
from aftercare.templates import Templates

NOW = datetime(2026, 3, 2, 9, 0)


def mail(mid="m1@example.net", sender="maria@example.net", subject="Broken kettle", text="It broke.", **kw):
    base = dict(message_id=mid, fingerprint=mid, from_address=sender, from_name="Maria Rossi",
                to=("support@example.com",), cc=(), reply_to=(), subject=subject, date=None, in_reply_to=(),
                references=(), text=text, attachments=(), headers={}, return_path=sender, delivery_report=None,
                size=10)
    base.update(kw)
    return InboundMail(**base)


def outgoing(case_id=None):
    q = Message.select().where(Message.direction == "out").order_by(Message.id)
    if case_id:
        q = q.where(Message.case == case_id)
    return list(q)


def test_schema_is_versioned_and_migrate_is_idempotent(db):
    assert current_version(db) == SCHEMA_VERSION
    assert migrate(db) == SCHEMA_VERSION


def test_a_new_complaint_opens_a_case_and_stores_both_emails_before_sending(db, make_config):
    cw = Casework(make_config(), Templates())
    outcome = cw.handle_inbound(mail(), NOW)
    assert (outcome.route, outcome.case_id, outcome.outgoing) == ("new_case", 1, 2)
    case = Case.get_by_id(1)
    assert case.first_response_due_at == NOW + timedelta(hours=24) and case.owner == "jane@example.com"
    ack, note = outgoing()
    assert (ack.kind, ack.recipient, ack.status, ack.automated) == ("acknowledgment", "maria@example.net", "pending", True)
    raw = message_from_bytes(ack.raw.encode(), policy=policy.default)
    assert raw["Message-ID"] == f"<{ack.message_id}>" and ack.message_id.endswith("@example.com")
    assert raw["In-Reply-To"] == "<m1@example.net>"
    assert note.recipient == "jane@example.com" and note.kind == "notification"


def test_the_same_email_twice_is_recorded_once(db, make_config):
    cw = Casework(make_config(), Templates())
    cw.handle_inbound(mail(), NOW)
    again = cw.handle_inbound(mail(), NOW + timedelta(minutes=1))
    assert again.duplicate and Case.select().count() == 1 and len(outgoing()) == 2


def test_a_reply_threads_by_our_message_id_even_with_a_new_subject(db, make_config):
    cw = Casework(make_config(), Templates())
    cw.handle_inbound(mail(), NOW)
    ack = outgoing()[0]
    r = cw.handle_inbound(mail("m2@example.net", subject="totally different", in_reply_to=(ack.message_id,)), NOW)
    assert (r.route, r.case_id) == ("customer_reply", 1)
    assert outgoing()[-1].kind == "forward" and outgoing()[-1].recipient == "jane@example.com"


def test_round_robin_assignment_survives_across_transactions(db, make_config):
    cw = Casework(make_config(assign="round-robin"), Templates())
    for i in range(3):
        cw.handle_inbound(mail(f"m{i}@x", sender=f"c{i}@example.net"), NOW)
    assert [c.owner for c in Case.select().order_by(Case.id)] == ["jane@example.com", "sam@example.com",
                                                                   "jane@example.com"]


def test_the_per_recipient_limit_holds_back_automated_mail_and_records_it(db, make_config):
    cw = Casework(make_config(), Templates())  # recipient_limit = 3 in this config
    for i in range(5):
        cw.handle_inbound(mail(f"loop{i}@x", subject=f"Loop {i}"), NOW + timedelta(minutes=i))
    acks = [m for m in outgoing() if m.kind == "acknowledgment"]
    assert [a.status for a in acks] == ["pending"] * 3 + ["held"] * 2
    assert "recipient_limit" in acks[-1].last_error
    # Staff notifications are never held: the owner must see every case.
    assert all(m.status == "pending" for m in outgoing() if m.kind == "notification")
    # An hour later the window has passed.
    cw.handle_inbound(mail("late@x", subject="Later"), NOW + timedelta(hours=2))
    assert outgoing()[-2].status == "pending"


def test_a_bounce_marks_our_email_and_tells_the_owner(db, make_config):
    cw = Casework(make_config(), Templates())
    cw.handle_inbound(mail(), NOW)
    ack = outgoing()[0]
    report = DeliveryReport((ack.message_id,), ("maria@example.net",), "failed", "5.1.1", "user unknown")
    r = cw.handle_inbound(mail("bounce1@mx", sender="mailer-daemon@mx.example.net", subject="Undelivered",
                               delivery_report=report), NOW)
    assert (r.route, r.case_id) == ("bounce", 1)
    assert Message.get_by_id(ack.id).status == "bounced"
    notice = outgoing()[-1]
    assert notice.kind == "bounce_notice" and notice.recipient == "jane@example.com"


def test_a_permanent_refusal_fails_the_email_and_tells_the_owner_once(db, make_config):
    cw = Casework(make_config(), Templates())
    cw.handle_inbound(mail(), NOW)
    ack = outgoing()[0]
    cw.delivery_failed(ack.id, "550 5.1.1 no such user", NOW)
    assert Message.get_by_id(ack.id).status == "failed"
    notice = outgoing()[-1]
    assert notice.kind == "delivery_failed" and notice.recipient == "jane@example.com"
    cw.delivery_failed(notice.id, "550 again", NOW)  # a refused notice does not notify again
    assert outgoing()[-1].id == notice.id


def test_outbox_claims_recover_and_retry(db, make_config):
    cw = Casework(make_config(), Templates())
    cw.handle_inbound(mail(), NOW)
    claimed = outbox.claim_due(NOW)
    assert len(claimed) == 2 and outbox.claim_due(NOW) == []
    assert outbox.recover_in_flight() == 2  # a crash mid-send: back to pending, same Message-ID
    claimed = outbox.claim_due(NOW)
    outbox.mark_retry(claimed[0].id, "451 try later", NOW, timedelta(seconds=30))
    outbox.mark_sent([claimed[1].id], NOW)
    assert outbox.claim_due(NOW + timedelta(seconds=10)) == []
    again = outbox.claim_due(NOW + timedelta(seconds=31))
    assert [r.id for r in again] == [claimed[0].id] and again[0].attempts == 1
    assert again[0].message_id == claimed[0].message_id


def test_quarantine_records_and_notifies_the_default_owner(db, make_config):
    cw = Casework(make_config(), Templates())
    assert cw.note_failure("mb", 1, 7, "boom", NOW) == 1
    assert cw.note_failure("mb", 1, 7, "boom", NOW) == 2
    cw.quarantine(mail("poison@x"), "poison@x", "failed 3 times: boom", NOW)
    notice = outgoing()[-1]
    assert notice.kind == "quarantine_notice" and notice.recipient == "jane@example.com"
    assert Message.get(Message.fingerprint == "poison@x").kind == "quarantined"
    assert cw.quarantine(mail("poison@x"), "poison@x", "again", NOW) is None and len(outgoing()) == 1


def test_a_huge_subject_is_cut_in_our_emails_but_keeps_the_case_tag(db, make_config):
    cw = Casework(make_config(), Templates())
    cw.handle_inbound(mail(subject="S" * 1_000_000), NOW)
    assert len(Case.get_by_id(1).subject) >= 1_000_000  # the record keeps what the customer wrote
    for row in outgoing():
        subject = message_from_bytes(row.raw.encode(), policy=policy.default)["Subject"]
        assert "[Case #1]" in subject and "…" in subject and len(subject) < 230, subject[:80]

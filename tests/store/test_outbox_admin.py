"""An operator's list, retry and cancel of outgoing emails, recorded on the case: SQLite and PostgreSQL."""
import threading
import time
from datetime import datetime, timedelta

import pytest

from aftercare.casework import Casework
from aftercare.store import outbox, outbox_admin
from aftercare.store.models import CaseEvent, Message, database
from aftercare.store.outbox_admin import OutboxRefused
from aftercare.templates import Templates
from test_casework import mail, outgoing

NOW = datetime(2026, 3, 2, 9, 0)
LATER = NOW + timedelta(hours=1)
ACTOR = "root (CLI)"


@pytest.fixture
def cw(db, make_config):
    return Casework(make_config(), Templates())


def _one_case(cw):
    """A new complaint: its acknowledgment and the owner's notification, both pending."""
    cw.handle_inbound(mail(), NOW)
    return outgoing()


def _events():
    return [(e.case_id, e.actor, e.action, e.detail) for e in CaseEvent.select().order_by(CaseEvent.id)]


def test_list_shows_every_unsent_email_by_default_and_one_status_on_request(cw):
    ack, note = _one_case(cw)
    cw.delivery_failed(ack.id, "550 5.1.1 no such user", NOW)
    notice = outgoing()[-1]  # the owner is told of the failure
    outbox.mark_sent([note.id], NOW)
    [claimed] = outbox.claim_due(NOW)
    assert claimed.id == notice.id
    rows = outbox_admin.list_outbox()
    assert [(r["id"], r["status"]) for r in rows] == [(ack.id, "failed"), (notice.id, "sending")]
    failed = outbox_admin.list_outbox("failed")
    assert [r["id"] for r in failed] == [ack.id]
    r = failed[0]
    assert {k: r[k] for k in ("case", "recipient", "kind", "attempts", "last_error")} == {
        "case": 1, "recipient": "maria@example.net", "kind": "acknowledgment", "attempts": 1,
        "last_error": "550 5.1.1 no such user"}
    assert r["subject"] and r["created_at"] == "2026-03-02T09:00:00Z" and "mailbox" in r
    assert outbox_admin.list_outbox("held") == []


def test_a_retried_failed_email_is_due_now_keeps_its_history_and_is_recorded_on_the_case(cw):
    ack, _ = _one_case(cw)
    cw.delivery_failed(ack.id, "550 5.1.1 no such user", NOW)
    row = outbox_admin.retry(ack.id, LATER, ACTOR)
    assert (row["status"], row["attempts"], row["next_attempt_at"]) == ("pending", 1, "2026-03-02T10:00:00Z")
    assert _events() == [(1, ACTOR, "outbox_retry", f"retried email #{ack.id} (acknowledgment to maria@example.net), "
                                                    "was failed: 550 5.1.1 no such user")]
    claimed = [r.id for r in outbox.claim_due(LATER)]
    assert ack.id in claimed  # the dispatcher takes it on its next pass
    assert Message.get_by_id(ack.id).message_id == ack.message_id  # the same email, not a new one


def test_retrying_a_held_email_is_the_operator_letting_it_go_despite_the_loop_limit(cw):
    for i in range(4):  # recipient_limit = 3: the fourth acknowledgment is held
        cw.handle_inbound(mail(f"loop{i}@x", subject=f"Loop {i}"), NOW + timedelta(minutes=i))
    held = [m for m in outgoing() if m.status == "held"]
    assert len(held) == 1
    assert [r["id"] for r in outbox_admin.list_outbox("held")] == [held[0].id]
    outbox_admin.retry(held[0].id, LATER, ACTOR)
    assert held[0].id in [r.id for r in outbox.claim_due(LATER)]
    [(case, _, action, detail)] = _events()
    assert (case, action) == (held[0].case_id, "outbox_retry") and "was held: held back" in detail


def test_retrying_a_pending_email_waiting_for_its_backoff_makes_it_due_now(cw):
    ack, note = _one_case(cw)
    outbox.claim_due(NOW)
    outbox.mark_retry(ack.id, "451 try later", NOW, timedelta(minutes=5))
    outbox.mark_sent([note.id], NOW)
    assert outbox.claim_due(NOW + timedelta(seconds=1)) == []
    outbox_admin.retry(ack.id, NOW + timedelta(seconds=1), ACTOR)
    [again] = outbox.claim_due(NOW + timedelta(seconds=1))
    assert (again.id, again.attempts) == (ack.id, 1)


@pytest.mark.parametrize("verb", ["retry", "cancel"])
def test_sent_bounced_cancelled_and_in_flight_emails_are_refused_with_the_reason_and_nothing_recorded(cw, verb):
    ack, note = _one_case(cw)
    cw.handle_inbound(mail("m2@example.net", sender="bob@example.net"), NOW)
    ack2, note2 = outgoing()[2:]
    claimed = outbox.claim_due(NOW, limit=2)
    assert [r.id for r in claimed] == [ack.id, note.id]
    outbox.mark_sent([note.id], NOW)  # ack stays in flight
    Message.update(status="bounced").where(Message.id == note2.id).execute()
    outbox_admin.cancel(ack2.id, NOW, ACTOR)
    CaseEvent.delete().execute()
    act = getattr(outbox_admin, verb)
    expected = {ack.id: "in flight (sending)", note.id: "already sent", note2.id: "bounced",
                ack2.id: "already cancelled", 9999: "no outgoing email #9999"}
    for row_id, reason in expected.items():
        with pytest.raises(OutboxRefused, match=reason.replace("(", r"\(").replace(")", r"\)")):
            act(row_id, LATER, ACTOR)
    assert _events() == []
    assert [m.status for m in outgoing()] == ["sending", "sent", "cancelled", "bounced"]


def test_an_incoming_message_is_no_outgoing_email(cw):
    _one_case(cw)
    inbound = Message.get(Message.direction == "in")
    with pytest.raises(OutboxRefused, match=f"no outgoing email #{inbound.id}"):
        outbox_admin.cancel(inbound.id, NOW, ACTOR)


@pytest.mark.parametrize("before", ["pending", "held", "failed"])
def test_a_cancelled_email_is_never_claimed_counted_or_listed_as_unsent(cw, before):
    ack, note = _one_case(cw)
    if before == "failed":
        cw.delivery_failed(ack.id, "550 no", NOW)
    else:
        Message.update(status=before).where(Message.id == ack.id).execute()
    row = outbox_admin.cancel(ack.id, NOW, ACTOR)
    assert row["status"] == "cancelled"
    assert _events() == [(1, ACTOR, "outbox_cancel",
                          f"cancelled email #{ack.id} (acknowledgment to maria@example.net), was {before}")]
    assert ack.id not in [r.id for r in outbox.claim_due(LATER)]
    assert ack.id not in [r["id"] for r in outbox_admin.list_outbox()]
    assert outbox.counts()["cancelled"] == 1
    assert outbox.next_due_at() is None  # the notice (if any) was claimed; nothing waits for the cancelled one


def test_a_cancelled_automatic_answer_does_not_count_against_the_loop_limit(cw):
    for i in range(3):  # recipient_limit = 3
        cw.handle_inbound(mail(f"loop{i}@x", subject=f"Loop {i}"), NOW + timedelta(minutes=i))
    first_ack = next(m for m in outgoing() if m.kind == "acknowledgment")
    outbox_admin.cancel(first_ack.id, NOW + timedelta(minutes=5), ACTOR)
    cw.handle_inbound(mail("loop3@x", subject="Loop 3"), NOW + timedelta(minutes=6))
    assert [m.status for m in outgoing() if m.kind == "acknowledgment"] == ["cancelled", "pending", "pending",
                                                                             "pending"]


def test_retry_all_failed_retries_each_failed_email_and_records_each_on_its_case(cw):
    for i in range(3):
        cw.handle_inbound(mail(f"m{i}@example.net", sender=f"c{i}@example.net"), NOW)
    acks = [m for m in outgoing() if m.kind == "acknowledgment"]
    cw.delivery_failed(acks[0].id, "550 a", NOW)
    cw.delivery_failed(acks[2].id, "550 c", NOW)
    done = outbox_admin.retry_all_failed(LATER, ACTOR)
    assert [r["id"] for r in done] == [acks[0].id, acks[2].id]
    assert [(e[0], e[2]) for e in _events()] == [(acks[0].case_id, "outbox_retry"), (acks[2].case_id, "outbox_retry")]
    assert outbox_admin.list_outbox("failed") == []
    assert outbox_admin.retry_all_failed(LATER, ACTOR) == []


def test_a_cancel_racing_the_dispatchers_claim_waits_for_it_and_is_refused(cw):
    """The claim commits while the cancel waits on it: the conditional update sees ``sending``, not the
    ``pending`` it would have read before, and the email in flight is left alone."""
    ack, _ = _one_case(cw)
    claimed, release = threading.Event(), threading.Event()

    def dispatcher():
        with database.atomic():
            (Message.update(status="sending", claimed_by=outbox.holder_id(), claim_until=LATER)
             .where((Message.id == ack.id) & (Message.status == "pending")).execute())
            claimed.set()
            release.wait(10)
        database.close()

    outcome = {}

    def operator():
        try:
            outcome["row"] = outbox_admin.cancel(ack.id, NOW, ACTOR)
        except OutboxRefused as exc:
            outcome["refused"] = str(exc)
        finally:
            database.close()

    a = threading.Thread(target=dispatcher)
    a.start()
    assert claimed.wait(10)
    b = threading.Thread(target=operator)
    b.start()
    time.sleep(0.5)
    assert b.is_alive()  # waiting for the claim's transaction
    release.set()
    a.join(10)
    b.join(10)
    assert outcome == {"refused": f"email #{ack.id} cannot be cancelled: in flight (sending): the dispatcher is "
                                  "handing it to the mail server now"}
    assert Message.get_by_id(ack.id).status == "sending" and _events() == []

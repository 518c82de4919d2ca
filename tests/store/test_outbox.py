"""The outbox's side log of accepted emails, and the prepared statements: SQLite and PostgreSQL."""
from datetime import datetime, timedelta

import pytest

from aftercare.casework import Casework
from aftercare.store import outbox
from aftercare.store.models import Case, Message
from aftercare.store.prepared import Prepared, PreparedInsert, param
from aftercare.templates import Templates
from test_casework import mail

NOW = datetime(2026, 3, 2, 9, 0)


def test_an_accepted_email_stays_sent_across_a_crash_and_only_the_one_in_flight_goes_back(db, make_config):
    Casework(make_config(), Templates()).handle_inbound(mail(), NOW)
    first, second = outbox.claim_due(NOW)
    log = outbox.SentLog.for_database()
    log.record(first.id, NOW + timedelta(seconds=1))  # the server accepted it; then the process dies
    # At start-up the note is folded in first, so only the email caught mid-send is sent again.
    assert outbox.recover_in_flight() == 1
    rows = {m.id: m for m in Message.select().where(Message.direction == "out")}
    assert rows[first.id].status == "sent" and rows[first.id].sent_at == NOW + timedelta(seconds=1)
    assert rows[second.id].status == "pending"
    assert outbox.SentLog.for_database().fold() == 0  # notes are forgotten once folded


def test_folding_never_overrides_a_later_verdict_on_the_email(db, make_config):
    Casework(make_config(), Templates()).handle_inbound(mail(), NOW)
    first, _ = outbox.claim_due(NOW)
    log = outbox.SentLog.for_database()
    if log.path is None:
        pytest.skip("PostgreSQL marks rows at once; there is nothing to fold")
    log.record(first.id, NOW)
    Message.update(status=outbox.BOUNCED).where(Message.id == first.id).execute()  # a bounce came first
    assert log.fold() == 1
    assert Message.get_by_id(first.id).status == "bounced"


def test_a_prepared_insert_writes_defaults_per_row_and_refuses_columns_it_was_not_built_for(db):
    insert = PreparedInsert(Case, ("status", "customer_address", "owner", "created_at", "updated_at"))
    ids = [insert(status="open", customer_address=f"c{i}@example.net", owner="jane@example.com", created_at=NOW,
                  updated_at=NOW) for i in range(3)]
    assert len(set(ids)) == 3
    rows = list(Case.select().where(Case.id.in_(ids)).order_by(Case.id))
    assert [r.customer_address for r in rows] == ["c0@example.net", "c1@example.net", "c2@example.net"]
    assert all(r.subject == "" and r.reopened_count == 0 and r.apology_sent is False for r in rows)
    with pytest.raises(TypeError, match="rating_score"):
        insert(status="open", customer_address="x@example.net", owner="o", created_at=NOW, updated_at=NOW,
               rating_score=5)


def test_a_prepared_query_runs_with_fresh_parameters_each_time(db):
    insert = PreparedInsert(Case, ("status", "customer_address", "owner", "created_at", "updated_at"))
    for status in ("open", "open", "closed"):
        insert(status=status, customer_address="c@example.net", owner="o", created_at=NOW, updated_at=NOW)
    count = Prepared(lambda: Case.select(Case.id).where((Case.status == param("status"))
                                                        & (Case.created_at >= param("since"))))
    assert len(count.rows(status="open", since=NOW)) == 2
    assert len(count.rows(status="closed", since=NOW)) == 1
    assert count.rows(status="open", since=NOW + timedelta(days=1)) == []

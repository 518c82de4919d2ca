"""No timer fires twice, even with two processes firing timers on one database at the same moment.

Two threads stand in for two processes: peewee keeps a connection per thread, so each works in its own
connection and its own transactions. On PostgreSQL the due timers are claimed FOR UPDATE SKIP LOCKED and
marked fired with a conditional update; on SQLite the writers take turns and the same conditional update
guards them.
"""
from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta

import pytest

from aftercare.casework import Casework
from aftercare.cases.verification import reply_address
from aftercare.inbound import InboundMail
from aftercare.store.models import Case, Message, Timer, database
from aftercare.templates import Templates

T0 = datetime(2026, 3, 2, 9, 0)
CASES = 30


def mail(mid, sender, text, to=("support@example.com",), subject="Broken kettle"):
    return InboundMail(message_id=mid, fingerprint=mid, from_address=sender, from_name="", to=to, cc=(),
                       reply_to=(), subject=subject, date=None, in_reply_to=(), references=(), text=text,
                       attachments=(), headers={}, return_path=sender, delivery_report=None, size=10)


def resolved_cases(cw, n):
    for i in range(n):
        case_id = cw.handle_inbound(mail(f"c{i}@x", f"customer{i}@example.net", "It broke."), T0).case_id
        to = reply_address("support@example.com", cw.secret(), case_id, "jane@example.com")
        out = cw.handle_inbound(mail(f"s{i}@x", "jane@example.com", "#resolve\nA new one is with you.", to=(to,),
                                     subject=f"Re: Broken kettle [Case #{case_id}]"), T0)
        assert out.route == "staff_reply"


def race(cw, now, limit, threads=2):
    """Each thread fires passes of ``limit`` timers until a pass fires none; returns what each fired."""
    barrier = threading.Barrier(threads)
    fired: list[list[int]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []

    def work(k):
        try:
            barrier.wait()
            while True:
                n = cw.fire_due_timers(now, limit=limit)
                fired[k].append(n)
                if n == 0:
                    break
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            database.close()  # this thread's own connection

    workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert not errors, errors
    assert not any(w.is_alive() for w in workers)
    return fired


@pytest.mark.parametrize("limit", [3, 100])
def test_two_processes_firing_the_same_due_timers_fire_each_once_and_store_its_emails_once(db, make_config,
                                                                                            limit):
    cw = Casework(make_config(), Templates())
    resolved_cases(cw, CASES)
    now = T0 + timedelta(days=2)  # every follow-up is due; no check-in yet
    due = list(Timer.select().where((Timer.state == "waiting") & (Timer.due_at <= now)))
    assert len(due) == CASES and {t.kind for t in due} == {"followup"}
    database.close()  # the main thread's connection is not one of the two

    fired = race(cw, now, limit)

    assert sum(map(sum, fired)) == CASES  # between them, each timer fired exactly once
    timers = list(Timer.select().where(Timer.kind == "followup"))
    assert all(t.state == "fired" and t.fired_at == now for t in timers)
    followups = Counter(m.case_id for m in Message.select().where(Message.kind == "followup"))
    assert followups == Counter({c.id: 1 for c in Case.select()})  # one follow-up per case, never two
    # The check-ins were not touched: they are due at their own time, the gap behind the follow-up.
    checkins = list(Timer.select().where(Timer.kind == "checkin"))
    assert all(t.state == "waiting" and t.due_at == T0 + timedelta(days=7) for t in checkins)


def test_a_timer_claimed_elsewhere_between_the_select_and_the_claim_is_skipped(db, make_config, monkeypatch):
    # The conditional update is what decides: if another process fired a timer after this pass read it,
    # this pass must neither count it nor send its emails.
    cw = Casework(make_config(), Templates())
    resolved_cases(cw, 2)
    now = T0 + timedelta(days=2)
    first, second = Timer.select().where(Timer.kind == "followup").order_by(Timer.id)
    real_get = Timer.get_or_none

    def fired_by_someone_else(*args, **kw):
        row = real_get(*args, **kw)
        if row is not None and row.id == second.id:
            Timer.update(state="fired", fired_at=now).where(Timer.id == second.id).execute()
        return row

    monkeypatch.setattr(Timer, "get_or_none", fired_by_someone_else)
    assert cw.fire_due_timers(now) == 1
    assert [m.case_id for m in Message.select().where(Message.kind == "followup")] == [first.case_id]

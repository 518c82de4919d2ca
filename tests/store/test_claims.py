"""Outbox claims name their holder and expire; only the holder, an expiry or a proven death gives them back."""
import socket
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from aftercare.casework import Casework
from aftercare.store import outbox
from aftercare.store.models import Message
from aftercare.templates import Templates
from test_casework import mail

NOW = datetime(2026, 3, 2, 9, 0)


def _claimed(make_config, n_mails=1):
    cw = Casework(make_config(), Templates())
    for i in range(n_mails):
        cw.handle_inbound(mail(mid=f"m{i}@example.net", sender=f"c{i}@example.net"), NOW)
    return outbox.claim_due(NOW)


def _status(row_id):
    m = Message.get_by_id(row_id)
    return m.status, m.claimed_by


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_claim_names_this_process_and_lasts_until_its_expiry(db, make_config):
    rows = _claimed(make_config)
    row = Message.get_by_id(rows[0].id)
    assert row.status == "sending" and row.claimed_by == outbox.holder_id()
    assert row.claim_until == NOW + outbox.CLAIM_TTL
    assert outbox.renew_claims(NOW + timedelta(minutes=1)) == len(rows)
    assert Message.get_by_id(rows[0].id).claim_until == NOW + timedelta(minutes=1) + outbox.CLAIM_TTL


def test_another_live_holders_claims_are_left_alone_until_they_expire(db, make_config):
    rows = _claimed(make_config)
    other = "elsewhere.example:4242:cafe0001"
    Message.update(claimed_by=other).where(Message.status == "sending").execute()
    assert outbox.recover_in_flight(NOW + timedelta(seconds=30)) == 0
    assert outbox.release_own_claims() == 0 and outbox.defer([r.id for r in rows], NOW) is None
    assert all(_status(r.id) == ("sending", other) for r in rows)  # not ours to give back
    assert outbox.rescue_claims(NOW + outbox.CLAIM_TTL + timedelta(seconds=1)) == len(rows)
    assert all(_status(r.id) == ("pending", None) for r in rows)


def test_a_dead_process_of_this_host_loses_its_claims_at_once_and_the_file_lock_proves_any_holder_dead(db, make_config):
    rows = _claimed(make_config, 2)
    dead = f"{socket.gethostname()}:{_dead_pid()}:dead0001"
    Message.update(claimed_by=dead).where(Message.id == rows[0].id).execute()
    Message.update(claimed_by="elsewhere.example:4242:cafe0001").where(Message.id != rows[0].id).execute()
    assert outbox.rescue_claims(NOW) == 1
    assert _status(rows[0].id) == ("pending", None)
    assert outbox.rescue_claims(NOW, sole_daemon=True) == len(rows) - 1


def test_after_an_interruption_only_this_processes_claims_go_back_and_accepted_ones_stay(db, make_config):
    rows = _claimed(make_config, 2)
    accepted, interrupted = rows[0].id, [r.id for r in rows[1:]]
    assert outbox.release_own_claims(keep=[accepted]) == len(interrupted)
    assert _status(accepted)[0] == "sending"
    assert all(_status(i) == ("pending", None) for i in interrupted)
    outbox.mark_sent([accepted], NOW)
    assert _status(accepted) == ("sent", None)


def test_an_acceptance_the_side_log_cannot_take_is_kept_in_memory_and_written_later(db, make_config, tmp_path):
    rows = _claimed(make_config)
    if outbox.SentLog.for_database().mark_at_once:
        pytest.skip("PostgreSQL marks rows at once; the outage tests cover its side log")
    blocked = tmp_path / "not-a-file"
    blocked.mkdir()  # SQLite cannot open a folder: as good as a full disk for the side log
    log = outbox.SentLog(str(blocked))
    with pytest.raises(outbox.OperationalError):
        log.record(rows[0].id, NOW)
    assert log.unwritten == 1
    blocked.rmdir()
    assert log.fold() == 1 and log.unwritten == 0
    assert _status(rows[0].id) == ("sent", None)

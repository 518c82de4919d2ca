"""An operator lists, retries and cancels outgoing emails while the daemon runs; each change is on the case."""
from __future__ import annotations

import json
import time

from aftercare.store.database import open_existing
from aftercare.store.models import database
from aftercare.store.outbox_admin import case_events
from e2e_support import complaint


def _outbox(s, *args) -> list[dict]:
    out = s.cli("outbox", "list", *args, "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _until(s, probe, timeout=20.0):
    """``probe()`` once it returns something truthy, polling the CLI as an operator would."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.2)
    raise TimeoutError(f"not within {timeout}s:\n{s.daemon.tail()}")


def _events(s, case_id: int) -> list[dict]:
    db = open_existing(s.database_url)
    try:
        return case_events(case_id)
    finally:
        db.close()
        database.initialize(None)


def _with_id(s, message_id: str):
    return [m for m in s.smtp.messages if m.message["Message-ID"] == f"<{message_id}>"]


def test_a_refused_email_is_listed_as_failed_and_a_retry_delivers_it_with_the_same_message_id(stack, monkeypatch):
    s = stack
    monkeypatch.setenv("SUDO_USER", "alice")
    s.smtp.refuse(550, "no such user here", at="RCPT", times=1)  # the first email the daemon sends fails for good
    s.start()
    s.deliver(complaint()[0])
    [row] = _until(s, lambda: _outbox(s, "--status", "failed"))
    assert row["status"] == "failed" and row["case"] == 1 and row["attempts"] == 1
    assert "550" in row["last_error"] and "no such user here" in row["last_error"]
    assert {"id", "recipient", "kind", "subject", "created_at", "next_attempt_at", "mailbox"} <= row.keys()
    assert row["id"] in [r["id"] for r in _outbox(s)]  # the default list shows it too
    assert not _with_id(s, row["message_id"])

    text = s.cli("outbox", "list", "--status", "failed")
    assert text.returncode == 0 and row["recipient"] in text.stdout and "no such user here" in text.stdout
    done = s.cli("outbox", "retry", str(row["id"]))
    assert done.returncode == 0, done.stderr
    assert f"email #{row['id']}" in done.stdout and "pending again" in done.stdout
    delivered = _until(s, lambda: _with_id(s, row["message_id"]), timeout=10)
    assert delivered[0].rcpt_tos == [row["recipient"]]
    assert _until(s, lambda: not _outbox(s, "--status", "failed") and not _outbox(s, "--status", "pending"))

    again = s.cli("outbox", "retry", str(row["id"]))
    assert again.returncode == 1 and f"email #{row['id']} cannot be retried: already sent" in again.stderr
    none = s.cli("outbox", "retry", "--all-failed")
    assert none.returncode == 0 and "0 failed emails retried" in none.stdout
    [event] = _events(s, 1)
    assert (event["actor"], event["action"]) == ("alice (CLI)", "outbox_retry")
    assert f"retried email #{row['id']}" in event["detail"] and "was failed: 550" in event["detail"]


def test_held_in_flight_and_pending_emails_as_an_operator_meets_them(sqlite_stack, monkeypatch, request):
    s = sqlite_stack
    request.addfinalizer(s.smtp.gate.set)  # a failure below must not leave the daemon's stop waiting at the gate
    monkeypatch.setenv("SUDO_USER", "alice")
    s.write_config(outbox_extra="recipient_limit = 1")
    # The server is made to sit on one email below while the operator acts: no client timeout may end that.
    s.config.write_text(s.config.read_text().replace('timeout = "10s"', 'timeout = "90s"'))
    s.start()
    s.deliver(complaint(subject="First")[0])
    s.deliver(complaint(subject="Second")[0])  # the same customer again: the loop limit holds this answer back
    [held] = _until(s, lambda: _outbox(s, "--status", "held"))
    assert held["kind"] == "acknowledgment" and held["recipient"] == "maria@example.net"
    assert "held back" in held["last_error"]
    _until(s, lambda: not _outbox(s, "--status", "pending") and len(s.smtp.messages) == 3)  # 1 answer, 2 notices

    # The operator lets the held answer go; the server takes its time over it.
    s.smtp.gate.clear()
    assert s.cli("outbox", "retry", str(held["id"])).returncode == 0
    _until(s, lambda: s.smtp.held == 1, timeout=10)
    refused = s.cli("outbox", "cancel", str(held["id"]))
    assert refused.returncode == 1
    assert f"email #{held['id']} cannot be cancelled: in flight (sending)" in refused.stderr

    # Meanwhile a new complaint's emails wait behind it, pending: one of them the operator cancels.
    s.deliver(complaint(subject="Third", sender="bob@example.net")[0])
    waiting = _until(s, lambda: [r for r in _outbox(s, "--status", "pending") if r["recipient"] == "bob@example.net"])
    [bobs] = waiting
    cancelled = s.cli("outbox", "cancel", str(bobs["id"]))
    assert cancelled.returncode == 0, cancelled.stderr
    assert "will not be sent" in cancelled.stdout
    s.smtp.gate.set()

    _until(s, lambda: _with_id(s, held["message_id"]), timeout=10)
    _until(s, lambda: not _outbox(s))  # everything else went out
    time.sleep(2)  # a few more dispatcher passes
    assert not _with_id(s, bobs["message_id"]) and not s.smtp.for_recipient("bob@example.net")
    bob_case = bobs["case"]
    statuses = [m["status"] for m in s.case_json(bob_case)["messages"] if m["direction"] == "out"]
    assert statuses == ["cancelled", "sent"]  # the answer cancelled, the owner's notice sent
    again = s.cli("outbox", "retry", str(bobs["id"]))
    assert again.returncode == 1 and "already cancelled" in again.stderr

    assert [(e["actor"], e["action"]) for e in _events(s, held["case"])] == [("alice (CLI)", "outbox_retry")]
    [event] = _events(s, bob_case)
    assert event["action"] == "outbox_cancel" and f"cancelled email #{bobs['id']}" in event["detail"]
    assert "was pending" in event["detail"]

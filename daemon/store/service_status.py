"""The service's state as the database holds it: what ``aftercare status`` shows, daemon running or not.

Everything comes from rows: ``component_state`` (written by the daemon as it works: store/health.py), the
outbox (outgoing ``Message`` rows), ``timer`` and ``schema_version``. So the answer is the same from any
shell, on SQLite and PostgreSQL, and says what a stopped or crashed daemon last saw and when.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from ..cases.states import Direction, OutboxStatus, TimerState
from .migrations import current_version
from .outbox import counts as outbox_counts
from .models import ComponentState, Message, Timer, database

#: The daemon writes its heartbeat every 10 s: older than this, it is not running (or cannot write).
HEARTBEAT_STALE = timedelta(seconds=45)
NEXT_TIMERS = 5


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value is not None else None


def _oldest(status: str, now: datetime) -> dict | None:
    m = (Message.select().where((Message.direction == Direction.OUT) & (Message.status == status))
         .order_by(Message.created_at, Message.id).first())
    if m is None:
        return None
    return {"id": m.id, "case": m.case_id, "recipient": m.recipient or ", ".join(m.to or []), "kind": m.kind,
            "created_at": _iso(m.created_at), "age_seconds": round((now - m.created_at).total_seconds()),
            "attempts": m.attempts, "last_error": m.last_error}


def service_status(mailboxes: list[tuple[str, str]], now: datetime, version: str) -> dict:
    """``mailboxes``: the configured (name, address) pairs, in order; ``version``: this code's version."""
    rows = {r.name: r for r in ComponentState.select()}
    daemon_row = rows.get("daemon")
    daemon = None
    if daemon_row is not None:
        info = daemon_row.info or {}
        heartbeat = daemon_row.updated_at
        running = info.get("stopped_at") is None and now - heartbeat <= HEARTBEAT_STALE
        daemon = {"running": running, "version": info.get("version"), "host": info.get("host"),
                  "pid": info.get("pid"), "started_at": info.get("started_at"), "heartbeat_at": _iso(heartbeat),
                  "stopped_at": info.get("stopped_at"), "problems": info.get("problems", []) if running else []}
    listed = []
    for name, address in mailboxes:
        row, smtp = rows.get(f"mailbox:{name}"), rows.get(f"smtp:{name}")
        listed.append({
            "name": name, "address": address,
            "last_sync_at": _iso(row.last_ok_at) if row else None,
            "ok": bool(row.ok) if row else None,
            "error": row.error if row and not row.ok else "",
            "error_kind": row.error_kind if row and not row.ok else "",
            "failing_since": _iso(row.failing_since) if row and not row.ok else None,
            "smtp_ok": bool(smtp.ok) if smtp else None,
            "smtp_error": smtp.error if smtp and not smtp.ok else "",
            "smtp_error_kind": smtp.error_kind if smtp and not smtp.ok else "",
            "seen_at": _iso(row.updated_at) if row else None,
        })
    counts = outbox_counts()
    outbox = {"counts": {s.value: counts.get(s.value, 0) for s in OutboxStatus},
              "oldest_pending": _oldest(OutboxStatus.PENDING, now),
              "oldest_held": _oldest(OutboxStatus.HELD, now),
              "oldest_failed": _oldest(OutboxStatus.FAILED, now)}
    waiting = Timer.select().where(Timer.state == TimerState.WAITING)
    timers = {"waiting": waiting.count(),
              "due_now": waiting.where(Timer.due_at <= now).count(),
              "next": [{"case": t.case_id, "kind": t.kind, "due_at": _iso(t.due_at)}
                       for t in waiting.order_by(Timer.due_at, Timer.id).limit(NEXT_TIMERS)]}
    return {"version": version, "schema_version": current_version(database.obj), "daemon": daemon,
            "mailboxes": listed, "outbox": outbox, "timers": timers}


def healthy(status: dict) -> bool:
    """Running, every mailbox read and its SMTP login taking, and nothing failing."""
    d = status["daemon"]
    return bool(d and d["running"] and not d["problems"]
                and all(m["ok"] and m["smtp_ok"] is not False for m in status["mailboxes"]))

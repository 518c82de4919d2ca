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
from peewee import PostgresqlDatabase

from .models import ComponentState, Instance, MailboxLease, Message, Timer, database

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
    if isinstance(database.obj, PostgresqlDatabase):
        now = database.execute_sql("SELECT clock_timestamp() AT TIME ZONE 'UTC'").fetchone()[0]  # the leases' clock
    instances = [{"id": i.id, "label": i.label, "heartbeat_at": _iso(i.heartbeat_at), "started_at": _iso(i.started_at),
                  "version": (i.info or {}).get("version"), "running": now - i.heartbeat_at <= HEARTBEAT_STALE,
                  "problems": (i.info or {}).get("problems", [])}
                 for i in Instance.select().order_by(Instance.started_at, Instance.id)]
    live = [i for i in instances if i["running"]]
    daemon_row = rows.get("daemon")
    daemon = None
    if daemon_row is not None:
        info = daemon_row.info or {}
        heartbeat = daemon_row.updated_at
        running = info.get("stopped_at") is None and now - heartbeat <= HEARTBEAT_STALE
        daemon = {"running": running, "version": info.get("version"), "host": info.get("host"),
                  "pid": info.get("pid"), "started_at": info.get("started_at"), "heartbeat_at": _iso(heartbeat),
                  "stopped_at": info.get("stopped_at"), "problems": info.get("problems", []) if running else []}
        if instances:  # several instances: the service runs while any does, and fails where any fails
            daemon["running"] = bool(live)
            daemon["stopped_at"] = None if live else daemon["stopped_at"]
            daemon["problems"] = [p for i in live for p in i["problems"]]
    holders = _holders(instances, [name for name, _ in mailboxes], now)
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
            **holders.get(name, {"holder": None, "held_since": None}),
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
            "instances": [{k: v for k, v in i.items() if k != "problems"} for i in instances],
            "mailboxes": listed, "outbox": outbox, "timers": timers}


def _holders(instances: list[dict], names: list[str], now: datetime) -> dict[str, dict]:
    """Which running instance watches each mailbox, and since when: the lease rows (PostgreSQL), else the one
    daemon SQLite allows, which watches every mailbox since it started."""
    by_id = {i["id"]: i for i in instances}
    leased = list(MailboxLease.select())
    if not leased:  # SQLite (or PostgreSQL before any lease): the one running daemon watches every mailbox
        live = [i for i in instances if i["running"]]
        only = live[0] if len(live) == 1 else None
        return {name: {"holder": {"id": only["id"], "label": only["label"]}, "held_since": only["started_at"]}
                for name in names} if only else {}
    found = {}
    for lease in leased:
        holder = by_id.get(lease.holder) if lease.holder else None
        if holder is not None and holder["running"] and lease.expires_at > now - timedelta(seconds=1):  # db time
            found[lease.mailbox] = {"holder": {"id": holder["id"], "label": holder["label"]},
                                    "held_since": _iso(lease.held_since)}
    return found


def healthy(status: dict) -> bool:
    """Running, every mailbox read and its SMTP login taking, and nothing failing."""
    d = status["daemon"]
    return bool(d and d["running"] and not d["problems"]
                and all(m["ok"] and m["smtp_ok"] is not False and m["holder"] is not None
                        for m in status["mailboxes"]))

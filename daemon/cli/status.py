"""``aftercare status``: the service's state from the database, running or not.

Exit status, for scripts and monitoring: 0 all is well; 1 something fails (a mailbox, an SMTP login, the
database as the daemon saw it); 3 the daemon is not running (as LSB's "program is not running").
"""
from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from ..clock import utcnow
from ..version import version
from .common import load, local_time, open_db, parse_iso

NOT_RUNNING = 3


def cmd_status(args) -> int:
    from ..store.service_status import healthy, service_status
    config = load(args)
    open_db(config)
    now = utcnow()
    status = service_status([(i.name, i.smtp.from_addr_spec) for i in config.inboxes], now, version())
    code = 0 if healthy(status) else NOT_RUNNING if not (status["daemon"] or {}).get("running") else 1
    if args.json:
        print(json.dumps(status, indent=2, ensure_ascii=False))
        return code
    zone = ZoneInfo(config.schedule.timezone)
    for line in render(status, now, zone):
        print(line)
    return code


def _local(iso: str | None, zone: ZoneInfo) -> str:
    return local_time(iso, zone, "%Y-%m-%d %H:%M:%S %Z", "never")


def _ago(iso: str | None, now: datetime) -> str:
    if not iso:
        return ""
    seconds = max(0, round((now - parse_iso(iso)).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f" ({seconds // size} {unit} ago)"
    return f" ({seconds} s ago)"


def render(status: dict, now: datetime, zone: ZoneInfo) -> list[str]:
    lines = [f"aftercare {status['version']}, database schema version {status['schema_version']}"]
    d = status["daemon"]
    if d is None:
        lines.append("daemon: has never run on this database")
    elif d["running"]:
        lines.append(f"daemon: running on {d['host']} (pid {d['pid']}), version {d['version']}, "
                     f"started {_local(d['started_at'], zone)}; heartbeat{_ago(d['heartbeat_at'], now)}")
    else:
        last = (f"stopped {_local(d['stopped_at'], zone)}" if d["stopped_at"]
                else f"NOT RUNNING: last heartbeat {_local(d['heartbeat_at'], zone)}{_ago(d['heartbeat_at'], now)}")
        lines.append(f"daemon: {last}; it ran version {d['version']} on {d['host']}")
    live = [i for i in status.get("instances", []) if i["running"]]
    if len(status.get("instances", [])) > 1 or len(live) > 1:
        lines.append(f"instances: {len(live)} running")
        for i in status["instances"]:
            state = "running" if i["running"] else "SILENT"
            lines.append(f"  {i['label']} ({i['id']}): {state}, version {i['version']}, "
                         f"started {_local(i['started_at'], zone)}; heartbeat{_ago(i['heartbeat_at'], now)}")
    lines.append("mailboxes:")
    for m in status["mailboxes"]:
        state = ("not read yet" if m["ok"] is None else "ok" if m["ok"]
                 else f"FAILING ({m['error_kind']}) since {_local(m['failing_since'], zone)}: {m['error']}")
        held = (f"watched by {m['holder']['label']} since {_local(m['held_since'], zone)}" if m.get("holder")
                else "WATCHED BY NO INSTANCE" if live else "not watched")
        lines.append(f"  {m['name']} <{m['address']}>: {state}; last read {_local(m['last_sync_at'], zone)}"
                     f"{_ago(m['last_sync_at'], now)}; {held}")
        if m["smtp_ok"] is False:
            lines.append(f"    SMTP FAILING ({m['smtp_error_kind']}): {m['smtp_error']}")
    o = status["outbox"]
    counts = o["counts"]
    shown = ("pending", "sending", "held", "failed", "sent", "bounced", "cancelled")
    lines.append("outbox: " + ", ".join(f"{counts[k]} {k}" for k in shown if counts.get(k) or k in ("pending", "failed")))
    for key in ("oldest_pending", "oldest_held", "oldest_failed"):
        e = o[key]
        if e:
            error = f": {e['last_error'][:80]}" if e["last_error"] else ""
            lines.append(f"  {key.replace('_', ' ')}: #{e['id']} {e['kind']} to {e['recipient']} (case #{e['case']}), "
                         f"queued {_local(e['created_at'], zone)}{_ago(e['created_at'], now)}{error}")
    t = status["timers"]
    lines.append(f"timers: {t['waiting']} waiting, {t['due_now']} due now")
    for timer in t["next"]:
        lines.append(f"  {_local(timer['due_at'], zone)}  case #{timer['case']}  {timer['kind']}")
    if d and d["problems"]:
        lines.append("failing now:")
        for p in d["problems"]:
            lines.append(f"  {', '.join(p['sources'])} ({p['kind']}, since {_local(p['since'], zone)}): {p['error']}")
    return lines


def register(sub, add) -> None:
    status = add(sub, "status", help="the service's state: mailboxes, outbox, timers (works with the daemon stopped)")
    status.add_argument("--json", action="store_true", help="as JSON (keys: version, schema_version, daemon, "
                                                            "mailboxes, outbox, timers)")
    status.set_defaults(func=cmd_status)

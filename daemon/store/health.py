"""What each part of the running service last did, kept in ``component_state`` for people who ask later.

The daemon writes a row for itself (``daemon``: version, host, pid, when it started, its heartbeat, what
fails now), one per mailbox (``mailbox:<name>``: the last successful read of its folder, its error if any)
and one per mailbox's SMTP login (``smtp:<name>``). ``aftercare status`` and the metrics endpoint read
them, so the state survives the daemon: stopped or crashed, the rows say what it last saw and when.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .models import ComponentState, Instance, database


@dataclass(frozen=True)
class Health:
    name: str
    ok: bool
    error: str = ""
    error_kind: str = ""  # transient, permanent
    failing_since: datetime | None = None
    last_ok_at: datetime | None = None  # None: keep what the row says (a restart has not synced yet)
    info: dict = field(default_factory=dict)


def record(rows: list[Health], now: datetime) -> None:
    """Upsert the rows in one short transaction; a row's ``last_ok_at`` is never set back to nothing."""
    with database.atomic():
        for h in rows:
            values = {"ok": h.ok, "error": h.error[:2000], "error_kind": h.error_kind,
                      "failing_since": h.failing_since, "updated_at": now, "info": h.info}
            update = dict(values)
            if h.last_ok_at is not None:
                values["last_ok_at"] = update["last_ok_at"] = h.last_ok_at
            (ComponentState.insert(name=h.name, **values)
             .on_conflict(conflict_target=[ComponentState.name],
                          update={getattr(ComponentState, k): v for k, v in update.items()})
             .execute())


def read_all() -> dict[str, ComponentState]:
    return {row.name: row for row in ComponentState.select()}


def record_instance(instance_id: str, label: str, started_at: datetime, info: dict, now: datetime,
                    beat: bool) -> None:
    """This instance's row (``instance``) with what it says of itself; its heartbeat too when ``beat`` (SQLite:
    on PostgreSQL the coordinator beats every second, in the database's time: instances.py)."""
    update = {Instance.info: info, Instance.label: label}
    if beat:
        update[Instance.heartbeat_at] = now
    (Instance.insert(id=instance_id, label=label, started_at=started_at, heartbeat_at=now, info=info)
     .on_conflict(conflict_target=[Instance.id], update=update).execute())


def forget_instances() -> None:
    """Every instance row: SQLite at start-up, where the file lock proves them all gone."""
    Instance.delete().execute()


def forget_instance(instance_id: str) -> None:
    """A clean stop: the instance is no longer listed."""
    Instance.delete().where(Instance.id == instance_id).execute()

"""PostgreSQL LISTEN: wake this instance's loops the moment any instance queues work.

One connection of its own (autocommit, as LISTEN needs; a transaction-pooling PgBouncer breaks it: session
pooling only) listens on the outbox, timer and lease channels (store/leases.py) and calls the wake-up of
each. While it is down the loops poll as they would without it (``connected`` is False), and it comes back
with the one backoff.
"""
from __future__ import annotations

import select
import threading
from typing import Callable

import structlog

from .backoff import DATABASE_RETRY_CAP, backoff
from .store.database import redact_url

log = structlog.get_logger("aftercare.notifications")


class Listener:
    def __init__(self, url: str, wakes: dict[str, Callable[[], None]], stop: threading.Event):
        self.url = url
        self.wakes = wakes
        self.stop = stop
        self.connected = False
        self.received = 0
        self.thread = threading.Thread(target=self._run, name="notifications", daemon=True)

    def start(self) -> "Listener":
        self.thread.start()
        return self

    def _run(self) -> None:
        import psycopg2

        failures = 0
        while not self.stop.is_set():
            conn = None
            try:
                conn = psycopg2.connect(self.url, connect_timeout=5, keepalives=1, keepalives_idle=10,
                                        keepalives_interval=5, keepalives_count=3,
                                        application_name="aftercare notifications")
                conn.autocommit = True
                with conn.cursor() as cur:
                    for channel in self.wakes:
                        cur.execute(f'LISTEN "{channel}"')
                self.connected = True
                if failures:
                    log.info("listening for other instances' work again", attempts=failures)
                failures = 0
                for wake in self.wakes.values():  # anything queued while we were not listening
                    wake()
                while not self.stop.is_set():
                    if select.select([conn], [], [], 1.0)[0]:
                        conn.poll()
                        channels = {n.channel for n in conn.notifies}
                        conn.notifies.clear()
                        self.received += len(channels)
                        for channel in channels:
                            wake = self.wakes.get(channel)
                            if wake is not None:
                                wake()
                    elif conn.closed:
                        raise psycopg2.OperationalError("connection closed")
            except (psycopg2.Error, OSError) as exc:
                self.connected = False
                failures += 1
                delay = backoff(failures, cap=DATABASE_RETRY_CAP).total_seconds()
                if failures == 1:
                    log.warning("not listening for other instances' work; the loops poll meanwhile",
                                error=" ".join(str(exc).split()), database=redact_url(self.url))
                self.stop.wait(delay)
            finally:
                self.connected = False
                if conn is not None:
                    try:
                        conn.close()
                    except Exception:  # already broken
                        pass

"""Time passes: reminders and escalations fall due.

The timers are rows in the database (set when a case opens or a plan step is
agreed), so a restart loses and repeats nothing: each fires in the same
transaction that records it fired and stores the emails it sends.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Callable

import schedule
import structlog
from peewee import InterfaceError, OperationalError

from .casework import Casework
from .store.database import reset_connection

log = structlog.get_logger("aftercare.timers")

PASS_EVERY_SECONDS = 1


class Timers:
    def __init__(self, casework: Casework, clock: Callable[[], datetime], stop: threading.Event,
                 on_fired: Callable[[], None] = lambda: None):
        self.casework = casework
        self.clock = clock
        self.stop = stop
        self.on_fired = on_fired
        self.heartbeat = time.monotonic()
        self.jobs = schedule.Scheduler()
        self.jobs.every(PASS_EVERY_SECONDS).seconds.do(self.run_pass)

    def run_pass(self) -> int:
        try:
            fired = self.casework.fire_due_timers(self.clock())
        except (OperationalError, InterfaceError) as exc:
            log.warning("database unavailable; timers wait", error=str(exc))
            reset_connection()
            return 0
        if fired:
            self.on_fired()
        return fired

    def run(self) -> None:
        self.run_pass()
        while not self.stop.is_set():
            self.heartbeat = time.monotonic()
            self.jobs.run_pending()
            self.stop.wait(0.2)
        log.info("timers stopped")

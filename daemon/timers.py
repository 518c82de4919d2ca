"""Time passes: reminders and escalations fall due.

The timers are rows in the database (set when a case opens or reopens, or a plan step is
agreed), so a restart loses and repeats nothing: each fires in the same
transaction that records it fired and stores the emails it sends. This module
is the loop that runs the passes; what a pass does is firing.py.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Callable

import schedule
import structlog

from .backoff import DATABASE_RETRY_CAP, backoff
from .casework import Casework
from .loop import Loop
from .store.database import DATABASE_ERRORS, describe_error, reset_connection
from .trouble import Troubles, troubles as process_troubles

log = structlog.get_logger("aftercare.timers")

PASS_EVERY_SECONDS = 1


class Timers(Loop):
    name = "timers"

    def __init__(self, casework: Casework, clock: Callable[[], datetime], stop: threading.Event | None = None,
                 on_fired: Callable[[], None] = lambda: None, database_url: str = "",
                 troubles: Troubles | None = None):
        super().__init__(stop)
        self.ready.set()
        self.casework = casework
        self.clock = clock
        self.on_fired = on_fired
        self.database_url = database_url
        self.troubles = troubles or process_troubles
        self.failures = 0
        self.retry_at = 0.0
        self.jobs = schedule.Scheduler()
        self.jobs.every(PASS_EVERY_SECONDS).seconds.do(self.run_pass)

    def run_pass(self) -> int:
        if time.monotonic() < self.retry_at:
            return 0  # the database failed a moment ago: wait out the backoff
        try:
            fired = self.casework.fire_due_timers(self.clock())
        except DATABASE_ERRORS as exc:
            reset_connection()
            self.failures += 1
            delay = backoff(self.failures, cap=DATABASE_RETRY_CAP).total_seconds()
            self.retry_at = time.monotonic() + delay
            self.troubles.report("timers", exc, "database unavailable; timers wait",
                                 describe=describe_error(self.database_url, exc), retry_in=round(delay, 1))
            return 0
        if self.failures:
            self.failures = 0
            self.troubles.clear("timers", "database back; timers fire again")
        if fired:
            self.on_fired()
        return fired

    def run(self) -> None:
        self.run_pass()
        while not self.stop.is_set():
            self.beat()
            self.jobs.run_pending()
            self.stop.wait(0.2)
        log.info("timers stopped")

    def run_until_idle(self) -> int:
        """Fire every timer due now, pass after pass until none is left; return how many fired."""
        fired = total = 0
        while not self.stop.is_set() and (fired := self.run_pass()):
            total += fired
        return total

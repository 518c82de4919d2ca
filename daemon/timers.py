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

import structlog

from .backoff import DATABASE_RETRY_CAP, backoff
from .casework import Casework
from .loop import Loop
from .store import repository
from .store.database import DATABASE_ERRORS, describe_error, reset_connection
from .trouble import Troubles, troubles as process_troubles

log = structlog.get_logger("aftercare.timers")

PASS_EVERY_SECONDS = 1


class Timers(Loop):
    name = "timers"

    def __init__(self, casework: Casework, clock: Callable[[], datetime], stop: threading.Event | None = None,
                 on_fired: Callable[[], None] = lambda: None, database_url: str = "",
                 troubles: Troubles | None = None, idle_wait: Callable[[], float] = lambda: PASS_EVERY_SECONDS):
        super().__init__(stop)
        # How long to wait with no timer due sooner: a second, or longer where a NOTIFY wakes the loop when any
        # instance sets a timer (several instances on PostgreSQL); the next due timer is waited for exactly.
        self.idle_wait = idle_wait
        self.ready.set()
        self.casework = casework
        self.clock = clock
        self.on_fired = on_fired
        self.database_url = database_url
        self.troubles = troubles or process_troubles
        self.failures = 0
        self.retry_at = 0.0

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
        while not self.stop.is_set():
            self.beat()
            self.run_pass()
            self.sleep(self._seconds_until_due(), wakeable=True)
        log.info("timers stopped")

    def _seconds_until_due(self) -> float:
        wait = self.idle_wait()
        if time.monotonic() < self.retry_at:
            return min(wait, max(0.05, self.retry_at - time.monotonic()))
        try:
            due = repository.next_timer_at()
        except DATABASE_ERRORS:
            reset_connection()
            return PASS_EVERY_SECONDS
        if due is None:
            return wait
        return max(0.05, min(wait, (due - self.clock()).total_seconds()))

    def run_until_idle(self) -> int:
        """Fire every timer due now, pass after pass until none is left; return how many fired."""
        fired = total = 0
        while not self.stop.is_set() and (fired := self.run_pass()):
            total += fired
        return total

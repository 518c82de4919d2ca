"""Time passes for closed cases too: once a day, what ``[retention]`` no longer keeps is removed.

The pass itself (which rows, in batches of short transactions) is store/customer_data.py's ``prune``; this is
the loop that runs it: first a minute after the start (a restart loop never repeats it back to back), then
every day. Several instances may each run it: it is idempotent, and its batches skip rows another holds.
"""
from __future__ import annotations

import threading
from datetime import datetime
from typing import Callable

import structlog

from .backoff import DATABASE_RETRY_CAP, backoff
from .config import Config
from .loop import Loop
from .store.customer_data import prune
from .store.database import DATABASE_ERRORS, describe_error, reset_connection
from .trouble import Troubles, troubles as process_troubles

log = structlog.get_logger("aftercare.retention")

FIRST_PASS_AFTER = 60.0  # seconds after the start
EVERY = 24 * 3600.0


class Retention(Loop):
    name = "retention"

    def __init__(self, config: Callable[[], Config], clock: Callable[[], datetime],
                 stop: threading.Event | None = None, troubles: Troubles | None = None,
                 first_after: float = FIRST_PASS_AFTER, every: float = EVERY):
        super().__init__(stop)
        self.ready.set()
        self.config = config  # read at each pass: a reload's new [retention] counts from the next
        self.clock = clock
        self.troubles = troubles or process_troubles
        self.first_after = first_after
        self.every = every
        self.failures = 0

    def run_pass(self) -> dict:
        """Remove what is due now; return the counts (also logged when anything went)."""
        retention = self.config().retention
        removed = prune(self.clock(), retention.message_bodies, retention.closed_cases)
        if any(removed.values()):
            log.info("retention pass: removed what [retention] no longer keeps", **removed,
                     message_bodies=str(retention.message_bodies or "kept"),
                     closed_cases=str(retention.closed_cases or "kept"))
        return removed

    def run(self) -> None:
        self.sleep(self.first_after)
        while not self.stop.is_set():
            try:
                self.run_pass()
            except DATABASE_ERRORS as exc:
                reset_connection()
                self.failures += 1
                delay = backoff(self.failures, cap=DATABASE_RETRY_CAP).total_seconds() * 60
                self.troubles.report("retention", exc, "database unavailable; the retention pass waits",
                                     describe=describe_error(self.config().database.url, exc))
                self.sleep(delay)
                continue
            if self.failures:
                self.failures = 0
                self.troubles.clear("retention", "database back; the retention pass ran")
            self.sleep(self.every)
        log.info("retention stopped")

    def run_until_idle(self) -> int:
        return sum(self.run_pass().values())

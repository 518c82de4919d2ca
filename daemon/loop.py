"""Loops: intake, the dispatcher and the timers share one small protocol, so the service runs a list.

Like GNU Mailman's runners, each loop runs on a thread of its own until its ``stop`` event is set,
moves its ``heartbeat`` while it is healthy (the systemd watchdog is fed only while every heartbeat
moves), can be woken early (``wake``), says when it is ``ready`` (READY for systemd once every loop is),
and can be run in-process until it has nothing left to do (``run_until_idle``), which is how a test
drives one loop against the real servers. The edges a loop talks to (mailbox, SMTP sender, clock)
are handed in, never built inside.
"""
from __future__ import annotations

import threading
import time


class Loop:
    name = "loop"

    def __init__(self, stop: threading.Event | None = None):
        self.stop = stop if stop is not None else threading.Event()
        self.wake = threading.Event()
        self.ready = threading.Event()
        self.heartbeat = time.monotonic()

    def beat(self) -> None:
        """Alive and turning: the watchdog reads this."""
        self.heartbeat = time.monotonic()

    def sleep(self, seconds: float, *, wakeable: bool = False) -> None:
        """Wait, keeping the heartbeat alive (waiting is healthy, hanging is not); end early on stop,
        and on ``wake`` when ``wakeable``."""
        deadline = time.monotonic() + seconds
        while not self.stop.is_set() and time.monotonic() < deadline:
            self.beat()
            step = min(1.0, max(0.0, deadline - time.monotonic()))
            if wakeable:
                if self.wake.wait(step):
                    self.wake.clear()
                    return
            else:
                self.stop.wait(step)

    def run(self) -> None:  # pragma: no cover - each loop has its own
        raise NotImplementedError

    def run_until_idle(self) -> int:  # pragma: no cover - each loop has its own
        """Do the work there is now, in this thread; return how much was done."""
        raise NotImplementedError

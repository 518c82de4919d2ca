"""What is failing right now: said once loudly, then at most once a minute (an hour), and shown in STATUS.

A database or server that is away makes every loop fail the same way several
times a second. Logging each failure would fill the journal (an outage of a
day is gigabytes) and hide the one line that matters. So each distinct error
(its type and first line of text) is logged once with its traceback when it
first appears, then at most once per ``repeat_every`` with a count of what
was held back, and once more when it stops ("recovered"). A failure is
``transient`` (it ends by itself: a server away, a 4xx) or ``permanent`` (only
a person can end it: a refused login, a missing folder, an untrusted
certificate); permanent ones are repeated once an hour, not once a minute.
The loops report here and back off with the one backoff; ``service.py`` shows
``summary()`` in systemd's STATUS while anything is failing and stores
``snapshot()`` for ``aftercare status``.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import structlog

log = structlog.get_logger("aftercare.trouble")

REPEAT_EVERY_SECONDS = 60.0


@dataclass
class _Failing:
    key: str
    text: str
    since: float
    last_logged: float
    sources: set[str] = field(default_factory=set)
    held_back: int = 0
    count: int = 0
    repeat_every: float | None = None
    kind: str = "transient"
    since_wall: float = 0.0  # time.time() when it began: for people and the database


def error_key(exc: BaseException) -> tuple[str, str]:
    """(key, text): the error's type and first line, which stay the same while the cause does."""
    text = (str(exc).strip().splitlines() or [""])[0][:500]
    return f"{type(exc).__name__}: {text}", text


class Troubles:
    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 repeat_every: float = REPEAT_EVERY_SECONDS, wall_clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.wall_clock = wall_clock
        self.repeat_every = repeat_every
        self._lock = threading.Lock()
        self._by_source: dict[str, str] = {}  # source -> key of the error it last reported
        self._failing: dict[str, _Failing] = {}

    def report(self, source: str, exc: BaseException, event: str, *, describe: str = "",
               repeat_every: float | None = None, kind: str = "", **fields) -> bool:
        """Note that ``source`` failed with ``exc``; log it if this error is new or not said for a minute.

        ``event`` is the log line's text ("database unavailable; the outbox waits"), ``describe`` an
        operator's reading of the cause (which database, full disk...). ``repeat_every`` overrides the
        minute for errors that only a person can end (a dead OAuth2 grant: once an hour). ``kind`` is
        ``permanent`` or ``transient`` (default: the exception's own ``permanent`` flag). Returns whether
        it was logged.
        """
        kind = kind or ("permanent" if getattr(exc, "permanent", False) else "transient")
        key, text = error_key(exc)
        if kind == "permanent":
            # Servers put per-attempt details in the text (Office 365: a timestamp and request id in a 535):
            # what stays the same while a person has not acted is where it fails and how.
            key = f"{type(exc).__name__} ({source}, permanent)"
        now = self.clock()
        with self._lock:
            previous = self._by_source.get(source)
            self._by_source[source] = key
            if previous is not None and previous != key:
                self._forget_source(previous, source)
            failing = self._failing.get(key)
            first = failing is None
            if first:
                failing = self._failing[key] = _Failing(key, describe or text, now, now, repeat_every=repeat_every,
                                                        kind=kind, since_wall=self.wall_clock())
            failing.sources.add(source)
            failing.count += 1
            if not first and now - failing.last_logged < (failing.repeat_every or self.repeat_every):
                failing.held_back += 1
                return False
            held_back, failing.held_back, failing.last_logged = failing.held_back, 0, now
            since = now - failing.since
        if first:
            log.error(event, source=source, error=f"{type(exc).__name__}: {exc}", cause=describe or None,
                      failure=kind, exc_info=exc, **fields)
        else:
            log.error(event, source=source, error=f"{type(exc).__name__}: {text}", cause=describe or None, failure=kind,
                      still_failing_for=round(since), repeats_not_logged=held_back, **fields)
        return True

    def clear(self, source: str, event: str = "recovered", **fields) -> None:
        """``source`` works again: say so once, with how long and how often it failed."""
        with self._lock:
            key = self._by_source.pop(source, None)
            if key is None:
                return
            failing = self._failing.get(key)
            done = self._forget_source(key, source)
            duration = round(self.clock() - failing.since, 1) if failing else None
            count = failing.count if failing else 0
        log.info(event, source=source, error=key, failed_for=duration, failures=count if done else None, **fields)

    def _forget_source(self, key: str, source: str) -> bool:
        failing = self._failing.get(key)
        if failing is None:
            return True
        failing.sources.discard(source)
        if not failing.sources:
            del self._failing[key]
            return True
        return False

    def active(self) -> bool:
        with self._lock:
            return bool(self._failing)

    def failing(self, source: str) -> dict | None:
        """What ``source`` fails with now (``error``, ``kind``, ``since`` as a Unix time), or None."""
        with self._lock:
            key = self._by_source.get(source)
            f = self._failing.get(key) if key else None
            return None if f is None else {"error": f.text, "kind": f.kind, "since": f.since_wall}

    def snapshot(self) -> list[dict]:
        """Everything failing now, oldest first: for ``aftercare status``."""
        with self._lock:
            return [{"sources": sorted(f.sources), "error": f.text, "kind": f.kind, "since": f.since_wall,
                     "failures": f.count} for f in sorted(self._failing.values(), key=lambda f: f.since)]

    def summary(self) -> str:
        """For STATUS: what fails, where, and for how long; empty while all is well."""
        now = self.clock()
        with self._lock:
            parts = [f"FAILING for {round(now - f.since)} s ({', '.join(sorted(f.sources))}): {f.text}"
                     for f in sorted(self._failing.values(), key=lambda f: f.since)]
        return "; ".join(parts)


#: The process's one registry; tests make their own.
troubles = Troubles()

"""Emails go out: the dispatcher drains the outbox over one reused SMTP connection.

Each row is already stored with its final bytes and Message-ID, so sending is
the only thing left to do. Temporary trouble is retried with the one backoff,
capped at ``outbox.max_retry_interval``; a permanent refusal marks the row
failed and tells the case owner.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Callable

import structlog
from peewee import InterfaceError, OperationalError

from .backoff import backoff
from .casework import Casework
from .config import Config
from .intake import mailbox_key
from .mail.smtp import PermanentFailure, SmtpSender, TemporaryFailure
from .store import outbox
from .store.database import reset_connection

log = structlog.get_logger("aftercare.dispatch")

IDLE_WAIT_SECONDS = 1.0  # also how often the heartbeat moves while idle


class Dispatcher:
    def __init__(self, config: Config, casework: Casework, clock: Callable[[], datetime], stop: threading.Event):
        self.config = config
        self.casework = casework
        self.clock = clock
        self.stop = stop
        self.wake = threading.Event()
        self.sender = SmtpSender(config.smtp)
        self.sent_log = outbox.SentLog.for_database()
        self.heartbeat = time.monotonic()
        self.sent = 0

    def run(self) -> None:
        structlog.contextvars.bind_contextvars(mailbox=mailbox_key(self.config.mailbox))
        while not self.stop.is_set():
            self.heartbeat = time.monotonic()
            try:
                worked = self.drain_once()
            except (OperationalError, InterfaceError) as exc:
                log.warning("database unavailable; the outbox waits", error=str(exc))
                reset_connection()
                worked = False
                self.stop.wait(2.0)
            if not worked:
                self.wake.wait(self._seconds_until_due())
                self.wake.clear()
        self.sender.close()
        self.sent_log.fold(close=True)
        log.info("dispatcher stopped")

    def _seconds_until_due(self) -> float:
        try:
            due = outbox.next_due_at()
        except (OperationalError, InterfaceError):
            return IDLE_WAIT_SECONDS
        if due is None:
            return IDLE_WAIT_SECONDS
        return max(0.05, min(IDLE_WAIT_SECONDS, (due - self.clock()).total_seconds()))

    def drain_once(self) -> bool:
        """Send what is due now; return True if anything was claimed.

        Each row is noted as sent the moment the server accepts it, so a crash
        can repeat at most the one email that was in flight; the notes reach the
        outbox once the batch is through (``outbox.SentLog``).
        """
        self.sent_log.fold()
        rows = outbox.claim_due(self.clock())
        if not rows:
            return False
        untried = [r.id for r in rows]
        try:
            for row in rows:
                if self.stop.is_set():
                    break
                self.heartbeat = time.monotonic()
                untried.remove(row.id)
                log_ = log.bind(case_id=row.case_id, message_id=row.message_id, kind=row.kind)
                try:
                    self.sender.send(self.config.smtp.from_addr_spec, [row.recipient],
                                     row.raw.encode("utf-8", "surrogateescape"))
                except TemporaryFailure as exc:
                    delay = backoff(row.attempts + 1, cap=self.config.outbox.max_retry_interval)
                    outbox.mark_retry(row.id, str(exc), self.clock(), delay)
                    log_.warning("send failed; will retry", error=str(exc), attempt=row.attempts + 1,
                                 retry_in=round(delay.total_seconds(), 1))
                    if self.sender.conn is None:
                        # The server is away: the rest wait too instead of failing one by one.
                        outbox.defer(untried, self.clock() + delay)
                        untried = []
                        break
                    continue
                except PermanentFailure as exc:
                    self.casework.delivery_failed(row.id, str(exc), self.clock())
                    continue
                self.sent_log.record(row.id, self.clock())
                self.sent += 1
                log_.info("email sent", recipient=row.recipient)
        finally:
            outbox.release_claims(untried)
            self.sent_log.fold()
        return True

"""Emails go out: the dispatcher drains the outbox over one reused SMTP connection.

Each row is already stored with its final bytes and Message-ID, so sending is
the only thing left to do. Temporary trouble is retried with the one backoff,
capped at ``outbox.max_retry_interval``; a permanent refusal marks the row
failed and tells the case owner.

When the database goes away mid-batch, what the server accepted stays noted
(``outbox.SentLog``) and is written first once the database answers again;
then this process's interrupted claims go back to ``pending`` at once, and
claims of dead holders are rescued every ``RESCUE_EVERY_SECONDS``.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Callable

import structlog

from .backoff import DATABASE_RETRY_CAP, backoff
from .cases.verification import bounce_address
from .casework import Casework
from .config import Config
from .loop import Loop
from .mail.errors import LOGIN_RETRY_BASE, LOGIN_RETRY_CAP
from .mail.imap import mailbox_key
from .mail.oauth2 import GrantRefused
from .mail.smtp import PermanentFailure, SmtpLoginRefused, SmtpSender, SmtpTokenUnavailable, TemporaryFailure
from .store import outbox
from .store.database import DATABASE_ERRORS, describe_error, reset_connection
from .trouble import Troubles, troubles as process_troubles

log = structlog.get_logger("aftercare.dispatch")

IDLE_WAIT_SECONDS = 1.0  # also how often the heartbeat moves while idle
RENEW_EVERY_SECONDS = 10.0  # claims last outbox.CLAIM_TTL; renewed this often while held
RESCUE_EVERY_SECONDS = 10.0  # how often claims of dead or expired holders are looked for
TOKEN_RETRY_CAP = timedelta(minutes=5)  # an OAuth2 token endpoint that cannot be reached is tried this often at least
DEAD_GRANT_REPEAT_SECONDS = 3600.0  # a dead OAuth2 grant is logged once, then once an hour


class Dispatcher(Loop):
    """The outbox loop. ``sender`` is the SMTP edge (the service hands in ``SmtpSender``)."""

    name = "dispatcher"

    def __init__(self, config: Config, casework: Casework, clock: Callable[[], datetime],
                 stop: threading.Event | None = None, sent_log: outbox.SentLog | None = None,
                 troubles: Troubles | None = None, sender: SmtpSender | None = None):
        super().__init__(stop)
        self.ready.set()  # nothing to wait for: the outbox is sent from the first pass
        self.config = config
        self.casework = casework
        self.clock = clock
        self.sender = sender or SmtpSender(config.smtp)
        # Handed over by the service, so that acceptances held in memory outlive a restart of this loop.
        self.sent_log = sent_log or outbox.SentLog.for_database(config.database.sent_log)
        self.troubles = troubles or process_troubles
        self.sent = 0
        self.interrupted = True  # first pass: give back whatever this process held (a restarted loop)
        self._failures = 0
        self._next_rescue = 0.0
        self._last_renew = time.monotonic()
        self._login_refusals = 0
        self._login_retry_at = 0.0  # a refused SMTP login: nothing is claimed before this (monotonic)
        self._token_resets_seen = 0  # the token source's resets when the login was refused (a reload retries)

    def run(self) -> None:
        structlog.contextvars.bind_contextvars(mailbox=mailbox_key(self.config.mailbox))
        while not self.stop.is_set():
            self.beat()
            try:
                if self.interrupted:
                    self.settle()
                worked = self.drain_once()
                self._rescue_if_due()
            except DATABASE_ERRORS as exc:
                worked = False
                self._database_failed(exc)
                continue
            if self._failures:
                self._failures = 0
                self.troubles.clear("outbox", "database back; the outbox sends again")
            if not worked:
                self.wake.wait(self._seconds_until_due())
                self.wake.clear()
        self.sender.close()
        try:
            self.settle()
            self.sent_log.fold(close=True)
        except DATABASE_ERRORS as exc:
            log.error("stopping with the database away: accepted emails stay noted in the side log",
                      error=str(exc), unwritten=self.sent_log.unwritten, side_log=self.sent_log.path)
        log.info("dispatcher stopped")

    def _database_failed(self, exc: BaseException) -> None:
        """Say it (once a minute at most), drop the connection, wait with the one backoff."""
        self.interrupted = True
        self._failures += 1
        reset_connection()
        delay = backoff(self._failures, cap=DATABASE_RETRY_CAP).total_seconds()
        self.troubles.report("outbox", exc, "database unavailable; the outbox waits",
                             describe=describe_error(self.config.database.url, exc), retry_in=round(delay, 1),
                             unwritten=self.sent_log.unwritten)
        self._sleep(delay)

    def _sleep(self, seconds: float) -> None:
        self.sleep(seconds)

    def run_until_idle(self) -> int:
        """Send everything due now, in this thread; return how many emails the server accepted."""
        before = self.sent
        if self.interrupted:
            self.settle()
        while not self.stop.is_set() and self.drain_once():
            pass
        self.sent_log.fold()
        return self.sent - before

    def settle(self) -> None:
        """After an interruption: write what the server accepted, then give back what this process held.

        In this order, so an accepted email is never put back to ``pending``; rows still only noted
        (the fold failed half-way) are kept back all the same.
        """
        self.sent_log.fold()
        released = outbox.release_own_claims(keep=self.sent_log.pending())
        if released:
            log.info("claims interrupted by the database outage are pending again", count=released)
        self.interrupted = False

    def _envelope(self, row_id: int) -> str:
        """MAIL FROM names the outbox row (VERP), so a delivery report is matched to this exact email."""
        return bounce_address(self.config.smtp.from_addr_spec, self.casework.secret(), row_id)

    def _login_refused(self, exc: SmtpLoginRefused | SmtpTokenUnavailable, log_, ids: list[int]) -> None:
        """No email is to blame: none counts a try; all wait for the next login.

        A refused login or a dead OAuth2 grant is said once loudly (a dead grant then once an hour, anything
        else once a minute at most) and retried at 30 s, 1 min, ... up to 15 min apart, or as soon as a new
        refresh token or client secret is in place; a token endpoint that cannot be reached is retried
        with the one backoff from 1 s.
        """
        self._login_refusals += 1
        permanent = exc.permanent
        if permanent:
            delay = backoff(self._login_refusals, base=LOGIN_RETRY_BASE, cap=LOGIN_RETRY_CAP).total_seconds()
        else:
            delay = backoff(self._login_refusals, cap=TOKEN_RETRY_CAP).total_seconds()
        self._login_retry_at = time.monotonic() + delay
        source = self.sender.token_source
        self._token_resets_seen = source.resets if source is not None else 0
        outbox.release_claims(ids)
        cause = exc.cause if isinstance(exc, SmtpTokenUnavailable) else None
        if isinstance(cause, GrantRefused):
            self.troubles.report("smtp-login", cause, "OAuth2 grant for SMTP refused; the outbox waits",
                                 retry_in=round(delay, 1), waiting=len(ids), hint=cause.hint,
                                 repeat_every=DEAD_GRANT_REPEAT_SECONDS)
        elif cause is not None:
            self.troubles.report("smtp-login", cause, "no OAuth2 token for SMTP; the outbox waits",
                                 retry_in=round(delay, 1), waiting=len(ids))
        else:
            hint = ("the SMTP server refused the OAuth2 token: check the scope (SMTP.Send, https://mail.google.com/) "
                    "and that SMTP AUTH is enabled for the mailbox" if self.config.smtp.auth == "oauth2" else
                    "the SMTP server refused the login: check smtp.username and the password, then reload")
            self.troubles.report("smtp-login", exc, "send failed; will retry", retry_in=round(delay, 1),
                                 waiting=len(ids), hint=hint)

    def _login_waiting(self) -> bool:
        """Whether sending waits for a retry of the login (not if a new token file or secret is in place)."""
        if time.monotonic() >= self._login_retry_at:
            return False
        source = self.sender.token_source
        if source is not None and source.changed(self._token_resets_seen):
            self._login_retry_at = 0.0
            return False
        return True

    def _rescue_if_due(self) -> None:
        now = time.monotonic()
        if now < self._next_rescue:
            return
        self._next_rescue = now + RESCUE_EVERY_SECONDS
        rescued = outbox.rescue_claims(self.clock())
        if rescued:
            log.warning("emails claimed by a process that stopped are pending again", count=rescued)

    def _seconds_until_due(self) -> float:
        if self._login_waiting():
            return IDLE_WAIT_SECONDS
        try:
            due = outbox.next_due_at()
        except DATABASE_ERRORS:
            self.interrupted = True
            reset_connection()
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
        if self._login_waiting():
            return False  # the SMTP login was refused: the emails wait, untouched, for the next try
        rows = outbox.claim_due(self.clock())
        if not rows:
            return False
        self._last_renew = time.monotonic()
        untried = [r.id for r in rows]
        try:
            for row in rows:
                if self.stop.is_set():
                    break
                self.beat()
                if self.heartbeat - self._last_renew > RENEW_EVERY_SECONDS:
                    outbox.renew_claims(self.clock())
                    self._last_renew = self.heartbeat
                untried.remove(row.id)
                log_ = log.bind(case_id=row.case_id, message_id=row.message_id, kind=row.kind)
                try:
                    self.sender.send(self._envelope(row.id), [row.recipient], row.raw.encode("utf-8", "surrogateescape"))
                except (SmtpLoginRefused, SmtpTokenUnavailable) as exc:
                    # No email is to blame: none counts a try; all wait for the next login, on a slow schedule.
                    self._login_refused(exc, log_, untried + [row.id])
                    untried = []
                    break
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
                if self._login_refusals:
                    self._login_refusals = 0
                    self.troubles.clear("smtp-login", "SMTP login accepted again; the outbox sends")
                try:
                    self.sent_log.record(row.id, self.clock())
                except DATABASE_ERRORS:
                    log_.warning("email accepted while the database was away: noted, it will not be sent again",
                                 recipient=row.recipient, side_log=self.sent_log.path or "memory")
                    raise
                self.sent += 1
                log_.info("email sent", recipient=row.recipient)
        except DATABASE_ERRORS:
            self.interrupted = True  # the next pass gives back what is left, once the database answers
            raise
        outbox.release_claims(untried)
        self.sent_log.fold()
        return True

"""Emails go out: the dispatcher drains the outbox over one reused SMTP connection.

Each row is already stored with its final bytes and Message-ID, so sending is
the only thing left to do. Temporary trouble is retried with the one backoff,
capped at ``outbox.max_retry_interval``; a permanent refusal marks the row
failed and tells the case owner, except a refusal for size of an email that
carries files: it goes again at once without them, saying so. Each file's
body is written in from its one stored copy as the email goes
(``store/files.py``).

When the database goes away mid-batch, what the server accepted stays noted
(``outbox.SentLog``) and is written first once the database answers again;
then this process's interrupted claims go back to ``pending`` at once, and
claims of dead holders are rescued every ``RESCUE_EVERY_SECONDS``.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

import structlog

from .backoff import DATABASE_RETRY_CAP, backoff
from .cases.verification import bounce_address
from .casework import Casework
from .config import Config, Inbox
from .loop import Loop
from .mail.errors import LOGIN_RETRY_BASE, LOGIN_RETRY_CAP
from .mail.oauth2 import GrantRefused, TokenSource
from .mail.smtp import (MessageTooLarge, PermanentFailure, SmtpCertificateRefused, SmtpLoginRefused, SmtpSender,
                        SmtpTokenUnavailable, TemporaryFailure)
from .store import files, outbox
from .store.database import DATABASE_ERRORS, describe_error, reset_connection
from .trouble import Troubles, troubles as process_troubles

log = structlog.get_logger("aftercare.dispatch")

IDLE_WAIT_SECONDS = 1.0  # also how often the heartbeat moves while idle
CLAIM_LIMIT = 100  # rows claimed at a time (several instances claim fewer, to share the work)
RENEW_EVERY_SECONDS = 10.0  # claims last outbox.CLAIM_TTL; renewed this often while held
RESCUE_EVERY_SECONDS = 10.0  # how often claims of dead or expired holders are looked for
TOKEN_RETRY_CAP = timedelta(minutes=5)  # an OAuth2 token endpoint that cannot be reached is tried this often at least
DEAD_GRANT_REPEAT_SECONDS = 3600.0  # a dead OAuth2 grant is logged once, then once an hour


class Dispatcher(Loop):
    """The outbox loop. ``sender`` is the SMTP edge (the service hands in ``SmtpSender``)."""

    name = "dispatcher"

    def __init__(self, config: Config, casework: Casework, clock: Callable[[], datetime],
                 stop: threading.Event | None = None, sent_log: outbox.SentLog | None = None,
                 troubles: Troubles | None = None, sender: SmtpSender | None = None,
                 sender_factory: Callable[[Inbox], SmtpSender] | None = None,
                 liveness: Callable[[], tuple[bool, int]] = lambda: (True, 0),
                 idle_wait: Callable[[], float] = lambda: IDLE_WAIT_SECONDS,
                 claim_limit: int = CLAIM_LIMIT, rescue_every: float = RESCUE_EVERY_SECONDS):
        super().__init__(stop)
        # Several instances (PostgreSQL): is this one's heartbeat recent, and has it lapsed since (a count)? A
        # lapse means another instance may have taken our claims: each is asked for again before it is sent.
        self.liveness = liveness
        self.idle_wait = idle_wait
        self.claim_limit = claim_limit
        self.rescue_every = rescue_every
        self.ready.set()  # nothing to wait for: the outbox is sent from the first pass
        self.config = config
        self.casework = casework
        self.clock = clock
        # One SMTP edge per mailbox (each its server and login); a test may hand in one ``sender`` for all.
        self.sender_factory = sender_factory or (lambda inbox: sender or SmtpSender(inbox.smtp_sending))
        self.senders: dict[str, SmtpSender] = {}
        # Handed over by the service, so that acceptances held in memory outlive a restart of this loop.
        self.sent_log = sent_log or outbox.SentLog.for_database(config.database.sent_log)
        self.troubles = troubles or process_troubles
        self.sent = 0
        self.interrupted = True  # first pass: give back whatever this process held (a restarted loop)
        self._failures = 0
        self._next_rescue = 0.0
        self._last_renew = time.monotonic()
        self.waits: dict[str, LoginWait] = {}  # mailboxes whose SMTP login was refused: their emails wait

    def run(self) -> None:
        structlog.contextvars.bind_contextvars(mailbox="outbox")
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
        for sender in self.senders.values():
            sender.close()
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

    @property
    def sender(self) -> SmtpSender:
        """The first mailbox's SMTP edge (the one every email of a single-mailbox daemon goes by)."""
        return self._sender(self.config.default_inbox)

    def _sender(self, inbox: Inbox) -> SmtpSender:
        if inbox.name not in self.senders:
            self.senders[inbox.name] = self.sender_factory(inbox)
        return self.senders[inbox.name]

    def _envelope(self, inbox: Inbox, row_id: int) -> str:
        """MAIL FROM names the outbox row (VERP) at the mailbox's address, so a delivery report comes back
        to that mailbox and is matched to this exact email."""
        return bounce_address(inbox.smtp.from_addr_spec, self.casework.secret(), row_id)

    def _login_refused(self, inbox: Inbox, exc: SmtpLoginRefused | SmtpTokenUnavailable, ids: list[int]) -> None:
        """No email is to blame: none counts a try; the mailbox's emails wait for its next login, the other
        mailboxes' go on.

        A refused login or a dead OAuth2 grant is said once loudly (a dead grant then once an hour, anything
        else once a minute at most) and retried at 30 s, 1 min, ... up to 15 min apart, or as soon as a new
        refresh token or client secret is in place, or after a reload; a token endpoint that cannot be
        reached is retried with the one backoff from 1 s.
        """
        wait = self.waits.setdefault(inbox.name, LoginWait())
        wait.refusals += 1
        if exc.permanent:
            delay = backoff(wait.refusals, base=LOGIN_RETRY_BASE, cap=LOGIN_RETRY_CAP).total_seconds()
        else:
            delay = backoff(wait.refusals, cap=TOKEN_RETRY_CAP).total_seconds()
        wait.retry_at = time.monotonic() + delay
        wait.source = self._sender(inbox).token_source
        wait.resets_seen = wait.source.resets if wait.source is not None else 0
        outbox.release_claims(ids)
        source = _trouble_source("smtp-login", inbox)
        cause = exc.cause if isinstance(exc, SmtpTokenUnavailable) else None
        if isinstance(cause, GrantRefused):
            self.troubles.report(source, cause, "OAuth2 grant for SMTP refused; the outbox waits",
                                 retry_in=round(delay, 1), waiting=len(ids), hint=cause.hint,
                                 repeat_every=DEAD_GRANT_REPEAT_SECONDS, case_mailbox=inbox.name)
        elif cause is not None:
            self.troubles.report(source, cause, "no OAuth2 token for SMTP; the outbox waits",
                                 retry_in=round(delay, 1), waiting=len(ids), case_mailbox=inbox.name)
        else:
            hint = ("renew the SMTP server's certificate or install its CA on this host"
                    if isinstance(exc, SmtpCertificateRefused) else
                    "the SMTP server refused the OAuth2 token: check the scope (SMTP.Send, https://mail.google.com/) "
                    "and that SMTP AUTH is enabled for the mailbox" if inbox.smtp.auth == "oauth2" else
                    "the SMTP server refused the login: check smtp.username and the password, then reload")
            self.troubles.report(source, exc, "send failed; will retry", retry_in=round(delay, 1),
                                 waiting=len(ids), hint=hint, case_mailbox=inbox.name, kind="permanent",
                                 repeat_every=DEAD_GRANT_REPEAT_SECONDS)

    def _login_accepted(self, inbox: Inbox) -> None:
        if self.waits.pop(inbox.name, None) is not None:
            self.troubles.clear(_trouble_source("smtp-login", inbox), "SMTP login accepted again; the outbox sends",
                                case_mailbox=inbox.name)

    def _waiting(self) -> list[str]:
        """The mailboxes whose emails wait for a retry of the login ('' too when the first mailbox waits: its
        rows from before several mailboxes name none). A new token file or secret, or a reload, ends a wait."""
        now, out = time.monotonic(), []
        for name, wait in self.waits.items():
            if now >= wait.retry_at:
                continue
            if wait.source is not None and wait.source.changed(wait.resets_seen):
                wait.retry_at = 0.0
                continue
            out.append(name)
        if self.config.default_inbox.name in out:
            out.append("")
        return out

    def _rescue_if_due(self) -> None:
        now = time.monotonic()
        if now < self._next_rescue:
            return
        self._next_rescue = now + self.rescue_every
        rescued = outbox.rescue_claims(self.clock())
        if rescued:
            log.warning("emails claimed by a process that stopped are pending again", count=rescued)

    def _seconds_until_due(self) -> float:
        try:
            due = outbox.next_due_at(self._waiting())
        except DATABASE_ERRORS:
            self.interrupted = True
            reset_connection()
            return IDLE_WAIT_SECONDS
        if due is None:
            return self.idle_wait()
        return max(0.05, min(self.idle_wait(), (due - self.clock()).total_seconds()))

    def drain_once(self) -> bool:
        """Send what is due now; return True if anything was claimed.

        Each row is noted as sent the moment the server accepts it, so a crash
        can repeat at most the one email that was in flight; the notes reach the
        outbox once the batch is through (``outbox.SentLog``). Each row goes by
        its mailbox's SMTP server: one that refuses the login or is away holds
        back only that mailbox's emails.
        """
        self.sent_log.fold()
        _, lapses = self.liveness()
        rows = outbox.claim_due(self.clock(), limit=self.claim_limit, waiting=self._waiting())
        if not rows:
            return False
        self._last_renew = time.monotonic()
        untried = [r.id for r in rows]
        held: set[str] = set()  # mailboxes whose server failed in this pass: their other rows wait
        try:
            for row in rows:
                if self.stop.is_set():
                    break
                self.beat()
                if self.heartbeat - self._last_renew > RENEW_EVERY_SECONDS:
                    outbox.renew_claims(self.clock())
                    self._last_renew = self.heartbeat
                inbox = self.config.inbox_for(row.mailbox, row.from_address)
                if inbox.name in held:
                    continue
                fresh, now_lapses = self.liveness()
                if not fresh or now_lapses != lapses:
                    lapses = now_lapses
                    if row.id not in outbox.still_claimed([row.id], self.clock()):
                        untried.remove(row.id)
                        log.warning("an email this instance claimed was taken over while it could not beat; "
                                    "not sending it", case_id=row.case_id, message_id=row.message_id,
                                    case_mailbox=inbox.name)
                        continue
                untried.remove(row.id)
                log_ = log.bind(case_id=row.case_id, message_id=row.message_id, kind=row.kind,
                                case_mailbox=inbox.name)
                sender = self._sender(inbox)
                if row.raw is None:  # erased (aftercare customer erase) or let go by [retention] before it went
                    self.casework.delivery_failed(row.id, "its text is no longer held (erased before it was sent)",
                                                  self.clock())
                    continue
                try:
                    raw = files.expand(row.raw.encode("utf-8", "surrogateescape"))
                except files.MissingFile as exc:
                    self.casework.delivery_failed(row.id, str(exc), self.clock())
                    continue
                try:
                    sender.send(self._envelope(inbox, row.id), [row.recipient], raw)
                except (SmtpLoginRefused, SmtpTokenUnavailable) as exc:
                    # No email is to blame: none counts a try; this mailbox's wait for its next login.
                    same = [r.id for r in rows if r.id in untried and self.config.inbox_for(
                        r.mailbox, r.from_address).name == inbox.name]
                    self._login_refused(inbox, exc, same + [row.id])
                    untried = [i for i in untried if i not in same]
                    held.add(inbox.name)
                    continue
                except TemporaryFailure as exc:
                    delay = backoff(row.attempts + 1, cap=self.config.outbox.max_retry_interval)
                    outbox.mark_retry(row.id, str(exc), self.clock(), delay)
                    log_.warning("send failed; will retry", error=str(exc), attempt=row.attempts + 1,
                                 retry_in=round(delay.total_seconds(), 1))
                    if sender.conn is None:
                        # The server is away: the mailbox's other emails wait too instead of failing one by one.
                        same = [r.id for r in rows if r.id in untried and self.config.inbox_for(
                            r.mailbox, r.from_address).name == inbox.name]
                        outbox.defer(same, self.clock() + delay)
                        untried = [i for i in untried if i not in same]
                        held.add(inbox.name)
                    continue
                except MessageTooLarge as exc:
                    # With its files it is too large for this server: it goes again without them, saying so.
                    if not self.casework.files_refused(row.id, str(exc), self.clock()):
                        self.casework.delivery_failed(row.id, str(exc), self.clock())
                    else:
                        self.wake.set()
                    continue
                except PermanentFailure as exc:
                    self.casework.delivery_failed(row.id, str(exc), self.clock())
                    continue
                self._login_accepted(inbox)
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


@dataclass
class LoginWait:
    """A mailbox whose SMTP login was refused: how often, until when its emails wait, and what may end it."""

    refusals: int = 0
    retry_at: float = 0.0
    source: TokenSource | None = None
    resets_seen: int = 0


def _trouble_source(kind: str, inbox: Inbox) -> str:
    """How STATUS names a failing part: "smtp-login", or "smtp-login:billing" for a named mailbox."""
    return kind if inbox.name == "default" else f"{kind}:{inbox.name}"

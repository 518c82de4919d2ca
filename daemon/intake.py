"""Mail comes in: watch the folder, record each message, then file it away.

The order is what makes intake safe: a message is moved out of the watched
folder only after the transaction recording it (and the emails it causes) has
committed. A crash in between leaves it in the folder; the next scan finds it,
recognises it by Message-ID (or content hash) and only files it.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Callable

import structlog
from peewee import DatabaseError, IntegrityError

from .backoff import DATABASE_RETRY_CAP, backoff
from .casework import QUARANTINE_AFTER_FAILURES, Casework
from .config import MailboxConfig
from .loop import Loop
from .mail.errors import LOGIN_RETRY_BASE, LOGIN_RETRY_CAP, AuthenticationRefused, EdgeError
from .mail.imap import Mailbox, MailboxCertificateRefused, MailboxError, MailboxMissing, mailbox_key
from .mail.oauth2 import GrantRefused, TokenError, TokenStoreError
from .mail.parse import parse
from .store.database import DATABASE_ERRORS, bind_fence, describe_error, probe_write, reset_connection
from .store.leases import LeaseLost
from .store.models import MailboxState, database
from .trouble import Troubles, troubles as process_troubles

log = structlog.get_logger("aftercare.intake")

RECONNECT_CAP = timedelta(minutes=5)
UNREACHABLE_REPORT_AFTER = 3  # failed reconnects in a row before an unreachable mailbox shows in STATUS
UNREACHABLE_ALERT_AFTER = timedelta(minutes=10)  # ... and before its escalation addresses are emailed
PERMANENT_REPEAT_SECONDS = 3600.0  # a failure only a person can end is logged once, then once an hour
DEAD_GRANT_REPEAT_SECONDS = PERMANENT_REPEAT_SECONDS
TOKEN_CHANGE_CHECK_SECONDS = 2.0  # how often a refused login looks for a new refresh token file or secret


class Intake(Loop):
    """The intake loop: one mailbox folder, run on its own thread until ``stop`` is set.

    ``mailbox_factory`` makes the (not yet connected) edge; the service hands in ``Mailbox``, a test may
    hand in anything with the same methods.
    """

    name = "intake"

    def __init__(self, config: MailboxConfig, casework: Casework, clock: Callable[[], datetime],
                 stop: threading.Event | None = None, on_processed: Callable[[], None] = lambda: None,
                 database_url: str = "", troubles: Troubles | None = None,
                 mailbox_factory: Callable[[], Mailbox] | None = None,
                 on_login_dead: Callable[[BaseException, datetime], None] = lambda exc, since: None,
                 inbox: str = "default", fence=None, warm: threading.Event | None = None):
        super().__init__(stop)
        # Set once the language model is loaded (seconds on a busy host): reading waits for it, so a process
        # killed while it loads has tried no message, and none is quarantined for the kills of a restart loop.
        self.warm = warm
        # Several instances (PostgreSQL): the mailbox's lease (instances.Fence). Nothing is committed or filed
        # once it no longer holds; the loop then ends and the service stops this intake.
        self.fence = fence
        self.config = config
        self.database_url = database_url
        self.troubles = troubles or process_troubles
        self.casework = casework
        self.clock = clock
        self.on_processed = on_processed
        self.mailbox_factory = mailbox_factory or (lambda: Mailbox(config))
        # A login only a person can mend, or a server away for UNREACHABLE_ALERT_AFTER: the service emails
        # the mailbox's escalation addresses (once per outage).
        self.on_login_dead = on_login_dead
        self.inbox = inbox  # the mailbox's name: new cases belong to it
        suffix = "" if inbox == "default" else f":{inbox}"
        self.login_source, self.db_source = f"imap-login{suffix}", f"intake{suffix}"
        # Set after the first full sync, or once the first login failed (READY does not wait for a mailbox
        # that is down: the others are being worked, and STATUS says which one fails).
        self.synced = self.ready
        self.mailbox_key = mailbox_key(config)
        self.log = log
        self.processed = 0
        self.last_sync_at: datetime | None = None  # the folder last read in full or in part (aftercare status)

    # --- the loop -----------------------------------------------------------

    def run(self) -> None:
        # Every log line of this thread, casework's included, names the mailbox.
        structlog.contextvars.bind_contextvars(mailbox=self.mailbox_key)
        bind_fence(self.fence.check_commit if self.fence is not None else None)
        try:
            self._run()
        except LeaseLost as exc:
            self.log.warning("mailbox no longer held by this instance: intake stops", reason=str(exc))
            # What failed here is for the instance that watches the mailbox now to say (or to find mended).
            self.troubles.clear(self.login_source, "mailbox handed to another instance: its failures are no "
                                                   "longer this instance's")
            self.troubles.clear(self.db_source, "mailbox handed to another instance: its failures are no "
                                                "longer this instance's")
        finally:
            bind_fence(None)
        self.log.info("intake stopped")

    def _ensure_lease(self) -> None:
        if self.fence is not None:
            self.fence.ensure()

    def _run(self) -> None:
        failures = refusals = 0
        down_since, alerted = None, False
        while not self.stop.is_set():
            self._ensure_lease()
            mailbox = self.mailbox_factory()
            try:
                status = mailbox.connect()
                if failures:
                    self.log.info("mailbox reconnected", attempts=failures)
                self.troubles.clear(self.login_source, "mailbox login accepted again")  # a no-op unless it failed
                failures = refusals = 0
                down_since, alerted = None, False
                self.log.info("mailbox connected", idle=mailbox.supports_idle and self.config.idle,
                              move=mailbox.supports_move, uidvalidity=status.uidvalidity)
                self._watch(mailbox)
            except DATABASE_ERRORS as exc:
                # Not the mailbox's fault: nothing was filed, so nothing is lost. Wait for the database,
                # then read the folder afresh.
                mailbox.close()
                self._wait_for_database(exc)
            except (AuthenticationRefused, MailboxMissing, MailboxCertificateRefused) as exc:
                # Permanent until someone fixes the password, token, folder or certificate: said once, loudly,
                # then once an hour, emailed once per outage, and retried on a slow schedule (a reload with
                # new credentials restarts intake at once, and a new refresh token file or client secret is
                # noticed within seconds).
                refusals += 1
                delay = backoff(refusals, base=LOGIN_RETRY_BASE, cap=LOGIN_RETRY_CAP)
                self._permanent_failure(exc, delay)
                self.synced.set()
                down_since = down_since or self.clock()
                if not alerted and not isinstance(exc, TokenStoreError):
                    alerted = True
                    self.on_login_dead(exc, down_since)
                self._sleep_unless_token_changed(delay.total_seconds(), getattr(mailbox, "token_source", None))
            except TokenError as exc:
                # The token endpoint is away or answered badly: the source backs off by itself; said once a
                # minute, not as a lost connection.
                failures += 1
                delay = backoff(failures, cap=RECONNECT_CAP)
                self.troubles.report(self.login_source, exc, "no OAuth2 token for the mailbox; intake waits",
                                     retry_in=round(delay.total_seconds(), 1))
                self.synced.set()
                self._sleep(delay.total_seconds())
            except (MailboxError, EdgeError, DatabaseError) as exc:
                failures += 1
                reset_connection()
                delay = backoff(failures, cap=RECONNECT_CAP)
                self.log.warning("mailbox connection lost; reconnecting", error=str(exc), attempt=failures,
                                 retry_in=round(delay.total_seconds(), 1))
                if isinstance(exc, MailboxError) and (failures >= UNREACHABLE_REPORT_AFTER or not self.synced.is_set()):
                    # Away for good, or since the start: STATUS says it (the log line above says each attempt).
                    self.troubles.report(self.login_source, exc, "mailbox unreachable; intake waits",
                                         retry_in=round(delay.total_seconds(), 1))
                    self.synced.set()
                    down_since = down_since or self.clock()
                    if not alerted and self.clock() - down_since >= UNREACHABLE_ALERT_AFTER:
                        alerted = True
                        self.on_login_dead(exc, down_since)
                self._sleep(delay.total_seconds())
            finally:
                mailbox.close()

    def _permanent_failure(self, exc: BaseException, delay: timedelta) -> None:
        retry_in = round(delay.total_seconds())
        if isinstance(exc, MailboxMissing):
            self.troubles.report(self.login_source, exc, "the watched folder does not exist; intake waits",
                                 retry_in=retry_in, kind="permanent", repeat_every=PERMANENT_REPEAT_SECONDS,
                                 hint="create the folder or correct mailbox.folder, then reload")
        elif isinstance(exc, MailboxCertificateRefused):
            self.troubles.report(self.login_source, exc, "the IMAP server's certificate is not trusted; intake waits",
                                 retry_in=retry_in, kind="permanent", repeat_every=PERMANENT_REPEAT_SECONDS,
                                 hint="renew the server's certificate or install its CA on this host "
                                      "(never switch verification off)")
        elif isinstance(exc, TokenStoreError):
            self.troubles.report(self.login_source, exc, "the rotated OAuth2 refresh token cannot be stored; intake waits",
                                 retry_in=retry_in, kind="permanent", repeat_every=PERMANENT_REPEAT_SECONDS,
                                 hint="make the token store writable for the service's user "
                                                         "(mailbox.oauth2.token_store)")
        elif isinstance(exc, GrantRefused):
            self.troubles.report(self.login_source, exc, "OAuth2 grant for the mailbox refused; intake waits",
                                 retry_in=retry_in, hint=exc.hint, kind="permanent",
                                 repeat_every=PERMANENT_REPEAT_SECONDS)
        elif self.config.auth == "oauth2":
            self.troubles.report(self.login_source, exc, "mailbox login refused", retry_in=retry_in,
                                 kind="permanent", repeat_every=PERMANENT_REPEAT_SECONDS,
                                 hint="the IMAP server refused the OAuth2 token: check the scope "
                                      "(IMAP.AccessAsUser.All, https://mail.google.com/), mailbox.username "
                                      "and that IMAP is enabled for the mailbox")
        else:
            self.troubles.report(self.login_source, exc, "mailbox login refused", retry_in=retry_in,
                                 kind="permanent", repeat_every=PERMANENT_REPEAT_SECONDS,
                                 hint="check mailbox.username and the password, then reload")

    def _sleep_unless_token_changed(self, seconds: float, token_source) -> None:
        """Sleep ``seconds``, but wake within seconds once a new refresh token or client secret is in place,
        or after a reload (the provider's side may have been mended: consent given again, the app enabled)."""
        if token_source is None:
            self._sleep(seconds)
            return
        deadline, resets = time.monotonic() + seconds, token_source.resets
        while not self.stop.is_set() and time.monotonic() < deadline:
            self._sleep(min(TOKEN_CHANGE_CHECK_SECONDS, deadline - time.monotonic()))
            if token_source.changed(resets):
                self.log.info("a new OAuth2 refresh token or client secret is in place, or a reload; logging in again")
                return

    def run_until_idle(self) -> int:
        """Connect, record everything waiting in the folder, file it, disconnect; return how many."""
        before = self.processed
        mailbox = self.mailbox_factory()
        try:
            mailbox.connect()
            self._reset_if_uidvalidity_changed(mailbox.status.uidvalidity)
            after = 0  # the first scan reads the whole folder, as the loop's does
            while not self.stop.is_set():
                seen = self.sync(mailbox, after=after)
                if seen <= after:
                    break
                after = seen
        finally:
            mailbox.close()
        return self.processed - before

    def _wait_for_database(self, exc: BaseException) -> None:
        """Back off with the one backoff until the database answers; say so once (then once a minute)."""
        attempt = 0
        while not self.stop.is_set():
            attempt += 1
            reset_connection()
            delay = backoff(attempt, cap=DATABASE_RETRY_CAP).total_seconds()
            self.troubles.report(self.db_source, exc, "database unavailable; intake waits",
                                 describe=describe_error(self.database_url, exc), retry_in=round(delay, 1))
            self._sleep(delay)
            self._ensure_lease()  # the database away too long: the lease ended, another instance may hold it
            try:
                probe_write(self.clock())  # a full disk still answers reads: only a write proves it is back
            except DATABASE_ERRORS as again:
                exc = again
                continue
            self.troubles.clear(self.db_source, "database back; intake reads the mailbox again")
            return

    def _watch(self, mailbox: Mailbox) -> None:
        while self.warm is not None and not self.warm.wait(0.5):
            self.beat()
            if self.stop.is_set():
                return
        last_uid = self._reset_if_uidvalidity_changed(mailbox.status.uidvalidity)
        full_scan_due = 0.0  # the first scan after connecting reads the whole folder
        use_idle = mailbox.supports_idle and self.config.idle
        poll = self.config.poll_interval.total_seconds()
        while not self.stop.is_set():
            self.beat()
            self._ensure_lease()
            full = time.monotonic() >= full_scan_due
            last_uid = self.sync(mailbox, after=0 if full else last_uid)
            self.last_sync_at = self.clock()
            self.troubles.clear(self.db_source, "database back; intake reads the mailbox again")  # a no-op unless
            # an earlier intake of this mailbox stopped while the database was away (its lease ran out meanwhile)
            if full:
                full_scan_due = time.monotonic() + poll
            self.synced.set()
            if self.stop.is_set():
                return
            if use_idle:
                mailbox.idle_wait(max(1.0, full_scan_due - time.monotonic()), self._beat_and_check_stop)
            else:
                self._sleep(max(0.2, min(poll, full_scan_due - time.monotonic())))
                mailbox.noop()

    def _beat_and_check_stop(self) -> bool:
        self.beat()
        return self.stop.is_set() or (self.fence is not None and not self.fence.holds())

    def _sleep(self, seconds: float) -> None:
        self.sleep(seconds)

    def _reset_if_uidvalidity_changed(self, uidvalidity: int) -> int:
        with database.atomic():
            state = MailboxState.get_or_none(MailboxState.name == self.mailbox_key)
            if state is None:
                MailboxState.create(name=self.mailbox_key, uidvalidity=uidvalidity, last_uid=0)
                return 0
            if state.uidvalidity != uidvalidity:
                self.log.warning("UIDVALIDITY changed: rescanning, duplicates are recognised by Message-ID",
                                 old=state.uidvalidity, new=uidvalidity)
                state.uidvalidity, state.last_uid = uidvalidity, 0
                state.save()
            return state.last_uid

    # --- one pass -----------------------------------------------------------

    def sync(self, mailbox: Mailbox, after: int) -> int:
        """Process every message above ``after``; return the highest UID seen.

        The stored last UID is advanced before a message is worked on, so a
        message found again at or below it has been tried before: that try is
        counted first, and a message that keeps killing the process is
        quarantined instead of taking the daemon down again and again.

        Messages new to us are recorded a fetched batch to a transaction (one
        commit, and one wait for SQLite's write lock, per batch instead of per
        message); each message still has a savepoint of its own, so one that
        fails rolls back alone. A message tried before is recorded in a
        transaction of its own, after its try was counted and committed.
        """
        uids = mailbox.uids(after)
        if not uids:
            return after
        tried_before = self._advance_last_uid(max(uids))
        highest = after
        for batch in mailbox.fetch_batches(uids):
            if self.stop.is_set():
                break
            outcomes, queued = self._process_batch(mailbox, batch, tried_before)
            if queued:
                self.on_processed()  # after the commit: the dispatcher finds the emails
            highest = max([highest, *outcomes])
            self._file(mailbox, [u for u, o in outcomes.items() if o == "done"],
                       [u for u, o in outcomes.items() if o == "quarantine"])
        return max(highest, after)

    def _process_batch(self, mailbox: Mailbox, batch: list[tuple[int, bytes]],
                       tried_before: int) -> tuple[dict[int, str], int]:
        outcomes: dict[int, str] = {}
        queued = 0
        for uid, raw in batch:
            if uid <= tried_before and not self.stop.is_set():
                outcomes[uid], n = self._process(mailbox, uid, raw, retry=True)
                queued += n
        # Parsed before the transaction opens: a large message takes its time with no lock held (and no
        # session left idle in a transaction, which the server ends on PostgreSQL: store/database.py).
        fresh = [(uid, raw, parse(raw)) for uid, raw in batch if uid > tried_before]
        if fresh:
            with database.atomic():
                for uid, raw, mail in fresh:
                    if self.stop.is_set():
                        break
                    outcomes[uid], n = self._process(mailbox, uid, raw, retry=False, mail=mail)
                    queued += n
            self.log.debug("batch committed", messages=len(fresh))
        return outcomes, queued

    def _advance_last_uid(self, uid: int) -> int:
        """Record that messages up to ``uid`` are being tried; return the previous mark."""
        with database.atomic():
            state = MailboxState.get(MailboxState.name == self.mailbox_key)
            previous = state.last_uid
            if uid > previous:
                state.last_uid = uid
                state.save()
        return previous

    def _file(self, mailbox: Mailbox, done: list[int], quarantined: list[int]) -> None:
        self._ensure_lease()  # a holder that was frozen meanwhile moves nothing: another may be filing it
        mailbox.move(done, self.config.processed_folder)
        self._ensure_lease()
        mailbox.move(quarantined, self.config.quarantine_folder)
        if done or quarantined:
            self.log.debug("messages filed", filed=len(done), quarantined=len(quarantined))

    def _process(self, mailbox: Mailbox, uid: int, raw: bytes, retry: bool, mail=None) -> tuple[str, int]:
        """Record one message. Returns "done", "quarantine" or "retry", and the emails it queued."""
        self.beat()
        mail = mail if mail is not None else parse(raw)
        log_ = self.log.bind(uid=uid, message_id=mail.message_id)
        with structlog.contextvars.bound_contextvars(uid=uid):
            attempts = 0
            if retry and self.casework.already_recorded(mail.fingerprint):
                # Recorded before, but its move was cut short (a crash, a lost connection): only file it.
                log_.info("already recorded: filing it", route="duplicate")
                return "done", 0
            if retry:
                attempts = self.casework.note_failure(self.mailbox_key, mailbox.status.uidvalidity, uid,
                                                      "tried before without success", self.clock())
                if attempts > QUARANTINE_AFTER_FAILURES:
                    return self._quarantine(mail, f"tried {attempts - 1} times without success", log_), 1
            return self._record(mailbox, uid, mail, log_, attempts)

    def _record(self, mailbox: Mailbox, uid: int, mail, log_, attempts: int) -> tuple[str, int]:
        try:
            outcome = self.casework.handle_inbound(mail, self.clock(), self.inbox)
        except (*DATABASE_ERRORS, LeaseLost):
            raise  # not the message's fault: the loop waits for the database, or ends
        except IntegrityError:
            # Another mailbox's intake recorded the same message (To support@, Cc billing@) at the same moment:
            # the unique fingerprint kept it to one case. Not a failure: file this copy.
            if self.casework.already_recorded(mail.fingerprint):
                log_.info("recorded meanwhile by another mailbox: filing it", route="duplicate")
                return "done", 0
            raise
        except Exception as exc:  # a fault this message causes: count it, quarantine at the limit
            reason = f"{type(exc).__name__}: {exc}"[:1000]
            attempts = self.casework.note_failure(self.mailbox_key, mailbox.status.uidvalidity, uid, reason,
                                                  self.clock(), count=attempts == 0)
            log_.error("message failed", error=reason, attempt=attempts, exc_info=True)
            if attempts >= QUARANTINE_AFTER_FAILURES:
                return self._quarantine(mail, f"failed {attempts} times: {reason}", log_), 1
            return "retry", 0
        self.processed += 1
        log_.info("message recorded", route=outcome.route, case_id=outcome.case_id, duplicate=outcome.duplicate,
                  queued=outcome.outgoing)
        return "done", outcome.outgoing

    def _quarantine(self, mail, reason: str, log_) -> str:
        """Set the message aside; telling the owner is best effort, the folder move is not."""
        try:
            self.casework.quarantine(mail, mail.fingerprint, reason, self.clock(), self.inbox)
        except LeaseLost:
            raise
        except Exception as exc:
            log_.error("quarantine could not be recorded; the message is still moved to the quarantine folder",
                       error=f"{type(exc).__name__}: {exc}", reason=reason)
        return "quarantine"

"""The daemon process: a list of loops on threads, periodic jobs, signals, systemd.

SIGTERM/SIGINT: finish the current item, end IDLE, log out, exit 0.
SIGHUP: reload the configuration and templates; keep the old ones if the new fail.
"""
from __future__ import annotations

import dataclasses
import os
import signal
import socket
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import schedule
import structlog

from .backoff import DATABASE_RETRY_CAP, backoff
from .casework import Casework
from .clock import utcnow
from .config import Config, Inbox, load_config
from . import language, lmtp, metrics
from .dispatch import Dispatcher
from .intake import DEAD_GRANT_REPEAT_SECONDS, Intake
from .loop import Loop
from .mail.imap import Mailbox, MailboxError
from .mail.oauth2 import TokenError
from .mail.smtp import SmtpSender
from .log import redactor, setup_logging
from .store import discounts, health, outbox
from .instances import Coordinator, Fence
from .notifications import Listener
from .store import leases
from .store.database import (DATABASE_ERRORS, DatabaseUnavailable, InstanceGuard, describe_error, open_database,
                             probe_write, redact_url, reset_connection)
from .systemd import Notifier
from .samples import validate_templates
from .templates import Templates
from .retention import Retention
from .timers import Timers
from .tokens import TokenSources
from .version import version
from .trouble import troubles

log = structlog.get_logger("aftercare.service")

STOP_JOIN_SECONDS = 8.0
HEALTH_EVERY = 10.0  # seconds between heartbeats in component_state (store/service_status.py reads them)
SHARED_CLAIM_LIMIT = 20  # several instances: each dispatcher claims fewer rows at a time, so all share the work
SHARED_RESCUE_EVERY = 2.0  # ... and looks for claims of instances gone this often
NOTIFIED_POLL_SECONDS = 5.0  # with LISTEN working, an idle loop looks for work unasked only this often


class Worker:
    """A thread running one loop (``aftercare.loop.Loop``), made afresh if it ever dies of an unexpected error."""

    def __init__(self, name: str, target_factory: Callable[[threading.Event], Loop], mailbox: str | None = None):
        self.name = name
        self.mailbox = mailbox  # an intake's mailbox
        self.factory = target_factory
        self.stop = threading.Event()
        self.current: Loop | None = None
        self.thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def _loop(self) -> None:
        failures = 0
        while not self.stop.is_set():
            self.current = self.factory(self.stop)
            try:
                self.current.run()
                return
            except Exception:
                failures += 1
                log.exception("worker crashed; restarting", worker=self.name, failures=failures)
                self.stop.wait(min(60, 2 ** failures))

    def start(self) -> None:
        self.thread.start()

    def halt(self) -> None:
        self.stop.set()
        if self.current is not None:
            self.current.wake.set()

    def join(self, timeout: float) -> bool:
        self.thread.join(timeout)
        return not self.thread.is_alive()


class Service:
    def __init__(self, config: Config, templates: Templates):
        self.config = config
        self.templates = templates
        self.notifier = Notifier()
        self.stopping = threading.Event()
        self.reload_requested = threading.Event()
        self.casework = Casework(config, templates)
        self.workers: list[Worker] = []
        self.exit_code = 0
        self.log_format = "auto"
        self.ready = False
        self.guard = InstanceGuard(config.database.url)
        self.instance_id = outbox.holder_id()  # the name its outbox claims carry
        self.label = f"{socket.gethostname()}:{os.getpid()}"
        # PostgreSQL: any number of instances share the database; each mailbox is watched by the one holding
        # its lease (instances.py), and LISTEN wakes the loops when any instance queues work.
        self.coordinator: Coordinator | None = None
        self.coordinator_worker: Worker | None = None
        self.listener: Listener | None = None
        self._workers_lock = threading.RLock()
        self._retiring: list[Worker] = []  # intakes told to stop, not yet joined
        self._paused = False  # a reload restarts the workers: the coordinator starts no intake meanwhile
        self.sent_log: outbox.SentLog | None = None  # one for the life of the process: it may hold notes
        self.troubles = troubles
        self.tokens = TokenSources(on_secret=redactor.remember)
        self.tokens.configure(config)
        self._guard_checked = 0.0
        self._status_failures = 0
        self._status_retry_at = 0.0
        self.metrics = None
        self.lmtp = None
        self.started_at = utcnow()
        self._health_wake = threading.Event()
        self._language_ready = threading.Event()

    # --- workers ------------------------------------------------------------

    def _loops(self) -> list[tuple[str, Callable[[threading.Event], Loop]]]:
        """The loops this daemon runs, each with the edges it talks to handed in: one intake per mailbox
        (each its own connection: one that cannot log in stalls no other), one outbox, one timer loop."""
        config, url = self.config, self.config.database.url
        shared = {}
        if self.coordinator is not None:
            shared = dict(liveness=self.coordinator.liveness, claim_limit=SHARED_CLAIM_LIMIT,
                          rescue_every=SHARED_RESCUE_EVERY)
        loops = [
            ("dispatcher", lambda stop: Dispatcher(
                config, self.casework, utcnow, stop, sent_log=self.sent_log,
                sender_factory=lambda inbox: SmtpSender(inbox.smtp_sending, self._smtp_tokens(inbox)),
                idle_wait=self._idle_wait, **shared)),
            ("timers", lambda stop: Timers(self.casework, utcnow, stop, on_fired=self._wake_dispatcher,
                                           database_url=url, idle_wait=self._idle_wait)),
            ("retention", lambda stop: Retention(lambda: self.config, utcnow, stop)),
        ]
        return loops

    def _idle_wait(self) -> float:
        """How long a loop with nothing due waits before it looks again: LISTEN wakes it when work is queued."""
        return NOTIFIED_POLL_SECONDS if self.listener is not None and self.listener.connected else 1.0

    def _smtp_tokens(self, inbox: Inbox):
        """The mailbox's SMTP token source; a removed mailbox's emails go through [smtp] as the first's do."""
        if self.config.inbox(inbox.name) is None:
            return self.tokens.smtp_for(self.config.default_inbox.name)
        return self.tokens.smtp_for(inbox.name)

    def _intake_factory(self, inbox: Inbox, fence: Fence | None = None) -> Callable[[threading.Event], Loop]:
        url = self.config.database.url
        return lambda stop: Intake(inbox.mailbox, self.casework, utcnow, stop, on_processed=self._wake_dispatcher,
                                   database_url=url, inbox=inbox.name, fence=fence, warm=self._language_ready,
                                   mailbox_factory=lambda: Mailbox(inbox.imap, self.tokens.imap_for(inbox.name)),
                                   on_login_dead=lambda exc, since: self._mailbox_login_dead(inbox, exc, since))

    def _mailbox_login_dead(self, inbox: Inbox, exc: BaseException, since) -> None:
        """A mailbox cannot be read until a person acts (a refused login, a dead OAuth2 grant, a server away
        for long): email its escalation addresses, unless its SMTP login is the same dead grant."""
        if self.tokens.smtp_shares_imap_grant(inbox.name) and getattr(exc, "permanent", False) \
                and not isinstance(exc, MailboxError):
            return  # the same dead grant: the email could not go out (the log and STATUS say it)
        try:
            self.casework.login_refused("IMAP", inbox.mailbox.username, str(exc), getattr(exc, "hint", "")
                                        or _hint_for(exc), since, utcnow(), inbox=inbox.name)
            self._wake_dispatcher()
        except DATABASE_ERRORS as db_exc:
            reset_connection()
            log.error("the login alert could not be stored", error=str(db_exc))

    def _start_workers(self) -> None:
        if self.sent_log is None:
            self.sent_log = outbox.SentLog.for_database(self.config.database.sent_log)
        with self._workers_lock:
            self.workers = [Worker(name, factory) for name, factory in self._loops()]
            for worker in self.workers:
                worker.start()
            if self.coordinator is None:
                for inbox in self.config.inboxes:  # SQLite: the one daemon watches every mailbox
                    self._launch_intake(inbox.name, None)
            else:
                for name, fence in self.coordinator.held().items():
                    self._launch_intake(name, fence)
        if self.coordinator is not None and self.coordinator_worker is None:
            self.coordinator_worker = Worker("coordinator", self.coordinator.attach)
            self.coordinator_worker.start()

    def _start_intake(self, name: str, fence: Fence | None) -> None:
        """The coordinator took the mailbox (or its lease holds again): watch it, unless workers are paused
        for a reload or the daemon stops."""
        with self._workers_lock:
            if self._paused or self.stopping.is_set():
                return
            self._launch_intake(name, fence)

    def _launch_intake(self, name: str, fence: Fence | None) -> None:
        inbox = self.config.inbox(name)
        with self._workers_lock:
            self._prune_intakes()
            if inbox is None or any(w.mailbox == name for w in self.workers + self._retiring):
                return  # still watching it, or the intake told to stop has not yet let go of the mailbox
            worker = Worker(_intake_name(name), self._intake_factory(inbox, fence), mailbox=name)
            self.workers.append(worker)
            worker.start()

    def _stop_intake(self, name: str) -> None:
        """Tell the mailbox's intake to stop, without waiting for it (its fence already refuses its commits)."""
        with self._workers_lock:
            for worker in [w for w in self.workers if w.mailbox == name]:
                self.workers.remove(worker)
                worker.halt()
                self._retiring.append(worker)
            self._retiring = [w for w in self._retiring if w.thread.is_alive()]

    def _running_intakes(self) -> set[str]:
        with self._workers_lock:
            self._prune_intakes()
            return {w.mailbox for w in self.workers if w.mailbox is not None}

    def _prune_intakes(self) -> None:
        """Forget intakes whose thread ended (a lease lost): the watchdog and READY must not wait on them."""
        self.workers = [w for w in self.workers if w.mailbox is None or w.thread.is_alive()]
        self._retiring = [w for w in self._retiring if w.thread.is_alive()]

    def _worker(self, name: str) -> Worker | None:
        with self._workers_lock:
            return next((w for w in self.workers if w.name == name and w.thread.is_alive()),
                        next((w for w in self.workers if w.name == name), None))

    @property
    def intake(self) -> Worker | None:
        """The first mailbox's intake."""
        return self._worker(_intake_name(self.config.default_inbox.name))

    @property
    def intakes(self) -> list[Worker]:
        return [w for w in self.workers if w.mailbox is not None]

    def _wake(self, name: str) -> None:
        worker = self._worker(name)
        if worker and worker.current:
            worker.current.wake.set()

    def _wake_dispatcher(self) -> None:
        self._wake("dispatcher")

    def _wake_coordinator(self) -> None:
        if self.coordinator is not None:
            self.coordinator.wake.set()

    def _stop_workers(self, timeout: float = STOP_JOIN_SECONDS) -> bool:
        with self._workers_lock:
            workers = list(self.workers) + self._retiring
            self._retiring = []
        for w in workers:
            w.halt()
        deadline = time.monotonic() + timeout
        stopped = True
        for w in workers:
            if not w.join(max(0.1, deadline - time.monotonic())):
                log.warning("worker did not stop in time", worker=w.name)
                stopped = False
        return stopped

    # --- signals ------------------------------------------------------------

    def _install_signals(self) -> None:
        def stop(signum, frame):
            log.info("stopping", signal=signal.Signals(signum).name)
            self.stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, lambda s, f: self.reload_requested.set())

    def reload(self) -> None:
        self.notifier.reloading()
        try:
            new = load_config(self.config.path)
            templates = Templates(new.templates.directory, new.schedule.timezone)
            validate_templates(new, templates)
        except Exception as exc:  # whatever is wrong with the new files, the running daemon carries on
            log.error("reload refused; keeping the running configuration", error=f"{exc}")
            self.notifier.ready("reload refused: " + str(exc)[:200])
            return
        if new.database != self.config.database:
            log.warning("database.url changed: takes effect at the next restart")
            new = dataclasses.replace(new, database=self.config.database)
        if new.metrics != self.config.metrics:
            log.warning("metrics.listen changed: takes effect at the next restart")
            new = dataclasses.replace(new, metrics=self.config.metrics)
        if new.lmtp != self.config.lmtp:
            log.warning("lmtp settings changed: take effect at the next restart")
            new = dataclasses.replace(new, lmtp=self.config.lmtp)
        restart = (new.inboxes != self.config.inboxes or new.smtp != self.config.smtp
                   or new.outbox != self.config.outbox)
        old_log = self.config.log
        self.config, self.templates = new, templates
        if new.log != old_log:
            setup_logging(self.log_format, new.log.level, new.secrets())
        redactor.update(new.secrets())
        self.casework.configure(new, templates)
        if self.lmtp is not None:
            self.lmtp.handler.configure(new)  # mailboxes added or removed: their addresses at once
        self.tokens.configure(new)  # a dead grant is asked about again at once
        try:
            self.load_discount_pool()
        except Exception as exc:
            log.error("discount codes could not be loaded", error=str(exc))
        if restart:
            with self._workers_lock:
                self._paused = True
            if not self._stop_workers(timeout=60):
                # Never run two intakes or dispatchers side by side: let systemd start us afresh.
                log.error("workers did not stop for the reload; exiting so that systemd restarts the daemon")
                self.stopping.set()
                self.exit_code = 1
                return
            with self._workers_lock:
                self._paused = False
                self._start_workers()
        log.info("configuration reloaded", workers_restarted=restart)
        self.notifier.ready("configuration reloaded")

    # --- the loop -----------------------------------------------------------

    def _status_line(self) -> str:
        processed = sum(w.current.processed for w in self.intakes if w.current)
        line = f"processed {processed} messages"
        failing = self.troubles.summary()
        if time.monotonic() < self._status_retry_at:  # the last count failed: back off like the loops
            return f"{failing or 'database unavailable'}; {line}"
        try:
            counts = outbox.counts()
        except Exception as exc:  # never out of the main loop: signals and the watchdog depend on it
            reset_connection()
            self._status_failures += 1
            self._status_retry_at = time.monotonic() + backoff(self._status_failures,
                                                               cap=DATABASE_RETRY_CAP).total_seconds()
            self.troubles.report("status", exc, "database unavailable; status cannot count the outbox",
                                 describe=describe_error(self.config.database.url, exc))
            return f"{self.troubles.summary() or 'database unavailable'}; {line}"
        self._status_failures = 0
        self.troubles.clear("status")
        line += (f"; outbox {counts.get('pending', 0)} pending, {counts.get('failed', 0)} failed, "
                 f"{counts.get('held', 0)} held")
        return f"{failing}; {line}" if failing else line

    def _health(self, now, stopped: bool = False) -> list[health.Health]:
        """What ``aftercare status`` shows: this daemon, each mailbox's intake and SMTP login, as seen now."""
        def failing(*sources: str) -> dict | None:
            return next((f for f in (self.troubles.failing(s) for s in sources) if f), None)

        def row(name: str, found: dict | None, last_ok_at=None) -> health.Health:
            if found is None:
                return health.Health(name, True, last_ok_at=last_ok_at)
            return health.Health(name, False, redactor.clean(found["error"]), found["kind"],
                                 datetime.fromtimestamp(found["since"], timezone.utc).replace(tzinfo=None),
                                 last_ok_at=last_ok_at)

        problems = [dict(p, error=redactor.clean(p["error"]),
                         since=datetime.fromtimestamp(p["since"], timezone.utc).replace(tzinfo=None).isoformat() + "Z")
                    for p in self.troubles.snapshot()]
        rows = [health.Health("daemon", not problems and not stopped, info={
            "version": version(), "host": socket.gethostname(), "pid": os.getpid(),
            "started_at": self.started_at.isoformat() + "Z", "heartbeat_at": now.isoformat() + "Z",
            "stopped_at": now.isoformat() + "Z" if stopped else None, "problems": problems,
            "mailboxes": [i.name for i in self.config.inboxes]})]
        watched = self._running_intakes()
        for inbox in self.config.inboxes:
            worker = self._worker(_intake_name(inbox.name))
            intake = worker.current if worker else None
            if self.coordinator is not None and inbox.name not in watched:
                continue  # another instance watches it and says how it goes
            suffix = "" if inbox.name == "default" else f":{inbox.name}"
            rows.append(row(f"mailbox:{inbox.name}", failing(f"imap-login{suffix}", f"intake{suffix}"),
                            getattr(intake, "last_sync_at", None)))
            rows.append(row(f"smtp:{inbox.name}", failing(f"smtp-login{suffix}")))
        return rows

    def _keep_health(self) -> None:
        """Its own thread: store what ``_health`` sees when it changes, and a heartbeat every HEALTH_EVERY s.

        Not on the main thread, which must stay free for signals, reloads and the watchdog: on SQLite a write
        waits its turn behind intake's transactions. Any failure here is said (once) and tried again; it
        never stops the daemon.
        """
        said, written_at = None, 0.0
        while not self.stopping.is_set():
            self._health_wake.wait(1.0)
            self._health_wake.clear()
            if self.stopping.is_set():
                return
            try:
                now = utcnow()
                rows = self._health(now)
                # A mailbox read for the first time counts as a change: status and metrics show it at once.
                seen = [(r.name, r.ok, r.error, r.error_kind, r.failing_since, r.last_ok_at is None) for r in rows] + \
                    [rows[0].info["problems"]]
                if seen == said and time.monotonic() - written_at < HEALTH_EVERY:
                    continue
                health.record(rows, now)
                health.record_instance(self.instance_id, self.label, self.started_at, rows[0].info, now,
                                       beat=self.coordinator is None)
                said, written_at = seen, time.monotonic()
                self.troubles.clear("health")
            except Exception as exc:  # the database away, or anything else: status shows an old heartbeat
                reset_connection()
                self.troubles.report("health", exc, "the service's state cannot be stored for aftercare status",
                                     describe=describe_error(self.config.database.url, exc)
                                     if isinstance(exc, DATABASE_ERRORS) else "")
                self.stopping.wait(5.0)

    def _update_status(self) -> None:
        self.notifier.status(self._status_line())

    def _healthy(self) -> bool:
        """The watchdog is fed only while the intake, outbox and timer loops are all turning.

        A loop counts as hung once its heartbeat is older than 90% of WatchdogSec, so WatchdogSec
        must be longer than any single blocking step (the unit's 180 s covers the 60 s socket
        timeouts and the 120 s database busy timeout)."""
        limit = (self.notifier.watchdog_seconds or 60) * 0.9
        now = time.monotonic()
        workers = self._all_workers()
        return bool(workers) and all(w.current and now - w.current.heartbeat < limit for w in workers)

    def _all_workers(self) -> list[Worker]:
        with self._workers_lock:
            self._prune_intakes()
            return list(self.workers) + ([self.coordinator_worker] if self.coordinator_worker else [])

    def _all_ready(self) -> bool:
        workers = self._all_workers()
        return (bool(workers) and self._language_ready.is_set()
                and all(w.current and w.current.ready.is_set() for w in workers))

    def load_discount_pool(self) -> None:
        d = self.config.extras.discount
        if d.enabled and d.mode == "pool" and d.codes_file is not None:
            added = discounts.load_pool(d.codes_file, utcnow())
            left = discounts.remaining()
            log.info("discount code pool loaded", new_codes=added, unused_codes=left)
            if left == 0:
                log.warning("the discount code pool is empty: check-ins go without a code", file=str(d.codes_file))

    def _warm_up_language(self) -> None:
        started = time.monotonic()
        try:
            language.warm_up()
            log.info("language model loaded", seconds=round(time.monotonic() - started, 2))
        except Exception as exc:  # detection then loads on the first complaint, or falls back to the default
            log.error("the language model could not be loaded", error=f"{type(exc).__name__}: {exc}")
        self._language_ready.set()

    def run(self) -> int:
        self._install_signals()
        # READY means "a complaint is acknowledged at once": the language model loads meanwhile (0.75 s).
        threading.Thread(target=self._warm_up_language, name="language-model", daemon=True).start()
        self.guard.acquire()
        try:
            probe_write(utcnow())  # a full disk or a read-only file is said now, not at the first complaint
            self.sent_log = outbox.SentLog.for_database(self.config.database.sent_log)
            self.load_discount_pool()
            # The SQLite file lock proves every earlier holder dead; on PostgreSQL a live claim waits.
            recovered = outbox.recover_in_flight(utcnow(), sole_daemon=not self.guard.postgresql,
                                                 sent_log=self.sent_log)
            if not self.guard.postgresql:
                health.forget_instances()  # SQLite's file lock proves every earlier daemon gone (a crash left its row)
        except DATABASE_ERRORS as exc:
            self.guard.release()
            raise DatabaseUnavailable(describe_error(self.config.database.url, exc)) from exc
        if recovered:
            log.info("emails caught mid-send will be sent again with their Message-ID", count=recovered)
        self.metrics = metrics.start(self.config)  # a port in use stops the start before any work begins
        try:
            self.lmtp = lmtp.start(self.config, self.casework, utcnow, on_processed=self._wake_dispatcher)
        except BaseException:
            if self.metrics is not None:
                self.metrics.close()
            self.guard.release()
            raise
        self.started_at = utcnow()
        if self.guard.postgresql:
            self.coordinator = Coordinator(self.instance_id, self.label, self.started_at,
                                           mailboxes=lambda: [i.name for i in self.config.inboxes],
                                           start_intake=self._start_intake, stop_intake=self._stop_intake,
                                           running_intakes=self._running_intakes,
                                           database_url=self.config.database.url)
            self.listener = Listener(self.config.database.url, {
                leases.OUTBOX_CHANNEL: self._wake_dispatcher, leases.TIMERS_CHANNEL: lambda: self._wake("timers"),
                leases.LEASES_CHANNEL: self._wake_coordinator}, self.stopping).start()
        self._start_workers()
        threading.Thread(target=self._keep_tokens_fresh, name="oauth2-refresh", daemon=True).start()
        health_thread = threading.Thread(target=self._keep_health, name="health", daemon=True)
        health_thread.start()
        jobs = schedule.Scheduler()
        jobs.every(10).seconds.do(self._update_status)
        log.info("aftercare started", database=redact_url(self.config.database.url), instance=self.instance_id,
                 mailboxes=[f"{i.name}: {i.mailbox.username}@{i.mailbox.host}:{i.mailbox.port}/{i.mailbox.folder}"
                            for i in self.config.inboxes])
        watchdog_every = (self.notifier.watchdog_seconds or 0) / 3
        last_ping = 0.0
        while not self.stopping.is_set():
            if not self.ready and self._all_ready():
                self.ready = True
                self.notifier.ready("mailbox synced; watching for mail")
                log.info("ready: mailbox synced")
                self._health_wake.set()  # the first health rows now, not at the next heartbeat
            if self.reload_requested.is_set():
                self.reload_requested.clear()
                self.reload()
            try:
                jobs.run_pending()
            except Exception as exc:  # said once, then at most once a minute
                reset_connection()
                self.troubles.report("periodic", exc, "periodic job failed",
                                     describe=describe_error(self.config.database.url, exc)
                                     if isinstance(exc, DATABASE_ERRORS) else "")
            if self.troubles.active():
                self._update_status_soon()
            if watchdog_every and time.monotonic() - last_ping > watchdog_every and self._healthy():
                self.notifier.watchdog()
                last_ping = time.monotonic()
            self.stopping.wait(0.25)
        self.notifier.stopping()
        if self.lmtp is not None:
            self.lmtp.close()  # no new mail; a delivery under way is committed or not, before the workers stop
        if self.coordinator_worker is not None:
            # Hand the mailboxes over first (NOTIFY: another instance takes them at once), then finish sending.
            self.coordinator_worker.halt()
            self.coordinator_worker.join(STOP_JOIN_SECONDS)
            self.coordinator.give_back_all()
        self._stop_workers()
        self._health_wake.set()
        health_thread.join(5.0)
        try:
            health.record(self._health(utcnow(), stopped=True)[:1], utcnow())
        except Exception:  # the database away or broken: the status shows the last heartbeat instead
            reset_connection()
        if self.coordinator is None:  # SQLite (the coordinator removed it already, before finishing its sends)
            try:
                health.forget_instance(self.instance_id)
            except Exception:  # the database away: the row goes stale, and status says the instance stopped beating
                reset_connection()
        if self.metrics is not None:
            self.metrics.close()
        self.guard.release()
        log.info("aftercare stopped")
        return self.exit_code

    def _keep_tokens_fresh(self) -> None:
        """Its own thread: renew OAuth2 access tokens before they expire (``TokenSource.keep_fresh`` says why),
        without ever holding up the main loop (signals, the watchdog, STATUS) on a slow token endpoint."""
        while not self.stopping.wait(1.0):
            for source in self.tokens.all():
                try:
                    source.keep_fresh()
                except TokenError:
                    pass  # remembered by the source: failure() below says it
                failure = source.failure()
                if failure is None:
                    self.troubles.clear("oauth2", "OAuth2 access token renewed again")
                    continue
                self.troubles.report("oauth2", failure, "OAuth2 access token cannot be renewed",
                                     hint=getattr(failure, "hint", ""),
                                     repeat_every=DEAD_GRANT_REPEAT_SECONDS if failure.permanent else None)

    def _update_status_soon(self) -> None:
        """While something fails, STATUS says so within a second or two (not only every 10 s)."""
        now = time.monotonic()
        if now - getattr(self, "_status_at", 0.0) >= 2.0:
            self._status_at = now
            self.notifier.status(self._status_line())


def run(config_path: Path, log_format: str = "auto") -> int:
    config = load_config(config_path)
    setup_logging(log_format, config.log.level, config.secrets())
    templates = Templates(config.templates.directory, config.schedule.timezone)
    validate_templates(config, templates)
    try:
        open_database(config.database.url, service=True)
    except DATABASE_ERRORS as exc:
        raise _unavailable(config, exc) from exc
    service = Service(config, templates)
    service.log_format = log_format
    try:
        return service.run()
    except DatabaseUnavailable as exc:
        log.critical("not started: the database cannot be used", error=str(exc))
        raise


def _unavailable(config: Config, exc: BaseException) -> DatabaseUnavailable:
    error = DatabaseUnavailable(describe_error(config.database.url, exc))
    log.critical("not started: the database cannot be used", error=str(error))
    return error


def _intake_name(inbox: str) -> str:
    """A worker's name: "intake" for a single mailbox, "intake:billing" for one of several."""
    return "intake" if inbox == "default" else f"intake:{inbox}"


def _hint_for(exc: BaseException) -> str:
    if isinstance(exc, MailboxError) and not exc.permanent:
        return "the IMAP server cannot be reached: check mailbox host and port, and the server"
    return "check the mailbox's username and password (or its OAuth2 grant), then reload"

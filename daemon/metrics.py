"""The optional Prometheus endpoint (``[metrics] listen``): figures read from the database at each scrape.

Nothing is counted in memory: every scrape reads the tables, so the figures stay true across restarts and
count the work of every process on the database (several daemons on one PostgreSQL, the CLI). The server
(prometheus_client's WSGI app) runs on a thread of its own and answers each request on a short thread:
each scrape reads on its own connection (peewee's connections are per thread) and closes it when answered.
A scrape while the database is away still answers, with ``aftercare_database_up 0`` and no other figures
from the database, so Prometheus tells "the database is away" from "the daemon is gone".
"""
from __future__ import annotations

import socket
import threading
from datetime import datetime, timezone
from socketserver import ThreadingMixIn
from typing import Callable, Iterable
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import structlog
from peewee import fn
from prometheus_client import CollectorRegistry, ProcessCollector, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString

from .cases.states import Direction, MessageKind, OutboxStatus, TimerState
from .clock import utcnow
from .config_schema import ConfigError
from .store.database import DATABASE_ERRORS, describe_error, reset_connection
from .store.models import Case, ComponentState, Message, Timer, database

log = structlog.get_logger("aftercare.metrics")

#: Seconds from a complaint's arrival to its acknowledgment leaving: well under a second when all is well,
#: minutes when the SMTP server was away, hours when the daemon was.
LATENCY_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 21600.0)
#: The outbox's statuses of emails not sent (yet): what "outbox depth" counts.
UNSENT = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.HELD, OutboxStatus.FAILED)
MAILBOX_PREFIX = "mailbox:"  # ComponentState rows of the mailboxes: "mailbox:<name>"
#: A client that connects and says nothing gives up its thread after this long.
REQUEST_TIMEOUT_SECONDS = 30


class DatabaseCollector:
    """The figures, read from the database at each ``collect`` (a scrape)."""

    def __init__(self, database_url: str, mailboxes: Iterable[str] = (), now: Callable[[], datetime] = utcnow):
        self.database_url = database_url
        self.mailboxes = tuple(mailboxes)  # shown at 0 before their first complaint, so rate() starts at once
        self.now = now
        self._failing = False
        self._lock = threading.Lock()

    def collect(self) -> Iterable[Metric]:
        try:
            families, read = self.read(self.now()), True
        except Exception as exc:  # whatever it is, the scrape answers and the server thread lives on
            reset_connection()
            self._failed(exc)
            families, read = [], False
        else:
            self._recovered()
        up = GaugeMetricFamily("aftercare_database_up", "1: the figures were read from the database at this scrape; "
                                                         "0: the database could not be read (they are missing)",
                               value=1 if read else 0)
        return [*families, up]

    def read(self, now: datetime) -> list[Metric]:
        """Every figure of the database, as metric families."""
        return [*self._complaints(), *self._outgoing(now), self._acknowledgment_latency(), *self._timers(now),
                *self._mailboxes()]

    def _complaints(self) -> list[Metric]:
        received = dict.fromkeys(self.mailboxes, 0)
        received.update(Case.select(Case.mailbox, fn.COUNT(Case.id)).group_by(Case.mailbox).tuples())
        family = CounterMetricFamily("aftercare_complaints_received", "Complaints received (cases opened), by the "
                                     "mailbox they came in by", labels=["mailbox"])
        for mailbox, n in sorted(received.items()):
            family.add_metric([mailbox], n)
        return [family]

    def _outgoing(self, now: datetime) -> list[Metric]:
        out = Message.direction == Direction.OUT
        stored = GaugeMetricFamily("aftercare_outgoing_emails", "Outgoing emails stored, by kind and by where each "
                                   "is now: pending, sending, sent, failed, held, bounced, cancelled",
                                   labels=["kind", "status"])
        sent = CounterMetricFamily("aftercare_emails_sent", "Emails an SMTP server accepted, by kind (one that "
                                   "bounced later still counts)", labels=["kind"])
        depth, accepted = dict.fromkeys(UNSENT, 0), {}
        # One statement for the three, so that they agree with one another even while emails go out.
        for kind, status, n, n_sent in (Message.select(Message.kind, Message.status, fn.COUNT(Message.id),
                                                       fn.COUNT(Message.sent_at)).where(out)
                                        .group_by(Message.kind, Message.status)
                                        .order_by(Message.kind, Message.status).tuples()):
            stored.add_metric([kind, status or ""], n)
            if status in depth:
                depth[status] += n
            if n_sent:
                accepted[kind] = accepted.get(kind, 0) + n_sent
        for kind, n in accepted.items():
            sent.add_metric([kind], n)
        outbox = GaugeMetricFamily("aftercare_outbox_emails", "Emails in the outbox not sent: pending (waiting, "
                                   "maybe for a retry), sending, held (by the loop limit: a person decides), "
                                   "failed (refused for good)", labels=["status"])
        for status, n in depth.items():
            outbox.add_metric([str(status)], n)
        oldest = (Message.select(fn.MIN(Message.created_at))
                  .where(out & Message.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING])).scalar())
        age = GaugeMetricFamily("aftercare_outbox_oldest_pending_age_seconds", "How long the oldest email still to "
                                "go out (pending or sending) has waited since it was stored; 0 when none waits",
                                value=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        return [stored, sent, outbox, age]

    def _acknowledgment_latency(self) -> Metric:
        """Each case's first acknowledgment that left (a later bounce does not take it back), from the case's
        creation: every observation stays once made, as a histogram's must."""
        first_sent = (Message.select(Case.created_at, fn.MIN(Message.sent_at))
                      .join(Case, on=(Message.case == Case.id))
                      .where((Message.direction == Direction.OUT) & (Message.kind == MessageKind.ACKNOWLEDGMENT)
                             & Message.sent_at.is_null(False))
                      .group_by(Case.id, Case.created_at))
        counts, total, n = [0] * len(LATENCY_BUCKETS), 0.0, 0
        for created_at, sent_at in first_sent.tuples().iterator():
            seconds = max(0.0, (sent_at - created_at).total_seconds())
            total, n = total + seconds, n + 1
            for i, bound in enumerate(LATENCY_BUCKETS):
                if seconds <= bound:
                    counts[i] += 1
        buckets = [(floatToGoString(b), c) for b, c in zip(LATENCY_BUCKETS, counts)] + [("+Inf", n)]
        return HistogramMetricFamily("aftercare_acknowledgment_latency_seconds", "From a complaint's arrival (its "
                                     "case opened) to its first acknowledgment accepted by the SMTP server",
                                     buckets=buckets, sum_value=total)

    def _timers(self, now: datetime) -> list[Metric]:
        waiting = Timer.select().where(Timer.state == TimerState.WAITING)
        return [
            GaugeMetricFamily("aftercare_timers_due", "Timers whose time has come and that have not fired yet "
                              "(reminders, escalations, follow-ups, check-ins): more than a few for long means "
                              "the timer loop is behind", value=waiting.where(Timer.due_at <= now).count()),
            GaugeMetricFamily("aftercare_timers_waiting", "Timers waiting to fire, due or not",
                              value=waiting.count()),
        ]

    def _mailboxes(self) -> list[Metric]:
        up = GaugeMetricFamily("aftercare_mailbox_up", "1: the daemon's last dealings with the mailbox worked; "
                               "0: it is failing (aftercare status says why)", labels=["mailbox"])
        permanent = GaugeMetricFamily("aftercare_mailbox_error_permanent", "1: the mailbox fails in a way only a "
                                      "person can mend (a refused login, a dead OAuth2 grant); 0: it does not",
                                      labels=["mailbox"])
        synced = GaugeMetricFamily("aftercare_mailbox_last_sync_timestamp_seconds", "When the mailbox was last "
                                   "read without error, as a Unix time", labels=["mailbox"])
        rows = (ComponentState.select(ComponentState.name, ComponentState.ok, ComponentState.error_kind,
                                      ComponentState.last_ok_at)
                .where(ComponentState.name.startswith(MAILBOX_PREFIX)).order_by(ComponentState.name))
        for name, ok, error_kind, last_ok_at in rows.tuples():
            mailbox = name[len(MAILBOX_PREFIX):]
            if mailbox not in self.mailboxes:
                continue  # removed from the configuration: its last state must not keep an alert firing
            up.add_metric([mailbox], 1 if ok else 0)
            permanent.add_metric([mailbox], 1 if not ok and error_kind == "permanent" else 0)
            if last_ok_at is not None:
                synced.add_metric([mailbox], last_ok_at.replace(tzinfo=timezone.utc).timestamp())
        return [up, permanent, synced]

    def _failed(self, exc: Exception) -> None:
        """Said once when the reading starts to fail, not at every scrape."""
        with self._lock:
            first, self._failing = not self._failing, True
        if not first:
            return
        if isinstance(exc, DATABASE_ERRORS):
            log.warning("metrics cannot read the database; scrapes say aftercare_database_up 0",
                        error=describe_error(self.database_url, exc))
        else:
            log.exception("metrics could not be read; scrapes say aftercare_database_up 0")

    def _recovered(self) -> None:
        with self._lock:
            was, self._failing = self._failing, False
        if was:
            log.info("metrics read the database again")


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a scrape in progress never holds up the daemon's exit

    def handle_error(self, request, client_address) -> None:
        """A client that went away mid-answer is no news: not a traceback on stderr."""
        log.debug("metrics request failed", client=str(client_address[0]), exc_info=True)


class _QuietHandler(WSGIRequestHandler):
    """No line per scrape in the daemon's log."""

    timeout = REQUEST_TIMEOUT_SECONDS

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


class MetricsServer:
    """The endpoint, serving on a thread of its own until ``close``."""

    def __init__(self, registry: CollectorRegistry, host: str, port: int):
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
        server_class = type("MetricsHttpServer", (_Server,), {"address_family": family})
        app = make_wsgi_app(registry)
        self.httpd = make_server(host, port, _closing_connection(app), server_class, handler_class=_QuietHandler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="metrics", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def _closing_connection(app):
    """Each request runs on a thread of its own: its database connection goes when the answer is made."""
    def closing(environ, start_response):
        try:
            return app(environ, start_response)
        finally:
            if database.obj is not None:
                try:
                    database.close()
                except Exception:  # a connection already broken: dropped instead
                    reset_connection()
    return closing


def registry_for(config) -> CollectorRegistry:
    """A registry of our own (not prometheus_client's global one): the database's figures and the process's
    (``process_*``, where /proc shows them: the shipped unit's ProcSubset=pid hides /proc/stat, and with it
    these; the database's figures are unaffected)."""
    registry = CollectorRegistry()
    registry.register(DatabaseCollector(config.database.url, [inbox.name for inbox in config.inboxes]))
    ProcessCollector(registry=registry)
    return registry


def start(config) -> MetricsServer | None:
    """Serve the metrics when ``[metrics] listen`` is set; returns the server (with ``close()``) or None.

    An address that cannot be listened on (in use, not this host's) stops the start with a ConfigError
    naming the file, ``metrics.listen`` and the address: an endpoint silently missing would look like a
    daemon that is down.
    """
    address = config.metrics.address
    if address is None:
        return None
    host, port = address
    try:
        server = MetricsServer(registry_for(config), host, port)
    except OSError as exc:  # socket.gaierror too
        reason = exc.strerror or str(exc)
        raise ConfigError(config.path, "metrics.listen", f"cannot listen on {config.metrics.listen}: {reason}") \
            from None
    log.info("metrics endpoint listening", address=config.metrics.listen)
    return server

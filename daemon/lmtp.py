"""LMTP intake (``[lmtp] listen``): the mail server hands each message to the daemon itself.

The order is what makes it safe, as with the IMAP intake: a message is parsed, recorded, its emails queued
and its bytes kept (``raw_message``: there is no copy in any mailbox) in one transaction, and only after
that commit is the mail server told ``250``, once per accepted recipient, in order (RFC 2033). Any failure
of our own (the database away or busy) is ``451``: the mail server keeps the message and tries again, and
a message already recorded (the 250 was lost) is recognised by the IMAP intake's fingerprint and answered
250 without being recorded twice. A message that cannot be processed is kept with its reason (quarantined)
and answered 250: it is ours now, and a person looks at it.

aiosmtpd's ``LMTP`` server runs on its own thread and event loop; the database work runs on one dedicated
thread of its own (peewee is blocking, and one writer keeps SQLite's writes in order).
"""
from __future__ import annotations

import asyncio
import errno
import os
import socket
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Callable

import structlog
from aiosmtpd.controller import Controller, UnixSocketController
from aiosmtpd.lmtp import LMTP
from peewee import DatabaseError, IntegrityError, PostgresqlDatabase, SqliteDatabase

from .casework import Casework
from .config import Config
from .config_schema import ConfigError
from .mail.parse import parse
from .store.database import DATABASE_ERRORS, reset_connection
from .store.models import Message, RawMessage, database

log = structlog.get_logger("aftercare.lmtp")

ACCEPTED_RCPT = "250 2.1.5 OK"
TEMPORARY = "451 4.3.0 temporary failure, try again later"
TOO_BIG = "552 5.3.4 message too big for this mailbox"
LINE_TOO_LONG = "500 5.5.2 line too long"
#: The mail server waits this long for the answer to DATA (Postfix: lmtp_data_done_timeout, 600 s).
READY_TIMEOUT_SECONDS = 10.0


def mailbox_of(address: str) -> str:
    """The address a recipient names, lower-case, without its ``+detail``: ``Support+r7@X.com`` ->
    ``support@x.com``."""
    local, at, domain = address.strip().strip("<>").rpartition("@")
    if not at:
        return address.strip().strip("<>").lower()
    return f"{local.split('+', 1)[0]}@{domain}".lower()


class Handler:
    """aiosmtpd's handler: which recipients are ours (RCPT), and the work of one message (DATA)."""

    def __init__(self, config: Config, casework: Casework, clock: Callable[[], datetime],
                 on_processed: Callable[[], None] = lambda: None):
        self.config = config
        self.casework = casework
        self.clock = clock
        self.on_processed = on_processed
        self.wait_seconds = config.lmtp.database_wait.total_seconds()
        # One thread: every delivery's transaction runs on it, one after the other.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lmtp-db")
        self.configure(config)

    def configure(self, config) -> None:
        """The recipients are the mailboxes of the configuration in force: a reload that adds a mailbox must not
        have its mail refused with a 550 (a bounce: the complaint lost)."""
        inboxes: dict[str, str] = {}
        for inbox in config.inboxes:
            for address in (inbox.smtp.from_addr_spec, inbox.mailbox.username):
                if address:
                    inboxes.setdefault(mailbox_of(address), inbox.name)
        self.config, self.inboxes = config, inboxes  # one assignment each: RCPT reads either the old or the new

    def inbox_for(self, address: str) -> str | None:
        return self.inboxes.get(mailbox_of(address))

    # --- aiosmtpd's hooks -----------------------------------------------------

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options: list) -> str:
        if self.inbox_for(address) is None:
            log.info("recipient refused: no such mailbox", recipient=address)
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return ACCEPTED_RCPT

    async def handle_DATA(self, server, session, envelope) -> str:
        raw = envelope.original_content if envelope.original_content is not None else envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        recipients = list(envelope.rcpt_tos)
        loop = asyncio.get_running_loop()
        try:
            replies = await loop.run_in_executor(self.executor, self.deliver, bytes(raw), recipients,
                                                 envelope.mail_from or "")
        except Exception as exc:  # never 5xx for a failure of our own
            log.error("delivery failed", error=f"{type(exc).__name__}: {exc}", exc_info=True)
            replies = [TEMPORARY] * len(recipients)
        # One complete reply per recipient, in order: push() sends the lines as they are, each ended by CRLF.
        return "\r\n".join(replies)

    async def handle_exception(self, error: Exception) -> str:
        log.error("LMTP session failed", error=f"{type(error).__name__}: {error}")
        return "421 4.3.0 temporary failure, try again later"

    # --- the work, on the database thread --------------------------------------

    def deliver(self, raw: bytes, recipients: list[str], sender: str = "") -> list[str]:
        """Record one message for ``recipients`` (all accepted at RCPT); the replies, one per recipient."""
        started = time.monotonic()
        n = len(recipients)
        inbox = self.inbox_for(recipients[0]) or self.config.default_inbox.name
        try:
            mail = parse(raw)
        except Exception as exc:  # parse falls back to headers only; this is a last resort
            import hashlib
            return self._set_aside(raw, "sha256:" + hashlib.sha256(raw).hexdigest(), None, recipients, inbox,
                                   f"{type(exc).__name__}: {exc}"[:1000])
        message_id = mail.message_id
        with structlog.contextvars.bound_contextvars(message_id=message_id, mailbox=inbox):
            try:
                self._limit_waiting()
                with database.atomic():
                    if self._recorded_before(mail.fingerprint):
                        outcome = None
                    else:
                        outcome = self.casework.handle_inbound(mail, self.clock(), inbox)
                        row = Message.get_or_none(Message.fingerprint == mail.fingerprint)
                        RawMessage.create(message=row.id if row else None, fingerprint=mail.fingerprint,
                                          inbox=inbox, recipients=recipients, received_at=self.clock(),
                                          data=raw, size=len(raw))
            except DATABASE_ERRORS as exc:
                # Not the message's fault (the database away or busy): the mail server keeps it and tries again.
                reset_connection()
                log.warning("database unavailable; answered 451, the mail server tries again",
                            error=f"{type(exc).__name__}: {exc}", recipients=n)
                return [TEMPORARY] * n
            except IntegrityError as exc:
                # The same message recorded at this very moment by the IMAP intake (To support@, delivered by
                # both): then it is recorded, answer 250; any other constraint is this message's fault.
                reset_connection()
                if self._known(mail.fingerprint):
                    log.info("recorded meanwhile by the IMAP intake: answered 250", route="duplicate")
                    return [self._recorded(message_id)] * n
                reason = f"{type(exc).__name__}: {exc}"[:1000]
                log.error("message failed; quarantined", error=reason)
                return self._set_aside(raw, mail.fingerprint, mail, recipients, inbox, reason)
            except Exception as exc:  # a fault this message causes (a DataError too): keep it aside for a person
                reason = f"{type(exc).__name__}: {exc}"[:1000]
                log.error("message failed; quarantined", error=reason, exc_info=True)
                return self._set_aside(raw, mail.fingerprint, mail, recipients, inbox, reason)
            ms = round((time.monotonic() - started) * 1000, 1)
            if outcome is None:
                log.info("already recorded: answered 250 again", route="duplicate", ms=ms)
                return [self._recorded(message_id)] * n
            with structlog.contextvars.bound_contextvars(case_id=outcome.case_id):
                log.info("message recorded", route=outcome.route, duplicate=outcome.duplicate,
                         queued=outcome.outgoing, recipients=n, size=len(raw), sender=sender, ms=ms)
            if outcome.outgoing:
                self.on_processed()  # after the commit: the dispatcher sends at once
            return [self._recorded(message_id)] * n

    @staticmethod
    def _recorded(message_id: str | None) -> str:
        return f"250 2.0.0 <{message_id}> recorded" if message_id else "250 2.0.0 recorded"

    def _recorded_before(self, fingerprint: str) -> bool:
        """Kept by LMTP before, or recorded by an IMAP intake: either way, nothing to record again."""
        return bool(RawMessage.select().where(RawMessage.fingerprint == fingerprint).exists()
                    or self.casework.already_recorded(fingerprint))

    def _known(self, fingerprint: str) -> bool:
        try:
            return self._recorded_before(fingerprint)
        except DATABASE_ERRORS:
            reset_connection()
            return False

    def _limit_waiting(self) -> None:
        """This thread's connection waits ``database_wait`` for a lock, not the daemon's 120 s: the mail
        server is answered 451 and tries again (said each time: a dropped connection comes back without it)."""
        db = database.obj
        ms = max(1, int(self.wait_seconds * 1000))
        if isinstance(db, SqliteDatabase):
            database.execute_sql(f"PRAGMA busy_timeout = {ms}")
            if hasattr(db, "writer_timeout"):  # the daemon's other threads' turn, in this process
                db.writer_timeout(self.wait_seconds)
        elif isinstance(db, PostgresqlDatabase):
            database.execute_sql(f"SET lock_timeout = {ms}")

    def _set_aside(self, raw: bytes, fingerprint: str, mail, recipients: list[str], inbox: str,
                   reason: str) -> list[str]:
        """Keep a message that cannot be processed, with its reason, and tell the owner (best effort)."""
        n = len(recipients)
        now = self.clock()
        try:
            with database.atomic():
                if RawMessage.select().where(RawMessage.fingerprint == fingerprint).exists():
                    return [self._recorded(mail.message_id if mail else None)] * n
                RawMessage.create(message=None, fingerprint=fingerprint, inbox=inbox, recipients=recipients,
                                  received_at=now, data=raw, size=len(raw), quarantined=reason)
                try:
                    with database.atomic():  # a savepoint: telling the owner may fail, keeping the bytes not
                        self.casework.quarantine(mail, fingerprint, reason, now, inbox)
                except Exception as exc:
                    log.error("quarantine notice could not be recorded; the message is kept",
                              error=f"{type(exc).__name__}: {exc}", reason=reason)
        except (*DATABASE_ERRORS, DatabaseError) as exc:
            reset_connection()
            log.warning("database unavailable; answered 451, the mail server tries again",
                        error=f"{type(exc).__name__}: {exc}", recipients=n)
            return [TEMPORARY] * n
        log.error("message quarantined: kept in the database for a person", reason=reason)
        self.on_processed()
        return ["250 2.0.0 kept for a person: it could not be processed"] * n

    def close(self) -> None:
        self.executor.shutdown(wait=True)  # a transaction under way is committed (or not) before exit


class _Lmtp(LMTP):
    """aiosmtpd's LMTP, answering an over-size message once per recipient, as RFC 2033 asks."""

    _owed = 0

    async def smtp_DATA(self, arg: str) -> None:
        self._owed = len(self.envelope.rcpt_tos) if self.envelope is not None else 0
        try:
            await super().smtp_DATA(arg)
        finally:
            self._owed = 0

    async def push(self, status) -> None:
        if self._owed and isinstance(status, str):
            if status.startswith("552 Error: Too much mail data"):
                status = "\r\n".join([f"{TOO_BIG} (at most {self.data_size_limit} bytes)"] * self._owed)
            elif status.startswith("500 Line too long"):
                status = "\r\n".join([LINE_TOO_LONG] * self._owed)
        await super().push(status)


def _answers(path: str) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(path)
        return True
    except OSError:
        return False
    finally:
        probe.close()


def listening_socket(address: tuple[str, int] | str, shared: bool = False) -> socket.socket:
    """Bound here, on the caller's thread, so that an address in use is an error at once (aiosmtpd's
    controller would only time out waiting for its thread)."""
    if isinstance(address, str):
        try:
            if stat.S_ISSOCK(os.stat(address).st_mode):
                if _answers(address):
                    raise OSError(errno.EADDRINUSE, "another aftercare on this host listens on it (instances on one "
                                                    "host share a TCP address, not a unix socket)")
                os.unlink(address)  # left by a daemon that died: nothing listens on it
        except FileNotFoundError:
            pass
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target: object = address
    else:
        host, port = address
        family, kind, proto, _, target = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                            flags=socket.AI_PASSIVE)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if shared:
            # Several instances of one PostgreSQL database on one host listen on the same address; the kernel
            # spreads the connections. Never on SQLite: a second daemon there (another configuration, a test)
            # must not silently share this one's deliveries.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind(target)
        if isinstance(target, str):
            # The unit's UMask=0077 would leave the socket 0700: the mail server (in the service's group, README:
            # Postfix) must be able to connect; others still cannot reach /run/aftercare (0750).
            os.chmod(target, 0o660)
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class _LmtpFactory:
    """What both controllers serve: LMTP (aiosmtpd's controllers make SMTP unless told)."""

    def factory(self):
        return _Lmtp(self.handler, **self.SMTP_kwargs)


class _InetController(_LmtpFactory, Controller):
    sock: socket.socket

    def _create_server(self):
        return self.loop.create_server(self._factory_invoker, sock=self.sock)

    def _trigger_server(self):
        """aiosmtpd connects to its own address to prove the factory works; with several instances on the
        address (SO_REUSEPORT) that connection may reach another one, so the factory is run on the loop."""
        self.loop.call_soon_threadsafe(self._factory_invoker)


class _UnixController(_LmtpFactory, UnixSocketController):
    sock: socket.socket

    def _create_server(self):
        return self.loop.create_unix_server(self._factory_invoker, sock=self.sock)


class LmtpServer:
    """The listener and its handler; ``close()`` stops taking mail and waits for a delivery under way."""

    def __init__(self, config: Config, casework: Casework, clock: Callable[[], datetime],
                 on_processed: Callable[[], None] = lambda: None):
        self.handler = Handler(config, casework, clock, on_processed)
        address = config.lmtp.address
        sock = listening_socket(address, shared=config.database.url.startswith(("postgresql://", "postgres://")))
        options = dict(data_size_limit=config.lmtp.max_message_size, server_hostname=socket.gethostname(),
                       ident="Aftercare LMTP", ready_timeout=READY_TIMEOUT_SECONDS)
        if isinstance(address, str):
            self.controller = _UnixController(self.handler, unix_socket=address, **options)
        else:
            host, port = sock.getsockname()[:2]
            self.controller = _InetController(self.handler, hostname=host, port=port, **options)
        self.controller.sock = sock
        try:
            self.controller.start()
        except BaseException:
            sock.close()
            raise

    def close(self) -> None:
        try:
            self.controller.stop()
        finally:
            self.handler.close()


def start(config: Config, casework: Casework, clock: Callable[[], datetime],
          on_processed: Callable[[], None] = lambda: None) -> LmtpServer | None:
    """Listen when ``[lmtp] listen`` is set; returns the server (with ``close()``) or None.

    An address that cannot be listened on (in use, not this host's, a directory that is missing) stops the
    start with a ConfigError naming the file, ``lmtp.listen`` and the reason: a mail server delivering to
    nothing would defer every complaint.
    """
    if config.lmtp.address is None:
        return None
    try:
        server = LmtpServer(config, casework, clock, on_processed)
    except (OSError, TimeoutError) as exc:  # socket.gaierror too
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(config.path, "lmtp.listen", f"cannot listen on {config.lmtp.listen}: {reason}") from None
    log.info("LMTP intake listening", address=config.lmtp.listen,
             max_message_size=config.lmtp.max_message_size,
             mailboxes=sorted(set(server.handler.inboxes.values())))
    return server

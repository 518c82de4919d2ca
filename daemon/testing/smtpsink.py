"""A real SMTP server (aiosmtpd) on loopback that keeps what it receives.

Modelled on GNU Mailman's testing layers: the daemon under test speaks real
SMTP over a real socket.  The sink records every accepted message and can be
told to fail (``refuse``) or go away (``stop``) to exercise retry paths::

    with SmtpSink() as sink:
        send_something(sink.host, sink.port)
        [msg] = sink.wait_for_count(1)
        assert msg.message["Subject"] == "Re: your complaint"

        sink.refuse(451)          # temporary failure at DATA
        sink.refuse(550, at="RCPT")
        sink.refuse(None)         # back to accepting

        sink.stop()               # outage: connection refused
        sink.start()              # same port again

aiosmtpd is imported lazily, so importing :mod:`aftercare.testing` does not need it.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # pragma: no cover
    from aftercare.testing.dovecot import Dovecot

__all__ = ["Received", "SmtpSink"]

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
_PORT_ATTEMPTS = 5

Stage = Literal["MAIL", "RCPT", "DATA"]


@dataclass(frozen=True)
class Received:
    """One message accepted by the sink."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    auth_login: str | None = None
    received_at: float = field(default_factory=time.time)

    @cached_property
    def message(self) -> EmailMessage:
        """Parsed on first use: parsing every message as it arrives would make the sink, not the
        daemon, the slow end of a benchmark."""
        return email.message_from_bytes(self.data, policy=email.policy.default)  # type: ignore[return-value]


@dataclass
class _Refusal:
    code: int
    message: str
    at: Stage
    remaining: int | None  # None: until refuse(None)


@dataclass
class _Route:
    dovecot: "Dovecot"
    user: str
    password: str
    folder: str
    recipients: frozenset[str] | None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _port_bindable(port: int) -> bool:
    # Same options asyncio's create_server uses, so TIME_WAIT is no obstacle.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
        return True


class SmtpSink:
    """A real SMTP server on 127.0.0.1 that records every accepted message.

    ``username``/``password``: offer AUTH PLAIN/LOGIN without TLS and accept
    only these credentials; ``auth_required`` (default: True when credentials
    are given) makes MAIL FROM fail with 530 until the client authenticated.
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        username: str | None = None,
        password: str | None = None,
        auth_required: bool | None = None,
        hostname: str = "smtp-sink.test",
    ) -> None:
        if (username is None) != (password is None):
            raise ValueError("give both username and password, or neither")
        self.host = HOST
        self.port: int | None = port
        self.username = username
        self.password = password
        self.auth_required = (username is not None) if auth_required is None else auth_required
        self.hostname = hostname
        self._controller: Any = None
        self._messages: list[Received] = []
        self._cond = threading.Condition()
        self._refusal: _Refusal | None = None
        self._routes: list[_Route] = []
        self.delivery_errors: list[BaseException] = []
        #: Seconds each DATA waits before the server accepts it (a slow server).
        self.data_delay = 0.0
        #: Cleared, every DATA waits for it before accepting: a test can hold an email in flight.
        self.gate = threading.Event()
        self.gate.set()
        self.held = 0  # DATA commands waiting at the gate now

    # -- lifecycle ----------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> "SmtpSink":
        """Listen (again).  After :meth:`stop` the same port is reused."""
        if self._controller is not None:
            return self
        if self.port is not None:
            self._controller = self._start_on(self.port)
            return self
        last: OSError | None = None
        for _ in range(_PORT_ATTEMPTS):
            port = _free_port()
            try:
                self._controller = self._start_on(port)
            except OSError as exc:  # lost the race for the port
                last = exc
                continue
            self.port = port
            return self
        raise RuntimeError(f"SmtpSink: no free port after {_PORT_ATTEMPTS} attempts: {last}")

    def _start_on(self, port: int) -> Any:
        kwargs: dict[str, Any] = {
            "hostname": self.host,
            "port": port,
            "server_hostname": self.hostname,  # else socket.getfqdn(): can be slow
            "ready_timeout": 5.0,
            "decode_data": False,
            "enable_SMTPUTF8": True,
        }
        if self.username is not None:
            kwargs.update(
                authenticator=self._authenticate,
                auth_require_tls=False,
                auth_required=self.auth_required,
            )
        # aiosmtpd only reports a failed bind after ready_timeout, so check
        # first (and wait a little if the port is still held, e.g. restart).
        deadline = time.monotonic() + (5.0 if self.port is not None else 0.0)
        while not _port_bindable(port):
            if time.monotonic() >= deadline:
                raise OSError(f"SmtpSink: {self.host}:{port} is in use")
            time.sleep(0.05)
        controller = _controller_class()(_Handler(self), **kwargs)
        try:
            controller.start()
        except BaseException:
            with contextlib.suppress(Exception):
                controller.stop(no_assert=True)
            raise
        return controller

    def stop(self) -> None:
        """Stop listening; clients get 'connection refused' until start()."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def __enter__(self) -> "SmtpSink":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<SmtpSink {self.host}:{self.port} {state} messages={len(self._messages)}>"

    # -- failure injection ----------------------------------------------------

    def refuse(
        self,
        code: int | None,
        message: str = "Requested action aborted: injected failure",
        *,
        at: Stage = "DATA",
        times: int | None = None,
    ) -> None:
        """Answer ``code`` at the ``at`` stage (MAIL, RCPT or DATA) from now on.

        4xx codes are temporary (the client should retry), 5xx permanent.
        ``times``: only the next N commands at that stage; default: until
        ``refuse(None)``.
        """
        with self._cond:
            if code is None:
                self._refusal = None
                return
            if not 400 <= code <= 599:
                raise ValueError(f"refusal code must be 4xx or 5xx, not {code}")
            if at not in ("MAIL", "RCPT", "DATA"):
                raise ValueError(f"at must be MAIL, RCPT or DATA, not {at!r}")
            self._refusal = _Refusal(code, message, at, times)

    def _refusal_for(self, stage: Stage) -> str | None:
        with self._cond:
            r = self._refusal
            if r is None or r.at != stage:
                return None
            if r.remaining is not None:
                r.remaining -= 1
                if r.remaining <= 0:
                    self._refusal = None
            enhanced = "4.3.0" if r.code < 500 else "5.7.1"
            return f"{r.code} {enhanced} {r.message}"

    # -- received mail --------------------------------------------------------

    @property
    def messages(self) -> list[Received]:
        """A snapshot of everything accepted so far, oldest first."""
        with self._cond:
            return list(self._messages)

    def clear(self) -> None:
        with self._cond:
            self._messages.clear()

    def for_recipient(self, addr: str) -> list[Received]:
        """Messages whose envelope recipients include ``addr`` (case-insensitive)."""
        wanted = addr.strip().lower()
        return [m for m in self.messages if wanted in (r.lower() for r in m.rcpt_tos)]

    def wait_for(
        self, predicate: Callable[[Received], bool], timeout: float = 10.0
    ) -> list[Received]:
        """Block until at least one message satisfies ``predicate``; return all that do."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                matching = [m for m in self._messages if predicate(m)]
                if matching:
                    return matching
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"no matching message within {timeout}s; got {self._summary()}"
                    )
                self._cond.wait(remaining)

    def wait_for_count(self, n: int, timeout: float = 10.0) -> list[Received]:
        """Block until at least ``n`` messages arrived; return all of them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._messages) < n:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"expected {n} message(s) within {timeout}s; got {self._summary()}"
                    )
                self._cond.wait(remaining)
            return list(self._messages)

    def _summary(self) -> str:
        if not self._messages:
            return "none"
        return "; ".join(
            f"{m.mail_from} -> {','.join(m.rcpt_tos)}: {m.message.get('Subject', '')!r}"
            for m in self._messages
        )

    def _record(self, received: Received) -> None:
        with self._cond:
            self._messages.append(received)
            self._cond.notify_all()

    # -- optional delivery into Dovecot ---------------------------------------

    def deliver_to(
        self,
        dovecot: "Dovecot",
        user: str,
        password: str,
        folder: str = "INBOX",
        *,
        recipients: Iterable[str] | None = None,
    ) -> None:
        """Also APPEND every accepted message to ``user``'s ``folder``.

        With ``recipients``, only messages addressed (envelope) to one of them.
        Can be called several times (e.g. one route per customer mailbox).  The
        APPEND happens before the sink answers 250, so once the SMTP client
        returns the message is in the mailbox.  Failures are logged and kept in
        :attr:`delivery_errors`; the message is still accepted.
        """
        wanted = frozenset(r.lower() for r in recipients) if recipients is not None else None
        with self._cond:
            self._routes.append(_Route(dovecot, user, password, folder, wanted))

    def clear_deliveries(self) -> None:
        with self._cond:
            self._routes.clear()

    def _deliver(self, received: Received) -> None:
        with self._cond:
            routes = list(self._routes)
        rcpts = {r.lower() for r in received.rcpt_tos}
        for route in routes:
            if route.recipients is not None and not (rcpts & route.recipients):
                continue
            try:
                route.dovecot.append(route.user, route.password, route.folder, received.data)
            except Exception as exc:  # noqa: BLE001 - reported, not raised
                log.exception("SmtpSink: delivery to %s/%s failed", route.user, route.folder)
                self.delivery_errors.append(exc)

    # -- aiosmtpd hooks -------------------------------------------------------

    def _authenticate(self, server, session, envelope, mechanism, auth_data):  # noqa: ANN001
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode(errors="replace")
            password = auth_data.password.decode(errors="replace")
            if login == self.username and password == self.password:
                return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)


def _controller_class() -> type:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP

    class _Controller(Controller):
        def factory(self) -> SMTP:
            # SMTP() warns (UserWarning, per connection) about AUTH without
            # TLS; that is the point here, so switch it on after construction.
            kwargs = dict(self.SMTP_kwargs)
            required = kwargs.pop("auth_required", False)
            smtp = SMTP(self.handler, **kwargs)
            smtp._auth_required = required
            return smtp

    return _Controller


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: ANN001
        refusal = self.sink._refusal_for("MAIL")
        if refusal:
            return refusal
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001
        refusal = self.sink._refusal_for("RCPT")
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        refusal = self.sink._refusal_for("DATA")
        if refusal:
            return refusal
        if self.sink.data_delay:
            await asyncio.sleep(self.sink.data_delay)
        if not self.sink.gate.is_set():
            self.sink.held += 1
            try:
                await asyncio.get_running_loop().run_in_executor(None, self.sink.gate.wait)
            finally:
                self.sink.held -= 1
        data = envelope.original_content or envelope.content
        if isinstance(data, str):  # only with decode_data=True; be safe
            data = data.encode("utf-8", "surrogateescape")
        login = getattr(session, "auth_data", None)
        received = Received(
            mail_from=envelope.mail_from or "",
            rcpt_tos=list(envelope.rcpt_tos),
            data=bytes(data),
            auth_login=login if isinstance(login, str) else None,
        )
        if self.sink._routes:
            await asyncio.get_running_loop().run_in_executor(None, self.sink._deliver, received)
        self.sink._record(received)
        return "250 OK: queued"

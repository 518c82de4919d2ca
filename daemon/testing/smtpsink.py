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

OAuth2 (``oauth2_check``): the sink also offers ``AUTH XOAUTH2`` and ``AUTH
OAUTHBEARER`` and asks ``oauth2_check(user, token)`` whether to let the client
in, e.g. ``SmtpSink(oauth2_check=lambda user, token: tokens.introspect(token) == user)``
with a :class:`~aftercare.testing.tokenserver.TokenServer`.  A refused token
gets what Gmail sends: a ``334`` challenge holding a base64 JSON error, the
client's empty (XOAUTH2) or ``\\x01`` (OAUTHBEARER, RFC 7628) answer, then
``535 5.7.8``.  Every AUTH attempt is kept in :attr:`SmtpSink.auth_attempts`.

aiosmtpd is imported lazily, so importing :mod:`aftercare.testing` does not need it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import email
import email.policy
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

if TYPE_CHECKING:  # pragma: no cover
    from aftercare.testing.dovecot import Dovecot

__all__ = ["AuthAttempt", "Received", "SmtpSink"]

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
    auth_mechanism: str | None = None  # "PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER"; None: not authenticated
    received_at: float = field(default_factory=time.time)

    @cached_property
    def message(self) -> EmailMessage:
        """Parsed on first use: parsing every message as it arrives would make the sink, not the
        daemon, the slow end of a benchmark."""
        return email.message_from_bytes(self.data, policy=email.policy.default)  # type: ignore[return-value]


class AuthAttempt(NamedTuple):
    """One AUTH command: (mechanism, user, success)."""

    mechanism: str
    user: str | None  # None: the client's answer could not be parsed
    success: bool


#: What Gmail answers a refused XOAUTH2 token with (in the 334 challenge) and then.
XOAUTH2_ERROR = {"status": "401", "schemes": "bearer", "scope": "https://mail.google.com/"}
OAUTHBEARER_ERROR = {"status": "invalid_token", "schemes": "bearer", "scope": "https://mail.google.com/"}
AUTH_REFUSED = "535 5.7.8 Username and Password not accepted"


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
    only these credentials.  ``oauth2_check``: offer AUTH XOAUTH2/OAUTHBEARER
    and accept a (user, token) when it returns True.  ``data_size_limit``: refuse
    larger messages with 552, as a real server does.  ``auth_required``
    (default: True when either is given) makes MAIL FROM fail with 530 until
    the client authenticated.
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        username: str | None = None,
        password: str | None = None,
        auth_required: bool | None = None,
        hostname: str = "smtp-sink.test",
        oauth2_check: Callable[[str, str], bool] | None = None,
        data_size_limit: int | None = None,
    ) -> None:
        if (username is None) != (password is None):
            raise ValueError("give both username and password, or neither")
        self.host = HOST
        self.port: int | None = port
        self.username = username
        self.password = password
        self.oauth2_check = oauth2_check
        #: Bytes of one message, at most (advertised as SIZE; larger ones get 552); None: aiosmtpd's 32 MiB.
        self.data_size_limit = data_size_limit
        any_auth = username is not None or oauth2_check is not None
        self.auth_required = any_auth if auth_required is None else auth_required
        #: Every AUTH command so far: AuthAttempt(mechanism, user, success).
        self.auth_attempts: list[AuthAttempt] = []
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
        if self.data_size_limit is not None:
            kwargs["data_size_limit"] = self.data_size_limit
        if self.username is not None or self.oauth2_check is not None:
            excluded = []
            if self.username is None:
                excluded += ["PLAIN", "LOGIN"]
            if self.oauth2_check is None:
                excluded += ["XOAUTH2", "OAUTHBEARER"]
            kwargs.update(
                authenticator=self._authenticate,
                auth_require_tls=False,
                auth_required=self.auth_required,
                auth_exclude_mechanism=excluded,
            )
        else:
            kwargs["auth_exclude_mechanism"] = ["XOAUTH2", "OAUTHBEARER"]  # the handler's auth_ methods
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
            ok = self.username is not None and login == self.username and password == self.password
            self._note_auth(mechanism, login, ok)
            if ok:
                session.auth_mechanism = mechanism
                return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)

    def _note_auth(self, mechanism: str, user: str | None, success: bool) -> None:
        with self._cond:
            self.auth_attempts.append(AuthAttempt(mechanism, user, success))

    def _check_token(self, user: str, token: str) -> bool:
        check = self.oauth2_check
        if check is None:
            return False
        try:
            return bool(check(user, token))
        except Exception:  # noqa: BLE001 - a broken check refuses, and says why
            log.exception("SmtpSink: oauth2_check(%r, ...) raised", user)
            return False


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
            auth_mechanism=getattr(session, "auth_mechanism", None) if session.authenticated else None,
        )
        if self.sink._routes:
            await asyncio.get_running_loop().run_in_executor(None, self.sink._deliver, received)
        self.sink._record(received)
        return "250 OK: queued"

    # -- OAuth2 SASL mechanisms (advertised only with oauth2_check) ---------------

    async def auth_XOAUTH2(self, server, args):  # noqa: ANN001, N802
        """``user=<user>\\x01auth=Bearer <token>\\x01\\x01`` (Google's and Microsoft's XOAUTH2)."""
        return await self._oauth2(server, args, "XOAUTH2")

    async def auth_OAUTHBEARER(self, server, args):  # noqa: ANN001, N802
        """``n,a=<user>,\\x01host=...\\x01port=...\\x01auth=Bearer <token>\\x01\\x01`` (RFC 7628)."""
        return await self._oauth2(server, args, "OAUTHBEARER")

    async def _oauth2(self, server, args, mechanism: str):  # noqa: ANN001
        from aiosmtpd.smtp import MISSING, AuthResult

        sink = self.sink
        if len(args) > 1:
            try:
                blob = base64.b64decode(args[1].encode(), validate=True)
            except (binascii.Error, ValueError):
                sink._note_auth(mechanism, None, False)
                await server.push("501 5.5.2 Cannot decode response")
                return AuthResult(success=False, handled=True)
        else:  # no initial response: an empty challenge asks for it
            blob = await server.challenge_auth("")
            if blob is MISSING:  # '*' or bad base64: challenge_auth has answered already
                sink._note_auth(mechanism, None, False)
                return AuthResult(success=False, handled=True)
        parsed = _parse_xoauth2(blob) if mechanism == "XOAUTH2" else _parse_oauthbearer(blob)
        if parsed is None:
            sink._note_auth(mechanism, None, False)
            await server.push(f"501 5.5.2 Syntax error in the {mechanism} response")
            return AuthResult(success=False, handled=True)
        user, token = parsed
        ok = await asyncio.get_running_loop().run_in_executor(None, sink._check_token, user, token)
        sink._note_auth(mechanism, user, ok)
        if ok:
            server.session.auth_mechanism = mechanism
            return AuthResult(success=True, auth_data=user)
        error = XOAUTH2_ERROR if mechanism == "XOAUTH2" else OAUTHBEARER_ERROR
        # The client answers the error challenge with an empty line (XOAUTH2) or \x01 (OAUTHBEARER); whatever
        # it says, the answer is 535 (a '*' gets challenge_auth's 501 instead).
        answer = await server.challenge_auth(json.dumps(error, separators=(",", ":")))
        if answer is MISSING:
            return AuthResult(success=False, handled=True)
        await server.push(AUTH_REFUSED)
        return AuthResult(success=False, handled=True)


def _kvpairs(text: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in text.split("\x01"):
        key, sep, value = item.partition("=")
        if sep:
            pairs.setdefault(key, value)
    return pairs


def _bearer(value: str | None) -> str | None:
    if value is None or not value[:7].lower() == "bearer ":
        return None
    token = value[7:].strip()
    return token or None


def _parse_xoauth2(blob: bytes) -> tuple[str, str] | None:
    text = blob.decode("utf-8", "replace")
    if not text.endswith("\x01\x01"):
        return None
    pairs = _kvpairs(text)
    token = _bearer(pairs.get("auth"))
    user = pairs.get("user")
    if not user or token is None:
        return None
    return user, token


def _parse_oauthbearer(blob: bytes) -> tuple[str, str] | None:
    """RFC 7628: gs2-header ``n,a=<authzid>,`` then \\x01-separated key=value pairs, ending \\x01\\x01."""
    text = blob.decode("utf-8", "replace")
    header, sep, rest = text.partition("\x01")
    if not sep or not rest.endswith("\x01\x01"):
        return None
    fields = header.split(",")
    if len(fields) < 3 or fields[0] not in ("n", "y"):
        return None
    user = ""
    if fields[1].startswith("a="):
        user = fields[1][2:].replace("=2C", ",").replace("=3D", "=")
    token = _bearer(_kvpairs(rest).get("auth"))
    if token is None:
        return None
    return user, token

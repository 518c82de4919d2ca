"""The SMTP edge: one reused connection, and errors sorted into temporary and permanent.

The dispatcher decides what to do with each outcome; this module only speaks
the protocol.
"""
from __future__ import annotations

import re
import smtplib
import socket
import ssl

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from .errors import AuthenticationRefused
from .oauth2 import SaslExchange, TokenError, TokenSource


@dataclass(frozen=True)
class SmtpSettings:
    """The SMTP server, as this edge needs it (the configuration builds it: ``SmtpConfig.sending``)."""

    host: str
    port: int
    security: str  # tls, starttls, none
    username: str | None
    password: Any  # None, or has .reveal()
    timeout: timedelta
    auth: str = "password"  # password (when username is set) | oauth2 (a TokenSource is handed to SmtpSender)
    mechanism: str = "XOAUTH2"  # XOAUTH2 | OAUTHBEARER, with oauth2


class TemporaryFailure(Exception):
    """Try again later: connection trouble or a 4xx reply."""


class SmtpLoginRefused(TemporaryFailure, AuthenticationRefused):
    """The SMTP server refused our login: no email is to blame; all wait until the login works."""


class SmtpCertificateRefused(SmtpLoginRefused):
    """The SMTP server's TLS certificate is not trusted: like a refused login, no email is to blame and only
    a person can end it (a renewed certificate, the CA installed)."""


class SmtpAuthUnavailable(SmtpLoginRefused):
    """A username is configured but the server offers no AUTH (often: it wants STARTTLS first, or it is not a
    submission port): no email is to blame, and it lasts until the configuration or the server changes."""


class SmtpTokenUnavailable(TemporaryFailure):
    """No OAuth2 access token could be had; ``cause`` is the TokenError (a dead grant is permanent)."""

    def __init__(self, cause: TokenError):
        super().__init__(f"no OAuth2 token for SMTP: {cause}")
        self.cause = cause
        self.permanent = cause.permanent


class PermanentFailure(Exception):
    """The server refused for good (5xx): do not retry."""


class MessageTooLarge(PermanentFailure):
    """The server refused the email for its size (552 to MAIL FROM's SIZE or to DATA, or 5.3.4): the same
    email without its files may go."""


_ENHANCED = re.compile(r"\b[245]\.\d{1,3}\.\d{1,3}\b")


def _refusal(code: int, text: str, whole_message: bool) -> Exception:
    """The exception for a refusal: ``whole_message`` when it was MAIL FROM or DATA (not one recipient).

    Too large: an enhanced status 5.3.4 (message too big for system) or 5.2.3 (message length exceeds
    administrative limit), or a bare 552 without one (RFC 1870's answer to SIZE). A 552 with another
    enhanced status ("5.2.2 mailbox full", "5.7.0 blocked for security") is an ordinary refusal."""
    enhanced = _ENHANCED.findall(text)
    too_large = any(e in ("5.3.4", "5.2.3") for e in enhanced) or (whole_message and code == 552 and not enhanced)
    if code >= 500 and too_large:
        return MessageTooLarge(f"{code} {text}")
    return (PermanentFailure if code >= 500 else TemporaryFailure)(f"{code} {text}")


class SmtpSender:
    def __init__(self, config: SmtpSettings, token_source: TokenSource | None = None):
        self.config = config
        self.token_source = token_source
        self.conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        timeout = cfg.timeout.total_seconds()
        try:
            if cfg.security == "tls":
                conn = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=timeout, context=ssl.create_default_context())
            else:
                conn = smtplib.SMTP(cfg.host, cfg.port, timeout=timeout)
                if cfg.security == "starttls":
                    conn.starttls(context=ssl.create_default_context())
            conn.ehlo_or_helo_if_needed()
            if cfg.auth == "oauth2":
                self._token_login(conn)
            elif cfg.username:
                conn.login(cfg.username, cfg.password.reveal() if cfg.password else "")
        except smtplib.SMTPAuthenticationError as exc:
            # Not the email's fault: the emails wait (and the log says why) until the login works again.
            how = f" ({cfg.mechanism} token)" if cfg.auth == "oauth2" else ""
            raise SmtpLoginRefused(f"cannot connect to SMTP {cfg.host}:{cfg.port}: login refused{how}: "
                                   f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
        except TokenError as exc:
            raise SmtpTokenUnavailable(exc) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise SmtpAuthUnavailable(f"cannot connect to SMTP {cfg.host}:{cfg.port}: the server offers no login "
                                      f"(AUTH): {exc}; check smtp.security (starttls?) and smtp.port") from None
        except ssl.SSLCertVerificationError as exc:
            raise SmtpCertificateRefused(f"cannot connect to SMTP {cfg.host}:{cfg.port}: the TLS certificate is "
                                         f"not trusted: {exc.verify_message or exc}") from None
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
            raise TemporaryFailure(f"cannot connect to SMTP {cfg.host}:{cfg.port}: {_describe(exc)}") from None
        return conn

    def _token_login(self, conn: smtplib.SMTP) -> None:
        """AUTH XOAUTH2 or OAUTHBEARER; a refused token is replaced by a fresh one once."""
        cfg = self.config
        if self.token_source is None:
            raise TokenError("auth is oauth2 but no token source was given")
        for attempt in (1, 2):
            token = self.token_source.access_token()
            exchange = SaslExchange(cfg.mechanism, cfg.username or "", token, cfg.host, cfg.port)
            try:
                conn.auth(cfg.mechanism, exchange.smtp, initial_response_ok=True)
                return
            except smtplib.SMTPAuthenticationError as exc:
                self.token_source.refused(token)
                if attempt == 2:
                    said = f" (the server said: {exchange.server_said})" if exchange.server_said else ""
                    raise smtplib.SMTPAuthenticationError(exc.smtp_code, f"{_text(exc.smtp_error)}{said}") from None

    def send(self, mail_from: str, recipients: list[str], raw: bytes) -> None:
        """Send one message; raise TemporaryFailure or PermanentFailure."""
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = self._connect()
            try:
                options = []
                if not raw.isascii() and self.conn.has_extn("8bitmime"):
                    options.append("BODY=8BITMIME")  # a forwarded message in 8-bit goes as it came
                if not raw.isascii() or any(not r.isascii() for r in recipients + [mail_from]):
                    if self.conn.has_extn("smtputf8"):
                        options.append("SMTPUTF8")
                refused = self.conn.sendmail(mail_from, recipients, raw, mail_options=options)
                if refused:
                    code, msg = next(iter(refused.values()))
                    raise (PermanentFailure if code >= 500 else TemporaryFailure)(f"{code} {_text(msg)}")
                return
            except smtplib.SMTPServerDisconnected:
                self.close()
                if attempt == 2:
                    raise TemporaryFailure("the SMTP server closed the connection") from None
            except smtplib.SMTPRecipientsRefused as exc:
                self._reset()
                code, msg = next(iter(exc.recipients.values()))
                raise (PermanentFailure if code >= 500 else TemporaryFailure)(f"{code} {_text(msg)}") from None
            except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                self._reset()
                raise _refusal(exc.smtp_code, _text(exc.smtp_error), whole_message=True) from None
            except (OSError, smtplib.SMTPException) as exc:
                self.close()
                raise TemporaryFailure(_describe(exc)) from None

    def _reset(self) -> None:
        try:
            self.conn.rset()
        except Exception:
            self.close()

    def check(self) -> None:
        """Connect and log in once (for check-config)."""
        self.conn = self._connect()
        self.close()

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.quit()
            except Exception:
                try:
                    conn.close()
                except Exception:
                    pass


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout):
        return "timed out"
    return f"{type(exc).__name__}: {exc}"[:500]

"""structlog set-up: JSON lines for journald, readable lines on a terminal, secrets redacted.

Every configured secret is replaced by ``********`` in every value of every log
line, whatever code produced it: a password can only appear in a log through
a bug here, not through a careless message elsewhere.
"""
from __future__ import annotations

import logging
import os
import sys
from typing import Iterable

import structlog

REDACTED = "********"


class SecretRedactor:
    """Configured secrets, plus the tokens obtained at run time (``remember``: the latest few are kept)."""

    REMEMBERED = 32  # OAuth2 access and refresh tokens: older ones are long expired

    def __init__(self, secrets: Iterable[str] = ()):
        self.secrets: list[str] = []
        self._configured: set[str] = set()
        self._remembered: list[str] = []
        self.update(secrets)

    def update(self, secrets: Iterable[str]) -> None:
        self._configured = {s for s in secrets if s and len(s) >= 3}
        self._sort()

    def remember(self, secret: str) -> None:
        """A secret learnt at run time (an access token, a rotated refresh token)."""
        if secret and len(secret) >= 3 and secret not in self._remembered:
            self._remembered = (self._remembered + [secret])[-self.REMEMBERED:]
            self._sort()

    def _sort(self) -> None:
        self.secrets = sorted(self._configured | set(self._remembered), key=len, reverse=True)

    def clean(self, value):
        """``value`` with every known secret replaced (for text that leaves the process other than by a log)."""
        return self._clean(value)

    def _clean(self, value):
        if isinstance(value, str):
            for secret in self.secrets:
                if secret in value:
                    value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, (list, tuple)):
            return type(value)(self._clean(v) for v in value)
        if isinstance(value, dict):
            return {k: self._clean(v) for k, v in value.items()}
        return value

    def __call__(self, logger, method_name, event_dict):
        if not self.secrets:
            return event_dict
        return {k: self._clean(v) for k, v in event_dict.items()}


redactor = SecretRedactor()

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}

#: syslog priorities (sd-daemon(3)): what ``journalctl -p`` filters on.
PRIORITIES = {"debug": 7, "info": 6, "warning": 4, "warn": 4, "error": 3, "exception": 3, "critical": 2}


def writes_to_journal(stream) -> bool:
    """Whether ``stream`` is the journal stream systemd connected us to ($JOURNAL_STREAM is its
    device:inode, see systemd.exec(5)); a redirected stderr under systemd is not."""
    found = os.environ.get("JOURNAL_STREAM", "")
    try:
        device, inode = (int(part) for part in found.split(":"))
        st = os.fstat(stream.fileno())
    except (ValueError, OSError, AttributeError):
        return False
    return (st.st_dev, st.st_ino) == (device, inode)


def journal_priority_prefix(logger, method_name: str, rendered: str) -> str:
    """``<N>`` before the line: journald reads it as the line's PRIORITY and strips it, so ``journalctl -p err``
    shows exactly the errors (the "SyslogLevelPrefix" convention; no binding to libsystemd needed)."""
    return f"<{PRIORITIES.get(method_name, 6)}>{rendered}"


def setup_logging(fmt: str = "auto", level: str = "info", secrets: Iterable[str] = (), stream=None) -> None:
    """Configure structlog once for the process. ``fmt`` is json, console or auto (console on a TTY)."""
    stream = stream or sys.stderr
    redactor.update(secrets)
    if fmt == "auto":
        fmt = "console" if stream.isatty() else "json"
    renderer = (structlog.dev.ConsoleRenderer(colors=False) if fmt == "console"
                else structlog.processors.JSONRenderer(ensure_ascii=False))
    processors = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        # Tracebacks become text before the redactor, in both formats: a secret in an exception's text is
        # redacted like any other value (the console renderer would format it after the redactor).
        structlog.processors.format_exc_info,
        redactor,
        renderer,
    ]
    if writes_to_journal(stream):
        processors.append(journal_priority_prefix)
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level, logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )

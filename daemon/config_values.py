"""What some of the operator's values mean: timezones, working hours, send windows, rating words, the
staff verification methods, where the database lies and the metrics endpoint's address. Each function is
a key's ``parse`` (the value as written -> the attribute), ``resolve`` (the same, with the config file and
the other keys at hand) or ``check``; it raises ``Invalid`` with the reason (a check returns it), and the
reader adds the file and the key.
"""
from __future__ import annotations

import importlib.util
import ipaddress
import os
import re
from datetime import date
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .cases.calendar import BusinessHours, parse_clock, parse_days
from .cases.commands import language_code_problem
from .config_schema import Invalid, Scope, suggest

VERIFY_METHODS = ("reply-token", "authentication-results", "from-header")


def addr_spec(value: str) -> str:
    return parseaddr(value)[1].lower()


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"{name!r} is not a timezone; write e.g. \"Europe/Berlin\" or \"UTC\"") from None


def zone_name(name: str) -> str:
    zone(name)
    return name


def days(text: str) -> frozenset[int]:
    try:
        return parse_days(text)
    except ValueError as exc:
        raise Invalid(str(exc)) from None


def clock(text: str):
    try:
        return parse_clock(text)
    except ValueError as exc:
        raise Invalid(str(exc)) from None


def holidays(values: list) -> frozenset[date]:
    out = []
    for i, h in enumerate(values):
        try:
            out.append(h if isinstance(h, date) else date.fromisoformat(str(h)))
        except ValueError:
            raise Invalid(f"{h!r} is not a date (YYYY-MM-DD)", f"[{i}]") from None
    return frozenset(out)


def business_hours(keys: Any, scope: Scope) -> BusinessHours:
    """[schedule.business_hours], read into its keys, as the calendar's BusinessHours."""
    return BusinessHours(days=keys.days, start=keys.start, end=keys.end, timezone=keys.timezone,
                         holidays=keys.holidays)


def send_window(text: str, scope: Scope) -> BusinessHours:
    """``"Mon-Fri 09:00-18:00"`` in schedule.timezone."""
    parts = text.split()
    if len(parts) != 2 or parts[1].count("-") != 1:
        raise Invalid(f"{text!r}: write days and hours, e.g. \"Mon-Fri 09:00-18:00\"")
    try:
        window_days = parse_days(parts[0])
        start, end = (parse_clock(t) for t in parts[1].split("-"))
    except ValueError as exc:
        raise Invalid(f"{text!r}: {exc}") from None
    if start >= end:
        raise Invalid(f"{text!r}: the window must end after it starts")
    return BusinessHours(days=window_days, start=start, end=end, timezone=zone(scope.given["timezone"]))


def rating_words(table: dict) -> tuple[tuple[str, int], ...]:
    out = []
    for word, score in table.items():
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            raise Invalid("must be a whole number from 1 to 5", f".{word}")
        out.append((word.strip().lower(), score))
    return tuple(out)


def language_problem(value: str) -> str | None:
    """The check of a language key (customer.default_language, staff.language): an ISO 639-1 code."""
    return language_code_problem(value.strip().lower())


def language_code(value: str) -> str:
    return value.strip().lower()


TONE_LEVELS = ("abusive", "angry", "upset")


def tone_words(table: dict) -> tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...]:
    """[tone.words]: per language (an ISO 639-1 code), per level (abusive, angry, upset), a list of words or
    phrases ("*" for any ending)."""
    out = []
    for lang, levels in table.items():
        code = lang.strip().lower()
        if problem := language_code_problem(code):
            raise Invalid(problem, f".{lang}")
        if not isinstance(levels, dict):
            raise Invalid("expected a table of abusive, angry or upset lists, e.g. "
                          f'[tone.words.{lang}] angry = ["..."]', f".{lang}")
        read = []
        for level, words in levels.items():
            if level not in TONE_LEVELS:
                raise Invalid(f"unknown level; must be one of {', '.join(TONE_LEVELS)}"
                              + suggest(level, list(TONE_LEVELS)), f".{lang}.{level}")
            if not isinstance(words, list):
                raise Invalid("expected a list of words, e.g. [\"...\", \"...\"]", f".{lang}.{level}")
            for i, word in enumerate(words):
                if not isinstance(word, str) or not word.strip():
                    raise Invalid("expected a non-empty string", f".{lang}.{level}[{i}]")
            read.append((level, tuple(w.strip() for w in words)))
        out.append((code, tuple(read)))
    return tuple(out)


def verify_methods(methods: list) -> tuple[str, ...]:
    for i, method in enumerate(methods):
        if method not in VERIFY_METHODS:
            raise Invalid(f"must be one of {', '.join(map(repr, VERIFY_METHODS))}, got {method!r}"
                          + suggest(str(method), list(VERIFY_METHODS)), f"[{i}]")
    return tuple(methods)


def directory(p: Path, scope: Scope) -> Path:
    if not p.is_dir():
        raise Invalid(f"{p} is not a directory")
    return p


def database_url(url: str, scope: Scope) -> str:
    """A relative SQLite path lives in the state directory (``state_directory``), for the service and every
    command alike."""
    if url.startswith("sqlite:///"):
        rest = url[len("sqlite:///"):]
        if rest and rest != ":memory:" and not rest.startswith("/"):
            return "sqlite:///" + str(state_directory(scope.file) / rest)
        return url
    if url.startswith(("postgresql://", "postgres://")):
        if importlib.util.find_spec("psycopg2") is None:
            # Said here, at reading the file, so that check-config fails and no command ends in a traceback.
            raise Invalid("PostgreSQL needs its driver, which is not installed: pip install 'aftercare[postgresql]' "
                          "(or Debian's python3-psycopg2)")
        return url
    raise Invalid(f"must start with sqlite:/// or postgresql://, got {url!r}")


def sent_log(value: str, scope: Scope) -> str:
    """The outbox's side log of accepted emails: as named (relative to the state directory), else
    ``<file>-sent`` beside SQLite, else aftercare-sent.db in the state directory."""
    if value:
        return value if Path(value).is_absolute() else str(state_directory(scope.file) / value)
    url = scope.attrs["url"]
    if url.startswith("sqlite:///"):
        rest = url[len("sqlite:///"):]
        return "" if rest in ("", ":memory:") or rest.startswith("file::memory:") else rest + "-sent"
    return str(state_directory(scope.file) / "aftercare-sent.db")


def state_directory(config_path: Path | None = None) -> Path:
    """Where relative paths of the configuration (the SQLite file, the sent log, token stores) live.

    The same for the service and for a command typed in a shell, so that both read one database:
    ``$AFTERCARE_STATE_DIRECTORY`` when set, else systemd's ``$STATE_DIRECTORY`` (the service), else the
    unit's StateDirectory, /var/lib/aftercare. Never the configuration's folder or the working directory,
    which differ between the two and once made a shell's ``cases list`` read a fresh, empty database.
    """
    for variable in ("AFTERCARE_STATE_DIRECTORY", "STATE_DIRECTORY"):
        if os.environ.get(variable):
            return Path(os.environ[variable].split(":")[0])
    return SERVICE_STATE_DIRECTORY


SERVICE_STATE_DIRECTORY = Path("/var/lib/aftercare")  # the unit's StateDirectory


def token_store(value: str, scope: Scope) -> str:
    """Our copy of the newest OAuth2 refresh token: as named (relative to the state directory), else
    ``aftercare-oauth2-<table>.json`` in the state directory (``<table>``: mailbox or smtp).

    Outside systemd (``check-config`` run by hand) it is the service's state directory too, so that a token
    rotated by the check is kept where the daemon reads it."""
    base = state_directory(scope.file)
    if value:
        return value if Path(value).is_absolute() else str(base / value)
    owner = scope.name.split(".")[0]
    return str(base / f"aftercare-oauth2-{owner}.json")


def endpoint_url_problem(url: str) -> str | None:
    """A token or consent endpoint must be https (plain http only on loopback, for tests and proxies)."""
    from urllib.parse import urlsplit
    try:
        parts = urlsplit(url)
    except ValueError:
        return f"{url!r} is not a URL"
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1"):
        return None
    return f"must be an https:// URL (http:// only on loopback), got {url!r}"


def secret_file_path(attr: str) -> Callable[[Scope], Path | None]:
    """For a computed field: the file a secret was read from (``<attr>_file``), to read it again when it changes."""
    def path(scope: Scope) -> Path | None:
        value = scope.table.get(f"{attr}_file")
        if not isinstance(value, str):
            return None
        return Path(value) if Path(value).is_absolute() else scope.file.parent / value
    return path


_HOST_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?")
_LISTEN_EXAMPLE = 'write host:port, e.g. "127.0.0.1:9464", "[::1]:9464" or "0.0.0.0:9464" (every interface)'


def listen_address(value: str, example: str = _LISTEN_EXAMPLE) -> tuple[str, int]:
    """``"127.0.0.1:9464"``, ``"[::1]:9464"``, ``"localhost:9464"`` -> (host, port); an IPv6 address goes
    in brackets, and the host is never left out (listening on every interface is written, not implied)."""
    if "://" in value or "/" in value:
        raise Invalid(f"{value!r}: an address to listen on, not a URL (any path serves the metrics); "
                      + example)
    host, colon, port = value.rpartition(":")
    if not colon or not host:
        raise Invalid(f"{value!r}: {example}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise Invalid(f"{value!r}: {host!r} in brackets is not an IPv6 address") from None
    elif ":" in host:
        raise Invalid(f'{value!r}: an IPv6 address goes in brackets, e.g. "[::1]:9464"')
    elif not _HOST_NAME.fullmatch(host):
        raise Invalid(f"{value!r}: {host!r} is not a host name or an IP address; {example}")
    if not re.fullmatch(r"[0-9]{1,5}", port) or not 0 < int(port) < 65536:
        raise Invalid(f"{value!r}: the port must be a number from 1 to 65535, got {port!r}")
    return host, int(port)


def listen_problem(value: str) -> str | None:
    """The check of ``[metrics] listen``: empty (no endpoint) or what ``listen_address`` takes."""
    if not value:
        return None
    try:
        listen_address(value)
    except Invalid as exc:
        return exc.reason
    return None


_LMTP_EXAMPLE = ('write host:port or unix:/path, e.g. "127.0.0.1:10024", "[::1]:10024" or '
                 '"unix:/run/aftercare/lmtp.sock"')


def lmtp_address(value: str) -> tuple[str, int] | str:
    """``[lmtp] listen``: ``"unix:/run/aftercare/lmtp.sock"`` -> the socket's absolute path (a str);
    ``"127.0.0.1:10024"``, ``"[::1]:10024"`` -> (host, port), as ``listen_address`` reads them."""
    if value.startswith("unix:"):
        path = value[len("unix:"):]
        if not path.startswith("/"):
            raise Invalid(f"{value!r}: the socket's path must be absolute, e.g. \"unix:/run/aftercare/lmtp.sock\"")
        if "\0" in path or len(path.encode()) > 107:
            raise Invalid(f"{value!r}: not a usable socket path (at most 107 bytes)")
        return path
    if "://" in value:
        raise Invalid(f"{value!r}: an address to listen on, not a URL; {_LMTP_EXAMPLE}")
    if "/" in value:
        raise Invalid(f"{value!r}: a socket path is written \"unix:{value}\"; {_LMTP_EXAMPLE}")
    return listen_address(value, _LMTP_EXAMPLE)


def lmtp_listen_problem(value: str) -> str | None:
    """The check of ``[lmtp] listen``: empty (no LMTP intake) or what ``lmtp_address`` takes."""
    if not value:
        return None
    try:
        lmtp_address(value)
    except Invalid as exc:
        return exc.reason
    return None


def is_loopback(host: str) -> bool:
    """Only this host can reach ``host`` (for check-config's word on an endpoint without a login)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: where it points may change
        return False

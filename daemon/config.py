"""The operator's TOML file, checked once and turned into frozen values.

Every mistake is reported with the file, the dotted key and the reason, so an
operator can fix it without reading code. Passwords are wrapped in ``Secret``
so that no repr, log line or error message can ever show them.
"""
from __future__ import annotations

import difflib
import os
import stat
import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .cases.calendar import BusinessHours, parse_clock, parse_days
from .durations import DurationError, parse_duration

DEFAULT_CONFIG_PATH = "/etc/aftercare/config.toml"


class ConfigError(Exception):
    """A configuration problem, naming the file, the key and the reason."""

    def __init__(self, file: str | os.PathLike, key: str, reason: str):
        self.file, self.key, self.reason = str(file), key, reason
        where = f"{self.file}: {key}: " if key else f"{self.file}: "
        super().__init__(where + reason)


class Secret:
    """A password that never shows itself in a repr, str or log line."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class MailboxConfig:
    host: str
    port: int
    security: str
    username: str
    password: Secret
    folder: str = "INBOX"
    processed_folder: str = "Aftercare/Processed"
    quarantine_folder: str = "Aftercare/Quarantine"
    idle: bool = True
    poll_interval: timedelta = timedelta(seconds=60)
    timeout: timedelta = timedelta(seconds=60)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str
    username: str | None
    password: Secret | None
    from_address: str
    timeout: timedelta = timedelta(seconds=60)

    @cached_property  # read for every email composed
    def from_addr_spec(self) -> str:
        return parseaddr(self.from_address)[1].lower()

    @cached_property  # read for every email composed
    def from_name(self) -> str:
        return parseaddr(self.from_address)[0]

    @cached_property  # read for every email composed
    def domain(self) -> str:
        return self.from_addr_spec.rpartition("@")[2]


@dataclass(frozen=True)
class OutboxConfig:
    max_retry_interval: timedelta = timedelta(minutes=5)
    recipient_limit: int = 5
    recipient_limit_window: timedelta = timedelta(hours=1)


@dataclass(frozen=True)
class DatabaseConfig:
    url: str
    # Where the outbox notes the emails an SMTP server accepted until the database has them
    # (store/outbox.SentLog): beside a SQLite file, else in the state directory.
    sent_log: str = ""


@dataclass(frozen=True)
class StaffConfig:
    addresses: tuple[str, ...]
    default_owner: str
    assign: str = "default"
    names: tuple[tuple[str, str], ...] = ()  # (address, display name) where the config gives one
    verify: tuple[str, ...] = ("reply-token",)
    secret_file: Path | None = None
    authserv_id: str = ""
    escalation: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScheduleConfig:
    first_response_due: timedelta = timedelta(hours=24)
    step_reminder_before: timedelta = timedelta(hours=2)
    overdue_escalation_after: timedelta = timedelta(days=1)
    timezone: str = "UTC"
    business_hours: BusinessHours | None = None
    followup_after: timedelta = timedelta(days=2)
    checkin_after: timedelta = timedelta(days=7)
    send_window: BusinessHours | None = None  # scheduled customer emails wait for it


@dataclass(frozen=True)
class SatisfactionConfig:
    reopen_at_or_below: int = 2
    close_after: timedelta = timedelta(days=14)
    words: tuple[tuple[str, int], ...] = ()  # extra rating words; the built-in ones always count


EXTRA_WHEN = ("always", "on_request", "low_rating")


@dataclass(frozen=True)
class DiscountConfig:
    enabled: bool = False
    mode: str = "pool"
    codes_file: Path | None = None
    code: str = ""
    value: str = ""
    when: str = "always"


@dataclass(frozen=True)
class ApologyConfig:
    enabled: bool = False
    when: str = "always"


@dataclass(frozen=True)
class ExtrasConfig:
    discount: DiscountConfig = field(default_factory=DiscountConfig)
    apology: ApologyConfig = field(default_factory=ApologyConfig)


@dataclass(frozen=True)
class TemplatesConfig:
    directory: Path | None = None


@dataclass(frozen=True)
class LogConfig:
    level: str = "info"


@dataclass(frozen=True)
class Config:
    path: Path
    mailbox: MailboxConfig
    smtp: SmtpConfig
    outbox: OutboxConfig
    database: DatabaseConfig
    staff: StaffConfig
    schedule: ScheduleConfig
    templates: TemplatesConfig
    log: LogConfig = field(default_factory=LogConfig)
    satisfaction: SatisfactionConfig = field(default_factory=SatisfactionConfig)
    extras: ExtrasConfig = field(default_factory=ExtrasConfig)

    def secrets(self) -> list[str]:
        """Every secret value, for the log redactor."""
        out = [self.mailbox.password.reveal()]
        if self.smtp.password is not None:
            out.append(self.smtp.password.reveal())
        return [s for s in out if s]


# --- reading -----------------------------------------------------------------

_MISSING = object()
SECURITY = ("tls", "starttls", "none")
_DEFAULT_PORTS = {"mailbox": {"tls": 993, "starttls": 143, "none": 143},
                  "smtp": {"tls": 465, "starttls": 587, "none": 25}}


class _Section:
    """Reads one table of the file, remembering which keys were used."""

    def __init__(self, path: Path, name: str, table: Any, required: bool = True):
        self.path, self.name = path, name
        if table is _MISSING:
            if required:
                raise ConfigError(path, name, f"the section [{name}] is missing")
            table = {}
        if not isinstance(table, dict):
            raise ConfigError(path, name, f"expected a table [{name}], got {type(table).__name__}")
        self.table = table
        self.known: list[str] = []

    def key(self, key: str) -> str:
        return f"{self.name}.{key}"

    def get(self, key: str, kind: type | tuple, default: Any = _MISSING, check: Callable[[Any], str | None] | None = None) -> Any:
        self.known.append(key)
        if key not in self.table:
            if default is _MISSING:
                raise ConfigError(self.path, self.key(key), "is required but missing")
            return default
        value = self.table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool)):
            names = " or ".join(_type_name(k) for k in kinds)
            raise ConfigError(self.path, self.key(key), f"expected {names}, got {_shown(key, value)}")
        if check is not None and (problem := check(value)):
            raise ConfigError(self.path, self.key(key), problem)
        return value

    def string(self, key: str, default: Any = _MISSING, choices: tuple[str, ...] | None = None) -> Any:
        def check(v: str) -> str | None:
            if choices and v not in choices:
                return f"must be one of {', '.join(repr(c) for c in choices)}, got {v!r}"
            if not choices and not v.strip():
                return "must not be empty"
            return None
        return self.get(key, str, default, check)

    def duration(self, key: str, default: str | None) -> timedelta | None:
        text = self.get(key, str, _MISSING if default is None else default)
        try:
            value = parse_duration(text)
        except DurationError as exc:
            raise ConfigError(self.path, self.key(key), str(exc)) from None
        if value <= timedelta(0):
            raise ConfigError(self.path, self.key(key), "must be longer than zero")
        return value

    def port(self, default: int) -> int:
        return self.get("port", int, default, lambda v: None if 0 < v < 65536 else f"must be between 1 and 65535, got {v}")

    def address(self, key: str, default: Any = _MISSING) -> str:
        value = self.string(key, default)
        return _check_address(self.path, self.key(key), value)

    def addresses(self, key: str, default: Any) -> list[str]:
        """A list of email addresses, each checked, errors naming the item: ``staff.addresses[2]``."""
        values = self.get(key, list, default)
        for i, a in enumerate(values):
            if not isinstance(a, str):
                raise ConfigError(self.path, f"{self.key(key)}[{i}]", "expected a string")
            _check_address(self.path, f"{self.key(key)}[{i}]", a)
        return values

    def secret(self, key: str, required: bool) -> Secret | None:
        """``key``, ``key_file`` or ``key_env``, else a systemd credential named ``<section>_<key>``."""
        given = [k for k in (key, f"{key}_file", f"{key}_env") if k in self.table]
        self.known += [key, f"{key}_file", f"{key}_env"]
        if len(given) > 1:
            raise ConfigError(self.path, self.key(given[1]), f"give only one of {', '.join(given)}")
        if given == [key]:
            value = self.table[key]
            if not isinstance(value, str):
                raise ConfigError(self.path, self.key(key), "expected a string")
            return Secret(value)
        if given == [f"{key}_file"]:
            return Secret(_read_secret_file(self.path, self.key(f"{key}_file"), self.table[f"{key}_file"]))
        if given == [f"{key}_env"]:
            name = self.table[f"{key}_env"]
            if not isinstance(name, str) or name not in os.environ:
                raise ConfigError(self.path, self.key(f"{key}_env"), f"the environment variable {name!r} is not set")
            return Secret(os.environ[name])
        cred_dir = os.environ.get("CREDENTIALS_DIRECTORY")
        if cred_dir and (Path(cred_dir) / f"{self.name}_{key}").is_file():
            return Secret((Path(cred_dir) / f"{self.name}_{key}").read_text(encoding="utf-8").rstrip("\r\n"))
        if required:
            raise ConfigError(self.path, self.key(key),
                              f"is required: set {key}, {key}_file or {key}_env, or a systemd credential "
                              f"named {self.name}_{key}")
        return None

    def finish(self) -> None:
        for key in self.table:
            if key not in self.known:
                raise ConfigError(self.path, self.key(key), "unknown key" + _suggest(key, self.known))


def _type_name(kind: type) -> str:
    return {str: "a string", int: "a whole number", bool: "true or false", list: "a list", float: "a number"}.get(kind, kind.__name__)


def _shown(key: str, value: Any) -> str:
    if "password" in key or "secret" in key:
        return type(value).__name__
    return repr(value)


def _suggest(word: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_address(path: Path, key: str, value: str) -> str:
    name, addr = parseaddr(value)
    if "@" not in addr or addr.startswith("@") or addr.endswith("@") or " " in addr:
        raise ConfigError(path, key, f"{value!r} is not an email address")
    return value


def _read_secret_file(config_path: Path, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(config_path, key, "expected a file path")
    p = Path(value)
    if not p.is_absolute():
        p = config_path.parent / p
    try:
        return p.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ConfigError(config_path, key, f"cannot read {p}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(config_path, key, f"{p} is not UTF-8 text") from None


def config_warnings(config: "Config", raw: dict) -> list[str]:
    """What check-config should point out even though the file is valid."""
    out = secret_file_warnings(config.path, raw)
    if "from-header" in config.staff.verify:
        out.append(f"{config.path}: staff.verify: \"from-header\" trusts the From header alone, which anyone can "
                   "forge: a stranger could send commands and messages to customers as your staff")
    return out


def secret_file_warnings(cfg_path: Path, raw: dict) -> list[str]:
    """Warnings for password files that others can read (for check-config)."""
    out = []
    for section, key in (("mailbox", "password_file"), ("smtp", "password_file"), ("staff", "secret_file")):
        f = raw.get(section, {}).get(key) if isinstance(raw.get(section), dict) else None
        if isinstance(f, str):
            p = Path(f) if Path(f).is_absolute() else cfg_path.parent / f
            try:
                if p.stat().st_mode & stat.S_IRWXO:  # group-readable is how the service user reads it
                    out.append(f"{cfg_path}: {section}.{key}: {p} is readable by other users; chmod 600 it")
            except OSError:
                pass
    return out


_SECTIONS = ("mailbox", "smtp", "outbox", "database", "staff", "schedule", "templates", "log", "satisfaction", "extras")


def load_raw(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(path, "", "no such file (give --config PATH or set AFTERCARE_CONFIG)") from None
    except PermissionError:
        raise ConfigError(path, "", "permission denied") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "", f"not valid TOML: {exc}") from None


def load_config(path: str | os.PathLike) -> Config:
    """Read and check the whole file; raise ConfigError on the first problem."""
    path = Path(path).absolute()
    raw = load_raw(path)
    for key in raw:
        if key not in _SECTIONS:
            raise ConfigError(path, key, "unknown section" + _suggest(key, list(_SECTIONS)))

    s = _Section(path, "mailbox", raw.get("mailbox", _MISSING))
    security = s.string("security", "tls", SECURITY)
    mailbox = MailboxConfig(
        host=s.string("host"),
        port=s.port(_DEFAULT_PORTS["mailbox"][security]),
        security=security,
        username=s.string("username"),
        password=s.secret("password", required=True),
        folder=s.string("folder", "INBOX"),
        processed_folder=s.string("processed_folder", "Aftercare/Processed"),
        quarantine_folder=s.string("quarantine_folder", "Aftercare/Quarantine"),
        idle=s.get("idle", bool, True),
        poll_interval=s.duration("poll_interval", "60s"),
        timeout=s.duration("timeout", "60s"),
    )
    if mailbox.folder in (mailbox.processed_folder, mailbox.quarantine_folder):
        raise ConfigError(path, "mailbox.folder", "must differ from processed_folder and quarantine_folder")
    s.finish()

    s = _Section(path, "smtp", raw.get("smtp", _MISSING))
    security = s.string("security", "starttls", SECURITY)
    smtp = SmtpConfig(
        host=s.string("host"),
        port=s.port(_DEFAULT_PORTS["smtp"][security]),
        security=security,
        username=s.string("username", None),
        password=s.secret("password", required=False),
        from_address=s.address("from_address"),
        timeout=s.duration("timeout", "60s"),
    )
    if smtp.username and smtp.password is None:
        raise ConfigError(path, "smtp.password", "is required when smtp.username is set")
    s.finish()

    s = _Section(path, "outbox", raw.get("outbox", _MISSING), required=False)
    outbox = OutboxConfig(
        max_retry_interval=s.duration("max_retry_interval", "5m"),
        recipient_limit=s.get("recipient_limit", int, 5, lambda v: None if v > 0 else "must be at least 1"),
        recipient_limit_window=s.duration("recipient_limit_window", "1h"),
    )
    s.finish()

    s = _Section(path, "database", raw.get("database", _MISSING), required=False)
    url = _database_url(path, s.string("url", "sqlite:///aftercare.db"))
    sent_log = s.string("sent_log", "")
    if sent_log and not Path(sent_log).is_absolute():
        sent_log = str(_state_directory(path) / sent_log)
    database = DatabaseConfig(url=url, sent_log=sent_log or _sent_log_path(path, url))
    s.finish()

    s = _Section(path, "staff", raw.get("staff", _MISSING))
    addresses = s.addresses("addresses", _MISSING)
    if not addresses:
        raise ConfigError(path, "staff.addresses", "must list at least one address")
    names = tuple((parseaddr(a)[1].lower(), parseaddr(a)[0]) for a in addresses if parseaddr(a)[0])
    addresses = tuple(parseaddr(a)[1].lower() for a in addresses)
    default_owner = parseaddr(s.address("default_owner", addresses[0]))[1].lower()
    if default_owner not in addresses:
        raise ConfigError(path, "staff.default_owner", f"{default_owner!r} is not one of staff.addresses")
    verify = s.get("verify", list, ["reply-token"], lambda v: None if v else "must name at least one method")
    for i, method in enumerate(verify):
        if method not in VERIFY_METHODS:
            raise ConfigError(path, f"staff.verify[{i}]", f"must be one of {', '.join(map(repr, VERIFY_METHODS))}, "
                                                         f"got {method!r}" + _suggest(str(method), list(VERIFY_METHODS)))
    secret_file = s.string("secret_file", None)
    if secret_file is not None:
        secret_file = Path(secret_file) if Path(secret_file).is_absolute() else path.parent / secret_file
    authserv_id = s.string("authserv_id", "")
    if "authentication-results" in verify and not authserv_id:
        raise ConfigError(path, "staff.authserv_id", "is required when staff.verify has \"authentication-results\": "
                                                     "the authserv-id your own mail server writes")
    escalation = s.addresses("escalation", [])
    staff = StaffConfig(addresses=addresses, default_owner=default_owner,
                        assign=s.string("assign", "default", ("default", "round-robin")), names=names,
                        verify=tuple(verify), secret_file=secret_file, authserv_id=authserv_id,
                        escalation=tuple(parseaddr(a)[1].lower() for a in escalation))
    s.finish()

    raw_schedule = raw.get("schedule", _MISSING)
    hours_table = raw_schedule.pop("business_hours", _MISSING) if isinstance(raw_schedule, dict) else _MISSING
    s = _Section(path, "schedule", raw_schedule, required=False)
    timezone = s.string("timezone", "UTC")
    _zone(path, "schedule.timezone", timezone)
    schedule = ScheduleConfig(
        first_response_due=s.duration("first_response_due", "24h"),
        step_reminder_before=s.duration("step_reminder_before", "2h"),
        overdue_escalation_after=s.duration("overdue_escalation_after", "1d"),
        timezone=timezone,
        business_hours=_business_hours(path, hours_table, timezone) if hours_table is not _MISSING else None,
        followup_after=s.duration("followup_after", "2d"),
        checkin_after=s.duration("checkin_after", "7d"),
        send_window=_send_window(path, s.string("send_window", None), timezone),
    )
    s.finish()
    if schedule.checkin_after <= schedule.followup_after:
        raise ConfigError(path, "schedule.checkin_after", "must be later than schedule.followup_after")

    raw_sat = raw.get("satisfaction", _MISSING)
    words_table = raw_sat.pop("words", _MISSING) if isinstance(raw_sat, dict) else _MISSING
    s = _Section(path, "satisfaction", raw_sat, required=False)
    satisfaction = SatisfactionConfig(
        reopen_at_or_below=s.get("reopen_at_or_below", int, 2,
                                 lambda v: None if 0 <= v <= 5 else "must be between 0 and 5"),
        close_after=s.duration("close_after", "14d"),
        words=_rating_words(path, words_table),
    )
    s.finish()

    raw_extras = raw.get("extras", _MISSING)
    extras = _extras(path, raw_extras if raw_extras is not _MISSING else {})

    s = _Section(path, "templates", raw.get("templates", _MISSING), required=False)
    directory = s.string("directory", None)
    if directory is not None:
        directory = Path(directory) if Path(directory).is_absolute() else path.parent / directory
        if not directory.is_dir():
            raise ConfigError(path, "templates.directory", f"{directory} is not a directory")
    templates = TemplatesConfig(directory=directory)
    s.finish()

    s = _Section(path, "log", raw.get("log", _MISSING), required=False)
    log = LogConfig(level=s.string("level", "info", ("debug", "info", "warning", "error")))
    s.finish()

    if smtp.from_addr_spec in staff.addresses:
        raise ConfigError(path, "smtp.from_address", "must not be one of staff.addresses (mail would loop)")
    return Config(path=path, mailbox=mailbox, smtp=smtp, outbox=outbox, database=database,
                  staff=staff, schedule=schedule, templates=templates, log=log, satisfaction=satisfaction,
                  extras=extras)


VERIFY_METHODS = ("reply-token", "authentication-results", "from-header")


def _send_window(path: Path, text: str | None, zone_name: str) -> BusinessHours | None:
    """``"Mon-Fri 09:00-18:00"`` in schedule.timezone; None (any time) when unset."""
    if text is None:
        return None
    key = "schedule.send_window"
    parts = text.split()
    if len(parts) != 2 or parts[1].count("-") != 1:
        raise ConfigError(path, key, f"{text!r}: write days and hours, e.g. \"Mon-Fri 09:00-18:00\"")
    try:
        days = parse_days(parts[0])
        start, end = (parse_clock(t) for t in parts[1].split("-"))
    except ValueError as exc:
        raise ConfigError(path, key, f"{text!r}: {exc}") from None
    if start >= end:
        raise ConfigError(path, key, f"{text!r}: the window must end after it starts")
    return BusinessHours(days=days, start=start, end=end, timezone=_zone(path, "schedule.timezone", zone_name))


def _rating_words(path: Path, table: Any) -> tuple[tuple[str, int], ...]:
    if table is _MISSING:
        return ()
    if not isinstance(table, dict):
        raise ConfigError(path, "satisfaction.words", "expected a table such as: excellent = 5")
    out = []
    for word, score in table.items():
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            raise ConfigError(path, f"satisfaction.words.{word}", "must be a whole number from 1 to 5")
        out.append((word.strip().lower(), score))
    return tuple(out)


def _extras(path: Path, table: Any) -> ExtrasConfig:
    if not isinstance(table, dict):
        raise ConfigError(path, "extras", "expected tables [extras.discount] and [extras.apology]")
    for key in table:
        if key not in ("discount", "apology"):
            raise ConfigError(path, f"extras.{key}", "unknown table" + _suggest(key, ["discount", "apology"]))
    s = _Section(path, "extras.discount", table.get("discount", _MISSING), required=False)
    codes_file = s.string("codes_file", None)
    if codes_file is not None:
        codes_file = Path(codes_file) if Path(codes_file).is_absolute() else path.parent / codes_file
    discount = DiscountConfig(
        enabled=s.get("enabled", bool, False),
        mode=s.string("mode", "pool", ("pool", "static")),
        codes_file=codes_file,
        code=s.get("code", str, ""),
        value=s.get("value", str, ""),
        when=s.string("when", "always", EXTRA_WHEN),
    )
    s.finish()
    if discount.enabled and discount.mode == "pool" and discount.codes_file is None:
        raise ConfigError(path, "extras.discount.codes_file", "is required with mode = \"pool\"")
    if discount.enabled and discount.mode == "pool" and not discount.codes_file.is_file():
        raise ConfigError(path, "extras.discount.codes_file", f"{discount.codes_file} does not exist")
    if discount.enabled and discount.mode == "static" and not discount.code.strip():
        raise ConfigError(path, "extras.discount.code", "is required with mode = \"static\"")
    s = _Section(path, "extras.apology", table.get("apology", _MISSING), required=False)
    apology = ApologyConfig(enabled=s.get("enabled", bool, False), when=s.string("when", "always", EXTRA_WHEN))
    s.finish()
    return ExtrasConfig(discount=discount, apology=apology)


def _zone(path: Path, key: str, name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(path, key, f"{name!r} is not a timezone; write e.g. \"Europe/Berlin\" or \"UTC\"") from None


def _business_hours(path: Path, table: Any, default_zone: str) -> BusinessHours:
    s = _Section(path, "schedule.business_hours", table)
    try:
        days = parse_days(s.string("days", "Mon-Fri"))
    except ValueError as exc:
        raise ConfigError(path, "schedule.business_hours.days", str(exc)) from None
    clock = {}
    for key, default in (("start", "09:00"), ("end", "17:00")):
        try:
            clock[key] = parse_clock(s.string(key, default))
        except ValueError as exc:
            raise ConfigError(path, f"schedule.business_hours.{key}", str(exc)) from None
    if clock["start"] >= clock["end"]:
        raise ConfigError(path, "schedule.business_hours.end", "must be later than start")
    zone_name = s.string("timezone", default_zone)
    zone = _zone(path, "schedule.business_hours.timezone", zone_name)
    holidays = []
    for i, h in enumerate(s.get("holidays", list, [])):
        try:
            holidays.append(h if isinstance(h, date) else date.fromisoformat(str(h)))
        except ValueError:
            raise ConfigError(path, f"schedule.business_hours.holidays[{i}]", f"{h!r} is not a date (YYYY-MM-DD)") from None
    s.finish()
    return BusinessHours(days=days, start=clock["start"], end=clock["end"], timezone=zone,
                         holidays=frozenset(holidays))


def _database_url(config_path: Path, url: str) -> str:
    """A relative SQLite path lives in systemd's $STATE_DIRECTORY when there is one, else beside the config."""
    if url.startswith("sqlite:///"):
        rest = url[len("sqlite:///"):]
        if rest and rest != ":memory:" and not rest.startswith("/"):
            return "sqlite:///" + str(_state_directory(config_path) / rest)
        return url
    if url.startswith(("postgresql://", "postgres://")):
        return url
    raise ConfigError(config_path, "database.url", f"must start with sqlite:/// or postgresql://, got {url!r}")


def _state_directory(config_path: Path) -> Path:
    """systemd's $STATE_DIRECTORY when there is one, else the configuration's folder."""
    if os.environ.get("STATE_DIRECTORY"):
        return Path(os.environ["STATE_DIRECTORY"].split(":")[0])
    return config_path.parent


def _sent_log_path(config_path: Path, url: str) -> str:
    """The outbox's side log of accepted emails: ``<file>-sent`` beside SQLite, else in the state directory."""
    if url.startswith("sqlite:///"):
        rest = url[len("sqlite:///"):]
        return "" if rest in ("", ":memory:") or rest.startswith("file::memory:") else rest + "-sent"
    return str(_state_directory(config_path) / "aftercare-sent.db")


def config_path_from(arg: str | None) -> Path:
    return Path(arg or os.environ.get("AFTERCARE_CONFIG") or DEFAULT_CONFIG_PATH)

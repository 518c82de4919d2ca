"""The operator's TOML file, checked once and turned into frozen values.

Each key of the file is a field of one of the dataclasses below, and only there: its TOML type, its
default (the one config.example.toml shows), its check and its meaning (the helpers are in
config_schema.py, what some values mean in config_values.py). ``load_config`` and ``check-config`` read
the file from them; tests/unit/test_config_example.py holds config.example.toml to them. Every mistake
is reported with the file, the dotted key and the reason, so an operator can fix it without reading code.
Passwords are wrapped in ``Secret`` so that no repr, log line or error message can ever show them.
"""
from __future__ import annotations

import dataclasses
import os
import stat
import tomllib
from dataclasses import dataclass
from datetime import date, time, timedelta
from email.utils import parseaddr
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from . import config_values as values
from .cases.calendar import BusinessHours
from .config_schema import (ENTRY_NAME, REQUIRED, ConfigError, Derived, Scope, Secret, address, address_list, computed,
                            byte_size, duration, flag, key, port_number, read_table, relative_path, schema_keys,
                            secret, table, table_list, text, whole, word_list, optional_duration)
from .cases.attachments import BLOCKED_ATTACHMENT_TYPES, attachment_type_problem as _attachment_type_problem
from .config_values import VERIFY_METHODS
from .mail.imap import ImapSettings
from .mail.oauth2 import PROVIDERS, OAuth2Settings
from .mail.smtp import SmtpSettings

DEFAULT_CONFIG_PATH = "/etc/aftercare/config.toml"
SECURITY = ("tls", "starttls", "none")
EXTRA_WHEN = ("always", "on_request", "low_rating")
AUTH = ("password", "oauth2")
OAUTH2_PROVIDERS = ("microsoft", "google", "custom")
OAUTH2_FLOWS = ("refresh_token", "client_credentials")
OAUTH2_MECHANISMS = ("XOAUTH2", "OAUTHBEARER")
_PORTS = {"mailbox": {"tls": 993, "starttls": 143, "none": 143}, "smtp": {"tls": 465, "starttls": 587, "none": 25}}


@dataclass(frozen=True, kw_only=True)
class OAuth2Config:
    """[mailbox.oauth2] and [smtp.oauth2]: an OAuth2 client and its grant (Microsoft 365, Google, or another)."""

    provider: str = text(doc="whose token endpoint", choices=OAUTH2_PROVIDERS)
    tenant: str | None = text(None, 'microsoft only: your tenant ("contoso.onmicrosoft.com" or its id); '
                                    'default "organizations" (required for client_credentials)')
    client_id: str = text(doc="the app registration's (OAuth client's) id")
    client_secret: Secret | None = secret(required=False, doc="absent for a public client")
    client_secret_path: Path | None = computed(values.secret_file_path("client_secret"), default=None)
    flow: str = text("refresh_token", 'delegated access with a refresh token, or "client_credentials" '
                                      "(Microsoft app-only)", choices=OAUTH2_FLOWS)
    refresh_token_file: Path | None = relative_path("the first refresh token (aftercare oauth2 authorize writes it)",
                                                    secret_file=True)
    token_url: str | None = text(None, 'required for "custom"; overrides the provider\'s endpoint otherwise')
    scope: str | None = text(None, "default: the provider's IMAP and SMTP scopes")
    mechanism: str = text("XOAUTH2", choices=OAUTH2_MECHANISMS)
    authorize_url: str | None = text(None, "for aftercare oauth2 authorize: overrides the provider's")
    device_authorization_url: str | None = text(None, "for aftercare oauth2 authorize: overrides the provider's")
    token_store: str = text("", "where rotated refresh tokens are kept (mode 0600); default: "
                                "aftercare-oauth2-<mailbox|smtp>.json in the state directory",
                            may_be_empty=True, resolve=values.token_store)

    def conflict(self) -> tuple[str, str] | None:
        for attr in ("token_url", "authorize_url", "device_authorization_url"):
            url = getattr(self, attr)
            if url is not None and (problem := values.endpoint_url_problem(url)):
                return attr, problem
        if self.provider == "custom" and not self.token_url:
            return "token_url", 'is required for provider = "custom"'
        if self.tenant is not None and self.provider != "microsoft":
            return "tenant", 'is only for provider = "microsoft"'
        if self.flow == "client_credentials":
            if self.provider == "google":
                return "flow", '"client_credentials" is Microsoft\'s app-only access; Google has none for mail'
            if self.client_secret is None:
                return "client_secret", 'is required for flow = "client_credentials": set client_secret, ' \
                                        "client_secret_file or client_secret_env"
            if self.provider == "microsoft" and self.tenant is None:
                return "tenant", 'is required for flow = "client_credentials" (app-only access is per tenant)'
        elif self.refresh_token_file is None:
            return "refresh_token_file", 'is required for flow = "refresh_token" (aftercare oauth2 authorize ' \
                                         "writes the file)"
        return None

    @cached_property
    def settings(self) -> OAuth2Settings:
        """What the token edge needs: the provider's endpoints and scopes filled in."""
        provider = PROVIDERS.get(self.provider)
        tenant = self.tenant or "organizations"
        fill = (lambda url: url.replace("{tenant}", tenant) if url else None)
        token_url = self.token_url or fill(provider.token_url)
        if self.scope is not None:
            scope = self.scope
        elif provider is None:
            scope = ""
        else:
            scope = provider.app_scope if self.flow == "client_credentials" else provider.scope
        device = self.device_authorization_url or (fill(provider.device_authorization_url) if provider else None)
        if self.provider == "microsoft" and self.token_url and not self.device_authorization_url:
            device = self.token_url.rsplit("/", 1)[0] + "/devicecode"  # Microsoft's endpoints sit side by side
        return OAuth2Settings(
            provider=self.provider, token_url=token_url, client_id=self.client_id, client_secret=self.client_secret,
            client_secret_file=self.client_secret_path, flow=self.flow, scope=scope or "",
            mechanism=self.mechanism, refresh_token_file=self.refresh_token_file,
            token_store=Path(self.token_store) if self.token_store else None,
            authorize_url=self.authorize_url or (fill(provider.authorize_url) if provider else None),
            device_authorization_url=device)


@dataclass(frozen=True, kw_only=True)
class MailboxConfig:
    """[mailbox]: the support mailbox Aftercare watches (IMAP)."""

    name: str = key(str, "default", "a short stable name: letters, digits, - and _",
                    check=lambda v: None if ENTRY_NAME.fullmatch(v) else "must be letters, digits, - and _ (at most 64)")
    address: str | None = address(None, "From of every email about its cases; replies come back here; "
                                        "default for [mailbox]: smtp.from_address")
    host: str = text(doc="the IMAP server")
    port: int = port_number(Derived('993 for "tls", 143 for "starttls" and "none"',
                                    lambda s: _PORTS["mailbox"][s.given["security"]]))
    security: str = text("tls", '"none" only on loopback', choices=SECURITY)
    username: str = text(doc="the IMAP login")
    auth: str = text("password", 'or "oauth2" (Microsoft 365, Google): see [mailbox.oauth2]', choices=AUTH)
    password: Secret | None = secret(required=False, doc='required with auth = "password"')
    oauth2: OAuth2Config | None = table(OAuth2Config, 'required with auth = "oauth2"', absent="none")
    folder: str = text("INBOX", "where complaints arrive")
    processed_folder: str = text("Aftercare/Processed", "each message moves here once recorded (created if missing)")
    quarantine_folder: str = text("Aftercare/Quarantine", "messages that failed 3 times, for a person to read")
    idle: bool = flag(True, "use IMAP IDLE when the server offers it")
    poll_interval: timedelta = duration("60s", "how often to scan without IDLE, and the full rescan with it")
    timeout: timedelta = duration("60s", "socket timeout for every IMAP operation")
    templates: Path | None = relative_path("this mailbox's templates, searched before [templates] directory",
                                           resolve=values.directory)
    staff: dict | None = key(dict, None, "overrides [staff] (addresses, default_owner, assign, escalation) for "
                                         "this mailbox's cases")
    smtp: dict | None = key(dict, None, "overrides [smtp] (host, auth, ...) for this mailbox's emails")

    def conflict(self) -> tuple[str, str] | None:
        if self.auth == "password" and self.password is None:
            return "password", ("is required: set password, password_file or password_env, or a systemd "
                                'credential named mailbox_password (or use auth = "oauth2")')
        if self.auth == "oauth2" and self.oauth2 is None:
            return "oauth2", 'the table [mailbox.oauth2] is required with auth = "oauth2"'
        if self.folder in (self.processed_folder, self.quarantine_folder):
            return "folder", "must differ from processed_folder and quarantine_folder"
        return None

    @cached_property
    def imap(self) -> ImapSettings:
        """What the IMAP edge needs, in its own type: mail/ knows nothing of the configuration."""
        return ImapSettings(host=self.host, port=self.port, security=self.security, username=self.username,
                            password=self.password, timeout=self.timeout, folder=self.folder,
                            processed_folder=self.processed_folder, quarantine_folder=self.quarantine_folder,
                            auth=self.auth, mechanism=self.oauth2.mechanism if self.oauth2 else "XOAUTH2")


@dataclass(frozen=True, kw_only=True)
class SmtpConfig:
    """[smtp]: where Aftercare sends its emails."""

    host: str = text(doc="the SMTP server")
    port: int = port_number(Derived('465 for "tls", 587 for "starttls", 25 for "none"',
                                    lambda s: _PORTS["smtp"][s.given["security"]]))
    security: str = text("starttls", choices=SECURITY)
    username: str | None = text(None, 'when set, a password is required; with oauth2, default: mailbox.username')
    auth: str = text("password", '"oauth2": log in with a token from [smtp.oauth2], else [mailbox.oauth2]',
                     choices=AUTH)
    password: Secret | None = secret(required=False)
    oauth2: OAuth2Config | None = table(OAuth2Config, "another grant for SMTP than the mailbox's", absent="none")
    from_address: str | None = address(None, "the support address customers see and reply to; each "
                                             "[[mailboxes]] has its own address", required_when="with [mailbox]")
    timeout: timedelta = duration("60s", "socket timeout for every SMTP operation")

    def conflict(self) -> tuple[str, str] | None:
        if self.auth == "password" and self.username and self.password is None:
            return "password", "is required when smtp.username is set"
        return None

    @cached_property
    def sending(self) -> SmtpSettings:
        """What the SMTP edge needs, in its own type (with oauth2, ``Config.smtp_sending`` fills in the rest)."""
        return SmtpSettings(host=self.host, port=self.port, security=self.security, username=self.username,
                            password=self.password, timeout=self.timeout, auth=self.auth,
                            mechanism=self.oauth2.mechanism if self.oauth2 else "XOAUTH2")

    @cached_property  # read for every email composed
    def from_addr_spec(self) -> str:
        return parseaddr(self.from_address)[1].lower()

    @cached_property  # read for every email composed
    def from_name(self) -> str:
        return parseaddr(self.from_address)[0]

    @cached_property  # read for every email composed
    def domain(self) -> str:
        return self.from_addr_spec.rpartition("@")[2]


@dataclass(frozen=True, kw_only=True)
class OutboxConfig:
    """[outbox]: sending, retries, and the limit that stops a loop with an autoresponder."""

    max_retry_interval: timedelta = duration("5m", "cap of the exponential backoff for temporary SMTP failures")
    recipient_limit: int = whole(5, "automatic answers to incoming mail to one outside address per window, at most",
                                 check=lambda v: None if v > 0 else "must be at least 1")
    recipient_limit_window: timedelta = duration("1h", "the window of recipient_limit")
    max_attachments_size: int = byte_size("20MB", "one email's attachments together, at most; over it the largest "
                                                  "are left out and the email says which")
    blocked_attachment_types: tuple[str, ...] = word_list(
        list(BLOCKED_ATTACHMENT_TYPES), 'never relayed to a customer: file extensions (".exe") or content types '
        '("application/x-msdownload")', check_item=_attachment_type_problem)


@dataclass(frozen=True, kw_only=True)
class DatabaseConfig:
    """[database]: SQLite or PostgreSQL."""

    url: str = text("sqlite:///aftercare.db", "a relative SQLite path is relative to the state directory",
                    resolve=values.database_url)
    # Where the outbox notes the emails an SMTP server accepted until the database has them (store/outbox.SentLog).
    sent_log: str = text("", 'empty: "<file>-sent" beside a SQLite file, else aftercare-sent.db in the state '
                             "directory; a relative path is relative to the state directory", resolve=values.sent_log)


@dataclass(frozen=True, kw_only=True)
class StaffConfig:
    """[staff]: who the support staff are, and how their mail is proven to be theirs."""

    addresses: tuple[str, ...] = address_list(REQUIRED, 'mail from these is staff mail; "Name <address>" gives a name',
                                              check=lambda v: None if v else "must list at least one address")
    default_owner: str = address(Derived("the first address", lambda s: s.given["addresses"][0]),
                                 "who gets new cases", parse=values.addr_spec)
    assign: str = text("default", '"default": every case to default_owner; "round-robin": in turn',
                       choices=("default", "round-robin"))
    names: tuple[tuple[str, str], ...] = computed(  # (address, display name) where the config gives one
        lambda s: tuple((values.addr_spec(a), parseaddr(a)[0]) for a in s.given["addresses"] if parseaddr(a)[0]),
        default=())
    verify: tuple[str, ...] = key(list, ["reply-token"], "how staff mail is proven to come from staff (any one)",
                                  check=lambda v: None if v else "must name at least one method",
                                  parse=values.verify_methods)
    secret_file: Path | None = relative_path("the key behind reply tokens; unset: generated once, kept in the database",
                                             secret_file=True)
    authserv_id: str = text("", 'the authserv-id your own mail server writes (for "authentication-results")')
    escalation: tuple[str, ...] = address_list([], "who hears of a missed promise besides the owner; "
                                                   "empty: the default owner")
    language: str = key(str, "en", "the language of emails to staff: an ISO 639-1 code",
                        check=values.language_problem, parse=values.language_code)

    def conflict(self) -> tuple[str, str] | None:
        if self.default_owner not in self.addresses:
            return "default_owner", f"{self.default_owner!r} is not one of staff.addresses"
        if "authentication-results" in self.verify and not self.authserv_id:
            return "authserv_id", ('is required when staff.verify has "authentication-results": '
                                   "the authserv-id your own mail server writes")
        return None


@dataclass(frozen=True, kw_only=True)
class BusinessHoursKeys:
    """[schedule.business_hours], as written; the schedule keeps it as a calendar.BusinessHours."""

    days: frozenset[int] = text("Mon-Fri", 'or "Sun-Thu", "Mon,Tue,Thu"', parse=values.days)
    start: time = text("09:00", parse=values.clock)
    end: time = text("17:00", parse=values.clock)
    timezone: ZoneInfo = text(Derived("schedule.timezone", lambda s: s.parent.given["timezone"]), parse=values.zone)
    holidays: frozenset[date] = key(list, [], "dates (YYYY-MM-DD) that are no working days", parse=values.holidays)

    def conflict(self) -> tuple[str, str] | None:
        return ("end", "must be later than start") if self.start >= self.end else None


@dataclass(frozen=True, kw_only=True)
class ScheduleConfig:
    """[schedule]: the promises and when each reminder, escalation and after-care email falls due."""

    first_response_due: timedelta = duration("24h", "the promise in the acknowledgment; no staff reply by then: "
                                                    "escalated")
    urgent_first_response_due: timedelta = duration("2h", "the promise for an urgent case (an angry or abusive "
                                                          "message, or a repeated complaint); the shorter of the "
                                                          "two applies")
    step_reminder_before: timedelta = duration("2h", "remind the owner this long before a plan step falls due",
                                               zero_means="remind only when the step falls due (as overdue)")
    overdue_escalation_after: timedelta = duration("1d", "escalate a step still open this long after its date")
    timezone: str = text("UTC", "the timezone of dates that staff type and that customers read",
                         parse=values.zone_name)
    business_hours: BusinessHours | None = table(BusinessHoursKeys, "reminders and escalations wait for them",
                                                 absent="none", resolve=values.business_hours)
    followup_after: timedelta = duration("2d", "after resolution: is everything working as promised?")
    checkin_after: timedelta = duration("7d", "after resolution: the satisfaction check-in asking for a rating")
    send_window: BusinessHours | None = text(None, '"Mon-Fri 09:00-18:00": scheduled customer emails wait for it',
                                             resolve=values.send_window)

    def conflict(self) -> tuple[str, str] | None:
        if self.checkin_after <= self.followup_after:
            return "checkin_after", "must be later than schedule.followup_after"
        return None


@dataclass(frozen=True, kw_only=True)
class CustomerConfig:
    """[customer]: how customers are written to."""

    default_language: str = key(str, "en", "an ISO 639-1 code: customer emails go in it when a complaint's "
                                           "language cannot be told or there are no templates in it",
                                check=values.language_problem, parse=values.language_code)


@dataclass(frozen=True, kw_only=True)
class ToneConfig:
    """[tone]: how upset a customer's message reads (calm, upset, angry, abusive), and the words to add."""

    enabled: bool = flag(True, "read the tone of customers' messages; false: none read, every case normal priority")
    words: tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...] = key(
        dict, {}, "extra words per language and level: de = { abusive = [...], angry = [...], upset = [...] }",
        parse=values.tone_words, wrong_type='expected tables such as [tone.words.de] with abusive, angry or upset '
                                            'lists of words')

    @property
    def extra_words(self) -> dict[str, dict[str, tuple[str, ...]]]:
        """``words`` as cases/tone.assess takes them: language -> level -> words."""
        return {lang: dict(levels) for lang, levels in self.words}


@dataclass(frozen=True, kw_only=True)
class SatisfactionConfig:
    """[satisfaction]: the rating a customer gives by reply."""

    reopen_at_or_below: int = whole(2, "a rating at or below this reopens the case",
                                    check=lambda v: None if 0 <= v <= 5 else "must be between 0 and 5")
    close_after: timedelta = duration("14d", "no rating within this long after the check-in: the case is closed")
    words: tuple[tuple[str, int], ...] = key(dict, {}, "extra rating words (word = 1 to 5); the built-in ones "
                                                       "always count", parse=values.rating_words,
                                             wrong_type="expected a table such as: excellent = 5")


@dataclass(frozen=True, kw_only=True)
class DiscountConfig:
    """[extras.discount]: a discount code in the check-in."""

    enabled: bool = flag(False)
    mode: str = text("pool", '"pool": one code per case from codes_file; "static": the same code for all',
                     choices=("pool", "static"))
    codes_file: Path | None = relative_path("one code per line; each code goes to one case, ever")
    code: str = text("", 'the code for mode = "static"', may_be_empty=True)
    value: str = text("", 'shown to the customer: "15% off your next order"', may_be_empty=True)
    when: str = text("always", "which emails carry it", choices=EXTRA_WHEN)

    def conflict(self) -> tuple[str, str] | None:
        if self.enabled and self.mode == "pool" and self.codes_file is None:
            return "codes_file", 'is required with mode = "pool"'
        if self.enabled and self.mode == "pool" and not self.codes_file.is_file():
            return "codes_file", f"{self.codes_file} does not exist"
        if self.enabled and self.mode == "static" and not self.code.strip():
            return "code", 'is required with mode = "static"'
        return None


@dataclass(frozen=True, kw_only=True)
class ApologyConfig:
    """[extras.apology]: a personal apology from the owner in the check-in."""

    enabled: bool = flag(False)
    when: str = text("always", "which emails carry it", choices=EXTRA_WHEN)


@dataclass(frozen=True, kw_only=True)
class ExtrasConfig:
    discount: DiscountConfig = table(DiscountConfig)
    apology: ApologyConfig = table(ApologyConfig)


@dataclass(frozen=True, kw_only=True)
class TemplatesConfig:
    directory: Path | None = relative_path("your own templates, searched before the bundled ones",
                                           resolve=values.directory)


@dataclass(frozen=True, kw_only=True)
class LogConfig:
    level: str = text("info", choices=("debug", "info", "warning", "error"))


@dataclass(frozen=True, kw_only=True)
class RetentionConfig:
    """[retention]: how long closed cases keep what was written; a daily pass removes the rest, in small batches."""

    message_bodies: timedelta | None = optional_duration(
        "365d", "texts, attachments and raw originals of cases closed longer ago than this are removed; the case "
                "rows (times, counts, ratings, causes) stay for the report; \"\": kept for ever")
    closed_cases: timedelta | None = optional_duration(
        "", "cases closed longer ago than this are deleted whole (the report no longer counts them); \"\": kept")


@dataclass(frozen=True, kw_only=True)
class MetricsConfig:
    """[metrics]: the Prometheus endpoint, read at the next start (not at a reload)."""

    listen: str = key(str, "", 'host:port to serve Prometheus metrics on: "127.0.0.1:9464", "[::1]:9464"; '
                               "empty: no endpoint", check=values.listen_problem)

    @property
    def address(self) -> tuple[str, int] | None:
        """(host, port) to listen on, or None: no endpoint."""
        return values.listen_address(self.listen) if self.listen else None


@dataclass(frozen=True, kw_only=True)
class LmtpConfig:
    """[lmtp]: mail the mail server delivers to the daemon itself (Postfix's lmtp), read at the next start."""

    listen: str = key(str, "", 'where the mail server delivers by LMTP: "127.0.0.1:10024", "[::1]:10024" or '
                               '"unix:/run/aftercare/lmtp.sock"; empty: no LMTP intake', check=values.lmtp_listen_problem)
    max_message_size: int = byte_size("50MB", "one delivered message, at most; a larger one is refused with 552 "
                                              "(and SIZE is announced, so the mail server bounces it first)")
    database_wait: timedelta = duration("10s", "how long one delivery waits for a busy database before it is "
                                               "answered 451 (the mail server keeps it and tries again)")

    @property
    def address(self) -> tuple[str, int] | str | None:
        """(host, port), a Unix socket's path, or None: no LMTP intake."""
        return values.lmtp_address(self.listen) if self.listen else None


@dataclass(frozen=True, kw_only=True)
class Config:
    """The whole file; its sections are read in this order."""

    path: Path = computed(lambda s: s.file)
    mailbox: MailboxConfig | None = table(MailboxConfig, "one mailbox, named default", absent="none")
    mailboxes: tuple[MailboxConfig, ...] = table_list(MailboxConfig, "several mailboxes, each with its address")
    smtp: SmtpConfig = table(SmtpConfig, absent="required")
    customer: CustomerConfig = table(CustomerConfig)
    outbox: OutboxConfig = table(OutboxConfig)
    database: DatabaseConfig = table(DatabaseConfig)
    staff: StaffConfig = table(StaffConfig, absent="required")
    schedule: ScheduleConfig = table(ScheduleConfig)
    satisfaction: SatisfactionConfig = table(SatisfactionConfig)
    tone: ToneConfig = table(ToneConfig)
    extras: ExtrasConfig = table(ExtrasConfig)
    templates: TemplatesConfig = table(TemplatesConfig)
    log: LogConfig = table(LogConfig)
    metrics: MetricsConfig = table(MetricsConfig)
    lmtp: LmtpConfig = table(LmtpConfig)
    retention: RetentionConfig = table(RetentionConfig)
    inboxes: tuple[Inbox, ...] = computed(lambda s: build_inboxes(s), default=())

    def conflict(self) -> tuple[str, str] | None:
        for inbox in self.inboxes:
            if problem := inbox.conflict():
                return problem
        return None

    @property
    def default_inbox(self) -> Inbox:
        """The first mailbox: what emails that belong to no mailbox (an operator's alert) go by."""
        return self.inboxes[0]

    def inbox(self, name: str | None) -> Inbox | None:
        return next((i for i in self.inboxes if i.name == name), None)

    def inbox_for(self, name: str | None, address: str = "") -> Inbox:
        """The mailbox a case or an email belongs to; a mailbox removed from the file is stood in for by
        one with its stored address, the [smtp] server and the [staff] (its open cases go on being worked)."""
        found = self.inbox(name)
        if found is not None:
            return found
        if not name or not address:
            return self.default_inbox
        smtp = dataclasses.replace(self.smtp, from_address=address)
        return Inbox(name, f"(removed mailbox {name})", self.default_inbox.mailbox, smtp, self.staff, None)

    # The single-mailbox view of the configuration, as the first mailbox has it.
    @property
    def imap_oauth2(self) -> OAuth2Settings | None:
        return self.default_inbox.imap_oauth2

    @property
    def smtp_oauth2(self) -> OAuth2Settings | None:
        return self.default_inbox.smtp_oauth2

    @property
    def smtp_sending(self) -> SmtpSettings:
        return self.default_inbox.smtp_sending

    def secrets(self) -> list[str]:
        """Every secret value, for the log redactor."""
        out = []
        for inbox in self.inboxes:
            out += [s.reveal() for s in (inbox.mailbox.password, inbox.smtp.password) if s is not None]
            for table in (inbox.mailbox.oauth2, inbox.smtp.oauth2):
                if table is None:
                    continue
                if table.client_secret is not None:
                    out.append(table.client_secret.reveal())
                for p in (table.client_secret_path, table.refresh_token_file):
                    try:
                        out.extend(p.read_text(encoding="utf-8").split() if p else [])
                    except (OSError, UnicodeDecodeError):
                        pass
        return [s for s in dict.fromkeys(out) if s]


@dataclass(frozen=True)
class Inbox:
    """One watched mailbox as the daemon works it: where mail comes in, the address every email about its
    cases goes From (and replies come back to), its SMTP server, its staff and its templates. Built from
    [mailbox] with [smtp] and [staff], or from one [[mailboxes]] with its own tables over those."""

    name: str
    key: str  # how errors name its table: "mailbox" or "mailboxes.billing"
    mailbox: MailboxConfig
    smtp: SmtpConfig  # [smtp] with [mailboxes.smtp] over it; from_address is the mailbox's address
    staff: StaffConfig  # [staff] with [mailboxes.staff] over it
    templates: Path | None

    @property
    def address(self) -> str:
        return self.smtp.from_address

    @property
    def imap(self) -> ImapSettings:
        return self.mailbox.imap

    @property
    def imap_oauth2(self) -> OAuth2Settings | None:
        return self.mailbox.oauth2.settings if self.mailbox.auth == "oauth2" and self.mailbox.oauth2 else None

    @property
    def smtp_oauth2(self) -> OAuth2Settings | None:
        """The SMTP table's own grant, else the mailbox's (one refresh token for both, as consent gives it)."""
        if self.smtp.auth != "oauth2":
            return None
        table = self.smtp.oauth2 or self.mailbox.oauth2
        return table.settings if table else None

    @cached_property
    def smtp_sending(self) -> SmtpSettings:
        """The SMTP edge's settings; with oauth2 the login name defaults to the mailbox's and the mechanism
        to that of the grant used."""
        sending = self.smtp.sending
        if self.smtp.auth != "oauth2":
            return sending
        return dataclasses.replace(sending, username=sending.username or self.mailbox.username,
                                   mechanism=self.smtp_oauth2.mechanism)

    def conflict(self) -> tuple[str, str] | None:
        smtp = "smtp" if self.key == "mailbox" else f"{self.key}.smtp"
        if self.smtp.from_addr_spec in self.staff.addresses:
            where = "smtp.from_address" if self.key == "mailbox" else f"{self.key}.address"
            return where, "must not be one of staff.addresses (mail would loop)"
        if self.smtp.auth == "oauth2" and self.smtp_oauth2 is None:
            return f"{smtp}.auth", f'"oauth2" needs an [{smtp}.oauth2] table, or [{self.key}.oauth2] to share'
        mine, theirs = self.smtp.oauth2, self.mailbox.oauth2
        if mine and theirs and mine.refresh_token_file and mine.refresh_token_file == theirs.refresh_token_file:
            return f"{smtp}.oauth2.refresh_token_file", (
                "is the mailbox's too: one grant used by two tables would be rotated behind each other's back; "
                f"leave out [{smtp}.oauth2] to share the mailbox's grant")
        return None


def build_inboxes(scope: Scope) -> tuple[Inbox, ...]:
    """[mailbox] (named "default" unless it says, From smtp.from_address unless it says) or each
    [[mailboxes]], with its own [smtp] and [staff] worked out; names and addresses unique."""
    single, many = scope.attrs["mailbox"], scope.attrs["mailboxes"]
    if single is not None and many:
        raise scope.error("mailboxes", "give either [mailbox] or [[mailboxes]], not both")
    if single is None and not many:
        raise scope.error("mailbox", "the section [mailbox] (or one or more [[mailboxes]]) is missing")
    raw_smtp, raw_staff = scope.table.get("smtp") or {}, scope.table.get("staff") or {}
    if single is not None:
        entries = [("mailbox", single, scope.table["mailbox"])]
        if single.address is None and scope.attrs["smtp"].from_address is None:
            raise ConfigError(scope.file, "smtp.from_address", "is required with [mailbox]")
    else:
        entries = []
        for i, (entry, raw) in enumerate(zip(many, scope.table["mailboxes"])):
            where = f"mailboxes.{entry.name}" if "name" in raw else f"mailboxes[{i}]"
            for required in ("name", "address"):
                if required not in raw:
                    raise ConfigError(scope.file, f"{where}.{required}", "is required in [[mailboxes]]")
            entries.append((where, entry, raw))
    out = []
    for where, entry, raw in entries:
        own_smtp = dict(raw.get("smtp") or {})
        merged = {**raw_smtp, **own_smtp}
        if entry.address is not None:
            merged["from_address"] = entry.address
        if "oauth2" not in own_smtp and isinstance(raw_smtp.get("oauth2"), dict) and scope.attrs["smtp"].oauth2:
            # The global grant stays one grant: the same token store for every mailbox that shares it.
            merged["oauth2"] = {**raw_smtp["oauth2"], "token_store": str(scope.attrs["smtp"].oauth2.token_store)}
        smtp = scope.attrs["smtp"]
        if merged != raw_smtp:
            smtp = read_table(scope.file, f"{where}.smtp" if own_smtp else "smtp", merged, SmtpConfig)
        staff = scope.attrs["staff"]
        if entry.staff is not None:
            staff = read_table(scope.file, f"{where}.staff", {**raw_staff, **entry.staff}, StaffConfig)
        out.append(Inbox(entry.name, where, entry, smtp, staff, entry.templates))
    for attr, value in (("name", lambda b: b.name), ("address", lambda b: b.smtp.from_addr_spec)):
        seen: dict[str, str] = {}
        for inbox in out:
            v = value(inbox)
            if v in seen:
                raise ConfigError(scope.file, f"{inbox.key}.{attr}", f"{v!r} is also the {attr} of {seen[v]}")
            seen[v] = inbox.key
    return tuple(out)


# --- reading -----------------------------------------------------------------

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
    return read_table(path, "", load_raw(path), Config)


def config_path_from(arg: str | None) -> Path:
    return Path(arg or os.environ.get("AFTERCARE_CONFIG") or DEFAULT_CONFIG_PATH)


def config_warnings(config: Config, raw: dict) -> list[str]:
    """What check-config should point out even though the file is valid."""
    out = secret_file_warnings(config.path, raw)
    for inbox in config.inboxes:
        chosen = "" if inbox.key == "mailbox" else f" --mailbox {inbox.name}"
        for name, table, flag in ((f"{inbox.key}.oauth2", inbox.mailbox.oauth2, ""),
                                  (f"{'smtp' if inbox.key == 'mailbox' else inbox.key + '.smtp'}.oauth2",
                                   inbox.smtp.oauth2, " --table smtp")):
            f = table.refresh_token_file if table is not None and table.flow == "refresh_token" else None
            if f is not None and not f.is_file():
                out.append(f"{config.path}: {name}.refresh_token_file: {f} does not exist yet: run "
                           f"`aftercare oauth2 authorize{chosen}{flag}`")
    if "from-header" in config.staff.verify:
        out.append(f"{config.path}: staff.verify: \"from-header\" trusts the From header alone, which anyone can "
                   "forge: a stranger could send commands and messages to customers as your staff")
    if config.metrics.address is not None and not values.is_loopback(config.metrics.address[0]):
        out.append(f"{config.path}: metrics.listen: {config.metrics.listen} can be reached from other hosts and "
                   "the endpoint asks for no login: let a firewall keep it to your Prometheus")
    lmtp = config.lmtp.address
    if isinstance(lmtp, tuple) and not values.is_loopback(lmtp[0]):
        out.append(f"{config.path}: lmtp.listen: {config.lmtp.listen} can be reached from other hosts and LMTP "
                   "asks for no login: anyone who reaches it can open cases; let a firewall keep it to your mail server")
    return out


def secret_file_warnings(cfg_path: Path, raw: dict) -> list[str]:
    """Warnings for password files that others can read (for check-config)."""
    out = []
    # Each [[mailboxes]] entry is checked like [mailbox]: "mailboxes.billing.password_file".
    entries = [("mailbox", raw.get("mailbox"))] + [
        (f"mailboxes.{e.get('name', i)}", e) for i, e in enumerate(raw.get("mailboxes") or []) if isinstance(e, dict)]
    for name, k in schema_keys(Config):
        if not (k.secret or k.secret_file):
            continue
        name = f"{name}_file" if k.secret else name
        for shown, top in ([(name, raw)] if not name.startswith("mailbox.") else
                           [(label + name[len("mailbox"):], {"mailbox": e}) for label, e in entries]):
            out += _readable_by_others(cfg_path, shown, name, top)
    return out


def _readable_by_others(cfg_path: Path, shown: str, name: str, raw: dict) -> list[str]:
    """A warning if the file the key ``name`` of ``raw`` names can be read by others (``shown``: how to name it)."""
    *tables, attr = name.split(".")
    where = raw
    for t in tables:
        where = where.get(t) if isinstance(where, dict) else None
    f = where.get(attr) if isinstance(where, dict) else None
    if not isinstance(f, str):
        return []
    p = Path(f) if Path(f).is_absolute() else cfg_path.parent / f
    try:
        if p.stat().st_mode & stat.S_IRWXO:  # group-readable is how the service user reads it
            return [f"{cfg_path}: {shown}: {p} is readable by other users; chmod 600 it"]
    except OSError:
        pass
    return []

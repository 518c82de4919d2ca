"""The OAuth2 edge: access tokens from a token endpoint, kept fresh, and the refresh token kept safe.

Microsoft 365 and Google let a mailbox be opened only with an OAuth2 access token (XOAUTH2 or
OAUTHBEARER). A token lives about an hour; it is bought with a refresh token (delegated access, the
default) or with the client's own secret (Microsoft's app-only access). What makes this hard in
practice is not the protocol but its failures, so this module is built around them:

* a refresh token the server rotates is written to our own store (a file of mode 0600, replaced
  atomically and fsynced) *before* the new access token is handed out, so a crash right after a
  rotation still logs in next time;
* a grant that is dead (revoked, expired, wrong secret or tenant) is remembered: no request is made
  again until what it depends on changes (the refresh token file, the client secret file, a reload)
  or ``DEAD_GRANT_RETRY`` has passed, so a dead token never becomes a retry storm;
* no token or secret appears in an error message; ``on_secret`` lets the logger redact each token.

It is a plain RFC 6749 client over urllib (the README's dependency table says why not msal or
google-auth): the same code talks to Microsoft, Google and any other ("custom") token endpoint.
"""
from __future__ import annotations

import base64
import copy
import hashlib
import http.client
import json
import os
import re
import socket
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .errors import AuthenticationRefused, EdgeError, ProtocolError, ServerUnreachable

#: After a refusal that needs a person (invalid_grant, invalid_client...), the endpoint is asked again
#: only when the files it depends on change, or after this long: a handful of requests an hour at most.
DEAD_GRANT_RETRY_SECONDS = 15 * 60
#: A token endpoint that cannot be reached (or answers 5xx/429) is asked again after 2 s, 4 s, ... 5 min.
TRANSIENT_RETRY_BASE_SECONDS = 2.0
TRANSIENT_RETRY_CAP_SECONDS = 300.0
#: An access token is renewed when less than this part of its life is left (at most REFRESH_MARGIN_CAP).
REFRESH_MARGIN_SHARE = 0.2
REFRESH_MARGIN_CAP_SECONDS = 120.0

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@dataclass(frozen=True)
class Provider:
    """Where a provider's endpoints are ({tenant} filled in for Microsoft) and what scopes it wants."""

    token_url: str
    authorize_url: str
    device_authorization_url: str | None
    scope: str  # delegated access: IMAP and SMTP, and a refresh token
    app_scope: str | None  # app-only access (client_credentials)


PROVIDERS = {
    "microsoft": Provider(
        token_url="https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
        authorize_url="https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
        device_authorization_url="https://login.microsoftonline.com/{tenant}/oauth2/v2.0/devicecode",
        scope="https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access",
        app_scope="https://outlook.office365.com/.default",
    ),
    "google": Provider(
        token_url="https://oauth2.googleapis.com/token",
        authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
        device_authorization_url=None,  # Google's device flow does not grant the mail scope
        scope="https://mail.google.com/",
        app_scope=None,
    ),
}


@dataclass(frozen=True)
class OAuth2Settings:
    """One OAuth2 client and grant, as this edge needs it (the configuration builds it)."""

    provider: str  # microsoft, google, custom
    token_url: str
    client_id: str
    client_secret: Any = None  # None (a public client) or has .reveal()
    client_secret_file: Path | None = None  # re-read when it changes: a new secret takes effect by itself
    flow: str = "refresh_token"  # refresh_token | client_credentials
    scope: str = ""
    mechanism: str = "XOAUTH2"  # XOAUTH2 | OAUTHBEARER
    refresh_token_file: Path | None = None  # the operator's first refresh token (aftercare oauth2 authorize writes it)
    token_store: Path | None = None  # our copy of the newest refresh token
    authorize_url: str | None = None
    device_authorization_url: str | None = None
    timeout: float = 30.0

    def key(self) -> tuple:
        """Two settings with the same key share one grant, so they must share one TokenSource."""
        return (self.token_url, self.client_id, self.flow, self.scope, str(self.refresh_token_file),
                str(self.token_store))


# --- errors -------------------------------------------------------------------------

class TokenError(EdgeError):
    """No access token could be had."""


class GrantRefused(TokenError, AuthenticationRefused):
    """The token endpoint refused for good (a dead refresh token, a wrong secret): a person must act."""

    def __init__(self, message: str, error: str = "", hint: str = ""):
        super().__init__(message)
        self.error, self.hint = error, hint


class TokenEndpointUnreachable(TokenError, ServerUnreachable):
    """The token endpoint could not be reached (or timed out)."""


class TokenEndpointError(TokenError, ProtocolError):
    """The token endpoint answered with a server error or something that is not a token."""


class TokenStoreError(TokenError, AuthenticationRefused):
    """A rotated refresh token could not be stored: a person must make the store writable."""


#: What each refusal means, for the operator (the log line, STATUS, check-config and the email say it).
HINTS = {
    "invalid_grant": "the refresh token is dead (revoked, expired after long disuse, or the password was reset): "
                     "run `aftercare oauth2 authorize`, then reload",
    "invalid_client": "the token endpoint refused the client: check client_id and the client secret (it may have "
                      "expired), and the tenant",
    "unauthorized_client": "this client may not use this flow: check the app registration",
    "invalid_scope": "a scope is not granted to this client: check the app registration's API permissions",
    "access_denied": "consent was refused or withdrawn: run `aftercare oauth2 authorize`, then reload",
    "no_refresh_token": "there is no refresh token yet: run `aftercare oauth2 authorize`, then reload",
}

#: Refusals that last until the operator acts; anything else a 4xx says is treated as a problem of the moment.
PERMANENT = {"invalid_grant", "invalid_client", "unauthorized_client", "invalid_scope", "access_denied",
             "unsupported_grant_type", "invalid_request", "consent_required", "interaction_required"}


def client_secret(settings: OAuth2Settings) -> str | None:
    """The client secret to send: client_secret_file's first line, read now (a new secret takes effect
    without a restart), else the configured value, else None (a public client)."""
    if settings.client_secret_file is not None:
        try:
            lines = settings.client_secret_file.read_text(encoding="utf-8").strip().splitlines()
            if lines:
                return lines[0].strip()
        except (OSError, UnicodeDecodeError):
            pass
    return settings.client_secret.reveal() if settings.client_secret is not None else None


# --- the token endpoint -------------------------------------------------------------

def post_form(url: str, form: dict[str, str], timeout: float) -> dict:
    """POST ``form`` to a token endpoint; the JSON answer, or a typed TokenError.

    The answer to a refusal is returned as it came (``{"error": ...}``) for the caller to judge;
    nothing sent (a token, a secret) ever appears in what this raises.
    """
    data = urllib.parse.urlencode({k: v for k, v in form.items() if v is not None}).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json",
        "User-Agent": "aftercare"})
    host = urllib.parse.urlsplit(url).netloc
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(1 << 20)
            status = response.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read(1 << 20), exc.code
    except (urllib.error.URLError, OSError, socket.timeout) as exc:
        reason = getattr(exc, "reason", exc)
        raise TokenEndpointUnreachable(f"token endpoint {host} unreachable: {reason}") from None
    except (http.client.HTTPException, ValueError) as exc:
        raise TokenEndpointError(f"token endpoint {host} answered outside HTTP: {type(exc).__name__}") from None
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise TokenEndpointError(f"token endpoint {host} answered HTTP {status} without JSON") from None
    if status >= 500 or status == 429:
        raise TokenEndpointError(f"token endpoint {host} answered HTTP {status}: {_error_text(answer)}")
    if status >= 400 and "error" not in answer:
        raise TokenEndpointError(f"token endpoint {host} answered HTTP {status}")
    return answer


_VOLATILE = re.compile(r"\s*(Trace ID|Correlation ID|Timestamp):.*$", re.IGNORECASE | re.DOTALL)


def _error_text(answer: dict) -> str:
    """The error and its description, without the trace ids and times Microsoft adds to every answer (the
    same cause must read the same each time, or every retry would be logged as news)."""
    error = str(answer.get("error", "error"))[:80]
    description = _VOLATILE.sub("", " ".join(str(answer.get("error_description", "")).split()))[:240]
    return f"{error}: {description}" if description else error


def refused(answer: dict, host: str) -> TokenError:
    """The typed error for a token endpoint's ``{"error": ...}``."""
    error = str(answer.get("error", ""))
    text = f"token endpoint {host} refused: {_error_text(answer)}"
    if error in PERMANENT:
        return GrantRefused(text, error, HINTS.get(error, "check the [oauth2] settings"))
    return TokenEndpointError(text)


@dataclass
class AccessToken:
    value: str = field(repr=False)
    expires_at: float  # time.monotonic()
    lifetime: float

    def fresh(self, now: float) -> bool:
        margin = min(REFRESH_MARGIN_CAP_SECONDS, self.lifetime * REFRESH_MARGIN_SHARE)
        return now < self.expires_at - margin


# --- the refresh token's store -------------------------------------------------------

def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class RefreshTokenStore:
    """The newest refresh token: our file, unless the operator has put a different token in ``seed``.

    The store records a digest of the operator's file as it was when the store was derived from it; once
    the file holds anything else (``aftercare oauth2 authorize`` again, or a copy by hand, whatever its
    mtime), the file wins. An unreadable file never hides a stored token that works.
    """

    def __init__(self, path: Path | None, seed: Path | None):
        self.path, self.seed = path, seed
        self.seed_problem = ""  # why the operator's file could not be read, for the error text

    def _stored(self) -> dict | None:
        if self.path is None:
            return None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and isinstance(data.get("refresh_token"), str) else None

    def seed_token(self) -> str | None:
        """The operator's file, first line."""
        self.seed_problem = ""
        if self.seed is None:
            return None
        try:
            text = self.seed.read_text(encoding="utf-8")
        except FileNotFoundError:
            self.seed_problem = f"{self.seed} does not exist"
            return None
        except (OSError, UnicodeDecodeError) as exc:
            self.seed_problem = f"{self.seed} cannot be read: {getattr(exc, 'strerror', None) or exc}"
            return None
        lines = text.strip().splitlines()
        if not lines:
            self.seed_problem = f"{self.seed} is empty"
        return lines[0].strip() if lines else None

    def current(self) -> str | None:
        stored, seed = self._stored(), self.seed_token()
        if stored and (seed is None or stored.get("seed_sha256") == _digest(seed)):
            return stored["refresh_token"]
        return seed

    def save(self, token: str, seed: str | None = None) -> None:
        """Replace the stored token: written to a new 0600 file, fsynced, renamed over the old one.

        ``seed`` is the operator's token this one descends from (default: the file's present content).
        Run as root (check-config, oauth2 authorize by hand), the file keeps the owner of the one it
        replaces, or of its folder, so that the service's user can still read it.
        """
        if self.path is None:
            raise TokenStoreError("the server rotated the refresh token, but no token_store is set to keep it")
        seed = seed if seed is not None else self.seed_token()
        record = {"refresh_token": token, "seed_sha256": _digest(seed) if seed else "", "saved_at": time.time()}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_private(self.path, json.dumps(record))
        except OSError as exc:
            raise TokenStoreError(f"cannot store the rotated refresh token in {self.path}: {exc.strerror}") from None

    def fingerprint(self) -> tuple:
        """Changes when either file does: a dead grant is worth another try."""
        out = []
        for p in (self.seed, self.path):
            try:
                st = p.stat() if p else None
                out.append((st.st_mtime_ns, st.st_size, st.st_ino) if st else None)
            except OSError:
                out.append(None)
        return tuple(out)


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically and durably: a temporary file in the same folder, mode 0600
    before anything is written, fsynced, renamed over the old one, the folder fsynced. Run as root (by an
    operator's command), the file keeps the owner of the one it replaces, else takes its folder's, so the
    service's user can still read it. Raises OSError."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        if os.geteuid() == 0:
            st = (path if path.exists() else path.parent).stat()
            os.fchown(fd, st.st_uid, st.st_gid)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


# --- the token source ----------------------------------------------------------------

class TokenSource:
    """Access tokens for one grant, shared by every edge that logs in with it (IMAP, SMTP).

    ``access_token()`` returns a token with time to spare, fetching a new one when needed; an edge whose
    login was refused calls ``refused(token)`` so that the next call fetches a new one. Thread-safe: one
    fetch at a time (``_fetch_lock``, held across the HTTP request, so two threads never both redeem a
    refresh token that rotates), while the state (``_lock``) is held only for moments, so ``changed()``
    and ``failure()`` never wait on the network.

    A failure is remembered: a dead grant until what it depends on changes (or DEAD_GRANT_RETRY_SECONDS),
    an endpoint that could not be reached or answered badly for a backoff of 2 s doubling to 5 min; the
    same error is raised again meanwhile without a request.
    """

    def __init__(self, settings: OAuth2Settings, *, clock: Callable[[], float] = time.monotonic,
                 on_secret: Callable[[str], None] = lambda s: None,
                 post: Callable[[str, dict, float], dict] = post_form):
        self.settings = settings
        self.clock = clock
        self.on_secret = on_secret
        self.post = post
        self.store = RefreshTokenStore(settings.token_store, settings.refresh_token_file)
        self._lock = threading.Lock()
        self._fetch_lock = threading.Lock()
        self._token: AccessToken | None = None
        self._dead: tuple[TokenError, tuple, float] | None = None  # the refusal, what it depended on, when
        self._failed: tuple[TokenError, float] | None = None  # a transient failure and when to try again
        self._failures = 0
        self._unsaved: str | None = None  # a rotated refresh token the store could not take (kept, retried)
        self.requests = 0  # token endpoint requests made, for tests and the status
        self.resets = 0  # reloads seen: a login waiting on a dead grant tries again after one

    # --- what the edges call

    def access_token(self) -> str:
        with self._fetch_lock:
            with self._lock:
                now = self.clock()
                if self._token is not None and self._token.fresh(now):
                    return self._token.value
                self._raise_remembered(now)
            try:
                token = self._fetch(now)
            except GrantRefused as exc:
                with self._lock:
                    self._dead, self._token, self._failed = (exc, self._fingerprint(), now), None, None
                raise
            except TokenError as exc:
                with self._lock:
                    self._failures += 1
                    delay = min(TRANSIENT_RETRY_CAP_SECONDS, TRANSIENT_RETRY_BASE_SECONDS * 2 ** (self._failures - 1))
                    self._failed = (exc, now + delay)
                raise
            with self._lock:
                self._token, self._dead, self._failed, self._failures = token, None, None, 0
                return token.value

    def _raise_remembered(self, now: float) -> None:
        if self._dead is not None:
            exc, fingerprint, at = self._dead
            if fingerprint == self._fingerprint() and now - at < DEAD_GRANT_RETRY_SECONDS:
                raise _again(exc)  # nothing changed: do not ask again (no retry storm)
        if self._failed is not None and now < self._failed[1]:
            raise _again(self._failed[0])

    def keep_fresh(self) -> bool:
        """Renew the access token before it expires even when no login needs one; True if it did.

        IMAP sessions last for days, so logins alone would leave the grant unused: a refresh token
        unused for 90 days dies at Microsoft, and a dead grant would only be noticed at the next
        reconnect. A no-op until the first login, while the token is fresh, and while a failure is
        remembered (see the class); raises TokenError when the renewal failed.
        """
        with self._lock:
            token, now = self._token, self.clock()
            if token is None or token.fresh(now):
                return False
            if self._dead is not None or (self._failed is not None and now < self._failed[1]):
                return False
        self.access_token()
        return True

    def failure(self) -> TokenError | None:
        """What failed last, while it is remembered (a dead grant, an endpoint away); None if all is well."""
        with self._lock:
            if self._dead is not None:
                return self._dead[0]
            return self._failed[0] if self._failed is not None else None

    def refused(self, token: str) -> None:
        """A server refused ``token``: the next ``access_token()`` fetches a new one."""
        with self._lock:
            if self._token is not None and self._token.value == token:
                self._token = None

    def reset(self, settings: OAuth2Settings | None = None) -> None:
        """After a reload: take the new settings (a new client secret), forget the cached token and any
        failure, so the next login asks afresh."""
        with self._fetch_lock, self._lock:
            if settings is not None and settings != self.settings:
                self.settings = settings
                self.store = RefreshTokenStore(settings.token_store, settings.refresh_token_file)
            self._token, self._dead, self._failed, self._failures = None, None, None, 0
            self.resets += 1

    def dead(self) -> GrantRefused | None:
        with self._lock:
            return self._dead[0] if self._dead else None  # type: ignore[return-value]

    def changed(self, resets_seen: int | None = None) -> bool:
        """Whether what a dead grant depended on has changed (cheap: two stats and a small read), or the
        source was reset (a reload) since the caller saw ``resets_seen``: either is worth a login now."""
        with self._lock:
            if resets_seen is not None and resets_seen != self.resets:
                return True
            return self._dead is not None and self._dead[1] != self._fingerprint()

    # --- the endpoint

    def _fingerprint(self) -> tuple:
        return self.store.fingerprint(), self._client_secret()

    def _client_secret(self) -> str | None:
        return client_secret(self.settings)

    def _fetch(self, now: float) -> AccessToken:
        s = self.settings
        form = {"client_id": s.client_id, "client_secret": self._client_secret(), "scope": s.scope or None}
        if s.flow == "client_credentials":
            answer = self._ask({**form, "grant_type": "client_credentials"})
            return self._accept(answer, now)
        seed = self.store.seed_token()
        refresh_token = self._unsaved or self.store.current()
        if not refresh_token:
            raise GrantRefused(f"no refresh token: {self.store.seed_problem or 'refresh_token_file is not set'}",
                               "no_refresh_token", HINTS["no_refresh_token"])
        self.on_secret(refresh_token)
        try:
            answer = self._ask({**form, "grant_type": "refresh_token", "refresh_token": refresh_token})
        except GrantRefused as exc:
            # The stored token is dead, but the operator's file may hold another that lives: try it once.
            if exc.error != "invalid_grant" or not seed or seed == refresh_token:
                raise
            refresh_token = seed
            answer = self._ask({**form, "grant_type": "refresh_token", "refresh_token": seed})
        rotated = answer.get("refresh_token")
        if isinstance(rotated, str) and rotated and rotated != refresh_token:
            self.on_secret(rotated)
            try:
                self.store.save(rotated, seed)  # durable before the new access token is used
                self._unsaved = None
            except TokenStoreError:
                self._unsaved = rotated  # never lose it: keep it in memory and say so loudly
                raise
        elif refresh_token != self.store.current():
            try:
                self.store.save(refresh_token, seed)  # the seed's token worked: keep it as ours
            except TokenStoreError:
                pass  # nothing is lost: the operator's file still holds it
        return self._accept(answer, now)

    def _ask(self, form: dict) -> dict:
        self.requests += 1
        s = self.settings
        answer = self.post(s.token_url, form, s.timeout)
        if "error" in answer:
            raise refused(answer, urllib.parse.urlsplit(s.token_url).netloc)
        return answer

    def _accept(self, answer: dict, now: float) -> AccessToken:
        value = answer.get("access_token")
        if not isinstance(value, str) or not value:
            raise TokenEndpointError("the token endpoint's answer holds no access_token")
        try:
            lifetime = float(answer.get("expires_in", 3600))
        except (TypeError, ValueError):
            lifetime = 3600.0
        self.on_secret(value)
        return AccessToken(value, now + lifetime, lifetime)


def _again(exc: TokenError) -> TokenError:
    """The remembered error, raised afresh (re-raising one object would pile up its tracebacks)."""
    return copy.copy(exc).with_traceback(None)


# --- SASL ----------------------------------------------------------------------------

def sasl_response(mechanism: str, user: str, token: str, host: str = "", port: int = 0) -> str:
    """The client's first SASL message for XOAUTH2 (Google's and Microsoft's) or OAUTHBEARER (RFC 7628)."""
    if mechanism.upper() == "OAUTHBEARER":
        user = user.replace("=", "=3D").replace(",", "=2C")  # RFC 5801's saslname
        return f"n,a={user},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01"
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


class SaslExchange:
    """One XOAUTH2 or OAUTHBEARER exchange, for imapclient's ``sasl_login`` and smtplib's ``auth``.

    The client speaks first; a server that refuses the token answers with a challenge holding a JSON
    error (which names, for Google, the scope it wanted) and waits for an empty answer ("" for XOAUTH2,
    ^A for OAUTHBEARER) before it says NO or 535. ``server_said`` keeps that JSON for the error text:
    it never holds our token.
    """

    def __init__(self, mechanism: str, user: str, token: str, host: str = "", port: int = 0):
        self.mechanism = mechanism.upper()
        self._first = sasl_response(mechanism, user, token, host, port)
        self._spoke = False
        self.server_said = ""

    def _next(self, challenge: bytes | None) -> str:
        if not self._spoke:
            self._spoke = True
            return self._first
        if challenge:
            self.server_said = challenge.decode("utf-8", "replace")[:200]
        return "\x01" if self.mechanism == "OAUTHBEARER" else ""

    def imap(self, challenge: bytes) -> str:
        """imaplib hands every challenge decoded (the first is empty: IMAP has no initial response here)."""
        return self._next(challenge)

    def smtp(self, challenge: bytes | None = None) -> str:
        """smtplib asks first with no challenge (the initial response), then with each 334's, decoded."""
        return self._next(challenge)

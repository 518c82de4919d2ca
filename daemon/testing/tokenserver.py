"""A small, real OAuth2 authorization server on loopback, for testing OAuth2 logins offline.

The daemon under test talks HTTP to it exactly as it would to Microsoft's or
Google's token endpoint; Dovecot (``Dovecot(oauth2_introspection_url=...)``)
asks its introspection endpoint whether an access token is live, and
:class:`~aftercare.testing.smtpsink.SmtpSink` can ask :meth:`TokenServer.introspect`
in-process.  Everything is in memory and thread-safe::

    with TokenServer() as tokens:
        refresh = tokens.grant("support")                 # the user's consent
        # POST tokens.token_url: grant_type=refresh_token&client_id=aftercare
        #                        &client_secret=client-secret&refresh_token=<refresh>
        tokens.expires_in = 1                             # short-lived tokens from now on
        tokens.rotate = True                              # strict refresh-token rotation
        tokens.revoke("support")                          # password changed: all tokens die
        tokens.set_client_secret("aftercare", "new")      # the secret expired / was rotated

Endpoints, matched by the end of the path so that Microsoft-shaped
(``/<tenant>/oauth2/v2.0/token``) and Google-shaped (``/token``,
``/device/code``, ``/o/oauth2/v2/auth``) URLs both work:

``POST .../token``
    form-encoded; grant types ``refresh_token``, ``client_credentials``,
    ``urn:ietf:params:oauth:grant-type:device_code`` and ``authorization_code``
    (PKCE S256 or plain).  Client authentication in the body or by HTTP Basic.
    Errors as the providers give them: 400 ``invalid_grant`` (unknown, revoked
    or rotated-away refresh token, bad code or verifier), 401
    ``invalid_client`` (unknown client, wrong or missing secret of a
    confidential client, a secret sent for a public client), 400
    ``unsupported_grant_type`` / ``invalid_request`` / ``unauthorized_client``,
    400 ``authorization_pending`` / ``expired_token`` in the device flow.
``POST .../devicecode`` (or ``.../device/code``)
    starts the device flow (RFC 8628).
``GET .../authorize`` (or ``.../auth``)
    302 to ``redirect_uri?code=...&state=...`` when :attr:`auto_approve_user`
    is set, else 403 (nobody there to consent).
``POST .../introspect``
    RFC 7662 (form ``token=``): ``{"active": true, "username": ...}`` or
    ``{"active": false}``.  Dovecot's oauth2 passdb calls it on every login.

Access tokens expire by the wall clock (``expires_in`` seconds after issue);
refresh tokens live until revoked or rotated away.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import secrets
import string
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit

__all__ = ["TokenRequest", "TokenServer"]

HOST = "127.0.0.1"
TENANT_PATH = "/contoso/oauth2/v2.0"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_CODE_LIFETIME = 600.0  # authorization codes, seconds
_USER_CODE_ALPHABET = "".join(c for c in string.ascii_uppercase + string.digits if c not in "0O1I")


@dataclass(frozen=True)
class TokenRequest:
    """One HTTP request the server answered."""

    at: float  # time.monotonic() when it arrived
    method: str
    path: str
    grant_type: str | None
    client_id: str | None
    status: int


@dataclass
class _Access:
    user: str
    scope: str
    client_id: str | None
    expires_at: float  # time.time()


@dataclass
class _Refresh:
    user: str
    scope: str
    client_id: str | None  # None: usable by any client (made by grant())


@dataclass
class _Device:
    client_id: str
    scope: str
    user_code: str
    expires_at: float  # time.time()
    user: str | None = None  # approved for


@dataclass
class _AuthCode:
    client_id: str
    redirect_uri: str
    scope: str
    challenge: str | None
    method: str
    user: str
    expires_at: float


class _OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str, **extra: Any) -> None:
        super().__init__(error)
        self.status = status
        self.body = {"error": error, "error_description": description, **extra}


def _aadsts(code: int, text: str) -> str:
    # Microsoft's descriptions start with an AADSTS code and carry trace ids; the daemon must not depend on more.
    return f"AADSTS{code}: {text} Trace ID: {secrets.token_hex(8)} Timestamp: {time.strftime('%Y-%m-%d %H:%M:%SZ', time.gmtime())}"


class TokenServer:
    """An OAuth2 authorization server on ``127.0.0.1:<free port>`` (see the module docstring).

    ``clients``: client_id -> secret (``None``: a public client, which must not
    send a secret); default ``{"aftercare": "client-secret"}``.  ``app_user``:
    the mailbox user that ``client_credentials`` tokens act as (without it that
    grant answers 400 ``unauthorized_client``).
    """

    def __init__(
        self,
        *,
        expires_in: float = 3600,
        rotate: bool = False,
        clients: dict[str, str | None] | None = None,
        app_user: str | None = None,
    ) -> None:
        self.expires_in = expires_in
        self.rotate = rotate
        self.app_user = app_user
        #: When set: device codes are approved for this user at once, GET /authorize consents as this user.
        self.auto_approve_user: str | None = None
        #: Lifetime of device codes (seconds); settable, applies to codes issued afterwards.
        self.device_expires_in: float = 900
        self._clients: dict[str, str | None] = dict(
            {"aftercare": "client-secret"} if clients is None else clients
        )
        self._lock = threading.Lock()
        self._access: dict[str, _Access] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._devices: dict[str, _Device] = {}
        self._codes: dict[str, _AuthCode] = {}
        self._issued: set[str] = {s for s in self._clients.values() if s}
        self._requests: list[TokenRequest] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self.token_url = ""
        self.device_url = ""
        self.authorize_url = ""
        self.introspection_url = ""

    # -- lifecycle ----------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def start(self) -> "TokenServer":
        if self._httpd is not None:
            return self
        httpd = ThreadingHTTPServer((HOST, 0), _handler_class(self))
        httpd.daemon_threads = True
        self._httpd = httpd
        port = httpd.server_address[1]
        self.url = f"http://{HOST}:{port}"
        self.token_url = f"{self.url}{TENANT_PATH}/token"
        self.device_url = f"{self.url}{TENANT_PATH}/devicecode"
        self.authorize_url = f"{self.url}/authorize"
        self.introspection_url = f"{self.url}/introspect"
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"TokenServer:{port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "TokenServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<TokenServer {self.url or '(not started)'} {state}>"

    # -- the operator / the user, in-process -----------------------------------

    def grant(self, user: str, scope: str = "") -> str:
        """What a user's consent gives: a new live refresh token for ``user`` (any client may use it)."""
        with self._lock:
            return self._new_refresh(user, scope, None)

    def revoke(self, user: str) -> None:
        """Every refresh and access token of ``user`` dies (a password change, an admin's revocation)."""
        with self._lock:
            for table in (self._access, self._refresh):
                for token in [t for t, rec in table.items() if rec.user == user]:
                    del table[token]

    def set_client_secret(self, client_id: str, secret: str | None) -> None:
        """Replace (or create) a client's secret; the old one stops working at once."""
        with self._lock:
            self._clients[client_id] = secret
            if secret:
                self._issued.add(secret)

    def introspect(self, token: str) -> str | None:
        """The user of a live, unexpired access token, else None."""
        with self._lock:
            rec = self._live_access(token)
            return rec.user if rec else None

    def approve_device(self, user_code: str, user: str) -> None:
        """The user entering ``user_code`` in the browser and consenting as ``user``."""
        with self._lock:
            for device in self._devices.values():
                if device.user_code == user_code.strip().upper():
                    if device.expires_at <= time.time():
                        raise ValueError(f"device code {user_code!r} has expired")
                    device.user = user
                    return
        raise KeyError(f"unknown user code {user_code!r}")

    # -- what happened ----------------------------------------------------------

    @property
    def requests(self) -> list[TokenRequest]:
        """Every request answered so far (a snapshot), oldest first."""
        with self._lock:
            return list(self._requests)

    def token_requests(self, since: float | None = None) -> int:
        """How many POSTs reached the token endpoint at or after ``since`` (time.monotonic())."""
        with self._lock:
            return sum(
                1
                for r in self._requests
                if r.method == "POST" and r.path.endswith("/token") and (since is None or r.at >= since)
            )

    def issued(self) -> set[str]:
        """Every access token, refresh token, device code, auth code and client secret ever issued or known."""
        with self._lock:
            return set(self._issued)

    # -- internals (call with the lock held) -------------------------------------

    def _token(self) -> str:
        token = secrets.token_urlsafe(32)
        self._issued.add(token)
        return token

    def _new_refresh(self, user: str, scope: str, client_id: str | None) -> str:
        token = self._token()
        self._refresh[token] = _Refresh(user, scope, client_id)
        return token

    def _live_access(self, token: str) -> _Access | None:
        rec = self._access.get(token)
        if rec is None:
            return None
        if rec.expires_at <= time.time():
            return None
        return rec

    def _issue(self, user: str, scope: str, client_id: str, *, refresh: bool) -> dict[str, Any]:
        access = self._token()
        self._access[access] = _Access(user, scope, client_id, time.time() + self.expires_in)
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": scope,
            "expires_in": int(math.ceil(self.expires_in)),
            "ext_expires_in": int(math.ceil(self.expires_in)),
            "access_token": access,
        }
        if refresh:
            body["refresh_token"] = self._new_refresh(user, scope, client_id)
        return body

    def _client(self, form: dict[str, str], basic: tuple[str, str] | None, *, secret_required: bool = True) -> str:
        """The authenticated client_id, or _OAuthError(401 invalid_client)."""
        client_id = form.get("client_id")
        secret = form.get("client_secret")
        if basic is not None:
            if client_id is not None and client_id != basic[0]:
                raise _OAuthError(401, "invalid_client", _aadsts(700023, "client_id in the body and in the Authorization header differ."))
            client_id, secret = basic
        if not client_id:
            raise _OAuthError(400, "invalid_request", _aadsts(900144, "The request body must contain the following parameter: 'client_id'."))
        if client_id not in self._clients:
            raise _OAuthError(401, "invalid_client", _aadsts(700016, f"Application with identifier '{client_id}' was not found in the directory 'contoso'."))
        expected = self._clients[client_id]
        if expected is None:
            if secret:
                raise _OAuthError(401, "invalid_client", _aadsts(700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented."))
        elif secret_required or secret is not None:
            if not secret:
                raise _OAuthError(401, "invalid_client", _aadsts(7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."))
            if not secrets.compare_digest(secret, expected):
                raise _OAuthError(401, "invalid_client", _aadsts(7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID."))
        return client_id

    def _token_endpoint(self, form: dict[str, str], basic: tuple[str, str] | None) -> dict[str, Any]:
        grant_type = form.get("grant_type")
        if not grant_type:
            raise _OAuthError(400, "invalid_request", _aadsts(900144, "The request body must contain the following parameter: 'grant_type'."))
        if grant_type not in ("refresh_token", "client_credentials", DEVICE_GRANT, "authorization_code"):
            raise _OAuthError(400, "unsupported_grant_type", _aadsts(70003, f"The app requested an unsupported grant type '{grant_type}'."))
        client_id = self._client(form, basic)
        if grant_type == "refresh_token":
            return self._refresh_grant(form, client_id)
        if grant_type == "client_credentials":
            return self._client_credentials_grant(form, client_id)
        if grant_type == DEVICE_GRANT:
            return self._device_grant(form, client_id)
        return self._code_grant(form, client_id)

    def _refresh_grant(self, form: dict[str, str], client_id: str) -> dict[str, Any]:
        token = form.get("refresh_token")
        if not token:
            raise _OAuthError(400, "invalid_request", _aadsts(900144, "The request body must contain the following parameter: 'refresh_token'."))
        rec = self._refresh.get(token)
        if rec is None or (rec.client_id is not None and rec.client_id != client_id):
            raise _OAuthError(400, "invalid_grant", _aadsts(70000, "The provided value for the 'refresh_token' is not valid. The token was revoked, expired or rotated away."), error_codes=[70000])
        scope = form.get("scope") or rec.scope
        body = self._issue(rec.user, scope, client_id, refresh=False)
        if self.rotate:
            del self._refresh[token]
            body["refresh_token"] = self._new_refresh(rec.user, rec.scope, rec.client_id)
        return body

    def _client_credentials_grant(self, form: dict[str, str], client_id: str) -> dict[str, Any]:
        if self._clients.get(client_id) is None:
            raise _OAuthError(400, "unauthorized_client", _aadsts(7000218, "A public client cannot use the client_credentials grant."))
        if self.app_user is None:
            raise _OAuthError(400, "unauthorized_client", _aadsts(700016, "The application has no mailbox permission (TokenServer.app_user is not set)."))
        return self._issue(self.app_user, form.get("scope", ""), client_id, refresh=False)

    def _device_grant(self, form: dict[str, str], client_id: str) -> dict[str, Any]:
        code = form.get("device_code", "")
        device = self._devices.get(code)
        if device is None or device.client_id != client_id:
            raise _OAuthError(400, "invalid_grant", _aadsts(70000, "The provided value for the 'device_code' is not valid."))
        if device.expires_at <= time.time():
            raise _OAuthError(400, "expired_token", _aadsts(70019, "Verification code expired."))
        if device.user is None and self.auto_approve_user is not None:
            device.user = self.auto_approve_user
        if device.user is None:
            raise _OAuthError(400, "authorization_pending", _aadsts(70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling."))
        del self._devices[code]  # one use
        return self._issue(device.user, device.scope, client_id, refresh=True)

    def _code_grant(self, form: dict[str, str], client_id: str) -> dict[str, Any]:
        code = self._codes.pop(form.get("code", ""), None)  # one use, even when the rest is wrong
        if code is None or code.expires_at <= time.time():
            raise _OAuthError(400, "invalid_grant", _aadsts(70000, "The provided authorization code is invalid, expired or already redeemed."))
        if code.client_id != client_id:
            raise _OAuthError(400, "invalid_grant", _aadsts(70000, "The authorization code was issued to another client."))
        if form.get("redirect_uri") != code.redirect_uri:
            raise _OAuthError(400, "invalid_grant", _aadsts(50011, "The redirect URI does not match the one of the authorization request."))
        if code.challenge is not None:
            verifier = form.get("code_verifier", "")
            if code.method == "S256":
                computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            else:
                computed = verifier
            if not verifier or not secrets.compare_digest(computed, code.challenge):
                raise _OAuthError(400, "invalid_grant", _aadsts(501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request."))
        return self._issue(code.user, code.scope, client_id, refresh=True)

    def _device_endpoint(self, form: dict[str, str], basic: tuple[str, str] | None) -> dict[str, Any]:
        client_id = self._client(form, basic, secret_required=False)
        device_code = self._token()
        while True:
            raw = "".join(secrets.choice(_USER_CODE_ALPHABET) for _ in range(9))
            if all(d.user_code != raw for d in self._devices.values()):
                break
        verification_uri = f"{self.url}/devicelogin"
        device = _Device(client_id, form.get("scope", ""), raw, time.time() + self.device_expires_in)
        if self.auto_approve_user is not None:
            device.user = self.auto_approve_user
        self._devices[device_code] = device
        expires = int(math.ceil(self.device_expires_in))
        return {
            "device_code": device_code,
            "user_code": raw,
            "verification_uri": verification_uri,
            "expires_in": expires,
            "interval": 1,
            "message": f"To sign in, use a web browser to open the page {verification_uri} "
            f"and enter the code {raw} to authenticate.",
        }

    def _authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], str]:
        """(status, headers, text body) for GET /authorize."""
        client_id = query.get("client_id", "")
        redirect_uri = query.get("redirect_uri", "")
        if client_id not in self._clients:
            return 400, {}, f"unknown client_id {client_id!r}"
        if not redirect_uri:
            return 400, {}, "redirect_uri is missing"
        state = query.get("state")

        def redirect(params: dict[str, str]) -> tuple[int, dict[str, str], str]:
            if state is not None:
                params["state"] = state
            sep = "&" if "?" in redirect_uri else "?"
            return 302, {"Location": f"{redirect_uri}{sep}{urlencode(params)}"}, ""

        if query.get("response_type") != "code":
            return redirect({"error": "unsupported_response_type", "error_description": "only response_type=code"})
        challenge = query.get("code_challenge")
        method = query.get("code_challenge_method", "plain" if challenge else "")
        if challenge and method not in ("S256", "plain"):
            return redirect({"error": "invalid_request", "error_description": f"code_challenge_method {method!r}"})
        user = self.auto_approve_user
        if user is None:
            return 403, {}, "nobody is there to consent (TokenServer.auto_approve_user is not set)"
        code = self._token()
        self._codes[code] = _AuthCode(
            client_id, redirect_uri, query.get("scope", ""), challenge or None, method, user, time.time() + _CODE_LIFETIME
        )
        return redirect({"code": code})

    def _introspect_endpoint(self, form: dict[str, str]) -> dict[str, Any]:
        rec = self._live_access(form.get("token", ""))
        if rec is None:
            return {"active": False}
        return {
            "active": True,
            "username": rec.user,
            "email": rec.user,
            "sub": rec.user,
            "scope": rec.scope,
            "client_id": rec.client_id,
            "token_type": "Bearer",
            "exp": int(rec.expires_at),
        }

    def _log(self, request: TokenRequest) -> None:
        with self._lock:
            self._requests.append(request)


def _basic(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        raw = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, _, password = raw.partition(":")
    return unquote_plus(user), unquote_plus(password)  # RFC 6749 2.3.1: form-urlencoded, then Basic


def _single(pairs: dict[str, list[str]]) -> dict[str, str]:
    return {k: v[0] for k, v in pairs.items() if v}


def _ends(path: str, suffixes: Iterable[str]) -> bool:
    return any(path.endswith(s) for s in suffixes)


def _handler_class(server: TokenServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0: one request per connection, so a stopped server really stops answering.
        server_version = "TokenServer/1.0"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
            pass

        def _reply(self, status: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None) -> None:
            if isinstance(body, dict):
                data = json.dumps(body).encode()
                ctype = "application/json; charset=utf-8"
            else:
                data = body.encode()
                ctype = "text/plain; charset=utf-8"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            if status == 401:
                self.send_header("WWW-Authenticate", 'Basic realm="token"')
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _form(self) -> dict[str, str]:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8", "replace") if length > 0 else ""
            return _single(parse_qs(raw, keep_blank_values=True))

        def do_POST(self) -> None:  # noqa: N802
            at = time.monotonic()
            path = urlsplit(self.path).path
            form = self._form()
            basic = _basic(self.headers.get("Authorization"))
            status, body = 200, {}
            try:
                with server._lock:
                    if _ends(path, ("/token",)):
                        body = server._token_endpoint(form, basic)
                    elif _ends(path, ("/devicecode", "/device/code")):
                        body = server._device_endpoint(form, basic)
                    elif _ends(path, ("/introspect",)):
                        body = server._introspect_endpoint(form)
                    else:
                        status, body = 404, {"error": "not_found", "error_description": path}
            except _OAuthError as exc:
                status, body = exc.status, exc.body
            # Logged before the answer goes out: a client that got its answer finds its request in .requests.
            server._log(TokenRequest(at, "POST", path, form.get("grant_type"), form.get("client_id") or (basic[0] if basic else None), status))
            self._reply(status, body)

        def do_GET(self) -> None:  # noqa: N802
            at = time.monotonic()
            parts = urlsplit(self.path)
            query = _single(parse_qs(parts.query, keep_blank_values=True))
            if _ends(parts.path, ("/authorize", "/auth")):
                with server._lock:
                    status, headers, body = server._authorize(query)
            else:
                status, headers, body = 404, {}, {"error": "not_found", "error_description": parts.path}
            server._log(TokenRequest(at, "GET", parts.path, None, query.get("client_id"), status))
            self._reply(status, body, headers)

    return Handler


if __name__ == "__main__":  # pragma: no cover - manual poking: python -m aftercare.testing.tokenserver
    with TokenServer() as ts:
        print(ts.token_url, ts.grant("support"))
        threading.Event().wait()

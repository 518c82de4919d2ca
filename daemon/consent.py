"""``aftercare oauth2 authorize``: the one-time OAuth2 consent, from a headless server.

The daemon logs in to Microsoft 365 or Google with access tokens it buys with a refresh token
(mail/oauth2.py). That first refresh token needs a person to sign in once and consent; this command
walks them through it without a browser on the server, and writes the token to ``refresh_token_file``
(mode 0600, replaced atomically). Two flows:

``device`` (the default for Microsoft, and for a custom provider with a ``device_authorization_url``)
    RFC 8628. The command prints the provider's "open https://microsoft.com/devicelogin and enter the
    code ABCD-EFGH"; the operator does so on any computer or phone while the command polls the token
    endpoint (every ``interval`` seconds, slower when told ``slow_down``) until consent is given,
    refused, or the code expires.
``paste`` (the default for Google, whose device flow does not grant the mail scope)
    The installed-app flow: authorization code with PKCE (S256) and a random ``state``. The command
    prints a URL to open anywhere; after consent the browser is sent to the redirect URI
    (``http://127.0.0.1:8765/`` by default), a page that fails to load since nothing listens there.
    The operator copies the whole address from the browser's address bar (or just its ``code=``) and
    pastes it back; the command checks the state and exchanges the code (with the PKCE verifier).

``aftercare oauth2 authorize [--table mailbox|smtp] [--flow device|paste] [--redirect-uri URI]``:
``--table`` says whose ``[X.oauth2]`` table to use (SMTP without its own table shares the mailbox's
grant). Nothing here prints a token: only the file written, its mode and owner, the scope granted,
and the next step. A refusal prints the endpoint's error and what to do about it; the exit code is 1.

The functions take their I/O as arguments (``out``, ``ask``, ``sleep``, ``now``, ``post``), so that
the command is a thin wrapper (cli.py) and the flows can be driven by tests.
"""
from __future__ import annotations

import base64
import hashlib
import os
import secrets
import stat
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .mail.oauth2 import (DEVICE_CODE_GRANT, HINTS, client_secret, write_private, GrantRefused, OAuth2Settings, TokenEndpointError,
                          TokenEndpointUnreachable, TokenError, post_form, refused)

DEFAULT_REDIRECT_URI = "http://127.0.0.1:8765/"
FLOWS = ("device", "paste")
NEXT_STEP = "now run: aftercare check-config, then systemctl reload aftercare"
#: The device flow tolerates this many transient endpoint failures in a row while it polls.
POLL_FAILURES_TOLERATED = 3

Out = Callable[[str], None]
Post = Callable[[str, dict, float], dict]

#: What a refusal means during consent, where it differs from what it means for a running daemon.
CONSENT_HINTS = {
    "invalid_grant": "the code was wrong, already used or expired (codes live minutes): run the command again "
                     "and paste the new address at once",
    "access_denied": "consent was refused at the sign-in page: run the command again and accept, or ask an "
                     "administrator to grant consent for the app",
    "expired_token": "nobody signed in before the code expired: run the command again and enter the code sooner",
    "invalid_request": "the endpoint found the request malformed: check client_id, the scope and the endpoint URLs",
    "unsupported_grant_type": "this endpoint does not offer this flow: try the other one (--flow device|paste)",
}


class ConsentError(Exception):
    """Consent could not be had: ``str()`` says what happened, ``hint`` what to do."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class Granted:
    """What consent gave: a refresh token (never printed) and the scope the endpoint says it granted."""

    refresh_token: str = field(repr=False)
    scope: str


# --- choosing ----------------------------------------------------------------------

def choose_flow(settings: OAuth2Settings, flow: str | None = None) -> str:
    """``device`` or ``paste``: as asked, else the provider's usual one. ConsentError if impossible."""
    if settings.flow == "client_credentials":
        raise ConsentError("flow = client_credentials needs no consent: check-config gets a token directly")
    if flow is None:
        if settings.provider == "microsoft":
            flow = "device"
        elif settings.provider == "google":
            flow = "paste"
        else:
            flow = "device" if settings.device_authorization_url else "paste"
    if flow not in FLOWS:
        raise ConsentError(f"unknown flow {flow!r}: device or paste")
    if flow == "device" and not settings.device_authorization_url:
        why = " (Google's device flow does not grant the mail scope)" if settings.provider == "google" else ""
        raise ConsentError(f"no device_authorization_url for provider {settings.provider}{why}",
                           "use --flow paste, or set device_authorization_url")
    if flow == "paste" and not settings.authorize_url:
        raise ConsentError(f"no authorize_url for provider {settings.provider}",
                           "set authorize_url, or use --flow device")
    return flow


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc


def _refusal(answer: dict, url: str) -> ConsentError:
    """A ConsentError for an endpoint's ``{"error": ...}``: its text, and the consent hint or HINTS'."""
    exc = refused(answer, _host(url))
    error = str(answer.get("error", ""))
    hint = CONSENT_HINTS.get(error) or (exc.hint if isinstance(exc, GrantRefused) else HINTS.get(error, ""))
    return ConsentError(str(exc), hint)


def _granted(answer: dict, settings: OAuth2Settings) -> Granted:
    token = answer.get("refresh_token")
    if not isinstance(token, str) or not token:
        hint = ("Google returns one only with access_type=offline and prompt=consent, as this command asks"
                if settings.provider == "google" else "the scope must include offline_access")
        raise ConsentError("the token endpoint granted access but returned no refresh token", hint)
    scope = answer.get("scope")
    return Granted(token, scope if isinstance(scope, str) and scope else settings.scope)


# --- the device flow (RFC 8628) ----------------------------------------------------------

def device_code_flow(settings: OAuth2Settings, out: Out, sleep: Callable[[float], None] = time.sleep,
                     now: Callable[[], float] = time.monotonic, post: Post = post_form) -> Granted:
    """Ask for a device code, tell the operator where to enter it, poll until consent (or not)."""
    url = settings.device_authorization_url
    if not url:
        raise ConsentError("no device_authorization_url", "use --flow paste, or set device_authorization_url")
    secret = client_secret(settings)
    answer = post(url, {"client_id": settings.client_id, "client_secret": secret, "scope": settings.scope or None},
                  settings.timeout)
    if "error" in answer:
        raise _refusal(answer, url)
    device_code, user_code = answer.get("device_code"), answer.get("user_code")
    if not isinstance(device_code, str) or not device_code or not isinstance(user_code, str):
        raise ConsentError(f"the device authorization endpoint {_host(url)} answered without a device code")
    uri = answer.get("verification_uri_complete") or answer.get("verification_uri") or answer.get("verification_url")
    message = answer.get("message")
    out(message.strip() if isinstance(message, str) and message.strip() else f"Open {uri} and enter the code {user_code}")
    try:
        interval = max(1.0, float(answer.get("interval", 5)))
    except (TypeError, ValueError):
        interval = 5.0
    try:
        expires_in = float(answer.get("expires_in", 900))
    except (TypeError, ValueError):
        expires_in = 900.0
    deadline = now() + expires_in
    minutes = max(1, round(expires_in / 60))
    out(f"Waiting for the sign-in (the code expires in {minutes} min; Ctrl-C gives up)...")
    form = {"grant_type": DEVICE_CODE_GRANT, "device_code": device_code, "client_id": settings.client_id,
            "client_secret": secret}
    failures = 0
    while True:
        sleep(interval)
        if now() >= deadline:
            raise ConsentError("the code expired before anyone signed in with it", CONSENT_HINTS["expired_token"])
        try:
            reply = post(settings.token_url, form, settings.timeout)
        except (TokenEndpointUnreachable, TokenEndpointError) as exc:
            failures += 1  # a blip while someone is signing in should not waste their consent
            if failures > POLL_FAILURES_TOLERATED:
                raise
            out(f"({exc}; trying again)")
            continue
        failures = 0
        error = reply.get("error")
        if not error:
            return _granted(reply, settings)
        if error == "authorization_pending":
            continue
        if error == "slow_down":
            interval += 5
            continue
        if error == "expired_token":
            raise ConsentError("the code expired before anyone signed in with it", CONSENT_HINTS["expired_token"])
        if error in ("access_denied", "authorization_declined"):
            raise ConsentError("consent was refused at the sign-in page", CONSENT_HINTS["access_denied"])
        raise _refusal(reply, settings.token_url)


# --- the paste flow (authorization code + PKCE) ------------------------------------------

def authorization_url(settings: OAuth2Settings, redirect_uri: str, state: str, challenge: str) -> str:
    params = {"response_type": "code", "client_id": settings.client_id, "redirect_uri": redirect_uri,
              "scope": settings.scope, "state": state, "code_challenge": challenge,
              "code_challenge_method": "S256"}
    if settings.provider == "google":
        params.update(access_type="offline", prompt="consent")  # else no refresh token (or none the 2nd time)
    base = settings.authorize_url or ""
    return base + ("&" if "?" in base else "?") + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)


def pasted_code(text: str, state: str) -> str:
    """The code in what the operator pasted: the redirected address (its state checked), or the bare code."""
    text = text.strip().strip("'\"<>")
    if not text:
        raise ConsentError("nothing was pasted", "run the command again and paste the address from the browser")
    if "://" in text or text.startswith("?") or "code=" in text or "error=" in text:
        parts = urllib.parse.urlsplit(text)
        query = parts.query or parts.fragment or (text.split("?", 1)[1] if "?" in text else text)
        params = {k: v[0] for k, v in urllib.parse.parse_qs(query, keep_blank_values=True).items()}
        if "error" in params:
            error = params["error"][:80]
            description = " ".join(params.get("error_description", "").split())[:240]
            raise ConsentError(f"the sign-in page refused: {error}" + (f": {description}" if description else ""),
                               CONSENT_HINTS.get(error) or HINTS.get(error, ""))
        if params.get("state") != state:
            raise ConsentError("the pasted address does not carry this run's state: it comes from another attempt "
                               "(or was altered); nothing was written",
                               "open the URL this run printed and paste the address it leads to")
        code = params.get("code", "")
        if not code:
            raise ConsentError("the pasted address holds no code=", "paste the whole address from the address bar")
        return code
    return urllib.parse.unquote(text) if "%" in text else text


def paste_flow(settings: OAuth2Settings, out: Out, ask: Callable[[str], str],
               redirect_uri: str = DEFAULT_REDIRECT_URI, post: Post = post_form) -> Granted:
    """Print the consent URL, take back the redirected address (or code), exchange it for tokens."""
    if not settings.authorize_url:
        raise ConsentError("no authorize_url", "set authorize_url, or use --flow device")
    verifier = secrets.token_urlsafe(64)  # 86 characters: RFC 7636 wants 43 to 128
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(16)
    out("1. Open this address in a browser on any computer, sign in as the mailbox's user and consent:")
    out("")
    out(f"   {authorization_url(settings, redirect_uri, state, challenge)}")
    out("")
    out(f"2. The browser is then sent to {redirect_uri}?code=... and that page fails to load (nothing listens")
    out("   there): this is expected. Copy the whole address from the browser's address bar and paste it here")
    out("   (or just the value of code=).")
    try:
        text = ask("Address or code: ")
    except EOFError:
        raise ConsentError("nothing was pasted (standard input closed)",
                           "run the command again in a terminal and paste the address") from None
    code = pasted_code(text, state)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "client_id": settings.client_id, "client_secret": client_secret(settings), "code_verifier": verifier}
    answer = post(settings.token_url, form, settings.timeout)
    if "error" in answer:
        raise _refusal(answer, settings.token_url)
    return _granted(answer, settings)


# --- the file ----------------------------------------------------------------------------

def write_refresh_token(path: Path, token: str) -> None:
    """Put ``token`` in ``path`` (one line) atomically: a temporary file in the same folder, mode 0600 from
    before anything is written, fsynced, renamed over the old file, the folder fsynced. A missing folder
    is created with mode 0700. The old file's owner is kept when we may (run as root for a service user)."""
    path = Path(path)
    parent = path.parent
    if not parent.is_dir():
        parent.mkdir(mode=0o700, parents=True)
        os.chmod(parent, 0o700)  # mkdir's mode is subject to the umask
    write_private(path, token + "\n")


def _owner(st: os.stat_result) -> str:
    try:
        import pwd
        return pwd.getpwuid(st.st_uid).pw_name
    except (ImportError, KeyError):
        return str(st.st_uid)


# --- the whole command -----------------------------------------------------------------------

def authorize(settings: OAuth2Settings, *, table: str = "mailbox", flow: str | None = None,
              redirect_uri: str = DEFAULT_REDIRECT_URI, out: Out = print, err: Out | None = None,
              ask: Callable[[str], str] = input, sleep: Callable[[float], None] = time.sleep,
              now: Callable[[], float] = time.monotonic, post: Post = post_form) -> int:
    """Consent by ``flow``, write the refresh token file, say what was done. The exit code: 0 or 1."""
    err = err or out
    try:
        chosen = choose_flow(settings, flow)
        if settings.refresh_token_file is None:
            raise ConsentError(f"[{table}.oauth2] has no refresh_token_file: set one, the token goes there")
        out(f"[{table}.oauth2]: provider {settings.provider}, client {settings.client_id}, {chosen} flow")
        if chosen == "device":
            granted = device_code_flow(settings, out, sleep=sleep, now=now, post=post)
        else:
            granted = paste_flow(settings, out, ask, redirect_uri=redirect_uri, post=post)
    except ConsentError as exc:
        err(f"oauth2 authorize: {exc}")
        if exc.hint:
            err(f"  what to do: {exc.hint}")
        return 1
    except TokenError as exc:  # unreachable, a server error, or a refusal raised by refused()
        err(f"oauth2 authorize: {exc}")
        hint = getattr(exc, "hint", "") or ""
        if hint:
            err(f"  what to do: {hint}")
        return 1
    path = settings.refresh_token_file
    try:
        write_refresh_token(path, granted.refresh_token)
    except OSError as exc:
        err(f"oauth2 authorize: consent was given, but {path} could not be written: {exc.strerror or exc}")
        err("  what to do: run the command again as a user who may write there (the consent is not kept)")
        return 1
    st = path.stat()
    owner = _owner(st)
    out(f"Consent given; scope granted: {granted.scope or '(the endpoint did not say)'}")
    out(f"Wrote the refresh token to {path} (mode {stat.S_IMODE(st.st_mode):04o}, owner {owner}); "
        "the token itself is not shown")
    if st.st_uid == 0:
        out("  note: the file belongs to root; the service runs as User=aftercare (see aftercare.service): "
            f"chown aftercare: {path}")
    out(NEXT_STEP)
    return 0

"""``aftercare oauth2 authorize`` as an operator runs it, against a real token server on loopback.

The command runs as a subprocess (``python -m aftercare``); the "browser" is the test: it approves the
printed device code at the token server, or fetches the printed consent URL without following the
redirect and pastes the Location back on standard input. What is checked is what the issue asks: the
refresh token file is written with mode 0600 and holds a token the server accepts, no token ever
appears in the output, and a refusal says what happened and what to do, with exit code 1 and no file.
"""
from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from aftercare.testing.daemonproc import write_config
from aftercare.testing.tokenserver import TokenServer

USER = "support"


def config(tmp_path: Path, server: TokenServer, provider: str, *, secret: str = "client-secret",
           extra: str = "") -> Path:
    oauth2 = f"""
[mailbox.oauth2]
provider = "{provider}"
client_id = "aftercare"
client_secret = "{secret}"
token_url = "{server.token_url}"
refresh_token_file = "secrets/oauth2-refresh-token"
token_store = "{tmp_path}/state/aftercare-oauth2-mailbox.json"
{extra}
"""
    path = write_config(tmp_path / "config.toml", imap_port=1, smtp_port=1,
                        database_url=f"sqlite:///{tmp_path}/aftercare.db", extra=oauth2)
    path.write_text(path.read_text().replace('password = "secret"', 'auth = "oauth2"', 1))
    return path


def token_file(tmp_path: Path) -> Path:
    return tmp_path / "secrets" / "oauth2-refresh-token"


def start(cfg: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "aftercare", "--config", str(cfg), "oauth2", "authorize", *args],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run(cfg: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aftercare", "--config", str(cfg), "oauth2", "authorize", *args],
                          input=stdin, capture_output=True, text=True, timeout=30)


def refresh(server: TokenServer, refresh_token: str, secret: str = "client-secret") -> dict:
    """A refresh_token grant, as the daemon makes it: the answer's JSON (raises on a refusal)."""
    data = urllib.parse.urlencode({"grant_type": "refresh_token", "client_id": "aftercare",
                                   "client_secret": secret, "refresh_token": refresh_token}).encode()
    with urllib.request.urlopen(urllib.request.Request(server.token_url, data=data), timeout=5) as response:
        return json.loads(response.read())


def assert_no_token_shown(server: TokenServer, *texts: str) -> None:
    for token in server.issued():
        for text in texts:
            assert token not in text


def assert_written_and_accepted(server: TokenServer, tmp_path: Path, output: str) -> None:
    path = token_file(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700  # created by the command
    token = path.read_text().strip()
    assert token and "\n" not in token
    answer = refresh(server, token)
    assert server.introspect(answer["access_token"]) == USER
    assert str(path) in output and "mode 0600" in output
    assert "now run: aftercare check-config, then systemctl reload aftercare" in output
    assert not [p for p in path.parent.iterdir() if p != path]  # no temporary file left behind


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def consent_in_browser(url: str) -> str:
    """What the operator's browser does: sign in, consent, be redirected; the address it ends up at."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(url, timeout=5)
    except urllib.error.HTTPError as exc:
        assert exc.code == 302, exc.code
        return exc.headers["Location"]
    raise AssertionError("the authorize endpoint did not redirect")


def printed_url(stdout: str, server: TokenServer) -> str:
    match = re.search(re.escape(server.authorize_url) + r"\?\S+", stdout)
    assert match, stdout
    return match.group(0)


# --- Microsoft: the device code flow ---------------------------------------------------------------

def test_microsoft_device_flow_approved_in_another_window_writes_the_token_file(token_server, tmp_path):
    cfg = config(tmp_path, token_server, "microsoft")  # the device endpoint is derived: .../devicecode
    proc = start(cfg)
    lines: list[str] = []
    approved = threading.Event()

    def read():
        for line in proc.stdout:
            lines.append(line)
            code = re.search(r"enter the code (\w+)", line)
            if code and not approved.is_set():
                time.sleep(1.2)  # the operator takes a moment: the command polls meanwhile (pending)
                token_server.approve_device(code.group(1), USER)
                approved.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert proc.wait(timeout=20) == 0, proc.stderr.read()
    reader.join(timeout=5)
    out, err = "".join(lines), proc.stderr.read()
    assert approved.is_set()
    assert "devicelogin" in out and "device flow" in out
    assert_written_and_accepted(token_server, tmp_path, out)
    assert "IMAP.AccessAsUser.All" in out  # the scope granted
    assert_no_token_shown(token_server, out, err)
    grants = [r.grant_type for r in token_server.requests if r.path.endswith("/token")]
    assert grants.count("urn:ietf:params:oauth:grant-type:device_code") >= 2  # pending, then granted


def test_a_new_consent_replaces_the_file_atomically_and_the_new_token_wins(token_server, tmp_path):
    token_server.auto_approve_user = USER
    cfg = config(tmp_path, token_server, "microsoft")
    path = token_file(tmp_path)
    path.parent.mkdir(mode=0o700)
    path.write_text("an-old-dead-token\n")
    os.chmod(path, 0o644)
    result = run(cfg, "--flow", "device")
    assert result.returncode == 0, result.stderr
    assert path.read_text() != "an-old-dead-token\n"
    assert_written_and_accepted(token_server, tmp_path, result.stdout)
    assert_no_token_shown(token_server, result.stdout, result.stderr)


def test_a_device_code_nobody_approves_expires_with_a_clear_message(token_server, tmp_path):
    token_server.device_expires_in = 2
    cfg = config(tmp_path, token_server, "microsoft")
    started = time.monotonic()
    result = run(cfg)
    assert result.returncode == 1
    assert time.monotonic() - started < 8
    assert "the code expired before anyone signed in" in result.stderr
    assert "run the command again" in result.stderr
    assert not token_file(tmp_path).exists()
    assert_no_token_shown(token_server, result.stdout, result.stderr)


def test_a_refused_client_says_why_and_what_to_do(token_server, tmp_path):
    token_server.auto_approve_user = USER
    cfg = config(tmp_path, token_server, "microsoft", secret="an-expired-secret")
    result = run(cfg)
    assert result.returncode == 1
    assert "invalid_client" in result.stderr
    assert "check client_id and the client secret" in result.stderr  # HINTS["invalid_client"]
    assert not token_file(tmp_path).exists()
    assert "an-expired-secret" not in result.stdout + result.stderr
    assert_no_token_shown(token_server, result.stdout, result.stderr)


# --- Google: the installed-app flow, the redirected address pasted back ------------------------------

def google(tmp_path: Path, server: TokenServer, **kw) -> Path:
    return config(tmp_path, server, "google", extra=f'authorize_url = "{server.authorize_url}"', **kw)


def test_google_paste_flow_with_the_redirected_address_writes_the_token_file(token_server, tmp_path):
    token_server.auto_approve_user = USER
    proc = start(google(tmp_path, token_server))
    out = ""
    while "Address or code" not in out and "\n2. " not in out:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        out += line
    url = printed_url(out, token_server)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and query["access_type"] == ["offline"]
    assert query["prompt"] == ["consent"] and query["scope"] == ["https://mail.google.com/"]
    location = consent_in_browser(url)
    assert location.startswith("http://127.0.0.1:8765/?code=")
    rest, err = proc.communicate(location + "\n", timeout=20)
    out += rest
    assert proc.returncode == 0, err
    assert "fails to load" in out  # the operator is told the redirect page will not load
    assert_written_and_accepted(token_server, tmp_path, out)
    assert_no_token_shown(token_server, out, err)


def test_a_pasted_address_from_another_attempt_is_refused_and_nothing_is_written(token_server, tmp_path):
    token_server.auto_approve_user = USER
    cfg = google(tmp_path, token_server)
    # A redirect of another run: a live code, but another state (and another PKCE verifier).
    other = consent_in_browser(f"{token_server.authorize_url}?response_type=code&client_id=aftercare"
                               "&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2F&state=someone-elses&scope=x")
    result = run(cfg, stdin=other + "\n")
    assert result.returncode == 1
    assert "state" in result.stderr and "nothing was written" in result.stderr
    assert not token_file(tmp_path).exists()
    assert [r for r in token_server.requests if r.path.endswith("/token")] == []  # the code was never sent
    assert_no_token_shown(token_server, result.stdout, result.stderr)


def test_a_pasted_bare_code_from_another_attempt_fails_the_pkce_check(token_server, tmp_path):
    token_server.auto_approve_user = USER
    cfg = google(tmp_path, token_server)
    other = consent_in_browser(f"{token_server.authorize_url}?response_type=code&client_id=aftercare"
                               "&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2F&state=s&scope=x"
                               "&code_challenge=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
                               "&code_challenge_method=S256")
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(other).query)["code"][0]
    result = run(cfg, stdin=code + "\n")
    assert result.returncode == 1
    assert "invalid_grant" in result.stderr and "run the command again" in result.stderr
    assert not token_file(tmp_path).exists()


# --- what needs no consent ---------------------------------------------------------------------------

def test_client_credentials_needs_no_consent(token_server, tmp_path):
    cfg = config(tmp_path, token_server, "microsoft", extra='flow = "client_credentials"\ntenant = "contoso"')
    result = run(cfg)
    assert result.returncode == 1
    assert "flow = client_credentials needs no consent: check-config gets a token directly" in result.stderr
    assert token_server.requests == []


def test_smtp_without_its_own_table_shares_the_mailbox_grant(token_server, tmp_path):
    cfg = config(tmp_path, token_server, "microsoft")
    cfg.write_text(cfg.read_text().replace('from_address =', 'auth = "oauth2"\nfrom_address =', 1))
    result = run(cfg, "--table", "smtp")
    assert result.returncode == 1
    assert "shares the mailbox's grant" in result.stderr
    assert token_server.requests == []


# --- the polling rules (RFC 8628 3.5), driven in-process: the token server never says slow_down --------

def test_the_device_flow_slows_down_when_told_and_survives_a_blip():
    from aftercare.consent import device_code_flow
    from aftercare.mail.oauth2 import OAuth2Settings, TokenEndpointUnreachable
    clock = [0.0]
    sleeps: list[float] = []
    replies = iter([{"error": "authorization_pending"}, {"error": "slow_down"}, TokenEndpointUnreachable("down"),
                    {"error": "authorization_pending"}, {"access_token": "A", "refresh_token": "R", "scope": "s"}])

    def post(url, form, timeout):
        if url.endswith("/devicecode"):
            return {"device_code": "D", "user_code": "U", "verification_uri": "https://x/device", "interval": 2,
                    "expires_in": 600}
        assert form["device_code"] == "D" and form["grant_type"].endswith(":device_code")
        reply = next(replies)
        if isinstance(reply, Exception):
            raise reply
        return reply

    def sleep(seconds):
        sleeps.append(seconds)
        clock[0] += seconds

    lines: list[str] = []
    settings = OAuth2Settings(provider="custom", token_url="https://x/token", client_id="c",
                              device_authorization_url="https://x/devicecode")
    granted = device_code_flow(settings, lines.append, sleep=sleep, now=lambda: clock[0], post=post)
    assert granted.refresh_token == "R" and granted.scope == "s"
    assert sleeps == [2, 2, 7, 7, 7]  # slow_down: 5 s more from then on
    assert "Open https://x/device and enter the code U" in lines
    assert "R" not in repr(granted)

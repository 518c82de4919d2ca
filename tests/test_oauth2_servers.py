"""The OAuth2 test servers, proven with real clients: the token server, Dovecot's XOAUTH2/OAUTHBEARER, the SMTP sink's."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import secrets
import smtplib
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from aftercare.testing.dovecot import Dovecot
from aftercare.testing.smtpsink import AuthAttempt, SmtpSink
from aftercare.testing.tokenserver import TokenServer
from server_fixtures import oauth2_dovecot, token_server  # noqa: F401 - pytest fixtures

CLIENT = {"client_id": "aftercare", "client_secret": "client-secret"}
RAW = b"From: support@example.test\r\nTo: customer@example.test\r\nSubject: token\r\n\r\nbody\r\n"


def post(url: str, basic: tuple[str, str] | None = None, **form: str) -> tuple[int, dict]:
    """POST a form; (status, JSON body) whatever the status."""
    request = urllib.request.Request(url, data=urlencode(form).encode(), method="POST")
    if basic is not None:
        request.add_header("Authorization", "Basic " + base64.b64encode(":".join(basic).encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.load(exc)


def refresh(server: TokenServer, refresh_token: str, **extra: str) -> tuple[int, dict]:
    return post(server.token_url, grant_type="refresh_token", refresh_token=refresh_token, **{**CLIENT, **extra})


def access_token(server: TokenServer, user: str) -> str:
    status, body = refresh(server, server.grant(user, "https://outlook.office.com/IMAP.AccessAsUser.All"))
    assert status == 200, body
    return body["access_token"]


def imap_login(dovecot: Dovecot, method: str, user: str, secret: str) -> IMAPClient:
    client = IMAPClient(dovecot.host, dovecot.port, ssl=False, timeout=10)
    try:
        getattr(client, method)(user, secret)
    except BaseException:
        client.shutdown()
        raise
    return client


# --- Dovecot: XOAUTH2 / OAUTHBEARER ---------------------------------------------


def test_imap_token_logins_and_password_logins_share_the_mailbox(
    oauth2_dovecot: Dovecot, token_server: TokenServer
) -> None:
    token = access_token(token_server, "support")
    oauth2_dovecot.append("support", "secret", "INBOX", RAW)  # a password login, as the tests' helpers do

    for method in ("oauth2_login", "oauthbearer_login"):
        client = imap_login(oauth2_dovecot, method, "support", token)
        try:
            assert client.select_folder("INBOX", readonly=True)[b"EXISTS"] == 1
        finally:
            client.logout()

    probe = IMAPClient(oauth2_dovecot.host, oauth2_dovecot.port, ssl=False, timeout=10)
    try:
        caps = set(probe.capabilities())
    finally:
        probe.shutdown()
    assert {b"AUTH=XOAUTH2", b"AUTH=OAUTHBEARER", b"AUTH=PLAIN"} <= caps
    assert token_server.token_requests() == 1
    introspections = [r for r in token_server.requests if r.path == "/introspect"]
    assert len(introspections) == 2  # one per token login: nothing is cached


def test_imap_refuses_revoked_expired_foreign_and_password_tokens(
    oauth2_dovecot: Dovecot, token_server: TokenServer
) -> None:
    token = access_token(token_server, "support")
    with pytest.raises(LoginError):  # a token opens only its own user's mailbox
        imap_login(oauth2_dovecot, "oauth2_login", "staff", token)
    with pytest.raises(LoginError):  # a password is no bearer token
        imap_login(oauth2_dovecot, "oauth2_login", "support", "secret")
    with pytest.raises(LoginError):  # a token is no password
        imap_login(oauth2_dovecot, "login", "support", token)

    token_server.revoke("support")
    for method in ("oauth2_login", "oauthbearer_login"):
        with pytest.raises(LoginError):
            imap_login(oauth2_dovecot, method, "support", token)

    token_server.expires_in = 1
    short = access_token(token_server, "support")
    imap_login(oauth2_dovecot, "oauth2_login", "support", short).logout()
    time.sleep(1.05)
    with pytest.raises(LoginError):
        imap_login(oauth2_dovecot, "oauth2_login", "support", short)

    # No penalty, no lockout: the password and a fresh token still work at once.
    imap_login(oauth2_dovecot, "login", "support", "secret").logout()
    token_server.expires_in = 3600
    imap_login(oauth2_dovecot, "oauthbearer_login", "support", access_token(token_server, "support")).logout()
    assert "Provided token is not valid" in oauth2_dovecot.log_tail(200)


# --- SmtpSink: XOAUTH2 / OAUTHBEARER ----------------------------------------------


def xoauth2(user: str, token: str) -> str:
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def oauthbearer(user: str, token: str, port: int) -> str:
    return f"n,a={user},\x01host=127.0.0.1\x01port={port}\x01auth=Bearer {token}\x01\x01"


def smtp_auth(sink: SmtpSink, mechanism: str, user: str, token: str, *, initial: bool = True) -> smtplib.SMTP:
    assert sink.port is not None
    first = xoauth2(user, token) if mechanism == "XOAUTH2" else oauthbearer(user, token, sink.port)
    after_error = "" if mechanism == "XOAUTH2" else "\x01"

    def authobject(challenge: bytes | None = None) -> str:
        # smtplib calls it with no argument for the initial response, with the decoded 334 text after.
        if challenge is None or challenge == b"":
            return first
        assert json.loads(challenge)["status"] in ("401", "invalid_token")
        return after_error

    conn = smtplib.SMTP(sink.host, sink.port, timeout=10)
    try:
        conn.ehlo()
        conn.auth(mechanism, authobject, initial_response_ok=initial)
    except BaseException:
        conn.close()
        raise
    return conn


def test_smtp_token_auth(token_server: TokenServer) -> None:
    check = lambda user, token: token_server.introspect(token) == user  # noqa: E731
    with SmtpSink(oauth2_check=check) as sink:
        token = access_token(token_server, "support")
        for mechanism, initial in (("XOAUTH2", True), ("OAUTHBEARER", True), ("XOAUTH2", False), ("OAUTHBEARER", False)):
            with smtp_auth(sink, mechanism, "support", token, initial=initial) as conn:
                assert {"XOAUTH2", "OAUTHBEARER"} <= set(conn.esmtp_features["auth"].split())
                assert "PLAIN" not in conn.esmtp_features["auth"].split()  # no password configured
                conn.sendmail("support@example.test", ["customer@example.test"], RAW)
        got = sink.wait_for_count(4)
        assert [m.auth_mechanism for m in got] == ["XOAUTH2", "OAUTHBEARER", "XOAUTH2", "OAUTHBEARER"]
        assert {m.auth_login for m in got} == {"support"}

        for mechanism in ("XOAUTH2", "OAUTHBEARER"):
            with pytest.raises(smtplib.SMTPAuthenticationError) as caught:
                smtp_auth(sink, mechanism, "support", "not-a-token")
            assert caught.value.smtp_code == 535
            assert caught.value.smtp_error.startswith(b"5.7.8 Username and Password not accepted")
        with pytest.raises(smtplib.SMTPAuthenticationError):  # someone else's token
            smtp_auth(sink, "XOAUTH2", "staff", token)

        # Unauthenticated mail is refused (auth_required defaults to True with oauth2_check).
        with smtplib.SMTP(sink.host, sink.port, timeout=10) as conn:
            with pytest.raises(smtplib.SMTPSenderRefused):
                conn.sendmail("support@example.test", ["customer@example.test"], RAW)

        assert sink.auth_attempts == [AuthAttempt(m, "support", True) for m in ("XOAUTH2", "OAUTHBEARER") * 2] + [
            AuthAttempt("XOAUTH2", "support", False),
            AuthAttempt("OAUTHBEARER", "support", False),
            AuthAttempt("XOAUTH2", "staff", False),
        ]


def test_smtp_password_and_token_auth_on_one_sink(token_server: TokenServer) -> None:
    check = lambda user, token: token_server.introspect(token) == user  # noqa: E731
    with SmtpSink(username="support", password="secret", oauth2_check=check) as sink:
        with smtplib.SMTP(sink.host, sink.port, timeout=10) as conn:
            conn.login("support", "secret")
            conn.sendmail("support@example.test", ["customer@example.test"], RAW)
        with smtp_auth(sink, "XOAUTH2", "support", access_token(token_server, "support")) as conn:
            conn.sendmail("support@example.test", ["customer@example.test"], RAW)
        with smtplib.SMTP(sink.host, sink.port, timeout=10) as conn:
            with pytest.raises(smtplib.SMTPAuthenticationError):
                conn.login("support", "wrong")
        got = sink.wait_for_count(2)
        assert [m.auth_mechanism for m in got][1] == "XOAUTH2"
        assert got[0].auth_mechanism in ("PLAIN", "LOGIN")
        assert [a.success for a in sink.auth_attempts][-1] is False

    with SmtpSink(username="support", password="secret") as plain:  # no oauth2_check: not offered
        with smtplib.SMTP(plain.host, plain.port, timeout=10) as conn:
            conn.ehlo()
            assert "XOAUTH2" not in conn.esmtp_features["auth"]


# --- the token server ----------------------------------------------------------------


def test_refresh_grant_rotation_and_revocation(token_server: TokenServer) -> None:
    first = token_server.grant("support", "openid offline_access")
    status, body = refresh(token_server, first)
    assert status == 200
    assert body["token_type"] == "Bearer" and body["scope"] == "openid offline_access"
    assert body["expires_in"] == 3600 and "refresh_token" not in body
    assert token_server.introspect(body["access_token"]) == "support"

    token_server.rotate = True
    token_server.expires_in = 0.2
    status, body = refresh(token_server, first, scope="https://outlook.office.com/SMTP.Send")
    assert status == 200 and body["expires_in"] == 1  # ceil
    assert body["scope"] == "https://outlook.office.com/SMTP.Send"
    second = body["refresh_token"]
    assert second != first
    status, body = refresh(token_server, first)  # rotated away: dead at once
    assert (status, body["error"]) == (400, "invalid_grant")
    assert body["error_description"].startswith("AADSTS70000:")
    status, body = refresh(token_server, second)
    assert status == 200
    third, live = body["refresh_token"], body["access_token"]

    token_server.revoke("support")
    assert token_server.introspect(live) is None
    status, body = refresh(token_server, third)
    assert (status, body["error"]) == (400, "invalid_grant")

    assert {first, second, third, live, "client-secret"} <= token_server.issued()
    assert token_server.token_requests() == 5
    assert token_server.token_requests(since=time.monotonic()) == 0
    assert [r.status for r in token_server.requests] == [200, 200, 400, 200, 400]
    assert {r.grant_type for r in token_server.requests} == {"refresh_token"}


def test_client_authentication(token_server: TokenServer) -> None:
    token = token_server.grant("support")
    status, body = post(token_server.token_url, grant_type="refresh_token", refresh_token=token,
                        client_id="aftercare", client_secret="wrong")
    assert (status, body["error"]) == (401, "invalid_client")
    status, body = post(token_server.token_url, grant_type="refresh_token", refresh_token=token, client_id="aftercare")
    assert (status, body["error"]) == (401, "invalid_client")  # confidential client without its secret
    status, body = post(token_server.token_url, grant_type="refresh_token", refresh_token=token,
                        client_id="someone", client_secret="client-secret")
    assert (status, body["error"]) == (401, "invalid_client")
    status, body = post(token_server.token_url, basic=("aftercare", "client-secret"),
                        grant_type="refresh_token", refresh_token=token)
    assert status == 200  # HTTP Basic works too

    token_server.set_client_secret("aftercare", "rotated-secret")
    status, body = refresh(token_server, token)
    assert (status, body["error"]) == (401, "invalid_client")
    status, body = refresh(token_server, token, client_secret="rotated-secret")
    assert status == 200
    assert "rotated-secret" in token_server.issued()

    status, body = post(token_server.token_url, grant_type="password", username="u", password="p", **CLIENT)
    assert (status, body["error"]) == (400, "unsupported_grant_type")

    token_server.app_user = "support"
    status, body = post(token_server.token_url, grant_type="client_credentials",
                        scope="https://outlook.office365.com/.default",
                        client_id="aftercare", client_secret="rotated-secret")
    assert status == 200 and "refresh_token" not in body
    assert token_server.introspect(body["access_token"]) == "support"
    status, body = post(token_server.introspection_url, token=body["access_token"])
    assert body["active"] is True and body["username"] == "support"
    assert post(token_server.introspection_url, token="nonsense")[1] == {"active": False}


def test_device_flow() -> None:
    with TokenServer(clients={"desktop": None}) as server:
        status, start = post(server.device_url, client_id="desktop", scope="offline_access")
        assert status == 200 and start["interval"] == 1 and start["expires_in"] == 900
        assert start["user_code"] in start["message"] and start["verification_uri"] in start["message"]
        poll = dict(grant_type="urn:ietf:params:oauth:grant-type:device_code",
                    client_id="desktop", device_code=start["device_code"])
        status, body = post(server.token_url, **poll)
        assert (status, body["error"]) == (400, "authorization_pending")

        server.approve_device(start["user_code"], "support")
        status, body = post(server.token_url, **poll)
        assert status == 200 and body["refresh_token"] and server.introspect(body["access_token"]) == "support"
        assert post(server.token_url, **poll)[1]["error"] == "invalid_grant"  # a device code is good once
        status, body = refresh(server, body["refresh_token"], client_id="desktop", client_secret="made-up")
        assert (status, body["error"]) == (401, "invalid_client")  # public clients send no secret ...
        status, body = post(server.token_url, grant_type="refresh_token", client_id="desktop",
                            refresh_token=server.grant("support"))
        assert status == 200  # ... and need none

        server.device_expires_in = 0
        status, start = post(server.device_url, client_id="desktop", scope="offline_access")
        status, body = post(server.token_url, **{**poll, "device_code": start["device_code"]})
        assert (status, body["error"]) == (400, "expired_token")

        server.device_expires_in = 900
        server.auto_approve_user = "staff"
        status, start = post(server.device_url, client_id="desktop", scope="offline_access")
        status, body = post(server.token_url, **{**poll, "device_code": start["device_code"]})
        assert status == 200 and server.introspect(body["access_token"]) == "staff"
        assert start["device_code"] in server.issued()


def test_authorization_code_with_pkce(token_server: TokenServer) -> None:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect_uri = "http://127.0.0.1:9/callback"
    query = urlencode({"response_type": "code", "client_id": "aftercare", "redirect_uri": redirect_uri,
                       "scope": "offline_access", "state": "xyz", "code_challenge": challenge,
                       "code_challenge_method": "S256"})
    parts = urlsplit(token_server.authorize_url)

    def authorize() -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        conn.request("GET", f"{parts.path}?{query}")
        response = conn.getresponse()
        response.read()
        conn.close()
        return response

    assert authorize().status == 403  # nobody there to consent
    token_server.auto_approve_user = "support"
    response = authorize()
    assert response.status == 302
    location = urlsplit(response.getheader("Location"))
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    params = parse_qs(location.query)
    assert params["state"] == ["xyz"]
    code = params["code"][0]

    exchange = dict(grant_type="authorization_code", code=code, redirect_uri=redirect_uri, **CLIENT)
    status, body = post(token_server.token_url, **exchange, code_verifier="wrong-verifier")
    assert (status, body["error"]) == (400, "invalid_grant")
    status, body = post(token_server.token_url, **exchange, code_verifier=verifier)
    assert (status, body["error"]) == (400, "invalid_grant")  # the code was used up by the failed try

    code = parse_qs(urlsplit(authorize().getheader("Location")).query)["code"][0]
    status, body = post(token_server.token_url, **{**exchange, "code": code}, code_verifier=verifier)
    assert status == 200 and body["refresh_token"] and body["scope"] == "offline_access"
    assert token_server.introspect(body["access_token"]) == "support"
    assert code in token_server.issued()

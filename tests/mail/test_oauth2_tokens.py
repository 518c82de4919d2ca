"""The token source against a real token endpoint on loopback (aftercare.testing.tokenserver).

What is checked is what breaks in practice: tokens renewed before they expire, a rotated refresh token
kept before it is used (a new process still logs in), a dead grant asked about once and not again until
the operator puts a new token or secret in place, and no token or secret in any error text.
"""
import os
import stat
import time
from pathlib import Path

import pytest

from aftercare.config_schema import Secret
from aftercare.mail.oauth2 import (DEAD_GRANT_RETRY_SECONDS, GrantRefused, OAuth2Settings, TokenEndpointUnreachable,
                                   TokenSource, TokenStoreError, sasl_response)
from aftercare.testing.tokenserver import TokenServer

USER = "support"


def settings(server: TokenServer, tmp_path: Path, **over) -> OAuth2Settings:
    seed = tmp_path / "refresh-token"
    if not seed.exists() and over.get("flow", "refresh_token") == "refresh_token":
        seed.write_text(server.grant(USER) + "\n")
    values = dict(provider="custom", token_url=server.token_url, client_id="aftercare",
                  client_secret=Secret("client-secret"), refresh_token_file=seed,
                  token_store=tmp_path / "state" / "aftercare-oauth2-mailbox.json", timeout=5.0)
    values.update(over)
    return OAuth2Settings(**values)


def test_a_token_is_reused_while_fresh_and_renewed_before_it_expires(token_server, tmp_path):
    token_server.expires_in = 1
    source = TokenSource(settings(token_server, tmp_path))
    first = source.access_token()
    assert token_server.introspect(first) == USER
    assert source.access_token() == first and token_server.token_requests() == 1
    time.sleep(0.85)  # less than its life, but within the margin (a fifth of it)
    second = source.access_token()
    assert second != first and token_server.introspect(second) == USER
    assert token_server.token_requests() == 2


def test_a_refused_token_is_replaced_at_the_next_call(token_server, tmp_path):
    source = TokenSource(settings(token_server, tmp_path))
    first = source.access_token()
    source.refused(first)
    assert source.access_token() != first


def test_a_rotated_refresh_token_is_stored_before_use_and_a_new_process_logs_in_with_it(token_server, tmp_path):
    token_server.rotate = True
    s = settings(token_server, tmp_path)
    seed_token = s.refresh_token_file.read_text().strip()
    source = TokenSource(s)
    source.access_token()
    stored = s.token_store
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert seed_token not in stored.read_text()
    for _ in range(3):  # rotate a few more times, each a "restart": a new source reading the store
        source = TokenSource(s)
        assert token_server.introspect(source.access_token()) == USER
    # The operator's file still holds the first token, which the server no longer accepts: the store won.
    assert s.refresh_token_file.read_text().strip() == seed_token


def test_a_newer_refresh_token_file_wins_over_the_store(token_server, tmp_path):
    token_server.rotate = True
    s = settings(token_server, tmp_path)
    TokenSource(s).access_token()  # the store now holds a rotated token
    token_server.revoke(USER)  # ... which dies; the operator consents again and writes the file
    time.sleep(0.01)
    s.refresh_token_file.write_text(token_server.grant(USER) + "\n")
    assert token_server.introspect(TokenSource(s).access_token()) == USER


def test_a_dead_grant_is_asked_about_once_then_not_until_a_new_token_file_is_in_place(token_server, tmp_path):
    s = settings(token_server, tmp_path)
    source = TokenSource(s)
    source.access_token()
    token_server.revoke(USER)
    source.reset()  # as after a refused login: the cached token is gone
    before = token_server.token_requests()
    with pytest.raises(GrantRefused) as caught:
        source.access_token()
    assert caught.value.error == "invalid_grant" and "oauth2 authorize" in caught.value.hint
    for _ in range(50):  # the loops retry: none of it reaches the endpoint
        with pytest.raises(GrantRefused):
            source.access_token()
    assert token_server.token_requests() - before == 1
    assert not source.changed()
    s.refresh_token_file.write_text(token_server.grant(USER) + "\n")
    assert source.changed()
    assert token_server.introspect(source.access_token()) == USER
    assert source.dead() is None


def test_a_dead_grant_is_asked_about_again_after_the_retry_interval(token_server, tmp_path):
    now = [1000.0]
    source = TokenSource(settings(token_server, tmp_path), clock=lambda: now[0])
    token_server.revoke(USER)
    with pytest.raises(GrantRefused):
        source.access_token()
    with pytest.raises(GrantRefused):
        source.access_token()
    assert token_server.token_requests() == 1
    now[0] += DEAD_GRANT_RETRY_SECONDS
    with pytest.raises(GrantRefused):
        source.access_token()
    assert token_server.token_requests() == 2


def test_a_wrong_client_secret_is_refused_until_the_secret_file_is_replaced(token_server, tmp_path):
    secret_file = tmp_path / "client-secret"
    secret_file.write_text("an-expired-secret\n")
    source = TokenSource(settings(token_server, tmp_path, client_secret=Secret("an-expired-secret"),
                                  client_secret_file=secret_file))
    with pytest.raises(GrantRefused) as caught:
        source.access_token()
    assert caught.value.error == "invalid_client"
    assert "an-expired-secret" not in str(caught.value)
    secret_file.write_text("client-secret\n")
    assert source.changed()
    assert token_server.introspect(source.access_token()) == USER


def test_client_credentials_get_app_only_tokens(tmp_path):
    with TokenServer(app_user=USER) as server:
        source = TokenSource(settings(server, tmp_path, flow="client_credentials", refresh_token_file=None))
        assert server.introspect(source.access_token()) == USER
        assert server.requests[-1].grant_type == "client_credentials"


def test_an_endpoint_that_cannot_be_reached_is_no_dead_grant(tmp_path):
    server = TokenServer().start()
    s = settings(server, tmp_path)
    server.stop()
    source = TokenSource(s)
    with pytest.raises(TokenEndpointUnreachable):
        source.access_token()
    assert source.dead() is None  # the next call tries again (the loops back off)


def test_no_token_is_lost_when_the_store_cannot_be_written(token_server, tmp_path):
    token_server.rotate = True
    blocker = tmp_path / "state"
    blocker.write_text("a file where the store's folder should be")  # refused even to root
    s = settings(token_server, tmp_path, token_store=blocker / "store.json")
    now = [1000.0]
    source = TokenSource(s, clock=lambda: now[0])
    with pytest.raises(TokenStoreError) as caught:
        source.access_token()
    assert str(blocker) in str(caught.value)
    blocker.unlink()
    with pytest.raises(TokenStoreError):
        source.access_token()  # within its backoff: said again without a request (no rotation storm)
    assert token_server.token_requests() == 1
    now[0] += 2.5
    assert token_server.introspect(source.access_token()) == USER  # the rotated token was kept in memory
    assert TokenSource(s).access_token()  # ... and is stored now: a new process logs in with it


def test_no_token_or_secret_appears_in_any_error(token_server, tmp_path):
    texts = []
    s = settings(token_server, tmp_path)
    source = TokenSource(s)
    source.access_token()
    token_server.revoke(USER)
    source.reset()
    for exc_type in (GrantRefused,):
        with pytest.raises(exc_type) as caught:
            source.access_token()
        texts.append(f"{caught.value} {caught.value.hint}")
    token_server.set_client_secret("aftercare", "rotated-by-the-admin")
    s.refresh_token_file.write_text(token_server.grant(USER) + "\n")
    with pytest.raises(GrantRefused) as caught:
        source.access_token()
    texts.append(str(caught.value))
    for text in texts:
        for secret in token_server.issued() | {"client-secret"}:
            assert secret not in text


def test_sasl_messages_have_the_providers_shapes():
    assert sasl_response("XOAUTH2", "a@b.c", "T0K") == "user=a@b.c\x01auth=Bearer T0K\x01\x01"
    assert sasl_response("OAUTHBEARER", "a@b.c", "T0K", "imap.b.c", 993) == \
        "n,a=a@b.c,\x01host=imap.b.c\x01port=993\x01auth=Bearer T0K\x01\x01"


def test_an_endpoint_that_fails_is_asked_again_on_a_backoff_not_every_call(tmp_path):
    now = [1000.0]
    server = TokenServer().start()
    s = settings(server, tmp_path)
    server.stop()
    source = TokenSource(s, clock=lambda: now[0])
    asked = []
    for step in range(120):  # two minutes of calls every second (the refresher, the loops)
        with pytest.raises(TokenEndpointUnreachable):
            source.access_token()
        asked.append(source.requests)
        now[0] += 1
    assert source.requests <= 7, asked  # 2, 4, 8, 16, 32, 64 s apart
    assert source.failure() is not None and source.dead() is None


def test_microsofts_trace_ids_do_not_make_each_refusal_news():
    from aftercare.mail.oauth2 import refused
    from aftercare.trouble import error_key
    texts = {error_key(refused({"error": "invalid_grant", "error_description":
                                f"AADSTS70000: The provided grant has expired. Trace ID: {i}abc Correlation ID: "
                                f"{i}def Timestamp: 2026-12-06 05:1{i}:00Z"}, "login.microsoftonline.com"))
             for i in range(3)}
    assert len(texts) == 1 and "AADSTS70000" in next(iter(texts))[0]


def test_an_unreadable_newer_file_does_not_hide_a_stored_token_that_works(token_server, tmp_path):
    token_server.rotate = True
    s = settings(token_server, tmp_path)
    TokenSource(s).access_token()
    s.refresh_token_file.unlink()
    s.refresh_token_file.mkdir()  # unreadable as a file, even to root
    assert token_server.introspect(TokenSource(s).access_token()) == USER


def test_a_file_copied_with_its_old_mtime_still_wins(token_server, tmp_path):
    token_server.rotate = True
    s = settings(token_server, tmp_path)
    TokenSource(s).access_token()
    old = s.refresh_token_file.stat()
    token_server.revoke(USER)
    s.refresh_token_file.write_text(token_server.grant(USER) + "\n")
    os.utime(s.refresh_token_file, ns=(old.st_atime_ns, old.st_mtime_ns))  # cp -p of a file made earlier
    before = token_server.token_requests()
    assert token_server.introspect(TokenSource(s).access_token()) == USER
    assert token_server.token_requests() == before + 1  # the file was used at once, not after a refusal

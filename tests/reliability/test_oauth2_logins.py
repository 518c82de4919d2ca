"""OAuth2 logins end to end: the real daemon, Dovecot's oauth2 passdb, aiosmtpd and a token server on loopback.

Dovecot asks the token server (introspection) about every token it is shown; aiosmtpd asks it too. So a
token that expired, was rotated away or revoked is refused exactly as Microsoft 365 or Google would.
"""
from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from aftercare.testing.daemonproc import DaemonProcess
from aftercare.testing.smtpsink import SmtpSink
from aftercare.testing.tokenserver import TokenServer
from e2e_support import Stack, complaint
from reliability_support import NotifySocket, log_events, wait_until

USER = "support"


def oauth2_stack(tmp: Path, dovecot, sink, tokens: TokenServer, *, mechanism="XOAUTH2", smtp="oauth2",
                 smtp_table: str = "") -> Stack:
    """A Stack whose daemon logs in to IMAP (and, with ``smtp="oauth2"``, SMTP) with tokens from ``tokens``."""
    seed = tmp / "oauth2-refresh-token"
    seed.write_text(tokens.grant(USER) + "\n")
    seed.chmod(0o600)
    secret = tmp / "oauth2-client-secret"
    secret.write_text("client-secret\n")
    secret.chmod(0o600)
    s = Stack(tmp, dovecot, sink, f"sqlite:///{tmp}/aftercare.db")
    s.write_config(max_retry_interval="1s", extra=f"""
[mailbox.oauth2]
provider = "custom"
token_url = "{tokens.token_url}"
client_id = "aftercare"
client_secret_file = "{secret}"
refresh_token_file = "{seed}"
mechanism = "{mechanism}"
token_store = "{tmp}/state/aftercare-oauth2-mailbox.json"
{smtp_table}""")
    text = s.config.read_text().replace('password = "secret"\n', 'auth = "oauth2"\n', 1)
    if smtp == "oauth2":
        text = text.replace("from_address =", 'auth = "oauth2"\nfrom_address =', 1)
    s.config.write_text(text)
    return s


def oauth2_sink(tokens: TokenServer) -> SmtpSink:
    return SmtpSink(oauth2_check=lambda user, token: tokens.introspect(token) == user)


def assert_no_secret_in(log: Path, tokens: TokenServer) -> None:
    text = log.read_text(errors="replace")
    leaked = [s[:6] + "..." for s in tokens.issued() | {"client-secret"} if s in text]
    assert leaked == [], f"{len(leaked)} tokens or secrets in the daemon's log"


def acknowledged(sink: SmtpSink, senders) -> bool:
    return set(senders) <= {m.rcpt_tos[0] for m in sink.messages}


@pytest.mark.parametrize("mechanism", ["XOAUTH2", "OAUTHBEARER"])
def test_the_daemon_logs_in_to_imap_and_smtp_with_tokens(tmp_path, token_server, oauth2_dovecot, mechanism):
    with oauth2_sink(token_server) as sink:
        s = oauth2_stack(tmp_path, oauth2_dovecot, sink, token_server, mechanism=mechanism)
        s.start()
        s.deliver(complaint(sender="maria@example.net")[0])
        ack = sink.wait_for(lambda m: "maria@example.net" in m.rcpt_tos, timeout=20)[0]
        assert ack.auth_mechanism == mechanism and ack.auth_login == USER
        assert f"method={mechanism}" in oauth2_dovecot.log_path.read_text()
        check = s.cli("check-config")
        assert check.returncode == 0, check.stderr
        assert "token endpoint gave an access token" in check.stdout
        assert f"with an OAuth2 token ({mechanism})" in check.stdout
        s.daemon.stop()
        assert_no_secret_in(s.daemon.log_path, token_server)
        assert not any(t in check.stdout + check.stderr for t in token_server.issued())


def test_short_lived_rotating_tokens_for_30_s_with_reconnects_and_a_sigkill_right_after_a_rotation(
        tmp_path, token_server, oauth2_dovecot):
    """Access tokens live 3 s and every refresh rotates the refresh token (the old one dies at once).
    Complaints arrive every second for 30 s; Dovecot restarts twice (every session logs in afresh, with an
    expired token in hand), and the daemon is SIGKILLed the moment it has stored a rotated token."""
    token_server.expires_in = 3
    token_server.rotate = True
    with oauth2_sink(token_server) as sink:
        s = oauth2_stack(tmp_path, oauth2_dovecot, sink, token_server)
        store = tmp_path / "state" / "aftercare-oauth2-mailbox.json"
        s.start()
        senders, started, events = [], time.monotonic(), set()
        killed_at = None
        i = 0
        while time.monotonic() - started < 31:
            sender = f"customer{i}@example.net"
            s.deliver(complaint(sender=sender, subject=f"Broken item {i}")[0])
            senders.append(sender)
            i += 1
            elapsed = time.monotonic() - started
            if elapsed > 9 and "restart1" not in events:
                oauth2_dovecot.restart()
                events.add("restart1")
            elif elapsed > 15 and "kill" not in events:
                before = store.stat().st_mtime_ns
                assert wait_until(lambda: store.stat().st_mtime_ns != before, timeout=10, interval=0.005), \
                    "no rotation within 10 s"
                s.daemon.kill()  # right after the rotated token was stored, before it was used
                killed_at = time.monotonic() - started
                s.daemon = DaemonProcess(s.config, tmp_path / "daemon.log").start()
                events.add("kill")
            elif elapsed > 22 and "restart2" not in events:
                oauth2_dovecot.restart()
                events.add("restart2")
            time.sleep(1)
        assert wait_until(lambda: acknowledged(sink, senders), timeout=40), s.daemon.tail()
        time.sleep(1.5)
        s.daemon.stop()
        per_customer = Counter(m.rcpt_tos[0] for m in sink.messages if m.rcpt_tos[0] in senders)
        assert per_customer == {c: 1 for c in senders}
        refreshes = [r for r in token_server.requests if r.grant_type == "refresh_token"]
        assert all(r.status == 200 for r in refreshes), [(r.path, r.status) for r in refreshes if r.status != 200]
        logins = oauth2_dovecot.log_path.read_text().count("method=XOAUTH2")
        print(f"\nRELIABILITY oauth2-rotation: {len(senders)} complaints over {time.monotonic() - started:.0f} s, "
              f"tokens of 3 s, {len(refreshes)} refreshes (each rotating), {logins} IMAP logins, Dovecot "
              f"restarted twice, SIGKILL {killed_at:.1f} s in right after a rotation; every complaint "
              f"acknowledged once")
        assert len(refreshes) >= 5 and logins >= 4
        assert_no_secret_in(tmp_path / "daemon.log", token_server)


def test_a_revoked_grant_is_said_once_emailed_shown_in_status_and_mended_by_a_new_token_file(
        tmp_path, token_server, oauth2_dovecot, smtp_sink):
    """IMAP logs in with OAuth2, SMTP with no login: SMTP still works, so the escalation address is told."""
    notify = NotifySocket()
    try:
        s = oauth2_stack(tmp_path, oauth2_dovecot, smtp_sink, token_server, smtp="none")
        s.daemon = DaemonProcess(s.config, tmp_path / "daemon.log", env={"NOTIFY_SOCKET": notify.path}).start()
        s.daemon.wait_ready()
        token_server.revoke(USER)
        revoked = time.monotonic()
        oauth2_dovecot.restart()  # every session ends: the daemon must log in again
        s.deliver(complaint(sender="waiting@example.net")[0])
        s.daemon.wait_for_log(lambda l: l.get("event") == "OAuth2 grant for the mailbox refused; intake waits",
                              timeout=20)
        alert = smtp_sink.wait_for(lambda m: "jane@example.com" in m.rcpt_tos, timeout=20)[0]
        assert "Action needed" in alert.message["Subject"]
        assert "oauth2 authorize" in alert.message.get_body(("plain",)).get_content()
        assert wait_until(lambda: notify.starting("STATUS=FAILING", since=revoked), timeout=10)
        status = [text for _, text in notify.received if "STATUS=FAILING" in text][-1]
        assert "invalid_grant" in status and "imap-login" in status
        time.sleep(20)
        window = time.monotonic() - revoked
        asked = token_server.token_requests(since=revoked)
        said = log_events(s.daemon, "OAuth2 grant for the mailbox refused; intake waits")
        assert len(said) == 1, said
        assert said[0]["level"] == "error" and "oauth2 authorize" in said[0]["hint"]
        assert asked <= 3, f"{asked} token requests in {window:.0f} s"
        assert len(log_events(s.daemon, "mailbox connection lost; reconnecting")) <= 1  # Dovecot's restart
        assert not [m for m in smtp_sink.messages if "waiting@example.net" in m.rcpt_tos]
        check = s.cli("check-config")
        assert check.returncode == 1 and "step 1, the token endpoint" in check.stderr and "invalid_grant" in check.stderr
        # The operator consents again (aftercare oauth2 authorize writes the file): no reload needed.
        (tmp_path / "oauth2-refresh-token").write_text(token_server.grant(USER) + "\n")
        fixed = time.monotonic()
        smtp_sink.wait_for(lambda m: "waiting@example.net" in m.rcpt_tos, timeout=20)
        resumed = time.monotonic() - fixed
        assert len([m for m in smtp_sink.messages if "jane@example.com" in m.rcpt_tos
                    and "Action needed" in (m.message["Subject"] or "")]) == 1
        print(f"\nRELIABILITY oauth2-revoked: said once in {window:.0f} s, {asked} token requests meanwhile, "
              f"escalation emailed, STATUS FAILING; acknowledged {resumed:.1f} s after a new token file")
        s.daemon.stop()
        assert_no_secret_in(tmp_path / "daemon.log", token_server)
    finally:
        notify.close()


def test_a_dead_smtp_grant_holds_the_outbox_while_intake_goes_on_and_a_new_secret_mends_it(
        tmp_path, token_server, oauth2_dovecot):
    """SMTP has a grant of its own whose client secret expired: intake records every complaint meanwhile,
    the emails wait without a try counted, and a new secret file sends them without a reload."""
    smtp_secret = tmp_path / "smtp-client-secret"
    smtp_secret.write_text("expired-secret\n")
    smtp_seed = tmp_path / "smtp-refresh-token"
    smtp_seed.write_text(token_server.grant(USER) + "\n")
    table = f"""
[smtp.oauth2]
provider = "custom"
token_url = "{token_server.token_url}"
client_id = "aftercare"
client_secret_file = "{smtp_secret}"
refresh_token_file = "{smtp_seed}"
token_store = "{tmp_path}/state/aftercare-oauth2-smtp.json"
"""
    with oauth2_sink(token_server) as sink:
        s = oauth2_stack(tmp_path, oauth2_dovecot, sink, token_server, smtp_table=table)
        s.start()
        senders = [f"held{i}@example.net" for i in range(3)]
        for sender in senders:
            s.deliver(complaint(sender=sender)[0])
        s.daemon.wait_for_log(lambda l: l.get("event") == "OAuth2 grant for SMTP refused; the outbox waits")
        assert wait_until(lambda: len(s.cases()) == 3, timeout=20)
        time.sleep(3)
        assert sink.messages == []
        for c in s.cases():
            assert s.case_json(c["id"])["outbox"] == {"pending": 2}
        smtp_secret.write_text("client-secret\n")
        assert wait_until(lambda: acknowledged(sink, senders), timeout=30), s.daemon.tail()
        said = log_events(s.daemon, "OAuth2 grant for SMTP refused; the outbox waits")
        assert len(said) == 1 and "invalid_client" in said[0]["error"]
        s.daemon.stop()
        assert_no_secret_in(tmp_path / "daemon.log", token_server)
        assert "expired-secret" not in (tmp_path / "daemon.log").read_text()


def test_a_grant_mended_at_the_provider_is_used_again_after_a_reload(tmp_path, token_server, oauth2_dovecot,
                                                                     smtp_sink):
    """The app registration was disabled (invalid_client) and an admin enabled it again: nothing changed on
    this server, so the daemon would wait out its slow schedule; `systemctl reload` makes it ask at once."""
    s = oauth2_stack(tmp_path, oauth2_dovecot, smtp_sink, token_server, smtp="none")
    token_server.set_client_secret("aftercare", "disabled-by-an-admin")
    s.daemon = DaemonProcess(s.config, tmp_path / "daemon.log").start()
    s.daemon.wait_for_log(lambda l: l.get("event") == "OAuth2 grant for the mailbox refused; intake waits")
    token_server.set_client_secret("aftercare", "client-secret")
    time.sleep(3)
    assert not log_events(s.daemon, "mailbox connected")  # the slow schedule: no request, no login
    reloaded = time.monotonic()
    s.daemon.signal(signal.SIGHUP)
    s.daemon.wait_connected(timeout=15)
    print(f"\nRELIABILITY oauth2-reload: logged in {time.monotonic() - reloaded:.1f} s after the reload")
    s.deliver(complaint(sender="after-reload@example.net")[0])
    smtp_sink.wait_for(lambda m: "after-reload@example.net" in m.rcpt_tos, timeout=20)
    s.daemon.stop()

"""The test servers themselves: real Dovecot, real SMTP sink, real PostgreSQL."""

from __future__ import annotations

import smtplib
import threading
import time

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from aftercare.testing.dovecot import Dovecot
from server_fixtures import (  # noqa: F401 - pytest fixtures
    dovecot,
    dovecot_factory,
    postgres_url,
    smtp_sink,
)
from aftercare.testing.smtpsink import SmtpSink

RAW = (
    b"From: Customer <customer@example.test>\r\n"
    b"To: support@example.test\r\n"
    b"Subject: =?utf-8?q?Kaputt_=C3=BCberall?=\r\n"
    b"Message-ID: <c1@example.test>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b"Die Lieferung ist \xc3\xbcberf\xc3\xa4llig.\r\n"
    b".leading dot and trailing spaces   \r\n"
)


def _send(sink: SmtpSink, rcpts: list[str], raw: bytes = RAW, **login: str) -> None:
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
        if login:
            client.login(login["user"], login["password"])
        client.sendmail("support@example.test", rcpts, raw)


# --- Dovecot ---------------------------------------------------------------


def test_append_then_fetch_all_round_trips_bytes(dovecot: Dovecot) -> None:
    uid = dovecot.append("support", "secret", "INBOX", RAW)
    second = RAW.replace(b"<c1@", b"<c2@")
    dovecot.append("support", "secret", "INBOX", second)

    assert uid == 1
    assert dovecot.fetch_all("support", "secret", "INBOX") == [RAW, second]
    # Other users' mailboxes are separate.
    assert dovecot.fetch_all("customer", "secret", "INBOX") == []


def test_append_creates_missing_folder(dovecot: Dovecot) -> None:
    dovecot.append("staff", "secret", "Archive", RAW)

    assert set(dovecot.folders("staff", "secret")) == {"INBOX", "Archive"}
    assert dovecot.fetch_all("staff", "secret", "Archive") == [RAW]


def _capabilities(server: Dovecot) -> set[bytes]:
    with server.client("support", "secret") as client:
        return set(client.capabilities())


def test_default_capabilities_include_idle_and_move(dovecot: Dovecot) -> None:
    caps = _capabilities(dovecot)
    assert {b"IDLE", b"MOVE", b"UIDPLUS"} <= caps


@pytest.mark.parametrize(
    ("idle", "move"), [(False, True), (True, False), (False, False)], ids=str
)
def test_capabilities_can_omit_idle_and_move(dovecot_factory, idle: bool, move: bool) -> None:
    server = dovecot_factory(idle=idle, move=move)

    caps = _capabilities(server)
    assert (b"IDLE" in caps) is idle
    assert (b"MOVE" in caps) is move
    assert {b"IMAP4REV1", b"UIDPLUS", b"LITERAL+"} <= caps
    # Before login too (imap-login advertises the same list).
    client = IMAPClient(server.host, server.port, ssl=False, timeout=5)
    try:
        pre = set(client.capabilities())
        assert (b"IDLE" in pre) is idle
        assert (b"MOVE" in pre) is move
    finally:
        client.shutdown()


def test_restart_keeps_mail_users_and_port(dovecot: Dovecot) -> None:
    dovecot.append("customer", "secret", "INBOX", RAW)
    port = dovecot.port

    dovecot.restart()

    assert dovecot.port == port
    assert dovecot.fetch_all("customer", "secret", "INBOX") == [RAW]


def test_stopped_server_refuses_connections(dovecot: Dovecot) -> None:
    dovecot.stop()
    with pytest.raises(OSError):
        IMAPClient(dovecot.host, dovecot.port, ssl=False, timeout=2)
    dovecot.start()
    assert dovecot.folders("support", "secret") == ["INBOX"]


def test_add_user_while_running(dovecot: Dovecot) -> None:
    dovecot.add_user("newbie", "pw1")
    assert dovecot.folders("newbie", "pw1") == ["INBOX"]


def test_wrong_password_fails_fast_and_does_not_penalise(dovecot: Dovecot) -> None:
    started = time.monotonic()
    for _ in range(2):
        with pytest.raises(LoginError):
            with dovecot.client("support", "wrong"):
                pass
    with dovecot.client("support", "secret") as client:
        client.noop()
    # Dovecot's auth penalty is off: with it, the second attempt would wait
    # 2 s and the good login 4 s more.
    assert time.monotonic() - started < 3


def test_idle_sees_new_mail_quickly(dovecot: Dovecot) -> None:
    with dovecot.client("support", "secret") as client:
        client.select_folder("INBOX")
        client.idle()
        timer = threading.Timer(
            0.2, dovecot.append, ("support", "secret", "INBOX", RAW)
        )
        timer.start()
        try:
            responses = client.idle_check(timeout=5)
        finally:
            timer.join()
            client.idle_done()
    assert (1, b"EXISTS") in responses


# --- SMTP sink ----------------------------------------------------------------


def test_sink_receives_message(smtp_sink: SmtpSink) -> None:
    _send(smtp_sink, ["customer@example.test", "Staff@Example.test"])

    [got] = smtp_sink.wait_for_count(1, timeout=5)
    assert got.mail_from == "support@example.test"
    assert got.rcpt_tos == ["customer@example.test", "Staff@Example.test"]
    assert got.data == RAW
    assert got.message["Subject"] == "Kaputt überall"
    assert got.message.get_content().splitlines() == [
        "Die Lieferung ist überfällig.",
        ".leading dot and trailing spaces   ",
    ]
    assert smtp_sink.for_recipient("staff@example.test") == [got]
    assert smtp_sink.for_recipient("nobody@example.test") == []
    assert smtp_sink.wait_for(lambda m: m.message["Message-ID"] == "<c1@example.test>") == [got]


def test_sink_wait_for_times_out(smtp_sink: SmtpSink) -> None:
    with pytest.raises(TimeoutError):
        smtp_sink.wait_for_count(1, timeout=0.2)


@pytest.mark.parametrize("code", [451, 550])
def test_refuse_at_data(smtp_sink: SmtpSink, code: int) -> None:
    smtp_sink.refuse(code)
    with pytest.raises(smtplib.SMTPDataError) as info:
        _send(smtp_sink, ["customer@example.test"])
    assert info.value.smtp_code == code
    assert smtp_sink.messages == []

    smtp_sink.refuse(None)
    _send(smtp_sink, ["customer@example.test"])
    assert len(smtp_sink.wait_for_count(1, timeout=5)) == 1


def test_refuse_at_rcpt(smtp_sink: SmtpSink) -> None:
    smtp_sink.refuse(451, "Try again later", at="RCPT")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as info:
        _send(smtp_sink, ["customer@example.test"])
    code, text = info.value.recipients["customer@example.test"]
    assert code == 451
    assert b"Try again later" in text


def test_refuse_only_a_number_of_times(smtp_sink: SmtpSink) -> None:
    smtp_sink.refuse(451, times=1)
    with pytest.raises(smtplib.SMTPDataError):
        _send(smtp_sink, ["customer@example.test"])
    _send(smtp_sink, ["customer@example.test"])  # the retry goes through
    assert len(smtp_sink.messages) == 1


def test_sink_stop_and_start_on_same_port(smtp_sink: SmtpSink) -> None:
    _send(smtp_sink, ["customer@example.test"])
    port = smtp_sink.port

    smtp_sink.stop()
    with pytest.raises(OSError):
        _send(smtp_sink, ["customer@example.test"])
    smtp_sink.start()

    assert smtp_sink.port == port
    _send(smtp_sink, ["customer@example.test"])
    assert len(smtp_sink.wait_for_count(2, timeout=5)) == 2


def test_sink_auth() -> None:
    with SmtpSink(username="mailer", password="pw") as sink:
        with pytest.raises(smtplib.SMTPSenderRefused) as info:
            _send(sink, ["customer@example.test"])  # no AUTH
        assert info.value.smtp_code == 530
        with pytest.raises(smtplib.SMTPAuthenticationError) as bad:
            _send(sink, ["customer@example.test"], user="mailer", password="nope")
        assert bad.value.smtp_code == 535

        _send(sink, ["customer@example.test"], user="mailer", password="pw")
        [got] = sink.wait_for_count(1, timeout=5)
        assert got.auth_login == "mailer"


def test_sink_delivers_into_dovecot(smtp_sink: SmtpSink, dovecot: Dovecot) -> None:
    smtp_sink.deliver_to(
        dovecot, "customer", "secret", recipients=["customer@example.test"]
    )
    _send(smtp_sink, ["customer@example.test"])
    _send(smtp_sink, ["someone-else@example.test"], RAW.replace(b"<c1@", b"<c2@"))

    assert dovecot.fetch_all("customer", "secret", "INBOX") == [RAW]
    assert smtp_sink.delivery_errors == []


# --- PostgreSQL -----------------------------------------------------------------


def test_postgres_url_is_a_fresh_database(postgres_url: str) -> None:
    import psycopg2

    with psycopg2.connect(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT current_database()")
        assert cur.fetchone()[0].startswith("aftercare_test_")
        cur.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert cur.fetchone()[0] == 0
        cur.execute("CREATE TABLE t (x int)")
    conn.close()

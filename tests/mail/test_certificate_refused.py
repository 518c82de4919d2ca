"""An untrusted TLS certificate is a permanent failure of the IMAP and SMTP edges, not a lost connection:
a real TLS handshake on loopback with a self-signed certificate the client does not trust."""
from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from datetime import timedelta

import pytest

from aftercare.mail.imap import ImapSettings, Mailbox, MailboxCertificateRefused
from aftercare.mail.smtp import SmtpCertificateRefused, SmtpSender, SmtpSettings


@pytest.fixture
def tls_server(tmp_path):
    """A loopback listener that completes TLS handshakes with a self-signed certificate, then hangs up."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                    "-days", "1", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass  # the client refused our certificate: what the test is about

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(2)
    listener.close()


class _Secret:
    def reveal(self) -> str:
        return "secret"


def test_imap_says_the_certificate_is_not_trusted_and_that_it_is_permanent(tls_server):
    settings = ImapSettings("127.0.0.1", tls_server, "tls", "support", _Secret(), timedelta(seconds=5))
    with pytest.raises(MailboxCertificateRefused) as caught:
        Mailbox(settings).connect()
    assert caught.value.permanent
    assert f"the TLS certificate of 127.0.0.1:{tls_server} is not trusted" in str(caught.value)
    assert "self-signed certificate" in str(caught.value)


def test_smtp_says_the_certificate_is_not_trusted_and_that_it_is_permanent(tls_server):
    settings = SmtpSettings("127.0.0.1", tls_server, "tls", None, None, timedelta(seconds=5))
    with pytest.raises(SmtpCertificateRefused) as caught:
        SmtpSender(settings).check()
    assert caught.value.permanent and "certificate is not trusted" in str(caught.value)


def test_smtp_with_a_username_but_no_auth_offered_is_permanent_not_a_retry_per_email():
    from aftercare.mail.smtp import SmtpAuthUnavailable
    from aftercare.testing.smtpsink import SmtpSink
    with SmtpSink() as sink:  # a plain aiosmtpd: no AUTH in its EHLO
        settings = SmtpSettings("127.0.0.1", sink.port, "none", "aftercare", _Secret(), timedelta(seconds=5))
        with pytest.raises(SmtpAuthUnavailable) as caught:
            SmtpSender(settings).check()
    assert caught.value.permanent and "offers no login (AUTH)" in str(caught.value)

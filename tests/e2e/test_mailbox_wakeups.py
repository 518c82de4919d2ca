"""The IMAP edge against a real Dovecot: mail that arrives mid-scan is not left for the next full scan,
and fetching is bounded."""
import time

from aftercare.config import MailboxConfig, Secret
from aftercare.mail.imap import Mailbox


def support_mailbox(dovecot) -> Mailbox:
    config = MailboxConfig(host=dovecot.host, port=dovecot.port, security="none", username="support",
                           password=Secret("secret"))
    mailbox = Mailbox(config)
    mailbox.connect()
    return mailbox


def raw(n: int) -> bytes:
    return f"From: c{n}@example.net\r\nSubject: Complaint {n}\r\nMessage-ID: <m{n}@example.net>\r\n\r\nBroken.\r\n".encode()


def test_mail_announced_in_the_reply_to_a_scan_wakes_the_next_wait_at_once(dovecot):
    mailbox = support_mailbox(dovecot)
    try:
        first = mailbox.uids()
        assert mailbox.idle_wait(0.1, lambda: False) is True  # what SELECT announced: one look, then quiet
        assert mailbox.idle_wait(0.6, lambda: False) is False
        time.sleep(1.0)  # past the gap between two such wake-ups
        with dovecot.client("support", "secret") as other:
            other.append("INBOX", raw(1))
        time.sleep(0.3)
        seen = mailbox.uids(max(first, default=0))  # the server announces the message in this reply
        started = time.monotonic()
        # IDLE would not announce it again: before the fix this waited the whole 10 s and returned False.
        assert mailbox.idle_wait(10, lambda: False) is True
        assert time.monotonic() - started < 1.0
        assert len(mailbox.uids(max(first, default=0))) == 1 and len(seen) <= 1
    finally:
        mailbox.close()


def test_a_server_that_repeats_exists_costs_one_extra_scan_a_second_not_a_busy_loop(dovecot):
    mailbox = support_mailbox(dovecot)
    try:
        mailbox.uids()
        wakes, started = 0, time.monotonic()
        while time.monotonic() - started < 3.0:
            mailbox.client._imap.untagged_responses["EXISTS"] = [b"0"]  # a chatty server, nothing new
            assert mailbox.uids(10_000) == []
            wakes += mailbox.idle_wait(10, lambda: False)
        assert 2 <= wakes <= 4, wakes  # about one a second, and never more
    finally:
        mailbox.close()


def test_fetch_batches_are_bounded_by_count_and_by_size(dovecot, monkeypatch):
    from aftercare.mail import imap
    monkeypatch.setattr(imap, "FETCH_BATCH_BYTES", 300_000)
    big = raw(99).replace(b"Broken.", b"x" * 200_000)
    with dovecot.client("support", "secret") as other:
        for n in range(30):
            other.append("INBOX", big if n in (3, 4, 5) else raw(n))
    mailbox = support_mailbox(dovecot)
    try:
        batches = list(mailbox.fetch_batches(mailbox.uids()))
    finally:
        mailbox.close()
    assert [uid for batch in batches for uid, _ in batch] == list(range(1, 31))  # each once, in order
    assert all(len(b) <= imap.FETCH_BATCH for b in batches)
    assert all(sum(len(body) for _, body in b) <= 300_000 or len(b) == 1 for b in batches)
    assert [len(b) for b in batches] == [4, 1, 25]  # two big ones together would pass the size limit

"""Files both ways, end to end on Dovecot and aiosmtpd: the owner gets the customer's files, the customer
gets the staff member's (not their logo, not the quoted photo), a budget, blocked types, a 552."""
from __future__ import annotations

import hashlib
import os
import time

import pytest

from attachment_mail import EXE, JPEG, LOGO, PDF, gmail_complaint, outlook_staff_reply, thunderbird_staff_reply
from e2e_support import Stack, parsed, wait_for_n
from aftercare.testing.smtpsink import SmtpSink

JANE, MARIA = "jane@example.com", "maria@example.net"


def files_of(message) -> dict[str, tuple[str, bytes, str]]:
    """filename -> (content type, bytes, disposition) of every non-text part."""
    out = {}
    for part in message.walk():
        if part.is_multipart() or part.get_content_type() in ("text/plain", "text/html"):
            continue
        out[part.get_filename()] = (part.get_content_type(), part.get_payload(decode=True),
                                    part.get_content_disposition())
    return out


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()




def notification(stack):
    return parsed(stack.smtp.wait_for(lambda m: m.rcpt_tos == [JANE], timeout=20)[0])


def test_a_complaint_with_a_photo_and_a_pdf_reaches_the_owner_with_both_byte_for_byte(stack, tmp_path):
    stack.start()
    stack.deliver(gmail_complaint([("Invoice 10234.pdf", "application/pdf", PDF)]))
    note = notification(stack)
    got = files_of(note)
    assert got["Invoice 10234.pdf"] == ("application/pdf", PDF, "attachment")
    assert got["lid.jpg"][:2] == ("image/jpeg", JPEG) and got["lid.jpg"][2] == "inline"
    # The photo stays in the text where the customer put it: the HTML part shows it by its Content-ID.
    photo = next(p for p in note.walk() if p.get_filename() == "lid.jpg")
    html = note.get_body(("html",)).get_content()
    assert f'cid:{photo["Content-ID"].strip("<>")}' in html
    assert "Invoice 10234.pdf" in text_of(note) and "not all are attached" not in text_of(note)
    # The customer's acknowledgment does not send their own files back.
    ack = parsed(stack.smtp.wait_for(lambda m: m.rcpt_tos == [MARIA])[0])
    assert files_of(ack) == {}

    listed = stack.cli("cases", "attachments", "1")
    assert listed.returncode == 0 and "Invoice 10234.pdf" in listed.stdout and "stored" in listed.stdout
    saved = stack.cli("cases", "attachments", "1", "--save", str(tmp_path / "out"))
    assert saved.returncode == 0, saved.stderr
    assert (tmp_path / "out" / "Invoice 10234.pdf").read_bytes() == PDF
    assert (tmp_path / "out" / "lid.jpg").read_bytes() == JPEG


@pytest.mark.parametrize("client", ["thunderbird", "outlook"])
def test_a_staff_reply_with_a_pdf_reaches_the_customer_with_it_and_without_the_signature_logo(stack, client):
    stack.start()
    stack.deliver(gmail_complaint([]))
    note = notification(stack)
    make = thunderbird_staff_reply if client == "thunderbird" else outlook_staff_reply
    stack.deliver(make(note, "Jane Doe <jane@example.com>", "Dear Maria,\nhere is the return label.",
                       [("Return label 10234.pdf", "application/pdf", PDF)]))
    relay = parsed(wait_for_n(stack, lambda m: m.rcpt_tos == [MARIA] and b"return label" in m.data, 1)[0])
    assert files_of(relay) == {"Return label 10234.pdf": ("application/pdf", PDF, "attachment")}
    body = text_of(relay)
    assert "here is the return label." in body
    assert "a new complaint has arrived" not in body and "wrote:" not in body
    time.sleep(0.5)
    assert not [m for m in stack.smtp.messages if m.rcpt_tos == [JANE] and b"Not sent" in m.data]


def test_a_30_mb_file_is_left_out_with_a_notice_and_can_be_saved(sqlite_stack, tmp_path):
    stack = sqlite_stack
    stack.start()
    video = os.urandom(30 * 1024 * 1024)
    stack.deliver(gmail_complaint([("unboxing.mp4", "video/mp4", video),
                                   ("Invoice 10234.pdf", "application/pdf", PDF)]))
    note = notification(stack)
    got = files_of(note)
    assert set(got) == {"lid.jpg", "Invoice 10234.pdf"} and got["Invoice 10234.pdf"][1] == PDF
    text = text_of(note)
    assert "unboxing.mp4 (video/mp4, 30.0 MB): left out, too large to send together" in text
    assert "aftercare cases attachments 1 --save DIR" in text and "Aftercare/Processed" in text
    saved = stack.cli("cases", "attachments", "1", "--save", str(tmp_path / "files"))
    assert saved.returncode == 0, saved.stderr
    assert hashlib.sha256((tmp_path / "files" / "unboxing.mp4").read_bytes()).digest() == \
        hashlib.sha256(video).digest()


def test_a_blocked_type_stays_with_the_staff_member_who_is_told_which_and_why(stack):
    stack.start()
    stack.deliver(gmail_complaint([], photo=None))
    note = notification(stack)
    stack.deliver(thunderbird_staff_reply(note, "Jane Doe <jane@example.com>", "Dear Maria,\nthe label and a fix.",
                                          [("Return label.pdf", "application/pdf", PDF),
                                           ("KettleFix.exe", "application/x-msdownload", EXE)]))
    relay = parsed(wait_for_n(stack, lambda m: m.rcpt_tos == [MARIA] and b"the label and a fix" in m.data, 1)[0])
    assert set(files_of(relay)) == {"Return label.pdf"}
    told = parsed(wait_for_n(stack, lambda m: m.rcpt_tos == [JANE] and b"Not sent to the customer" in m.data, 1)[0])
    text = text_of(told)
    assert "This attachment was not sent (KettleFix.exe)" in text and "programs, scripts" in text


def test_a_552_refusal_sends_the_words_again_without_files_and_tells_the_owner(tmp_path, dovecot, database_url):
    # A server that takes 150 kB at most: the photo and the PDF do not fit, the words do.
    with SmtpSink(data_size_limit=150_000) as sink:
        stack = Stack(tmp_path, dovecot, sink, database_url)
        try:
            stack.start()
            stack.deliver(gmail_complaint([("Invoice 10234.pdf", "application/pdf", PDF)]))
            note = parsed(sink.wait_for(lambda m: m.rcpt_tos == [JANE], timeout=20)[0])
            assert files_of(note) == {}
            assert "refused this email as too large with its attachments (lid.jpg, Invoice 10234.pdf)" in \
                text_of(note).replace("\n", " ")
            assert "the kettle arrived with a cracked lid" in text_of(note)
            stack.deliver(thunderbird_staff_reply(note, "Jane Doe <jane@example.com>", "Dear Maria,\nthe label.",
                                                  [("Return label.pdf", "application/pdf", PDF),
                                                   ("Packing.jpg", "image/jpeg", JPEG)], quoted_photo=LOGO))
            relay = parsed(wait_for_n(stack, lambda m: m.rcpt_tos == [MARIA] and b"the label." in m.data, 1)[0])
            assert files_of(relay) == {}
            assert "We meant to send you Return label.pdf, Packing.jpg" in text_of(relay).replace("\n", " ")
            told = parsed(wait_for_n(stack, lambda m: m.rcpt_tos == [JANE] and b"Attachments not delivered" in m.data,
                                     1)[0])
            assert "Return label.pdf" in text_of(told) and "552" in text_of(told)
            time.sleep(1.5)  # never loops: one of each
            assert len([m for m in sink.messages if m.rcpt_tos == [MARIA] and b"the label." in m.data]) == 1
            assert len([m for m in sink.messages if m.rcpt_tos == [JANE]]) == 2
            sent = {m["kind"]: m["status"] for m in stack.case_json(1)["messages"] if m["direction"] == "out"}
            assert sent["relay"] == "sent" and sent["notification"] == "sent"
        finally:
            if stack.daemon:
                stack.daemon.stop()

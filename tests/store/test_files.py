"""Attachments as they are stored and written into emails (store/files.py, mail/compose.py), on SQLite and
PostgreSQL: the bytes on the wire are the file's, names survive any language and any hostility, a forwarded
message goes as it came, and a file is stored once."""
from __future__ import annotations

import email
import email.policy
import hashlib
from datetime import datetime
from pathlib import Path

import pytest

from aftercare.inbound import Attachment
from aftercare.mail.compose import compose, file_name, without_files
from aftercare.mail.parse import parse
from aftercare.store import files
from aftercare.store.models import AttachmentFile, database
from aftercare.templates import RenderedEmail

NOW = datetime(2026, 3, 2, 9, 0)
CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def a_file(name, data, ctype="application/pdf", **kw):
    return Attachment(name, ctype, len(data), sha256=hashlib.sha256(data).hexdigest(), data=data, **kw)


def wire(attachments, text="Here it is.", html=None):
    raw = compose(RenderedEmail("Re: kettle [Case #1]", text, html), from_name="Acme Support",
                  from_address="support@example.com", to_name="Maria", to_address="maria@example.net",
                  message_id="x1.case1@example.com", now=NOW, loop_marker="support@example.com", case_id=1,
                  attachments=attachments).raw
    with database.atomic():
        files.store(attachments, NOW)
    return raw, email.message_from_bytes(files.expand(raw), policy=email.policy.default)


def test_names_in_every_language_and_hostile_ones_arrive_safe_and_readable(db):
    names = ["Rechnung März 2026.pdf", "Возврат товара.pdf", "返品ラベル.pdf", 'a"b\\c.pdf',
             "evil\r\nBcc: victim@example.org.pdf", "../../etc/passwd", "=?utf-8?q?x=0D=0ABcc:_v@e.org?=.pdf",
             "x" * 400 + ".pdf"]
    attachments = [a_file(n, f"file {i}".encode()) for i, n in enumerate(names)]
    raw, sent = wire(attachments)
    assert b"\r\nBcc:" not in raw and b"\nBcc:" not in raw
    got = [(p.get_filename(), p.get_content()) for p in sent.iter_attachments()]
    assert [g[1] for g in got] == [a.data for a in attachments]
    assert [g[0] for g in got] == [file_name(n) for n in names]
    assert got[0][0] == "Rechnung März 2026.pdf" and got[1][0] == "Возврат товара.pdf" and got[2][0] == "返品ラベル.pdf"
    assert "/" not in got[5][0] and len(got[7][0].encode()) <= 255 and got[7][0].endswith(".pdf")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


INNER = (b"Received: from mx.customer.example (mx.customer.example [192.0.2.7]) by mail.retailer.example "
         b"(Postfix) with ESMTPS id 4Q2k; Sun, 15 Mar 2026 18:00:01 +0000\r\n"
         b"DKIM-Signature: v=1; a=rsa-sha256; c=simple/simple; d=customer.example; s=s1; h=from:subject:date;\r\n"
         b"\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=dGVzdA==\r\n"
         b"From: Paul Customer <paul@customer.example>\r\nTo: shop@retailer.example\r\n"
         b"Subject: My drill broke after two days and nobody at the shop would take it back, which I find really "
         b"disappointing\r\nMessage-ID: <fwd-2@customer.example>\r\nMIME-Version: 1.0\r\n"
         b"Content-Type: text/plain; charset=utf-8\r\n\r\nIt broke.\r\n")


def test_a_forwarded_message_goes_as_it_came_byte_for_byte(db):
    raw = (b"From: Jane <jane@example.com>\r\nTo: support@example.com\r\nSubject: Fwd: drill\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n--outer\r\n"
           b"Content-Type: text/plain\r\n\r\nSee below.\r\n--outer\r\nContent-Type: message/rfc822\r\n"
           b"Content-Disposition: attachment; filename=\"drill.eml\"\r\n\r\n" + INNER + b"\r\n--outer--\r\n")
    forwarded = parse(raw).attachments[0]
    assert forwarded.content_type == "message/rfc822" and forwarded.data.rstrip(b"\r\n") == INNER.rstrip(b"\r\n")
    wire_bytes = files.expand(wire([forwarded])[0])
    assert INNER.rstrip(b"\r\n") in wire_bytes  # not refolded, not re-encoded: a DKIM signature still holds
    sent = email.message_from_bytes(wire_bytes, policy=email.policy.default)
    [part] = list(sent.iter_attachments())
    assert part.get_content_type() == "message/rfc822" and part.get_filename() == "drill.eml"
    assert part.get_payload()[0]["Message-ID"] == "<fwd-2@customer.example>"


def test_a_program_inside_a_forwarded_message_blocks_the_message(db):
    from aftercare.cases.attachments import BLOCKED_ATTACHMENT_TYPES, select
    mail = parse((CORPUS / "forwarded_rfc822.eml").read_bytes())
    forwarded, receipt = mail.attachments
    assert forwarded.inside == (("receipt.pdf", "application/pdf"),) and receipt.nested and not receipt.data
    evil = type(forwarded)(**{**forwarded.__dict__, "inside": (("KettleFix.exe", "application/octet-stream"),)})
    chosen = select([evil], budget=10**9, blocked=BLOCKED_ATTACHMENT_TYPES)
    assert chosen.sent == () and [x.reason for x in chosen.left_out] == ["blocked_type"]


def test_an_inline_image_stays_in_the_html_part_and_a_file_is_stored_once(db):
    photo = a_file("lid.jpg", b"\xff\xd8\xff" + b"j" * 5000, "image/jpeg", inline=True, referenced=True)
    pdf = a_file("invoice.pdf", b"%PDF" + b"p" * 9000)
    raw, sent = wire([photo, pdf])
    wire([photo, pdf])  # the same files in a second email
    assert AttachmentFile.select().count() == 2
    assert len(raw) < 2500  # the row holds a line per file, not its bytes
    html = sent.get_body(("html",)).get_content()
    image = next(p for p in sent.walk() if p.get_filename() == "lid.jpg")
    assert image.get_content_disposition() == "inline" and f'cid:{image["Content-ID"].strip("<>")}' in html
    assert image.get_content() == photo.data and "Here it is." in html


def test_without_files_keeps_the_headers_and_the_words(db):
    raw, _ = wire([a_file("label.pdf", b"%PDF" * 100)])
    smaller = email.message_from_bytes(without_files(raw, "Here it is.\n\n(no files)\n"),
                                       policy=email.policy.default)
    assert smaller["Message-ID"] == "<x1.case1@example.com>" and not list(smaller.iter_attachments())
    assert smaller.get_content_type() == "text/plain" and "(no files)" in smaller.get_content()
    assert not files.carries_files(without_files(raw, "x"))


def test_an_email_naming_a_file_no_longer_stored_is_refused_not_sent_broken(db):
    raw, _ = wire([a_file("label.pdf", b"%PDF-gone")])
    AttachmentFile.delete().execute()
    with pytest.raises(files.MissingFile):
        files.expand(raw)

"""Which files go with an email (cases/attachments.py) and which SMTP refusals mean "too large"."""
from __future__ import annotations

import pytest

from aftercare.cases.attachments import BLOCKED_ATTACHMENT_TYPES, is_blocked, select, wire_size
from aftercare.inbound import Attachment
from aftercare.mail.smtp import MessageTooLarge, PermanentFailure, TemporaryFailure, _refusal

MB = 1024 * 1024


def f(name, size=1000, ctype="application/pdf"):
    return Attachment(name, ctype, size, sha256="ab" * 32)


def test_the_largest_are_left_out_first_until_the_rest_fits_as_it_travels():
    small, big, bigger = f("a.pdf", 2 * MB), f("b.mov", 9 * MB), f("c.mov", 12 * MB)
    chosen = select([small, big, bigger], budget=20 * MB, blocked=())
    assert chosen.sent == (small, big) and [(x.file, x.reason) for x in chosen.left_out] == [(bigger, "too_large")]
    # 15 MiB of file is 20.5 MiB of base64: over a 20 MiB budget, so a server with a 20 MiB limit never sees it
    assert wire_size(15 * MB) > 20 * MB
    assert select([f("d.mov", 15 * MB)], budget=20 * MB, blocked=()).sent == ()


@pytest.mark.parametrize("name,ctype", [("setup.EXE", "application/octet-stream"), ("invoice.pdf.js", "text/plain"),
                                        ("Budget.xlsm", "application/vnd.ms-excel.sheet.macroEnabled.12"),
                                        ("run.ps1", "text/plain"), ("tool", "application/x-msdownload"),
                                        ("app.jar", "application/zip"), ("fix.bat.", "application/octet-stream")])
def test_programs_scripts_and_macro_office_files_are_blocked(name, ctype):
    assert is_blocked(f(name, ctype=ctype), BLOCKED_ATTACHMENT_TYPES)


@pytest.mark.parametrize("name", ["label.pdf", "photo.jpeg", "Rechnung.docx", "data.xlsx", "notes.txt", "jsfile.json"])
def test_ordinary_files_are_not(name):
    assert not is_blocked(f(name, ctype="application/octet-stream"), BLOCKED_ATTACHMENT_TYPES)


@pytest.mark.parametrize("code,text,kind", [
    (552, "Error: Too much mail data", MessageTooLarge),  # aiosmtpd, no enhanced status
    (552, "5.3.4 Message size exceeds fixed maximum message size", MessageTooLarge),  # Postfix
    (552, "5.2.3 Message exceeded 26214400 bytes", MessageTooLarge),
    (554, "5.3.4 Message too big for system", MessageTooLarge),  # Exchange
    (552, "5.2.2 The email account that you tried to reach is over quota", PermanentFailure),
    (552, "5.7.0 This message was blocked because its content presents a potential security issue",
     PermanentFailure),
    (452, "4.3.1 Insufficient system storage", TemporaryFailure),
])
def test_only_a_size_refusal_is_too_large(code, text, kind):
    refusal = _refusal(code, text, whole_message=True)
    assert type(refusal) is kind


def test_a_staff_reply_keeps_only_the_pictures_its_own_words_show():
    from dataclasses import replace

    from aftercare.cases.attachments import staff_files
    from aftercare.inbound import image_mark
    from aftercare.mail.quoting import own_text
    from aftercare.samples import sample_mail

    shot = Attachment("screenshot.png", "image/png", 500, sha256="1" * 64, referenced=True, inline=True)
    logo = Attachment("logo.png", "image/png", 300, sha256="2" * 64, referenced=True, inline=True)
    quoted = Attachment("lid.jpg", "image/jpeg", 900, sha256="3" * 64, referenced=True, inline=True)
    label = Attachment("label.pdf", "application/pdf", 900, sha256="4" * 64)
    html = (f"Here is where to click: {image_mark(0)}\n\n-- \nJane {image_mark(1)}\n\n"
            f"On Mon, 2 Mar 2026 at 09:14, Maria <maria@example.net> wrote:\n> The lid: {image_mark(2)}\n")
    mail = replace(sample_mail(), attachments=(shot, logo, quoted, label), html_text=html)
    assert [a.filename for a in staff_files(mail, own_text(html))] == ["screenshot.png", "label.pdf"]
    # an interleaved answer keeps the quoted paragraph it answers: a picture there stays quoted
    interleaved = (f"On Mon, 2 Mar 2026 at 09:14, Maria <maria@example.net> wrote:\n> Is this the lid? {image_mark(2)}\n"
                   f"Yes, that one.\n> And the box?\nThe box is fine.\n")
    assert [a.filename for a in staff_files(mail, own_text(interleaved))] == ["label.pdf"]
    # nothing of their own: none of the pictures is theirs (not the quoted history given back)
    nothing = f"On Mon, 2 Mar 2026 at 09:14, Maria <maria@example.net> wrote:\n> The lid: {image_mark(2)}\n"
    assert [a.filename for a in staff_files(mail, own_text(nothing))] == ["label.pdf"]

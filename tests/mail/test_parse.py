"""parse(): raw bytes -> InboundMail, for real mail and for hostile input."""
from __future__ import annotations

import hashlib
import importlib.util
import time
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aftercare.mail.parse as parse_module
from aftercare.inbound import Attachment, DeliveryReport, InboundMail
from aftercare.mail.parse import MAX_DEPTH, parse

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def _load_make_corpus():
    spec = importlib.util.spec_from_file_location("aftercare_make_corpus", CORPUS / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_corpus = _load_make_corpus()


def corpus(name: str) -> InboundMail:
    return parse((CORPUS / f"{name}.eml").read_bytes())


ALL_FILES = sorted(CORPUS.glob("*.eml"))


# -- the corpus itself ----------------------------------------------------------


def test_corpus_is_complete_and_up_to_date():
    built = make_corpus.build_corpus()
    assert len(built) >= 45
    on_disk = {p.name for p in ALL_FILES}
    assert on_disk == set(built), "run: python tests/corpus/make_corpus.py"
    for name, data in built.items():
        assert (CORPUS / name).read_bytes() == data, f"{name} differs from make_corpus.py output"


@pytest.mark.parametrize("path", ALL_FILES, ids=[p.stem for p in ALL_FILES])
def test_every_corpus_file_parses_cleanly(path):
    raw = path.read_bytes()
    mail = parse(raw)
    assert isinstance(mail, InboundMail)
    assert mail.size == len(raw)
    _assert_invariants(mail, raw)


def _assert_invariants(mail: InboundMail, raw: bytes) -> None:
    for value in (mail.subject, mail.from_name, *mail.headers.values(), *mail.headers.keys()):
        assert "\r" not in value and "\n" not in value and "\x00" not in value
    assert "\x00" not in mail.text and "\r" not in mail.text
    if mail.message_id:
        assert mail.fingerprint.startswith(mail.message_id[:900] + "#")
        assert "<" not in mail.message_id and ">" not in mail.message_id
        assert not any(ch.isspace() for ch in mail.message_id)
    else:
        assert mail.fingerprint == "sha256:" + hashlib.sha256(raw).hexdigest()
    for mid in (*mail.in_reply_to, *mail.references):
        assert mid and "<" not in mid and ">" not in mid and not any(ch.isspace() for ch in mid)
    for addr in (mail.from_address or "x", *mail.to, *mail.cc, *mail.reply_to):
        assert addr == addr.lower() and " " not in addr
    if mail.date is not None:
        assert mail.date.tzinfo is None
    for att in mail.attachments:
        assert isinstance(att, Attachment) and att.size >= 0
        assert att.filename is None or ("\n" not in att.filename and "\x00" not in att.filename)
    assert all(isinstance(d, str) for d in mail.defects)


# -- real clients ---------------------------------------------------------------


def test_outlook_cp1252_multipart_alternative():
    mail = corpus("outlook_reply_cp1252")
    assert mail.subject == "RE: [Case #42] Kettle leaks"
    assert mail.from_name == "Jörg Müller"
    assert mail.from_address == "joerg.mueller@contoso.example"
    assert mail.message_id == "AM0PR01MB6547B1C2D3E4F5A6B7C8D9E0F1A2@AM0PR01MB6547.eurprd01.prod.exchangelabs.com"
    assert mail.in_reply_to == ("case-42.2@support.example.com",)
    assert mail.references == ("ack-42@support.example.com", "case-42.2@support.example.com")
    assert mail.thread_ids == ("case-42.2@support.example.com", "ack-42@support.example.com")
    assert mail.date == datetime(2026, 3, 10, 9, 15, 42)
    # text/plain preferred over the HTML alternative; windows-1252 decoded
    assert mail.text.startswith("Hello,\n\nthe kettle still leaks \u2013 I paid \u20ac49.99 for it and I\u2019m not happy.")
    assert "MsoNormal" not in mail.text
    assert mail.headers["thread-index"] == "AQHacmF5Kzc2l0CnR0mKq3Zb1pQbGrFx0pWA"
    assert mail.headers["x-ms-has-attach"] == ""
    assert mail.attachments == ()
    assert mail.delivery_report is None
    assert mail.return_path is None
    assert mail.defects == ()


def test_outlook_html_only_windows_1252():
    mail = corpus("outlook_html_only_cp1252")
    assert mail.text.startswith("The replacement kettle also leaks \u2013 a \u20ac10 voucher is not enough.\n\nRegards,\nSam")
    assert "From: Aftercare Support <support@example.com>" in mail.text
    assert "<p" not in mail.text and "MsoNormal" not in mail.text
    assert mail.date == datetime(2026, 3, 10, 15, 1)


def test_gmail_reply():
    mail = corpus("gmail_reply")
    assert mail.subject == "Re: [Case #42] Kettle leaks"
    assert mail.from_name == "Jane Doe"
    assert mail.date == datetime(2026, 3, 11, 7, 3, 12)  # +0100 -> UTC
    assert mail.text.startswith("Thanks, the replacement arrived but it is also broken. The lid doesn\u2019t close.")
    assert "> we have shipped a replacement." in mail.text  # the plain part, quotes included
    assert "gmail_quote" not in mail.text


def test_apple_mail_and_iphone():
    apple = corpus("apple_mail_reply")
    assert apple.message_id == "5A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9@example.net"
    assert "> On 12 Mar 2026, at 10:00, Aftercare Support <support@example.com> wrote:" in apple.text
    iphone = corpus("iphone_reply")
    assert iphone.text.startswith("Still not working \U0001f61e\n\nSent from my iPhone")
    assert iphone.headers["x-mailer"] == "iPhone Mail (21D61)"


def test_thunderbird_format_flowed_is_unwrapped():
    mail = corpus("thunderbird_reply")
    assert mail.text.startswith(
        "The invoice is attached to my first mail. The machine was bought on 2 February and stopped working after a week."
    )
    assert "> Could you send the invoice? We need it to process the warranty claim." in mail.text
    assert mail.text.endswith("-- \nMax Mustermann\nExample GmbH")


def test_french_and_german():
    fr = corpus("french_reply")
    assert fr.subject == "Re: [Case #46] Bouilloire cassée"
    assert fr.from_name == "Amélie Poulain"
    assert "même après le remplacement" in fr.text
    de = corpus("german_outlook_reply")
    assert de.subject == "AW: [Case #47] Wasserkocher defekt"
    assert de.from_name == "Jürgen Weiß"
    assert "Der Deckel schließt nicht mehr." in de.text


def test_russian_koi8r_and_utf8():
    koi = corpus("russian_koi8r")
    assert koi.subject == "Re: [Case #48] Чайник не работает"
    assert koi.from_name == "Иван Петров"
    assert "Чайник всё ещё не работает, индикатор не горит." in koi.text
    utf = corpus("russian_utf8")
    assert utf.subject == "Re: [Case #49] Возврат денег"
    assert utf.from_name == "Мария Сидорова"
    assert utf.reply_to == ("maria@example.ru",)
    assert "Прошу вернуть деньги за заказ 5555." in utf.text


def test_japanese_iso_2022_jp():
    mail = corpus("japanese_iso2022jp")
    assert mail.subject == "Re: [Case #50] 商品が届きません"  # two adjacent encoded words
    assert mail.from_name == "山田 太郎"
    assert "商品がまだ届いていません。" in mail.text
    assert mail.date == datetime(2026, 3, 16, 10, 0)  # +0900 -> UTC


def test_forwarded_message_counts_its_attachments_but_not_its_text():
    mail = corpus("forwarded_rfc822")
    assert mail.text == "Please see the forwarded complaint from my customer below."
    assert mail.attachments[0].content_type == "message/rfc822"
    assert mail.attachments[0].filename == "My drill broke.eml"
    receipt = mail.attachments[1]
    assert (receipt.filename, receipt.content_type, receipt.size) == ("receipt.pdf", "application/pdf",
                                                                      make_corpus.FORWARDED_PDF_SIZE)
    # the receipt travels inside the forwarded message, which is kept as it came
    assert receipt.nested and not mail.attachments[0].nested
    assert b"\r\nFrom: " in mail.attachments[0].data and b"receipt.pdf" in mail.attachments[0].data


def test_forwarded_text_used_when_there_is_no_other_text():
    mail = corpus("forwarded_only")
    assert mail.text == "The drill broke after one use."
    assert [a.content_type for a in mail.attachments] == ["message/rfc822", "application/pdf"]
    assert mail.message_id == "D0E1F2A3-B4C5-4D6E-8F70-819203A4B5C6@retailer.example"  # the outer one


def test_pdf_attachment_with_rfc2231_name():
    mail = corpus("pdf_attachment")
    assert mail.attachments == (Attachment("Rechnung März.pdf", "application/pdf", make_corpus.PDF_ATTACHMENT_SIZE),)
    assert mail.text.startswith("Hallo,\n\nanbei die Rechnung für den Toaster")


def test_html_only_becomes_readable_text():
    mail = corpus("html_only")
    assert "Renée O'Brien" in mail.text
    assert "Order number  4711" in mail.text
    assert "The toaster caught fire & smells." in mail.text
    assert "alert(" not in mail.text and "font-family" not in mail.text and "<" not in mail.text
    assert mail.reply_to == ("renee@example.ie",)


def test_mailing_list_headers():
    mail = corpus("mailing_list")
    assert mail.headers["list-id"] == "Product news <products.lists.example.org>"
    assert mail.return_path == "products-bounces+support=example.com@lists.example.org"


# -- delivery reports ---------------------------------------------------------------


def test_postfix_rfc3464_bounce():
    mail = corpus("bounce_postfix")
    assert mail.delivery_report == DeliveryReport(
        original_message_ids=("ack-1@support.example.com",),
        recipients=("nobody@example.org",),
        action="failed",
        status="5.1.1",
        diagnostic="550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in virtual mailbox table",
    )
    assert mail.from_address == "mailer-daemon@mx.example.com"
    assert mail.from_name == "Mail Delivery System"
    assert mail.return_path == ""
    assert mail.text.startswith("This is the mail system at host mx.example.com.")
    assert "we received your complaint" not in mail.text  # the returned mail is not our text


def test_exchange_ndr_with_rfc822_headers():
    report = corpus("bounce_exchange").delivery_report
    assert report is not None
    assert report.original_message_ids == ("ack-2@support.example.com",)
    assert report.recipients == ("former.employee@contoso.example",)
    assert report.status == "5.1.10"
    assert report.action == "failed"
    assert report.diagnostic.startswith("550 5.1.10 RESOLVER.ADR.RecipientNotFound")


def test_gmail_bounce():
    mail = corpus("bounce_gmail")
    report = mail.delivery_report
    assert report.original_message_ids == ("ack-3@support.example.com",)
    assert report.recipients == ("no.such.user@gmail.example",)
    assert report.status == "5.1.1"
    assert report.diagnostic.startswith("550-5.1.1 The email account that you tried to reach does not exist.")
    assert "\n" not in report.diagnostic
    assert mail.text.startswith("** Address not found **")
    assert Attachment("icon.png", "image/png", 67) in mail.attachments


def test_non_rfc_bounces():
    qmail = corpus("bounce_qmail_inline").delivery_report
    assert qmail == DeliveryReport(
        original_message_ids=("ack-4@support.example.com",),
        recipients=("gone@example.biz",),
        action="failed",
        status="5.1.1",
        diagnostic="Sorry, no mailbox here by that name. (#5.1.1)",
    )
    attached = corpus("bounce_mailer_daemon_attached").delivery_report
    assert attached.original_message_ids == ("ack-5@support.example.com",)
    assert attached.recipients == ("lost@example.info",)
    assert attached.action == "failed"


def test_ordinary_mail_has_no_delivery_report():
    for name in ("gmail_reply", "forwarded_rfc822", "ooo_exchange", "hostile_forged_message_id"):
        assert corpus(name).delivery_report is None


# -- hostile --------------------------------------------------------------------------


def test_missing_boundary_is_recovered():
    mail = corpus("hostile_missing_boundary")
    assert mail.text == "This is the body text."
    assert mail.attachments == (Attachment("data.bin", "application/octet-stream", 10),)
    assert "multipart without usable boundary" in mail.defects


def test_unterminated_multipart():
    mail = corpus("hostile_unterminated")
    assert mail.text == "The text before the attachment."
    assert mail.attachments[0].filename == "photo.jpg"
    assert "MIME: CloseBoundaryNotFoundDefect" in mail.defects


def test_unknown_and_lying_charsets():
    unknown = corpus("hostile_unknown_charset")
    assert unknown.text == "Ürün arızalı \u2013 the product is broken."
    assert "unknown charset 'x-unknown'" in unknown.defects
    lying = corpus("hostile_lying_charset")
    assert lying.text == "The caf\u00e9 machine \u201cDeluxe\u201d costs \u20ac199."
    assert any("not valid 'utf-8'" in d for d in lying.defects)


def test_nul_bytes_are_stripped():
    mail = corpus("hostile_nul_bytes")
    assert mail.subject == "HelloWorld"
    assert mail.from_name == "Evil"
    assert mail.message_id == "nulbytes@example.net"
    assert mail.text == "Bodytext with  NULs."


def test_one_megabyte_line():
    mail = corpus("hostile_long_line")
    assert mail.text.startswith("Short first line.\n0123456789abcdef")
    assert len(mail.text) == len("Short first line.\n") + make_corpus.LONG_LINE_SIZE


def test_deep_nesting_is_capped():
    mail = corpus("hostile_deep_nesting")
    assert mail.text == "Top level text"  # "deep inside" is at level 100
    assert f"MIME nesting deeper than {MAX_DEPTH}; inner parts ignored" in mail.defects


def test_nesting_deeper_than_the_stdlib_can_parse():
    parts = ['From: a@example.org\nSubject: 3000 deep\nContent-Type: multipart/mixed; boundary="b0"\n\n']
    parts += [f'--b{i - 1}\nContent-Type: multipart/mixed; boundary="b{i}"\n\n' for i in range(1, 3000)]
    mail = parse("".join(parts).encode())
    assert mail.subject == "3000 deep"
    assert mail.from_address == "a@example.org"
    assert any(d.startswith("parser failed") for d in mail.defects)


def test_raw_8bit_headers():
    mail = corpus("hostile_8bit_headers")
    assert mail.subject == "Réclamation: produit défectueux \u2713"  # raw UTF-8
    assert mail.from_name == "François Dupont"  # raw latin-1, not valid UTF-8
    assert mail.headers["x-comment"] == "\u201cquoted\u201d by a cp1252 program"


def test_non_ascii_addresses():
    mail = corpus("hostile_non_ascii_address")
    assert mail.from_address == "jörg@bücher.example"
    assert mail.from_name == "Jörg Bücher"
    assert mail.to == ("用户@例子.广告", "support@example.com")
    assert mail.cc == ("zoë@xn--bcher-kva.example",)
    assert mail.message_id == "smtputf8@bücher.example"


def test_encoded_word_cannot_inject_headers():
    mail = corpus("hostile_header_injection")
    assert mail.subject == "Refund request Bcc: victim@example.org"
    assert mail.from_name == "Evil Bcc: victim@example.org"
    assert mail.from_address == "evil@example.net"
    assert "bcc" not in mail.headers
    assert "victim@example.org" not in mail.to + mail.cc + mail.reply_to


def test_template_syntax_is_kept_as_data():
    mail = corpus("hostile_jinja")
    assert mail.subject == "{{ 7*7 }} {% for x in y %}"
    assert mail.from_name == "{{ 7*7 }} {% for x in y %}"
    assert mail.from_address == "jinja@example.org"
    assert mail.text.startswith("Hello {{ 7*7 }}\n{% for x in y %}{{ x }}{% endfor %}")


def test_forged_message_id_is_reported_as_is():
    mail = corpus("hostile_forged_message_id")
    assert mail.message_id == "ack-1@support.example.com"
    assert mail.fingerprint.startswith("ack-1@support.example.com#")
    assert mail.from_address == "mallory@example.net"


def test_the_same_email_twice_shares_a_fingerprint_and_a_reused_message_id_does_not():
    raw = (CORPUS / "gmail_reply.eml").read_bytes()
    redelivered = b"Received: from relay2.example.net by mx.example.com; Mon, 9 Mar 2026 10:00:00 +0000\r\n" + raw
    assert parse(raw).fingerprint == parse(redelivered).fingerprint
    other = raw.replace(b"Subject: ", b"Subject: Another matter, ", 1)
    assert parse(other).message_id == parse(raw).message_id
    assert parse(other).fingerprint != parse(raw).fingerprint


def test_empty_body_and_missing_headers():
    empty = corpus("hostile_empty_body")
    assert empty.text == "" and empty.attachments == ()
    raw = (CORPUS / "hostile_missing_headers.eml").read_bytes()
    bare = parse(raw)
    assert bare.message_id is None and bare.from_address is None and bare.date is None
    assert bare.fingerprint == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert bare.subject == "no sender, no date, no id"
    assert bare.text == "Who sent this?"
    assert {"missing Message-ID", "missing From", "missing Date"} <= set(bare.defects)


def test_references_garbage():
    mail = corpus("references_garbage")
    assert mail.message_id == "spaced.id@example.net"
    assert mail.in_reply_to == ("case-64.2@support.example.com",)
    assert mail.references == (
        "case-64.1@support.example.com",
        "case-64.2@support.example.com",
        "case-64.3@support.example.com",
    )


def test_bad_base64_date_and_encoded_words():
    assert corpus("hostile_bad_base64").text == "Hello world"
    bad_date = corpus("hostile_bad_date")
    assert bad_date.date is None and "unparseable Date header" in bad_date.defects
    words = corpus("hostile_bad_encoded_words")
    assert words.subject == "Hellocaf\u00e9abc"  # unknown charset, empty word, latin-1 in a utf-8 word
    assert words.from_name == "Name"


def test_garbage_no_separator_mbox_and_many_parts():
    garbage = corpus("hostile_binary_garbage")
    assert garbage.message_id is None and garbage.size == 4096
    assert corpus("hostile_no_separator").text.startswith("This line is not a header")
    mbox = corpus("mbox_from_line")
    assert mbox.from_address == "jane@example.org" and mbox.subject == "mbox style"
    many = corpus("hostile_many_parts")
    assert many.text == "First part text."
    assert len(many.attachments) < 1000
    assert any("MIME parts" in d for d in many.defects)


def test_huge_attachment_is_kept_in_bounded_time(tmp_path):
    path = make_corpus.write_huge(tmp_path)
    raw = path.read_bytes()
    assert len(raw) > make_corpus.HUGE_ATTACHMENT_SIZE
    start = time.perf_counter()
    mail = parse(raw)
    elapsed = time.perf_counter() - start
    assert mail.attachments == (Attachment("machine.mp4", "video/mp4", make_corpus.HUGE_ATTACHMENT_SIZE),)
    assert len(mail.attachments[0].data) == make_corpus.HUGE_ATTACHMENT_SIZE
    assert mail.text == "The video is attached."
    assert mail.size == len(raw)
    assert elapsed < 10


# -- never raises -------------------------------------------------------------------


def test_internal_failure_gives_best_effort_mail(monkeypatch):
    def boom(self):
        raise RuntimeError("bug")

    monkeypatch.setattr(parse_module._Parser, "run", boom)
    raw = (CORPUS / "gmail_reply.eml").read_bytes()
    mail = parse(raw)
    assert mail.subject == "Re: [Case #42] Kettle leaks"
    assert mail.from_address == "jane.doe@gmail.example"
    assert mail.message_id == "CAJx7kP3-8qYZt2b0xH+dL5mR4aV9sN1oQwE6uT7cF8gB2hK3w@mail.gmail.com"
    assert "parser failed: RuntimeError" in mail.defects


def test_total_failure_still_returns_a_mail(monkeypatch):
    def boom(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(parse_module, "BytesParser", boom)
    monkeypatch.setattr(parse_module, "BytesHeaderParser", boom)
    mail = parse(b"Subject: x\n\ny")
    assert mail.fingerprint == "sha256:" + hashlib.sha256(b"Subject: x\n\ny").hexdigest()
    assert mail.size == 13 and len(mail.defects) == 2


@pytest.mark.parametrize("raw", [b"", bytearray(b"Subject: a\n\nb"), memoryview(b"x"), "Subject: str\n\nbody"])
def test_odd_input_types(raw):
    mail = parse(raw)  # type: ignore[arg-type]
    assert isinstance(mail, InboundMail)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_never_raises_on_arbitrary_bytes(raw):
    mail = parse(raw)
    _assert_invariants(mail, raw)


_SMALL_CORPUS = [p.read_bytes() for p in ALL_FILES if p.stat().st_size < 20_000]
_MIME_BITS = [
    b"\r\n",
    b"\n\n",
    b"--",
    b"=?utf-8?q?=0D=0A?=",
    b"=?",
    b"?=",
    b"\x00",
    b"\xff",
    b'boundary="',
    b"Content-Type: multipart/mixed; boundary=x\r\n",
    b"Content-Type: message/rfc822\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"charset=punycode",
    b"<",
    b">",
    b":",
    b";",
    b"\t",
]


@st.composite
def mutated_corpus(draw):
    data = bytearray(draw(st.sampled_from(_SMALL_CORPUS)))
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "duplicate"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            data[pos:pos] = draw(st.sampled_from(_MIME_BITS) | st.binary(max_size=16))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 64))]
        elif op == "truncate":
            del data[pos:]
        elif op == "duplicate":
            data[pos:pos] = data[pos : pos + draw(st.integers(1, 200))]
    return bytes(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_corpus())
def test_never_raises_on_mutated_corpus(raw):
    mail = parse(raw)
    _assert_invariants(mail, raw)


def test_hostile_html_tags_without_an_end_cost_linear_time():
    """Signature, blockquote and cid-image marks are found tag by tag: no "<div <div <div ..." blow-up."""
    html = ("<div " * 150_000 + '<img src="cid:x@y"' + "<blockquote" * 50_000 + 'class="' * 50_000)
    raw = ("From: a@example.org\r\nTo: s@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
           'Content-Type: multipart/related; boundary="b"\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n'
           f"{html}\r\n--b\r\nContent-Type: image/png\r\nContent-ID: <x@y>\r\n"
           "Content-Transfer-Encoding: base64\r\n\r\niVBORw0K\r\n--b--\r\n").encode()
    start = time.perf_counter()
    mail = parse(raw)
    assert time.perf_counter() - start < 5
    assert mail.attachments and mail.attachments[0].referenced  # the image the HTML shows is still found

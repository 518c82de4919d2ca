"""The bytes we send: ids, threading, RFC 3834 marks, no header injection, internationalised addresses."""
from datetime import datetime
from email import message_from_bytes, message_from_string, policy

from aftercare.mail.compose import compose, new_message_id, shorten_subject
from aftercare.templates import RenderedEmail

NOW = datetime(2026, 3, 2, 9, 0)


def build(**kw):
    args = dict(from_name="Acme Support", from_address="support@example.com", to_name="Maria Rossi",
                to_address="maria@example.net", message_id="abc.case1@example.com", now=NOW,
                in_reply_to="m1@example.net", references=["m1@example.net", "abc0@example.com"],
                auto_submitted="auto-replied", loop_marker="support@example.com", case_id=1)
    args.update(kw)
    rendered = args.pop("rendered", RenderedEmail("Re: Broken [Case #1]", "Dear Maria,\nThank you.\n", None))
    return compose(rendered, **args)


def test_headers_thread_and_mark_automated_mail():
    msg = message_from_bytes(build().raw, policy=policy.default)
    assert msg["Message-ID"] == "<abc.case1@example.com>"
    assert msg["In-Reply-To"] == "<m1@example.net>"
    assert msg["References"] == "<m1@example.net> <abc0@example.com>"
    assert msg["Auto-Submitted"] == "auto-replied" and msg["X-Auto-Response-Suppress"] == "All"
    assert msg["X-Loop"] == "support@example.com" and msg["X-Aftercare-Case"] == "1"
    assert msg.get_body(("plain",)).get_content().replace("\r\n", "\n") == "Dear Maria,\nThank you.\n"


def test_a_person_s_words_carry_no_auto_submitted():
    msg = message_from_bytes(build(auto_submitted=None).raw, policy=policy.default)
    assert msg["Auto-Submitted"] is None and msg["X-Loop"] == "support@example.com"


def test_nothing_in_a_subject_or_name_can_add_a_header():
    c = build(rendered=RenderedEmail("Hi\r\nBcc: victim@example.org", "x\n", None),
              to_name="Eve\r\nBcc: victim@example.org")
    msg = message_from_bytes(c.raw, policy=policy.default)
    head = c.raw.decode("ascii").split("\r\n\r\n")[0].split("\r\n")
    assert not any(line.lower().startswith("bcc") for line in head)
    assert msg["Bcc"] is None and msg["Subject"] == "Hi Bcc: victim@example.org"
    assert msg["To"].addresses[0].addr_spec == "maria@example.net"


def test_non_ascii_display_names_are_encoded_and_addresses_use_smtputf8():
    ascii_msg = build(to_name="José Müller")
    assert ascii_msg.raw.isascii()
    assert message_from_bytes(ascii_msg.raw, policy=policy.default)["To"].addresses[0].display_name == "José Müller"
    intl = build(to_address="josé@exämple.de")
    assert b"jos\xc3\xa9@ex\xc3\xa4mple.de" in intl.raw and b"=?utf-8?" not in intl.raw.split(b"\r\n\r\n")[0].split(
        b"\r\nTo:")[1].split(b"\r\n")[0]


def test_message_ids_are_unique_and_on_our_domain():
    ids = {new_message_id("example.com", 7) for _ in range(1000)}
    assert len(ids) == 1000 and all(i.endswith(".case7@example.com") for i in ids)


def test_ids_that_could_be_reinterpreted_are_left_out_of_threading_headers():
    c = build(in_reply_to="=?utf-8?q?a=0D=0AX:1?=", references=["ok@x", "=?utf-8?q?b?=", "sp ace@x", "good@y"])
    msg = message_from_bytes(c.raw, policy=policy.default)
    assert msg["In-Reply-To"] is None and msg["References"] == "<ok@x> <good@y>"


def _lines(raw: bytes) -> list[bytes]:
    return raw.split(b"\r\n\r\n")[0].split(b"\r\n")


def _text(msg, subtype: str) -> str:
    return msg.get_body((subtype,)).get_content().replace("\r\n", "\n")


def test_non_ascii_subjects_and_names_round_trip_through_a_standard_parser():
    subject = "Re: 注文が壊れていました — Überweisung «remboursement» [Case #1]"
    c = build(rendered=RenderedEmail(subject, "Grüße\n", None), to_name="山田 太郎 (Yamada)")
    assert c.raw.isascii()
    msg = message_from_bytes(c.raw, policy=policy.default)
    assert msg["Subject"] == subject
    assert msg["To"].addresses[0].display_name == "山田 太郎 (Yamada)"
    assert _text(msg, "plain") == "Grüße\n"
    assert all(len(line) <= 998 for line in _lines(c.raw))


def test_names_with_quotes_and_specials_are_quoted_not_split_into_addresses():
    c = build(to_name='Rossi, Maria "Mia" \\ <boss>')
    to = message_from_bytes(c.raw, policy=policy.default)["To"]
    assert len(to.addresses) == 1
    assert to.addresses[0].display_name == 'Rossi, Maria "Mia" \\ <boss>'
    assert to.addresses[0].addr_spec == "maria@example.net"


def test_long_subjects_and_references_are_folded_under_998_and_read_back_whole():
    words = " ".join(f"word{i}" for i in range(400))
    refs = [f"{'r' * 200}{i}@example.net" for i in range(20)]
    c = build(rendered=RenderedEmail(words, "x\n", None), references=refs)
    assert all(len(line) <= 998 for line in _lines(c.raw))
    msg = message_from_bytes(c.raw, policy=policy.default)
    assert msg["Subject"] == words
    assert msg["References"].split() == [f"<{r}>" for r in refs]


def test_html_alternative_carries_both_parts_in_utf8():
    c = build(rendered=RenderedEmail("Hello", "Dear Zoë,\n= sign and trailing space \n", "<p>Dear Zoë</p>\n"))
    msg = message_from_bytes(c.raw, policy=policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    assert _text(msg, "plain") == "Dear Zoë,\n= sign and trailing space \n"
    assert _text(msg, "html") == "<p>Dear Zoë</p>\n"
    assert all(len(line) <= 78 for line in c.raw.split(b"\r\n\r\n", 1)[1].split(b"\r\n"))


def test_smtputf8_mail_writes_names_and_subject_as_utf8():
    c = build(to_address="josé@exämple.de", to_name="José", rendered=RenderedEmail("Réponse", "x\n", None))
    msg = message_from_string(c.raw.decode("utf-8"), policy=policy.default)
    assert msg["Subject"] == "Réponse" and msg["To"].addresses[0].display_name == "José"
    assert b"=?utf-8?" not in c.raw.split(b"\r\n\r\n")[0]


def test_subjects_are_cut_to_200_characters_at_a_word_with_an_ellipsis():
    assert shorten_subject("Re: Broken kettle") == "Re: Broken kettle"
    long = shorten_subject("Re: " + "kettle " * 100)
    assert len(long) <= 200 and long.endswith("kettle…")
    assert shorten_subject("S" * 1_000_000) == "S" * 199 + "…"


def test_utf8_headers_stay_under_998_octets_not_characters():
    name = "𝔐" * 200  # four octets each
    subject = "ü" * 300 + " " + "ö" * 300  # 601 characters, 1,201 octets
    c = build(to_address="josé@exämple.de", to_name=name, rendered=RenderedEmail(subject, "x\n", None))
    assert all(len(line) <= 998 for line in _lines(c.raw))
    msg = message_from_string(c.raw.decode("utf-8"), policy=policy.default)
    assert msg["To"].addresses[0].display_name == name and msg["Subject"] == subject


def test_content_language_says_what_the_text_is_written_in():
    german = message_from_bytes(build(content_language="de").raw, policy=policy.default)
    assert german["Content-Language"] == "de"
    assert message_from_bytes(build().raw, policy=policy.default)["Content-Language"] is None
    for junk in ("de\r\nBcc: victim@example.org", "de, en", "", "deutschland"):
        raw = build(content_language=junk).raw
        assert b"Content-Language" not in raw and b"Bcc" not in raw.split(b"\r\n\r\n")[0]

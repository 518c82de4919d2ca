"""The bytes we send: ids, threading, RFC 3834 marks, no header injection, internationalised addresses."""
from datetime import datetime
from email import message_from_bytes, policy

from daemon.mail.compose import compose, new_message_id
from daemon.templates import RenderedEmail

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

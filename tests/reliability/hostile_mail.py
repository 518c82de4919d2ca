"""Hostile raw messages made at test time (the big ones are too big to commit, the forged ones need our ids).

``generated(ack_id, victim_id)`` returns ``Hostile`` values: a name, the raw bytes, and what the test checks
about them. Together with tests/corpus/hostile_*.eml they are the hostile set of test_hostile.py.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field

VICTIM = "victim@example.org"
JINJA = "JX{{ 7*7 }}JX"  # evaluated, it would read JX49JX
JINJA_LOOP = "{% for x in range(3) %}LOOP{% endfor %}"  # evaluated, LOOPLOOPLOOP
JINJA_EVIL = ("{{ ''.__class__.__mro__[1].__subclasses__() }} {{ config }} {% include '/etc/passwd' %} "
              "{{ self.__init__.__globals__ }} {# a comment #} {% raw %}")
EVALUATED = ("JX49JX", "LOOPLOOPLOOP", "root:x:0:0", "<class 'object'>", "__builtins__")
MB = 1024 * 1024


@dataclass
class Hostile:
    name: str
    raw: bytes
    sender: str | None = None  # the address an acknowledgment may go to
    subject_has: str | None = None  # literal the case subject must keep
    text_has: str | None = None  # literal the stored text must keep
    forged: bool = False  # claims an identity of someone else's case
    notes: dict = field(default_factory=dict)


def ew_b(text: str, charset: str = "utf-8") -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def ew_q(text: str) -> str:
    out = "".join(ch if ch.isalnum() else "_" if ch == " " else "".join(f"={b:02X}" for b in ch.encode())
                  for ch in text)
    return f"=?utf-8?Q?{out}?="


def mail(n: int, *, subject: bytes | str = None, frm: bytes | str = None, body: bytes | str = b"Hello.",
         ctype: bytes | str = b"text/plain; charset=utf-8", extra: bytes | str = b"", mid: str | None = None,
         cte: bytes | str = b"") -> bytes:
    def b(v):
        return v.encode("utf-8", "surrogateescape") if isinstance(v, str) else v
    frm = b(frm if frm is not None else f"Hostile {n} <h{n}@hostile.example>")
    subject = b(subject if subject is not None else f"Hostile complaint {n}")
    mid = mid or f"hostile-{n}@hostile.example"
    head = (b"From: " + frm + b"\r\nTo: support@example.com\r\nSubject: " + subject +
            b"\r\nDate: Tue, 03 Mar 2026 10:00:00 +0000\r\nMessage-ID: <" + b(mid) + b">\r\n" + b(extra) +
            b"MIME-Version: 1.0\r\nContent-Type: " + b(ctype) + b"\r\n" +
            (b"Content-Transfer-Encoding: " + b(cte) + b"\r\n" if cte else b""))
    return head + b"\r\n" + b(body) + (b"" if b(body).endswith(b"\r\n") else b"\r\n")


def generated(ack_id: str, victim_id: str) -> list[Hostile]:
    """``ack_id``: Message-ID of an acknowledgment we sent; ``victim_id``: of the complaint it answered."""
    out: list[Hostile] = []

    def add(name: str, raw: bytes, sender: str | None = "default", **kw) -> None:
        n = len(out)
        out.append(Hostile(name, raw, sender=(f"h{n}@hostile.example" if sender == "default" else sender), **kw))

    n = lambda: len(out)  # noqa: E731 - the number of the message being built

    # --- size -----------------------------------------------------------------------------------
    blob = base64.encodebytes(bytes(range(256)) * (25 * MB // 256)).replace(b"\n", b"\r\n")
    add("attachment_25mb", mail(n(), ctype=b'multipart/mixed; boundary="big"', body=(
        b"--big\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe log file you asked for is attached.\r\n"
        b"--big\r\nContent-Type: application/octet-stream; name=\"server.log\"\r\n"
        b"Content-Disposition: attachment; filename=\"server.log\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + blob + b"--big--\r\n")), text_has="The log file you asked for is attached.")
    add("three_1mb_lines", mail(n(), body=b"Start.\r\n" + b"x" * MB + b"\r\n" + b"=" * MB + b"\r\n" +
                                 ("\u00e9" * (MB // 2)).encode() + b"\r\nEnd.\r\n"), text_has="Start.")
    add("subject_1mb", mail(n(), subject="S" * MB))
    add("10000_headers", mail(n(), extra="".join(f"X-Junk-{i}: {'j' * 50}\r\n" for i in range(10000))))
    inner = b"Content-Type: text/plain; charset=utf-8\r\n\r\nBottom of the well.\r\n"
    for depth in range(100):
        inner = (f"Content-Type: multipart/mixed; boundary=\"d{depth}\"\r\n\r\n--d{depth}\r\n".encode() + inner +
                 f"\r\n--d{depth}--\r\n".encode())
    head, _, body = inner.partition(b"\r\n\r\n")
    add("multipart_nested_100", mail(n(), ctype=head.split(b": ", 1)[1], body=b"Top text?\r\n" + body))
    inner = b"From: x@example.net\r\nSubject: bottom\r\n\r\nInnermost forwarded text.\r\n"
    for depth in range(100):
        inner = b"From: x@example.net\r\nSubject: fwd\r\nContent-Type: message/rfc822\r\n\r\n" + inner
    add("rfc822_nested_100", mail(n(), ctype=b"message/rfc822", body=inner))
    add("html_nested_5000", mail(n(), ctype=b"text/html; charset=utf-8",
                                 body=b"<html><body>" + b"<div>" * 5000 + b"deep" + b"</div>" * 5000 + b"</body></html>"))
    add("2000_encoded_words", mail(n(), subject=" ".join(ew_b(f"w{i}") for i in range(2000))))

    # --- bytes that should not be there ---------------------------------------------------------
    add("nul_everywhere", mail(n(), subject=b"Nul\x00 in\x00 subject", frm=f"Nul\x00Name <h{n()}@hostile.example>",
                               body=b"Body\x00with\x00NULs and \x00\x00\x00 more.\r\n"))
    add("raw_latin1_headers", mail(n(), subject=b"R\xe9clamation \xab urgente \xbb",
                                   frm=f"Fran\xe7ois <h{n()}@hostile.example>".encode("latin-1"),
                                   ctype=b"text/plain; charset=iso-8859-1", body=b"Le produit est d\xe9fectueux."))
    add("raw_utf8_headers", mail(n(), subject="Beschwerde über Lieferung ✓ 🚚".encode(),
                                 frm=f"Jürgen Groß <h{n()}@hostile.example>".encode()))
    add("bidi_zero_width", mail(n(), subject="Refund \u202eevil\u202c \u200b\u200bnow\ufeff",
                                frm=f"\u202eAdmin\u202c <h{n()}@hostile.example>"))
    add("control_chars", mail(n(), subject=b"Ctl\x01\x02\x1b[31mred\x7f", body=b"\x1b]0;title\x07 body \x08\x08"))

    # --- addresses ------------------------------------------------------------------------------
    add("utf8_local_part", mail(n(), frm="Zoë <zoë.h@hostile.example>"), sender="zoë.h@hostile.example")
    add("idn_domain", mail(n(), frm="Kunde <kunde@müller-hostile.example>"), sender="kunde@müller-hostile.example")
    add("encoded_word_addr_spec", mail(n(), frm="=?utf-8?Q?j=C3=B6rg?=@hostile.example"), sender=None)
    add("address_list_in_from", mail(n(), frm=f"h{n()}@hostile.example, {VICTIM}"))
    add("two_from_headers", mail(n(), extra=f"From: Victim <{VICTIM}>\r\n"))
    add("bcc_cc_to_victim", mail(n(), extra=f"Cc: {VICTIM}\r\nBcc: {VICTIM}\r\nReply-To: {VICTIM}\r\n"))
    add("address_400_chars", mail(n(), frm=f"Long <{'l' * 400}@hostile.example>"), sender=None)  # not an address: no ack
    add("quoted_local_part_crlf", mail(n(), frm=f'"evil\\\r\n Bcc: {VICTIM}"@hostile.example'), sender=None)

    # --- header injection through encoded words ---------------------------------------------------
    add("ew_b_crlf_bcc_subject", mail(n(), subject=ew_b(f"Refund\r\nBcc: {VICTIM}")))
    add("ew_q_crlf_bcc_subject", mail(n(), subject=ew_q(f"Refund\r\nBcc: {VICTIM}\r\n\r\nInjected body")))
    add("ew_crlf_bcc_name", mail(n(), frm=f"{ew_b(f'Eve{chr(13)}{chr(10)}Bcc: {VICTIM}')} <h{n()}@hostile.example>"))
    add("ew_lf_to_subject", mail(n(), subject=ew_b(f"x\nTo: {VICTIM}\nContent-Type: text/html\n\n<b>hi</b>")))
    add("ew_crlf_filename", mail(n(), ctype=b'multipart/mixed; boundary="f"', body=(
        b"--f\r\nContent-Type: text/plain\r\n\r\nSee file.\r\n--f\r\nContent-Type: text/plain\r\n"
        b"Content-Disposition: attachment; filename*=utf-8''evil%0D%0ABcc%3A%20victim%40example.org.txt\r\n\r\n"
        b"data\r\n--f--\r\n")))
    add("charset_param_injection", mail(n(), ctype=f'text/plain; charset="utf-8\\"; Bcc: {VICTIM}"'))

    # --- template syntax as data ----------------------------------------------------------------
    add("jinja_subject", mail(n(), subject=f"{JINJA} {JINJA_LOOP}"), subject_has=JINJA)
    add("jinja_display_name", mail(n(), frm=f'"{JINJA} {JINJA_LOOP}" <h{n()}@hostile.example>'))
    add("jinja_body", mail(n(), body=f"{JINJA}\r\n{JINJA_LOOP}\r\n{JINJA_EVIL}\r\n"), text_has=JINJA)
    add("jinja_encoded_subject", mail(n(), subject=ew_b(f"{JINJA} {JINJA_LOOP}")), subject_has=JINJA)
    add("jinja_html_only", mail(n(), ctype=b"text/html; charset=utf-8",
                                body=f"<html><body><p>{JINJA}</p><script>{JINJA_LOOP}</script>"
                                     f"<p>{JINJA_LOOP}</p></body></html>"), text_has=JINJA)
    add("jinja_attachment_name", mail(n(), ctype=b'multipart/mixed; boundary="j"', body=(
        f"--j\r\nContent-Type: text/plain\r\n\r\nSee attachment.\r\n--j\r\nContent-Type: text/plain; "
        f"name=\"{JINJA}.txt\"\r\nContent-Disposition: attachment; filename=\"{JINJA}.txt\"\r\n\r\n"
        f"x\r\n--j--\r\n")))

    # --- forged identities ----------------------------------------------------------------------
    add("forged_id_of_our_ack", mail(n(), mid=ack_id, subject="Hello there"), forged=True)
    add("forged_id_of_victims_complaint", mail(n(), mid=victim_id, subject="Me too"), forged=True)
    add("forged_ack_id_with_case_tag", mail(n(), mid=ack_id, subject="Re: your complaint [Case #1]"), forged=True)
    add("forged_self_reference", mail(n(), extra=f"In-Reply-To: <hostile-{n()}@hostile.example>\r\n"))
    add("5000_ids_in_references", mail(n(), extra="In-Reply-To: " + " ".join(
        f"<r{i}@hostile.example>" for i in range(5000)) + "\r\nReferences: " + " ".join(
        f"<q{i}@hostile.example>" for i in range(5000)) + "\r\n"))
    add("message_id_5kb", mail(n(), mid="m" * 5000 + "@hostile.example"))
    add("case_tags_that_do_not_exist", mail(n(), subject="Re: [Case #999999999] [Case #0] [Case #-1]"))
    add("date_year_9999", mail(n(), extra="X-Note: the Date below is replaced\r\n").replace(
        b"Tue, 03 Mar 2026 10:00:00 +0000", b"Fri, 31 Dec 9999 23:59:59 -9999"))

    # --- charsets -------------------------------------------------------------------------------
    add("unknown_charset_body", mail(n(), ctype=b"text/plain; charset=x-klingon", body="tlhIngan Hol ✓".encode()))
    add("unknown_charset_encoded_word", mail(n(), subject="=?x-klingon?B?SGVsbG8=?= =?utf-99?Q?caf=E9?="))
    add("lying_ascii_is_utf8", mail(n(), ctype=b"text/plain; charset=us-ascii", body="Grüße, ça coûte 5 €".encode()))
    add("lying_utf16_is_ascii", mail(n(), ctype=b"text/plain; charset=utf-16", body=b"odd length ascii!"))
    add("utf7_charset", mail(n(), ctype=b"text/plain; charset=utf-7", body=b"+ADw-script+AD4-alert(1)+ADw-/script+AD4-"))
    add("charset_is_binary_junk", mail(n(), ctype=b"text/plain; charset=\"\xff\xfe\x00\""))

    # --- broken MIME ----------------------------------------------------------------------------
    add("boundary_never_appears", mail(n(), ctype=b'multipart/mixed; boundary="nope"', body=b"No parts here at all."))
    add("same_boundary_nested", mail(n(), ctype=b'multipart/mixed; boundary="s"', body=(
        b"--s\r\nContent-Type: multipart/alternative; boundary=\"s\"\r\n\r\n--s\r\nContent-Type: text/plain\r\n\r\n"
        b"Inner text.\r\n--s--\r\n--s--\r\n")))
    add("empty_multipart", mail(n(), ctype=b'multipart/alternative; boundary="e"', body=b"--e--\r\n"))
    add("garbage_content_type", mail(n(), ctype=b"???/???; ;;; charset; =; boundary=", body=b"What type am I?"))
    add("broken_quoted_printable", mail(n(), cte=b"quoted-printable", body=b"=ZZ=\r\n=4=\r\nSoft=\r\nbreak =E9=C3=\r\n="))
    add("broken_base64_attachment", mail(n(), ctype=b'multipart/mixed; boundary="b"', body=(
        b"--b\r\nContent-Type: text/plain\r\n\r\nSee attachment.\r\n--b\r\nContent-Type: application/pdf; name=a.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!!====\r\nJVBERi0x\r\n=\r\n--b--\r\n")))
    add("unknown_transfer_encoding", mail(n(), cte=b"x-klingon", body=b"qapla'"))
    add("uuencoded_body", mail(n(), body=b"begin 644 evil.exe\r\nM.5J0``,````$````__\\``+@`````````0```````````\r\n`\r\nend\r\n"))
    add("rfc822_part_is_garbage", mail(n(), ctype=b'multipart/mixed; boundary="g"', body=(
        b"--g\r\nContent-Type: text/plain\r\n\r\nForwarding this.\r\n--g\r\nContent-Type: message/rfc822\r\n\r\n"
        b"\xff\xfe\x00garbage\r\n--g--\r\n")))
    add("bare_lf_line_endings", mail(n()).replace(b"\r\n", b"\n"))
    add("bare_cr_line_endings", mail(n()).replace(b"\r\n", b"\r"))
    add("headers_only_no_body", mail(n()).split(b"\r\n\r\n", 1)[0] + b"\r\n")
    add("mbox_from_line", b"From someone@hostile.example Tue Mar  3 10:00:00 2026\r\n" + mail(
        n(), body=b">From the start, it was broken.\r\nFrom here on too.\r\n"))
    return out


def double_encoded() -> list[Hostile]:
    """Encoded words whose decoded text is itself an encoded word hiding CR LF + Bcc (decoded twice: injected)."""
    inner = ew_q(f"Hi\r\nBcc: {VICTIM}")  # =?utf-8?Q?Hi=0D=0ABcc=3A_victim=40example=2Eorg?=
    return [
        Hostile("ew_double_encoded_subject", mail(900, subject=ew_b(inner)), sender="h900@hostile.example",
                subject_has=inner),
        Hostile("ew_double_encoded_display_name", mail(901, frm=f"{ew_b(inner)} <h901@hostile.example>"),
                sender="h901@hostile.example", notes={"name": inner}),
    ]


def encoded_word_in_address() -> Hostile:
    """A From address whose local part is an encoded word hiding CR LF + Bcc (a valid dot-atom, "=" and "?" are
    atext): decoded by a header parser, the acknowledgment's To header would split into injected headers."""
    local = "=?utf-8?q?x=0d=0abcc=3a_victim=40example=2eorg=0d=0ax-injected=3a_?="
    return Hostile("ew_in_addr_spec", mail(902, frm=f"Eve <{local}@hostile.example>"),
                   sender=f"{local}@hostile.example")

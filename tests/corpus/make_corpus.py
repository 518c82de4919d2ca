"""Write the raw test mails in tests/corpus/ (deterministically).

    python tests/corpus/make_corpus.py          # rewrite tests/corpus/*.eml

Every message is shaped like what a real program sends (header order, MIME
layout, encodings, boundaries). Our side of the conversation is "Aftercare
Support <support@example.com>", whose outgoing Message-IDs look like
<ack-1@support.example.com> and <case-42.3@support.example.com>.

The 25 MB attachment message is not committed: tests call
``huge_attachment_eml()`` and write it to a temporary directory.
"""
from __future__ import annotations

import base64
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
HUGE_ATTACHMENT_SIZE = 25 * 1024 * 1024
LONG_LINE_SIZE = 1024 * 1024
NESTING_DEPTH = 100


# -- helpers -----------------------------------------------------------------


def crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def b64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii")


def qp(text: str, charset: str) -> str:
    """Quoted-printable as mail programs write it (76-column soft breaks)."""
    out = []
    for line in text.encode(charset).split(b"\n"):
        encoded = ""
        for i, byte in enumerate(line):
            ch = chr(byte)
            if byte in (0x20, 0x09) and i == len(line) - 1:
                piece = f"={byte:02X}"
            elif 33 <= byte <= 126 and ch != "=" or byte in (0x20, 0x09):
                piece = ch
            else:
                piece = f"={byte:02X}"
            if len(encoded.rsplit("\n", 1)[-1]) + len(piece) > 75:
                encoded += "=\n"
            encoded += piece
        out.append(encoded)
    return "\n".join(out)


def ew_b(text: str, charset: str = "UTF-8") -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode('ascii')}?="


def ew_q(text: str, charset: str = "UTF-8") -> str:
    out = []
    for byte in text.encode(charset):
        ch = chr(byte)
        if ch.isascii() and (ch.isalnum() or ch in "!*+-/"):
            out.append(ch)
        elif ch == " ":
            out.append("_")
        else:
            out.append(f"={byte:02X}")
    return f"=?{charset}?Q?{''.join(out)}?="


def mail(*pieces: str | bytes, line_ending: str = "crlf") -> bytes:
    data = b"".join(p if isinstance(p, bytes) else p.encode("utf-8") for p in pieces)
    return crlf(data) if line_ending == "crlf" else data


def fake_pdf(size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    tail = b"\n%%EOF\n"
    return head + rng.randbytes(size - len(head) - len(tail)) + tail


# -- real clients ------------------------------------------------------------


def outlook_reply_cp1252() -> bytes:
    plain = (
        "Hello,\n\n"
        "the kettle still leaks \u2013 I paid \u20ac49.99 for it and I\u2019m not happy.\n\n"
        "Kind regards\nJ\u00f6rg\n\n"
        "From: Aftercare Support <support@example.com>\n"
        "Sent: 09 March 2026 16:02\n"
        "To: J\u00f6rg M\u00fcller <joerg.mueller@contoso.example>\n"
        "Subject: [Case #42] Kettle leaks\n\n"
        "Hello J\u00f6rg,\n\nhave you tried descaling the kettle?\n\nAftercare Support\n"
    )
    html = (
        '<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft.com/office/2004/12/omml" '
        'xmlns="http://www.w3.org/TR/REC-html40">\n<head>\n'
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">\n'
        '<meta name="Generator" content="Microsoft Word 15 (filtered medium)">\n'
        "<style><!--\n/* Font Definitions */\n@font-face\n\t{font-family:Calibri;}\n"
        "p.MsoNormal, li.MsoNormal, div.MsoNormal\n\t{margin:0cm;\n\tfont-size:11.0pt;\n\tfont-family:\"Calibri\",sans-serif;}\n"
        "--></style>\n</head>\n"
        '<body lang="EN-GB" link="#0563C1" vlink="#954F72" style="word-wrap:break-word">\n'
        '<div class="WordSection1">\n'
        '<p class="MsoNormal">Hello,<o:p></o:p></p>\n<p class="MsoNormal"><o:p>&nbsp;</o:p></p>\n'
        '<p class="MsoNormal">the kettle still leaks \u2013 I paid \u20ac49.99 for it and I\u2019m not happy.<o:p></o:p></p>\n'
        '<p class="MsoNormal"><o:p>&nbsp;</o:p></p>\n'
        '<p class="MsoNormal">Kind regards<o:p></o:p></p>\n<p class="MsoNormal">J\u00f6rg<o:p></o:p></p>\n'
        '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">\n'
        '<p class="MsoNormal"><b>From:</b> Aftercare Support &lt;support@example.com&gt; <br>\n'
        "<b>Sent:</b> 09 March 2026 16:02<br>\n"
        "<b>To:</b> J\u00f6rg M\u00fcller &lt;joerg.mueller@contoso.example&gt;<br>\n"
        "<b>Subject:</b> [Case #42] Kettle leaks<o:p></o:p></p>\n</div>\n"
        '<p class="MsoNormal">Hello J\u00f6rg,<o:p></o:p></p>\n'
        "</div>\n</body>\n</html>\n"
    )
    boundary = "_000_AM0PR01MB6547B1C2D3E4F5A6B7C8D9E0F1A2AM0PR01MB6547eurp_"
    return mail(
        "Received: from AM0PR01MB6547.eurprd01.prod.exchangelabs.com\n"
        " ([fe80::1c2d:3e4f:5a6b:7c8d]) by AM0PR01MB6547.eurprd01.prod.exchangelabs.com\n"
        " ([fe80::1c2d:3e4f:5a6b:7c8d%6]) with mapi id 15.20.7316.039; Tue, 10 Mar 2026\n"
        " 09:15:42 +0000\n"
        f"From: {ew_q('Jörg Müller', 'iso-8859-1')} <joerg.mueller@contoso.example>\n"
        "To: Aftercare Support <support@example.com>\n"
        "Subject: RE: [Case #42] Kettle leaks\n"
        "Thread-Topic: [Case #42] Kettle leaks\n"
        "Thread-Index: AQHacmF5Kzc2l0CnR0mKq3Zb1pQbGrFx0pWA\n"
        "Date: Tue, 10 Mar 2026 09:15:42 +0000\n"
        "Message-ID:\n <AM0PR01MB6547B1C2D3E4F5A6B7C8D9E0F1A2@AM0PR01MB6547.eurprd01.prod.exchangelabs.com>\n"
        "References: <ack-42@support.example.com>\n <case-42.2@support.example.com>\n"
        "In-Reply-To: <case-42.2@support.example.com>\n"
        "Accept-Language: en-GB, en-US\n"
        "Content-Language: en-GB\n"
        "X-MS-Has-Attach:\n"
        "X-MS-TNEF-Correlator:\n"
        "x-ms-publictraffictype: Email\n"
        "x-ms-traffictypediagnostic: AM0PR01MB6547:EE_|DU0PR01MB9876:EE_\n"
        "x-ms-office365-filtering-correlation-id: 8f3a2b1c-4d5e-6f70-8192-a3b4c5d6e7f8\n"
        "x-ms-exchange-senderadcheck: 1\n"
        "X-MS-Exchange-CrossTenant-originalarrivaltime: 10 Mar 2026 09:15:42.1234 (UTC)\n"
        f'Content-Type: multipart/alternative;\n\tboundary="{boundary}"\n'
        "MIME-Version: 1.0\n\n"
        f"--{boundary}\n"
        'Content-Type: text/plain; charset="windows-1252"\n'
        "Content-Transfer-Encoding: quoted-printable\n\n",
        qp(plain, "cp1252"),
        f"\n--{boundary}\n"
        'Content-Type: text/html; charset="windows-1252"\n'
        "Content-Transfer-Encoding: quoted-printable\n\n",
        qp(html, "cp1252"),
        f"\n--{boundary}--\n",
    )


def outlook_html_only_cp1252() -> bytes:
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
        "<style>p.MsoNormal{margin:0cm;font-family:Calibri}</style></head>\n"
        '<body lang="EN-US"><div class="WordSection1">\n'
        '<p class="MsoNormal">The replacement kettle also leaks \u2013 a \u20ac10 voucher is not enough.</p>\n'
        '<p class="MsoNormal">&nbsp;</p>\n<p class="MsoNormal">Regards,<br>Sam</p>\n'
        '<div><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0in 0in 0in">\n'
        '<p class="MsoNormal"><b>From:</b> Aftercare Support &lt;support@example.com&gt;<br>'
        "<b>Sent:</b> Monday, March 9, 2026 4:02 PM<br><b>To:</b> Sam Smith &lt;sam@fabrikam.example&gt;<br>"
        "<b>Subject:</b> [Case #57] Kettle leaks</p></div></div>\n"
        '<p class="MsoNormal">Dear Sam, we can offer a \u20ac10 voucher.</p>\n'
        "</div></body></html>\n"
    )
    return mail(
        "From: Sam Smith <sam@fabrikam.example>\n"
        "To: \"support@example.com\" <support@example.com>\n"
        "Subject: RE: [Case #57] Kettle leaks\n"
        "Thread-Topic: [Case #57] Kettle leaks\n"
        "Thread-Index: AdpyZ3q1m0K9vY2HRkOq8l5Qx7bC1w==\n"
        "Date: Tue, 10 Mar 2026 10:01:00 -0500\n"
        "Message-ID: <BN6PR11MB0987C6D5E4F3A2B1@BN6PR11MB0987.namprd11.prod.outlook.com>\n"
        "References: <case-57.1@support.example.com>\n"
        "In-Reply-To: <case-57.1@support.example.com>\n"
        "Content-Language: en-US\n"
        "X-MS-Has-Attach:\n"
        "X-MS-TNEF-Correlator:\n"
        'Content-Type: text/html; charset="windows-1252"\n'
        "Content-Transfer-Encoding: quoted-printable\n"
        "MIME-Version: 1.0\n\n",
        qp(html, "cp1252"),
    )


def gmail_reply() -> bytes:
    boundary = "000000000000a1b2c30612d4e5f6"
    plain = (
        "Thanks, the replacement arrived but it is also broken. The lid doesn\u2019t close.\n\n"
        "On Tue, 10 Mar 2026 at 17:00, Aftercare Support <support@example.com> wrote:\n\n"
        "> Hello Jane,\n> we have shipped a replacement.\n>\n> Aftercare Support\n>\n"
    )
    html = (
        '<div dir="ltr">Thanks, the replacement arrived but it is also broken. The lid doesn\u2019t close.</div>'
        '<br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Tue, 10 Mar 2026 at 17:00, '
        'Aftercare Support &lt;<a href="mailto:support@example.com">support@example.com</a>&gt; wrote:<br></div>'
        '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid '
        'rgb(204,204,204);padding-left:1ex">Hello Jane,<br>we have shipped a replacement.<br><br>'
        "Aftercare Support<br></blockquote></div>\n"
    )
    return mail(
        "MIME-Version: 1.0\n"
        "References: <ack-42@support.example.com> <case-42.3@support.example.com>\n"
        "In-Reply-To: <case-42.3@support.example.com>\n"
        "From: Jane Doe <jane.doe@gmail.example>\n"
        "Date: Wed, 11 Mar 2026 08:03:12 +0100\n"
        "Message-ID: <CAJx7kP3-8qYZt2b0xH+dL5mR4aV9sN1oQwE6uT7cF8gB2hK3w@mail.gmail.com>\n"
        "Subject: Re: [Case #42] Kettle leaks\n"
        "To: Aftercare Support <support@example.com>\n"
        f'Content-Type: multipart/alternative; boundary="{boundary}"\n\n'
        f"--{boundary}\n"
        'Content-Type: text/plain; charset="UTF-8"\n'
        "Content-Transfer-Encoding: quoted-printable\n\n",
        qp(plain, "utf-8"),
        f"\n--{boundary}\n"
        'Content-Type: text/html; charset="UTF-8"\n'
        "Content-Transfer-Encoding: quoted-printable\n\n",
        qp(html, "utf-8"),
        f"\n--{boundary}--\n",
    )


def apple_mail_reply() -> bytes:
    boundary = "Apple-Mail=_5C8E1D2A-3B4F-4C5D-9E6F-7A8B9C0D1E2F"
    plain = (
        "Yes, the order number is 998877.\n\n"
        "> On 12 Mar 2026, at 10:00, Aftercare Support <support@example.com> wrote:\n"
        "> \n> What is your order number?\n> \n"
    )
    html = (
        '<html><head><meta http-equiv="content-type" content="text/html; charset=us-ascii"></head>'
        '<body style="overflow-wrap: break-word; -webkit-nbsp-mode: space; line-break: after-white-space;">'
        'Yes, the order number is 998877.<br id="lineBreakAtBeginningOfMessage"><div><br>'
        '<blockquote type="cite"><div>On 12 Mar 2026, at 10:00, Aftercare Support &lt;support@example.com&gt; '
        "wrote:</div><br><div><div>What is your order number?</div></div></blockquote></div><br></body></html>"
    )
    return mail(
        "From: Tom Baker <tom@example.net>\n"
        f'Content-Type: multipart/alternative;\n\tboundary="{boundary}"\n'
        "Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.500.171.1.1\\))\n"
        "Subject: Re: [Case #43] Toaster burns everything\n"
        "Date: Thu, 12 Mar 2026 11:20:05 +0000\n"
        "In-Reply-To: <case-43.1@support.example.com>\n"
        "To: Aftercare Support <support@example.com>\n"
        "References: <ack-43@support.example.com>\n <case-43.1@support.example.com>\n"
        "Message-Id: <5A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9@example.net>\n"
        "X-Mailer: Apple Mail (2.3774.500.171.1.1)\n\n\n"
        f"--{boundary}\n"
        "Content-Transfer-Encoding: quoted-printable\n"
        "Content-Type: text/plain;\n\tcharset=utf-8\n\n",
        qp(plain, "utf-8"),
        f"\n--{boundary}\n"
        "Content-Transfer-Encoding: 7bit\n"
        "Content-Type: text/html;\n\tcharset=us-ascii\n\n",
        html,
        f"\n--{boundary}--\n",
    )


def iphone_reply() -> bytes:
    plain = (
        "Still not working \U0001f61e\n\nSent from my iPhone\n\n"
        "> On 12 Mar 2026, at 10:00, Aftercare Support <support@example.com> wrote:\n"
        "> \n> \ufeffDid the reset help?\n"
    )
    return mail(
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: quoted-printable\n"
        "From: Amelia Pond <amelia@example.org>\n"
        "Mime-Version: 1.0 (1.0)\n"
        "Date: Fri, 13 Mar 2026 07:45:00 +0000\n"
        "Subject: Re: [Case #44] Blender\n"
        "Message-Id: <B6F5E4D3-C2B1-4A09-8F7E-6D5C4B3A2918@example.org>\n"
        "References: <case-44.1@support.example.com>\n"
        "In-Reply-To: <case-44.1@support.example.com>\n"
        "To: Aftercare Support <support@example.com>\n"
        "X-Mailer: iPhone Mail (21D61)\n\n",
        qp(plain, "utf-8"),
    )


def thunderbird_reply() -> bytes:
    return mail(
        "Message-ID: <3f1e2d4c-5b6a-4789-90ab-cdef01234567@example.de>\n"
        "Date: Mon, 16 Mar 2026 14:02:11 +0100\n"
        "MIME-Version: 1.0\n"
        "User-Agent: Mozilla Thunderbird\n"
        "Subject: Re: [Case #45] Coffee machine\n"
        "Content-Language: en-US\n"
        "To: Aftercare Support <support@example.com>\n"
        "References: <case-45.1@support.example.com>\n"
        "From: Max Mustermann <max@example.de>\n"
        "In-Reply-To: <case-45.1@support.example.com>\n"
        "Content-Type: text/plain; charset=UTF-8; format=flowed\n"
        "Content-Transfer-Encoding: 7bit\n\n"
        "The invoice is attached to my first mail. The machine was bought on 2 \n"
        "February and stopped working after a week.\n\n"
        "On 16.03.26 10:00, Aftercare Support wrote:\n"
        "> Could you send the invoice? We need it to process the warranty \n"
        "> claim.\n>\n\n"
        "-- \nMax Mustermann\nExample GmbH\n"
    )


def french_reply() -> bytes:
    boundary = "0000000000003c1f2e0614b5a6c7"
    plain = (
        "Bonjour,\n\nLa bouilloire est toujours en panne, m\u00eame apr\u00e8s le remplacement.\n\n"
        "Cordialement,\nAm\u00e9lie\n\n"
        "Le lun. 16 mars 2026 \u00e0 10:00, Aftercare Support <support@example.com> a\u00a0\u00e9crit\u00a0:\n\n"
        "> Bonjour Am\u00e9lie,\n> avez-vous essay\u00e9 de la d\u00e9tartrer ?\n"
    )
    html = (
        '<div dir="ltr">Bonjour,<div><br></div><div>La bouilloire est toujours en panne, m\u00eame apr\u00e8s '
        "le remplacement.</div><div><br></div><div>Cordialement,</div><div>Am\u00e9lie</div></div><br>"
        '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">Le lun. 16 mars 2026 \u00e0 10:00, '
        "Aftercare Support &lt;support@example.com&gt; a\u00a0\u00e9crit\u00a0:<br></div>"
        '<blockquote class="gmail_quote">Bonjour Am\u00e9lie,<br>avez-vous essay\u00e9 de la d\u00e9tartrer ?'
        "</blockquote></div>\n"
    )
    return mail(
        "MIME-Version: 1.0\n"
        "References: <case-46.1@support.example.com>\n"
        "In-Reply-To: <case-46.1@support.example.com>\n"
        f"From: {ew_q('Amélie Poulain')} <amelie@example.fr>\n"
        "Date: Mon, 16 Mar 2026 11:30:00 +0100\n"
        "Message-ID: <CAFr9xQ1b2c3d4e5f6g7h8i9j0kLmNoPqRsTuVwXyZ@mail.gmail.com>\n"
        f"Subject: {ew_q('Re: [Case #46] Bouilloire cassée')}\n"
        "To: Aftercare Support <support@example.com>\n"
        f'Content-Type: multipart/alternative; boundary="{boundary}"\n\n'
        f"--{boundary}\n"
        'Content-Type: text/plain; charset="UTF-8"\n'
        "Content-Transfer-Encoding: base64\n\n",
        b64(plain.encode("utf-8")),
        f"\n--{boundary}\n"
        'Content-Type: text/html; charset="UTF-8"\n'
        "Content-Transfer-Encoding: base64\n\n",
        b64(html.encode("utf-8")),
        f"\n--{boundary}--\n",
    )


def german_outlook_reply() -> bytes:
    plain = (
        "Guten Tag,\n\nanbei das Foto. Der Deckel schlie\u00dft nicht mehr.\n\n"
        "Mit freundlichen Gr\u00fc\u00dfen\nJ\u00fcrgen Wei\u00df\n\n"
        "Von: Aftercare Support <support@example.com>\n"
        "Gesendet: Montag, 16. M\u00e4rz 2026 10:00\n"
        "An: J\u00fcrgen Wei\u00df <juergen.weiss@example.de>\n"
        "Betreff: [Case #47] Wasserkocher defekt\n\n"
        "Guten Tag Herr Wei\u00df,\nbitte senden Sie uns ein Foto.\n"
    )
    return mail(
        f"From: {ew_q('Jürgen Weiß', 'iso-8859-1')} <juergen.weiss@example.de>\n"
        "To: Aftercare Support <support@example.com>\n"
        "Subject: AW: [Case #47] Wasserkocher defekt\n"
        "Thread-Topic: [Case #47] Wasserkocher defekt\n"
        "Thread-Index: AQHadLr3c2VnZ3qH0k6xq2k1A8b7fLFw\n"
        "Date: Mon, 16 Mar 2026 12:44:10 +0100\n"
        "Message-ID: <FR2P281MB0123A4B5C6D7E8F9@FR2P281MB0123.DEUP281.PROD.OUTLOOK.COM>\n"
        "References: <case-47.1@support.example.com>\n"
        "In-Reply-To: <case-47.1@support.example.com>\n"
        "Accept-Language: de-DE, en-US\n"
        "Content-Language: de-DE\n"
        "X-MS-Has-Attach:\n"
        'Content-Type: text/plain; charset="iso-8859-1"\n'
        "Content-Transfer-Encoding: quoted-printable\n"
        "MIME-Version: 1.0\n\n",
        qp(plain, "iso-8859-1"),
    )


def russian_koi8r() -> bytes:
    body = (
        "\u0417\u0434\u0440\u0430\u0432\u0441\u0442\u0432\u0443\u0439\u0442\u0435!\n\n"
        "\u0427\u0430\u0439\u043d\u0438\u043a \u0432\u0441\u0451 \u0435\u0449\u0451 \u043d\u0435 "
        "\u0440\u0430\u0431\u043e\u0442\u0430\u0435\u0442, \u0438\u043d\u0434\u0438\u043a\u0430\u0442\u043e\u0440 "
        "\u043d\u0435 \u0433\u043e\u0440\u0438\u0442.\n\n"
        "16.03.2026 10:00, Aftercare Support \u043f\u0438\u0448\u0435\u0442:\n"
        "> \u0417\u0434\u0440\u0430\u0432\u0441\u0442\u0432\u0443\u0439\u0442\u0435, \u0418\u0432\u0430\u043d!\n"
        "> \u041f\u043e\u043f\u0440\u043e\u0431\u0443\u0439\u0442\u0435 \u0434\u0440\u0443\u0433\u0443\u044e "
        "\u0440\u043e\u0437\u0435\u0442\u043a\u0443.\n"
    )
    return mail(
        "Message-ID: <7a8b9c0d-1e2f-3a4b-5c6d-7e8f9a0b1c2d@example.ru>\n"
        "Date: Mon, 16 Mar 2026 13:05:00 +0300\n"
        "MIME-Version: 1.0\n"
        "User-Agent: Mozilla Thunderbird\n"
        f"Subject: {ew_b('Re: [Case #48] Чайник не работает', 'KOI8-R')}\n"
        "To: Aftercare Support <support@example.com>\n"
        "References: <case-48.1@support.example.com>\n"
        f"From: {ew_b('Иван Петров', 'KOI8-R')} <ivan@example.ru>\n"
        "In-Reply-To: <case-48.1@support.example.com>\n"
        "Content-Type: text/plain; charset=KOI8-R; format=flowed\n"
        "Content-Transfer-Encoding: 8bit\n\n",
        body.encode("koi8-r"),
    )


def russian_utf8() -> bytes:
    boundary = "--ALT--7f3a9c2e1b4d6f80a1c3e5b7d9f1a3c5"
    plain = (
        "\u0414\u043e\u0431\u0440\u044b\u0439 \u0434\u0435\u043d\u044c!\n\n"
        "\u041f\u0440\u043e\u0448\u0443 \u0432\u0435\u0440\u043d\u0443\u0442\u044c \u0434\u0435\u043d\u044c\u0433\u0438 "
        "\u0437\u0430 \u0437\u0430\u043a\u0430\u0437 5555.\n\n--\n\u041c\u0430\u0440\u0438\u044f\n\n"
        "\u041f\u043e\u043d\u0435\u0434\u0435\u043b\u044c\u043d\u0438\u043a, 16 \u043c\u0430\u0440\u0442\u0430 2026, "
        "10:00 +03:00 \u043e\u0442 Aftercare Support <support@example.com>:\n"
        "> \u0423\u043a\u0430\u0436\u0438\u0442\u0435 \u043d\u043e\u043c\u0435\u0440 \u0437\u0430\u043a\u0430\u0437\u0430.\n"
    )
    html = (
        "<HTML><BODY><div>\u0414\u043e\u0431\u0440\u044b\u0439 \u0434\u0435\u043d\u044c!</div><div>&nbsp;</div>"
        "<div>\u041f\u0440\u043e\u0448\u0443 \u0432\u0435\u0440\u043d\u0443\u0442\u044c \u0434\u0435\u043d\u044c\u0433\u0438 "
        "\u0437\u0430 \u0437\u0430\u043a\u0430\u0437 5555.</div></BODY></HTML>\n"
    )
    return mail(
        "From: =?UTF-8?B?0JzQsNGA0LjRjyDQodC40LTQvtGA0L7QstCw?= <maria@example.ru>\n"
        "To: Aftercare Support <support@example.com>\n"
        f"Subject: {ew_b('Re: [Case #49] Возврат денег')}\n"
        "MIME-Version: 1.0\n"
        "X-Mailer: Mail.Ru Mailer 1.0\n"
        "Date: Mon, 16 Mar 2026 13:40:00 +0300\n"
        "Reply-To: =?UTF-8?B?0JzQsNGA0LjRjw==?= <maria@example.ru>\n"
        "X-Priority: 3 (Normal)\n"
        "Message-ID: <1710585600.123456789@f123.i.mail.example.ru>\n"
        "In-Reply-To: <case-49.1@support.example.com>\n"
        "References: <case-49.1@support.example.com>\n"
        f'Content-Type: multipart/alternative;\n\tboundary="{boundary}"\n\n\n'
        f"--{boundary}\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: base64\n\n",
        b64(plain.encode("utf-8")),
        f"\n--{boundary}\n"
        "Content-Type: text/html; charset=utf-8\n"
        "Content-Transfer-Encoding: base64\n\n",
        b64(html.encode("utf-8")),
        f"\n--{boundary}--\n",
    )


def japanese_iso2022jp() -> bytes:
    body = (
        "\u304a\u4e16\u8a71\u306b\u306a\u3063\u3066\u304a\u308a\u307e\u3059\u3002\n"
        "\u5546\u54c1\u304c\u307e\u3060\u5c4a\u3044\u3066\u3044\u307e\u305b\u3093\u3002\n"
        "\u81f3\u6025\u3054\u78ba\u8a8d\u304f\u3060\u3055\u3044\u3002\n\n"
        "2026/03/16 10:00\u3001Aftercare Support <support@example.com>\u306e\u30e1\u30c3\u30bb\u30fc\u30b8:\n\n"
        "> \u3054\u9023\u7d61\u3042\u308a\u304c\u3068\u3046\u3054\u3056\u3044\u307e\u3059\u3002\n"
    )
    subject = (
        ew_b("Re: [Case #50] ", "ISO-2022-JP")
        + "\n "
        + ew_b("商品が届きません", "ISO-2022-JP")
    )
    return mail(
        f"From: {ew_b('山田 太郎', 'ISO-2022-JP')} <taro@example.jp>\n"
        "Content-Type: text/plain;\n\tcharset=iso-2022-jp\n"
        "Content-Transfer-Encoding: 7bit\n"
        "Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.500.171.1.1\\))\n"
        f"Subject: {subject}\n"
        "Date: Mon, 16 Mar 2026 19:00:00 +0900\n"
        "In-Reply-To: <case-50.1@support.example.com>\n"
        "To: Aftercare Support <support@example.com>\n"
        "References: <case-50.1@support.example.com>\n"
        "Message-Id: <C1D2E3F4-A5B6-4C7D-8E9F-0A1B2C3D4E5F@example.jp>\n"
        "X-Mailer: Apple Mail (2.3774.500.171.1.1)\n\n",
        body.encode("iso2022_jp"),
    )


FORWARDED_PDF_SIZE = 4321


def _forwarded_complaint() -> str:
    boundary = "------------8F2A1C3E5B7D9F0A2C4E6B8D"
    return (
        "Message-ID: <fwd-original-1@customer.example>\n"
        "Date: Sun, 15 Mar 2026 18:00:00 +0000\n"
        "MIME-Version: 1.0\n"
        "From: Paul Customer <paul@customer.example>\n"
        "To: shop@retailer.example\n"
        "Subject: My drill broke\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n'
        "This is a multi-part message in MIME format.\n"
        f"--{boundary}\n"
        "Content-Type: text/plain; charset=UTF-8\n"
        "Content-Transfer-Encoding: 7bit\n\n"
        "The drill broke after one use.\n\n"
        f"--{boundary}\n"
        'Content-Type: application/pdf; name="receipt.pdf"\n'
        'Content-Disposition: attachment; filename="receipt.pdf"\n'
        "Content-Transfer-Encoding: base64\n\n"
        + b64(fake_pdf(FORWARDED_PDF_SIZE, seed=7))
        + f"\n--{boundary}--\n"
    )


def forwarded_rfc822() -> bytes:
    boundary = "------------A1B2C3D4E5F60718293A4B5C"
    return mail(
        "Message-ID: <b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e@retailer.example>\n"
        "Date: Mon, 16 Mar 2026 09:00:00 +0000\n"
        "MIME-Version: 1.0\n"
        "User-Agent: Mozilla Thunderbird\n"
        "From: Retailer Shop <shop@retailer.example>\n"
        "To: Aftercare Support <support@example.com>\n"
        "Subject: Fwd: My drill broke\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n'
        "This is a multi-part message in MIME format.\n"
        f"--{boundary}\n"
        "Content-Type: text/plain; charset=UTF-8; format=flowed\n"
        "Content-Transfer-Encoding: 7bit\n\n"
        "Please see the forwarded complaint from my customer below.\n\n"
        f"--{boundary}\n"
        'Content-Type: message/rfc822; name="My drill broke.eml"\n'
        'Content-Disposition: attachment; filename="My drill broke.eml"\n\n',
        _forwarded_complaint(),
        f"\n--{boundary}--\n",
    )


def forwarded_only() -> bytes:
    boundary = "Apple-Mail=_0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0"
    return mail(
        "From: Retailer Shop <shop@retailer.example>\n"
        f'Content-Type: multipart/mixed;\n\tboundary="{boundary}"\n'
        "Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.500.171.1.1\\))\n"
        "Subject: Fwd: My drill broke\n"
        "Date: Mon, 16 Mar 2026 09:30:00 +0000\n"
        "To: Aftercare Support <support@example.com>\n"
        "Message-Id: <D0E1F2A3-B4C5-4D6E-8F70-819203A4B5C6@retailer.example>\n"
        "X-Mailer: Apple Mail (2.3774.500.171.1.1)\n\n\n"
        f"--{boundary}\n"
        "Content-Transfer-Encoding: 7bit\n"
        "Content-Type: text/plain;\n\tcharset=us-ascii\n\n\n\n"
        f"--{boundary}\n"
        "Content-Disposition: attachment;\n\tfilename=\"My drill broke.eml\"\n"
        "Content-Type: message/rfc822;\n\tx-unix-mode=0644;\n\tname=\"My drill broke.eml\"\n"
        "Content-Transfer-Encoding: 7bit\n\n",
        _forwarded_complaint(),
        f"\n--{boundary}--\n",
    )


PDF_ATTACHMENT_SIZE = 10_000


def pdf_attachment() -> bytes:
    boundary = "------------0A1B2C3D4E5F6A7B8C9D0E1F"
    return mail(
        "Message-ID: <9e8d7c6b-5a49-4837-2615-0f1e2d3c4b5a@example.de>\n"
        "Date: Tue, 17 Mar 2026 08:00:00 +0100\n"
        "MIME-Version: 1.0\n"
        "User-Agent: Mozilla Thunderbird\n"
        "Content-Language: de-DE\n"
        "To: support@example.com\n"
        "From: Greta Schmidt <greta@example.de>\n"
        "Subject: Rechnung zum defekten Toaster\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n'
        "This is a multi-part message in MIME format.\n"
        f"--{boundary}\n"
        "Content-Type: text/plain; charset=UTF-8; format=flowed\n"
        "Content-Transfer-Encoding: 8bit\n\n"
        "Hallo,\n\nanbei die Rechnung f\u00fcr den Toaster, der nach zwei Tagen kaputt ging.\n\n"
        "Gr\u00fc\u00dfe\nGreta\n\n"
        f"--{boundary}\n"
        'Content-Type: application/pdf; name="=?UTF-8?Q?Rechnung_M=C3=A4rz=2Epdf?="\n'
        "Content-Disposition: attachment;\n filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf\n"
        "Content-Transfer-Encoding: base64\n\n",
        b64(fake_pdf(PDF_ATTACHMENT_SIZE, seed=1)),
        f"\n--{boundary}--\n",
    )


# -- delivery reports --------------------------------------------------------


def _our_ack(mid: str, to: str, case: int) -> str:
    return (
        "Return-Path: <support@example.com>\n"
        "Received: from support.example.com (support.example.com [198.51.100.7])\n"
        "\tby mx.example.com (Postfix) with ESMTPS id 4Q1x2y3z4\n"
        "\tfor <" + to + ">; Tue, 17 Mar 2026 10:00:04 +0000 (UTC)\n"
        "From: Aftercare Support <support@example.com>\n"
        f"To: {to}\n"
        f"Subject: [Case #{case}] We received your complaint\n"
        f"Message-ID: <{mid}>\n"
        "Date: Tue, 17 Mar 2026 10:00:03 +0000\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 7bit\n"
        "X-Loop: aftercare@support.example.com\n"
        "Auto-Submitted: auto-replied\n\n"
        f"Hello,\n\nwe received your complaint and opened case #{case}.\n\nAftercare Support\n"
    )


def bounce_postfix() -> bytes:
    boundary = "4Q1x2y3z4.1773741605/mx.example.com"
    return mail(
        "Return-Path: <>\n"
        "Received: by mx.example.com (Postfix)\n\tid 4Q1x2y3z4; Tue, 17 Mar 2026 10:00:05 +0000 (UTC)\n"
        "Date: Tue, 17 Mar 2026 10:00:05 +0000 (UTC)\n"
        "From: MAILER-DAEMON@mx.example.com (Mail Delivery System)\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        "To: support@example.com\n"
        "Auto-Submitted: auto-replied\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/report; report-type=delivery-status;\n"
        f'\tboundary="{boundary}"\n'
        "Content-Transfer-Encoding: 8bit\n"
        "Message-Id: <20260317100005.4Q1x2y3z4@mx.example.com>\n\n"
        "This is a MIME-encapsulated message.\n\n"
        f"--{boundary}\n"
        "Content-Description: Notification\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n\n"
        "This is the mail system at host mx.example.com.\n\n"
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients. It's attached below.\n\n"
        "For further assistance, please send mail to postmaster.\n\n"
        "If you do so, please include this problem report. You can\n"
        "delete your own text from the attached returned message.\n\n"
        "                   The mail system\n\n"
        "<nobody@example.org>: host mail.example.org[192.0.2.25] said: 550 5.1.1\n"
        "    <nobody@example.org>: Recipient address rejected: User unknown in virtual\n"
        "    mailbox table (in reply to RCPT TO command)\n\n"
        f"--{boundary}\n"
        "Content-Description: Delivery report\n"
        "Content-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.com\n"
        "X-Postfix-Queue-ID: 4Q1x2y3z4\n"
        "X-Postfix-Sender: rfc822; support@example.com\n"
        "Arrival-Date: Tue, 17 Mar 2026 10:00:04 +0000 (UTC)\n\n"
        "Final-Recipient: rfc822; nobody@example.org\n"
        "Original-Recipient: rfc822;nobody@example.org\n"
        "Action: failed\n"
        "Status: 5.1.1\n"
        "Remote-MTA: dns; mail.example.org\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.org>: Recipient address\n"
        "    rejected: User unknown in virtual mailbox table\n\n"
        f"--{boundary}\n"
        "Content-Description: Undelivered Message\n"
        "Content-Type: message/rfc822\n"
        "Content-Transfer-Encoding: 8bit\n\n",
        _our_ack("ack-1@support.example.com", "nobody@example.org", 51),
        f"\n--{boundary}--\n",
    )


def bounce_exchange() -> bytes:
    outer = "b1e3c5a7-9d2f-4e6b-8a0c-1d3f5b7e9a2c"
    alt = "c2f4d6b8-0e3a-4f7c-9b1d-2e4a6c8f0b3d"
    plain = (
        "Your message to former.employee@contoso.example couldn't be delivered.\n\n"
        "former.employee wasn't found at contoso.example.\n\n"
        "support     Office 365      former.employee\n"
        "Action Required                 Recipient\n\n"
        "Unknown To address\n\n"
        "How to Fix It\n"
        "The address may be misspelled or may not exist. Try one or more of the following:\n\n"
        "Diagnostic information for administrators:\n\n"
        "Generating server: AM6PR01MB5678.eurprd01.prod.exchangelabs.com\n\n"
        "former.employee@contoso.example\n"
        "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'\n"
    )
    html = (
        "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=us-ascii\"></head><body>"
        '<p style="font-family:Segoe UI;font-size:17pt;color:#C00000">Your message to '
        "former.employee@contoso.example couldn't be delivered.</p></body></html>\n"
    )
    return mail(
        "Received: from AM6PR01MB5678.eurprd01.prod.exchangelabs.com\n"
        " (2603:10a6:20b:1c0::11) by AM6PR01MB5678.eurprd01.prod.exchangelabs.com with\n"
        " Microsoft SMTP Server id 15.20.7316.039; Tue, 17 Mar 2026 11:00:00 +0000\n"
        "From: Microsoft Outlook <postmaster@contoso.example>\n"
        "To: <support@example.com>\n"
        "Date: Tue, 17 Mar 2026 11:00:00 +0000\n"
        "Content-Type: multipart/report; report-type=delivery-status;\n"
        f'\tboundary="{outer}"\n'
        "X-MS-Exchange-Message-Is-Ndr:\n"
        "Content-Language: en-US\n"
        "Message-ID:\n <4d6f8a0b-2c4e-4f60-8b2d-3f5a7c9e1b3d@AM6PR01MB5678.eurprd01.prod.exchangelabs.com>\n"
        "In-Reply-To: <ack-2@support.example.com>\n"
        "References: <ack-2@support.example.com>\n"
        "Thread-Topic: [Case #52] We received your complaint\n"
        "Subject: Undeliverable: [Case #52] We received your complaint\n"
        "Auto-Submitted: auto-replied\n"
        "X-MS-PublicTrafficType: Email\n"
        "MIME-Version: 1.0\n\n"
        f"--{outer}\n"
        "Content-Type: multipart/alternative; differentiator=\n"
        f'\t{alt};\n\tboundary="{alt}"\n\n\n'
        f"--{alt}\n"
        'Content-Type: text/plain; charset="us-ascii"\n'
        "Content-Transfer-Encoding: quoted-printable\n\n",
        qp(plain, "ascii"),
        f"\n--{alt}\n"
        'Content-Type: text/html; charset="us-ascii"\n'
        "Content-Transfer-Encoding: quoted-printable\n\n",
        qp(html, "ascii"),
        f"\n--{alt}--\n\n"
        f"--{outer}\n"
        "Content-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns;AM6PR01MB5678.eurprd01.prod.exchangelabs.com\n"
        "Received-From-MTA: dns;mx.example.com\n"
        "Arrival-Date: Tue, 17 Mar 2026 10:59:58 +0000\n\n"
        "Original-Recipient: rfc822;former.employee@contoso.example\n"
        "Final-Recipient: rfc822;former.employee@contoso.example\n"
        "Action: failed\n"
        "Status: 5.1.10\n"
        "Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup\n\n"
        f"--{outer}\n"
        "Content-Type: text/rfc822-headers\n\n"
        "Return-Path: <support@example.com>\n"
        "From: Aftercare Support <support@example.com>\n"
        "To: former.employee@contoso.example\n"
        "Subject: [Case #52] We received your complaint\n"
        "Message-ID: <ack-2@support.example.com>\n"
        "Date: Tue, 17 Mar 2026 10:59:57 +0000\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        f"--{outer}--\n",
    )


def bounce_gmail() -> bytes:
    outer = "000000000000f1e2d30614aabbcc"
    related = "000000000000f1e2d30614aabbdd"
    alt = "000000000000f1e2d30614aabbee"
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
    )
    plain = (
        "\n** Address not found **\n\n"
        "Your message wasn't delivered to no.such.user@gmail.example because the address "
        "couldn't be found, or is unable to receive mail.\n\n"
        "Learn more here: https://support.google.com/mail/?p=NoSuchUser\n\n"
        "The response was:\n\n"
        "550 5.1.1 The email account that you tried to reach does not exist. Please try "
        "double-checking the recipient's email address for typos or unnecessary spaces.\n"
    )
    return mail(
        "Delivered-To: support@example.com\n"
        "Return-Path: <>\n"
        "Received: by 2002:a05:6a10:1c2d:b0:4f1:2a3b:4c5d with SMTP id n13csp123456pxb;\n"
        "        Tue, 17 Mar 2026 04:10:25 -0700 (PDT)\n"
        "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\n"
        "To: support@example.com\n"
        "Auto-Submitted: auto-replied\n"
        "Subject: Delivery Status Notification (Failure)\n"
        "References: <ack-3@support.example.com>\n"
        "In-Reply-To: <ack-3@support.example.com>\n"
        "X-Failed-Recipients: no.such.user@gmail.example\n"
        "Message-ID: <65f6a8b1.050a0220.1c2d3.0001.GMR@mx.google.com>\n"
        "Date: Tue, 17 Mar 2026 04:10:25 -0700 (PDT)\n"
        "MIME-Version: 1.0\n"
        f'Content-Type: multipart/report; boundary="{outer}"; report-type=delivery-status\n\n'
        f"--{outer}\n"
        f'Content-Type: multipart/related; boundary="{related}"\n\n'
        f"--{related}\n"
        f'Content-Type: multipart/alternative; boundary="{alt}"\n\n'
        f"--{alt}\n"
        'Content-Type: text/plain; charset="UTF-8"\n\n',
        plain,
        f"\n--{alt}\n"
        'Content-Type: text/html; charset="UTF-8"\n\n'
        "<html><body><h2>Address not found</h2><p>Your message wasn't delivered to "
        "<a>no.such.user@gmail.example</a> because the address couldn't be found.</p></body></html>\n\n"
        f"--{alt}--\n"
        f"--{related}\n"
        'Content-Type: image/png; name="icon.png"\n'
        'Content-Disposition: attachment; filename="icon.png"\n'
        "Content-Transfer-Encoding: base64\n"
        "Content-ID: <icon.png>\n\n",
        b64(png),
        f"--{related}--\n"
        f"--{outer}\n"
        "Content-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; googlemail.com\n"
        "Received-From-MTA: dns; support@example.com\n"
        "Arrival-Date: Tue, 17 Mar 2026 04:10:24 -0700 (PDT)\n"
        "X-Original-Message-ID: <ack-3@support.example.com>\n\n"
        "Final-Recipient: rfc822; no.such.user@gmail.example\n"
        "Action: failed\n"
        "Status: 5.1.1\n"
        "Remote-MTA: dns; gmail-smtp-in.l.google.com. (2607:f8b0:400e:c00::1a,\n"
        " the server for the domain gmail.example.)\n"
        "Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does\n"
        " not exist. Please try\n"
        " 550-5.1.1 double-checking the recipient's email address for typos or\n"
        " 550-5.1.1 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser\n"
        " a1-20020a170902b00100b001dd0a1b2c3dsi123456pls.456 - gsmtp\n"
        "Last-Attempt-Date: Tue, 17 Mar 2026 04:10:25 -0700 (PDT)\n\n"
        f"--{outer}\n"
        "Content-Type: message/rfc822\n\n",
        _our_ack("ack-3@support.example.com", "no.such.user@gmail.example", 53),
        f"\n--{outer}--\n",
    )


def bounce_qmail_inline() -> bytes:
    return mail(
        "Return-Path: <>\n"
        "Received: (qmail 12345 invoked for bounce); 17 Mar 2026 12:00:00 -0000\n"
        "Date: 17 Mar 2026 12:00:00 -0000\n"
        "From: MAILER-DAEMON@mail.example.biz\n"
        "To: support@example.com\n"
        "Subject: failure notice\n\n"
        "Hi. This is the qmail-send program at mail.example.biz.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        "<gone@example.biz>:\n"
        "Sorry, no mailbox here by that name. (#5.1.1)\n\n"
        "--- Below this line is a copy of the message.\n\n",
        _our_ack("ack-4@support.example.com", "gone@example.biz", 54),
    )


def bounce_mailer_daemon_attached() -> bytes:
    boundary = "NextPart-20260317130000-0123456"
    return mail(
        "Return-Path: <>\n"
        "From: Mail Delivery System <Mailer-Daemon@mx.example.info>\n"
        "To: support@example.com\n"
        "Subject: Mail delivery failed: returning message to sender\n"
        "Date: Tue, 17 Mar 2026 13:00:00 +0100\n"
        "Message-Id: <E1rLmNo-0001Ab-Cd@mx.example.info>\n"
        "X-Failed-Recipients: Lost@Example.info\n"
        "MIME-Version: 1.0\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n'
        f"--{boundary}\n"
        "Content-Type: text/plain; charset=us-ascii\n\n"
        "This message was created automatically by mail delivery software.\n\n"
        "A message that you sent could not be delivered to one or more of its\n"
        "recipients. This is a permanent error. The following address(es) failed:\n\n"
        "  lost@example.info\n"
        "    mailbox is full: retry timeout exceeded\n\n"
        f"--{boundary}\n"
        "Content-Type: message/rfc822\n\n",
        _our_ack("ack-5@support.example.com", "lost@example.info", 55),
        f"\n--{boundary}--\n",
    )


# -- automatic replies and lists ---------------------------------------------


def ooo_exchange() -> bytes:
    boundary = "_000_DB9PR01MB1122AABBCCDDEEFF0011DB9PR01MB1122eurp_"
    plain = "I am out of the office until 30 March with limited access to email.\n\nSarah\n"
    return mail(
        "From: Sarah Connor <sarah.connor@contoso.example>\n"
        "To: Aftercare Support <support@example.com>\n"
        "Subject: Automatic reply: [Case #58] We received your complaint\n"
        "Thread-Topic: [Case #58] We received your complaint\n"
        "Thread-Index: AQHadXk3q0Jm8k2tRUa3cQ9v1xZ7qw==\n"
        "Date: Tue, 17 Mar 2026 10:00:10 +0000\n"
        "Message-ID: <DB9PR01MB1122AABBCCDDEEFF0011@DB9PR01MB1122.eurprd01.prod.exchangelabs.com>\n"
        "References: <ack-58@support.example.com>\n"
        "In-Reply-To: <ack-58@support.example.com>\n"
        "Content-Language: en-GB\n"
        "X-MS-Has-Attach:\n"
        "X-MS-Exchange-Organization-SCL: -1\n"
        "X-MS-TNEF-Correlator:\n"
        "X-Auto-Response-Suppress: All\n"
        "x-ms-exchange-transport-fromentityheader: Hosted\n"
        f'Content-Type: multipart/alternative;\n\tboundary="{boundary}"\n'
        "MIME-Version: 1.0\n\n"
        f"--{boundary}\n"
        'Content-Type: text/plain; charset="us-ascii"\n'
        "Content-Transfer-Encoding: quoted-printable\n\n",
        qp(plain, "ascii"),
        f"\n--{boundary}\n"
        'Content-Type: text/html; charset="us-ascii"\n'
        "Content-Transfer-Encoding: quoted-printable\n\n",
        qp("<html><body><p>I am out of the office until 30 March.</p></body></html>\n", "ascii"),
        f"\n--{boundary}--\n",
    )


def ooo_auto_submitted() -> bytes:
    return mail(
        "MIME-Version: 1.0\n"
        "From: Lena Vacation <lena@gmail.example>\n"
        "Date: Tue, 17 Mar 2026 10:00:20 +0100\n"
        "Message-ID: <CAHk5Vacat10nResp0nder1234567890abcdef@mail.gmail.com>\n"
        "Subject: Away until Monday\n"
        "To: Aftercare Support <support@example.com>\n"
        "Auto-Submitted: auto-replied\n"
        "In-Reply-To: <ack-59@support.example.com>\n"
        "References: <ack-59@support.example.com>\n"
        'Content-Type: text/plain; charset="UTF-8"\n\n'
        "I'm on holiday and will answer your email on Monday.\n"
    )


def ooo_precedence_bulk() -> bytes:
    return mail(
        "Return-Path: <oldtimer@unix.example>\n"
        "Date: Tue, 17 Mar 2026 10:01:00 +0000\n"
        "From: oldtimer@unix.example\n"
        "Message-Id: <202603171001.42HA1000012345@unix.example>\n"
        "To: support@example.com\n"
        "Subject: away from my mail\n"
        "Precedence: bulk\n\n"
        "I will not be reading my mail for a while.\n"
        "Your mail concerning \"[Case #60] We received your complaint\"\n"
        "will be read when I'm back.\n"
    )


def ooo_german_abwesenheit() -> bytes:
    return mail(
        "From: Klaus Kleber <klaus.kleber@example.de>\n"
        "To: Aftercare Support <support@example.com>\n"
        "Subject: Abwesenheitsnotiz: AW: [Case #61] Wasserkocher defekt\n"
        "Thread-Topic: [Case #61] Wasserkocher defekt\n"
        "Date: Tue, 17 Mar 2026 11:02:00 +0100\n"
        "Message-ID: <FR3P281MB0456B7C8D9E0F1A2@FR3P281MB0456.DEUP281.PROD.OUTLOOK.COM>\n"
        "In-Reply-To: <case-61.2@support.example.com>\n"
        "Content-Language: de-DE\n"
        'Content-Type: text/plain; charset="iso-8859-1"\n'
        "Content-Transfer-Encoding: quoted-printable\n"
        "MIME-Version: 1.0\n\n",
        qp("Ich bin bis zum 30.03. nicht im B\u00fcro und lese keine E-Mails.\n", "iso-8859-1"),
    )


def mailing_list() -> bytes:
    return mail(
        "Return-Path: <products-bounces+support=example.com@lists.example.org>\n"
        "From: Alice Lister <alice@example.org>\n"
        "To: products@lists.example.org\n"
        "Subject: [products] New kettle model announced\n"
        "Date: Tue, 17 Mar 2026 09:00:00 +0000\n"
        "Message-ID: <list-post-1@example.org>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=\"us-ascii\"\n"
        "Content-Transfer-Encoding: 7bit\n"
        "Message-ID-Hash: 4XQ2ZJ3KDLM5N6O7P8Q9R0S1T2U3V4W5\n"
        "X-Message-ID-Hash: 4XQ2ZJ3KDLM5N6O7P8Q9R0S1T2U3V4W5\n"
        "X-Mailman-Version: 3.3.9\n"
        "List-Id: Product news <products.lists.example.org>\n"
        "Archived-At: <https://lists.example.org/archives/list/products@lists.example.org/message/4XQ2/>\n"
        "List-Archive: <https://lists.example.org/archives/list/products@lists.example.org/>\n"
        "List-Help: <mailto:products-request@lists.example.org?subject=help>\n"
        "List-Owner: <mailto:products-owner@lists.example.org>\n"
        "List-Post: <mailto:products@lists.example.org>\n"
        "List-Subscribe: <mailto:products-join@lists.example.org>\n"
        "List-Unsubscribe: <mailto:products-leave@lists.example.org>\n\n"
        "Hi all, the new kettle model ships next week.\n"
        "_______________________________________________\n"
        "products mailing list -- products@lists.example.org\n"
        "To unsubscribe send an email to products-leave@lists.example.org\n"
    )


def noreply_sender() -> bytes:
    return mail(
        "From: Webshop <No-Reply@shop.example>\n"
        "To: support@example.com\n"
        "Subject: Your order 4711 has shipped\n"
        "Date: Tue, 17 Mar 2026 09:30:00 +0000\n"
        "Message-ID: <order-4711-shipped@shop.example>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/html; charset=utf-8\n"
        "Content-Transfer-Encoding: 7bit\n\n"
        "<html><body><p>Your order <b>4711</b> has shipped.</p></body></html>\n"
    )


def x_autoreply() -> bytes:
    return mail(
        "From: Oleg Sidorov <oleg@example.ru>\n"
        "To: support@example.com\n"
        "Subject: Re: [Case #62] We received your complaint\n"
        "Date: Tue, 17 Mar 2026 12:00:00 +0300\n"
        "Message-ID: <autoreply-62@example.ru>\n"
        "X-Autoreply: yes\n"
        "In-Reply-To: <ack-62@support.example.com>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n\n"
        "\u042f \u0432 \u043e\u0442\u043f\u0443\u0441\u043a\u0435 \u0434\u043e 30 \u043c\u0430\u0440\u0442\u0430.\n"
    )


def return_path_empty() -> bytes:
    return mail(
        "Return-Path: <>\n"
        "From: Helpdesk <helpdesk@vendor.example>\n"
        "To: support@example.com\n"
        "Subject: [Ticket#2026031710000123] Thank you for your message\n"
        "Date: Tue, 17 Mar 2026 10:05:00 +0000\n"
        "Message-ID: <ticket-2026031710000123@vendor.example>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        "Your request has been received and a ticket was opened.\n"
    )


def own_loop() -> bytes:
    return mail(
        "From: Aftercare Support <support@example.com>\n"
        "To: customer@example.org\n"
        "Cc: support@example.com\n"
        "Subject: [Case #63] We received your complaint\n"
        "Date: Tue, 17 Mar 2026 10:00:00 +0000\n"
        "Message-ID: <ack-63@support.example.com>\n"
        "X-Loop: aftercare@support.example.com\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        "Hello,\n\nwe received your complaint and opened case #63.\n"
    )


# -- hostile -----------------------------------------------------------------


def hostile_missing_boundary() -> bytes:
    return mail(
        "From: Broken Mailer <broken@example.net>\n"
        "To: support@example.com\n"
        "Subject: Missing boundary\n"
        "Date: Tue, 17 Mar 2026 14:00:00 +0000\n"
        "Message-ID: <missing-boundary@example.net>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/mixed\n\n"
        "--frontier\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        "This is the body text.\n"
        "--frontier\n"
        "Content-Type: application/octet-stream; name=\"data.bin\"\n"
        "Content-Disposition: attachment; filename=\"data.bin\"\n"
        "Content-Transfer-Encoding: base64\n\n"
        "AAECAwQFBgcICQ==\n"
        "--frontier--\n"
    )


def hostile_unterminated() -> bytes:
    return mail(
        "From: Cut Off <cut@example.net>\n"
        "To: support@example.com\n"
        "Subject: Unterminated multipart\n"
        "Date: Tue, 17 Mar 2026 14:01:00 +0000\n"
        "Message-ID: <unterminated@example.net>\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="XyZ"\n\n'
        "--XyZ\n"
        "Content-Type: text/plain\n\n"
        "The text before the attachment.\n"
        "--XyZ\n"
        'Content-Type: image/jpeg; name="photo.jpg"\n'
        "Content-Transfer-Encoding: base64\n\n"
        "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0a\n"
        "HBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgN",
    )


def hostile_unknown_charset() -> bytes:
    return mail(
        "From: Odd Charset <odd@example.com.tr>\n"
        "To: support@example.com\n"
        "Subject: Unknown charset\n"
        "Date: Tue, 17 Mar 2026 14:02:00 +0000\n"
        "Message-ID: <unknown-charset@example.com.tr>\n"
        "MIME-Version: 1.0\n"
        'Content-Type: text/plain; charset="x-unknown"\n'
        "Content-Transfer-Encoding: 8bit\n\n",
        "\u00dcr\u00fcn ar\u0131zal\u0131 \u2013 the product is broken.\n".encode("utf-8"),
    )


def hostile_lying_charset() -> bytes:
    return mail(
        "From: Liar <liar@example.com>\n"
        "To: support@example.com\n"
        "Subject: Lying charset\n"
        "Date: Tue, 17 Mar 2026 14:03:00 +0000\n"
        "Message-ID: <lying-charset@example.com>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n\n",
        "The caf\u00e9 machine \u201cDeluxe\u201d costs \u20ac199.\n".encode("cp1252"),
    )


def hostile_nul_bytes() -> bytes:
    return mail(
        b"From: Ev\x00il <nul@example.net>\n"
        b"To: support@example.com\n"
        b"Subject: Hello\x00World\n"
        b"Date: Tue, 17 Mar 2026 14:04:00 +0000\n"
        b"Message-ID: <nul\x00bytes@example.net>\n"
        b"MIME-Version: 1.0\n"
        b"Content-Type: text/plain; charset=utf-8\n\n"
        b"Body\x00text with \x00 NULs.\n"
    )


def hostile_long_line() -> bytes:
    line = ("0123456789abcdef" * (LONG_LINE_SIZE // 16 + 1))[:LONG_LINE_SIZE]
    return mail(
        "From: Long Liner <long@example.net>\n"
        "To: support@example.com\n"
        "Subject: One megabyte line\n"
        "Date: Tue, 17 Mar 2026 14:05:00 +0000\n"
        "Message-ID: <long-line@example.net>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=us-ascii\n\n"
        "Short first line.\n",
        line,
        "\n",
    )


def hostile_deep_nesting() -> bytes:
    head = (
        "From: Russian Doll <doll@example.net>\n"
        "To: support@example.com\n"
        "Subject: Nested 100 deep\n"
        "Date: Tue, 17 Mar 2026 14:06:00 +0000\n"
        "Message-ID: <deep-nesting@example.net>\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="level0"\n\n'
        "--level0\n"
        "Content-Type: text/plain\n\n"
        "Top level text\n"
    )
    opening, closing = [], []
    for level in range(1, NESTING_DEPTH):
        opening.append(f"--level{level - 1}\nContent-Type: multipart/mixed; boundary=\"level{level}\"\n\n")
        closing.append(f"--level{level}--\n")
    inner = f"--level{NESTING_DEPTH - 1}\nContent-Type: text/plain\n\ndeep inside\n"
    return mail(head, "".join(opening), inner, "".join(reversed(closing)), "--level0--\n")


def hostile_8bit_headers() -> bytes:
    return mail(
        b"From: Fran\xe7ois Dupont <francois@example.fr>\n"
        b"To: support@example.com\n",
        "Subject: R\u00e9clamation: produit d\u00e9fectueux \u2713\n".encode("utf-8"),
        b"X-Comment: \x93quoted\x94 by a cp1252 program\n"
        b"Date: Tue, 17 Mar 2026 14:07:00 +0000\n"
        b"Message-ID: <raw-8bit@example.fr>\n"
        b"MIME-Version: 1.0\n"
        b"Content-Type: text/plain; charset=utf-8\n"
        b"Content-Transfer-Encoding: 8bit\n\n",
        "Le produit est d\u00e9fectueux.\n".encode("utf-8"),
    )


def hostile_non_ascii_address() -> bytes:
    return mail(
        "From: J\u00f6rg B\u00fccher <j\u00f6rg@b\u00fccher.example>\n"
        "To: \u7528\u6237@\u4f8b\u5b50.\u5e7f\u544a, support@example.com\n"
        "Cc: =?UTF-8?Q?Zo=C3=AB?= <Zo\u00eb@xn--bcher-kva.example>\n"
        "Subject: Internationalised addresses\n"
        "Date: Tue, 17 Mar 2026 14:08:00 +0000\n"
        "Message-ID: <smtputf8@b\u00fccher.example>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n\n"
        "Sent with SMTPUTF8.\n"
    )


def hostile_header_injection() -> bytes:
    return mail(
        "From: " + ew_b("Evil\r\nBcc: victim@example.org") + " <evil@example.net>\n"
        "To: support@example.com\n"
        "Subject: =?UTF-8?Q?Refund_request=0D=0ABcc:_victim@example.org?=\n"
        "Date: Tue, 17 Mar 2026 14:09:00 +0000\n"
        "Message-ID: <injection@example.net>\n"
        "Reply-To: " + ew_q("victim@example.org") + "\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        "Please refund me.\n"
    )


def hostile_jinja() -> bytes:
    return mail(
        'From: "{{ 7*7 }} {% for x in y %}" <jinja@example.org>\n'
        "To: support@example.com\n"
        "Subject: {{ 7*7 }} {% for x in y %}\n"
        "Date: Tue, 17 Mar 2026 14:10:00 +0000\n"
        "Message-ID: <jinja@example.org>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        "Hello {{ 7*7 }}\n"
        "{% for x in y %}{{ x }}{% endfor %}\n"
        "{{ config.__class__.__init__.__globals__ }}\n"
    )


def hostile_forged_message_id() -> bytes:
    return mail(
        "From: Mallory <mallory@example.net>\n"
        "To: support@example.com\n"
        "Subject: Re: [Case #51] We received your complaint\n"
        "Date: Tue, 17 Mar 2026 14:11:00 +0000\n"
        "Message-ID: <ack-1@support.example.com>\n"
        "In-Reply-To: <ack-1@support.example.com>\n"
        "References: <ack-1@support.example.com>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        "This mail pretends to be one of yours.\n"
    )


def hostile_empty_body() -> bytes:
    return mail(
        "From: Empty <empty@example.net>\n"
        "To: support@example.com\n"
        "Subject: Empty body\n"
        "Date: Tue, 17 Mar 2026 14:12:00 +0000\n"
        "Message-ID: <empty-body@example.net>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
    )


def hostile_missing_headers() -> bytes:
    return mail("Subject: no sender, no date, no id\n\nWho sent this?\n")


def html_only() -> bytes:
    html = (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Contact form</title>"
        "<style>body{font-family:sans-serif} .x{display:none}</style>"
        "<script>alert('hi')</script></head>\n<body>\n"
        "<h1>New contact form submission</h1>\n"
        "<table><tr><th>Name</th><td>Ren&eacute;e O&#39;Brien</td></tr>\n"
        "<tr><th>Order number</th><td>4711</td></tr>\n"
        "<tr><th>Message</th><td>The toaster&nbsp;caught fire &amp; smells.<br>Please help.</td></tr></table>\n"
        "</body></html>\n"
    )
    return mail(
        "From: Contact Form <forms@webshop.example>\n"
        "Reply-To: Renee O'Brien <renee@example.ie>\n"
        "To: support@example.com\n"
        "Subject: Contact form: toaster\n"
        "Date: Tue, 17 Mar 2026 14:13:00 +0000\n"
        "Message-ID: <form-1234@webshop.example>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/html; charset=UTF-8\n"
        "Content-Transfer-Encoding: base64\n\n",
        b64(html.encode("utf-8")),
    )


def references_garbage() -> bytes:
    return mail(
        "From: Thread Breaker <threads@example.net>\n"
        "To: support@example.com\n"
        "Subject: Re: Re: Re: [Case #64] thread\n"
        "Date: Tue, 17 Mar 2026 14:14:00 +0000\n"
        "Message-ID: <  spaced.id@example.net  >\n"
        "In-Reply-To: <case-64.2@support.example.com> (Aftercare's message of Mon, 16 Mar)\n"
        "References: <case-64.1@support.example.com>,<case-64.2@support.example.com>,\n"
        " garbage here <case-64.1@support.example.com>\n"
        " <broken@id\n"
        " <case-64.3@support.example.com>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        "Threading headers are a mess here.\n"
    )


def hostile_bad_base64() -> bytes:
    return mail(
        "From: Bad Base64 <b64@example.net>\n"
        "To: support@example.com\n"
        "Subject: Bad base64\n"
        "Date: Tue, 17 Mar 2026 14:15:00 +0000\n"
        "Message-ID: <bad-base64@example.net>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: base64\n\n"
        "SGVsbG8gd29y!!bGQ*\n"
        "===\n"
        "not base64 at all ###\n"
    )


def hostile_bad_date() -> bytes:
    return mail(
        "From: Time Traveller <time@example.net>\n"
        "To: support@example.com\n"
        "Subject: Bad date\n"
        "Date: 32 Foo 2026 25:61:00 +9999\n"
        "Message-ID: <bad-date@example.net>\n"
        "Content-Type: text/plain\n\n"
        "When is this?\n"
    )


def hostile_bad_encoded_words() -> bytes:
    return mail(
        "From: =?x-unknown?B?TmFtZQ==?= <ew@example.net>\n"
        "To: support@example.com\n"
        "Subject: =?x-unknown?B?SGVsbG8=?= =?utf-8?B?!!!?= =?utf-8?Q?caf=E9?= =?punycode?Q?abc?=\n"
        "Date: Tue, 17 Mar 2026 14:16:00 +0000\n"
        "Message-ID: <bad-encoded-words@example.net>\n"
        "Content-Type: text/plain\n\n"
        "Encoded words gone wrong.\n"
    )


def hostile_binary_garbage() -> bytes:
    return random.Random(1234).randbytes(4096)


def hostile_no_separator() -> bytes:
    return mail(
        "From: No Separator <nosep@example.net>\n"
        "Subject: no blank line after headers\n"
        "This line is not a header but the body starts here.\n"
        "Second body line.\n"
    )


def mbox_from_line() -> bytes:
    return mail(
        "From jane@example.org Mon Mar  9 10:00:00 2026\n"
        "From: Jane <jane@example.org>\n"
        "To: support@example.com\n"
        "Subject: mbox style\n"
        "Date: Mon, 09 Mar 2026 10:00:00 +0000\n"
        "Message-ID: <mbox@example.org>\n\n"
        "Bare LF line endings and an mbox From_ line.\n",
        line_ending="lf",
    )


def hostile_many_parts() -> bytes:
    parts = "".join(
        f"--many\nContent-Type: application/octet-stream; name=\"p{i}.bin\"\n\nx\n" for i in range(1500)
    )
    return mail(
        "From: Many Parts <many@example.net>\n"
        "To: support@example.com\n"
        "Subject: 1500 parts\n"
        "Date: Tue, 17 Mar 2026 14:17:00 +0000\n"
        "Message-ID: <many-parts@example.net>\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="many"\n\n'
        "--many\nContent-Type: text/plain\n\nFirst part text.\n",
        parts,
        "--many--\n",
    )


# -- the 25 MB one (not committed) --------------------------------------------


def huge_attachment_eml() -> bytes:
    boundary = "------------HUGE0123456789ABCDEF"
    chunk = bytes(range(256)) * 4096  # 1 MiB
    payload = chunk * (HUGE_ATTACHMENT_SIZE // len(chunk))
    encoded = base64.encodebytes(payload).replace(b"\n", b"\r\n")
    head = crlf(
        (
            "From: Big Sender <big@example.net>\n"
            "To: support@example.com\n"
            "Subject: Video of the broken machine\n"
            "Date: Tue, 17 Mar 2026 14:18:00 +0000\n"
            "Message-ID: <huge-attachment@example.net>\n"
            "MIME-Version: 1.0\n"
            f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n'
            f"--{boundary}\n"
            "Content-Type: text/plain; charset=utf-8\n\n"
            "The video is attached.\n"
            f"--{boundary}\n"
            'Content-Type: video/mp4; name="machine.mp4"\n'
            'Content-Disposition: attachment; filename="machine.mp4"\n'
            "Content-Transfer-Encoding: base64\n\n"
        ).encode("ascii")
    )
    return head + encoded + crlf(f"--{boundary}--\n".encode("ascii"))


CORPUS = {
    "outlook_reply_cp1252": outlook_reply_cp1252,
    "outlook_html_only_cp1252": outlook_html_only_cp1252,
    "gmail_reply": gmail_reply,
    "apple_mail_reply": apple_mail_reply,
    "iphone_reply": iphone_reply,
    "thunderbird_reply": thunderbird_reply,
    "french_reply": french_reply,
    "german_outlook_reply": german_outlook_reply,
    "russian_koi8r": russian_koi8r,
    "russian_utf8": russian_utf8,
    "japanese_iso2022jp": japanese_iso2022jp,
    "forwarded_rfc822": forwarded_rfc822,
    "forwarded_only": forwarded_only,
    "pdf_attachment": pdf_attachment,
    "bounce_postfix": bounce_postfix,
    "bounce_exchange": bounce_exchange,
    "bounce_gmail": bounce_gmail,
    "bounce_qmail_inline": bounce_qmail_inline,
    "bounce_mailer_daemon_attached": bounce_mailer_daemon_attached,
    "ooo_exchange": ooo_exchange,
    "ooo_auto_submitted": ooo_auto_submitted,
    "ooo_precedence_bulk": ooo_precedence_bulk,
    "ooo_german_abwesenheit": ooo_german_abwesenheit,
    "mailing_list": mailing_list,
    "noreply_sender": noreply_sender,
    "x_autoreply": x_autoreply,
    "return_path_empty": return_path_empty,
    "own_loop": own_loop,
    "hostile_missing_boundary": hostile_missing_boundary,
    "hostile_unterminated": hostile_unterminated,
    "hostile_unknown_charset": hostile_unknown_charset,
    "hostile_lying_charset": hostile_lying_charset,
    "hostile_nul_bytes": hostile_nul_bytes,
    "hostile_long_line": hostile_long_line,
    "hostile_deep_nesting": hostile_deep_nesting,
    "hostile_8bit_headers": hostile_8bit_headers,
    "hostile_non_ascii_address": hostile_non_ascii_address,
    "hostile_header_injection": hostile_header_injection,
    "hostile_jinja": hostile_jinja,
    "hostile_forged_message_id": hostile_forged_message_id,
    "hostile_empty_body": hostile_empty_body,
    "hostile_missing_headers": hostile_missing_headers,
    "html_only": html_only,
    "references_garbage": references_garbage,
    "hostile_bad_base64": hostile_bad_base64,
    "hostile_bad_date": hostile_bad_date,
    "hostile_bad_encoded_words": hostile_bad_encoded_words,
    "hostile_binary_garbage": hostile_binary_garbage,
    "hostile_no_separator": hostile_no_separator,
    "mbox_from_line": mbox_from_line,
    "hostile_many_parts": hostile_many_parts,
}


def build_corpus() -> dict[str, bytes]:
    """File name -> raw bytes, for every committed message."""
    return {f"{name}.eml": make() for name, make in CORPUS.items()}


def write_corpus(directory: Path = HERE) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, data in build_corpus().items():
        path = directory / filename
        path.write_bytes(data)
        written.append(path)
    return written


def write_huge(directory: Path) -> Path:
    path = Path(directory) / "huge_attachment.eml"
    path.write_bytes(huge_attachment_eml())
    return path


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    for p in write_corpus(target):
        print(p)

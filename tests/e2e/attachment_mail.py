"""Mail with files, written out as real programs write it (not by the stdlib composer, not by Aftercare).

* ``gmail_complaint``: Gmail's web client, a photo pasted into the text (multipart/related, ``cid:ii_...``,
  ``X-Attachment-Id``) and files attached below (multipart/mixed).
* ``thunderbird_staff_reply``: Thunderbird 128, HTML and plain text, a signature with a logo
  (``moz-signature``, ``cid:part1...``), the customer's message quoted below with the photo they pasted,
  and the files the staff member attached.
* ``outlook_staff_reply``: Outlook for Windows, windows-1252 quoted-printable, the ``_MailAutoSig``
  signature with a logo image, the "From:/Sent:" block above the quoted history.
"""
from __future__ import annotations

import base64
import os
from email.utils import make_msgid

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + os.urandom(48_000) + b"\xff\xd9"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + os.urandom(70_000) + b"\n%%EOF\n"
LOGO = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(3_000) + b"IEND\xaeB`\x82"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + os.urandom(5_000)


def b64(data: bytes) -> str:
    return base64.encodebytes(data).decode().replace("\n", "\r\n")


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def gmail_complaint(files: list[tuple[str, str, bytes]], *, photo: bytes | None = JPEG,
                    sender="Maria Rossi <maria@example.net>", subject="Cracked kettle lid, order 10234") -> bytes:
    """A complaint from Gmail on the web: a pasted photo shown in the text, ``files`` attached."""
    mid = make_msgid(idstring="CAF3x9", domain="mail.gmail.com")
    attached = "".join(
        f'--000000000000a1a1\r\nContent-Type: {ctype}; name="{name}"\r\n'
        f'Content-Disposition: attachment; filename="{name}"\r\nContent-Transfer-Encoding: base64\r\n'
        f"Content-ID: <f_m3k{i}>\r\nX-Attachment-Id: f_m3k{i}\r\n\r\n{b64(data)}\r\n"
        for i, (name, ctype, data) in enumerate(files))
    img = ('<img src="cid:ii_m3kettle1" alt="lid.jpg" width="542" height="406"><br>' if photo else "")
    related = ""
    if photo:
        related = (f'--000000000000a2a2\r\nContent-Type: image/jpeg; name="lid.jpg"\r\n'
                   f'Content-Disposition: inline; filename="lid.jpg"\r\nContent-Transfer-Encoding: base64\r\n'
                   f"Content-ID: <ii_m3kettle1>\r\nX-Attachment-Id: ii_m3kettle1\r\n\r\n{b64(photo)}\r\n")
    return _crlf(f"""MIME-Version: 1.0
Date: Mon, 2 Mar 2026 09:14:02 +0100
Message-ID: {mid}
Subject: {subject}
From: {sender}
To: support@example.com
Content-Type: multipart/mixed; boundary="000000000000a1a1"

--000000000000a1a1
Content-Type: multipart/related; boundary="000000000000a2a2"

--000000000000a2a2
Content-Type: multipart/alternative; boundary="000000000000a3a3"

--000000000000a3a3
Content-Type: text/plain; charset="UTF-8"

Hello,

the kettle arrived with a cracked lid, see the photo.
[image: lid.jpg]
The invoice is attached. I would like a replacement.

Maria

--000000000000a3a3
Content-Type: text/html; charset="UTF-8"

<div dir="ltr">Hello,<div><br></div><div>the kettle arrived with a cracked lid, see the photo.</div><div>{img}</div><div>The invoice is attached. I would like a replacement.</div><div><br></div><div>Maria</div></div>

--000000000000a3a3--
{related}--000000000000a2a2--
{attached}--000000000000a1a1--
""").encode()


def thunderbird_staff_reply(parent, sender: str, text: str, files: list[tuple[str, str, bytes]],
                            quoted_photo: bytes = JPEG) -> bytes:
    """Thunderbird 128 answering the owner's notification (``parent``, parsed), above the quote, with a
    signature logo and the customer's pasted photo in the quoted part."""
    mid = make_msgid(idstring="tb", domain="example.com")
    to = parent["Reply-To"] or "support@example.com"
    attached = "".join(
        f'--------------mixed0001\r\nContent-Type: {ctype}; name="{name}"\r\n'
        f'Content-Disposition: attachment; filename="{name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        f"{b64(data)}\r\n" for name, ctype, data in files)
    html_text = "".join(f"<p>{line}</p>" for line in text.split("\n"))
    return _crlf(f"""Content-Type: multipart/mixed; boundary="------------mixed0001"
Message-ID: {mid}
Date: Mon, 2 Mar 2026 10:02:11 +0100
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Subject: Re: {parent['Subject']}
To: {to}
References: {parent['Message-ID']}
In-Reply-To: {parent['Message-ID']}
From: {sender}

This is a multi-part message in MIME format.
--------------mixed0001
Content-Type: multipart/alternative; boundary="------------alt0001"

--------------alt0001
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit

{text}

-- 
Jane Doe
Acme Support | +44 20 7946 0000

On 02/03/2026 09:14, Acme Support wrote:
> Jane, a new complaint has arrived and it is yours to own.
>
> the kettle arrived with a cracked lid, see the photo.

--------------alt0001
Content-Type: multipart/related; boundary="------------rel0001"

--------------rel0001
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: 8bit

<!DOCTYPE html>
<html>
  <head>
    <meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
  </head>
  <body>
    {html_text}
    <div id="sig" class="moz-signature">-- <br>
      <img src="cid:part1.Jv0VnSgk.KGc0ccTK@example.com" alt="Acme" width="120" height="40"><br>
      Jane Doe<br>Acme Support | +44 20 7946 0000</div>
    <div class="moz-cite-prefix">On 02/03/2026 09:14, Acme Support wrote:<br></div>
    <blockquote type="cite" cite="mid:{parent['Message-ID'].strip('<>')}">
      <p>Jane, a new complaint has arrived and it is yours to own.</p>
      <p>the kettle arrived with a cracked lid, see the photo.</p>
      <img src="cid:part2.Mm2cd1Vk.o5U8tfAs@example.com" alt="lid.jpg">
    </blockquote>
  </body>
</html>
--------------rel0001
Content-Type: image/png; name="acme-logo.png"
Content-Disposition: inline; filename="acme-logo.png"
Content-Id: <part1.Jv0VnSgk.KGc0ccTK@example.com>
Content-Transfer-Encoding: base64

{b64(LOGO)}
--------------rel0001
Content-Type: image/jpeg; name="lid.jpg"
Content-Disposition: inline; filename="lid.jpg"
Content-Id: <part2.Mm2cd1Vk.o5U8tfAs@example.com>
Content-Transfer-Encoding: base64

{b64(quoted_photo)}
--------------rel0001--

--------------alt0001--
{attached}--------------mixed0001--
""").encode()


def outlook_staff_reply(parent, sender: str, text: str, files: list[tuple[str, str, bytes]]) -> bytes:
    """Outlook for Windows: windows-1252 quoted-printable, a ``_MailAutoSig`` signature with a logo, the
    "From:/Sent:" header block over the quoted history."""
    mid = make_msgid(idstring="DB9PR0", domain="eurprd07.prod.outlook.com")
    to = parent["Reply-To"] or "support@example.com"
    attached = "".join(
        f'--_004_outlook_\r\nContent-Type: {ctype}; name="{name}"\r\nContent-Description: {name}\r\n'
        f'Content-Disposition: attachment; filename="{name}"; size={len(data)};\r\n'
        f"\tcreation-date=\"Mon, 02 Mar 2026 09:58:00 GMT\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        f"{b64(data)}\r\n" for name, ctype, data in files)
    plain = text.replace("\n", "\r\n")
    html_text = "".join(f'<p class="MsoNormal"><span lang="EN-GB">{line}</span></p>' for line in text.split("\n"))
    return _crlf(f"""From: {sender}
To: {to}
Subject: RE: {parent['Subject']}
Thread-Topic: {parent['Subject']}
Date: Mon, 2 Mar 2026 09:59:40 +0000
Message-ID: {mid}
References: {parent['Message-ID']}
In-Reply-To: {parent['Message-ID']}
Accept-Language: en-GB, en-US
Content-Language: en-GB
X-MS-Has-Attach: yes
Content-Type: multipart/mixed; boundary="_004_outlook_"
MIME-Version: 1.0

--_004_outlook_
Content-Type: multipart/related; boundary="_003_outlook_"; type="multipart/alternative"

--_003_outlook_
Content-Type: multipart/alternative; boundary="_000_outlook_"

--_000_outlook_
Content-Type: text/plain; charset="windows-1252"
Content-Transfer-Encoding: quoted-printable

{plain}

Kind regards

Jane Doe
Customer Care =96 Acme

From: Acme Support <support@example.com>
Sent: 02 March 2026 09:14
To: Jane Doe <jane@example.com>
Subject: {parent['Subject']}

Jane, a new complaint has arrived and it is yours to own.

--_000_outlook_
Content-Type: text/html; charset="windows-1252"
Content-Transfer-Encoding: quoted-printable

<html><head><meta http-equiv=3D"Content-Type" content=3D"text/html; charset=3Dwindows-1252"></head>
<body lang=3D"EN-GB"><div class=3D"WordSection1">
{html_text}
<p class=3D"MsoNormal"><a name=3D"_MailAutoSig">Kind regards<br>Jane Doe<br>Customer Care =96 Acme<br>
<img width=3D"120" height=3D"40" src=3D"cid:image001.png@01DA6C2F.7A1B2C30" alt=3D"Acme"></a></p>
<div style=3D"border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">
<p class=3D"MsoNormal"><b>From:</b> Acme Support &lt;support@example.com&gt;<br><b>Sent:</b> 02 March 2026 09:14<br>
<b>To:</b> Jane Doe &lt;jane@example.com&gt;<br><b>Subject:</b> {parent['Subject']}</p></div>
<p class=3D"MsoNormal">Jane, a new complaint has arrived and it is yours to own.</p>
</div></body></html>

--_000_outlook_--

--_003_outlook_
Content-Type: image/png; name="image001.png"
Content-Description: image001.png
Content-Disposition: inline; filename="image001.png"; size={len(LOGO)};
\tcreation-date="Mon, 02 Mar 2026 09:59:40 GMT"
Content-ID: <image001.png@01DA6C2F.7A1B2C30>
Content-Transfer-Encoding: base64

{b64(LOGO)}
--_003_outlook_--

{attached}--_004_outlook_--
""").encode()

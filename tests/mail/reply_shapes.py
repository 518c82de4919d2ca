"""Raw replies as real mail clients write them, for tests.

``reply(client, language, style, quoted=..., answer=...)`` returns a complete
RFC 5322 message (bytes, CRLF line ends) replying to ``quoted`` the way that
client does it in that language: its attribution line or Outlook header block,
its quoting, its signature and where it puts it, its MIME structure, charset
and transfer encoding. Feed it to ``aftercare.mail.parse.parse(raw)``.

Clients (``CLIENTS``):

* ``thunderbird``: text/plain UTF-8 8bit (Japanese: ISO-2022-JP 7bit),
  "On 3/9/26 10:00 AM, Name wrote:" and its translations, "-- " signature.
* ``thunderbird_flowed``: the same as RFC 3676 ``format=flowed``: soft line
  breaks (trailing space) at 72 columns, space-stuffing, ">>" nested quotes.
* ``apple_mail``: multipart/alternative, quoted-printable; the text part
  quotes the attribution too ("> On 9 Mar 2026, at 10:00, Name <addr> wrote:"),
  the HTML part uses ``<blockquote type="cite">``; written on an iPhone: its
  "Sent from my iPhone" line (translated) stands above the quote.
* ``gmail``: multipart/alternative ("On Mon, 9 Mar 2026 at 10:00, Name <addr>
  wrote:" and Gmail's localized forms, ``<div class="gmail_quote">``), "-- "
  signature; base64 for Russian and Japanese, quoted-printable otherwise.
* ``outlook``: Outlook desktop, multipart/alternative, quoted-printable in
  windows-1252 (Russian: windows-1251, Japanese: ISO-2022-JP), the history
  unquoted under a localized "From:/Sent:/To:/Subject:" block. Top-post only.
* ``outlook_web``: HTML-mostly with a short text part (UTF-8 base64), a
  ``________________________________`` separator above the header block.
  Top-post only.
* ``mutt``: text/plain UTF-8 8bit, "On Mon, Mar 09, 2026 at 10:00:00AM +0100,
  Name wrote:" in English, the common "* Name <addr> [2026-03-09 10:00]:" in
  the other languages; its "-- " signature at the very end of the body.

Languages (``LANGUAGES``): en, fr, de, es, ru, ja. Styles (``STYLES``):

* ``top``: ``answer`` above the history;
* ``bottom``: attribution, the quote, then ``answer`` below it;
* ``interleaved``: ``answers`` is a list of ``(question, answer)``: each
  ``question`` is a paragraph of ``quoted`` (paragraphs are separated by blank
  lines), in order; the quote is cut after it and the answer written there.
  What follows the last question stays quoted, unanswered.

``greeting`` is text written above everything (above the attribution).
``quoted`` may itself contain "> " lines (older history): they are quoted one
level deeper. ``SHAPES`` lists every (client, language, style) a client really
produces (Outlook only top-posts); ``SAMPLES[language]`` holds ready-made
content (quoted, answer, answers, greeting) and ``sample_reply(client,
language, style, **kw)`` builds a shape from it.

Import it as ``reply_shapes`` from tests in tests/mail (pytest puts a test's own
directory on sys.path), as ``mail.reply_shapes`` from elsewhere under tests/.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import html
import re
from datetime import datetime, timedelta, timezone
from email.header import Header
from email.utils import format_datetime, formataddr

__all__ = ["CLIENTS", "LANGUAGES", "STYLES", "SHAPES", "SAMPLES", "TOP_POST_ONLY", "reply", "sample_reply",
           "attribution", "signature"]

CLIENTS = ("thunderbird", "thunderbird_flowed", "apple_mail", "gmail", "outlook", "outlook_web", "mutt")
LANGUAGES = ("en", "fr", "de", "es", "ru", "ja")
STYLES = ("top", "bottom", "interleaved")
TOP_POST_ONLY = frozenset({"outlook", "outlook_web"})
SHAPES = [
    (client, language, style)
    for client in CLIENTS
    for language in LANGUAGES
    for style in STYLES
    if style == "top" or client not in TOP_POST_ONLY
]

CET = timezone(timedelta(hours=1))
QUOTED_DATE = datetime(2026, 3, 9, 10, 0, tzinfo=CET)  # a Monday
REPLY_DATE = datetime(2026, 3, 10, 9, 30, tzinfo=CET)
ORIGINAL_SUBJECT = "[Case #42] Broken kettle"

Address = tuple[str, str]

# --- names of days and months -----------------------------------------------------------------------------------

_EN_MONTHS = "January February March April May June July August September October November December".split()
_EN_DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_FR_MONTHS = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split()
_FR_MONTHS_GMAIL = "janv. févr. mars avr. mai juin juil. août sept. oct. nov. déc.".split()
_FR_DAYS = "lundi mardi mercredi jeudi vendredi samedi dimanche".split()
_DE_MONTHS = "Januar Februar März April Mai Juni Juli August September Oktober November Dezember".split()
_DE_DAYS = "Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag".split()
_DE_DAYS_GMAIL = "Mo. Di. Mi. Do. Fr. Sa. So.".split()
_ES_MONTHS = "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split()
_ES_MONTHS_SHORT = "ene feb mar abr may jun jul ago sept oct nov dic".split()
_ES_DAYS = "lunes martes miércoles jueves viernes sábado domingo".split()
_ES_DAYS_SHORT = "lun mar mié jue vie sáb dom".split()
_RU_MONTHS = "января февраля марта апреля мая июня июля августа сентября октября ноября декабря".split()
_RU_MONTHS_GMAIL = "янв. февр. мар. апр. мая июн. июл. авг. сент. окт. нояб. дек.".split()
_RU_DAYS_GMAIL = "пн вт ср чт пт сб вс".split()
_JA_DAYS = "月火水木金土日"


def _twelve(when: datetime, seconds: bool = False) -> str:
    """"10:00 AM" (US clock, no leading zero), "10:00:00 AM" with seconds."""
    sec = f":{when.second:02d}" if seconds else ""
    return f"{when.hour % 12 or 12}:{when.minute:02d}{sec} {'AM' if when.hour < 12 else 'PM'}"


def attribution(client: str, language: str, author: Address, when: datetime = QUOTED_DATE) -> str:
    """The attribution line ``client`` writes in ``language`` above a quote of ``author``'s message
    (for Outlook: the first line of its header block)."""
    name, addr = author
    d, m, y, wd = when.day, when.month, when.year, when.weekday()
    hm = f"{when:%H:%M}"
    if client in ("thunderbird", "thunderbird_flowed"):
        return {
            "en": f"On {m}/{d}/{y % 100:02d} {_twelve(when)}, {name} wrote:",
            "fr": f"Le {d:02d}/{m:02d}/{y} à {hm}, {name} a écrit :",
            "de": f"Am {d:02d}.{m:02d}.{y % 100:02d} um {hm} schrieb {name}:",
            "es": f"El {d}/{m}/{y % 100:02d} a las {hm}, {name} escribió:",
            "ru": f"{d:02d}.{m:02d}.{y} {hm}, {name} пишет:",
            "ja": f"{y}/{m:02d}/{d:02d} {hm}、{name} wrote:",
        }[language]
    if client == "apple_mail":
        return {
            "en": f"On {d} {_EN_MONTHS[m - 1][:3]} {y}, at {hm}, {name} <{addr}> wrote:",
            "fr": f"Le {d} {_FR_MONTHS[m - 1]} {y} à {hm}, {name} <{addr}> a écrit :",
            "de": f"Am {d:02d}.{m:02d}.{y} um {hm} schrieb {name} <{addr}>:",
            "es": f"El {d} {_ES_MONTHS_SHORT[m - 1]} {y}, a las {hm}, {name} <{addr}> escribió:",
            "ru": f"{d} {_RU_MONTHS[m - 1]} {y} г., в {hm}, {name} <{addr}> написал(а):",
            "ja": f"{y}/{m:02d}/{d:02d} {hm}、{name} <{addr}>のメッセージ:",
        }[language]
    if client == "gmail":
        return {
            "en": f"On {_EN_DAYS[wd][:3]}, {d} {_EN_MONTHS[m - 1][:3]} {y} at {hm}, {name} <{addr}> wrote:",
            "fr": f"Le {_FR_DAYS[wd][:3]}. {d} {_FR_MONTHS_GMAIL[m - 1]} {y} à {hm}, {name} <{addr}> a écrit :",
            "de": f"Am {_DE_DAYS_GMAIL[wd]}, {d}. {_DE_MONTHS[m - 1]} {y} um {hm} Uhr schrieb {name} <{addr}>:",
            "es": f"El {_ES_DAYS_SHORT[wd]}, {d} {_ES_MONTHS_SHORT[m - 1]} {y} a las {hm}, {name} (<{addr}>) escribió:",
            "ru": f"{_RU_DAYS_GMAIL[wd]}, {d} {_RU_MONTHS_GMAIL[m - 1]} {y} г. в {hm}, {name} <{addr}>:",
            "ja": f"{y}年{m}月{d}日({_JA_DAYS[wd]}) {hm} {name} <{addr}>:",
        }[language]
    if client == "mutt":
        if language == "en":
            return f"On {_EN_DAYS[wd][:3]}, {_EN_MONTHS[m - 1][:3]} {d:02d}, {y} at {when:%I:%M:%S%p %z}, {name} wrote:"
        return f"* {name} <{addr}> [{when:%Y-%m-%d %H:%M}]:"
    if client in ("outlook", "outlook_web"):
        return _outlook_block(client, language, author, ("", ""), "", when)[0]
    raise ValueError(f"unknown client {client!r}")


def _outlook_block(client: str, language: str, author: Address, recipient: Address, subject: str,
                   when: datetime) -> list[str]:
    """Outlook's localized "From:/Sent:/To:/Subject:" lines."""
    d, m, y, wd = when.day, when.month, when.year, when.weekday()
    hm = f"{when:%H:%M}"
    frm, to = f"{author[0]} <{author[1]}>", f"{recipient[0]} <{recipient[1]}>"
    en_sent = f"{_EN_DAYS[wd]}, {_EN_MONTHS[m - 1]} {d}, {y} {_twelve(when, client == 'outlook_web')}"
    labels = {
        "en": ("From: ", "Sent: ", "To: ", "Subject: ", en_sent),
        "de": ("Von: ", "Gesendet: ", "An: ", "Betreff: ", f"{_DE_DAYS[wd]}, {d}. {_DE_MONTHS[m - 1]} {y} {hm}"),
        "fr": ("De\u00a0: ", "Envoyé\u00a0: ", "À\u00a0: ", "Objet\u00a0: ",
               f"{_FR_DAYS[wd]} {d} {_FR_MONTHS[m - 1]} {y} {hm}"),
        "es": ("De: ", "Enviado: ", "Para: ", "Asunto: ", f"{_ES_DAYS[wd]}, {d} de {_ES_MONTHS[m - 1]} de {y} {hm}"),
        "ru": ("От: ", "Отправлено: ", "Кому: ", "Тема: ", f"{d} {_RU_MONTHS[m - 1]} {y} г. {hm}"),
        "ja": ("差出人: ", "送信日時: ", "宛先: ", "件名: ", f"{y}年{m}月{d}日 {hm}"),
    }[language]
    f, s, t, subj, sent = labels
    return [f + frm, s + sent, t + to, subj + subject]


_IPHONE = {
    "en": "Sent from my iPhone",
    "fr": "Envoyé de mon iPhone",
    "de": "Von meinem iPhone gesendet",
    "es": "Enviado desde mi iPhone",
    "ru": "Отправлено с iPhone",
    "ja": "iPhoneから送信",
}


def signature(client: str, language: str, sender: Address) -> str | None:
    """The signature ``client`` adds: the iPhone line for Apple Mail, a "-- " block for
    Thunderbird, Gmail and mutt, none for Outlook (its signatures are plain text)."""
    if client == "apple_mail":
        return _IPHONE[language]
    if client in ("outlook", "outlook_web"):
        return None
    return f"-- \n{sender[0]}\n+49 30 1234567"


# --- the body as pieces -----------------------------------------------------------------------------------------


def _paragraphs(text: str) -> list[str]:
    return [p.strip("\n") for p in re.split(r"\n\s*\n", text.strip("\n")) if p.strip()]


def _chunks(quoted: str, answers: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], str]:
    """``quoted`` cut after each question: ([(quote chunk, answer)], unanswered rest)."""
    paras = _paragraphs(quoted)
    out, at = [], 0
    for question, answer in answers:
        q = question.strip("\n")
        try:
            k = paras.index(q, at)
        except ValueError:
            raise ValueError(f"question {question!r} is not a paragraph of the quoted text (in order)") from None
        out.append(("\n\n".join(paras[at:k + 1]), answer))
        at = k + 1
    return out, "\n\n".join(paras[at:])


def _pieces(client, language, style, quoted, answer, answers, greeting, sig, attr, outlook_lines):
    """The reply as ("text"|"sig"|"attr"|"quote"|"outlook", ...) pieces, in the client's order."""
    apple = client == "apple_mail"
    pieces: list[tuple] = []
    if greeting and style != "top":
        pieces.append(("text", greeting))
    if client in TOP_POST_ONLY:
        if style != "top":
            raise ValueError(f"{client} only top-posts")
        pieces.append(("text", (greeting + "\n\n" if greeting else "") + answer))
        pieces.append(("outlook", outlook_lines, quoted))
        return pieces
    sig_piece = [("sig", sig)] if sig else []
    if style == "top":
        if greeting:
            answer = greeting + "\n\n" + answer
        pieces.append(("text", answer))
        if client == "mutt":
            return pieces + [("attr", attr), ("quote", quoted, None)] + sig_piece
        if apple:
            return pieces + sig_piece + [("quote", quoted, attr)]
        return pieces + sig_piece + [("attr", attr), ("quote", quoted, None)]
    if apple:  # an iPhone puts its signature above the quote, where the cursor was
        pieces += sig_piece
    if style == "bottom":
        pieces += [("quote", quoted, attr)] if apple else [("attr", attr), ("quote", quoted, None)]
        pieces.append(("text", answer))
        return pieces if apple else pieces + sig_piece
    if style != "interleaved":
        raise ValueError(f"unknown style {style!r}")
    if not answers:
        answers = [(_paragraphs(quoted)[0], answer)]
    chunks, rest = _chunks(quoted, answers)
    if not apple:
        pieces.append(("attr", attr))
    for k, (chunk, ans) in enumerate(chunks):
        pieces.append(("quote", chunk, attr if apple and k == 0 else None))
        pieces.append(("text", ans))
    if client == "gmail":
        pieces += sig_piece  # below the last answer, above what was left quoted
        sig_piece = []
    if rest:
        pieces.append(("quote", rest, None))
    return pieces if apple else pieces + sig_piece


def _depth_lines(text: str) -> list[tuple[int, str]]:
    """Lines of ``text`` as (quote depth, content)."""
    out = []
    for line in text.split("\n"):
        m = re.match(r"((?:>\s?)*)", line)
        depth = m.group(1).count(">")
        out.append((depth, line[m.end():].rstrip() if depth else line.rstrip(" ") if line != "-- " else line))
    return out


def _quote(text: str, attr: str | None) -> list[tuple[int, str]]:
    lines = [(1, attr), (1, "")] if attr else []
    return lines + [(depth + 1, content) for depth, content in _depth_lines(text)]


def _plain(client: str, pieces: list[tuple]) -> str:
    """The text/plain body (LF line ends)."""
    apple = client == "apple_mail"
    blocks: list[list[tuple[int, str]]] = []
    compact = client == "mutt"  # mutt users answer right under the quote
    for piece in pieces:
        kind = piece[0]
        if kind == "text":
            blocks.append(_depth_lines(piece[1]))
        elif kind == "sig":
            blocks.append(_depth_lines(piece[1]))
        elif kind == "attr":
            blocks.append([(0, piece[1])])
        elif kind == "quote":
            blocks.append(_quote(piece[1], piece[2]))
        elif kind == "outlook":
            header = piece[1]
            sep = ["________________________________"] if client == "outlook_web" else []
            blocks.append([(0, line) for line in sep + header])
            blocks.append(_depth_lines(piece[2]))
    lines: list[tuple[int, str]] = []
    for k, block in enumerate(blocks):
        if k:
            kind, prev_kind = _block_kind(pieces, k), _block_kind(pieces, k - 1)
            glue = not (
                (prev_kind == "attr" and client in ("thunderbird", "thunderbird_flowed", "mutt"))
                or (compact and prev_kind == "quote" and kind == "text")
            )
            if glue:
                lines.append((0, ""))
        lines.extend(block)
    if client == "thunderbird_flowed":
        return "\n".join(_flowed(depth, content) for depth, content in lines) + "\n"
    out = []
    for depth, content in lines:
        if depth:
            prefix = "> " * depth
            out.append(prefix + content if content else (prefix if apple else prefix.rstrip()))
        else:
            out.append(content)
    return "\n".join(out) + "\n"


def _block_kind(pieces: list[tuple], k: int) -> str:
    """The kind of the k-th plain block (an Outlook piece makes two blocks: header, history)."""
    kinds: list[str] = []
    for piece in pieces:
        kinds += ["outlook-header", "outlook-history"] if piece[0] == "outlook" else [piece[0]]
    return kinds[k]


def _flowed(depth: int, content: str, width: int = 72) -> str:
    """One line as RFC 3676 format=flowed: soft breaks (trailing space), space-stuffing."""
    prefix = ">" * depth
    if content == "-- " and not depth:
        return content
    if depth or content.startswith((" ", "From ", ">")):
        content = " " + content if content else content
    out, line = [], prefix + content
    while len(line) > width:
        cut = line.rfind(" ", len(prefix) + 2, width)
        if cut < 0:
            break
        out.append(line[:cut + 1])  # the space stays at the end: a soft break
        rest = line[cut + 1:]
        line = prefix + (" " + rest if depth or rest.startswith((" ", "From ", ">")) else rest)
    out.append(line)
    return "\n".join(out)


# --- HTML -------------------------------------------------------------------------------------------------------


def _html_lines(text: str, tag: str = "div") -> str:
    out = []
    for para in re.split(r"\n\s*\n", text.strip("\n")):
        inner = "<br>\n".join(html.escape(line) for line in para.split("\n"))
        out.append(f"<{tag}>{inner}</{tag}>")
    return "\n".join(out)


def _html_quote(text: str, open_tag: str, close_tag: str = "</blockquote>") -> str:
    """Quoted text with its own "> " lines as nested blockquotes."""
    out, depth, para = [], 0, []

    def flush():
        if para:
            out.append("<div>" + "<br>\n".join(html.escape(p) for p in para) + "</div>")
            para.clear()

    for d, content in _depth_lines(text):
        if d != depth:
            flush()
            while depth < d:
                out.append(open_tag)
                depth += 1
            while depth > d:
                out.append(close_tag)
                depth -= 1
        if content:
            para.append(content)
        else:
            flush()
    flush()
    out += [close_tag] * depth
    return "\n".join(out)


def _html(client: str, pieces: list[tuple], charset: str) -> str:
    body: list[str] = []
    for piece in pieces:
        kind = piece[0]
        if client == "apple_mail":
            cite = '<blockquote type="cite">'
            if kind in ("text", "sig"):
                body.append(_html_lines(piece[1]))
            elif kind == "quote":
                attr = f'<div>{html.escape(piece[2])}</div><br>' if piece[2] else ""
                body.append(cite + attr + _html_quote(piece[1], cite) + "</blockquote>")
        elif client == "gmail":
            gq = ('<blockquote class="gmail_quote" '
                  'style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">')
            if kind == "text":
                body.append(f'<div dir="ltr">{_html_lines(piece[1])}</div>')
            elif kind == "sig":
                sig = piece[1][3:] if piece[1].startswith("-- \n") else piece[1]
                body.append(f'<div>-- <br><div dir="ltr" class="gmail_signature">{_html_lines(sig)}</div></div>')
            elif kind == "attr":
                attr = html.escape(piece[1])
                body.append(f'<div class="gmail_quote"><div dir="ltr" class="gmail_attr">{attr}<br></div>')
            elif kind == "quote":
                body.append(gq + _html_quote(piece[1], gq) + "</blockquote>")
        else:  # Outlook desktop and web
            if kind == "text":
                if client == "outlook":
                    body.append('<div class="WordSection1">' + _html_lines(piece[1], 'p class="MsoNormal"').replace(
                        "</p class=\"MsoNormal\">", "</p>") + "</div>")
                else:
                    body.append('<div style="font-family: Aptos, sans-serif; font-size: 12pt">'
                                + _html_lines(piece[1]) + "</div>")
            elif kind == "outlook":
                labels = [line.split(":", 1) if ":" in line else [line, ""] for line in piece[1]]
                rows = "<br>\n".join(f"<b>{html.escape(a)}:</b>{html.escape(b)}" for a, b in labels)
                if client == "outlook":
                    body.append('<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">'
                                f'<p class="MsoNormal">{rows}</p></div>')
                else:
                    body.append('<div id="appendonsend"></div><hr style="display:inline-block;width:98%" tabindex="-1">'
                                f'<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" '
                                f'style="font-size:11pt" color="#000000">{rows}</font><div>&nbsp;</div></div>')
                body.append(_html_quote(piece[2], '<blockquote style="margin-left:0.8ex">'))
    if client == "gmail" and any(p[0] == "attr" for p in pieces):
        body.append("</div>")
    return (f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}"></head>\n'
            f"<body>\n" + "\n".join(body) + "\n</body></html>\n")


# --- MIME -------------------------------------------------------------------------------------------------------


def _encode(text: str, charset: str, cte: str) -> bytes:
    charset = charset.strip('"').lower()
    data = text.encode({"iso-2022-jp": "iso2022_jp"}.get(charset, charset))
    if cte == "quoted-printable":
        return binascii.b2a_qp(data, istext=True).replace(b"\n", b"\r\n")
    if cte == "base64":
        return base64.encodebytes(data).replace(b"\n", b"\r\n")
    return data.replace(b"\n", b"\r\n")


def _leaf(ctype: str, charset: str, cte: str, text: str, params: str = "", extra: str = "") -> bytes:
    head = f"Content-Type: {ctype}; charset={charset}{params}\r\nContent-Transfer-Encoding: {cte}\r\n{extra}\r\n"
    return head.encode("ascii") + _encode(text, charset, cte)


def _alternative(boundary: str, parts: list[bytes]) -> tuple[str, bytes]:
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + p.rstrip(b"\r\n") + b"\r\n\r\n" for p in parts)
    body += b"--" + boundary.encode() + b"--\r\n"
    return f'multipart/alternative; boundary="{boundary}"', body


def _mime(client: str, language: str, plain: str, html_text: str) -> tuple[list[str], bytes]:
    """(Content-* header lines, body bytes) for the client's MIME structure."""
    if client in ("thunderbird", "thunderbird_flowed", "mutt"):
        if client == "thunderbird" and language == "ja":
            charset, cte = "ISO-2022-JP", "7bit"
        else:
            charset, cte = ("UTF-8", "8bit") if client != "mutt" else ("utf-8", "8bit")
        fmt = "; format=flowed" if client == "thunderbird_flowed" else ""
        headers = [f"Content-Type: text/plain; charset={charset}{fmt}", f"Content-Transfer-Encoding: {cte}"]
        if client == "mutt":
            headers.append("Content-Disposition: inline")
        return headers, _encode(plain, charset, cte)
    if client == "apple_mail":
        charset, cte, boundary = "utf-8", "quoted-printable", "Apple-Mail-3F2A6B1C-0D9E-4F7A-8B21-5C6D7E8F9A0B"
    elif client == "gmail":
        charset, boundary = '"UTF-8"', "000000000000a1b2c3d4e5f60718"
        cte = "base64" if language in ("ru", "ja") else "quoted-printable"
    elif client == "outlook":
        charset = {"ru": '"windows-1251"', "ja": '"iso-2022-jp"'}.get(language, '"Windows-1252"')
        cte = "7bit" if language == "ja" else "quoted-printable"
        boundary = "_000_AM0PR07MB4321ABCDEF0123456789EXAMPLE_"
    elif client == "outlook_web":
        charset, cte, boundary = '"utf-8"', "base64", "_000_DB9PR02MB7711FEDCBA9876543210EXAMPLE_"
    else:
        raise ValueError(f"unknown client {client!r}")
    ctype, body = _alternative(boundary, [
        _leaf("text/plain", charset, cte, plain),
        _leaf("text/html", charset, cte, html_text.replace("charset=utf-8", "charset=" + charset.strip('"'))),
    ])
    return [f"Content-Type: {ctype}"], body


_USER_AGENT = {
    "thunderbird": "User-Agent: Mozilla Thunderbird",
    "thunderbird_flowed": "User-Agent: Mozilla Thunderbird",
    "apple_mail": "X-Mailer: iPhone Mail (22D82)",
    "gmail": None,
    "outlook": "X-Mailer: Microsoft Outlook 16.0",
    "outlook_web": None,
    "mutt": "User-Agent: NeoMutt/20231103",
}
_OUTLOOK_RE = {"de": "AW: ", "fr": "RE\u00a0: ", "en": "RE: ", "es": "RE: ", "ru": "RE: ", "ja": "RE: "}
_LANG_TAG = {"en": "en-GB", "fr": "fr-FR", "de": "de-DE", "es": "es-ES", "ru": "ru-RU", "ja": "ja-JP"}


def _header_value(value: str) -> str:
    try:
        value.encode("ascii")
        return value
    except UnicodeEncodeError:
        return Header(value, "utf-8").encode()


def _address(addr: Address) -> str:
    return formataddr(addr, charset="utf-8")


def reply(
    client: str,
    language: str,
    style: str,
    *,
    quoted: str,
    answer: str,
    answers: list[tuple[str, str]] | None = None,
    greeting: str | None = None,
    signature_text: str | bool = True,
    sender: Address = ("Anna Berg", "anna@example.org"),
    to: Address = ("Support", "support@example.com"),
    quoted_from: Address | None = None,
    subject: str | None = None,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    message_id: str | None = None,
    date: datetime = REPLY_DATE,
    quoted_date: datetime = QUOTED_DATE,
    extra_headers: dict[str, str] | list[tuple[str, str]] | None = None,
) -> bytes:
    """A complete raw reply (bytes, CRLF) from ``sender`` to ``to``, as ``client`` writes it.

    ``quoted`` is the plain text of the message replied to (written by ``quoted_from``, by default
    ``to``, at ``quoted_date``); ``answer`` the sender's new text (top and bottom styles);
    ``answers`` the ``(question paragraph, answer)`` pairs of an interleaved reply. The client's
    usual signature is added unless ``signature_text`` is False; a string replaces its text.
    ``subject`` defaults to the client's reply prefix + "[Case #42] Broken kettle";
    ``in_reply_to`` (a Message-ID, with or without <>) also fills References."""
    if client not in CLIENTS:
        raise ValueError(f"unknown client {client!r}; known: {', '.join(CLIENTS)}")
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; known: {', '.join(LANGUAGES)}")
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; known: {', '.join(STYLES)}")
    author = quoted_from or to
    sig = signature(client, language, sender) if signature_text is True else (signature_text or None)
    if client in TOP_POST_ONLY:
        attr, outlook_lines = "", _outlook_block(client, language, author, sender, ORIGINAL_SUBJECT, quoted_date)
    else:
        attr, outlook_lines = attribution(client, language, author, quoted_date), []
    pieces = _pieces(client, language, style, quoted, answer, answers, greeting, sig, attr, outlook_lines)
    plain = _plain(client, pieces)
    charset = "utf-8"
    content_headers, body = _mime(client, language, plain, _html(client, pieces, charset))

    if subject is None:
        prefix = _OUTLOOK_RE[language] if client in TOP_POST_ONLY else "Re: "
        subject = prefix + ORIGINAL_SUBJECT
    if message_id is None:
        digest = hashlib.sha1(f"{client}|{language}|{style}|{answer}|{answers}".encode()).hexdigest()[:16]
        message_id = f"<{digest}.{client}@{sender[1].split('@')[-1]}>"
    elif not message_id.startswith("<"):
        message_id = f"<{message_id}>"
    headers = [
        f"From: {_address(sender)}",
        f"To: {_address(to)}",
        f"Subject: {_header_value(subject)}",
        f"Date: {format_datetime(date)}",
        f"Message-ID: {message_id}",
    ]
    refs = list(references or [])
    if in_reply_to:
        irt = in_reply_to if in_reply_to.startswith("<") else f"<{in_reply_to}>"
        headers.append(f"In-Reply-To: {irt}")
        if irt not in refs:
            refs.append(irt)
    if refs:
        headers.append("References: " + " ".join(r if r.startswith("<") else f"<{r}>" for r in refs))
    if _USER_AGENT[client]:
        headers.append(_USER_AGENT[client])
    if client in TOP_POST_ONLY:
        headers.append(f"Content-Language: {_LANG_TAG[language]}")
    headers.append("MIME-Version: 1.0")
    headers += content_headers
    extra = list(extra_headers.items()) if isinstance(extra_headers, dict) else list(extra_headers or [])
    for name, value in extra:
        headers = [h for h in headers if h.split(":", 1)[0].lower() != name.lower()]
        headers.append(f"{name}: {_header_value(value)}")
    return "\r\n".join(headers).encode("ascii") + b"\r\n\r\n" + body


# --- ready-made content -----------------------------------------------------------------------------------------

SAMPLES: dict[str, dict] = {
    "en": dict(
        quoted="Hello Anna,\n\n> The lid of my kettle is broken.\n\n"
        "We are sorry to hear that – thank you for the photo.\nWhat is your order number?\n\n"
        "Did the lid break on the first day?\n\nKind regards\nAftercare Support",
        answer="The order number is 4711.\nThe lid broke after a week – I paid €49.99 for it.",
        answers=[
            ("We are sorry to hear that – thank you for the photo.\nWhat is your order number?", "It is 4711."),
            ("Did the lid break on the first day?", "No, after a week – it cost €49.99."),
        ],
        greeting="Hello,",
    ),
    "fr": dict(
        quoted="Bonjour Anna,\n\n> Le couvercle de ma bouilloire est cassé.\n\n"
        "Nous sommes désolés – merci pour la photo.\nQuel est votre numéro de commande ?\n\n"
        "Le couvercle s'est-il cassé dès le premier jour ?\n\nCordialement,\nLe service après-vente",
        answer="Le numéro de commande est 4711.\nLe couvercle s'est cassé après une semaine – je l'ai payée 49,99 €.",
        answers=[
            ("Nous sommes désolés – merci pour la photo.\nQuel est votre numéro de commande ?", "C'est le 4711."),
            ("Le couvercle s'est-il cassé dès le premier jour ?", "Non, après une semaine, à Noël."),
        ],
        greeting="Bonjour,",
    ),
    "de": dict(
        quoted="Hallo Anna,\n\n> Der Deckel meines Wasserkochers ist kaputt.\n\n"
        "Das tut uns leid – danke für das Foto.\nWie lautet Ihre Bestellnummer?\n\n"
        "Ist der Deckel gleich am ersten Tag gebrochen?\n\nMit freundlichen Grüßen\nIhr Kundendienst",
        answer="Die Bestellnummer ist 4711.\nDer Deckel ist nach einer Woche gebrochen – er hat 49,99 € gekostet.",
        answers=[
            ("Das tut uns leid – danke für das Foto.\nWie lautet Ihre Bestellnummer?", "Sie lautet 4711."),
            ("Ist der Deckel gleich am ersten Tag gebrochen?", "Nein, erst nach einer Woche. Grüße aus Köln!"),
        ],
        greeting="Hallo,",
    ),
    "es": dict(
        quoted="Hola Anna:\n\n> La tapa de mi hervidor está rota.\n\n"
        "Lo sentimos mucho – gracias por la foto.\n¿Cuál es su número de pedido?\n\n"
        "¿Se rompió la tapa el primer día?\n\nUn saludo,\nAtención al cliente",
        answer="El número de pedido es 4711.\nLa tapa se rompió después de una semana – pagué 49,99 € por él.",
        answers=[
            ("Lo sentimos mucho – gracias por la foto.\n¿Cuál es su número de pedido?", "Es el 4711."),
            ("¿Se rompió la tapa el primer día?", "No, después de una semana. ¡Gracias, señora!"),
        ],
        greeting="Hola,",
    ),
    "ru": dict(
        quoted="Здравствуйте, Анна!\n\n> Крышка моего чайника сломалась.\n\n"
        "Нам очень жаль – спасибо за фото.\nУкажите, пожалуйста, номер заказа.\n\n"
        "Крышка сломалась в первый же день?\n\nС уважением,\nСлужба поддержки",
        answer="Номер заказа 4711.\nКрышка сломалась через неделю – чайник стоил 4999 рублей.",
        answers=[
            ("Нам очень жаль – спасибо за фото.\nУкажите, пожалуйста, номер заказа.", "Номер заказа 4711."),
            ("Крышка сломалась в первый же день?", "Нет, через неделю. Всё ещё жду ответа."),
        ],
        greeting="Добрый день!",
    ),
    "ja": dict(
        quoted="Anna様\n\n> やかんの蓋が壊れました。\n\n"
        "ご不便をおかけして申し訳ございません。\nご注文番号を教えていただけますか。\n\n"
        "蓋は初日に壊れましたか。\n\nよろしくお願いいたします。\nアフターケア サポート",
        answer="注文番号は4711です。\n蓋は一週間後に壊れました。",
        answers=[
            ("ご不便をおかけして申し訳ございません。\nご注文番号を教えていただけますか。", "4711です。"),
            ("蓋は初日に壊れましたか。", "いいえ、一週間後です。"),
        ],
        greeting="お世話になっております。",
    ),
}


def sample_reply(client: str, language: str, style: str, **kw) -> bytes:
    """``reply()`` with ``SAMPLES[language]`` (a greeting only for interleaved replies); ``kw`` overrides."""
    sample = dict(SAMPLES[language])
    if style != "interleaved":
        sample.pop("greeting")
    sample.update(kw)
    return reply(client, language, style, **sample)

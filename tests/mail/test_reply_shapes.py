"""new_text() on whole replies as real clients write them: raw message -> parse() -> new_text().

Every (client, language, style) in reply_shapes.SHAPES, built from reply_shapes.SAMPLES: the result
is exactly the sender's answer (top and bottom posts) or the greeting plus "> question" / answer
pairs (interleaved), whatever the client, charset and transfer encoding; no sentence of the quoted
history, no attribution or Outlook header line and no signature survives.
"""
from __future__ import annotations

import pytest

from aftercare.mail.parse import parse
from aftercare.mail.quoting import new_text

from reply_shapes import CLIENTS, LANGUAGES, SAMPLES, SHAPES, TOP_POST_ONLY, attribution, reply, sample_reply

INTERLEAVED = {
    "en": "Hello,\n\n"
    "> We are sorry to hear that – thank you for the photo.\n> What is your order number?\n"
    "It is 4711.\n\n"
    "> Did the lid break on the first day?\n"
    "No, after a week – it cost €49.99.",
    "fr": "Bonjour,\n\n"
    "> Nous sommes désolés – merci pour la photo.\n> Quel est votre numéro de commande ?\n"
    "C'est le 4711.\n\n"
    "> Le couvercle s'est-il cassé dès le premier jour ?\n"
    "Non, après une semaine, à Noël.",
    "de": "Hallo,\n\n"
    "> Das tut uns leid – danke für das Foto.\n> Wie lautet Ihre Bestellnummer?\n"
    "Sie lautet 4711.\n\n"
    "> Ist der Deckel gleich am ersten Tag gebrochen?\n"
    "Nein, erst nach einer Woche. Grüße aus Köln!",
    "es": "Hola,\n\n"
    "> Lo sentimos mucho – gracias por la foto.\n> ¿Cuál es su número de pedido?\n"
    "Es el 4711.\n\n"
    "> ¿Se rompió la tapa el primer día?\n"
    "No, después de una semana. ¡Gracias, señora!",
    "ru": "Добрый день!\n\n"
    "> Нам очень жаль – спасибо за фото.\n> Укажите, пожалуйста, номер заказа.\n"
    "Номер заказа 4711.\n\n"
    "> Крышка сломалась в первый же день?\n"
    "Нет, через неделю. Всё ещё жду ответа.",
    "ja": "お世話になっております。\n\n"
    "> ご不便をおかけして申し訳ございません。\n> ご注文番号を教えていただけますか。\n"
    "4711です。\n\n"
    "> 蓋は初日に壊れましたか。\n"
    "いいえ、一週間後です。",
}

# sentences of the quoted history that must never come back: the nested (older) quote and the
# unanswered closing; for top and bottom posts every line of the quoted message
_NESTED_AND_CLOSING = {
    "en": ["The lid of my kettle is broken.", "Kind regards", "Aftercare Support"],
    "fr": ["Le couvercle de ma bouilloire est cassé.", "Cordialement,", "Le service après-vente"],
    "de": ["Der Deckel meines Wasserkochers ist kaputt.", "Mit freundlichen Grüßen", "Ihr Kundendienst"],
    "es": ["La tapa de mi hervidor está rota.", "Un saludo,", "Atención al cliente"],
    "ru": ["Крышка моего чайника сломалась.", "С уважением,", "Служба поддержки"],
    "ja": ["やかんの蓋が壊れました。", "よろしくお願いいたします。", "アフターケア サポート"],
}
_SIGNATURE_WORDS = ["+49 30 1234567", "iPhone", "-- "]


def _history_lines(language: str) -> list[str]:
    lines = [line.lstrip("> ").strip() for line in SAMPLES[language]["quoted"].split("\n")]
    return [line for line in lines if line]


def _expected(language: str, style: str) -> str:
    return INTERLEAVED[language] if style == "interleaved" else SAMPLES[language]["answer"]


@pytest.mark.parametrize("client, language, style", SHAPES, ids=["-".join(s) for s in SHAPES])
def test_shape(client, language, style):
    mail = parse(sample_reply(client, language, style))
    result = new_text(mail.text)
    assert result == _expected(language, style)

    # interleaved: the salutation of the quoted message answers nothing, so it goes too
    forbidden = ([*_NESTED_AND_CLOSING[language], SAMPLES[language]["quoted"].split("\n")[0]]
                 if style == "interleaved" else _history_lines(language))
    for sentence in forbidden:
        assert sentence not in result
    for word in _SIGNATURE_WORDS:
        assert word not in result
    header = attribution(client, language, ("Support", "support@example.com"))
    assert header in mail.text  # the history really was there
    assert header not in result and "Support" not in result and "support@example.com" not in result


def test_every_client_language_and_style_is_covered():
    assert {s[0] for s in SHAPES} == set(CLIENTS)
    assert {s[1] for s in SHAPES} == set(LANGUAGES)
    assert len(SHAPES) == 5 * 6 * 3 + 2 * 6
    assert all(style == "top" for client, _, style in SHAPES if client in TOP_POST_ONLY)


def test_the_builders_write_what_the_clients_write():
    """A few fingerprints of each client in the raw bytes, so the shapes stay honest."""
    tb = sample_reply("thunderbird", "de", "bottom")
    assert b"Am 09.03.26 um 10:00 schrieb Support:\r\n> Hallo Anna," in tb
    assert b"Content-Type: text/plain; charset=UTF-8\r\n" in tb
    assert b"Content-Type: text/plain; charset=ISO-2022-JP" in sample_reply("thunderbird", "ja", "top")
    flowed = sample_reply("thunderbird_flowed", "en", "interleaved")
    assert b"format=flowed" in flowed and b"\r\n>> The lid of my kettle is broken." in flowed
    apple = sample_reply("apple_mail", "en", "top")
    assert b"> On 9 Mar 2026, at 10:00, Support <support@example.com> wrote:" in apple
    assert b'<blockquote type=3D"cite">' in apple and b"multipart/alternative" in apple
    gmail = parse(sample_reply("gmail", "ru", "top"))
    assert "пн, 9 мар. 2026 г. в 10:00, Support <support@example.com>:" in gmail.text
    assert "2026年3月9日(月) 10:00 Support <support@example.com>:" in parse(sample_reply("gmail", "ja", "top")).text
    assert b'<div class=3D"gmail_quote">' in sample_reply("gmail", "en", "top")
    outlook = sample_reply("outlook", "fr", "top")
    assert b'charset="Windows-1252"' in outlook and b"Content-Transfer-Encoding: quoted-printable" in outlook
    text = parse(outlook).text
    assert "De\u00a0: Support <support@example.com>\nEnvoyé\u00a0: lundi 9 mars 2026 10:00\n" in text
    assert "Objet\u00a0: [Case #42] Broken kettle" in text
    assert "Отправлено: 9 марта 2026 г. 10:00" in parse(sample_reply("outlook", "ru", "top")).text
    assert "差出人: Support" in parse(sample_reply("outlook", "ja", "top")).text
    assert b'charset="iso-2022-jp"' in sample_reply("outlook", "ja", "top")
    owa = parse(sample_reply("outlook_web", "es", "top")).text
    assert "________________________________\nDe: Support <support@example.com>\nEnviado: lunes, 9 de marzo" in owa
    assert "On Mon, Mar 09, 2026 at 10:00:00AM +0100, Support wrote:" in parse(sample_reply("mutt", "en", "top")).text
    assert "* Support <support@example.com> [2026-03-09 10:00]:" in parse(sample_reply("mutt", "fr", "top")).text
    assert b"Von meinem iPhone gesendet" in parse(sample_reply("apple_mail", "de", "bottom")).text.encode()


def test_reply_headers_for_end_to_end_use():
    raw = reply(
        "gmail", "de", "top", quoted="Hallo", answer="Danke", sender=("Jörg Weiß", "joerg@example.de"),
        subject="Re: [Case #7] Wasserkocher – kaputt", in_reply_to="case-7@example.com",
        extra_headers={"X-Test": "1"},
    )
    mail = parse(raw)
    assert mail.from_address == "joerg@example.de" and mail.from_name == "Jörg Weiß"
    assert mail.subject == "Re: [Case #7] Wasserkocher – kaputt"
    assert mail.in_reply_to == ("case-7@example.com",)
    assert mail.headers.get("x-test") == "1"
    assert new_text(mail.text) == "Danke"


def test_format_flowed_soft_breaks_and_space_stuffing():
    answer = (
        "From now on the kettle only heats to 60 degrees, which is far too little for tea and "
        "not what the description in your shop promised at all.\n #plan is not a command here"
    )
    raw = reply("thunderbird_flowed", "en", "bottom", quoted=SAMPLES["en"]["quoted"], answer=answer)
    assert b"which is far too \r\nlittle for tea" in raw  # a soft line break
    assert b"\r\n From now on" in raw and b"\r\n  #plan" in raw  # space-stuffed
    assert new_text(parse(raw).text) == answer


def test_format_flowed_long_quoted_question_comes_back_whole():
    question = ("Could you please tell us the order number and the date of purchase, as printed on "
                "the invoice that came with the kettle?")
    quoted = f"Hello Anna,\n\n{question}\n\nKind regards\nAftercare Support"
    raw = reply("thunderbird_flowed", "en", "interleaved", quoted=quoted, answer="",
                answers=[("Hello Anna,", "Hello!"), (question, "4711, bought on 2 March.")])
    assert b"date of purchase, \r\n> as printed on" in raw  # a soft break inside the quote
    assert new_text(parse(raw).text) == f"> Hello Anna,\nHello!\n\n> {question}\n4711, bought on 2 March."


@pytest.mark.parametrize("client", [c for c in CLIENTS if c not in TOP_POST_ONLY])
def test_bottom_posted_staff_commands_come_first(client):
    answer = "#plan 1. Send a new lid by Friday\n#done 1\n\nDear Anna, the new lid is on its way."
    raw = reply(client, "en", "bottom", quoted="Please send a new lid.", answer=answer,
                sender=("Sam Staff", "sam@example.com"), to=("Anna Berg", "anna@example.org"))
    assert new_text(parse(raw).text) == answer


def test_bottom_posted_commands_go_above_a_greeting():
    raw = reply("thunderbird", "en", "interleaved", greeting="Hi Anna,", quoted="Please send a new lid.",
                answer="#plan 1. Send a new lid by Friday\nWe will.", to=("Anna Berg", "anna@example.org"))
    assert new_text(parse(raw).text) == "#plan 1. Send a new lid by Friday\n\nHi Anna,\n\nWe will."

"""new_text(): the part of a reply the sender wrote this time."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftercare.mail.parse import parse
from aftercare.mail.quoting import new_text

CORPUS = Path(__file__).resolve().parents[1] / "corpus"

# (name, reply text, exact expected new text). These are also the cases the
# library evaluation in daemon/mail/quoting.py's docstring was run on.
CASES = [
    (
        "gmail_en",
        "Thanks, the replacement arrived but it is also broken.\n\n"
        "On Mon, 9 Mar 2026 at 10:00, Aftercare Support <support@example.com> wrote:\n\n"
        "> Hello,\n> we have shipped a replacement.\n>\n> Aftercare\n",
        "Thanks, the replacement arrived but it is also broken.",
    ),
    (
        "gmail_en_wrapped",
        "The kettle still leaks.\nSee the photo.\n\n"
        "On Mon, 9 Mar 2026 at 10:00, Aftercare Support via Help <support@example.com>\nwrote:\n\n"
        "> Hello,\n> please send a photo.\n",
        "The kettle still leaks.\nSee the photo.",
    ),
    (
        "outlook_original_message",
        "Hello,\n\nthe serial number is SN-12345.\n\nRegards\nJane\n\n"
        "-----Original Message-----\nFrom: Aftercare Support <support@example.com>\n"
        "Sent: Monday, March 9, 2026 10:00 AM\nTo: Jane Doe <jane@example.org>\n"
        "Subject: RE: [Case #42] Broken kettle\n\nHello Jane,\nplease send the serial number.\n",
        "Hello,\n\nthe serial number is SN-12345.\n\nRegards\nJane",
    ),
    (
        "outlook_underscores",
        "I already did that twice.\n\n________________________________\n"
        "From: Aftercare Support <support@example.com>\nSent: Monday, March 9, 2026 10:00\n"
        "To: Jane Doe <jane@example.org>\nSubject: [Case #42] Broken kettle\n\nDid you try descaling?\n",
        "I already did that twice.",
    ),
    (
        "outlook_from_sent_block",
        "Please call me back.\n\nJane\n\nFrom: Aftercare Support <support@example.com>\n"
        "Sent: Monday, 9 March 2026 10:00\nTo: Jane Doe <jane@example.org>\n"
        "Subject: RE: [Case #42] Broken kettle\n\nWe will call you.\n",
        "Please call me back.\n\nJane",
    ),
    (
        "apple_mail",
        "Yes, the order number is 998877.\n\n"
        "> On 12 Mar 2026, at 10:00, Aftercare Support <support@example.com> wrote:\n> \n"
        "> What is your order number?\n",
        "Yes, the order number is 998877.",
    ),
    (
        "apple_mail_unquoted_header",
        "It arrived today, thank you!\n\n"
        "On 12 Mar 2026, at 10:00, Aftercare Support <support@example.com> wrote:\n\n"
        "> Your replacement has shipped.\n",
        "It arrived today, thank you!",
    ),
    (
        "iphone",
        "Still not working\n\nSent from my iPhone\n\n"
        "> On 12 Mar 2026, at 10:00, Aftercare Support <support@example.com> wrote:\n> \n> Did it work?\n",
        "Still not working",
    ),
    (
        "thunderbird",
        "The invoice is attached.\n\nOn 09.03.26 10:00, Aftercare Support wrote:\n"
        "> Could you send the invoice?\n>\n\n-- \nJane Doe\nExample Ltd\n",
        "The invoice is attached.",
    ),
    (
        "signature_only",
        "My toaster burns everything.\n\n-- \nJane Doe\n+44 20 7946 0000\n",
        "My toaster burns everything.",
    ),
    (
        "french_gmail",
        "Bonjour,\n\nLe produit est toujours en panne.\n\nCordialement,\nMarie\n\n"
        "Le lun. 9 mars 2026 à 10:00, Aftercare Support <support@example.com> a écrit :\n\n"
        "> Bonjour Marie,\n> avez-vous essayé de le redémarrer ?\n",
        "Bonjour,\n\nLe produit est toujours en panne.\n\nCordialement,\nMarie",
    ),
    (
        "french_outlook",
        "Merci pour votre réponse.\n\nDe : Aftercare Support <support@example.com>\n"
        "Envoyé : lundi 9 mars 2026 10:00\nÀ : Marie Dupont <marie@example.fr>\n"
        "Objet : RE: [Case #42] Bouilloire\n\nBonjour,\n",
        "Merci pour votre réponse.",
    ),
    (
        "german_gmail",
        "Hallo,\n\ndas Gerät ist immer noch defekt.\n\nViele Grüße\nJörg\n\n"
        "Am Mo., 9. März 2026 um 10:00 Uhr schrieb Aftercare Support <\nsupport@example.com>:\n\n"
        "> Hallo Jörg,\n> bitte schicken Sie ein Foto.\n",
        "Hallo,\n\ndas Gerät ist immer noch defekt.\n\nViele Grüße\nJörg",
    ),
    (
        "german_outlook",
        "Anbei das Foto.\n\nMit freundlichen Grüßen\nJörg Müller\n\n"
        "Von: Aftercare Support <support@example.com>\nGesendet: Montag, 9. März 2026 10:00\n"
        "An: Jörg Müller <joerg@example.de>\nBetreff: AW: [Case #42] Wasserkocher\n\nHallo Herr Müller,\n",
        "Anbei das Foto.\n\nMit freundlichen Grüßen\nJörg Müller",
    ),
    (
        "russian_thunderbird",
        "Здравствуйте!\n\nЧайник всё ещё не работает.\n\n09.03.2026 10:00, Aftercare Support пишет:\n"
        "> Здравствуйте,\n> попробуйте перезагрузить.\n",
        "Здравствуйте!\n\nЧайник всё ещё не работает.",
    ),
    (
        "russian_outlook",
        "Спасибо, жду звонка.\n\nОт: Aftercare Support <support@example.com>\n"
        "Отправлено: 9 марта 2026 г. 10:00\nКому: Иван Петров <ivan@example.ru>\n"
        "Тема: RE: [Case #42] Чайник\n\nЗдравствуйте,\n",
        "Спасибо, жду звонка.",
    ),
    (
        "russian_gmail",
        "Добрый день, номер заказа 5555.\n\n"
        "пн, 9 мар. 2026 г. в 10:00, Aftercare Support <support@example.com>:\n\n> Укажите номер заказа.\n",
        "Добрый день, номер заказа 5555.",
    ),
    (
        "japanese_apple",
        "お世話になっております。\n商品がまだ届いていません。\n\n"
        "2026/03/09 10:00、Aftercare Support <support@example.com>のメッセージ:\n\n> ご連絡ありがとうございます。\n",
        "お世話になっております。\n商品がまだ届いていません。",
    ),
    (
        "japanese_gmail",
        "注文番号は12345です。\n\n2026年3月9日(月) 10:00 Aftercare Support <support@example.com>:\n\n"
        "> 注文番号を教えてください。\n",
        "注文番号は12345です。",
    ),
    (
        "japanese_outlook",
        "よろしくお願いします。\n\n差出人: Aftercare Support <support@example.com>\n"
        "送信日時: 2026年3月9日 10:00\n宛先: 山田 太郎 <taro@example.jp>\n件名: RE: [Case #42] 故障\n\n"
        "お問い合わせありがとうございます。\n",
        "よろしくお願いします。",
    ),
    (
        "japanese_thunderbird_en_header",
        "写真を添付します。\n\nOn 2026/03/09 10:00, Aftercare Support wrote:\n> 写真を送ってください。\n",
        "写真を添付します。",
    ),
    ("whole_quoted", "> Hello,\n> is this still open?\n", "Hello,\nis this still open?"),
    ("no_quote", "My order 4711 never arrived.\nPlease help.\n", "My order 4711 never arrived.\nPlease help."),
    (
        "hyphen_list_kept",
        "Things that are broken:\n- the lid\n- the switch\n\nBest regards,\nJane\n\n"
        "On Mon, 9 Mar 2026 at 10:00, Support <support@example.com> wrote:\n> What is broken?\n",
        "Things that are broken:\n- the lid\n- the switch\n\nBest regards,\nJane",
    ),
    (
        "inline_reply",
        "> What is your order number?\n4711\n> And the date?\nLast Monday.\n",
        "4711\nLast Monday.",
    ),
    (
        "sent_from_galaxy",
        "Ok thanks\n\nSent from my Galaxy\n\n-------- Original message --------\n"
        "From: Aftercare Support <support@example.com>\nDate: 09/03/2026 10:00 (GMT+00:00)\n"
        "To: jane@example.org\nSubject: [Case #42]\n\nHello\n",
        "Ok thanks",
    ),
    (
        "get_outlook_ios",
        "Will do.\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n________________________________\n"
        "From: Aftercare Support <support@example.com>\nSent: Monday, March 9, 2026 10:00:00 AM\n"
        "To: Jane <jane@example.org>\nSubject: [Case #42]\n\nHi\n",
        "Will do.",
    ),
    (
        "crlf_input",
        "Line one\r\nLine two\r\n\r\nOn Mon, 9 Mar 2026 at 10:00, Support <support@example.com> wrote:\r\n> old\r\n",
        "Line one\nLine two",
    ),
    (
        "wrote_in_prose",
        "On Monday my neighbour wrote: the kettle is dangerous.\nI agree with him.\n",
        "On Monday my neighbour wrote: the kettle is dangerous.\nI agree with him.",
    ),
    (
        "forwarded_top",
        "Please see the complaint below.\n\n---------- Forwarded message ---------\n"
        "From: Jane <jane@example.org>\nDate: Mon, 9 Mar 2026 at 10:00\nSubject: Broken\n"
        "To: <shop@example.net>\n\nIt is broken.\n",
        "Please see the complaint below.",
    ),
    (
        "details_with_colons",
        "Hello,\nhere are my details:\nDate: 3 March\nTo: John at the shop\nI want a refund.\n",
        "Hello,\nhere are my details:\nDate: 3 March\nTo: John at the shop\nI want a refund.",
    ),
    (
        "italian_gmail",
        "Il prodotto è ancora guasto.\n\n"
        "Il giorno lun 9 mar 2026 alle ore 10:00 Aftercare Support <support@example.com> ha scritto:\n\n"
        "> Buongiorno,\n",
        "Il prodotto è ancora guasto.",
    ),
    (
        "polish_gmail",
        "Produkt nadal nie działa.\n\nDnia 9 marca 2026 Aftercare Support napisał(a):\n> Dzień dobry,\n",
        "Produkt nadal nie działa.",
    ),
    (
        "dutch_outlook",
        "Bedankt voor uw hulp.\n\nVan: Aftercare Support <support@example.com>\n"
        "Verzonden: maandag 9 maart 2026 10:00\nAan: Jan <jan@example.nl>\nOnderwerp: RE: [Case #42]\n\n"
        "Beste Jan,\n",
        "Bedankt voor uw hulp.",
    ),
]


@pytest.mark.parametrize("text, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_reply_shapes(text, expected):
    assert new_text(text) == expected


# Whole messages from the corpus: parse(), then new_text() of the body.
CORPUS_CASES = {
    "gmail_reply": "Thanks, the replacement arrived but it is also broken. The lid doesn\u2019t close.",
    "outlook_reply_cp1252": "Hello,\n\nthe kettle still leaks \u2013 I paid \u20ac49.99 for it and I\u2019m not happy."
    "\n\nKind regards\nJ\u00f6rg",
    "outlook_html_only_cp1252": "The replacement kettle also leaks \u2013 a \u20ac10 voucher is not enough."
    "\n\nRegards,\nSam",
    "apple_mail_reply": "Yes, the order number is 998877.",
    "iphone_reply": "Still not working \U0001f61e",
    "thunderbird_reply": "The invoice is attached to my first mail. The machine was bought on 2 February "
    "and stopped working after a week.",
    "french_reply": "Bonjour,\n\nLa bouilloire est toujours en panne, m\u00eame apr\u00e8s le remplacement."
    "\n\nCordialement,\nAm\u00e9lie",
    "german_outlook_reply": "Guten Tag,\n\nanbei das Foto. Der Deckel schlie\u00dft nicht mehr.\n\n"
    "Mit freundlichen Gr\u00fc\u00dfen\nJ\u00fcrgen Wei\u00df",
    "russian_koi8r": "Здравствуйте!\n\nЧайник всё ещё не работает, индикатор не горит.",
    "russian_utf8": "Добрый день!\n\nПрошу вернуть деньги за заказ 5555.",
    "japanese_iso2022jp": "お世話になっております。\n商品がまだ届いていません。\n至急ご確認ください。",
    "mailing_list": "Hi all, the new kettle model ships next week.",
    "forwarded_rfc822": "Please see the forwarded complaint from my customer below.",
}


@pytest.mark.parametrize("name", sorted(CORPUS_CASES))
def test_corpus_replies(name):
    mail = parse((CORPUS / f"{name}.eml").read_bytes())
    assert new_text(mail.text) == CORPUS_CASES[name]


def test_empty_and_odd_inputs():
    assert new_text("") == ""
    assert new_text("   \n\n  ") == ""
    assert new_text(None) == ""  # type: ignore[arg-type]
    assert new_text(b"bytes \xff reply") == "bytes \ufffd reply"  # type: ignore[arg-type]
    assert new_text("a\x00b") == "ab"
    assert new_text(">") == ""


def test_quoted_history_only_returns_the_history_unquoted():
    text = "On Mon, 9 Mar 2026 at 10:00, Support <support@example.com> wrote:\n> first\n>> second\n"
    assert new_text(text) == "On Mon, 9 Mar 2026 at 10:00, Support <support@example.com> wrote:\nfirst\nsecond"


def test_forward_without_top_text_keeps_everything():
    text = "From: Jane <jane@example.org>\nSent: Monday\nTo: shop@example.net\nSubject: Broken\n\nIt is broken.\n"
    assert new_text(text) == text.strip()


def test_large_inputs_are_fast():
    start = time.perf_counter()
    assert new_text("x" * 1_000_000) == "x" * 1_000_000
    assert new_text("hello\n" * 50_000).startswith("hello\nhello")
    assert new_text("> q\n" * 20_000 + "answer") == "answer"
    assert time.perf_counter() - start < 5


_HAS_CONTENT = re.compile(r"[^\s>\x00]")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=2000))
def test_never_raises_on_arbitrary_text(text):
    result = new_text(text)
    assert isinstance(result, str)
    assert "\x00" not in result
    if _HAS_CONTENT.search(text.replace("\r", "\n")):
        assert result.strip(), "non-empty input must never give an empty result"


_FRAGMENTS = st.sampled_from(
    [
        "Hello,",
        "",
        "> quoted",
        ">> deeper",
        "-- ",
        "Sent from my iPhone",
        "On Mon, 9 Mar 2026 at 10:00, X <x@example.com> wrote:",
        "From: X <x@example.com>",
        "Sent: Monday",
        "To: Y",
        "Subject: Z",
        "Von: X",
        "Gesendet: Montag",
        "От: X",
        "Отправлено: 9 марта",
        "差出人: X",
        "件名: Z",
        "-----Original Message-----",
        "________________________________",
        "Le lun. 9 mars 2026, X a écrit :",
        "X пишет:",
        "2026/03/09 10:00、X <x@example.com>のメッセージ:",
        "real text here",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_FRAGMENTS, max_size=30), st.sampled_from(["\n", "\r\n"]))
def test_never_raises_on_reply_like_text(lines, newline):
    text = newline.join(lines)
    result = new_text(text)
    assert isinstance(result, str)
    if _HAS_CONTENT.search(text):
        assert result.strip()
    if lines and lines[0] == "real text here":
        assert result.startswith("real text here")


# --- bottom-posted and interleaved replies ---------------------------------------------------------------------

ATTR = "On Mon, 9 Mar 2026 at 10:00, Support <support@example.com> wrote:"


def test_bottom_post_keeps_only_the_text_below():
    text = (f"{ATTR}\n\n> Hello Anna,\n> what is your order number?\n>\n> > older history\n>\n\n"
            "It is 4711.\nThanks!\n\n-- \nAnna\n")
    assert new_text(text) == "It is 4711.\nThanks!"


def test_bottom_post_ends_at_sent_from_and_at_unquoted_history():
    assert new_text(f"{ATTR}\n> Did it work?\n\nNo.\n\nSent from my iPhone\n") == "No."
    outlook = (f"{ATTR}\n> Did it work?\n\nNo, it did not.\n\nFrom: Support <support@example.com>\n"
               "Sent: Monday, March 2, 2026 10:00\nTo: Anna\nSubject: Kettle\n\nPlease try again.\n")
    assert new_text(outlook) == "No, it did not."
    separator = f"{ATTR}\n> Did it work?\n\nNo.\n\n-----Original Message-----\nOlder text\n"
    assert new_text(separator) == "No."


def test_bottom_post_under_an_iphone_signature_at_the_top():
    text = ("Sent from my iPhone\n\n> On 9 Mar 2026, at 10:00, Support <support@example.com> wrote:\n> \n"
            "> Did it work?\n\nStill broken.\n")
    assert new_text(text) == "Still broken."


def test_bottom_posted_commands_stay_first():
    text = (f"{ATTR}\n> Customer: the lid is broken.\n\n#plan 1. Send a new lid by Friday\n#done 1\n\n"
            "Dear Anna, a new lid is on its way.\n\n-- \nSam\n")
    assert new_text(text) == "#plan 1. Send a new lid by Friday\n#done 1\n\nDear Anna, a new lid is on its way."


def test_commands_below_the_quote_go_above_a_greeting():
    text = f"Hi Anna,\n\n{ATTR}\n> The lid is broken.\n\n＃done 1\nThe new lid is on its way.\n"
    assert new_text(text) == "＃done 1\n\nHi Anna,\n\nThe new lid is on its way."


def test_interleaved_reply_keeps_each_answer_under_its_question():
    text = (
        f"Hi Anna,\n\n{ATTR}\n"
        "> Hello,\n>\n> > My kettle leaks.\n> > Anna\n>\n> What is your order number?\n>\n"
        "4711\n\n"
        "> And when did you buy it?\n\n"
        "On 2 March.\nAt your Berlin shop.\n\n"
        "> Kind regards\n> Support\n>\n> On Sun, 8 Mar 2026 at 09:00, Anna <anna@example.org> wrote:\n"
        "> > My kettle leaks.\n\n-- \nAnna\n"
    )
    assert new_text(text) == (
        "Hi Anna,\n\n> What is your order number?\n4711\n\n"
        "> And when did you buy it?\nOn 2 March.\nAt your Berlin shop."
    )


def test_interleaved_drops_quoted_attributions_and_quoted_outlook_history():
    text = (
        f"{ATTR}\n> First question?\n> On Sun, 8 Mar 2026 at 09:00, Anna <anna@example.org> wrote:\n"
        "> > old\nFirst answer.\n> Second question?\n> \n> From: Anna\n> Sent: Sunday\n> To: Support\n"
        "> Older text\nSecond answer.\n"
    )
    assert new_text(text) == "> First question?\nFirst answer.\n\n> Second question?\nSecond answer."


def test_a_top_post_keeps_only_the_top_not_a_footer_under_the_quote():
    # a disclaimer or footer a mail server or client adds under the quote is not the sender's answer
    text = (f"The lid is broken, the switch too.\nPlease send both.\n\n{ATTR}\n> What is broken?\n\n"
            "Internal use only - do not forward\n")
    assert new_text(text) == "The lid is broken, the switch too.\nPlease send both."


def test_a_greeting_above_a_bottom_post_stays_with_the_answer():
    text = f"Hi Anna,\n\n{ATTR}\n> What is broken?\n\nThe lid.\n"
    assert new_text(text) == "Hi Anna,\n\nThe lid."


def test_own_text_is_empty_when_the_sender_wrote_nothing():
    from aftercare.mail.quoting import own_text
    text = f"{ATTR}\n> Here is a photo of the lid.\n"
    assert own_text(text) == "" and "Here is a photo of the lid." in new_text(text)  # the fallback


def test_attribution_over_unquoted_text_is_history():
    # an HTML reply turned to text loses the ">" markers: what follows the attribution is history
    text = f"Thanks!\n\n{ATTR}\n\nHello Anna,\nwhat is your order number?\n"
    assert new_text(text) == "Thanks!"


def test_mutt_and_thunderbird_japanese_attributions():
    assert new_text("* Support <support@example.com> [2026-03-09 10:00]:\n> Frage?\n\nAntwort.\n") == "Antwort."
    assert new_text("写真を添付します。\n\n2026/03/09 10:00、Support wrote:\n> 写真を送ってください。\n") == "写真を添付します。"
    assert new_text("* a list item [see 10:00]: more\n* another\n") == "* a list item [see 10:00]: more\n* another"


def test_hostile_bottom_posts_are_fast():
    start = time.perf_counter()
    many = (ATTR + "\n> q\nanswer\n") * 5_000
    assert new_text(many).startswith("> q\nanswer\n\n> q\nanswer")
    assert new_text(ATTR + "\n" + "> q\n\n" * 20_000 + "answer") == "answer"
    assert new_text(ATTR + "\n> q\n" + "\n" * 50_000 + "x " * 200_000) == ("x " * 200_000).strip()
    assert time.perf_counter() - start < 3

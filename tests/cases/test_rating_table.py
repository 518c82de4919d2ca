"""Real-shaped answers to the satisfaction check-in, in six languages, through the real parsers.

Each row is (reply text, expected score or None, expected comment or ANY, expected ``says_not_fixed`` or ANY).
Numbers that open a sentence as a quantity ("5 minutes after ...", "3 weeks", "4 Wochen") are not ratings.
Where a reply both looks like a rating and says the problem is not solved, ``says_not_fixed`` must see it:
the caller decides what wins. ``says_not_fixed`` has no Russian or Japanese phrases, so those rows leave it ANY.
"""
import pytest

from aftercare.cases.ratings import parse_rating, says_not_fixed

ANY = object()


def row(text, score, comment=ANY, not_fixed=ANY, id=None):
    return pytest.param(text, score, comment, not_fixed, id=id)


ENGLISH = [
    row("5", 5, "", False, id="en-bare"),
    row("5 minutes after the new kettle arrived it broke again. Please call me.", None, ANY, True,
        id="en-5-minutes-broke-again"),
    row("1 more thing: it still leaks", None, ANY, True, id="en-1-more-thing"),
    row("2 questions: where is my refund? And who pays the return?", None, ANY, False, id="en-2-questions"),
    row("3 weeks of waiting... and nobody called me back.", None, ANY, False, id="en-3-weeks"),
    row("2 days later it stopped working again.", None, ANY, True, id="en-2-days-later"),
    row("4/5 - the courier was late but the kettle is fine.\n\nSent from my iPhone", 4,
        "the courier was late but the kettle is fine.\n\nSent from my iPhone", False, id="en-4of5-iphone"),
    row("5 stars, thank you Jane!", 5, "thank you Jane!", False, id="en-5-stars"),
    row("Rating: 4", 4, "", False, id="en-label"),
    row("My rating: 5/5. Very quick.", 5, "Very quick.", False, id="en-my-rating"),
    row("***\nQuick replacement, thanks.", 3, "Quick replacement, thanks.", False, id="en-asterisks-multiline"),
    row("★★★★☆ good service", 4, "good service", False, id="en-star-symbols"),
    row("4 out of 5. The new one works, the box was dented.", 4, "The new one works, the box was dented.",
        False, id="en-out-of"),
    row("Excellent service!\n\nBest regards,\nMaria Rossi", 5, "service!\n\nBest regards,\nMaria Rossi", False,
        id="en-word-signature"),
    row("2 - it took three weeks and four emails", 2, "it took three weeks and four emails", False,
        id="en-low-dash"),
    row("5 :)\nSent from my iPhone", 5, "Sent from my iPhone", False, id="en-smiley-iphone"),
    row("5 excellent", 5, "excellent", False, id="en-number-word"),
    row("4 good, a bit slow", 4, "good, a bit slow", False, id="en-number-good"),
    row("5 thanks a lot!", 5, "thanks a lot!", False, id="en-number-thanks"),
    row("4. Took a while, but it works now.", 4, "Took a while, but it works now.", False, id="en-number-dot"),
    row("1 - still broken, the lid won't close", 1, "still broken, the lid won't close", True,
        id="en-low-and-not-fixed"),
    row("2/5 because it still doesn't work properly", 2, "because it still doesn't work properly", True,
        id="en-2of5-not-fixed"),
    row("Good morning, the replacement broke again", None, ANY, True, id="en-greeting-broke-again"),
    row("No. 3 phone calls and it still doesn't work", None, ANY, True, id="en-no-3-calls"),
    row("1. The lid still leaks\n2. Nobody answered my last email", None, ANY, True, id="en-numbered-list"),
    row("I would give it a 4", None, ANY, False, id="en-buried"),
    row("10/10 would buy again", None, ANY, False, id="en-ten-scale"),
    row("4.5", None, ANY, False, id="en-decimal"),
    row("5 € off the next order would be nice", None, ANY, False, id="en-currency"),
]

GERMAN = [
    row("5 Sterne, vielen Dank!", 5, "vielen Dank!", False, id="de-sterne"),
    row("Bewertung: 4\nDer Austausch hat etwas gedauert.", 4, "Der Austausch hat etwas gedauert.", False,
        id="de-label-multiline"),
    row("4 von 5 Sternen. Lieferung war langsam.", 4, "Lieferung war langsam.", False, id="de-von-5-sternen"),
    row("Sehr gut, danke\n\nMit freundlichen Grüßen\nHans Müller", 5,
        "danke\n\nMit freundlichen Grüßen\nHans Müller", False, id="de-sehr-gut-signature"),
    row("5 sehr gut, danke", 5, "sehr gut, danke", False, id="de-number-words"),
    row("5 danke!", 5, "danke!", False, id="de-number-danke"),
    row("4 Punkte", 4, "", False, id="de-punkte"),
    row("1 - funktioniert immer noch nicht", 1, "funktioniert immer noch nicht", True, id="de-low-not-fixed"),
    row("4 Wochen gewartet und er ist schon wieder kaputt.", None, ANY, True, id="de-4-wochen"),
    row("5 Minuten nach dem Auspacken war er wieder kaputt.", None, ANY, True, id="de-5-minuten"),
    row("2 Tage später ging er wieder kaputt", None, ANY, True, id="de-2-tage"),
    row("2 mal habe ich angerufen, niemand hat zurückgerufen", None, ANY, False, id="de-2-mal"),
    row("3. März kam der neue, am 5. März war er wieder defekt.", None, ANY, True, id="de-date"),
    row("Nein, 3 Wochen und immer noch kaputt", None, ANY, True, id="de-nein"),
]

FRENCH = [
    row("5/5 merci beaucoup", 5, "merci beaucoup", False, id="fr-5of5-merci"),
    row("Ma note : 4\nLe livreur était en retard.", 4, "Le livreur était en retard.", False,
        id="fr-label-multiline"),
    row("Note : 4/5", 4, "", False, id="fr-note-label"),
    row("5 étoiles !", 5, "", False, id="fr-etoiles"),
    row("4 sur 5, merci", 4, "merci", False, id="fr-sur-5"),
    row("5 merci pour tout", 5, "merci pour tout", False, id="fr-number-merci"),
    row("Parfait, merci !\n\nEnvoyé de mon iPhone", 5, "merci !\n\nEnvoyé de mon iPhone", False,
        id="fr-word-iphone"),
    row("1 - toujours pas réparé", 1, "toujours pas réparé", True, id="fr-low-not-fixed"),
    row("3 jours après, elle est de nouveau en panne.", None, ANY, True, id="fr-3-jours"),
    row("2 semaines d'attente et ça ne marche toujours pas", None, ANY, True, id="fr-2-semaines"),
    row("5 minutes après l'avoir branchée, elle était encore cassée", None, ANY, True, id="fr-5-minutes"),
    row("4 jours sans bouilloire, personne ne répond au téléphone", None, ANY, False, id="fr-4-jours"),
    row("Bien reçu, merci", None, ANY, False, id="fr-greeting"),
]

SPANISH = [
    row("5 estrellas, muchas gracias", 5, "muchas gracias", False, id="es-estrellas"),
    row("4 de 5. Tardó un poco.", 4, "Tardó un poco.", False, id="es-de-5"),
    row("Calificación: 5", 5, "", False, id="es-label"),
    row("Muy bien, gracias\n\nEnviado desde mi iPhone", 5, "gracias\n\nEnviado desde mi iPhone", False,
        id="es-word-iphone"),
    row("5 gracias", 5, "gracias", False, id="es-number-gracias"),
    row("4, bueno", 4, "bueno", False, id="es-number-comma-word"),
    row("Excelente", 5, "", False, id="es-word"),
    row("1 - no funciona", 1, "no funciona", True, id="es-low-not-fixed"),
    row("5 minutos después de llegar se volvió a romper.", None, ANY, True, id="es-5-minutos"),
    row("3 semanas esperando y sigue sin funcionar", None, ANY, True, id="es-3-semanas"),
    row("2 días después se rompió otra vez", None, ANY, True, id="es-2-dias"),
    row("2 preguntas: ¿dónde está mi reembolso?", None, ANY, False, id="es-2-preguntas"),
]

RUSSIAN = [
    row("5 звёзд, спасибо!", 5, "спасибо!", id="ru-zvezd"),
    row("Оценка: 4", 4, "", id="ru-label"),
    row("4 из 5", 4, "", id="ru-iz-5"),
    row("5 спасибо", 5, "спасибо", id="ru-number-thanks"),
    row("5 баллов\nБыстро заменили чайник.", 5, "Быстро заменили чайник.", id="ru-ballov-multiline"),
    row("5 минут спустя снова сломался", None, id="ru-5-minut"),
    row("3 недели ждал замену", None, id="ru-3-nedeli"),
]

JAPANESE = [
    row("５", 5, "", id="ja-full-width-digit"),
    row("４／５", 4, "", id="ja-full-width-slash"),
    row("５です。ありがとうございました。", 5, "ありがとうございました。", id="ja-desu"),
    row("評価：４", 4, "", id="ja-label"),
    row("評価は５です", 5, "", id="ja-label-wa"),
    row("星４つ", 4, "", id="ja-hoshi-tsu"),
    row("４点", 4, "", id="ja-ten"),
    row("５つ星です", 5, "", id="ja-tsuboshi"),
    row("５分後にまた壊れました。", None, id="ja-5-fun-go"),
    row("３週間待ちました。", None, id="ja-3-shuukan"),
    row("２つ質問があります。", None, id="ja-2-tsu"),
]

TABLE = ENGLISH + GERMAN + FRENCH + SPANISH + RUSSIAN + JAPANESE


@pytest.mark.parametrize("text, score, comment, not_fixed", TABLE)
def test_check_in_answer(text, score, comment, not_fixed):
    rating = parse_rating(text)
    if score is None:
        assert rating is None
    else:
        assert rating is not None and rating.score == score
        if comment is not ANY:
            assert rating.comment == comment
    if not_fixed is not ANY:
        assert says_not_fixed(text) is not_fixed


def test_the_table_is_big_and_varied_enough():
    assert len(TABLE) >= 60
    for language in (ENGLISH, GERMAN, FRENCH, SPANISH, RUSSIAN, JAPANESE):
        scores = [p.values[1] for p in language]
        assert None in scores and any(s is not None for s in scores)
    assert sum(1 for p in TABLE if p.values[1] is not None and p.values[3] is True) >= 4

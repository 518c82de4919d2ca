"""A customer's one-line reply: ratings and "it still does not work", pure."""
import pytest
from hypothesis import assume, given, settings, strategies as st

from aftercare.cases.ratings import DEFAULT_WORDS, Rating, parse_rating, says_not_fixed

# --- ratings ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, score", [
    ("4", 4), ("1", 1), ("5", 5), ("  3  ", 3), ("\n\n  2\n", 2),
    ("4/5", 4), ("4 / 5", 4), ("5/5", 5), ("4 out of 5", 4), ("4 OUT OF 5", 4), ("3 of 5", 3),
    ("5 stars", 5), ("1 star", 1), ("5stars", 5), ("4 Sterne", 4), ("5 étoiles", 5), ("5 Étoiles", 5),
    ("3 estrellas", 3), ("4 out of 5 stars", 4), ("4/5 stars", 4),
    ("***", 3), ("*", 1), ("*****", 5), ("★★★★", 4), ("★★★☆☆", 3), ("⭐⭐⭐", 3), ("⭐️⭐️⭐️⭐️", 4),
    ("４", 4), ("４／５", 4), ("５ stars", 5),
    ("excellent", 5), ("Excellent!", 5), ("GREAT", 5), ("perfect.", 5), ("good", 4), ("Fine", 4),
    ("ok", 3), ("OK.", 3), ("okay", 3), ("average", 3), ("poor", 2), ("bad", 1), ("terrible", 1), ("awful", 1),
    ("sehr gut", 5), ("Sehr  gut!", 5), ("gut", 4), ("schlecht", 2), ("sehr schlecht", 1),
    ("très bien", 5), ("bien", 4), ("mal", 2), ("muy bien", 5), ("excelente", 5), ("pésimo", 1),
    ("not bad", 3), ("Not good", 2),
    ("\ufeff5", 5), ("5)", 5), ("5 -- great", 5),
    # rating forms followed by a space and text
    ("4 - thanks", 4), ("4, good", 4), ("4! great", 4), ("4. The lid fits now", 4), ("4 :)", 4), ("5 👍", 5),
    ("5 (very quick)", 5), ("5 excellent", 5), ("4 good", 4), ("5 sehr gut", 5), ("3 ok", 3), ("5 thanks", 5),
    ("5 thank you", 5), ("5 Thank you Jane", 5), ("5 thx", 5), ("5 danke", 5), ("5 Vielen Dank", 5),
    ("5 merci", 5), ("5 gracias", 5), ("5 muchas gracias", 5), ("5 спасибо", 5), ("5 ありがとう", 5),
    ("5/5 minutes to fix it", 5), ("4 stars 3 weeks late", 4),
    # more units and scales
    ("4 von 5", 4), ("4 von 5 Sternen", 4), ("1 Stern", 1), ("4 sur 5", 4), ("4 de 5", 4), ("4 su 5", 4),
    ("4 из 5", 4), ("5 звёзд", 5), ("5 звезд", 5), ("3 звезды", 3), ("4 points", 4), ("4 Punkte", 4),
    ("4 puntos", 4), ("5 баллов", 5), ("5★", 5), ("4 ★", 4), ("1 étoile", 1),
    # labels
    ("Rating: 5", 5), ("rating:4", 4), ("My rating: 4/5", 4), ("Score: ***", 3), ("Note : 4/5", 4),
    ("Ma note : 4", 4), ("Bewertung: 5", 5), ("Meine Bewertung: sehr gut", 5), ("Calificación: 5", 5),
    ("Puntuación: 4 de 5", 4), ("Оценка: 5", 5), ("評価：４", 4), ("評価: 4", 4), ("評価は４です", 4),
    # Japanese
    ("５です", 5), ("5です", 5), ("５点", 5), ("４点です", 4), ("５つ星", 5), ("星４つ", 4), ("星５", 5),
    ("５。", 5), ("４、遅かった", 4),
])
def test_accepted_forms(text, score):
    rating = parse_rating(text)
    assert rating is not None and rating.score == score


@pytest.mark.parametrize("text", [
    "", "   ", "\n\n", "0", "6", "10", "100", "1000000000000000000000000", "8/10", "4/10", "4 / 10",
    "4 out of 10", "3 of 4", "4.5", "4,5", "4:30 is when it arrived", "4-5", "4 - 5", "2–3 days",
    "4pm", "5%", "5?", "-1", "+5", "#5",
    "I would say 4", "It was excellent", "Thanks! 5/5", "Hi Jane,\n5",
    "******", "★★★★★★", "★★★☆☆☆", "☆☆☆", "⭐⭐⭐⭐⭐⭐", "* the kettle still leaks", "**Great**",
    "goodness me", "Greatly disappointed", "Okayish", "malfunction again", "bienvenue",
    "Good morning, the kettle broke again", "Good afternoon", "Bien reçu, merci",
    "The kettle works", "Thanks for asking",
    # a number opening a sentence is a quantity
    "5 minutes after the new kettle arrived it broke again. Please call me.", "1 more thing: it still leaks",
    "2 questions: where is my refund?", "3 weeks of waiting...", "2 days later", "4 Wochen", "3 jours",
    "2 semaines", "5 Minuten", "5 минут", "1 of them arrived broken", "５ ＡＢＣ", "5 Sternchen", "2 mal",
    "3 mal angerufen", "4 de ellos", "5 good morning", "Rating: 5 minutes late", "Note : 3 jours",
    "5 5", "5 000 roubles", "5 € back", "5 $", "5 %",
    "5pm", "５分後にまた壊れました", "３週間", "２つ質問があります", "2つ", "星４点", "４点セット",
    "3. März", "3. Mai war er kaputt", "1. The lid\n2. The light", "1) The lid\n\n 2) The light",
    "Rating 5", "Note: it works", "Rating: 8/10", "評価：１０",
])
def test_rejected_forms(text):
    assert parse_rating(text) is None


@pytest.mark.parametrize("text, expected", [
    ("4", Rating(4, "")),
    ("4 - quick and friendly", Rating(4, "quick and friendly")),
    ("5! Thank you so much", Rating(5, "Thank you so much")),
    ("3/5, took a while", Rating(3, "took a while")),
    ("4 out of 5: fine", Rating(4, "fine")),
    ("Great, thanks\nThe new kettle is lovely.\n", Rating(5, "thanks\nThe new kettle is lovely.")),
    ("\n  2\n\nStill waiting for the refund.  \n", Rating(2, "Still waiting for the refund.")),
    ("*** ok-ish", Rating(3, "ok-ish")),
    ("Sehr gut, danke!", Rating(5, "danke!")),
    ("4 stars\r\nshipping was slow", Rating(4, "shipping was slow")),
    ("５ - ＡＢＣ", Rating(5, "ＡＢＣ")),  # the comment keeps the customer's own characters
    ("1 of 5, arrived broken", Rating(1, "arrived broken")),
    ("Rating: 4 - quick", Rating(4, "quick")),
    ("５です。ありがとうございました。", Rating(5, "ありがとうございました。")),
    ("5 excellent, thanks", Rating(5, "excellent, thanks")),
    ("4. Took a while\nbut it works", Rating(4, "Took a while\nbut it works")),
    ("1.\n3. nothing else", Rating(1, "3. nothing else")),  # not a list: no "2." follows
])
def test_the_rest_is_the_comment(text, expected):
    assert parse_rating(text) == expected


def test_the_longest_phrase_wins():
    assert parse_rating("sehr gut").score == 5 and parse_rating("gut").score == 4
    assert parse_rating("very bad service").score == 1
    assert parse_rating("very bad service").comment == "service"


def test_configured_words_replace_the_defaults():
    words = {"Top": 5, "so so": 3, "meh": 2, "out of range": 9, "": 4, "flag": True}
    assert parse_rating("top!", words) == Rating(5, "")
    assert parse_rating("So   So, really", words) == Rating(3, "really")
    assert parse_rating("meh", words).score == 2
    assert parse_rating("excellent", words) is None  # the defaults are not merged in
    assert parse_rating("out of range", words) is None
    assert parse_rating("flag", words) is None
    assert parse_rating("4", words).score == 4  # numbers always work
    assert parse_rating("great", {}) is None
    # After a number, the configured words are the rating words that make it a rating, not a quantity.
    assert parse_rating("5 top, thanks", words) == Rating(5, "top, thanks")
    assert parse_rating("5 excellent", words) is None
    assert parse_rating("5 excellent").score == 5
    assert parse_rating("5 thanks", words).score == 5  # thanks are not configured words


def test_default_words_are_all_valid_scores():
    assert DEFAULT_WORDS and all(1 <= v <= 5 for v in DEFAULT_WORDS.values())
    assert all(k == k.lower().strip() for k in DEFAULT_WORDS)


@settings(max_examples=500)
@given(st.text())
def test_parse_rating_never_raises(text):
    rating = parse_rating(text)
    assert rating is None or (isinstance(rating.score, int) and 1 <= rating.score <= 5)


@settings(max_examples=500)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200), st.sampled_from([
    "*", "★", "⭐", "4", "4/", "excellent", "sehr", "\n", " ", "/5", "stars", "-", "５", "☆", ":", ".",
]))
def test_parse_rating_never_raises_near_the_grammar(text, prefix):
    rating = parse_rating(prefix + text)
    assert rating is None or 1 <= rating.score <= 5


@settings(max_examples=500)
@given(st.integers(1, 5), st.text().filter(lambda t: not t[:1] or not t[:1].isspace() or t[:1] in " \t"))
def test_n_out_of_5_with_any_comment_parses_to_n(n, comment):
    rating = parse_rating(f"{n}/5 {comment}")
    assert rating is not None and rating.score == n


@given(st.integers(1, 5), st.text(alphabet=st.characters(categories=("L", "N", "P", "Zs")), max_size=50))
def test_the_comment_is_what_follows_without_leading_punctuation(n, comment):
    assume(not comment.lstrip().lower().startswith(("star", "stern", "étoile", "etoile", "estrella")))
    rating = parse_rating(f"{n}/5 {comment}")
    assert rating.comment == comment.strip().lstrip(".!,-:;)\u2013\u2014\u2026").strip()


# --- "it still does not work" -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "It's still not working.", "Still doesn't work!", "still does not work", "It still doesn’t work at all",
    "The kettle is still broken", "Not fixed.", "It isn't fixed", "Sadly it doesn't work", "It does not work",
    "Your advice didn't help", "did not help, sorry", "No, it leaks again", "No.", "no", "Nope.", "No!",
    "NO - same as before", "No it doesn't", "Not yet", "Not really, the lid still won't close",
    "Hi Jane,\nNo.\nThanks", "Hello,\n\nunfortunately the kettle is not working",
    "Still having the same problem", "It broke again yesterday",
    "Es funktioniert immer noch nicht", "Geht immer noch nicht.", "Nein.", "Nein, leider", "noch nicht",
    "Das Problem ist nicht behoben", "funktioniert nicht",
    "Ça ne marche toujours pas", "Il ne fonctionne toujours pas", "Toujours pas.", "Non.", "Non, désolé",
    "ça marche pas", "pas encore",
    "Sigue sin funcionar", "Todavía no funciona", "todavia no funciona", "No funciona", "Sigue igual",
    "No, no problem solved at all – it still doesn't work",
    "It works now? No! It still does not work.",
    "5 minutes after the new kettle arrived it broke again. Please call me.", "1 more thing: it still leaks",
    "It stopped working after two days", "still dripping from the spout",
    "Er ist schon wieder kaputt", "4 Wochen später wieder defekt",
    "Elle est de nouveau en panne", "encore cassée", "à nouveau en panne",
    "Se volvió a romper", "se rompió otra vez", "Se estropeó de nuevo",
])
def test_says_not_fixed(text):
    assert says_not_fixed(text)


@pytest.mark.parametrize("text", [
    "", "   \n ", "No problem, it works now", "no problems at all", "No issues so far", "Not bad",
    "Not bad at all, thanks", "works now, no issues", "It works now. No complaints!", "No worries, all good",
    "No, everything works fine now", "Yes, thanks!", "All fixed", "Thank you, it works perfectly",
    "Nobody told me it would be this fast", "No one could have done better", "Note: it works",
    "Nein, alles gut", "Kein Problem, funktioniert jetzt", "Nicht schlecht!", "Funktioniert wieder.",
    "Non, pas de problème", "Ça marche pas mal", "Ça marche, merci", "Pas de problème",
    "No hay problema, ya funciona", "Sin problemas", "Todo bien, gracias",
    "The leak has stopped, working fine now", "Wieder da, danke", "De nouveau disponible, merci",
    # Only the first three non-blank lines are read: older text further down does not count.
    "Thanks!\nAll good.\nCheers\n\nEarlier I wrote: it still does not work",
])
def test_says_not_fixed_avoids_false_positives(text):
    assert not says_not_fixed(text)


@given(st.text())
def test_says_not_fixed_never_raises(text):
    assert says_not_fixed(text) in (True, False)

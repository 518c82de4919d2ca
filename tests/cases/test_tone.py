"""The tone of a customer's message: each signal, quoted history, operator words, negation, priority. Pure."""
import dataclasses
import time

import pytest
from hypothesis import given, settings, strategies as st

from aftercare.cases.tone import TONES, ToneReading, assess, fold, is_urgent, own_words


def has(reading, start):
    return any(s.startswith(start) for s in reading.signals)


# --- each signal fires and is named ---------------------------------------------------------------------------

@pytest.mark.parametrize("language, text", [
    ("en", "Please refund me or I will file a chargeback."),
    ("en", "I will ask my bank to reverse the payment."),
    ("de", "Sonst mache ich eine Rückbuchung."),
    ("de", "Ich lasse das über die Bank zurückbuchen."),
    ("fr", "Sinon je fais une rétrofacturation."),
    ("fr", "Je vais faire opposition bancaire."),
    ("es", "Si no, pido un contracargo."),
    ("pt", "Vou fazer um chargeback."),  # no lexicon of its own: English words and the words of every language
])
def test_a_chargeback_threat_is_angry_however_polite(language, text):
    reading = assess(text, language)
    assert reading.tone == "angry"
    assert "threatens a chargeback" in reading.signals


@pytest.mark.parametrize("language, text, signal", [
    ("en", "I will pass this to my lawyer.", "threatens legal action: 'lawyer'"),
    ("de", "Ich gehe zum Anwalt.", "threatens legal action: 'Anwalt'"),
    ("fr", "Je vais voir mon avocat.", "threatens legal action: 'mon avocat'"),
    ("es", "Hablaré con mi abogado.", "threatens legal action: 'abogado'"),
    ("de", "Ich wende mich an die Verbraucherzentrale.",
     "threatens to go to a regulator or consumer body: 'Verbraucherzentrale'"),
    ("fr", "J'ai écrit à l'UFC-Que Choisir.", "threatens to go to a regulator or consumer body: 'UFC-Que Choisir'"),
    ("es", "Lo llevo a la OCU.", "threatens to go to a regulator or consumer body: 'OCU'"),
    ("en", "Expect a 1 star review on Trustpilot.", "threatens a public review: '1 star review', 'Trustpilot'"),
    ("de", "Dafür gibt es eine 1-Sterne-Bewertung.", "threatens a public review: '1-Sterne-Bewertung'"),
    ("en", "I will never order from you again.", "threatens to leave: 'never order from you again'"),
    ("es", "Me doy de baja.", "threatens to leave: 'Me doy de baja'"),
    ("en", "I am furious about the second delay.", "strong words: 'furious'"),
    ("fr", "C'est inadmissible.", "strong words: 'inadmissible'"),
    ("en", "This fucking blender broke.", "swears: 'fucking'"),
])
def test_threats_strong_words_and_swearing_are_angry_and_named(language, text, signal):
    reading = assess(text, language)
    assert reading.tone == "angry"
    assert signal in reading.signals


@pytest.mark.parametrize("language, text, signal", [
    ("en", "You idiots sent the wrong part.", "calls you names: 'idiots'"),
    ("de", "Ihr Idioten, wo ist mein Geld?", "calls you names: 'Idioten'"),
    ("fr", "Bande d'incompétents, remboursez-moi.", "calls you names: 'Bande d'incompétents'"),
    ("es", "Inútiles, devuélvanme el dinero.", "calls you names: 'Inútiles'"),
    ("en", "Fuck you and your shop.", "swears at you: 'Fuck you'"),
    ("de", "Verpisst euch mit eurer Umfrage.", "swears at you: 'Verpisst euch'"),
    ("en", "I know where your office is.", "threatens staff: 'I know where your office is'"),
    ("es", "Se van a arrepentir.", "threatens staff: 'Se van a arrepentir'"),
])
def test_names_swearing_and_threats_aimed_at_people_are_abusive(language, text, signal):
    reading = assess(text, language)
    assert reading.tone == "abusive"
    assert signal in reading.signals


@pytest.mark.parametrize("language, text", [
    ("en", "Thieves stole the parcel from my doorstep, can you resend it?"),
    ("en", "I got an email from scammers pretending to be you."),
    ("de", "Betrüger haben sich als Ihr Shop ausgegeben."),
    ("fr", "Des voleurs ont pris mon colis devant la porte."),
    ("es", "Unos ladrones me robaron el paquete del portal."),
    ("en", "I'm an idiot, I ordered the wrong size. Can I swap it?"),
    ("fr", "C'est idiot, j'ai oublié mon code."),
    ("de", "Das ist idiotisch gelöst, aber es funktioniert."),
    ("en", "Please make the setup idiot-proof."),
])
def test_names_not_aimed_at_people_are_not_abusive(language, text):
    assert assess(text, language).tone == "calm"


@pytest.mark.parametrize("language, accuse, aimed", [
    ("en", "Thieves took my money.", "You thieves took my money."),
    ("de", "Betrüger haben mein Geld.", "Ihr seid Betrüger."),
    ("es", "Ladrones robaron mi dinero.", "Sois unos ladrones."),
])
def test_an_accusing_word_is_abusive_only_when_aimed(language, accuse, aimed):
    assert assess(accuse, language).tone == "calm"
    assert assess(aimed, language).tone == "abusive"


def test_being_ignored_before_is_named_and_counts_one():
    reading = assess("I wrote last week and got no reply so far. Could someone look at it?", "en")
    assert reading.tone == "upset"
    assert reading.signals == ("says nobody answered before: 'got no reply'",)
    for language, text in [("de", "Niemand hat geantwortet."), ("fr", "Personne ne m'a répondu."),
                           ("es", "Nadie me ha contestado.")]:
        assert has(assess(text, language), "says nobody answered before"), text


def test_writing_for_the_third_time_counts_two():
    reading = assess("This is the third time I write about it.", "en")
    assert reading.signals == ("says this is not the first time they write: 'third time'",)
    assert reading.tone == "upset"
    assert assess("Third time I write and nobody answered.", "en").tone == "angry"  # 2 + 1


def test_words_of_disappointment_count_one_each_and_two_at_most():
    assert assess("I am disappointed.", "en").tone == "upset"
    reading = assess("Disappointed, frustrated, annoyed and unhappy.", "en")
    assert reading.tone == "upset"  # four words, but at most two points
    assert reading.signals == ("sounds upset: 'Disappointed', 'frustrated', 'annoyed'",)


def test_sarcasm_is_praise_and_a_fault_in_one_sentence():
    reading = assess("Great job, third broken kettle this year.", "en")
    assert reading.tone == "upset"
    assert reading.signals == ("sounds sarcastic: 'Great job'",)
    assert assess("Great job, the new kettle works.", "en").tone == "calm"
    assert assess("Thanks a lot for replacing the broken kettle so quickly!", "en").tone == "calm"
    assert has(assess("Super gemacht, schon wieder kaputt.", "de"), "sounds sarcastic")


def test_capitals():
    reading = assess("WHERE IS MY PARCEL", "en")
    assert reading.signals == ("writes in capitals",)
    assert reading.tone == "upset"
    assert assess("WHERE IS MY PARCEL???", "en").tone == "angry"
    # short acronyms and brand names are not shouting
    assert assess("The DHL parcel to the EU came, my BOSCH drill works.", "en").signals == ()
    # one stressed word counts only on top of another signal
    assert assess("It broke AGAIN.", "en").signals == ()
    reading = assess("Disappointed: it broke AGAIN.", "en")
    assert "stresses words in capitals: 'AGAIN'" in reading.signals


def test_exclamation_runs_count_only_on_top_of_another_signal():
    assert assess("Thanks so much!!! Works perfectly now.", "en").tone == "calm"
    reading = assess("Disappointed!!! Really?! Again!!", "en")
    assert "!!! (3 runs)" in reading.signals
    assert reading.tone == "angry"  # 1 + 2 (runs count two at most)
    assert assess("¡¡¡Qué decepción!!!", "es").signals[-1] == "!!! (1 run)"  # the opening marks are not a run


def test_earlier_complaints_are_a_signal_and_make_it_urgent():
    reading = assess("Any news on my order?", "en", earlier_complaints=1)
    assert reading.signals == ("complained before about the same thing",)
    assert reading.priority == "urgent"
    assert assess("Any news?", "en", earlier_complaints=3).signals == (
        "complained before about the same thing (3 times)",)
    calm = assess("Any news on my order?", "en")
    assert calm.priority == "normal"
    assert not is_urgent(calm) and is_urgent(calm, 1)


@pytest.mark.parametrize("tone, urgent", [("calm", False), ("upset", False), ("angry", True), ("abusive", True)])
def test_priority_follows_the_tone(tone, urgent):
    reading = ToneReading(tone=tone, signals=())
    assert is_urgent(reading, 0) is urgent
    assert reading.priority == ("urgent" if urgent else "normal")


def test_a_reading_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        assess("hello", "en").tone = "angry"


# --- harmless senses and negation ------------------------------------------------------------------------------

@pytest.mark.parametrize("language, text", [
    ("en", "This firmware bug kills the battery in two hours."),
    ("en", "The delivery was a disaster but you fixed it, thanks."),
    ("de", "Die Lieferung war eine Katastrophe, aber Sie haben es gelöst."),
    ("fr", "La livraison a été une catastrophe mais vous avez réglé le problème."),
    ("es", "La entrega fue un desastre pero lo solucionaron, gracias."),
    ("en", "I left you a 5 star review on Trustpilot. Could you send the second cable?"),
    ("en", "Could you please cancel my subscription? I'm moving abroad."),
    ("en", "The pressure regulator on the espresso machine leaks."),
    ("de", "Ich weiß, wo das Problem liegt: der Filter ist verstopft."),
    ("es", "Vale la pena, me encanta. Perdón por molestar, ¿tienen el manual?"),
])
def test_strong_words_in_a_harmless_sense_are_calm(language, text):
    assert assess(text, language).tone == "calm"


@pytest.mark.parametrize("language, text, tone", [
    ("en", "I'm not angry, just disappointed.", "upset"),
    ("en", "Not angry at all, the new one works.", "calm"),
    ("de", "Ich bin nicht wütend, nur enttäuscht.", "upset"),
    ("fr", "Je ne suis pas en colère, juste déçue.", "upset"),
    ("es", "No estoy enfadada, solo decepcionada.", "upset"),
    # a negation does not reach over a comma
    ("fr", "Ça ne marche toujours pas, c'est frustrant.", "upset"),
])
def test_negation(language, text, tone):
    assert assess(text, language).tone == tone


# --- quoted history --------------------------------------------------------------------------------------------

ANGRY = "THIS IS RIDICULOUS!!! I WANT MY MONEY BACK OR I CALL MY LAWYER, you idiots"


@pytest.mark.parametrize("language, text", [
    ("en", f"Thanks, it works now.\n\n> {ANGRY}"),
    ("en", f"Thanks, it works now.\n\nOn Tue, 3 Jun 2025 at 10:02, Jane <jane@example.com> wrote:\n{ANGRY}"),
    ("en", f"Thanks, it works now.\n\nOn Tue, 3 Jun 2025 at 10:02, Jane Doe <jane@\nexample.com> wrote:\n{ANGRY}"),
    ("de", f"Danke, geht jetzt.\n\nAm 03.06.2025 um 10:02 schrieb Jana <jana@example.de>:\n{ANGRY}"),
    ("de", f"Danke, geht jetzt.\n\nAm Mo., 2. Juni 2025 um 09:00 Uhr schrieb Jana:\n{ANGRY}"),
    ("fr", f"Merci, ça marche.\n\nLe mar. 3 juin 2025 à 10:02, Jeanne <j@example.fr> a écrit :\n{ANGRY}"),
    ("es", f"Gracias, ya funciona.\n\nEl mar, 3 jun 2025 a las 10:02, Juana (<j@example.es>) escribió:\n{ANGRY}"),
    ("en", f"Thanks, it works now.\n\n-----Original Message-----\n{ANGRY}"),
    ("en", f"Thanks, it works now.\n\nFrom: Jane <jane@example.com>\nSent: Monday\n{ANGRY}"),
])
def test_quoted_history_does_not_count(language, text):
    reading = assess(text, language)
    assert reading.tone == "calm", reading.signals
    assert reading.signals == ()


def test_own_words_keeps_the_new_text_and_drops_signatures():
    text = "It broke again.\n> old text\nStill broken.\n\nSent from my iPhone"
    assert own_words(text) == "It broke again.\n\nStill broken."


def test_the_same_words_above_the_quote_do_count():
    assert assess(f"{ANGRY}\n\nOn Tue, 3 Jun 2025, Jane <jane@example.com> wrote:\n> Hello", "en").tone == "abusive"


# --- operator words --------------------------------------------------------------------------------------------

def test_extra_words_per_language_and_level():
    extra = {"de": {"abusive": ["Schnarchnasen"], "angry": ["Saftladen"], "upset": ["mau*"]}}
    reading = assess("Ihr Schnarchnasen!", "de", extra_words=extra)
    assert reading.tone == "abusive"
    assert reading.signals == ("uses a word listed as abusive: 'Schnarchnasen'",)
    assert assess("So ein Saftladen.", "de", extra_words=extra).signals == ("uses a word listed as angry: 'Saftladen'",)
    reading = assess("Das war eher mauer Service.", "de", extra_words=extra)
    assert reading.tone == "upset"
    assert reading.signals == ("uses a word listed as upset: 'mauer'",)
    # without the operator's words, or in another language, they mean nothing
    assert assess("Ihr Schnarchnasen!", "de").tone == "calm"
    assert assess("Schnarchnasen", "en", extra_words=extra).tone == "calm"


def test_extra_words_are_plain_text_and_unknown_levels_are_ignored():
    extra = {"en": {"angry": ["c++ (beta)"], "furious": ["hello"]}}
    assert assess("The c++ (beta) build.", "en", extra_words=extra).tone == "angry"
    assert assess("hello", "en", extra_words=extra).tone == "calm"


# --- languages, folding, robustness ----------------------------------------------------------------------------

def test_a_regional_code_reads_its_language_and_an_unknown_one_reads_english():
    assert assess("Ich gehe zum Anwalt.", "de-AT").tone == "angry"
    assert assess("Ich gehe zum Anwalt.", "it").tone == "calm"
    assert assess("I will call my lawyer.", "it").tone == "angry"


def test_accents_may_be_missing_and_signals_quote_the_customer():
    assert assess("tres decu de la qualite", "fr").signals == ("sounds upset: 'decu'",)
    assert assess("Très déçu de la qualité", "fr").signals == ("sounds upset: 'déçu'",)


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_fold_keeps_length_and_any_text_gets_a_tone(text):
    assert len(fold(text)) == len(text)
    for language in ("en", "de", "fr", "es", "xx", ""):
        reading = assess(text, language)
        assert reading.tone in TONES


def test_a_three_sentence_complaint_is_read_well_under_a_millisecond():
    text = ("I am extremely disappointed and will be contacting my bank to reverse the payment. "
            "Nobody answered my last two emails!!! This is the third time I write.\n\nSent from my iPhone")
    assess(text, "en")
    runs = 200
    start = time.perf_counter()
    for _ in range(runs):
        assess(text, "en")
    assert (time.perf_counter() - start) / runs < 0.001


@pytest.mark.parametrize("language, text, signal", [
    ("en", "I demand a call back.", "makes demands: 'I demand'"),
    ("de", "Ich verlange einen Rückruf.", "makes demands: 'Ich verlange'"),
    ("fr", "J'exige un rappel.", "makes demands: 'J'exige'"),
    ("es", "Exijo una llamada.", "makes demands: 'Exijo'"),
])
def test_a_demand_counts_two(language, text, signal):
    reading = assess(text, language)
    assert reading.signals == (signal,)
    assert reading.tone == "upset"


# --- a rating is no threat; a threat needs an intent and is negated ------------------------------------------------

@pytest.mark.parametrize("language, text", [
    ("en", "1 star. Still broken."),  # an answer to our check-in, which asks for a rating from 1 to 5
    ("de", "1 Stern. Immer noch kaputt."),
    ("fr", "1 étoile. Toujours en panne."),
    ("es", "1 estrella. Sigue roto."),
])
def test_the_lowest_rating_is_disappointment_not_a_public_review_threat(language, text):
    reading = assess(text, language)
    assert reading.tone == "upset" and not reading.urgent, reading.signals
    assert has(reading, "gives the lowest rating")
    assert not has(reading, "threatens")


@pytest.mark.parametrize("language, text", [
    ("en", "I will leave a review on Trustpilot."),
    ("en", "I'm going to post a 1 star review."),
    ("de", "Ich werde eine Bewertung bei Google schreiben."),
    ("de", "Sonst gibt es eine schlechte Bewertung."),
    ("fr", "Je vais laisser un avis sur Google."),
    ("es", "Voy a dejar una reseña en Google."),
])
def test_a_review_word_and_an_intent_make_a_public_review_threat(language, text):
    reading = assess(text, language)
    assert reading.tone == "angry"
    assert has(reading, "threatens a public review")


@pytest.mark.parametrize("language, text", [
    ("en", "I am not going to leave a 1 star review, I just want the lid."),
    ("en", "I won't write a bad review, don't worry."),
    ("de", "Ich werde keine schlechte Bewertung schreiben, keine Sorge."),
    ("fr", "Je ne vais pas laisser un mauvais avis, rassurez-vous."),
    ("es", "No voy a dejar una mala reseña, tranquilos."),
    ("en", "I read the reviews on Trustpilot before ordering."),  # no intent
    ("en", "I will give you a 5 star review once it's fixed."),  # a good review
    ("fr", "À mon avis, le couvercle est mal monté."),  # "in my opinion"
])
def test_no_review_threat_when_negated_without_intent_or_good(language, text):
    reading = assess(text, language)
    assert not has(reading, "threatens"), reading.signals
    assert not reading.urgent


@pytest.mark.parametrize("language, text", [
    ("en", "Our lawyer's office ordered two kettles and one is missing."),
    ("en", "My lawyer recommended this kettle to me."),
    ("de", "Mein Anwalt hat mir geraten, mich zuerst an Sie zu wenden."),
    ("de", "Die Verbraucherzentrale hat mir Ihre Adresse gegeben."),
    ("fr", "Mon avocat m'a conseillé de vous écrire d'abord."),
    ("es", "Mi abogado me aconsejó escribirles primero."),
])
def test_a_lawyer_or_regulator_mentioned_without_a_threat_is_calm(language, text):
    assert assess(text, language).tone == "calm"


@pytest.mark.parametrize("language, text", [
    ("en", "I will contact my lawyer."),
    ("en", "I will not hesitate to contact my lawyer."),  # "not hesitate" is no negation
    ("en", "I have already contacted my lawyer."),
    ("de", "Mein Anwalt wird sich bei Ihnen melden."),
    ("de", "Sonst schalte ich die Verbraucherzentrale ein."),
    ("fr", "Je vais saisir le tribunal."),
    ("fr", "Sinon, je contacterai mon avocat."),
    ("es", "Pondré una denuncia."),
    ("es", "Voy a hablar con mi abogado."),
])
def test_a_lawyer_or_regulator_with_an_intent_is_a_threat(language, text):
    reading = assess(text, language)
    assert reading.tone == "angry"
    assert has(reading, "threatens")


def test_a_negated_chargeback_or_leaving_is_no_threat():
    assert assess("I don't want a chargeback, just the lid.", "en").tone == "calm"
    assert assess("I'm not going to cancel my account, it's just a question.", "en").tone == "calm"
    assert assess("No compraré nunca más aquí.", "es").tone == "angry"  # a double negation stays a threat


# --- insults are aimed -------------------------------------------------------------------------------------

@pytest.mark.parametrize("language, text", [
    ("en", "Hi, the movie is called 'Idiots and Angels' and the DVD case had another film in it."),
    ("en", "The idiots at the depot dropped it, I think. Could you resend?"),  # nobody here
    ("de", "Der Film heißt 'Die Idioten', in der Hülle war ein anderer."),
    ("fr", "Le film s'appelle « Les Idiots » et la boîte contenait un autre DVD."),
    ("es", "El libro se titula «Los estafadores de Madrid» y me llegó otro."),
    ("en", "Your useless app crashed again."),  # a thing, not people
    ("de", "Das Ladegerät ist nutzlos."),
])
def test_names_that_are_not_aimed_at_people_are_not_abusive(language, text):
    assert assess(text, language).tone != "abusive"


@pytest.mark.parametrize("language, text", [
    ("en", "Your company is a scam."),
    ("en", "You are nothing but scammers."),
    ("en", "Useless, the lot of you."),
    ("en", "Morons. Absolute morons."),  # said alone: a form of address
    ("en", "Your agent is an idiot."),  # staff, in the third person
    ("de", "Ihr seid doch alle unfähig."),
    ("de", "Sie inkompetenter Haufen."),
    ("de", "Ihr Betrügerbande habt mir kaputte Ware geschickt."),
    ("de", "Ihr Laden ist reiner Betrug."),
    ("fr", "Votre boîte est une arnaque."),
    ("fr", "Vous êtes vraiment des incapables."),
    ("fr", "Bande de charlots, remboursez-moi."),
    ("fr", "Espèce de nuls, apprenez à lire."),
    ("es", "Ustedes son una estafa."),
    ("es", "Imbéciles, ¿no saben leer?"),
    ("es", "Son ustedes unos inútiles."),
])
def test_names_aimed_at_you_your_company_or_staff_are_abusive(language, text):
    reading = assess(text, language)
    assert reading.tone == "abusive", reading.signals
    assert has(reading, "calls you names")


@pytest.mark.parametrize("language, text", [
    ("en", "Are you kidding me? Three weeks."),
    ("de", "Wollen Sie mich verarschen?"),
    ("fr", "Vous vous foutez de moi ?"),
    ("es", "¿Me están tomando el pelo?"),
])
def test_being_mocked_is_strong_anger(language, text):
    reading = assess(text, language)
    assert reading.tone == "angry"
    assert has(reading, "strong words")

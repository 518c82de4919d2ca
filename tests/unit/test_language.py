"""The customer's language: the Content-Language header, the detector on real short complaints, the names."""
import json
from datetime import timedelta
from pathlib import Path

import pytest

from aftercare.cases.tone import own_words
from aftercare.durations import humanize
from aftercare.language import (LocalDuration, choose, content_language, detect, guess, name_of, rendering_in)

DATA = Path(__file__).resolve().parents[1] / "cases" / "data" / "tone_labelled.jsonl"
ROWS = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("header,code", [
    ("de-AT, en", "de"), ("en-GB", "en"), ("FR", "fr"), (" es-419 ", "es"), ("fr (French)", "fr"),
    (None, None), ("", None), ("x-klingon", None), ("i-default", None), ("*", None), ("german", None),
    ("zz", None), ("d", None), ("de_AT", None), ("\u00e9s", None),
])
def test_content_language_is_the_first_valid_primary_subtag(header, code):
    assert content_language(header) == code


def test_detect_reads_every_labelled_complaint_right_or_declines():
    """On the 256 short complaints (quoted history cut): never a wrong language, at most 2 left undecided."""
    results = [(r["language"], detect(own_words(r["text"]))) for r in ROWS]
    wrong = [(want, got) for want, got in results if got is not None and got != want]
    assert wrong == []
    assert sum(got is None for _, got in results) <= 2
    for language in ("en", "de", "fr", "es"):
        assert sum(got == language for want, got in results if want == language) >= 62


@pytest.mark.parametrize("text,code", [
    ("Mein Wasserkocher kam mit gesprungenem Deckel an. Können Sie mir Ersatz schicken?", "de"),
    ("Ma bouilloire est arrivée avec le couvercle fendu. Pouvez-vous m'en envoyer une autre ?", "fr"),
    ("Mi hervidor llegó con la tapa rota. ¿Me pueden enviar otro?", "es"),
    ("My kettle arrived with a cracked lid. Could you send me another one?", "en"),
    ("Il mio bollitore è arrivato con il coperchio rotto. Potete mandarmene un altro?", "it"),
    ("IHR NUTZLOSEN IDIOTEN!!! ICH WILL MEIN GELD ZURÜCK", "de"),  # capitals are read in lower case
])
def test_detect_on_short_complaints(text, code):
    assert detect(text) == code


@pytest.mark.parametrize("text", ["ok", "thx", "Danke!", "merci", "???", "", "12345 67890 !!!", "Order 10234"])
def test_too_short_or_unsure_is_none(text):
    assert detect(text) is None


def test_an_unsure_guess_is_declined_though_the_detector_has_one():
    lang, probability = guess("peor servicio de mi vida. nunca más. cero estrellas")
    assert lang is not None and probability > 0
    assert detect("Danke schön") is None and guess("Danke schön")[0] is not None


def test_choose_prefers_the_header_then_the_text_then_the_default():
    german = "Mein Wasserkocher kam mit gesprungenem Deckel an. Können Sie mir Ersatz schicken?"
    assert choose("fr-FR", german, "en") == "fr"
    assert choose(None, german, "en") == "de"
    assert choose("x-junk", german, "en") == "de"
    assert choose(None, "ok", "es") == "es"
    assert choose("", "thx", "en") == "en"


def test_name_of_in_english_and_other_languages():
    assert name_of("fr") == "French"
    assert name_of("de", "de") == "Deutsch"
    assert name_of("fr", "de") == "Französisch"
    assert name_of("it", "es") == "italiano"
    assert name_of("qq") == "qq"


def test_a_local_duration_is_english_text_printed_in_the_render_language():
    promise = humanize(timedelta(hours=24))
    assert isinstance(promise, LocalDuration) and promise == "24 hours" and str(promise) == "24 hours"
    with rendering_in("de"):
        assert str(promise) == "24 Stunden" and f"{promise}" == "24 Stunden"
        assert str(humanize(timedelta(minutes=90))) == "90 Minuten"
        assert str(humanize(timedelta(hours=1, minutes=30, seconds=15))) == "1 Stunde 30 Minuten"
        assert str(humanize(timedelta(days=3))) == "3 Tage"
    with rendering_in("fr"):
        assert str(promise) == "24\u00a0heures" and str(humanize(timedelta(hours=2))) == "2\u00a0heures"
    with rendering_in("es"):
        assert str(promise) == "24 horas" and str(humanize(timedelta(days=2))) == "2 días"
    assert str(promise) == "24 hours" and str(humanize(timedelta(hours=1, minutes=30, seconds=15))) == "1 hour 30 minutes"


def test_render_shows_a_template_in_the_language_asked_and_says_which(tmp_path):
    """An operator previews the German acknowledgment; a language without templates falls back and says so."""
    import subprocess
    import sys

    from aftercare.testing.daemonproc import write_config
    config = write_config(tmp_path / "config.toml", imap_port=1, smtp_port=1,
                          database_url=f"sqlite:///{tmp_path}/a.db")
    run = lambda *a: subprocess.run([sys.executable, "-m", "aftercare", "--config", str(config), "render", *a],
                                    capture_output=True, text=True, timeout=60)
    de = run("customer/acknowledgment", "--language", "de")
    assert de.returncode == 0, de.stderr
    assert "Content-Language: de" in de.stdout and "Guten Tag Maria Rossi," in de.stdout
    it = run("customer/acknowledgment", "--language", "it")
    assert "Content-Language: en" in it.stdout and "Thank you" in it.stdout
    staff = run("staff/new_case")
    assert "Content-Language: en" in staff.stdout

"""Customers are answered in their own language, and how upset they sound decides how fast and who hears of it.

Real servers (Dovecot, aiosmtpd), the real daemon, complaints written by hand as mail clients send them
(charsets, quoted-printable, encoded subjects).

The tests share their servers and daemons (``SHARED_STACKS``): one stack per database and configuration,
started at the first test that asks for it. Each test writes as customers of its own and finds its case by
the number in the subject of the emails about it, so that none depends on what another left behind.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

from e2e_support import SharedStacks, case_number, parsed, reply_to, wait_for_n

ESCALATION = 'escalation = ["lead@example.com"]'

#: tests/conftest.py: this module's tests run one after another on one worker, sharing ``shared``'s stacks.
SHARED_STACKS = True


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    stacks = SharedStacks(tmp_path_factory)
    yield stacks
    stacks.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request) -> str:
    """Runs the test twice: on SQLite and on PostgreSQL (a stack of each, shared by the module)."""
    return request.param


def raw(sender: str, subject: str, body: str, headers: str = "", charset: str = "utf-8",
        encoding: str = "quoted-printable") -> bytes:
    """A complaint as a mail client writes it; ``body`` is already in ``encoding``."""
    mid = f"<{time.monotonic_ns()}@mail.example.net>"
    text = (f"From: {sender}\r\nTo: support@example.com\r\nSubject: {subject}\r\n"
            f"Date: Mon, 02 Mar 2026 09:14:00 +0100\r\nMessage-ID: {mid}\r\n{headers}"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"{charset}\"\r\n"
            f"Content-Transfer-Encoding: {encoding}\r\n\r\n{body}\r\n")
    return text.encode("ascii")


# Thunderbird in German: no Content-Language header, quoted-printable UTF-8.
GERMAN = raw("=?utf-8?q?J=C3=BCrgen_Wei=C3=9F?= <juergen@example.de>", "=?utf-8?q?Wasserkocher_mit_Sprung_im_Deckel?=",
             "Guten Tag,\r\n\r\nmein Wasserkocher (Bestellung 48213) ist gestern mit einem gesprungenen Deckel "
             "angekommen.=\r\n Ich h=C3=A4tte gern einen Ersatz. K=C3=B6nnen Sie mir bitte sagen, wie es jetzt "
             "weitergeht?\r\n\r\nViele Gr=C3=BC=C3=9Fe\r\nJ=C3=BCrgen Wei=C3=9F")


def to(address: str, case: int | None = None):
    """Emails to ``address``; with ``case``, only those about that case (its ``[Case #N]`` tag)."""
    return lambda m: m.rcpt_tos == [address] and (case is None or f"[Case #{case}]" in subject(m))


def subject(m) -> str:
    return parsed(m)["Subject"] or ""


def text_of(m) -> str:
    return parsed(m).get_body(("plain",)).get_content()


def words(m) -> str:
    """The text with every run of whitespace one space (CLDR writes "24 heures" with a no-break space)."""
    return " ".join(text_of(m).split())


def iso(value: str) -> datetime:
    return datetime.fromisoformat(value.rstrip("Z"))


def test_a_german_complaint_is_acknowledged_in_german_and_the_case_is_german(shared, database):
    s = shared.get(database)  # SQLite and PostgreSQL
    s.deliver(GERMAN)
    ack = s.smtp.wait_for(to("juergen@example.de"))[0]
    n = case_number(ack)
    assert parsed(ack)["Content-Language"] == "de"
    body = words(ack)
    assert body.startswith("Guten Tag Jürgen Weiß,")
    assert "Spätestens 24 Stunden nach Ihrer Nachricht hören Sie von mir." in body and f"Vorgangsnummer ist {n}." in body
    assert "Telefonnummer" not in body  # a calm complaint is not offered a call
    note = s.smtp.wait_for(to("jane@example.com", n))[0]
    assert parsed(note)["Content-Language"] == "en" and "Language:  German" in text_of(note)
    case = s.case_json(n)
    assert (case["language"], case["priority"]) == ("de", "normal")
    assert [(m["tone"], m["tone_signals"]) for m in case["messages"] if m["direction"] == "in"] == [("calm", [])]


def test_the_content_language_header_wins_over_the_words(shared):
    s = shared.get("sqlite", group="the same German complaint again")  # a stack of its own: same sender, same id
    s.deliver(GERMAN.replace(b"MIME-Version", b"Content-Language: fr-FR\r\nMIME-Version"))
    ack = s.smtp.wait_for(to("juergen@example.de"))[0]
    assert parsed(ack)["Content-Language"] == "fr"
    assert "Merci de nous avoir écrit" in words(ack) and "sous 24 heures." in words(ack)
    assert s.case_json(case_number(ack))["language"] == "fr"


def test_language_from_the_owner_switches_later_customer_emails(shared):
    s = shared.get("sqlite")
    s.deliver(raw("=?utf-8?q?Luc=C3=ADa_Fern=C3=A1ndez?= <lucia@example.es>", "Broken kettle",
                  "Hello, my kettle arrived with a cracked lid. Could you send me a new one please?\r\n\r\nLuc=C3=ADa"))
    ack = s.smtp.wait_for(to("lucia@example.es"))[0]
    n = case_number(ack)
    assert parsed(ack)["Content-Language"] == "en"
    note = parsed(s.smtp.wait_for(to("jane@example.com", n))[0])
    s.deliver(reply_to(note, "jane@example.com", "#language es\r\n#plan +2d Enviar una tetera nueva"))
    plan = s.smtp.wait_for(lambda m: m.rcpt_tos == ["lucia@example.es"] and "nuestro plan" in subject(m))[0]
    assert parsed(plan)["Content-Language"] == "es" and "Enviar una tetera nueva" in text_of(plan)
    assert s.case_json(n)["language"] == "es"

    s.deliver(reply_to(note, "jane@example.com", "#language xx"))  # a bad code: the usual command error
    refused = s.smtp.wait_for(lambda m: to("jane@example.com", n)(m) and subject(m).startswith("Not done"))[0]
    assert "Line 1: #language xx Problem: 'xx' is not an ISO 639-1 language code" in words(refused)
    assert s.case_json(n)["language"] == "es"


def test_an_angry_complaint_threatening_a_chargeback_is_urgent_and_escalation_hears_at_once(shared, database):
    s = shared.get(database, staff_extra=ESCALATION)  # SQLite and PostgreSQL
    s.deliver(raw("Tom Berger <tom@example.org>", "Refund NOW", "THIS IS THE THIRD TIME I WRITE ABOUT MY BROKEN "
                  "KETTLE AND NOBODY ANSWERS!!!\r\n\r\nIf it is not refunded today I will dispute the charge with my "
                  "bank.\r\n\r\nTom", encoding="7bit"))
    n = case_number(s.smtp.wait_for(to("tom@example.org"))[0])
    urgent = s.smtp.wait_for(to("lead@example.com", n))[0]
    assert subject(urgent) == f"Urgent complaint [Case #{n}]: Refund NOW"
    said = text_of(urgent)
    assert "- threatens a chargeback" in said and "- says nobody answered before: 'NOBODY ANSWERS'" in said
    assert "owned by Jane Doe" in said
    case = s.case_json(n)
    # At once: no timer has fired (the first-response one waits for the urgent promise).
    assert [(t["kind"], t["state"]) for t in case["timers"]] == [("first_response", "waiting")]
    assert case["priority"] == "urgent"
    assert iso(case["first_response_due_at"]) - iso(case["created_at"]) == timedelta(hours=2)
    assert [m["tone"] for m in case["messages"] if m["direction"] == "in"] == ["angry"]
    assert "threatens a chargeback" in case["messages"][0]["tone_signals"]

    ack = text_of(s.smtp.wait_for(to("tom@example.org"))[0])
    assert "You will hear back from me within 2 hours." in ack
    assert "I would be glad to call you. Just reply with a phone number and a time that suits you" in ack
    note = s.smtp.wait_for(to("jane@example.com", n))[0]
    assert subject(note).startswith(f"Urgent: New complaint [Case #{n}]")
    said = text_of(note)
    assert "Tone:      angry" in said and "- threatens a chargeback" in said
    assert "How to answer: Slow down and stay calm" in said and "offer to talk by phone" in said
    assert not [m for m in s.smtp.messages if subject(m).startswith("Escalation")]


# Outlook in French, Latin-1 quoted-printable.
ABUSIVE = raw("=?iso-8859-1?q?G=E9rard_Martin?= <gerard@example.fr>", "=?iso-8859-1?q?Bouilloire_cass=E9e?=",
              "Bande d'incomp=E9tents ! Trois semaines que j'attends ma bouilloire. Vous =EAtes des voleurs,=\r\n "
              "rendez-moi mon argent.\r\n\r\nG=E9rard", charset="iso-8859-1")


def test_an_abusive_complaint_warns_the_owner_tells_escalation_and_still_gets_a_calm_acknowledgment(shared, database):
    s = shared.get(database, staff_extra=ESCALATION)  # SQLite and PostgreSQL
    s.deliver(ABUSIVE)
    n = case_number(s.smtp.wait_for(to("gerard@example.fr"))[0])
    note = s.smtp.wait_for(to("jane@example.com", n))[0]
    said = text_of(note)
    assert "Be warned: the message is abusive." in said and "calls you names" in said
    assert "Stand firm and stay courteous" in said and "a senior colleague has been told." in said
    assert "Language:  French" in said
    assert "calls you names" in text_of(s.smtp.wait_for(to("lead@example.com", n))[0])

    ack = s.smtp.wait_for(to("gerard@example.fr"))[0]
    assert parsed(ack)["Content-Language"] == "fr"
    body = text_of(ack)
    assert body.startswith("Bonjour Gérard,") and "je vous appelle volontiers" in body
    for leaked in ("incomp", "voleur", "abusi", "insult", "calls you names", "senior", "urgent", "tone", "Bande"):
        assert leaked.lower() not in body.lower(), leaked
    case = s.case_json(n)
    assert case["priority"] == "urgent" and case["messages"][0]["tone"] == "abusive"


def test_a_customer_writing_italian_gets_the_default_language_and_the_owner_is_told(shared):
    s = shared.get("sqlite")
    s.deliver(raw("Giulia Bianchi <giulia@example.it>", "Bollitore rotto",
                  "Buongiorno, il bollitore che ho ordinato =C3=A8 arrivato con il coperchio rotto. Vorrei una "
                  "sostituzione, grazie.\r\n\r\nGiulia"))
    ack = s.smtp.wait_for(to("giulia@example.it"))[0]
    n = case_number(ack)
    assert parsed(ack)["Content-Language"] == "en" and "Thank you for writing to us" in text_of(ack)
    said = " ".join(text_of(s.smtp.wait_for(to("jane@example.com", n))[0]).split())
    assert "Language: Italian" in said
    assert "They wrote in Italian, and we have no templates in Italian: the emails they get from us go in our " \
           "default language." in said
    assert s.case_json(n)["language"] == "it"


def test_with_tone_off_nothing_is_read_and_every_case_stays_normal(shared):
    s = shared.get("sqlite", staff_extra=ESCALATION, extra="[tone]\nenabled = false\n")
    s.deliver(ABUSIVE)
    n = case_number(s.smtp.wait_for(to("gerard@example.fr"))[0])
    s.smtp.wait_for(to("jane@example.com", n))
    case = s.case_json(n)
    assert case["priority"] == "normal" and case["messages"][0]["tone"] is None
    assert iso(case["first_response_due_at"]) - iso(case["created_at"]) == timedelta(hours=24)
    # The urgent notice would have been stored with the others, in the same transaction.
    assert sorted(m["kind"] for m in case["messages"] if m["direction"] == "out") == ["acknowledgment",
                                                                                    "notification"]


def test_an_angry_reply_makes_the_case_urgent_and_escalation_hears_of_it(shared):
    s = shared.get("sqlite", staff_extra=ESCALATION)
    s.deliver(raw("=?utf-8?q?Luc=C3=ADa_Fern=C3=A1ndez?= <lucia@example.es>", "Tetera rota",
                  "Hola, la tetera lleg=C3=B3 con la tapa rota. =C2=BFPueden enviarme otra?\r\n\r\nLuc=C3=ADa"))
    ack = s.smtp.wait_for(to("lucia@example.es"))[0]
    n = case_number(ack)
    assert parsed(ack)["Content-Language"] == "es" and s.case_json(n)["priority"] == "normal"
    s.deliver(reply_to(parsed(ack), "lucia@example.es", "¡¡Nadie me contesta!! Si hoy no me devuelven el dinero, "
                                                        "voy a reclamar al banco la devolución del cargo."))
    urgent = s.smtp.wait_for(to("lead@example.com", n))[0]
    assert subject(urgent) == f"Urgent complaint [Case #{n}]: Tetera rota" and "threatens a chargeback" in text_of(urgent)
    wait_for_n(s, to("jane@example.com", n), 2)  # the notification, then the reply forwarded
    case = s.case_json(n)
    assert case["priority"] == "urgent"
    assert [m["tone"] for m in case["messages"] if m["direction"] == "in"] == ["calm", "angry"]
    # The first answer, still owed, is owed within the urgent promise from the angry reply.
    assert iso(case["first_response_due_at"]) - iso(case["created_at"]) < timedelta(hours=3)
    forward = wait_for_n(s, to("jane@example.com", n), 2)[1]
    said = words(forward)
    assert "This message reads angry. What we read it from:" in said and "threatens a chargeback" in said
    assert "How to answer: Slow down and stay calm" in said


def test_an_abusive_reply_on_an_urgent_case_warns_its_owner_and_tells_escalation_again(shared):
    s = shared.get("sqlite", staff_extra=ESCALATION)
    s.deliver(raw("Dan Rook <dan@example.com>", "Refund NOW",
                  "THIRD TIME I WRITE. Refund me today or I will dispute the charge with my bank."))
    ack = s.smtp.wait_for(to("dan@example.com"))[0]
    n = case_number(ack)
    s.smtp.wait_for(to("lead@example.com", n))
    s.deliver(reply_to(parsed(ack), "dan@example.com", "You are useless idiots, all of you."))
    told = wait_for_n(s, to("lead@example.com", n), 2)
    assert "calls you names" in text_of(told[1])
    forward = wait_for_n(s, to("jane@example.com", n), 2)[1]
    said = words(forward)
    assert "Be warned: this message is abusive." in said and "a senior colleague has been told." in said
    assert [m["tone"] for m in s.case_json(n)["messages"] if m["direction"] == "in"] == ["angry", "abusive"]

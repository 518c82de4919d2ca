"""Triage on the pure rules: a case's priority, the earlier-complaint rule, the urgent promise and who hears of
an urgent case, and ``#language``. Conversations with an injected now; no storage."""
from datetime import datetime, timedelta

import pytest

from aftercare.cases import lifecycle, plan, transitions
from aftercare.cases.commands import CommandError, parse_reply
from aftercare.cases.lifecycle import EarlierCase, Policy, Triage
from aftercare.cases.routing import CaseView
from aftercare.cases.tone import assess
from aftercare.inbound import InboundMail

NOW = datetime(2026, 3, 2, 9, 0)
POLICY = Policy(first_response_due=timedelta(hours=24), support_name="Acme Support",
                support_address="support@example.com", staff_names={"jane@example.com": "Jane Doe"},
                default_owner="jane@example.com", staff_addresses=("jane@example.com", "sam@example.com"),
                escalation=("lead@example.com",), urgent_first_response_due=timedelta(hours=2))

ANGRY = "THIS IS THE THIRD BROKEN KETTLE. I will dispute the charge with my bank if it is not refunded today."
ABUSIVE = "Bande d'incompétents ! Vous êtes des voleurs, rendez-moi mon argent."
CALM = "Hello, the lid of my kettle is cracked. Could you send a new one? Thank you."


def mail(text=CALM, subject="Broken kettle", sender="maria@example.net"):
    return InboundMail(message_id="m1@x", fingerprint="m1@x", from_address=sender, from_name="Maria Rossi", to=(),
                       cc=(), reply_to=(), subject=subject, date=None, in_reply_to=(), references=(), text=text,
                       attachments=(), headers={}, return_path=sender, delivery_report=None, size=1)


def view(**kw):
    base = dict(id=3, status="open", customer_address="maria@example.net", customer_name="Maria Rossi",
                subject="Broken kettle", owner="jane@example.com", created_at=NOW,
                first_response_due_at=NOW + timedelta(hours=24))
    base.update(kw)
    return CaseView(**base)


def earlier(case_id, days_ago, subject="Something else", text="", status=""):
    return EarlierCase(case_id, NOW - timedelta(days=days_ago), subject, text, status)


# --- priority --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,language,earlier_complaints,priority", [
    (ANGRY, "en", 0, "urgent"),
    (ABUSIVE, "fr", 0, "urgent"),
    (CALM, "en", 1, "urgent"),  # calm, but the customer complained about the same thing before
    (CALM, "en", 0, "normal"),
    ("I am a bit disappointed that the lid cracked.", "en", 0, "normal"),  # upset is not urgent
])
def test_a_case_is_urgent_when_a_message_is_angry_or_abusive_or_a_repeat(text, language, earlier_complaints,
                                                                          priority):
    reading = assess(text, language, earlier_complaints=earlier_complaints)
    assert lifecycle.priority_after("normal", reading) == priority


def test_once_urgent_a_case_stays_urgent_and_without_a_reading_nothing_changes():
    calm = assess(CALM, "en")
    assert lifecycle.priority_after("urgent", calm) == "urgent"
    assert lifecycle.priority_after("urgent", None) == "urgent"
    assert lifecycle.priority_after("normal", None) == "normal"


def test_with_tone_off_nothing_is_read():
    off = Policy(**{**POLICY.__dict__, "tone_enabled": False})
    assert lifecycle.read_tone(ANGRY, "en", off, [(1, "order 10234")]) is None
    assert lifecycle.read_tone(ANGRY, "en", POLICY).tone == "angry"


def test_the_operators_words_count_in_their_language():
    words = Policy(**{**POLICY.__dict__, "tone_words": {"de": {"abusive": ["Saftladen"]}}})
    text = "Was für ein Saftladen. Der Wasserkocher ist kaputt."
    assert lifecycle.read_tone(text, "de", POLICY).tone != "abusive"
    reading = lifecycle.read_tone(text, "de", words)
    assert reading.tone == "abusive" and any("Saftladen" in s for s in reading.signals)


def test_an_earlier_complaint_is_named_in_the_signal_staff_read():
    reading = lifecycle.read_tone(CALM, "en", POLICY, [(12, "order 10234"), (15, "same subject")])
    assert reading.earlier_complaints == 2 and reading.urgent
    assert "complained before about the same thing: Case #12 (order 10234), Case #15 (same subject)" \
        in reading.signals


# --- earlier complaints about the same thing -------------------------------------------------------------------

@pytest.mark.parametrize("text,numbers", [
    ("My order 10234 arrived broken", {"10234"}),
    ("Bestellung Nr. 10234 ist kaputt", {"10234"}),
    ("Bestellnummer: 10234", {"10234"}),
    ("la commande n° 10234", {"10234"}),
    ("la commande numéro 10234", {"10234"}),
    ("mi pedido #10234", {"10234"}),
    ("about #10234 again", {"10234"}),
    ("Order number: AC-55231", {"55231"}),
    ("the order from 2026-03-02", set()),  # a date is no order number
    ("my order of 12 March", set()),
    ("call me on 0176 1234567", set()),  # a number with no order word is no order number
    ("I ordered 3 kettles", set()),
    ("Rechnung 10234", {"10234"}),
    ("Rechnungsnummer: RE-10234", {"10234"}),
    ("order 1899 and order 2100", {"1899", "2100"}),
    ("Rechnungsadresse: 10115 Berlin", set()),  # a postcode in an address compound
    ("invoice address: 10115 Berlin", set()),
    ("adresse de facturation : 75011 Paris", set()),
    ("dirección de facturación: 28001 Madrid", set()),
    ("invoice 2026", set()),  # a year
    ("mi pedido 2025 llegó roto", set()),
    ("Bestellung aus 2024", set()),
    ("Tel #01512345678", set()),  # a phone number: ten digits or more with a leading 0
    ("order 1234567890123", set()),  # too long for an order number
    ("order placed, number 10234", set()),  # not right after the order word
])
def test_order_numbers_follow_an_order_word_or_a_hash(text, numbers):
    assert lifecycle.order_numbers(text) == numbers


def test_the_same_order_number_makes_a_complaint_about_the_same_thing():
    found = [earlier(1, 30, "Kettle lid", "The lid of order 10234 is cracked."),
             earlier(2, 20, "Refund", "Please refund order 99999.")]
    assert lifecycle.same_complaints("Still broken", "Order 10234 is still not replaced!", found, NOW) == \
        [(1, "order 10234")]
    assert lifecycle.same_complaints("Order #10234", "", found, NOW) == [(1, "order 10234")]  # in the subject


def test_the_same_subject_once_normalised_makes_a_complaint_about_the_same_thing():
    found = [earlier(4, 10, "Kettle lid broken!"), earlier(5, 10, "Toaster lid broken")]
    assert lifecycle.same_complaints("AW: Re: kettle lid  BROKEN [Case #4]", CALM, found, NOW) == \
        [(4, "same subject")]
    assert lifecycle.same_complaints("", CALM, [earlier(6, 10, "")], NOW) == []  # no subject matches nothing
    assert lifecycle.same_complaints("(no subject)", CALM, [earlier(6, 10, "(no subject)")], NOW) == []


def test_only_cases_opened_within_180_days_before_count():
    found = [earlier(1, 181, "Kettle lid broken"), earlier(2, 179, "Kettle lid broken"),
             earlier(3, -1, "Kettle lid broken")]
    assert lifecycle.same_complaints("Kettle lid broken", CALM, found, NOW) == [(2, "same subject")]
    assert lifecycle.EARLIER_COMPLAINTS_WITHIN == timedelta(days=180)


def test_another_thing_is_no_earlier_complaint():
    found = [earlier(1, 5, "Late delivery", "Order 55555 is late.")]
    assert lifecycle.same_complaints("Broken kettle", "Order 10234 arrived broken.", found, NOW) == []


@pytest.mark.parametrize("subject", [
    "Reklamation", "Complaint", "Refund", "Hallo", "Problem", "Question", "AW: Reklamation",
    "Broken kettle",  # two words
    "Problem mit meiner Bestellung", "Question about my order", "Réclamation sur ma commande",
    "Reembolso de mi pedido",
])
def test_a_generic_or_short_subject_matches_nothing_on_its_own(subject):
    assert lifecycle.same_complaints(subject, CALM, [earlier(7, 30, subject, "Something else entirely.")], NOW) == []


def test_different_order_numbers_are_different_things_whatever_the_subject():
    found = [earlier(8, 30, "Kettle lid broken", "The lid of order 10234 is cracked.")]
    assert lifecycle.same_complaints("Kettle lid broken", "Order 55555: the lid is cracked.", found, NOW) == []
    # one of the two names no order: the subject still decides
    assert lifecycle.same_complaints("Kettle lid broken", CALM, found, NOW) == [(8, "same subject")]


def test_an_open_case_from_the_last_24_hours_is_a_follow_up_not_a_repeat():
    def one(hours_ago, status):
        return EarlierCase(9, NOW - timedelta(hours=hours_ago), "Kettle lid broken",
                           "The lid of order 10234 is cracked.", status)
    text = "Nachtrag: Foto anbei. Bestellung 10234."
    assert lifecycle.same_complaints("Nachtrag: Foto anbei", text, [one(3, "open")], NOW) == []
    assert lifecycle.same_complaints("Kettle lid broken", text, [one(23, "open")], NOW) == []
    # older than a day, or no longer open, or its status not known: a complaint made again
    assert lifecycle.same_complaints("Nachtrag", text, [one(25, "open")], NOW) == [(9, "order 10234")]
    assert lifecycle.same_complaints("Nachtrag", text, [one(3, "resolved")], NOW) == [(9, "order 10234")]
    assert lifecycle.same_complaints("Nachtrag", text, [one(3, "closed")], NOW) == [(9, "order 10234")]
    assert lifecycle.same_complaints("Nachtrag", text, [one(3, "")], NOW) == [(9, "order 10234")]


def test_the_earlier_case_is_read_in_the_customers_own_words():
    quoted = ("Thanks, I will wait.\n\nOn Mon, 2 Feb 2026, Acme Support <support@example.com> wrote:\n"
              "> Your order 10234 has shipped.")
    signed = "The lid is cracked.\n\n--\nMaria Rossi\nRechnungsadresse: 10115 Berlin\nTel #01512345678"
    found = [earlier(10, 20, "Something else", quoted), earlier(11, 20, "Another thing", signed)]
    text = "Order 10234 is broken. Rechnung 10115? Call #01512345678."
    assert lifecycle.same_complaints("Kettle", text, found, NOW) == []
    assert lifecycle.same_complaints("Kettle", text, [earlier(12, 20, "x", "Order 10234 arrived broken.")], NOW) == \
        [(12, "order 10234")]


# --- the urgent promise and who hears of it --------------------------------------------------------------------

def test_an_urgent_case_is_promised_the_shorter_answer():
    assert lifecycle.new_case(mail(), "jane@example.com", NOW, POLICY, "de", "urgent").first_response_due_at == \
        NOW + timedelta(hours=2)
    normal = lifecycle.new_case(mail(), "jane@example.com", NOW, POLICY, "de")
    assert normal.first_response_due_at == NOW + timedelta(hours=24)
    assert (normal.language, normal.priority) == ("de", "normal")
    # An urgent promise longer than the normal one never makes an urgent case wait longer.
    short = Policy(**{**POLICY.__dict__, "first_response_due": timedelta(hours=1)})
    assert short.response_due("urgent") == timedelta(hours=1)


def test_the_acknowledgment_of_an_urgent_case_promises_the_shorter_time_and_offers_a_call():
    out = lifecycle.on_case_opened(view(priority="urgent", first_response_due_at=NOW + timedelta(hours=2)),
                                   mail(ANGRY), NOW, POLICY,
                                   Triage("en", "English", True, lifecycle.read_tone(ANGRY, "en", POLICY)))
    ack = next(o for o in out if o.template == "customer/acknowledgment")
    assert ack.context["urgent"] is True and ack.context["promise"] == "2 hours"
    normal = lifecycle.on_case_opened(view(), mail(), NOW, POLICY)
    ack = next(o for o in normal if o.template == "customer/acknowledgment")
    assert ack.context["urgent"] is False and ack.context["promise"] == "24 hours"
    assert [o.template for o in normal] == ["customer/acknowledgment", "staff/new_case"]


def test_staff_escalation_hears_of_an_urgent_case_at_once_and_the_owner_is_told_why_and_how_to_answer():
    reading = lifecycle.read_tone(ABUSIVE, "fr", POLICY)
    out = lifecycle.on_case_opened(view(priority="urgent", language="fr"), mail(ABUSIVE), NOW, POLICY,
                                   Triage("fr", "French", True, reading))
    assert [(o.kind, o.template, o.to) for o in out] == [
        ("acknowledgment", "customer/acknowledgment", "maria@example.net"),
        ("notification", "staff/new_case", "jane@example.com"),
        ("urgent_notice", "staff/urgent", "lead@example.com")]
    note = out[1].context
    assert note["priority"] == "urgent" and note["language"] == {"code": "fr", "name": "French", "templates": True}
    assert note["tone"]["level"] == "abusive" and note["tone"]["senior_told"] is True
    assert note["tone"]["signals"] == list(reading.signals) and any("calls you names" in s for s in reading.signals)
    assert note["tone"]["advice"].startswith("Stand firm and stay courteous")
    assert note["tone"]["advice"].endswith("a senior colleague has been told.")
    assert out[2].context["tone"] == note["tone"] and out[2].auto_submitted == "auto-generated"


def test_with_no_one_but_the_owner_to_tell_the_owner_hears_that_nobody_else_was_told():
    alone = Policy(**{**POLICY.__dict__, "escalation": ()})  # the default owner, who owns the case
    reading = lifecycle.read_tone(ABUSIVE, "fr", alone)
    out = lifecycle.on_case_opened(view(priority="urgent"), mail(ABUSIVE), NOW, alone,
                                   Triage("fr", "French", True, reading))
    assert [o.template for o in out] == ["customer/acknowledgment", "staff/new_case"]
    assert out[1].context["tone"]["senior_told"] is False
    assert "nobody else has been told" in out[1].context["tone"]["advice"]
    # Round robin gave the case to Sam: the default owner hears of it.
    out = lifecycle.on_case_opened(view(priority="urgent", owner="sam@example.com"), mail(ABUSIVE), NOW, alone,
                                   Triage("fr", "French", True, reading))
    assert [(o.template, o.to) for o in out][2:] == [("staff/urgent", "jane@example.com")]


@pytest.mark.parametrize("text,earlier_complaints,start", [
    (ANGRY, 0, "Slow down and stay calm"),
    (CALM, 1, "They have complained about this before"),
    ("I am disappointed, the lid cracked.", 0, "Acknowledge how they feel"),
    (CALM, 0, ""),
])
def test_the_advice_follows_the_practice_brief(text, earlier_complaints, start):
    reading = assess(text, "en", earlier_complaints=earlier_complaints)
    said = lifecycle.advice(reading, senior_told=False)
    assert said.startswith(start) and (said or not start) and "\n" not in said


def test_a_case_whose_language_has_no_templates_tells_the_owner():
    out = lifecycle.on_case_opened(view(language="it"), mail("Il bollitore è arrivato rotto."), NOW, POLICY,
                                   Triage("it", "Italian", False, None))
    note = out[1].context
    assert note["language"] == {"code": "it", "name": "Italian", "templates": False}
    assert note["tone"] is None and note["priority"] == "normal"


def test_a_later_angry_message_makes_the_case_urgent_and_an_owed_answer_sooner():
    case = view()
    change = transitions.triaged(case, "urgent", NOW + timedelta(hours=1), POLICY)
    assert change.fields == {"priority": "urgent", "first_response_due_at": NOW + timedelta(hours=3)}
    assert change.cancel == ("first_response",) and [(t.kind, t.due_at) for t in change.timers] == [
        ("first_response", NOW + timedelta(hours=3))]
    # Already answered: only marked urgent. Already urgent, or still normal: nothing.
    answered = view(first_response_at=NOW + timedelta(minutes=30))
    assert transitions.triaged(answered, "urgent", NOW + timedelta(hours=1), POLICY).fields == {"priority": "urgent"}
    assert transitions.triaged(view(priority="urgent"), "urgent", NOW, POLICY) == transitions.CaseChange()
    assert transitions.triaged(case, "normal", NOW, POLICY) == transitions.CaseChange()
    # An owed answer due sooner than the urgent promise keeps its time.
    soon = view(first_response_due_at=NOW + timedelta(minutes=30))
    assert transitions.triaged(soon, "urgent", NOW, POLICY).timers == ()


def test_a_reopened_urgent_case_owes_its_answer_within_the_urgent_promise():
    change = transitions.reopen(view(priority="urgent", status="resolved"), "reopened_not_fixed", NOW, POLICY)
    assert change.fields["answer_due_at"] == NOW + timedelta(hours=2)
    change = transitions.reopen(view(status="resolved"), "reopened_not_fixed", NOW, POLICY)
    assert change.fields["answer_due_at"] == NOW + timedelta(hours=24)


# --- #language -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("line,code", [("#language de", "de"), ("#language ES", "es"), ("#Language  fr", "fr"),
                                       ("＃ｌａｎｇｕａｇｅ　ｉｔ", "it")])
def test_language_takes_an_iso_639_1_code(line, code):
    parsed = parse_reply(f"{line}\nHallo Maria")
    assert [(c.name, c.text) for c in parsed.commands] == [("language", code)] and parsed.body == "Hallo Maria"


@pytest.mark.parametrize("line,reason", [
    ("#language", "#language needs a language code, e.g. #language de"),
    ("#language german", "'german' is not an ISO 639-1 language code"),
    ("#language xx", "'xx' is not an ISO 639-1 language code"),
    ("#language deu", "'deu' is not an ISO 639-1 language code"),
    ("#language de-CH", "names a region too; write the language alone: 'de'"),
    ("#language de fr", "'de fr' is not an ISO 639-1 language code"),
])
def test_a_bad_language_names_the_line_and_why(line, reason):
    with pytest.raises(CommandError) as err:
        parse_reply(f"#note checked\n{line}\nHello")
    assert err.value.line_number == 2 and err.value.line == line and reason in err.value.reason


def test_language_sets_the_cases_language_and_later_emails_use_it():
    reply = mail("#language es\n#plan +2d Enviar una tetera nueva", sender="jane@example.com")
    outcome = plan.work_reply(view(language="de"), [], parse_reply(reply.text), reply, NOW, POLICY)
    assert outcome.error is None and outcome.language == "es"
    assert [e.template for e in outcome.emails] == ["customer/plan"]
    change = transitions.staff_reply(view(language="de"), outcome, NOW, None, POLICY)
    assert change.fields["language"] == "es"


def test_the_same_language_again_is_refused():
    reply = mail("#language de", sender="jane@example.com")
    outcome = plan.work_reply(view(language="de"), [], parse_reply(reply.text), reply, NOW, POLICY)
    assert outcome.error is not None and outcome.error.reason == "the case's language is already 'de'"
    assert [e.template for e in outcome.emails] == ["staff/command_error"]

"""automatic_reason(): which mail must never be answered, and why."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from aftercare.mail.automatic import AUTO_SUBJECT_PREFIXES, automatic_reason
from aftercare.inbound import DeliveryReport, InboundMail
from aftercare.mail.parse import parse

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
OWN = frozenset({"support@example.com", "aftercare@support.example.com"})
LOOP = "aftercare@support.example.com"


def reason_for(mail: InboundMail) -> str | None:
    return automatic_reason(mail, own_addresses=OWN, loop_marker=LOOP)


def corpus_mail(name: str) -> InboundMail:
    return parse((CORPUS / f"{name}.eml").read_bytes())


# corpus file -> exact reason (None: a person wrote it, answer it)
EXPECTED = {
    "own_loop": "X-Loop is ours: our own outgoing mail",
    "ooo_exchange": "autoresponder (X-Auto-Response-Suppress header)",
    "ooo_auto_submitted": "Auto-Submitted: auto-replied",
    "ooo_precedence_bulk": "Precedence: bulk",
    "ooo_german_abwesenheit": "autoresponder subject (Abwesenheitsnotiz:)",
    "mailing_list": "mailing list (List-ID header)",
    "noreply_sender": "machine sender (From no-reply)",
    "x_autoreply": "autoresponder (X-Autoreply header)",
    "return_path_empty": "empty Return-Path (null sender)",
    "bounce_postfix": "Auto-Submitted: auto-replied",
    "bounce_exchange": "Auto-Submitted: auto-replied",
    "bounce_gmail": "Auto-Submitted: auto-replied",
    "bounce_qmail_inline": "empty Return-Path (null sender)",
    "bounce_mailer_daemon_attached": "empty Return-Path (null sender)",
    # people
    "gmail_reply": None,
    "outlook_reply_cp1252": None,
    "outlook_html_only_cp1252": None,
    "apple_mail_reply": None,
    "iphone_reply": None,
    "thunderbird_reply": None,
    "french_reply": None,
    "german_outlook_reply": None,
    "russian_koi8r": None,
    "russian_utf8": None,
    "japanese_iso2022jp": None,
    "forwarded_rfc822": None,
    "pdf_attachment": None,
    "html_only": None,
    # hostile but not automatic: the forged Message-ID is the case logic's problem
    "hostile_forged_message_id": None,
    "hostile_jinja": None,
    "hostile_header_injection": None,
    "hostile_missing_headers": None,
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_reasons(name):
    assert reason_for(corpus_mail(name)) == EXPECTED[name]


def test_every_corpus_file_gets_an_answer_without_raising():
    for path in sorted(CORPUS.glob("*.eml")):
        reason = reason_for(parse(path.read_bytes()))
        assert reason is None or (isinstance(reason, str) and reason)


# -- one rule at a time, on a mail a person wrote --------------------------------

HUMAN = corpus_mail("gmail_reply")


def with_headers(**headers: str) -> InboundMail:
    merged = dict(HUMAN.headers)
    merged.update({k.replace("_", "-").lower(): v for k, v in headers.items()})
    return dataclasses.replace(HUMAN, headers=merged)


def test_human_baseline():
    assert reason_for(HUMAN) is None


@pytest.mark.parametrize(
    "value, expected",
    [
        ("auto-replied", "Auto-Submitted: auto-replied"),
        ("auto-generated", "Auto-Submitted: auto-generated"),
        ("auto-notified; owner-email=x@example.com", "Auto-Submitted: auto-notified; owner-email=x@example.com"),
        ("no", None),
        ("No (comment)", None),
    ],
)
def test_auto_submitted(value, expected):
    assert reason_for(with_headers(auto_submitted=value)) == expected


@pytest.mark.parametrize("value", ["bulk", "junk", "list", "auto_reply", "Bulk"])
def test_precedence_machine_values(value):
    assert reason_for(with_headers(precedence=value)) == f"Precedence: {value.lower()}"


@pytest.mark.parametrize("value", ["first-class", "normal", "urgent"])
def test_precedence_other_values(value):
    assert reason_for(with_headers(precedence=value)) is None


def test_list_headers():
    assert reason_for(with_headers(list_id="<x.lists.example.org>")) == "mailing list (List-ID header)"
    assert reason_for(with_headers(list_unsubscribe="<mailto:u@example.org>")) == (
        "mailing list (List-Unsubscribe header)"
    )


@pytest.mark.parametrize(
    "header, shown",
    [
        ("x_autoreply", "X-Autoreply"),
        ("x_autorespond", "X-Autorespond"),
        ("x_auto_response_suppress", "X-Auto-Response-Suppress"),
    ],
)
@pytest.mark.parametrize("value", ["yes", "", "All"])
def test_autoresponder_headers_any_value(header, shown, value):
    assert reason_for(with_headers(**{header: value})) == f"autoresponder ({shown} header)"


def test_empty_return_path():
    assert reason_for(dataclasses.replace(HUMAN, return_path="")) == "empty Return-Path (null sender)"
    assert reason_for(dataclasses.replace(HUMAN, return_path="jane.doe@gmail.example")) is None
    assert reason_for(dataclasses.replace(HUMAN, return_path=None)) is None


@pytest.mark.parametrize(
    "address",
    [
        "MAILER-DAEMON@mx.example.com",
        "postmaster@example.com",
        "no-reply@shop.example",
        "NoReply@shop.example",
        "do-not-reply@bank.example",
        "donotreply+campaign7@bank.example",
        "mailer-daemon",
    ],
)
def test_machine_senders(address):
    mail = dataclasses.replace(HUMAN, from_address=address.lower())
    assert reason_for(mail).startswith("machine sender (From ")


def test_machine_return_path():
    mail = dataclasses.replace(HUMAN, return_path="noreply@bounces.example")
    assert reason_for(mail) == "machine sender (Return-Path noreply)"


@pytest.mark.parametrize("address", ["reply@example.org", "noreplyjane@example.org", "postmaster.jane@example.org"])
def test_similar_but_human_senders(address):
    assert reason_for(dataclasses.replace(HUMAN, from_address=address)) is None


def test_delivery_report():
    report = DeliveryReport(("ack-1@support.example.com",), ("x@example.org",), "failed", "5.1.1", "")
    assert reason_for(dataclasses.replace(HUMAN, delivery_report=report)) == "delivery report (bounce)"
    mdn = with_headers(content_type="multipart/report; report-type=disposition-notification; boundary=x")
    assert reason_for(mdn) == "report (multipart/report)"


def test_own_mail():
    assert reason_for(with_headers(x_loop="aftercare@support.example.com")) == (
        "X-Loop is ours: our own outgoing mail"
    )
    assert reason_for(with_headers(x_loop="<AFTERCARE@support.example.com>")) == (
        "X-Loop is ours: our own outgoing mail"
    )
    assert reason_for(with_headers(x_loop="someone-else@example.org")) is None
    ours = dataclasses.replace(HUMAN, from_address="support@example.com")
    assert reason_for(ours) == "From is our own address support@example.com"
    assert automatic_reason(ours, own_addresses=["SUPPORT@example.com"], loop_marker=LOOP) is not None
    assert automatic_reason(ours, own_addresses=(), loop_marker=LOOP) is None


@pytest.mark.parametrize(
    "subject",
    [
        "Auto: Re: [Case #42] Kettle leaks",
        "Automatic reply: [Case #42] Kettle leaks",
        "automatic reply: [Case #42]",
        "Autoreply: [Case #42]",
        "Out of Office: [Case #42] Kettle leaks",
        "Out of Office AutoReply: [Case #42] Kettle leaks",
        "Abwesenheitsnotiz: AW: [Case #42] Wasserkocher",
        "Automatische Antwort: AW: [Case #42] Wasserkocher",
        "Réponse automatique : RE: [Case #42] Bouilloire",
        "Автоматический ответ: RE: [Case #42] Чайник",
        "自動応答: RE: [Case #42] 故障",
    ],
)
def test_autoresponder_subjects(subject):
    reason = reason_for(dataclasses.replace(HUMAN, subject=subject))
    assert reason is not None and reason.startswith("autoresponder subject (")


@pytest.mark.parametrize(
    "subject",
    [
        "Auto: Bremse defekt",  # German: "car: brakes broken" - a customer
        "Re: Automatic reply feature of your kettle app is broken",
        "Out of office hours support?",
        "Re: [Case #42] Kettle leaks",
        "",
    ],
)
def test_human_subjects(subject):
    assert reason_for(dataclasses.replace(HUMAN, subject=subject)) is None


def test_subject_prefix_list_is_small_and_documented():
    assert 5 <= len(AUTO_SUBJECT_PREFIXES) <= 12

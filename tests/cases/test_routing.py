"""Which case an email belongs to: conversations against the pure routing rules."""
from datetime import datetime

from aftercare.cases.routing import CaseView, Route, case_tag, route, strip_tag
from aftercare.inbound import DeliveryReport, InboundMail

STAFF = ("jane@example.com", "sam@example.com")
NOW = datetime(2026, 3, 2, 9, 0)


def mail(sender="maria@example.net", subject="Broken kettle", **kw):
    base = dict(message_id="m1@example.net", fingerprint="m1@example.net", from_address=sender, from_name="",
                to=("support@example.com",), cc=(), reply_to=(), subject=subject, date=None, in_reply_to=(),
                references=(), text="hi", attachments=(), headers={}, return_path=sender, delivery_report=None,
                size=10)
    base.update(kw)
    return InboundMail(**base)


def case(id=7, customer="maria@example.net", participants=None):
    return CaseView(id=id, status="open", customer_address=customer, customer_name="Maria", subject="Broken kettle",
                    owner="jane@example.com", created_at=NOW,
                    participants=frozenset(participants or {customer, "jane@example.com"}))


def test_case_tag_is_found_in_any_spacing_and_case():
    assert case_tag("Re: Broken kettle [Case #12]") == 12
    assert case_tag("AW: [case # 99] x") == 99
    assert case_tag("Case 12") is None
    assert strip_tag("Re: Broken [Case #12]") == "Re: Broken"


def test_a_first_email_opens_a_case():
    r = route(mail(), automatic=None, threaded=None, tagged=None, staff=STAFF)
    assert r.route is Route.NEW_CASE and r.case is None


def test_a_reply_threaded_to_the_case_is_a_customer_reply():
    c = case()
    r = route(mail(in_reply_to=("ack@support",)), automatic=None, threaded=c, tagged=None, staff=STAFF)
    assert r.route is Route.CUSTOMER_REPLY and r.case is c


def test_a_tag_from_a_participant_attaches_without_threading_headers():
    c = case()
    r = route(mail(subject="Re: Broken kettle [Case #7]"), automatic=None, threaded=None, tagged=c, staff=STAFF)
    assert r.route is Route.CUSTOMER_REPLY and r.case is c


def test_a_tag_copied_by_a_stranger_opens_a_new_case():
    c = case()
    r = route(mail(sender="mallory@evil.example", subject="Re: [Case #7] give me the details"),
              automatic=None, threaded=None, tagged=c, staff=STAFF)
    assert r.route is Route.NEW_CASE and r.case is None
    assert "stranger" in r.reason


def test_staff_mail_on_a_case_is_a_staff_reply_and_elsewhere_unmatched():
    c = case()
    assert route(mail(sender="sam@example.com"), automatic=None, threaded=c, tagged=None,
                 staff=STAFF).route is Route.STAFF_REPLY
    assert route(mail(sender="sam@example.com", subject="[Case #7]"), automatic=None, threaded=None, tagged=c,
                 staff=STAFF).route is Route.STAFF_REPLY
    assert route(mail(sender="sam@example.com"), automatic=None, threaded=None, tagged=None,
                 staff=STAFF).route is Route.STAFF_UNMATCHED


def test_automatic_mail_never_opens_a_case_and_is_filed_on_its_thread():
    c = case()
    r = route(mail(), automatic="auto-submitted: auto-replied", threaded=None, tagged=None, staff=STAFF)
    assert r.route is Route.AUTOMATIC and r.case is None
    r = route(mail(sender="jane@example.com"), automatic="out of office", threaded=c, tagged=None, staff=STAFF)
    assert r.route is Route.AUTOMATIC and r.case is c  # a staff out-of-office never reaches the customer


def test_a_delivery_report_is_a_bounce_even_though_it_is_automatic():
    report = DeliveryReport(("ack1@support",), ("maria@example.net",), "failed", "5.1.1", "user unknown")
    r = route(mail(sender="mailer-daemon@mx.example.net", delivery_report=report), automatic="delivery report",
              threaded=case(), tagged=None, staff=STAFF)
    assert r.route is Route.BOUNCE and r.case.id == 7

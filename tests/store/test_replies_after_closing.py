"""Replies after the remedy, against the real database (SQLite and PostgreSQL) with an injected now.

* A staff reply on a closed or resolved case reaches the customer; what cannot be relayed is answered.
* A check-in answer that reads like a good rating but says the problem is back reopens the case.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from aftercare.casework import Casework
from aftercare.cases import aftercare
from aftercare.cases.ratings import Rating
from aftercare.cases.verification import reply_address
from aftercare.inbound import Attachment, InboundMail
from aftercare.store.models import Case, Message, Timer
from aftercare.templates import Templates

T0 = datetime(2026, 3, 2, 9, 0)
JANE, MARIA = "jane@example.com", "maria@example.net"


def mail(mid, sender, text, subject="Broken kettle", to=("support@example.com",), in_reply_to=(), attachments=()):
    return InboundMail(message_id=mid, fingerprint=mid, from_address=sender, from_name="", to=to, cc=(),
                       reply_to=(), subject=subject, date=None, in_reply_to=in_reply_to, references=(), text=text,
                       attachments=attachments, headers={}, return_path=sender, delivery_report=None, size=10)


def out_rows(**where):
    q = Message.select().where(Message.direction == "out")
    for k, v in where.items():
        q = q.where(getattr(Message, k) == v)
    return list(q.order_by(Message.id))


def last(kind):
    return out_rows(kind=kind)[-1]


class Story:
    def __init__(self, cw):
        self.cw, self.n = cw, 0

    def customer(self, text, now, answering=None, sender=MARIA):
        self.n += 1
        return self.cw.handle_inbound(mail(f"m{self.n}@customer", sender, text,
                                           in_reply_to=(answering.message_id,) if answering else ()), now)

    def staff(self, case_id, text, now, answering, attachments=()):
        self.n += 1
        to = reply_address("support@example.com", self.cw.secret(), case_id, JANE)
        out = self.cw.handle_inbound(mail(f"s{self.n}@staff", JANE, text, subject=f"Re: x [Case #{case_id}]",
                                          to=(to,), in_reply_to=(answering.message_id,), attachments=attachments),
                                     now)
        assert (out.route, out.case_id) == ("staff_reply", case_id)
        return out


@pytest.fixture
def story(db, make_config):
    return Story(Casework(make_config(), Templates()))


def rated_and_closed(story):
    """Complaint, #resolve, follow-up, check-in, a 4: the case is closed."""
    case_id = story.customer("My kettle arrived broken.", T0).case_id
    story.staff(case_id, "#resolve\nA new kettle is with you, Maria.", T0 + timedelta(hours=1),
                answering=last("notification"))
    assert story.cw.fire_due_timers(T0 + timedelta(days=3)) == 1  # the follow-up
    assert story.cw.fire_due_timers(T0 + timedelta(days=8)) == 1  # the check-in
    story.customer("4 - all good now, thanks.", T0 + timedelta(days=8, hours=1), answering=last("checkin"))
    case = Case.get_by_id(case_id)
    assert (case.status, case.rating_score) == ("closed", 4)
    return case_id


def test_the_owner_answers_a_customer_who_writes_again_after_the_case_closed(story):
    case_id = rated_and_closed(story)
    now = T0 + timedelta(days=9)
    r = story.customer("Where do I send the old kettle?", now, answering=last("rating_thanks"))
    assert (r.route, r.case_id) == ("customer_reply", case_id)
    forward = last("forward")
    assert forward.recipient == JANE and "Where do I send the old kettle?" in forward.text
    assert Case.get_by_id(case_id).status == "closed"  # a question is no "not fixed"

    before = len(out_rows())
    story.staff(case_id, "Please keep it or recycle it, Maria: no need to send it back.", now + timedelta(hours=1),
                answering=forward)
    new = out_rows()[before:]
    assert [(m.kind, m.recipient) for m in new] == [("relay", MARIA)]  # everything went: no notice
    assert "Please keep it or recycle it, Maria: no need to send it back." in new[0].text
    assert new[0].status == "pending" and not new[0].automated
    case = Case.get_by_id(case_id)
    assert case.status == "closed" and case.rating_score == 4  # relaying changed nothing on the case
    assert not Timer.select().where((Timer.case == case_id) & (Timer.state == "waiting")).exists()


def test_words_on_a_resolved_case_are_relayed_and_leave_the_aftercare_planned(story):
    case_id = story.customer("My kettle arrived broken.", T0).case_id
    story.staff(case_id, "#resolve", T0, answering=last("notification"))
    story.staff(case_id, "One more thing: the warranty starts again today.", T0 + timedelta(hours=2),
                answering=last("notification"))
    assert last("relay").recipient == MARIA and "warranty starts again" in last("relay").text
    assert Case.get_by_id(case_id).status == "resolved"
    waiting = {t.kind for t in Timer.select().where((Timer.case == case_id) & (Timer.state == "waiting"))}
    assert waiting == {"followup", "checkin"}


def test_a_reply_on_a_case_without_a_customer_address_is_answered_not_dropped(story):
    case_id = story.cw.handle_inbound(mail("anon@x", None, "My kettle arrived broken."), T0).case_id
    assert Case.get_by_id(case_id).customer_address == ""
    before = len(out_rows())
    story.staff(case_id, "#plan +2d Send a new kettle\nDear customer, a new kettle is coming.", T0,
                answering=last("notification"))
    new = out_rows()[before:]
    assert [(m.kind, m.recipient) for m in new] == [("not_relayed", JANE)]
    notice = new[0]
    assert notice.subject.startswith(f"Not sent to the customer: your reply on Case #{case_id}")
    assert "Your message was not sent:" in notice.text and "The plan in writing was not sent:" in notice.text
    assert "the case has no email address for the customer" in notice.text
    assert "Dear customer, a new kettle is coming." in notice.text  # their words, to send another way
    assert "Your commands were applied (#plan +2d Send a new kettle)." in notice.text
    assert Case.get_by_id(case_id).steps.count() == 1  # the command itself was applied


def _file(name, data, ctype="application/pdf"):
    import hashlib
    return Attachment(name, ctype, len(data), sha256=hashlib.sha256(data).hexdigest(), data=data)


def test_a_file_goes_with_the_words_a_program_stays_behind_and_each_file_is_stored_once(story):
    import email
    import email.policy

    from aftercare.store import files
    from aftercare.store.models import AttachmentFile

    case_id = story.customer("My kettle arrived broken.", T0).case_id
    before = len(out_rows())
    label = _file("label.pdf", b"%PDF-1.4 label " * 500)
    tool = _file("KettleFix.exe", b"MZ\x90\x00" * 100, "application/x-msdownload")
    story.staff(case_id, "Here is the return label.", T0, answering=last("notification"), attachments=(label, tool))
    new = out_rows()[before:]
    assert [(m.kind, m.recipient) for m in new] == [("relay", MARIA), ("not_relayed", JANE)]
    assert "This attachment was not sent (KettleFix.exe)" in new[1].text and "programs, scripts" in new[1].text
    assert new[1].subject.startswith("Not sent to the customer: part of your reply")
    # The stored row names the file; the bytes on the wire are the file's.
    assert len(new[0].raw) < len(label.data) and files.carries_files(new[0].raw)
    sent = email.message_from_bytes(files.expand(new[0].raw.encode()), policy=email.policy.default)
    [part] = list(sent.iter_attachments())
    assert (part.get_filename(), part.get_content_type(), part.get_content()) == ("label.pdf", "application/pdf",
                                                                                  label.data)
    # The same label sent again, on the same case: the bytes are stored once.
    story.staff(case_id, "Here it is again.", T0, answering=last("notification"), attachments=(label,))
    assert AttachmentFile.select().where(AttachmentFile.sha256 == label.sha256).count() == 1
    assert [r["filename"] for r in out_rows(kind="relay")[-1].attachments] == ["label.pdf"]


def test_an_internal_reply_gets_no_answer(story):
    case_id = story.customer("My kettle arrived broken.", T0).case_id
    before = len(out_rows())
    story.staff(case_id, "#internal\nCourier lost it.", T0, answering=last("notification"),
                attachments=(Attachment("scan.pdf", "application/pdf", 30_000),))
    assert out_rows()[before:] == []


def checkin_sent(story):
    case_id = story.customer("My kettle arrived broken.", T0).case_id
    story.staff(case_id, "#resolve\nA new kettle is with you, Maria.", T0 + timedelta(hours=1),
                answering=last("notification"))
    story.cw.fire_due_timers(T0 + timedelta(days=3))
    story.cw.fire_due_timers(T0 + timedelta(days=8))
    assert Case.get_by_id(case_id).checkin_sent_at is not None
    return case_id


@pytest.mark.parametrize("parser", ["today's", "one that reads it as 5"])
def test_a_checkin_answer_that_reads_like_a_5_but_says_it_broke_again_reopens(story, monkeypatch, parser):
    if parser != "today's":
        monkeypatch.setattr(aftercare, "parse_rating", lambda text, words: Rating(5, text[2:]))
    case_id = checkin_sent(story)
    now = T0 + timedelta(days=8, hours=2)
    r = story.customer("5 minutes after the new kettle arrived it broke again. Please call me.", now,
                       answering=last("checkin"))
    assert (r.route, r.case_id) == ("customer_reply", case_id)
    case = Case.get_by_id(case_id)
    assert (case.status, case.reopened_count, case.rating_score, case.closed_at) == ("open", 1, None, None)
    answer = Message.get((Message.case == case_id) & (Message.direction == "in")
                         & (Message.message_id == f"m{story.n}@customer"))
    assert answer.kind == "customer"  # recorded as what it is, not as a rating
    forward = last("forward")
    assert forward.recipient == JANE and "open again" in forward.text and "broke again" in forward.text
    assert out_rows(kind="rating_thanks") == [] and out_rows(kind="rating_notice") == []
    assert not Timer.select().where((Timer.case == case_id) & (Timer.state == "waiting")
                                    & Timer.kind.in_(list(aftercare.AFTERCARE_TIMERS))).exists()


def test_a_low_rating_that_says_it_broke_again_still_takes_the_low_rating_path(story):
    case_id = checkin_sent(story)
    story.customer("1\nIt broke again after two days.", T0 + timedelta(days=9), answering=last("checkin"))
    case = Case.get_by_id(case_id)
    assert (case.status, case.rating_score) == ("open", 1)
    assert [m.recipient for m in out_rows(kind="rating_low")] == [MARIA]
    assert sorted(m.recipient for m in out_rows(kind="low_rating")) == [JANE]

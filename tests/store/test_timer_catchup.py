"""Catching up after an outage, against the real database (SQLite and PostgreSQL) with an injected now.

The daemon was down for a week: every timer of that week falls due in the first pass. Staff get one
reminder email and one escalation email each for the pass, not one per step; a customer gets the
follow-up now and the check-in the configured gap later, not both in the same minute; and a pass is all
or nothing, so dying in the middle of one loses and repeats nothing.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from email import message_from_bytes, policy

import pytest

from aftercare.casework import Casework
from aftercare.cases.verification import reply_address
from aftercare.config import load_config
from aftercare.inbound import InboundMail
from aftercare.store.models import Case, Message, PlanStep, Timer
from aftercare.templates import Templates

T0 = datetime(2026, 3, 2, 9, 0)
JANE, SAM, BOSS, CHIEF = "jane@example.com", "sam@example.com", "boss@example.com", "chief@example.com"

CONFIG = """
[mailbox]
host = "127.0.0.1"
username = "support"
password = "pw"
[smtp]
host = "127.0.0.1"
from_address = "Acme Support <support@example.com>"
[staff]
addresses = ["Jane Doe <jane@example.com>", "Sam Smith <sam@example.com>", "Bo Boss <boss@example.com>"]
escalation = ["boss@example.com", "chief@example.com"]
[schedule]
followup_after = "2d"
checkin_after = "7d"
[database]
url = "{url}"
"""


@pytest.fixture
def cw(db, tmp_path, database_url):
    p = tmp_path / "catchup.toml"
    p.write_text(CONFIG.format(url=database_url))
    return Casework(load_config(p), Templates())


def mail(mid, sender, text, subject="Broken kettle", to=("support@example.com",), in_reply_to=()):
    return InboundMail(message_id=mid, fingerprint=mid, from_address=sender, from_name="", to=to, cc=(),
                       reply_to=(), subject=subject, date=None, in_reply_to=in_reply_to, references=(), text=text,
                       attachments=(), headers={}, return_path=sender, delivery_report=None, size=10)


def open_case(cw, n, now=T0):
    out = cw.handle_inbound(mail(f"c{n}@customer", f"customer{n}@example.net", f"Complaint {n}",
                                 subject=f"Problem {n}"), now)
    assert out.route == "new_case"
    return out.case_id


def staff_reply(cw, case_id, text, now, sender=None, mid=None):
    sender = sender or Case.get_by_id(case_id).owner
    to = reply_address("support@example.com", cw.secret(), case_id, sender)
    out = cw.handle_inbound(mail(mid or f"s{case_id}.{now.timestamp()}@staff", sender, text,
                                 subject=f"Re: Problem [Case #{case_id}]", to=(to,)), now)
    assert out.route == "staff_reply", out
    return out


def sent_in_pass(since_id):
    return list(Message.select().where((Message.direction == "out") & (Message.id > since_id)).order_by(Message.id))


def last_id():
    row = Message.select(Message.id).order_by(Message.id.desc()).first()
    return row.id if row else 0


def headers(row):
    return message_from_bytes(row.raw.encode(), policy=policy.default)


def test_twenty_overdue_steps_of_one_owner_come_as_one_email_and_escalations_one_per_address(cw):
    # Five cases of Jane's with four steps each, one case of Sam's with one step; all agreed on day 0.
    jane_cases = [open_case(cw, n) for n in range(1, 6)]
    sam_case = open_case(cw, 6)
    Case.update(owner=SAM).where(Case.id == sam_case).execute()
    for case_id in jane_cases:
        staff_reply(cw, case_id, "\n".join(f"#plan +1d Step {k} of case {case_id}" for k in range(1, 5))
                    + "\nDear customer, here is our plan.", T0 + timedelta(minutes=5))
    staff_reply(cw, sam_case, "#plan +1d Ring the courier\nDear customer, I will ring them.",
                T0 + timedelta(minutes=5))
    assert PlanStep.select().count() == 21
    before = last_id()

    # The daemon was down for a week: every reminder, overdue notice and escalation is due in the first pass.
    now = T0 + timedelta(days=8)
    fired = cw.fire_due_timers(now)
    assert fired == 21 * 3  # reminder (late: gives way), overdue notice and escalation of every step
    assert Timer.select().where(Timer.state == "waiting").count() == 0
    emails = sent_in_pass(before)
    assert sorted((m.kind, m.recipient) for m in emails) == [
        ("escalation", SAM),  # Sam's one escalation: the ordinary email, as before
        ("escalation_digest", BOSS), ("escalation_digest", CHIEF), ("escalation_digest", JANE),
        ("reminder", SAM),  # Sam's one overdue step: the ordinary reminder, as before
        ("reminder_digest", JANE),
    ]
    by = {(m.kind, m.recipient): m for m in emails}

    # Jane's one reminder email lists all twenty steps, with each case's tag, customer, step and date.
    digest = by["reminder_digest", JANE]
    assert digest.case_id is None and "[Case #" not in digest.subject  # a reply to it names no case
    assert digest.subject.startswith("20 plan steps need you, 20 overdue (5 cases)")
    for case_id in jane_cases:
        for k in range(1, 5):
            assert f"Step {k}: Step {k} of case {case_id}" in digest.text
        assert digest.text.count(f"[Case #{case_id}] customer{case_id}@example.net: Problem {case_id}") == 4
    assert "OVERDUE, promised by Tue 03 Mar 2026, 09:05 UTC" in digest.text
    assert "Sam" not in digest.text and f"Case #{sam_case}]" not in digest.text

    # Each escalation address gets one email listing all 21 escalations; Jane gets hers (20) as the owner.
    for address, count in ((BOSS, 21), (CHIEF, 21), (JANE, 20)):
        esc = by["escalation_digest", address]
        assert esc.text.count("overdue:") == count and esc.subject.startswith(f"Escalation: {count} promises")
    assert f"[Case #{sam_case}]" in by["escalation_digest", BOSS].text
    # The chief is no staff address: no reply address to act on; the boss has one per case.
    assert "To act on it" not in by["escalation_digest", CHIEF].text
    assert by["escalation_digest", BOSS].text.count("To act on it, write to support+c") == 21

    # Sam's single reminder is exactly today's email: his case's tag, its staff thread, his reply token.
    single = by["reminder", SAM]
    assert single.case_id == sam_case
    assert single.subject == f"Overdue: step 1 on Case #{sam_case}: Ring the courier [Case #{sam_case}]"
    h = headers(single)
    root = Message.get((Message.case == sam_case) & (Message.kind == "notification"))
    assert h["In-Reply-To"] == f"<{root.message_id}>"
    assert h["Reply-To"] == reply_address("support@example.com", cw.secret(), sam_case, SAM)

    # Nothing more on the next pass.
    assert cw.fire_due_timers(now + timedelta(seconds=1)) == 0 and sent_in_pass(before) == emails


def test_a_digest_entry_is_actionable_at_its_reply_address(cw):
    cases = [open_case(cw, n) for n in (1, 2)]
    for case_id in cases:
        staff_reply(cw, case_id, "#plan +1d Send the part\n#internal", T0 + timedelta(minutes=1))
    before = last_id()
    cw.fire_due_timers(T0 + timedelta(days=1, hours=1))
    (digest,) = [m for m in sent_in_pass(before) if m.kind == "reminder_digest"]
    address = reply_address("support@example.com", cw.secret(), cases[1], JANE)
    assert address in digest.text
    # Jane writes a new email (no threading at all) to the address under the second case.
    out = cw.handle_inbound(mail("fresh@staff", JANE, "#done 1\nThe part is with you.", subject="done",
                                 to=(address,)), T0 + timedelta(days=1, hours=2))
    assert (out.route, out.case_id) == ("staff_reply", cases[1])
    assert PlanStep.get(PlanStep.case == cases[1]).done_at is not None
    assert PlanStep.get(PlanStep.case == cases[0]).done_at is None


def test_a_followup_and_checkin_overdue_by_a_week_go_out_the_configured_gap_apart(cw):
    case_id = open_case(cw, 1)
    staff_reply(cw, case_id, "#resolve\nThe new kettle is with you.", T0 + timedelta(hours=1))
    resolved_at = T0 + timedelta(hours=1)
    # Down for a week past the check-in's date: both are due in the first pass after the restart.
    now = resolved_at + timedelta(days=7) + timedelta(days=7)
    assert Timer.select().where((Timer.state == "waiting") & (Timer.due_at <= now)).count() == 2
    before = last_id()
    assert cw.fire_due_timers(now) == 1  # only the follow-up: the check-in was moved within the pass
    assert [m.kind for m in sent_in_pass(before)] == ["followup"]
    checkin = Timer.get((Timer.case == case_id) & (Timer.kind == "checkin"))
    gap = timedelta(days=7) - timedelta(days=2)
    assert checkin.state == "waiting" and checkin.due_at == now + gap
    assert Case.get_by_id(case_id).checkin_sent_at is None

    assert cw.fire_due_timers(now + gap - timedelta(seconds=1)) == 0
    assert cw.fire_due_timers(now + gap) == 1
    assert [m.kind for m in sent_in_pass(before)] == ["followup", "checkin"]
    assert Case.get_by_id(case_id).checkin_sent_at == now + gap


def test_a_checkin_already_sent_on_time_is_left_alone_by_a_late_followup(cw):
    # Only the follow-up was missed (say its timer was held up): the check-in, due later, is not moved
    # when it is already at least the gap behind.
    case_id = open_case(cw, 1)
    staff_reply(cw, case_id, "#resolve", T0)
    followup_due = T0 + timedelta(days=2)
    assert cw.fire_due_timers(followup_due) == 1
    checkin = Timer.get((Timer.case == case_id) & (Timer.kind == "checkin"))
    assert checkin.due_at == T0 + timedelta(days=7)  # exactly the gap behind: unchanged


def test_a_pass_that_dies_midway_stores_nothing_and_the_next_pass_does_it_all_once(cw, monkeypatch):
    cases = [open_case(cw, n) for n in range(1, 4)]
    for case_id in cases:
        staff_reply(cw, case_id, "#plan +1d Send the part\n#plan +1d Refund\n#internal", T0 + timedelta(minutes=1))
    now = T0 + timedelta(days=3)
    due = Timer.select().where((Timer.state == "waiting") & (Timer.due_at <= now)).count()
    before = last_id()
    real = Casework.enqueue
    calls = []

    def dies_on_the_second_email(self, out, case, at):
        calls.append(out.kind)
        if len(calls) == 2:
            raise RuntimeError("killed mid-pass")
        return real(self, out, case, at)

    monkeypatch.setattr(Casework, "enqueue", dies_on_the_second_email)
    with pytest.raises(RuntimeError):
        cw.fire_due_timers(now)
    assert calls and sent_in_pass(before) == []  # the first email of the pass was rolled back with it
    assert Timer.select().where((Timer.state == "waiting") & (Timer.due_at <= now)).count() == due
    monkeypatch.setattr(Casework, "enqueue", real)
    assert cw.fire_due_timers(now) == due
    kinds = sorted(m.kind for m in sent_in_pass(before))
    assert kinds == ["escalation_digest", "escalation_digest", "escalation_digest", "reminder_digest"]
    assert cw.fire_due_timers(now) == 0 and len(sent_in_pass(before)) == 4

"""One timer pass, one email per person: the pure gathering of reminders and escalations into digests."""
from dataclasses import replace
from datetime import datetime, timedelta

from aftercare.cases import plan, reminders
from aftercare.cases.lifecycle import Policy
from aftercare.cases.plan import StepView, on_timer
from aftercare.cases.reminders import Decided, gather
from aftercare.cases.routing import CaseView

NOW = datetime(2026, 3, 9, 9, 0)
JANE, SAM, BOSS = "jane@example.com", "sam@example.com", "boss@example.com"
POLICY = Policy(first_response_due=timedelta(hours=24), support_name="Acme Support",
                support_address="support@example.com",
                staff_names={JANE: "Jane Doe", SAM: "Sam Smith", BOSS: "Bo Boss"}, default_owner=JANE,
                staff_addresses=(JANE, SAM, BOSS), escalation=(BOSS,))


def case(n, owner=JANE, **kw):
    base = dict(id=n, status="open", customer_address=f"c{n}@example.net", customer_name=f"Customer {n}",
                subject=f"Problem {n}", owner=owner, created_at=NOW - timedelta(days=10),
                first_response_due_at=NOW - timedelta(days=9))
    base.update(kw)
    return CaseView(**base)


def step(number, days_ago):
    return StepView(number, f"Step {number} text", NOW - timedelta(days=days_ago))


def fire(kind, c, s=None):
    return [Decided(c.id, e) for e in on_timer(kind, c, s, [s] if s else [], NOW, POLICY)]


def test_one_reminder_to_a_person_is_kept_exactly_as_it_was():
    decided = fire("step_overdue", case(1), step(1, 1))
    assert gather(decided, NOW, POLICY) == decided  # the same email, with its case: same template, same thread


def test_several_reminders_to_one_owner_become_one_digest_listing_each_case_and_step():
    decided = (fire("step_overdue", case(1), step(1, 2)) + fire("step_overdue", case(2), step(1, 5))
               + fire("step_overdue", case(1), step(2, 1)))
    (only,) = gather(decided, NOW, POLICY, reply_address=lambda case_id, to: f"r{case_id}.{to}")
    assert only.case_id is None  # about several cases: not threaded into any one
    email = only.email
    assert (email.kind, email.template, email.to, email.thread) == (
        "reminder_digest", "staff/reminder_digest", JANE, "none")
    assert email.auto_submitted == "auto-generated" and email.to_name == "Jane Doe"
    items = email.context["items"]
    # Earliest due first, each with its case, customer, subject, step and date, and where to act on it.
    assert [(i["case"]["ref"], i["step"]["number"], i["due_at"]) for i in items] == [
        ("Case #2", 1, NOW - timedelta(days=5)), ("Case #1", 1, NOW - timedelta(days=2)),
        ("Case #1", 2, NOW - timedelta(days=1))]
    assert items[0]["customer"] == {"name": "Customer 2", "address": "c2@example.net"}
    assert items[0]["case"]["subject"] == "Problem 2" and items[0]["step"]["text"] == "Step 1 text"
    assert [i["reply_to"] for i in items] == [f"r2.{JANE}", f"r1.{JANE}", f"r1.{JANE}"]
    assert email.context["cases"] == 2 and email.context["overdue"] == 3
    assert email.context["recipient"] == {"name": "Jane Doe", "first_name": "Jane", "address": JANE}


def test_each_owner_gets_their_own_reminders():
    decided = (fire("step_overdue", case(1), step(1, 1)) + fire("step_overdue", case(2, owner=SAM), step(1, 1))
               + fire("step_overdue", case(3), step(1, 1)))
    out = gather(decided, NOW, POLICY)
    assert [(d.case_id, d.email.kind, d.email.to) for d in out] == [
        (None, "reminder_digest", JANE), (2, "reminder", SAM)]
    assert out[1] == decided[1]
    assert [i["case"]["id"] for i in out[0].email.context["items"]] == [1, 3]


def test_escalations_go_one_per_address_and_reminders_separately():
    # Twenty overdue steps of Jane's on five cases, each also escalated, and one case of Sam's.
    decided = []
    for n in range(1, 6):
        for k in range(1, 5):
            s = step(k, 2)
            decided += fire("step_overdue", case(n), s) + fire("step_escalation", case(n), s)
    decided += fire("first_response", case(6, owner=SAM))
    assert len(decided) == 20 + 40 + 2
    out = gather(decided, NOW, POLICY)
    assert sorted((d.email.kind, d.email.to) for d in out) == [
        ("escalation", SAM), ("escalation_digest", BOSS), ("escalation_digest", JANE), ("reminder_digest", JANE)]
    by = {(d.email.kind, d.email.to): d for d in out}
    assert len(by["reminder_digest", JANE].email.context["items"]) == 20
    assert len(by["escalation_digest", JANE].email.context["items"]) == 20
    boss = by["escalation_digest", BOSS].email.context["items"]
    assert len(boss) == 21 and boss[0]["reason"] == "first_response" and boss[0]["owner"]["address"] == SAM
    assert by["escalation", SAM].case_id == 6  # Sam's one escalation is the ordinary email on his case


def test_a_due_soon_reminder_is_listed_as_due_soon():
    soon = StepView(1, "Call back", NOW + timedelta(hours=2))
    decided = fire("step_reminder", case(1), soon) + fire("step_overdue", case(2), step(1, 1))
    (d,) = gather(decided, NOW, POLICY)
    assert [(i["reason"], i["overdue"]) for i in d.email.context["items"]] == [
        ("step_overdue", True), ("step_reminder", False)]
    assert d.email.context["overdue"] == 1


def test_other_emails_pass_through_in_order():
    other = Decided(9, replace(fire("step_overdue", case(9), step(1, 1))[0].email, kind="followup",
                               template="customer/followup", to="c9@example.net"))
    decided = [other] + fire("step_overdue", case(1), step(1, 1)) + fire("step_overdue", case(2), step(1, 1))
    out = gather(decided, NOW, POLICY)
    assert out[0] == other and [d.email.kind for d in out] == ["followup", "reminder_digest"]


def test_nothing_decided_nothing_sent():
    assert gather([], NOW, POLICY) == []
    assert reminders.FAMILIES.keys() == {"reminder", "escalation"}
    assert plan.on_timer("step_overdue", case(1, status="closed"), step(1, 1), [], NOW, POLICY) == []

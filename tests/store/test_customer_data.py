"""A customer's data on SQLite and PostgreSQL: an export holds theirs and nobody else's, an erasure leaves no trace
of them and the report's figures as they were, and retention removes only what is closed and old enough."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from aftercare.casework import Casework
from aftercare.cases.verification import reply_address
from aftercare.report import build_report
from aftercare.store import customer_data as data
from aftercare.testing.report_figures import figures
from aftercare.store.models import ALL_MODELS, Case, Erasure, Message, PlanStep, RawMessage, Timer, database
from aftercare.templates import Templates
from test_casework import mail

NOW = datetime(2026, 3, 2, 9, 0)
MARIA, OTHER = "Maria@Example.net", "amaria@example.net"  # the second's address holds the first's
WORDS = "the kettle spat boiling water"


def _story(cw: Casework):
    """Maria complains and rates; Amaria, with a similar address, copies Maria's case tag into her own email;
    staff keep a #note on Maria's case; Paul Cc's Maria on his own complaint."""
    cw.handle_inbound(mail("m1@example.net", sender="maria@example.net", text=f"Hello, {WORDS}. Maria Rossi"), NOW)
    ack = Message.get((Message.case == 1) & (Message.kind == "acknowledgment"))
    cw.handle_inbound(mail("m2@example.net", sender="maria@example.net", text="And the lid is cracked too.",
                           in_reply_to=(ack.message_id,)), NOW + timedelta(minutes=5))
    cw.handle_inbound(mail("a1@example.net", sender=OTHER, from_name="Anna Maria", subject="Re: [Case #1] mine",
                           text="Amaria's own words about a toaster."), NOW + timedelta(minutes=6))
    note = Message.get((Message.case == 1) & (Message.kind == "notification"))
    staff = cw.handle_inbound(mail("s1@example.com", sender="jane@example.com", from_name="Jane Doe",
                                   subject=f"Re: {note.subject}", in_reply_to=(note.message_id,),
                                   to=(reply_address("support@example.com", cw.secret(), 1, "jane@example.com"),),
                                   text="#note she sounded upset on the phone\n#plan +1d Send a new kettle\n\n"
                                        "Sorry, Maria Rossi!"),
                              NOW + timedelta(minutes=10))
    assert (staff.route, staff.case_id) == ("staff_reply", 1)
    cw.handle_inbound(mail("p1@example.net", sender="paul@example.net", from_name="Paul", subject="Broken mixer",
                           to=("support@example.com", "maria@example.net"), text="Cc'ing my neighbour Maria Rossi."),
                      NOW + timedelta(minutes=12))
    cw.handle_inbound(mail("z1@example.net", sender="zoe@example.net", from_name="Zoe", subject="Kettle advice",
                           text="My friend Maria Rossi sent me. Maria says hi to Rossi the cat."),
                      NOW + timedelta(minutes=13))
    cw.handle_inbound(mail("m9@example.net", sender="maria@example.net", subject="Re: Broken mixer",
                           in_reply_to=("p1@example.net",), text="Mine was a kettle, Paul."),
                      NOW + timedelta(minutes=14))


def _everything() -> str:
    """Every row of every table, as text (bytes decoded loosely): what an erasure must leave clean."""
    out = []
    for model in ALL_MODELS:
        for row in model.select().dicts():
            for v in row.values():
                out.append(bytes(v).decode("latin-1") if isinstance(v, (bytes, memoryview)) else str(v))
    return "\n".join(out).lower()


def test_an_export_holds_exactly_the_customers_data_and_internal_notes_only_when_asked(db, make_config):
    cw = Casework(make_config(), Templates())
    _story(cw)
    doc = data.export(MARIA, NOW)
    text = json.dumps({k: v for k, v in doc.items() if k not in ("attachments_bytes", "originals")})
    paul_case = Message.get(Message.from_address == "paul@example.net").case_id
    assert Message.get(Message.message_id == "m9@example.net").case_id == paul_case  # she wrote on his case
    assert [(c["id"], c["role"]) for c in doc["cases"]] == [(1, "customer"), (paul_case, "participant")]
    mine = doc["cases"][0]
    assert mine["customer_name"] == "Maria Rossi" and mine["plan"][0]["text"] == "Send a new kettle"
    assert {m["kind"] for m in mine["messages"] if m["direction"] == "in"} == {"customer"}
    assert WORDS in text and "And the lid is cracked too." in text
    assert {m["kind"] for m in mine["messages"] if m["direction"] == "out"} >= {"acknowledgment", "plan"}
    assert all(m["to"] == ["maria@example.net"] or m["from"] == "maria@example.net" for m in mine["messages"])
    # Nobody else's: not Amaria's words (routed onto Maria's case by the copied tag), not staff mail, not Paul's.
    assert "toaster" not in text and OTHER not in text and "neighbour" not in text
    assert "jane@example.com" not in [m["from"] for c in doc["cases"] for m in c["messages"]]
    assert "internal_notes" not in mine and "sounded upset" not in text
    assert [m["text"] for m in doc["cases"][1]["messages"]] == ["Mine was a kettle, Paul."]  # hers alone
    assert "customer_name" not in doc["cases"][1]  # Paul's case is his: only her own message is hers
    internal = data.export(MARIA, NOW, include_internal=True)["cases"][0]["internal_notes"]
    assert [n["text"] for n in internal] == ["she sounded upset on the phone"]
    assert data.export("nobody@example.net", NOW)["cases"] == []


def test_an_erasure_leaves_no_trace_keeps_the_figures_and_a_new_email_opens_a_fresh_case(db, make_config):
    cw = Casework(make_config(), Templates())
    _story(cw)
    case = Case.get_by_id(1)
    case.rating_score, case.rating_comment, case.cause = 2, "Maria Rossi says: too slow", "shipping damage"
    case.save()
    before = build_report(now=NOW + timedelta(days=1))
    amaria_text = Message.get(Message.from_address == OTHER).text
    amaria_ack = Message.get((Message.recipient == OTHER) & (Message.kind == "acknowledgment"))
    old_ack = Message.get((Message.case == 1) & (Message.kind == "acknowledgment")).message_id

    # As the LMTP intake keeps them: the original of her complaint, and one of hers it could not process.
    first = Message.get(Message.message_id == "m1@example.net")
    RawMessage.create(message=first.id, fingerprint="m1@example.net", inbox="default", recipients=["support"],
                      received_at=NOW, data=f"From: Maria Rossi <maria@example.net>\r\n\r\n{WORDS}".encode(), size=9)
    RawMessage.create(message=None, fingerprint="q1", inbox="default", recipients=["support"], received_at=NOW,
                      data=b"From: MARIA@example.net\r\n\r\n\xff broken", size=9, quarantined="unreadable")
    RawMessage.create(message=None, fingerprint="q2", inbox="default", recipients=["support"], received_at=NOW,
                      data=b"From: amaria@example.net\r\n\r\nnot hers", size=9, quarantined="unreadable")

    plan = data.plan_erasure(MARIA)
    assert plan.cases == [1] and plan.pending  # the acknowledgment and plan emails are still unsent
    assert len(plan.raw_messages) == 2  # not Amaria's
    assert data.valid_address(" ") is None and data.valid_address("maria") is None  # never "every row"
    _, counts = data.erase(MARIA, NOW + timedelta(hours=1), "tester (CLI)")
    data.compact()
    assert not Message.select().where((Message.direction == "out") & Message.raw.is_null()
                                      & (Message.status == "pending")).exists()  # nothing unsendable left to send

    everything = _everything()
    for trace in ("maria@example.net", "maria rossi", WORDS, "cracked", "sounded upset", "send a new kettle",
                  "too slow", "m1@example.net", "mine was a kettle"):
        assert trace not in everything.replace(OTHER, ""), trace
    assert Message.get(Message.from_address == OTHER).text == amaria_text  # another's words stay
    assert Message.get_by_id(amaria_ack.id).raw == amaria_ack.raw  # her address holds Maria's: untouched
    assert [r.fingerprint for r in RawMessage.select()] == ["q2"]
    # Her full name goes wherever it is written; a single word that may be anyone's stays in others' words.
    assert Message.get(Message.message_id == "z1@example.net").text == \
        "My friend [erased] sent me. Maria says hi to Rossi the cat."
    paul = Message.get(Message.from_address == "paul@example.net")
    assert paul.to == ["support@example.com"] and "[erased]" in paul.text  # struck out of his
    erased = Case.get_by_id(1)
    assert erased.erased_at and erased.rating_score == 2 and erased.cause == "shipping damage"
    assert not Timer.select().where((Timer.case == 1) & (Timer.state == "waiting")).exists()
    assert PlanStep.get(PlanStep.case == 1).due_at  # the plan's times stay, its words go
    assert figures(build_report(now=NOW + timedelta(days=1))) == figures(before)
    [record] = Erasure.select()
    assert (record.actor, record.cases) == ("tester (CLI)", 1) and record.messages >= 5
    assert "maria" not in json.dumps(list(Erasure.select().dicts()), default=str).lower()
    # Run again: nothing left to erase.
    again = data.plan_erasure(MARIA)
    assert not again.cases and not again.messages

    # The same message delivered again is known; a new one, or a reply to an old email, opens a fresh case.
    assert cw.handle_inbound(mail("m1@example.net", sender="maria@example.net"), NOW + timedelta(hours=2)).duplicate
    fresh = cw.handle_inbound(mail("m3@example.net", sender="maria@example.net", text="Still broken.",
                                   in_reply_to=(old_ack,), subject="Re: [Case #1] My order"), NOW + timedelta(hours=3))
    assert fresh.route == "new_case" and fresh.case_id not in (1, 2, 3)


def test_retention_removes_only_what_is_closed_and_old_enough(db, make_config):
    cw = Casework(make_config(), Templates())
    for i, sender in enumerate(("old@example.net", "recent@example.net", "open@example.net")):
        cw.handle_inbound(mail(f"r{i}@example.net", sender=sender, text=f"words of {sender}"),
                          NOW - timedelta(days=500))
    with database.atomic():
        Case.update(status="closed", closed_at=NOW - timedelta(days=400)).where(Case.id == 1).execute()
        Case.update(status="closed", closed_at=NOW - timedelta(days=100)).where(Case.id == 2).execute()
        Message.update(status="sent").where(Message.direction == "out").execute()
        held = Message.get((Message.case == 1) & (Message.kind == "notification"))
        Message.update(status="held").where(Message.id == held.id).execute()
    removed = data.prune(NOW, timedelta(days=365), None, batch=1)  # batches of one: many short transactions
    assert removed["messages"] == 2 and removed["cases"] == 0  # case 1: the complaint and its acknowledgment
    assert Message.get_by_id(held.id).raw  # a held email may still be let go: it keeps its bytes
    texts = {m.case_id: m.text for m in Message.select().where(Message.direction == "in")}
    assert texts == {1: "", 2: "words of recent@example.net", 3: "words of open@example.net"}
    assert Message.select().where((Message.case == 1) & Message.raw.is_null(False)).count() == 1  # the held one
    assert Case.get_by_id(1).customer_address == "old@example.net"  # the row stays for the report
    assert data.prune(NOW, timedelta(days=365), None) == {"messages": 0, "raw_messages": 0, "attachments": 0,
                                                          "cases": 0}  # idempotent
    # The daemon's daily loop runs the same pass with [retention] as configured (message_bodies = "365d").
    from aftercare.retention import Retention
    config = make_config()
    assert config.retention.message_bodies == timedelta(days=365) and config.retention.closed_cases is None
    assert Retention(lambda: config, lambda: NOW + timedelta(days=300)).run_until_idle() == 3  # case 2 now
    assert Message.get((Message.case == 2) & (Message.direction == "in")).text == ""
    gone = data.prune(NOW, None, timedelta(days=200))
    assert gone["cases"] == 1 and [c.id for c in Case.select().order_by(Case.id)] == [2, 3]
    assert not Message.select().where(Message.case == 1).exists()

"""Hostile mail: every hostile message in tests/corpus plus ~60 made here, delivered to a running daemon.

Each one either opens a case, its text kept as inert data, or is quarantined with a reason. The daemon never
crashes; no outgoing email carries an injected header or recipient, or an evaluated template expression; a
message forging one of our Message-IDs does not thread into the other customer's case.
"""
from __future__ import annotations

import collections
import time
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses
from pathlib import Path

import pytest

from aftercare.mail.parse import parse
from aftercare.testing.daemonproc import DaemonProcess
from e2e_support import SUPPORT, complaint
from hostile_mail import EVALUATED, JINJA, VICTIM, Hostile, double_encoded, encoded_word_in_address, generated
from reliability_support import log_events, outbox_unfinished, parsed, plain_text, sql, wait_until

pytestmark = pytest.mark.reliability

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
SECRET = "ALICE-ORDER-4471-SECRET"
ALLOWED_HEADERS = {"from", "to", "subject", "date", "message-id", "in-reply-to", "references", "auto-submitted",
                   "x-auto-response-suppress", "x-loop", "x-aftercare-case", "reply-to", "mime-version",
                   "content-type", "content-transfer-encoding", "content-language"}


def header_names(raw: bytes) -> list[str]:
    head = raw.split(b"\r\n\r\n", 1)[0]
    return [line.split(b":", 1)[0].decode("ascii", "replace").strip().lower()
            for line in head.split(b"\r\n") if line and line[:1] not in (b" ", b"\t")]


def test_hostile_mail_opens_cases_as_inert_data_or_is_quarantined_and_injects_nothing(rstack):
    s = rstack
    db = s.tmp / "aftercare.db"
    # A customer whose case the forgers will try to get into.
    s.start()
    alice_raw, alice_mid = complaint(subject="Order 4471 never arrived", sender="Alice <alice@example.net>",
                                     body=f"My order {SECRET} never arrived.")
    s.deliver(alice_raw)
    ack = s.smtp.wait_for(lambda m: m.rcpt_tos == ["alice@example.net"], timeout=20)[0]
    ack_mid = parsed(ack.data)["Message-ID"].strip("<>")
    s.smtp.wait_for(lambda m: m.rcpt_tos == ["jane@example.com"], timeout=20)
    assert s.daemon.stop() == 0

    hostile = [Hostile(f.stem, f.read_bytes(), sender=parse(f.read_bytes()).from_address)
               for f in sorted(CORPUS.glob("hostile_*.eml"))]
    hostile += generated(ack_mid, alice_mid)
    assert len(hostile) >= 40
    # Deliver them all, then read back what the server will hand the daemon, to know each one's fingerprint.
    uids = {}
    with s.dovecot.client(*SUPPORT, timeout=120) as client:
        for h in hostile:
            response = client.append("INBOX", h.raw)
            uids[int(response.split(b"]", 1)[0].split()[2])] = h
        client.select_folder("INBOX", readonly=True)
        served = client.fetch(sorted(uids), ["BODY.PEEK[]"])
    fingerprints = {h.name: parse(served[uid][b"BODY[]"]).fingerprint for uid, h in uids.items()}
    assert len(set(fingerprints.values())) == len(hostile), "every hostile message is distinct"

    started = time.monotonic()
    s.daemon = DaemonProcess(s.config, s.tmp / "daemon.log").start()
    assert wait_until(lambda: s.folder("INBOX") == [], timeout=240, interval=0.5), s.daemon.tail()
    assert wait_until(lambda: outbox_unfinished(db) == 0, timeout=120)
    took = time.monotonic() - started
    time.sleep(1)
    assert s.daemon.proc.poll() is None, s.daemon.tail()
    assert not log_events(s.daemon, "worker crashed; restarting")
    assert not [l for l in s.daemon.log_lines() if l.get("raw")], "every log line is JSON"

    # Each one: a case of its own with its text as data, or quarantined with a reason.
    alice_case = next(c["id"] for c in s.cases() if c["customer"] == "alice@example.net")
    outcome = collections.Counter()
    for h in hostile:
        rows = sql(db, "select id, kind, case_id, note, subject, text from message where direction='in' "
                       "and fingerprint=?", (fingerprints[h.name],))
        assert len(rows) == 1, f"{h.name}: no record of it"
        row_id, kind, case_id, note, subject, text = rows[0]
        if kind == "quarantined":
            assert note.strip(), f"{h.name}: quarantined without a reason"
            outcome["quarantined"] += 1
            continue
        assert kind == "customer" and case_id is not None, (h.name, kind, case_id, note)
        first_in = sql(db, "select min(id) from message where case_id=? and direction='in'", (case_id,))[0][0]
        assert first_in == row_id, f"{h.name} did not open a case of its own (case {case_id})"
        assert case_id != alice_case
        outcome["cases"] += 1
        [(case_subject,)] = sql(db, 'select subject from "case" where id=?', (case_id,))
        assert "\r" not in case_subject and "\n" not in case_subject
        if h.subject_has:  # as an operator sees it
            assert h.subject_has in s.case_json(case_id)["subject"], (h.name, case_subject)
        if h.text_has:
            assert h.text_has in text, (h.name, text[:200])
    assert outcome["cases"] + outcome["quarantined"] == len(hostile)
    processed, quarantined = len(s.folder("Aftercare/Processed")), len(s.folder("Aftercare/Quarantine"))
    assert processed + quarantined == len(hostile) + 1 and quarantined == outcome["quarantined"]

    # Template syntax stayed text: in the cases, and in what the owner and the customers were sent.
    jinja_cases = [c for c in s.cases() if "{{ 7*7 }}" in c["subject"]]
    assert len(jinja_cases) >= 3  # corpus hostile_jinja has "{{ 7*7 }}"; ours carry the JX markers
    for c in jinja_cases:
        if JINJA in c["subject"]:
            subjects = [m.message["Subject"] for m in s.smtp.messages if f"[Case #{c['id']}]" in (m.message["Subject"] or "")]
            assert subjects and all(JINJA in subj for subj in subjects), subjects
    owner_bodies = "\n".join(plain_text(m.data) for m in s.smtp.messages if m.rcpt_tos == ["jane@example.com"])
    assert f"{JINJA}" in owner_bodies  # jinja_body and jinja_html_only, relayed verbatim to the owner

    # Nothing injected, nothing evaluated, nothing leaked, in any email that went out.
    for m in s.smtp.messages:
        names = header_names(m.data)
        assert set(names) <= ALLOWED_HEADERS, (set(names) - ALLOWED_HEADERS, m.message["Subject"])
        assert collections.Counter(names)["to"] == 1 and "bcc" not in names and "cc" not in names
        assert len(m.rcpt_tos) == 1 and VICTIM not in m.rcpt_tos
        head = BytesHeaderParser(policy=compat32).parsebytes(m.data)
        to = getaddresses([str(head["To"])])
        assert len(to) == 1, head["To"]
        subject = m.message["Subject"] or ""
        text = subject + "\n" + plain_text(m.data)
        for evaluated in EVALUATED:
            assert evaluated not in text, (evaluated, subject)
        if m.rcpt_tos != ["alice@example.net"] and m.rcpt_tos != ["jane@example.com"]:
            assert SECRET not in m.data.decode("utf-8", "replace"), m.rcpt_tos
    assert not any(VICTIM in r.lower() for m in s.smtp.messages for r in m.rcpt_tos)

    # The forgers: a case each, nothing of Alice's; Alice's case untouched.
    alice = s.case_json(alice_case)
    assert [m["kind"] for m in alice["messages"] if m["direction"] == "in"] == ["customer"]
    for h in (h for h in hostile if h.forged):
        [(case_id,)] = sql(db, "select case_id from message where fingerprint=?", (fingerprints[h.name],))
        assert case_id != alice_case
        got = s.smtp.for_recipient(h.sender)
        assert len(got) == 1 and f"[Case #{case_id}]" in got[0].message["Subject"]
        assert SECRET not in got[0].data.decode("utf-8", "replace")

    # Every customer with an address we could answer got exactly one acknowledgment.
    acked = collections.Counter(m.rcpt_tos[0].lower() for m in s.smtp.messages if m.rcpt_tos != ["jane@example.com"])
    unanswered = [(h.name, h.sender) for h in hostile if h.sender and acked[h.sender.lower()] != 1]
    assert not unanswered, unanswered
    assert set(acked.values()) == {1}, acked
    print(f"\nRELIABILITY hostile: {len(hostile)} hostile messages ({len(hostile) - len(generated_names(hostile))} "
          f"from tests/corpus, {len(generated_names(hostile))} made at test time, the biggest "
          f"{max(len(h.raw) for h in hostile) / 2**20:.0f} MiB): {outcome['cases']} opened a case, "
          f"{outcome['quarantined']} quarantined, daemon never crashed, {len(s.smtp.messages)} emails out with "
          f"0 injected headers and 0 evaluated expressions; all filed in {took:.1f} s")


def generated_names(hostile: list[Hostile]) -> list[str]:
    return [h.name for h in hostile if not h.name.startswith("hostile_")]




def test_encoded_words_that_decode_to_encoded_words_are_kept_literally_and_inject_nothing(rstack):
    """Regression (found by this suite, fixed in 3d2d40a): compose() handed text that parse() had decoded once to
    the literal '=?utf-8?Q?Hi=0D=0ABcc=3A_victim=40example=2Eorg?=' (a subject, a display name) to the
    stdlib header classes, which decoded it a second time into CR LF, so the acknowledgment and the owner's
    notification carried a 'Bcc: victim@example.org' header line (CPython without the CVE-2024-6923 fix)."""
    s = rstack
    s.start()
    messages = double_encoded()
    for h in messages:
        s.deliver(h.raw)
    assert wait_until(lambda: s.folder("INBOX") == [], timeout=60)
    for h in messages:
        got = s.smtp.wait_for(lambda m, a=h.sender: m.rcpt_tos == [a], timeout=20)
        assert len(got) == 1
    time.sleep(1)
    assert s.daemon.proc.poll() is None
    cases = {c["customer"]: c for c in s.cases()}
    subject_case = cases["h900@hostile.example"]
    assert subject_case["subject"] == messages[0].subject_has
    assert cases["h901@hostile.example"]["customer_name"] == messages[1].notes["name"]
    for m in s.smtp.messages:
        names = header_names(m.data)
        assert "bcc" not in names and set(names) <= ALLOWED_HEADERS, (names, m.data[:400])
    ack = s.smtp.for_recipient("h900@hostile.example")[0]
    # The stored case keeps the customer's text exactly; in our headers the encoded-word opener is
    # broken ("=?" -> "= ?") so that no reader, and no header class, decodes it a second time.
    shown = parsed(ack.data)["Subject"]
    assert "\r" not in shown and "\n" not in shown
    assert shown == f"Re: {messages[0].subject_has.replace('=?', '= ?')} [Case #{subject_case['id']}]"


ADDR_SPEC_INJECTION = (
    "daemon bug (header injection, left after 3d2d40a): compose() (daemon/mail/compose.py) passes the "
    "customer's addr-spec unchanged to Address(addr_spec=...) for the To header; the stdlib header parser "
    "decodes an RFC 2047 encoded word in the local part (it accepts them in atoms), so the From address "
    "'=?utf-8?q?x=0d=0abcc=3a_victim=40example=2eorg=0d=0ax-injected=3a_?=@hostile.example' (a valid "
    "dot-atom; parse() keeps it as the customer address) makes the acknowledgment's header read "
    "'To: Eve <x' / 'bcc: victim@example.org' / 'x-injected: @hostile.example>' on CPython without the "
    "CVE-2024-6923 fix (3.11.7 here); with the fix compose() raises and the complaint is quarantined instead. "
    "inert() covers Subject and display names only. Expected: the complaint opens a case and every email "
    "carries exactly the allowed headers with one To address (e.g. refuse or quote such local parts, or "
    "serialize the To header without re-parsing it).")



def test_an_encoded_word_in_the_address_injects_no_header(rstack):
    s = rstack
    s.start()
    h = encoded_word_in_address()
    s.deliver(h.raw)
    assert wait_until(lambda: s.folder("INBOX") == [], timeout=60)
    s.smtp.wait_for(lambda m: m.rcpt_tos == ["jane@example.com"], timeout=30)  # the owner hears of it anyway
    time.sleep(2)
    assert s.daemon.proc.poll() is None
    assert [c["customer"] for c in s.cases()] == [h.sender]  # the complaint is not lost
    assert s.smtp.messages
    for m in s.smtp.messages:
        names = header_names(m.data)
        assert set(names) <= ALLOWED_HEADERS and names.count("to") == 1, (names, m.data[:300])
        head = BytesHeaderParser(policy=compat32).parsebytes(m.data)
        assert len(getaddresses([str(head["To"])])) == 1 and len(m.rcpt_tos) == 1

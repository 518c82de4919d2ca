"""After the remedy: follow-up, check-in answered by a plain reply, extras: real servers, short durations."""
from __future__ import annotations

import json
import time

from e2e_support import complaint, parsed, reply_to

SHORT = 'followup_after = "2s"\ncheckin_after = "4s"'


def text_of(received) -> str:
    return parsed(received).get_body(("plain",)).get_content()


def subject(m) -> str:
    return m.message["Subject"] or ""


def resolve_a_case(s, sender="maria@example.net"):
    s.deliver(complaint(sender=f"Maria Rossi <{sender}>", subject=f"Broken kettle for {sender}")[0])
    note = parsed(s.smtp.wait_for(lambda m: "jane@example.com" in m.rcpt_tos and sender in text_of(m))[0])
    s.deliver(reply_to(note, "jane@example.com", "#resolve\r\nThe replacement is with you, Maria."))
    s.smtp.wait_for(lambda m: m.rcpt_tos == [sender] and ": resolved" in subject(m), timeout=15)
    return note


def test_resolving_sets_followup_and_checkin_in_motion_and_a_5_closes(stack):
    stack.start(schedule_extra=SHORT)
    resolve_a_case(stack)
    t0 = time.time()
    followup = stack.smtp.wait_for(lambda m: "is everything working now" in subject(m), timeout=15)[0]
    checkin = stack.smtp.wait_for(lambda m: "how did we do" in subject(m), timeout=15)[0]
    assert followup.received_at < checkin.received_at
    assert "reply with the number" in text_of(checkin) and "http" not in text_of(checkin)
    stack.deliver(reply_to(parsed(checkin), "Maria Rossi <maria@example.net>",
                           "5 - the new kettle works perfectly.\r\nThanks Jane!\r\n\r\n> How satisfied are you"))
    thanks = stack.smtp.wait_for(lambda m: m.rcpt_tos == ["maria@example.net"] and ": thank you" in subject(m),
                                 timeout=15)
    assert "kind words" in text_of(thanks[0])
    case = stack.case_json(1)
    assert case["status"] == "closed"
    assert case["rating"]["score"] == 5 and case["rating"]["comment"] == "the new kettle works perfectly.\nThanks Jane!"
    assert case["rating"]["at"]
    assert time.time() - t0 < 20
    # The manager's view of it.
    out = stack.cli("report", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["cases"]["total"] == 1 and report["cases"]["by_status"]["closed"] == 1
    assert report["satisfaction"]["average"] == 5 and report["satisfaction"]["distribution"]["5"] == 1
    html = stack.tmp / "report.html"
    out = stack.cli("report", "--html", str(html))
    assert out.returncode == 0 and "<svg" in html.read_text() and "https://" not in html.read_text()


def test_a_rating_of_1_reopens_asks_what_would_make_it_right_and_escalates(sqlite_stack):
    s = sqlite_stack
    s.start(schedule_extra=SHORT, staff_extra='escalation = ["boss@example.com"]')
    resolve_a_case(s)
    checkin = s.smtp.wait_for(lambda m: "how did we do" in subject(m), timeout=15)[0]
    s.deliver(reply_to(parsed(checkin), "maria@example.net", "1\r\nIt broke again after two days."))
    answer = s.smtp.wait_for(lambda m: "not got this right yet" in subject(m), timeout=15)[0]
    assert "What would make this right for you?" in text_of(answer)
    alerts = s.smtp.wait_for(lambda m: subject(m).startswith("Low rating (1/5)"), timeout=15)
    time.sleep(0.5)
    alerts = [m for m in s.smtp.messages if subject(m).startswith("Low rating (1/5)")]
    assert sorted(m.rcpt_tos[0] for m in alerts) == ["boss@example.com", "jane@example.com"]
    assert "It broke again after two days." in text_of(alerts[0])
    case = s.case_json(1)
    assert case["status"] == "open" and case["reopened_count"] == 1 and case["rating"]["score"] == 1


def test_a_reply_without_a_rating_is_an_ordinary_reply_and_silence_closes(sqlite_stack):
    s = sqlite_stack
    s.start(schedule_extra=SHORT, extra='[satisfaction]\nclose_after = "3s"')
    resolve_a_case(s)
    checkin = s.smtp.wait_for(lambda m: "how did we do" in subject(m), timeout=15)[0]
    s.deliver(reply_to(parsed(checkin), "maria@example.net", "Can I order spare lids too?"))
    s.smtp.wait_for(lambda m: m.rcpt_tos == ["jane@example.com"] and "spare lids" in text_of(m), timeout=15)
    assert s.case_json(1)["rating"] is None and s.case_json(1)["status"] == "resolved"
    deadline = time.monotonic() + 15
    while s.case_json(1)["status"] != "closed" and time.monotonic() < deadline:
        time.sleep(0.5)
    assert s.case_json(1)["status"] == "closed"


def test_a_followup_answer_saying_it_still_does_not_work_reopens(sqlite_stack):
    s = sqlite_stack
    s.start(schedule_extra='followup_after = "1s"\ncheckin_after = "30s"')
    resolve_a_case(s)
    followup = s.smtp.wait_for(lambda m: "is everything working now" in subject(m), timeout=15)[0]
    s.deliver(reply_to(parsed(followup), "maria@example.net", "No, it still doesn't work. The light stays off."))
    forward = s.smtp.wait_for(lambda m: m.rcpt_tos == ["jane@example.com"] and "light stays off" in text_of(m),
                              timeout=15)
    assert "open again" in text_of(forward[0])
    case = s.case_json(1)
    assert case["status"] == "open" and case["reopened_count"] == 1
    assert not [t for t in case["timers"] if t["kind"] == "checkin" and t["state"] == "waiting"]


def test_a_pool_of_two_codes_across_three_cases_gives_two_codes_and_one_warning(sqlite_stack, tmp_path):
    s = sqlite_stack
    codes = tmp_path / "codes.txt"
    codes.write_text("# spring campaign\nSORRY-AAAA\nSORRY-BBBB\n")
    s.start(schedule_extra='followup_after = "1s"\ncheckin_after = "2s"',
            extra=f'[extras.discount]\nenabled = true\nmode = "pool"\ncodes_file = "{codes}"\nvalue = "15%"\n')
    for i in range(3):
        resolve_a_case(s, sender=f"c{i}@example.net")
    checkins = []
    deadline = time.monotonic() + 20
    while len(checkins) < 3 and time.monotonic() < deadline:
        checkins = [m for m in s.smtp.messages if "how did we do" in subject(m)]
        time.sleep(0.2)
    assert len(checkins) == 3
    given = sorted(code for m in checkins for code in ("SORRY-AAAA", "SORRY-BBBB") if code in text_of(m))
    assert given == ["SORRY-AAAA", "SORRY-BBBB"]
    assert sum("15% off" in text_of(m) for m in checkins) == 2
    warnings = s.smtp.wait_for(lambda m: subject(m).startswith("No discount codes left"), timeout=10)
    time.sleep(0.5)
    assert len([m for m in s.smtp.messages if subject(m).startswith("No discount codes left")]) == 1
    assert warnings[0].rcpt_tos == ["jane@example.com"]
    issued = sorted(c["discount_code"] or "" for c in (s.case_json(n) for n in (1, 2, 3)))
    assert issued == ["", "SORRY-AAAA", "SORRY-BBBB"]

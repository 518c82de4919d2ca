"""Replies however people write them, end to end on Dovecot and aiosmtpd: bottom-posted and interleaved
replies from real clients' shapes (tests/mail/reply_shapes.py) reach the other side with no quoted history
beyond what an interleaved answer needs."""
from __future__ import annotations

import time
from email.utils import make_msgid

from e2e_support import complaint, parsed
from mail.reply_shapes import SAMPLES, reply

JANE, MARIA = "jane@example.com", "maria@example.net"

# (client, language) of the customer's bottom-posted replies and of the staff member's interleaved ones
CUSTOMER_BOTTOM = [("thunderbird_flowed", "fr"), ("apple_mail", "de"), ("gmail", "ja"), ("mutt", "en")]
STAFF_INTERLEAVED = [("thunderbird", "en"), ("gmail", "ru"), ("apple_mail", "es"), ("mutt", "de")]


def text_of(received) -> str:
    return parsed(received).get_body(("plain",)).get_content()


def wait_new(stack, predicate, seen: int, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in stack.smtp.messages[seen:] if predicate(m)]
        if found:
            return found[0]
        time.sleep(0.1)
    raise TimeoutError("no such email")


def history_lines(quoted: str, kept: list[str]) -> list[str]:
    """Sentences of the quoted message that must not reach the other side."""
    return [line for line in quoted.splitlines() if line.strip() and line.strip("> ") not in kept
            and all(line.strip("> ") not in k for k in kept)]


def test_bottom_posted_and_interleaved_replies_reach_the_other_side_without_the_history(stack):
    stack.start()
    raw, _ = complaint(subject="Broken kettle", body="The lid of my kettle is broken.")
    stack.deliver(raw)
    ack = parsed(stack.smtp.wait_for(lambda m: m.rcpt_tos == [MARIA], timeout=20)[0])
    note = parsed(stack.smtp.wait_for(lambda m: m.rcpt_tos == [JANE], timeout=20)[0])

    for client, language in CUSTOMER_BOTTOM:
        sample = SAMPLES[language]
        seen = len(stack.smtp.messages)
        stack.deliver(reply(client, language, "bottom", quoted=sample["quoted"], answer=sample["answer"],
                            sender=("Maria Rossi", MARIA), to=("Acme Support", "support@example.com"),
                            subject=f"Re: {ack['Subject']}", in_reply_to=ack["Message-ID"].strip("<>"),
                            message_id=make_msgid(domain="example.net").strip("<>")))
        forward = text_of(wait_new(stack, lambda m: m.rcpt_tos == [JANE], seen))
        for line in sample["answer"].splitlines():
            assert line in forward, (client, language, line)
        for line in history_lines(sample["quoted"], []):
            assert line.strip("> ") not in forward, (client, language, line)

    for client, language in STAFF_INTERLEAVED:
        sample = SAMPLES[language]
        seen = len(stack.smtp.messages)
        stack.deliver(reply(client, language, "interleaved", quoted=sample["quoted"], answer="",
                            answers=sample["answers"], greeting=sample["greeting"],
                            sender=("Jane Doe", JANE), to=("Acme Support", note["Reply-To"]),
                            quoted_from=("Maria Rossi", MARIA), subject=f"Re: {note['Subject']}",
                            in_reply_to=note["Message-ID"].strip("<>"),
                            message_id=make_msgid(domain="example.com").strip("<>")))
        relay = text_of(wait_new(stack, lambda m: m.rcpt_tos == [MARIA], seen))
        kept = []
        for question, answer in sample["answers"]:
            for line in question.splitlines():
                assert f"> {line}" in relay, (client, language, line)  # what the answer answers, quoted
                kept.append(line)
            assert answer in relay, (client, language, answer)
        # the greeting stays; the unanswered history and the attribution go
        assert sample["greeting"] in relay
        for line in history_lines(sample["quoted"], kept):
            assert line.strip("> ") not in relay, (client, language, line)
        assert "Maria Rossi" not in relay.split("--")[0].replace("Maria Rossi <", "")  # no "... wrote:" line

    # A staff member's bottom-posted reply whose first new lines are commands is obeyed.
    seen = len(stack.smtp.messages)
    stack.deliver(reply("thunderbird", "en", "bottom", quoted="Where is my new kettle?",
                        answer="#plan +2d Send a new lid by courier\nDear Maria, a new lid is on its way.",
                        sender=("Jane Doe", JANE), to=("Acme Support", note["Reply-To"]),
                        quoted_from=("Maria Rossi", MARIA), subject=f"Re: {note['Subject']}",
                        in_reply_to=note["Message-ID"].strip("<>"),
                        message_id=make_msgid(domain="example.com").strip("<>")))
    relay = text_of(wait_new(stack, lambda m: m.rcpt_tos == [MARIA] and b"our plan" not in m.data, seen))
    assert "Dear Maria, a new lid is on its way." in relay
    assert "Where is my new kettle?" not in relay and "#plan" not in relay
    wait_new(stack, lambda m: m.rcpt_tos == [MARIA] and "our plan" in (m.message["Subject"] or ""), seen)
    assert [s["text"] for s in stack.case_json(1)["plan"]] == ["Send a new lid by courier"]

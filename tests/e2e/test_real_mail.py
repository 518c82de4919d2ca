"""Mail as real programs send it, through the real daemon: nothing crashes, nothing is lost."""
from __future__ import annotations

import time
from pathlib import Path

from e2e_support import parsed

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def test_the_whole_corpus_goes_through_and_no_email_carries_injected_content(sqlite_stack):
    s = sqlite_stack
    files = sorted(CORPUS.glob("*.eml"))
    assert len(files) >= 45
    s.start(poll_interval="1s")
    for f in files:
        s.deliver(f.read_bytes())
    deadline = time.monotonic() + 90
    while s.folder("INBOX") and time.monotonic() < deadline:
        time.sleep(0.3)
    assert s.folder("INBOX") == [], "every message is filed"
    processed, quarantined = len(s.folder("Aftercare/Processed")), len(s.folder("Aftercare/Quarantine"))
    assert processed + quarantined == len(files)
    time.sleep(2)  # let the outbox drain
    assert s.daemon.proc.poll() is None
    for m in s.smtp.messages:
        msg = parsed(m)
        assert msg["Bcc"] is None and "victim@example.org" not in m.rcpt_tos
        assert len(m.rcpt_tos) == 1
        body = msg.get_body(("plain",)).get_content()
        assert "\n49\n" not in body and " 49 " not in msg["Subject"]
    # Automatic mail never opened a case and was never answered.
    answered = {m.rcpt_tos[0] for m in s.smtp.messages}
    for noisy in ("mailer-daemon", "postmaster", "noreply", "no-reply"):
        assert not any(a.startswith(noisy) for a in answered), answered
    print(f"{len(files)} messages: {processed} processed, {quarantined} quarantined, "
          f"{len(s.cases())} cases, {len(s.smtp.messages)} emails sent")


def test_outlook_cp1252_html_and_japanese_iso2022jp_complaints_are_read_correctly(sqlite_stack):
    s = sqlite_stack
    s.start()
    s.deliver((CORPUS / "outlook_html_only_cp1252.eml").read_bytes())
    s.deliver((CORPUS / "japanese_iso2022jp.eml").read_bytes())
    s.smtp.wait_for_count(4, timeout=15)
    cases = {c["id"]: s.case_json(c["id"]) for c in s.cases()}
    texts = []
    for case in cases.values():
        notice = next(m for m in s.smtp.messages if m.rcpt_tos == ["jane@example.com"]
                      and f"[Case #{case['id']}]" in parsed(m)["Subject"])
        texts.append(parsed(notice).get_body(("plain",)).get_content())
    joined = "\n".join(texts)
    assert "€" in joined or "’" in joined or "é" in joined  # windows-1252 decoded, not mojibake
    assert "<html" not in joined.lower() and "<p" not in joined.lower()
    assert any("\u3042" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in joined)  # Japanese text

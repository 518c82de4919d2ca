"""A customer's data with the daemon running (issue 20): real Dovecot, aiosmtpd, SQLite and PostgreSQL.

Maria complains from Gmail with a photo and an invoice, writes again, and is erased; Amaria, whose address holds
Maria's, copies Maria's case tag and stays out of Maria's export and untouched by her erasure. Afterwards no byte
of Maria's name, address, words or files is left in the database's files (SQLite: the file, its write-ahead log)
or in any table (PostgreSQL: pg_dump of the whole database), nor in the mailbox's folders; the report's figures
are as they were; and a second erasure while 20 complaints arrive loses and repeats nothing.
"""
from __future__ import annotations

import collections
import json
import re
import subprocess
import threading
import time
from glob import glob

from aftercare.testing.report_figures import figures
from attachment_mail import JPEG, PDF, gmail_complaint
from e2e_support import complaint, parsed, reply_to

MARIA = re.compile(rb"(?<![a-z0-9._%+-])maria@example\.net", re.IGNORECASE)  # not inside amaria@example.net
TRACES = [re.compile(p, re.IGNORECASE) for p in (rb"Maria Rossi", rb"cracked lid", rb"lid is still cracked")]


def _found(blob: bytes) -> list[str]:
    """Which of Maria's traces ``blob`` holds: her address, name, words, or a piece of her files."""
    hits = [p.pattern.decode() for p in [MARIA, *TRACES] if p.search(blob)]
    for name, data in (("photo", JPEG), ("invoice", PDF)):
        piece = data[5000:5032]
        if piece in blob or piece.hex().encode() in blob:
            hits.append(name)
    return hits


def _database_bytes(s) -> bytes:
    if s.database_url.startswith("sqlite:///"):
        path = s.database_url[len("sqlite:///"):]
        return b"".join(open(f, "rb").read() for f in sorted(glob(path + "*")))
    dump = sorted(glob("/usr/lib/postgresql/*/bin/pg_dump"))[-1]
    return subprocess.run([dump, "--data-only", s.database_url], capture_output=True, check=True).stdout


def _folders_bytes(s) -> bytes:
    return b"".join(m for f in ("Aftercare/Processed", "Aftercare/Quarantine") for m in s.folder(f))


def _report(s) -> dict:
    out = s.cli("report", "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _settled(s, timeout=20.0) -> None:
    deadline = time.monotonic() + timeout
    while s.folder("INBOX"):
        assert time.monotonic() < deadline, s.daemon.tail()
        time.sleep(0.1)


def test_export_then_erasure_with_the_daemon_running_leaves_no_trace_and_loses_nothing(stack, tmp_path):
    s = stack
    s.start(poll_interval="1s")
    s.deliver(gmail_complaint([("invoice-10234.pdf", "application/pdf", PDF)]))
    [ack] = s.smtp.wait_for(lambda m: m.rcpt_tos == ["maria@example.net"], timeout=15)
    s.deliver(reply_to(parsed(ack), "Maria Rossi <maria@example.net>", "The lid is still cracked, any news?"))
    s.deliver(complaint(subject="Re: [Case #1] my toaster", sender="Anna Maria <amaria@example.net>",
                        body="Amaria's toaster sparks.")[0])
    s.smtp.wait_for(lambda m: m.rcpt_tos == ["amaria@example.net"], timeout=15)
    s.deliver(complaint(subject="Broken mixer", sender="Paul <paul@example.net>", body="Paul's mixer smokes.",
                        extra_headers="Cc: Maria Rossi <maria@example.net>\r\n")[0])
    s.smtp.wait_for(lambda m: m.rcpt_tos == ["paul@example.net"], timeout=15)
    _settled(s)
    assert _found(_database_bytes(s)) and _found(_folders_bytes(s))  # the checks below can fail

    # The export: Maria's case, her messages and files, nothing of Amaria's.
    out = s.cli("customer", "export", "MARIA@example.net", "--out", f"{tmp_path}/export/")
    assert out.returncode == 0, out.stderr
    doc = json.loads((tmp_path / "export" / "export.json").read_text())
    assert [(c["id"], c["role"]) for c in doc["cases"]] == [(1, "customer")]
    texts = " ".join(m["text"] for m in doc["cases"][0]["messages"])
    assert "cracked lid" in texts and "still cracked" in texts and "amaria" not in json.dumps(doc).lower()
    files = {a["filename"]: (tmp_path / "export" / a["file"]).read_bytes()
             for m in doc["cases"][0]["messages"] for a in m["attachments"] if a.get("file")}
    assert files["invoice-10234.pdf"] == PDF and files["lid.jpg"] == JPEG
    assert all((tmp_path / "export" / m["original"]).exists() for m in doc["cases"][0]["messages"]
               if m.get("original"))

    # The erasure, with the daemon running.
    before = _report(s)
    out = s.cli("customer", "erase", "maria@example.net")
    assert out.returncode == 1 and "--yes" in out.stderr  # no terminal to ask on: nothing done
    out = s.cli("customer", "erase", "maria@example.net", "--yes")
    assert out.returncode == 0, out.stderr
    assert "erased: 1 case(s)" in out.stdout and "in the mailbox folders" in out.stdout
    time.sleep(1.5)  # anything the daemon was still writing
    assert _found(_database_bytes(s)) == [] and _found(_folders_bytes(s)) == []
    assert b"Paul's mixer smokes." in _folders_bytes(s)  # his email stays in the folder, without her in its Cc
    assert figures(_report(s)) == figures(before)
    amaria = [c for c in s.cases() if c["customer"] == "amaria@example.net"]
    assert len(amaria) == 1 and "sparks" in s.cli("customer", "export", "amaria@example.net").stdout
    again = s.cli("customer", "erase", "maria@example.net", "--yes")
    assert again.returncode == 0 and "nothing to erase" in again.stdout

    # A second erasure while complaints keep coming: each answered once, nothing lost.
    others = [f"during{i}@example.net" for i in range(20)]

    def feed():
        for i, who in enumerate(others):
            s.deliver(complaint(subject=f"During {i}", sender=who)[0])
            time.sleep(0.2)

    feeder = threading.Thread(target=feed)
    feeder.start()
    time.sleep(0.5)
    out = s.cli("customer", "erase", "amaria@example.net", "--yes")
    feeder.join()
    assert out.returncode == 0, out.stderr
    for who in others:
        s.smtp.wait_for(lambda m, who=who: m.rcpt_tos == [who], timeout=20)
    _settled(s)
    time.sleep(1.0)
    acks = collections.Counter(m.rcpt_tos[0] for m in s.smtp.messages if m.rcpt_tos[0] in others)
    assert acks == {who: 1 for who in others}
    assert max(collections.Counter(m.message["Message-ID"] for m in s.smtp.messages).values()) == 1
    assert {c["customer"] for c in s.cases()} >= set(others)

    # Maria writes again: a fresh case, acknowledged.
    s.deliver(complaint(subject="Another problem", sender="Maria Rossi <maria@example.net>")[0])
    s.smtp.wait_for(lambda m: m.rcpt_tos == ["maria@example.net"] and "Another problem" in m.message["Subject"],
                    timeout=15)
    fresh = [c for c in s.cases() if c["customer"] == "maria@example.net"]
    assert len(fresh) == 1 and fresh[0]["id"] > 1
    print(f"\nCUSTOMER-DATA {s.database_url.split(':')[0]}: exported 1 case with 2 files; erased with the daemon "
          f"running: no trace in the database or the folders, the report's figures unchanged; 20 complaints during "
          f"a second erasure, each acknowledged once; Maria's next email opened case #{fresh[0]['id']}")

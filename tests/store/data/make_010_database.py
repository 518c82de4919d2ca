"""Make the databases release 0.1.0 left behind, for tests/store/test_upgrade.py (the suite never runs this).

The code of release 0.1.0 (commit 1514c01) does the work: its Casework, its
config.example.toml and its templates, with an injected clock. Run from the
repository root, with the project's virtualenv (0.1.0 runs on today's
dependencies: peewee 4, psycopg2) and PostgreSQL on 127.0.0.1:5432 with trust
auth for user postgres::

    git worktree add /tmp/aftercare-010 1514c01
    .venv/bin/python tests/store/data/make_010_database.py /tmp/aftercare-010
    git worktree remove /tmp/aftercare-010

It writes, next to itself:

* ``aftercare-0.1.0.sqlite``: the SQLite file (schema version 3);
* ``aftercare-0.1.0-postgresql.sql``: a plain SQL dump of the same story on PostgreSQL, from
  ``pg_dump --no-owner --no-privileges --inserts`` (INSERTs rather than COPY, so the test can
  load it with psycopg2 alone); the database it dumps, ``aftercare_010_fixture``, is dropped after.
  The stored emails' CRLF line ends are inside its string literals: the file must be read as bytes
  (``.gitattributes`` here keeps git from converting them).

Each database is made in a process of its own that imports ``daemon`` from the
worktree only. The story (all times UTC, T0 = Mon 2 March 2026 09:00), which
test_upgrade.py relies on:

* Case 1, closed: opened T0-10d; nobody answered in 24 h, so its first-response timer fired
  (escalation); resolved T0-9d+2h; follow-up and check-in timers fired (the check-in carried a
  discount code from the pool); the customer rated it 5 at T0-2d+3h, which closed it.
* Case 2, open: opened T0; staff agreed two plan steps at T0+1h (due T0+3d+1h and T0+5d+1h): their
  reminder, overdue and escalation timers wait.
* Case 3, resolved: opened T0+10m; one step agreed at T0+2h and done at T0+4h, which resolved it:
  its follow-up (T0+2d+4h) and check-in (T0+7d+4h) timers wait.
* Case 4, open: opened T0+5h, nobody answered yet: its first-response timer (T0+1d+5h) waits.

Every email stored up to T0+3h was sent (0.1.0's outbox: claim_due, mark_sent). Of the later ones,
the first is left in ``sending`` (0.1.0 was killed while sending it: it had no claim holder then)
and the rest are ``pending``. The pool file had three discount codes; one was issued. Intake's state
holds one folder (last UID 7) and one message that failed once.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

RELEASE = "1514c01"
HERE = Path(__file__).resolve().parent
SQLITE_NAME = "aftercare-0.1.0.sqlite"
DUMP_NAME = "aftercare-0.1.0-postgresql.sql"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
PG_DB = "aftercare_010_fixture"

T0 = datetime(2026, 3, 2, 9, 0)
SUPPORT = "support@example.com"
JANE = "jane@example.com"
CODES = "SORRY-0001\nSORRY-0002\nSORRY-0003\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("worktree", type=Path, help=f"a checkout of commit {RELEASE}")
    parser.add_argument("--out", type=Path, default=HERE, help="where to write the two files")
    parser.add_argument("--pg-admin", default=PG_ADMIN, help="PostgreSQL URL to create the database from")
    parser.add_argument("--story", metavar="URL", help=argparse.SUPPRESS)  # the child: run the story on URL
    args = parser.parse_args()
    worktree = args.worktree.resolve()
    if args.story:
        return story(worktree, args.story)

    head = subprocess.run(["git", "-C", str(worktree), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()
    if not head.startswith(RELEASE):
        sys.exit(f"{worktree} is at {head[:12]}, not release 0.1.0 ({RELEASE})")
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "aftercare.db"
        child(worktree, f"sqlite:///{path}")
        for suffix in ("-wal", "-shm", "-sent"):  # closed cleanly: checkpointed and folded, nothing left
            if Path(f"{path}{suffix}").exists() and Path(f"{path}{suffix}").stat().st_size:
                sys.exit(f"{path}{suffix} is not empty")
        shutil.copyfile(path, args.out / SQLITE_NAME)

    import psycopg2
    from urllib.parse import urlsplit, urlunsplit

    admin = psycopg2.connect(args.pg_admin)
    admin.autocommit = True
    url = urlunsplit(urlsplit(args.pg_admin)._replace(path=f"/{PG_DB}"))
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{PG_DB}"')
        cur.execute(f'CREATE DATABASE "{PG_DB}"')
    try:
        child(worktree, url)
        # Bytes as they are: the stored emails end their lines in CRLF, which text mode would turn into LF.
        dump = subprocess.run(["pg_dump", "--no-owner", "--no-privileges", "--inserts", "--dbname", url],
                              check=True, capture_output=True).stdout
        (args.out / DUMP_NAME).write_bytes(dump)
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{PG_DB}"')
        admin.close()
    print(f"wrote {args.out / SQLITE_NAME} and {args.out / DUMP_NAME}")
    return 0


def child(worktree: Path, url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(worktree)}
    subprocess.run([sys.executable, __file__, str(worktree), "--story", url], check=True, env=env, cwd=worktree)


def story(worktree: Path, url: str) -> int:
    sys.path.insert(0, str(worktree))
    import daemon

    if not Path(daemon.__file__).resolve().is_relative_to(worktree):
        sys.exit(f"daemon was imported from {daemon.__file__}, not from {worktree}")

    from daemon.cases.verification import reply_address
    from daemon.casework import Casework
    from daemon.config import load_config
    from daemon.mail.inbound import InboundMail
    from daemon.store import discounts, outbox
    from daemon.store.database import SCHEMA_VERSION, open_database
    from daemon.intake import mailbox_key
    from daemon.store.models import Case, MailboxState, Message, database
    from daemon.templates import Templates

    assert SCHEMA_VERSION == 3, SCHEMA_VERSION

    tmp = Path(tempfile.mkdtemp())
    (tmp / "codes.txt").write_text(CODES)
    text = (worktree / "config.example.toml").read_text()
    for old, new in (('url = "sqlite:///aftercare.db"', f'url = "{url}"'),
                     ('\npassword_file = "/etc/aftercare/imap-password"', '\npassword = "unused"'),
                     ('[extras.discount]\nenabled = false', '[extras.discount]\nenabled = true'),
                     ('codes_file = "discount-codes.txt"', f'codes_file = "{tmp / "codes.txt"}"')):
        assert old in text, old
        text = text.replace(old, new, 1)
    (tmp / "config.toml").write_text(text)
    config = load_config(tmp / "config.toml")
    # The worktree's templates, searched first: they hold every template 0.1.0 renders. (daemon.bundled_templates
    # may resolve to an editable install of today's checkout.)
    templates = Templates(worktree / "templates", config.schedule.timezone)

    db = open_database(url)
    cw = Casework(config, templates)
    discounts.load_pool(config.extras.discount.codes_file, T0 - timedelta(days=30))

    def mail(mid, sender, text, subject, to=(SUPPORT,), in_reply_to=()):
        return InboundMail(message_id=mid, fingerprint=mid, from_address=sender, from_name="", to=to, cc=(),
                           reply_to=(), subject=subject, date=None, in_reply_to=in_reply_to, references=(),
                           text=text, attachments=(), headers={}, return_path=sender, delivery_report=None,
                           size=len(text))

    def complaint(n, customer, subject, text, now):
        out = cw.handle_inbound(mail(f"complaint{n}@customer.example.net", customer, text, subject), now)
        assert out.route == "new_case", out
        return out.case_id

    def staff(case_id, text, now):
        to = reply_address(SUPPORT, cw.secret(), case_id, JANE)
        subject = f"Re: {Case.get_by_id(case_id).subject} [Case #{case_id}]"
        out = cw.handle_inbound(mail(f"staff.{case_id}.{int(now.timestamp())}@example.com", JANE, text, subject,
                                     to=(to,)), now)
        assert out.route == "staff_reply", out

    def send_stored_until(now):
        rows = outbox.claim_due(now, limit=1000)
        outbox.mark_sent([r.id for r in rows], now)

    # Case 1: opened ten days ago, escalated, resolved, checked in, rated 5: closed. 0.1.0 sent each email at once.
    day = T0 - timedelta(days=10)
    c1 = complaint(1, "maria@customer.example.net", "Kettle arrived broken",
                   "The kettle arrived with a cracked lid.", day)
    send_stored_until(day + timedelta(minutes=1))
    assert cw.fire_due_timers(day + timedelta(days=1, hours=1)) == 1  # nobody answered in 24 h: escalated
    send_stored_until(day + timedelta(days=1, hours=1, minutes=1))
    staff(c1, "#resolve\nDear Maria, a new kettle is on its way.", day + timedelta(days=1, hours=2))
    send_stored_until(day + timedelta(days=1, hours=2, minutes=1))
    assert cw.fire_due_timers(day + timedelta(days=3, hours=2)) == 1  # follow-up
    send_stored_until(day + timedelta(days=3, hours=2, minutes=1))
    assert cw.fire_due_timers(day + timedelta(days=8, hours=2)) == 1  # check-in, with a code from the pool
    send_stored_until(day + timedelta(days=8, hours=2, minutes=1))
    customer = Case.get_by_id(c1).customer_address
    checkin = Message.get((Message.case == c1) & (Message.kind == "checkin"))
    out = cw.handle_inbound(mail("rating1@customer.example.net", customer, "5 - thanks, it works",
                                 f"Re: {checkin.subject}", in_reply_to=(checkin.message_id,)),
                            day + timedelta(days=8, hours=3))
    assert out.route == "customer_reply", out
    send_stored_until(day + timedelta(days=8, hours=3, minutes=1))

    # What intake keeps: how far it read the folder, and a message that failed once.
    MailboxState.create(name=mailbox_key(config.mailbox), uidvalidity=1772000000, last_uid=7)
    cw.note_failure(mailbox_key(config.mailbox), 1772000000, 8, "example: a parse error", T0)

    # Case 2: two plan steps agreed, their timers wait.
    c2 = complaint(2, "li@customer.example.net", "Order 1234 never arrived", "Where is my order?", T0)
    staff(c2, "#plan +3d Trace the parcel with the courier\n#plan +5d Refund or resend\n"
              "Dear Li, here is our plan.", T0 + timedelta(hours=1))
    # Case 3: one step agreed and done: resolved, follow-up and check-in wait.
    c3 = complaint(3, "sam.k@customer.example.net", "Charged twice", "You charged my card twice.",
                   T0 + timedelta(minutes=10))
    staff(c3, "#plan +1d Refund the second charge\nDear customer, we will refund it.", T0 + timedelta(hours=2))
    send_stored_until(T0 + timedelta(hours=3))
    staff(c3, "#done 1\nThe refund is on its way.", T0 + timedelta(hours=4))
    # Case 4: opened, not answered yet.
    c4 = complaint(4, "ana@customer.example.net", "Wrong size", "The shoes are a size too small.",
                   T0 + timedelta(hours=5))

    # 0.1.0 is killed while sending the first of the later emails: it stays in "sending".
    first = Message.select().where((Message.direction == "out") & (Message.status == "pending")).order_by(
        Message.id).first()
    Message.update(status="sending").where(Message.id == first.id).execute()

    statuses = {c: Case.get_by_id(c).status for c in (c1, c2, c3, c4)}
    assert statuses == {c1: "closed", c2: "open", c3: "resolved", c4: "open"}, statuses
    print(url.split(":")[0], "cases:", statuses, "outbox:", outbox.counts())
    db.close()
    database.initialize(None)
    shutil.rmtree(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())

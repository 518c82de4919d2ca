"""``aftercare customer``: a customer's data on request: export it, or erase it (store/customer_data.py).

Both are safe while the daemon runs and may be run again: an export changes nothing, and an erasure run twice
finds nothing the second time (a run cut short, say by a mailbox that could not be reached, is finished by the
next).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from .common import load as _load, open_db as _open_db
from .outbox import _actor, _now

SENDING_WAIT_SECONDS = 60  # an email to the customer being sent at this moment is waited for this long


def cmd_customer_export(args) -> int:
    from ..store.customer_data import export
    _open_db(_load(args))
    doc = export(args.address, _now(), include_internal=args.include_internal)
    files, originals = doc.pop("attachments_bytes"), doc.pop("originals")
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    if args.out is None:
        print(text)
        return 0
    out = Path(args.out)
    if out.is_dir() or args.out.endswith("/"):
        out.mkdir(parents=True, exist_ok=True)
        (out / "export.json").write_text(text + "\n", encoding="utf-8")
        for case in doc["cases"]:
            for m in case["messages"]:
                _write_files(out, m, files, originals)
        for m in doc["messages_without_case"]:
            _write_files(out, m, files, originals)
        where = out / "export.json"
    else:
        out.write_text(text + "\n", encoding="utf-8")
        where = out
    n = len(doc["cases"])
    print(f"{doc['address']}: {n} case{'s' if n != 1 else ''}, "
          f"{sum(len(c['messages']) for c in doc['cases']) + len(doc['messages_without_case'])} messages "
          f"written to {where}", file=sys.stderr)
    return 0


def _write_files(out: Path, message: dict, files: dict, originals: dict) -> None:
    for a in message["attachments"]:
        if a.get("file") and a.get("sha256") in files:
            target = out / a["file"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(files[a["sha256"]])
    if message.get("original"):
        target = out / message["original"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(originals[Path(message["original"]).name])


def cmd_customer_erase(args) -> int:
    from ..store import customer_data as data
    config = _load(args)
    _open_db(config)
    plan = data.plan_erasure(args.address)
    if not plan.cases and not plan.messages and not plan.mentions and not plan.raw_messages:
        print(f"nothing held of {plan.address}: nothing to erase")
        return 0
    s = plan.summary()
    print(f"{plan.address}: {s['cases']} case(s) opened by them, {s['messages']} message(s) by or to them, "
          f"{s['mentions']} other message(s) naming them, {s['raw_messages']} raw original(s), "
          f"{s['pending_emails']} unsent email(s) to them (cancelled first); and their copies in the processed "
          "and quarantine folders of every mailbox. The cases keep their times, counts, rating scores and "
          "causes for the report.")
    if not args.yes:
        if not sys.stdin.isatty():
            print("error: not erased: confirm with --yes (no terminal to ask on)", file=sys.stderr)
            return 1
        if input("Erase all of this for good? Type 'erase' to go on: ").strip().lower() != "erase":
            print("not erased")
            return 1
    cancelled = data.cancel_pending(plan)
    deadline = time.monotonic() + SENDING_WAIT_SECONDS
    while data.still_sending(plan.sending) and time.monotonic() < deadline:
        time.sleep(0.5)
    if data.still_sending(plan.sending):
        print("error: not erased: an email to them is still being sent; run the command again in a minute",
              file=sys.stderr)
        return 1
    plan = data.plan_erasure(args.address)  # what arrived meanwhile is erased too
    try:
        in_folders = _purge_folders(config, plan.address, plan.message_ids)
    except Exception as exc:  # a mailbox that cannot be reached: nothing erased yet, so the next run does it all
        print(f"error: not erased: the mailbox folders could not be cleaned: {exc}; run the command again "
              "once the mailbox answers", file=sys.stderr)
        return 1
    counts = data.erase(plan, _now())
    # Mail that reached the folders while the database was being erased, found by its addresses.
    in_folders += _purge_folders(config, plan.address, ())
    data.record(counts, in_folders, _now(), _actor())
    data.compact()
    print(f"erased: {counts['cases']} case(s), {counts['messages']} message(s), {counts['mentions']} mention(s) "
          f"struck out, {counts['raw_messages']} raw original(s), {counts['attachments']} attachment file(s), "
          f"{in_folders} message(s) in the mailbox folders; {cancelled} unsent email(s) cancelled, "
          f"{counts['timers']} timer(s) cancelled")
    return 0


def _purge_folders(config, address: str, message_ids) -> int:
    """The processed and quarantine folders of every mailbox (the watched folder holds only mail not yet read:
    it becomes a fresh case)."""
    from ..mail.imap import Mailbox
    from ..tokens import TokenSources

    tokens = TokenSources()
    tokens.configure(config)
    done = 0
    for inbox in config.inboxes:
        mailbox = Mailbox(inbox.imap, tokens.imap_for(inbox.name))
        mailbox.connect()
        try:
            for folder in (inbox.mailbox.processed_folder, inbox.mailbox.quarantine_folder):
                done += mailbox.purge(folder, address, message_ids)
        finally:
            mailbox.close()
    return done


def register(sub, add) -> None:
    customer = add(sub, "customer", help="a customer's data on request: export it, or erase it")
    csub = customer.add_subparsers(dest="customer_command", required=True)

    export = add(csub, "export", help="everything held of a customer, as one JSON document")
    export.add_argument("address", metavar="ADDRESS", help="the customer's email address (any letter case)")
    export.add_argument("--out", metavar="FILE|DIR",
                        help="write the JSON to FILE; to a DIR (existing, or ending in /), export.json with the "
                             "attachments and original messages beside it")
    export.add_argument("--include-internal", action="store_true",
                        help="with the staff's #note and #internal notes on the customer's cases")
    export.set_defaults(func=cmd_customer_export)

    erase = add(csub, "erase", help="erase a customer's name, address, words, files and originals")
    erase.add_argument("address", metavar="ADDRESS", help="the customer's email address (any letter case)")
    erase.add_argument("--yes", action="store_true", help="do not ask (scripts)")
    erase.set_defaults(func=cmd_customer_erase)

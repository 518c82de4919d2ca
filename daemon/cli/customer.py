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
ERASE_ROUNDS = 3  # mail of theirs arriving during an erasure is erased by the next round


def cmd_customer_export(args) -> int:
    from ..store.customer_data import export
    addr = _address(args)
    if addr is None:
        return 2
    _open_db(_load(args))
    doc = export(addr, _now(), include_internal=args.include_internal)
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
        out.parent.mkdir(parents=True, exist_ok=True)
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


def _address(args) -> str | None:
    from ..store.customer_data import valid_address
    addr = valid_address(args.address)
    if addr is None:
        print(f"error: {args.address!r} is not one email address (name@domain)", file=sys.stderr)
    return addr


def cmd_customer_erase(args) -> int:
    from ..store import customer_data as data
    addr = _address(args)
    if addr is None:
        return 2
    config = _load(args)
    _open_db(config)
    plan = data.plan_erasure(addr)
    if plan.empty:
        # Nothing left in the database; a run cut short may have left copies in the folders or old pages.
        try:
            in_folders = _purge_folders(config, addr, ())
            data.note_folders(in_folders)
            data.compact()
        except Exception as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"nothing held of {addr}: nothing to erase"
              + (f" ({in_folders} message(s) left in the mailbox folders deleted)" if in_folders else ""))
        return 0
    s = plan.summary()
    print(f"{addr}: {s['cases']} case(s) opened by them, {s['messages']} message(s) by or to them, "
          f"{s['mentions']} other message(s) naming them, {s['raw_messages']} raw original(s), "
          f"{s['pending_emails']} unsent email(s) to them (never sent now); and their copies in the processed "
          "and quarantine folders of every mailbox. The cases keep their times, counts, rating scores and "
          "causes for the report.")
    if not args.yes:
        if not sys.stdin.isatty():
            print("error: not erased: confirm with --yes (no terminal to ask on)", file=sys.stderr)
            return 1
        try:
            answer = input("Erase all of this for good? Type 'erase' to go on: ")
        except EOFError:
            answer = ""
        if answer.strip().lower() != "erase":
            print("not erased")
            return 1
    # The folders first: a mailbox that cannot be reached leaves everything as it was, for the next run.
    try:
        in_folders = _purge_folders(config, addr, plan.message_ids, plan.names)
    except Exception as exc:
        print(f"error: not erased: the mailbox folders could not be cleaned: {exc}; nothing was changed, run the "
              "command again once the mailbox answers", file=sys.stderr)
        return 1
    totals: dict[str, int] = {}
    deadline = time.monotonic() + SENDING_WAIT_SECONDS
    for _ in range(ERASE_ROUNDS):
        try:
            plan, counts = data.erase(addr, _now(), _actor())
        except data.ErasureRefused as exc:  # an email to them is being sent this moment: let it go, then erase
            if time.monotonic() > deadline:
                print(f"error: not erased: {exc}; run the command again in a minute", file=sys.stderr)
                return 1
            time.sleep(0.5)
            continue
        for k, v in counts.items():
            totals[k] = totals.get(k, 0) + v
        if data.plan_erasure(addr).empty:  # mail of theirs that arrived meanwhile went in a later round
            break
    code = 0
    try:
        in_folders += _purge_folders(config, addr, plan.message_ids, plan.names)  # copies filed while the database was erased
    except Exception as exc:
        print(f"error: the mailbox folders could not be cleaned again: {exc}; run the command again",
              file=sys.stderr)
        code = 1
    data.note_folders(in_folders)
    try:
        data.compact()
    except data.ErasureRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = 1
    print(f"erased: {totals.get('cases', 0)} case(s), {totals.get('messages', 0)} message(s), "
          f"{totals.get('mentions', 0)} mention(s) struck out, {totals.get('raw_messages', 0)} raw original(s), "
          f"{totals.get('attachments', 0)} attachment file(s), {in_folders} message(s) in the mailbox folders; "
          f"{totals.get('timers', 0)} timer(s) cancelled")
    return code


def _purge_folders(config, address: str, message_ids, names=()) -> int:
    """The processed and quarantine folders of every mailbox (the watched folder holds only mail not yet read:
    it becomes a fresh case)."""
    from ..mail.imap import Mailbox
    from ..tokens import TokenSources

    from ..store.customer_data import byte_striker

    redact = byte_striker(address, list(names))
    tokens = TokenSources()
    tokens.configure(config)
    done = 0
    for inbox in config.inboxes:
        mailbox = Mailbox(inbox.imap, tokens.imap_for(inbox.name))
        mailbox.connect()
        try:
            for folder in (inbox.mailbox.processed_folder, inbox.mailbox.quarantine_folder):
                done += mailbox.purge(folder, address, message_ids, redact=redact)
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

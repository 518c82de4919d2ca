"""``aftercare cases``: list, show, attachments."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ..cases.states import CaseStatus
from .common import load as _load, open_db as _open_db, read_case as _read_case


def cmd_cases_list(args) -> int:
    from ..store.views import case_summaries
    config = _load(args)
    _open_db(config)
    rows = case_summaries(status=args.status, mailbox=args.mailbox)
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False, default=str))
        return 0
    if not rows:
        print("no cases" + (f" with status {args.status}" if args.status else "")
              + (f" in mailbox {args.mailbox}" if args.mailbox else ""))
        return 0
    width = min(max(len("mailbox"), *(len(r["mailbox"]) for r in rows)), 20)
    print(f"{'case':>6}  {'status':<9} {'mailbox':<{width}} {'owner':<28} {'customer':<32} subject")
    for r in rows:
        print(f"{r['id']:>6}  {r['status']:<9} {r['mailbox'][:width]:<{width}} {r['owner'][:28]:<28} "
              f"{r['customer'][:32]:<32} {r['subject'][:60]}")
    return 0


def cmd_cases_show(args) -> int:
    from ..store.views import case_detail
    detail = _read_case(args, case_detail)
    if detail is None:
        return 1
    if args.json:
        print(json.dumps(detail, indent=2, ensure_ascii=False, default=str))
        return 0
    print(f"Case #{detail['id']}  {detail['status']}  owner {detail['owner']}")
    address = detail.get("mailbox_address")
    print(f"mailbox:  {detail['mailbox']}" + (f" ({address})" if address else ""))
    print(f"customer: {detail['customer_name']} <{detail['customer']}>".replace(" <", " <") if detail['customer_name']
          else f"customer: {detail['customer']}")
    print(f"subject:  {detail['subject']}")
    for key in ("created_at", "first_response_due_at", "first_response_at", "resolved_at", "closed_at"):
        if detail.get(key):
            print(f"{key.replace('_', ' ')}: {detail[key]}")
    if detail["plan"]:
        print("plan:")
        for step in detail["plan"]:
            state = f"done {step['done_at']}" if step["done_at"] else f"due {step['due_at']}"
            print(f"  {step['number']}. {step['text']}  ({state})")
    if detail.get("cause"):
        print(f"cause: {detail['cause']}")
    print("messages:")
    for m in detail["messages"]:
        arrow = "<-" if m["direction"] == "in" else "->"
        state = f" [{m['status']}]" if m.get("status") else ""
        print(f"  {m['time']} {arrow} {m['kind']:<15} {m['from'] if m['direction'] == 'in' else ', '.join(m['to'])}"
              f"  {m['subject'][:60]}{state}")
    return 0


def cmd_cases_attachments(args) -> int:
    """List a case's files; with --save DIR, write each stored one out once, under a safe, unique name."""
    from ..mail.compose import file_name
    from ..store import files
    from ..store.views import case_attachments
    rows = _read_case(args, case_attachments)
    if rows is None:
        return 1
    if args.json and not args.save:
        print(json.dumps(rows, indent=2, ensure_ascii=False, default=str))
        return 0
    if not rows:
        print(f"case #{args.case} has no attachments")
        return 0
    if not args.save:
        for r in rows:
            arrow = "<-" if r["direction"] == "in" else "->"
            who = r["from"] if r["direction"] == "in" else ", ".join(r["to"])
            where = ("inside a forwarded message" if r["inside_forwarded_message"]
                     else "stored" if r["stored"] else "not stored")
            print(f"{r['time']} {arrow} {who[:32]:<32} {r['filename'][:50]:<50} {r['content_type'][:30]:<30} "
                  f"{_size(r['size']):>9}  {where}")
        return 0
    target = Path(args.save)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"cannot write to {target}: {exc.strerror}", file=sys.stderr)
        return 1
    saved, missing, seen = 0, [], set()
    for r in rows:
        if r["direction"] != "in" or r["inside_forwarded_message"]:
            continue  # what was sent is what was received; a forwarded message is saved whole
        if not r["stored"]:
            missing.append(r["filename"])
            continue
        if r["sha256"] in seen:
            continue
        seen.add(r["sha256"])
        data = files.read(r["sha256"])
        path = _unique(target, file_name(r["filename"]))
        with open(path, "xb") as fh:
            fh.write(data)
        saved += 1
        print(f"saved {path} ({_size(len(data))})")
    if missing:
        print(f"not stored (see the original in the mailbox's processed folder): {', '.join(missing)}",
              file=sys.stderr)
    print(f"{saved} file{'s' if saved != 1 else ''} saved in {target}")
    return 0


def _unique(folder: Path, name: str) -> Path:
    """``name`` in ``folder``, or "name (2).ext" and so on when that is taken."""
    path = folder / name
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    n = 2
    while path.exists():
        path = folder / (f"{stem} ({n}).{ext}" if ext else f"{stem} ({n})")
        n += 1
    return path


def _size(n: int) -> str:
    from ..templates import format_size
    return format_size(n)



def register(sub, add) -> None:
    cases = add(sub, "cases", help="look at cases")
    csub = cases.add_subparsers(dest="cases_command", required=True)

    lst = add(csub, "list", help="list cases")
    lst.add_argument("--status", choices=[s.value for s in CaseStatus],
                     help="only cases with this status (open, resolved, closed)")
    lst.add_argument("--mailbox", metavar="NAME", help="only cases that came in by this mailbox")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_cases_list)
    show = add(csub, "show", help="one case with its messages")
    show.add_argument("case", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_cases_show)
    files = add(csub, "attachments", help="list the files of a case's emails; --save DIR writes them out")
    files.add_argument("case", type=int)
    files.add_argument("--save", metavar="DIR", help="write each stored file the case received into DIR")
    files.add_argument("--json", action="store_true")
    files.set_defaults(func=cmd_cases_attachments)


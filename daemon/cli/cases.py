"""``aftercare cases``: list, show, attachments."""
from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from ..cases.states import CaseStatus
from .common import local_time, owner_address, parse_iso, load as _load, open_db as _open_db, read_case as _read_case


def cmd_cases_list(args) -> int:
    from ..clock import utcnow
    from ..store.views import case_summaries
    config = _load(args)
    _open_db(config)
    now = utcnow()
    rows = case_summaries(status=args.status, mailbox=args.mailbox, owner=args.owner, older_than=args.older_than,
                          overdue=args.overdue, now=now, priority=args.priority)
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False, default=str))
        return 0
    if not rows:
        from ..durations import format_duration
        filters = [f"with status {args.status}" if args.status else "",
                   f"in mailbox {args.mailbox}" if args.mailbox else "", f"owned by {args.owner}" if args.owner else "",
                   f"opened more than {format_duration(args.older_than)} ago" if args.older_than is not None else "",
                   f"of priority {args.priority}" if args.priority else ""]
        print(" ".join(["no overdue cases" if args.overdue else "no cases", *filter(None, filters)]))
        return 0
    width = min(max(len("mailbox"), *(len(r["mailbox"]) for r in rows)), 20)
    print(f"{'case':>6}  {'status':<9} {'mailbox':<{width}} {'age':>6} {'late':<4} {'urgent':<6} {'owner':<28} "
          f"{'customer':<28} subject")
    for r in rows:
        age = _age(now - parse_iso(r["created_at"]))
        late = "yes" if r.get("overdue") else ""
        urgent = "yes" if r.get("priority") == "urgent" else ""
        print(f"{r['id']:>6}  {r['status']:<9} {r['mailbox'][:width]:<{width}} {age:>6} {late:<4} {urgent:<6} "
              f"{r['owner'][:28]:<28} {r['customer'][:28]:<28} {r['subject'][:60]}")
    return 0


def _age(delta: timedelta) -> str:
    """The two largest units of a duration, as in ``3d4h`` or ``25m``: enough to compare ages at a glance."""
    from ..durations import format_duration
    text = format_duration(delta)
    parts = re.findall(r"\d+[dhms]", text)
    return "".join(parts[:2])


def _local(iso: str | None, zone: ZoneInfo) -> str:
    """A view's ISO UTC time as ``2026-12-06 14:03`` in the configured zone (named once, in the header)."""
    return local_time(iso, zone, "%Y-%m-%d %H:%M", "-")


def cmd_cases_show(args) -> int:
    from ..store.views import case_detail
    config = _load(args)
    _open_db(config)
    detail = case_detail(args.case)
    if detail is None:
        print(f"no case #{args.case}", file=sys.stderr)
        return 1
    if args.raw is not None:
        return _write_raw(args.case, args.raw)
    if args.json:
        print(json.dumps(detail, indent=2, ensure_ascii=False, default=str))
        return 0
    for line in show_lines(detail, ZoneInfo(config.schedule.timezone)):
        print(line)
    return 0


def _write_raw(case_id: int, index: int) -> int:
    """``cases show N --raw I``: the bytes of the case's I-th received message, as the mail server delivered
    them (LMTP); a message read from a mailbox was not kept: its original is in the processed folder."""
    from ..store.models import Message, RawMessage
    received = list(Message.select().where((Message.case == case_id) & (Message.direction == "in"))
                    .order_by(Message.id))
    if not received:
        print(f"case #{case_id} has no received messages", file=sys.stderr)
        return 1
    if not 1 <= index <= len(received):
        print(f"case #{case_id} has {len(received)} received message{'s' if len(received) != 1 else ''}: "
              f"--raw takes 1 to {len(received)}, not {index}", file=sys.stderr)
        return 1
    message = received[index - 1]
    raw = (RawMessage.select().where(RawMessage.message == message.id).first()
           or (RawMessage.select().where(RawMessage.fingerprint == message.fingerprint).first()
               if message.fingerprint else None))
    if raw is None:
        print(f"case #{case_id}: received message {index} ({message.message_id or 'no Message-ID'}) came from a "
              "mailbox, not by LMTP: its original is in the mailbox's processed folder", file=sys.stderr)
        return 1
    sys.stdout.flush()
    sys.stdout.buffer.write(bytes(raw.data))
    sys.stdout.buffer.flush()
    return 0


def show_lines(d: dict, zone: ZoneInfo) -> list[str]:
    """``cases show``: what the JSON holds, in words, times in ``zone``."""
    abbreviations: list[str] = []  # of the times shown: "CET", or "CET/CEST" across a change of clocks

    def at(iso):
        if iso:
            name = parse_iso(iso).replace(tzinfo=timezone.utc).astimezone(zone).strftime("%Z")
            if name not in abbreviations:
                abbreviations.append(name)
        return _local(iso, zone)

    out: list[str] = []

    def field(label: str, value) -> None:
        out.append(f"{label + ':':<9} {value}")

    field("owner", d["owner"])
    address = d.get("mailbox_address")
    field("mailbox", d["mailbox"] + (f" ({address})" if address else ""))
    field("customer", f"{d['customer_name']} <{d['customer']}>" if d["customer_name"] else d["customer"])
    field("subject", d["subject"])
    field("opened", at(d["created_at"]))
    field("changed", at(d["updated_at"]))
    answered = f"first one given {at(d['first_response_at'])}" if d["first_response_at"] else "none given yet"
    if d["first_response_due_at"]:
        answered += f" (due {at(d['first_response_due_at'])})"
    field("response", answered)
    if d["resolved_at"]:
        field("resolved", at(d["resolved_at"]))
    if d["closed_at"]:
        field("closed", at(d["closed_at"]))
    field("reopened", {0: "never", 1: "once"}.get(d["reopened_count"], f"{d['reopened_count']} times"))
    field("cause", d["cause"] or "-")
    field("extra", d["extra"] or "the configured default")
    if d["checkin_sent_at"]:
        field("check-in", f"sent {at(d['checkin_sent_at'])}")
    field("discount", d["discount_code"] or "-")
    field("apology", "sent" if d.get("apology_sent") else "-")
    rating = d["rating"]
    if rating:
        comment = f": {rating['comment']!r}" if rating["comment"] else " (no comment)"
        field("rating", f"{rating['score']}/5 on {at(rating['at'])}{comment}")
    else:
        field("rating", "-")
    if d["outbox"]:
        field("outbox", ", ".join(f"{n} {status}" for status, n in sorted(d["outbox"].items())))
    if d["plan"]:
        out.append("plan:")
        for step in d["plan"]:
            state = f"done {at(step['done_at'])}" if step["done_at"] else f"due {at(step['due_at'])}"
            out.append(f"  {step['number']}. {step['text']}  ({state})")
    waiting = [t for t in d["timers"] if t["state"] == "waiting"]
    if waiting:
        out.append("timers waiting:")
        out += [f"  {at(t['due_at'])}  {t['kind']}" for t in waiting]
    if d["notes"]:
        out.append("notes:")
        for n in d["notes"]:
            kind = "internal reply" if n["internal"] else "note"
            text = "\n      ".join(n["text"].splitlines())
            out.append(f"  {at(n['time'])} {n['from']} ({kind}): {text}")
    if d["events"]:
        out.append("events:")
        for e in d["events"]:
            out.append(f"  {at(e['time'])} {e['actor']}: {e['action']}" + (f" ({e['detail']})" if e["detail"] else ""))
    out.append("messages:")
    for m in d["messages"]:
        arrow = "<-" if m["direction"] == "in" else "->"
        who = m["from"] if m["direction"] == "in" else ", ".join(m["to"])
        state = f" [{m['status']}]" if m.get("status") else ""
        out.append(f"  {at(m['time'])} {arrow} {m['kind']:<15} {who}  {m['subject'][:60]}{state}")
        if m["direction"] == "out" and (m["attempts"] or m["sent_at"] or m["last_error"]):
            tries = f"{m['attempts']} attempt{'s' if m['attempts'] != 1 else ''}"
            sent = f", sent {at(m['sent_at'])}" if m["sent_at"] else ""
            error = f", last error: {m['last_error']}" if m["last_error"] else ""
            out.append(f"       {tries}{sent}{error}")
        if m.get("note"):
            out.append(f"       note: {m['note']}")
        if m.get("attachments"):
            names = ", ".join(a.get("filename") or "(unnamed)" for a in m["attachments"])
            out.append(f"       files: {names}")
    shown = "/".join(a for a in abbreviations if a != zone.key)
    return [f"Case #{d['id']}  {d['status']}  (times in {zone.key}{', ' + shown if shown else ''})", *out]


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



def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a message number from 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a message number from 1, got {value}")
    return value


def _duration(text: str) -> timedelta:
    from ..durations import DurationError, parse_duration
    try:
        return parse_duration(text)
    except DurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(sub, add) -> None:
    cases = add(sub, "cases", help="look at cases")
    csub = cases.add_subparsers(dest="cases_command", required=True)

    lst = add(csub, "list", help="list cases")
    lst.add_argument("--status", choices=[s.value for s in CaseStatus],
                     help="only cases with this status (open, resolved, closed)")
    lst.add_argument("--mailbox", metavar="NAME", help="only cases that came in by this mailbox")
    lst.add_argument("--owner", metavar="ADDRESS", type=owner_address,
                     help="only cases this staff member owns (any letter case)")
    lst.add_argument("--older-than", metavar="DURATION", type=_duration,
                     help='only cases opened longer ago than this, e.g. "3d", "12h", "1d12h"')
    lst.add_argument("--overdue", action="store_true",
                     help="only open cases whose first response or a plan step is past due")
    lst.add_argument("--priority", choices=("urgent", "normal"),
                     help="only urgent cases (an angry or abusive message, or a repeated complaint) or normal ones; "
                          "urgent cases are listed first either way")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_cases_list)
    show = add(csub, "show", help="one case with its messages")
    show.add_argument("case", type=int)
    show.add_argument("--json", action="store_true")
    show.add_argument("--raw", metavar="INDEX", type=_positive,
                      help="write the INDEX-th received message (1: the first) as delivered, byte for byte "
                           "(kept for mail delivered by LMTP)")
    show.set_defaults(func=cmd_cases_show)
    files = add(csub, "attachments", help="list the files of a case's emails; --save DIR writes them out")
    files.add_argument("case", type=int)
    files.add_argument("--save", metavar="DIR", help="write each stored file the case received into DIR")
    files.add_argument("--json", action="store_true")
    files.set_defaults(func=cmd_cases_attachments)


"""``aftercare report``: what keeps going wrong."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .common import load as _load, open_db as _open_db, owner_address


def _day(option: str, value: str | None):
    """A YYYY-MM-DD option as a date; None when absent; ValueError naming the option when malformed."""
    from datetime import date
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{option}: {value!r} is not a date (YYYY-MM-DD)") from None


def cmd_report(args) -> int:
    from ..clock import utcnow
    from ..report import build_report, render_html, render_text
    try:
        since, until = _day("--since", args.since), _day("--until", args.until)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    if since and until and until < since:
        print(f"--until {until} is before --since {since}", file=sys.stderr)
        return 2
    config = _load(args)
    _open_db(config)
    report = build_report(since=since, until=until, now=utcnow(), mailbox=args.mailbox, owner=args.owner,
                          tz=config.schedule.timezone)
    if args.html:
        Path(args.html).write_text(render_html(report), encoding="utf-8")
        print(f"report written to {args.html}", file=sys.stderr)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    elif not args.html:
        print(render_text(report))
    return 0


def register(sub, add) -> None:
    report = add(sub, "report", help="what keeps going wrong: response times, plans kept, ratings, causes, "
                                     "owners, open cases")
    report.add_argument("--since", metavar="DATE",
                        help="only cases opened on or after this day (YYYY-MM-DD, in schedule.timezone)")
    report.add_argument("--until", metavar="DATE",
                        help="only cases opened on or before this day (YYYY-MM-DD, in schedule.timezone)")
    report.add_argument("--owner", metavar="ADDRESS", type=owner_address, help="only the cases this staff member owns")
    report.add_argument("--mailbox", metavar="NAME", help="only cases that came in by this mailbox")
    report.add_argument("--json", action="store_true", help="the figures as JSON (times in UTC)")
    report.add_argument("--html", metavar="FILE", help="write a self-contained HTML report with charts")
    report.set_defaults(func=cmd_report)

"""``aftercare report``: what keeps going wrong."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .common import load as _load, open_db as _open_db


def cmd_report(args) -> int:
    from datetime import date

    from ..clock import utcnow
    from ..report import build_report, render_html, render_text
    config = _load(args)
    _open_db(config)
    since = None
    if args.since:
        try:
            since = date.fromisoformat(args.since)
        except ValueError:
            print(f"--since: {args.since!r} is not a date (YYYY-MM-DD)", file=sys.stderr)
            return 2
    report = build_report(since=since, now=utcnow(), mailbox=args.mailbox)
    if args.html:
        Path(args.html).write_text(render_html(report), encoding="utf-8")
        print(f"report written to {args.html}", file=sys.stderr)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    elif not args.html:
        print(render_text(report))
    return 0



def register(sub, add) -> None:
    report = add(sub, "report", help="what keeps going wrong: response times, plans kept, ratings, causes")
    report.add_argument("--since", help="only cases opened on or after this date (YYYY-MM-DD)")
    report.add_argument("--mailbox", metavar="NAME", help="only cases that came in by this mailbox")
    report.add_argument("--json", action="store_true", help="the figures as JSON")
    report.add_argument("--html", metavar="FILE", help="write a self-contained HTML report with charts")
    report.set_defaults(func=cmd_report)


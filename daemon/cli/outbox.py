"""``aftercare outbox``: list, retry and cancel outgoing emails."""
from __future__ import annotations

import getpass
import json
import os
import sys

from .common import load as _load, open_db as _open_db


def _actor() -> str:
    """Who to name on the case: the person behind sudo, else the login running the command."""
    who = os.environ.get("SUDO_USER") or os.environ.get("USER")
    if not who:
        try:
            who = getpass.getuser()  # LOGNAME, ..., then the password database
        except (OSError, KeyError):
            who = f"uid {os.getuid()}"
    return f"{who} (CLI)"


def _now():
    from ..clock import utcnow
    return utcnow()


def cmd_outbox_list(args) -> int:
    from ..store.outbox_admin import list_outbox
    _open_db(_load(args))
    rows = list_outbox(args.status)
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False, default=str))
        return 0
    if not rows:
        print(f"no {args.status} emails" if args.status else "no unsent emails")
        return 0
    print(f"{'id':>6} {'case':>6}  {'status':<8} {'tries':>5}  {'kind':<18} {'recipient':<32} last error")
    for r in rows:
        case = "-" if r["case"] is None else str(r["case"])
        error = (r["last_error"] or "").replace("\n", " ")
        print(f"{r['id']:>6} {case:>6}  {r['status']:<8} {r['attempts']:>5}  {r['kind'][:18]:<18} "
              f"{r['recipient'][:32]:<32} {error[:70]}")
    return 0


def cmd_outbox_retry(args) -> int:
    from ..store.outbox_admin import OutboxRefused, retry, retry_all_failed
    _open_db(_load(args))
    if args.all_failed:
        done = retry_all_failed(_now(), _actor())
        for r in done:
            print(f"email #{r['id']} ({r['kind']} to {r['recipient']}) is pending again")
        print(f"{len(done)} failed email{'s' if len(done) != 1 else ''} retried")
        return 0
    try:
        r = retry(args.id, _now(), _actor())
    except OutboxRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"email #{r['id']} ({r['kind']} to {r['recipient']}) is pending again: the running daemon sends it "
          "within seconds")
    return 0


def cmd_outbox_cancel(args) -> int:
    from ..store.outbox_admin import OutboxRefused, cancel
    _open_db(_load(args))
    try:
        r = cancel(args.id, _now(), _actor())
    except OutboxRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"email #{r['id']} ({r['kind']} to {r['recipient']}) cancelled: it will not be sent")
    return 0


def register(sub, add) -> None:
    from ..store.outbox_admin import LISTABLE
    outbox = add(sub, "outbox", help="see and steer outgoing emails")
    osub = outbox.add_subparsers(dest="outbox_command", required=True)

    lst = add(osub, "list", help="list emails not yet sent (pending, sending, held, failed)")
    lst.add_argument("--status", choices=[s.value for s in LISTABLE],
                     help="only emails with this status (failed, pending, held)")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_outbox_list)

    retry = add(osub, "retry", help="send a failed or held email (again), or a pending one now")
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("id", type=int, nargs="?", metavar="ID", help="the email's id (outbox list)")
    which.add_argument("--all-failed", action="store_true", help="every failed email")
    retry.set_defaults(func=cmd_outbox_retry)

    cancel = add(osub, "cancel", help="never send a pending, held or failed email")
    cancel.add_argument("id", type=int, metavar="ID", help="the email's id (outbox list)")
    cancel.set_defaults(func=cmd_outbox_cancel)

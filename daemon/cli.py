"""The ``aftercare`` command: subcommands only, each a thin call into the package."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .config import ConfigError, config_path_from, config_warnings, load_config, load_raw
from .cases.states import CaseStatus
from .store.database import AlreadyRunning, DatabaseUnavailable
from .templates import TemplateProblem, Templates


def _load(args):
    return load_config(config_path_from(args.config))


def cmd_run(args) -> int:
    from .service import run
    return run(config_path_from(args.config), args.log_format)


def cmd_check_config(args) -> int:
    path = config_path_from(args.config)
    config = load_config(path)
    for warning in config_warnings(config, load_raw(config.path)):
        print(f"warning: {warning}")
    from .samples import validate_templates
    variables = validate_templates(config, Templates(config.templates.directory, config.schedule.timezone))
    print(f"{config.path}: configuration is valid")
    print(f"templates: {len(variables)} compiled and rendered with sample data")
    for name, names in variables.items():
        print(f"  {name}: {', '.join(names)}")
    if args.offline:
        return 0
    from .online_check import check_online
    return 0 if check_online(config) else 1


def _open_db(config):
    from .store.database import open_database
    open_database(config.database.url)


def cmd_cases_list(args) -> int:
    from .store.views import case_summaries
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


def _read_case(args, view):
    """``view(case_id)`` from the configured database, or None after saying there is no such case."""
    _open_db(_load(args))
    found = view(args.case)
    if found is None:
        print(f"no case #{args.case}", file=sys.stderr)
    return found


def cmd_cases_show(args) -> int:
    from .store.views import case_detail
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
    from .mail.compose import file_name
    from .store import files
    from .store.views import case_attachments
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
    from .templates import format_size
    return format_size(n)


def cmd_report(args) -> int:
    from datetime import date

    from .clock import utcnow
    from .report import build_report, render_html, render_text
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


def cmd_render(args) -> int:
    from .samples import render_sample
    config = _load(args)
    templates = Templates(config.templates.directory, config.schedule.timezone)
    if args.case is not None:
        _open_db(config)
    print(render_sample(config, templates, args.template, args.case))
    return 0


def cmd_oauth2_authorize(args) -> int:
    from .consent import authorize
    config = _load(args)
    inbox = config.inbox(args.mailbox) if args.mailbox else config.default_inbox
    if inbox is None:
        print(f"{config.path}: no mailbox named {args.mailbox!r}; mailboxes: "
              f"{', '.join(i.name for i in config.inboxes)}", file=sys.stderr)
        return 1
    table = inbox.smtp.oauth2 if args.table == "smtp" else inbox.mailbox.oauth2
    if table is None and args.table == "smtp" and inbox.smtp.auth == "oauth2" and inbox.mailbox.oauth2 is not None:
        print(f"[{inbox.key}] has no smtp.oauth2 table: SMTP shares the mailbox's grant, so one consent serves "
              "both: run `aftercare oauth2 authorize` (--table mailbox)", file=sys.stderr)
        return 1
    if table is None:
        print(f"{config.path}: there is no [{inbox.key if args.table == 'mailbox' else inbox.key + '.smtp'}.oauth2] "
              "table to authorize (see config.example.toml)", file=sys.stderr)
        return 1
    return authorize(table.settings, table=args.table, flow=args.flow, redirect_uri=args.redirect_uri,
                     out=lambda line: print(line, flush=True), err=lambda line: print(line, file=sys.stderr, flush=True))


def cmd_demo(args) -> int:
    from .demo import run_demo
    return run_demo(Path(args.workdir) if args.workdir else None)


def build_parser() -> argparse.ArgumentParser:
    config_help = "configuration file (default: $AFTERCARE_CONFIG, then /etc/aftercare/config.toml)"
    # --config works before or after the subcommand: "aftercare --config x run" and "aftercare run --config x".
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS, help=config_help)
    p = argparse.ArgumentParser(prog="aftercare", description="A follow-up daemon for customer complaints.")
    p.add_argument("--config", help=config_help)
    p.add_argument("--version", action="version", version=f"aftercare {version()}")
    sub = p.add_subparsers(dest="command", required=True)

    def add(subparsers, name: str, **kw) -> argparse.ArgumentParser:
        return subparsers.add_parser(name, parents=[common], **kw)

    run = add(sub, "run", help="run the daemon in the foreground")
    run.add_argument("--log-format", choices=("auto", "json", "console"), default="auto")
    run.set_defaults(func=cmd_run)

    check = add(sub, "check-config", help="validate the configuration and templates, try the servers")
    check.add_argument("--offline", action="store_true", help="do not log in to IMAP and SMTP")
    check.set_defaults(func=cmd_check_config)

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

    render = add(sub, "render", help="show an email template rendered with sample data or a case")
    render.add_argument("template", help="e.g. customer/acknowledgment")
    render.add_argument("--case", type=int)
    render.set_defaults(func=cmd_render)

    report = add(sub, "report", help="what keeps going wrong: response times, plans kept, ratings, causes")
    report.add_argument("--since", help="only cases opened on or after this date (YYYY-MM-DD)")
    report.add_argument("--mailbox", metavar="NAME", help="only cases that came in by this mailbox")
    report.add_argument("--json", action="store_true", help="the figures as JSON")
    report.add_argument("--html", metavar="FILE", help="write a self-contained HTML report with charts")
    report.set_defaults(func=cmd_report)

    oauth2 = add(sub, "oauth2", help="OAuth2 logins (Microsoft 365, Google)")
    osub = oauth2.add_subparsers(dest="oauth2_command", required=True)
    authorize = add(osub, "authorize", help="the one-time consent from a headless server: writes refresh_token_file")
    authorize.add_argument("--table", choices=("mailbox", "smtp"), default="mailbox",
                           help="which [X.oauth2] table (default: mailbox; SMTP without its own shares it)")
    authorize.add_argument("--mailbox", metavar="NAME", help="which of several [[mailboxes]] (default: the first)")
    authorize.add_argument("--flow", choices=("device", "paste"),
                           help="device code (default for microsoft) or paste the redirected address "
                                "(default for google)")
    authorize.add_argument("--redirect-uri", default="http://127.0.0.1:8765/",
                           help="for --flow paste: where the browser is sent (must be registered for the app)")
    authorize.set_defaults(func=cmd_oauth2_authorize)

    demo = add(sub, "demo", help="run a throwaway Dovecot and SMTP server and show a complaint end to end")
    demo.add_argument("--workdir", help="keep the demo's files here (default: a temporary directory)")
    demo.set_defaults(func=cmd_demo)
    return p


def version() -> str:
    """The installed package's version (pyproject.toml), or the source tree's when not installed."""
    from importlib.metadata import PackageNotFoundError, version as installed
    try:
        return installed("aftercare")
    except PackageNotFoundError:
        return "unknown (not installed)"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Config path defaults only matter to subcommands that read one.
    try:
        code = args.func(args)
        sys.stdout.flush()  # inside the try: a closed pipe found at the last write is handled below too
        return code
    except BrokenPipeError:
        # "aftercare cases show 2 | head": the reader went away; end quietly, as other commands do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a command killed by a closed pipe
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 1
    except TemplateProblem as exc:
        print(f"template error: {exc}", file=sys.stderr)
        return 1
    except AlreadyRunning as exc:
        print(f"not started: {exc}", file=sys.stderr)
        return 1
    except DatabaseUnavailable as exc:
        # The cause in one line (which file or server, and why), not a traceback; systemd restarts us.
        print(f"not started: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""Setting the service up: run, check-config, render, oauth2 authorize, demo."""
from __future__ import annotations

import sys
from pathlib import Path

from ..config import config_path_from, config_warnings, load_config, load_raw
from ..templates import Templates
from .common import load as _load, open_db as _open_db


def cmd_run(args) -> int:
    from ..service import run
    return run(config_path_from(args.config), args.log_format)


def cmd_check_config(args) -> int:
    """A few lines by default (what was checked, what is wrong); ``--verbose`` adds each template's variables."""
    from ..database_check import check_database
    from ..samples import validate_templates
    from ..templates import TemplateProblem
    path = config_path_from(args.config)
    config = load_config(path)
    width = _width()

    def out(line: str) -> None:
        _say(line, sys.stdout, width)

    def err(line: str) -> None:
        _say(line, sys.stderr, width)

    ok = True
    out(f"{config.path}: configuration is valid")
    for line in setup_summary(config):
        out(line)
    database = check_database(config.database.url)
    for line in database.lines:
        out(line)
    for problem in database.problems:
        err(problem)
    ok &= database.ok
    try:
        variables = validate_templates(config, Templates(config.templates.directory, config.schedule.timezone))
    except TemplateProblem as exc:
        err(f"template error: {exc}")
        ok = False
    else:
        more = "" if args.verbose else " (--verbose lists what each may use)"
        out(f"templates: {len(variables)} compiled and rendered with sample data{more}")
        if args.verbose:
            for name, names in variables.items():
                print(f"  {name}: {', '.join(names)}")  # one line each, whatever its length: made for grep
    prefix = f"{config.path}: "
    for warning in [*config_warnings(config, load_raw(config.path)), *database.warnings]:
        out(f"warning: {warning.removeprefix(prefix)}")  # the file is named on the first line
    if not args.offline:
        from ..online_check import check_online
        ok &= check_online(config, out=out, err=err)
    return 0 if ok else 1


def setup_summary(config) -> list[str]:
    """One line per mailbox and one per SMTP server: where the service will read and send."""
    lines = []
    for inbox in config.inboxes:
        label = "" if len(config.inboxes) == 1 else f" {inbox.name}"
        mb, smtp = inbox.mailbox, inbox.smtp_sending
        login = "OAuth2" if mb.auth == "oauth2" else "password"
        lines.append(f"mailbox{label}: {mb.username} at {mb.host}:{mb.port} ({mb.security}, {login}), "
                     f"folder {mb.folder}")
        who = f" as {smtp.username}" if smtp.username else ""
        lines.append(f"smtp{label}: {smtp.host}:{smtp.port} ({smtp.security}){who}, from {inbox.smtp.from_addr_spec}")
    return lines


def _width() -> int | None:
    """Lines fold at 100 columns (or a narrower terminal's width) on a terminal; a pipe gets one line per
    message, so that grep finds each whole."""
    import shutil
    if not sys.stdout.isatty():
        return None
    return min(100, shutil.get_terminal_size((100, 24)).columns)


def _say(line: str, stream, width: int | None) -> None:
    import textwrap
    if width is None or len(line) <= width:
        print(line, file=stream)
        return
    print("\n".join(textwrap.wrap(line, width, subsequent_indent="    ", break_long_words=False,
                                   break_on_hyphens=False)), file=stream)


def cmd_render(args) -> int:
    from ..samples import render_sample
    config = _load(args)
    templates = Templates(config.templates.directory, config.schedule.timezone)
    if args.case is not None:
        _open_db(config)
    print(render_sample(config, templates, args.template, args.case, args.language))
    return 0


def cmd_oauth2_authorize(args) -> int:
    from ..consent import authorize
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
    from ..demo import run_demo
    return run_demo(Path(args.workdir) if args.workdir else None)



def register(sub, add) -> None:
    run = add(sub, "run", help="run the daemon in the foreground")
    run.add_argument("--log-format", choices=("auto", "json", "console"), default="auto")
    run.set_defaults(func=cmd_run)

    check = add(sub, "check-config", help="validate the configuration, the templates and the database; "
                                          "log in to the servers")
    check.add_argument("--offline", action="store_true",
                       help="do not log in to IMAP and SMTP (the database is still checked: it is local to the "
                            "service)")
    check.add_argument("--verbose", "-v", action="store_true",
                       help="also list the variables each template may use")
    check.set_defaults(func=cmd_check_config)

    render = add(sub, "render", help="show an email template rendered with sample data or a case")
    render.add_argument("template", help="e.g. customer/acknowledgment")
    render.add_argument("--case", type=int)
    render.add_argument("--language", metavar="CODE",
                        help="render in this language (ISO 639-1, e.g. de); default: the case's, else "
                             "customer.default_language (staff emails: staff.language)")
    render.set_defaults(func=cmd_render)

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

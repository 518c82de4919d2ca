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
    path = config_path_from(args.config)
    config = load_config(path)
    for warning in config_warnings(config, load_raw(config.path)):
        print(f"warning: {warning}")
    from ..samples import validate_templates
    variables = validate_templates(config, Templates(config.templates.directory, config.schedule.timezone))
    print(f"{config.path}: configuration is valid")
    print(f"templates: {len(variables)} compiled and rendered with sample data")
    for name, names in variables.items():
        print(f"  {name}: {', '.join(names)}")
    if args.offline:
        return 0
    from ..online_check import check_online
    return 0 if check_online(config) else 1


def cmd_render(args) -> int:
    from ..samples import render_sample
    config = _load(args)
    templates = Templates(config.templates.directory, config.schedule.timezone)
    if args.case is not None:
        _open_db(config)
    print(render_sample(config, templates, args.template, args.case))
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

    check = add(sub, "check-config", help="validate the configuration and templates, try the servers")
    check.add_argument("--offline", action="store_true", help="do not log in to IMAP and SMTP")
    check.set_defaults(func=cmd_check_config)

    render = add(sub, "render", help="show an email template rendered with sample data or a case")
    render.add_argument("template", help="e.g. customer/acknowledgment")
    render.add_argument("--case", type=int)
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

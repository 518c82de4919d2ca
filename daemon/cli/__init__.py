"""The ``aftercare`` command: the parser and error handling here, each group of subcommands in its module."""
from __future__ import annotations

import argparse
import os
import sys

from ..config import ConfigError
from ..store.database import AlreadyRunning, DatabaseMissing, DatabaseUnavailable
from ..templates import TemplateProblem
from ..version import version
from . import cases, customer, outbox, package, report, setup, status


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

    for module in (setup, status, cases, outbox, customer, report, package):
        module.register(sub, add)
    return p


def _what_failed(exc: Exception, command: str) -> str:
    if isinstance(exc, ConfigError):
        return "configuration error"
    if isinstance(exc, TemplateProblem):
        return "template error"
    if isinstance(exc, AlreadyRunning) or (isinstance(exc, DatabaseUnavailable) and command == "run"):
        return "not started"
    return "error"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command != "run":
        # What the package logs while a command works (an outbox change, a token refreshed) goes to stderr
        # and only when it matters: stdout is the command's answer, for people and for scripts.
        from ..log import setup_logging
        setup_logging("console", "warning", stream=sys.stderr)
        if sys.stdout.isatty():
            from .common import PrintableStdout
            sys.stdout = PrintableStdout(sys.stdout)
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
    except (ConfigError, TemplateProblem, AlreadyRunning, DatabaseUnavailable, DatabaseMissing) as exc:
        # The cause in one line (which file, key or server, and why), not a traceback; systemd restarts us.
        print(f"{_what_failed(exc, args.command)}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

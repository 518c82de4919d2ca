"""``aftercare print-unit``, ``print-config``, ``completion``, ``man``: what an operator installs beside the wheel.

None of them reads a configuration: they are for setting one up. The unit and the example configuration are
package data (pyproject.toml maps systemd/ and config.example.toml into ``aftercare.bundled_service``), so a
wheel install prints the very files of the source tree; completion and the man page are generated from the
parser at run time, so they always list every subcommand of the installed version.
"""
from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

import shtab


# daemon/cli/package.py -> the checkout, for an editable install (see _bundled)
_SOURCE_TREE = Path(__file__).resolve().parents[2]


def _bundled(package: str, name: str, in_source_tree: str) -> bytes:
    """The file as the wheel carries it. An editable install (``pip install -e``) cannot import these data-only
    packages (setuptools' editable finder needs an ``__init__.py`` for a package mapped outside daemon/), and
    there the file is read where it lives in the checkout."""
    try:
        resource = resources.files(package) / name
    except ModuleNotFoundError:
        resource = _SOURCE_TREE / in_source_tree
    return resource.read_bytes()


def cmd_print_unit(args) -> int:
    # Bytes, not text: the output is the file itself (``> /etc/systemd/system/aftercare.service``).
    sys.stdout.buffer.write(_bundled("aftercare.bundled_service.systemd", "aftercare.service",
                                     "systemd/aftercare.service"))
    return 0


def cmd_print_config(args) -> int:
    sys.stdout.buffer.write(_bundled("aftercare.bundled_service", "config.example.toml", "config.example.toml"))
    return 0


def _parser():
    from . import build_parser  # here, not at import: cli/__init__ imports this module
    parser = build_parser()
    _complete_paths(parser)
    return parser


def _complete_paths(parser) -> None:
    """--config completes as a file name, at every level (shtab completes nothing it is not told about)."""
    for action in parser._actions:
        if action.dest == "config":
            action.complete = shtab.FILE
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                _complete_paths(subparser)


def cmd_completion(args) -> int:
    sys.stdout.write(shtab.complete(_parser(), shell=args.shell))
    return 0


def cmd_man(args) -> int:
    from argparse_manpage.manpage import Manpage

    from . import version
    page = Manpage(_parser())
    page.description = "follow-up daemon for customer complaints"
    page.source = f"aftercare {version()}"
    page.manual = "Aftercare Manual"
    sys.stdout.write(str(page))
    return 0


def register(sub, add) -> None:
    # sub.add_parser, not add(): these take no --config, since they never read one.
    unit = sub.add_parser("print-unit", help="print the systemd unit (for /etc/systemd/system/aftercare.service)")
    unit.set_defaults(func=cmd_print_unit)
    config = sub.add_parser("print-config", help="print the example configuration, every key explained")
    config.set_defaults(func=cmd_print_config)
    completion = sub.add_parser("completion", help="print the shell completion script")
    completion.add_argument("shell", choices=shtab.SUPPORTED_SHELLS)
    completion.set_defaults(func=cmd_completion)
    man = sub.add_parser("man", help="print this manual page as roff (aftercare man | man -l -)")
    man.set_defaults(func=cmd_man)

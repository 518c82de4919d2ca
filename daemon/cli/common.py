"""What the subcommands share: the configuration, the database opened for them, a case read or not."""
from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from ..config import config_path_from, load_config


def load(args):
    return load_config(config_path_from(args.config))


def open_db(config):
    """The service's database as it is: a missing one is an error naming where it was looked for."""
    from ..store.database import open_existing
    open_existing(config.database.url)


def read_case(args, view):
    """``view(case_id)`` from the configured database, or None after saying there is no such case."""
    open_db(load(args))
    found = view(args.case)
    if found is None:
        print(f"no case #{args.case}", file=sys.stderr)
    return found


def owner_address(text: str) -> str:
    """An owner is an address: "Jane <jane@example.com>" means jane@example.com; a word without @ is a typo."""
    from email.utils import parseaddr
    address = parseaddr(text)[1].strip()
    if "@" not in address:
        raise argparse.ArgumentTypeError(f"{text!r} is not an email address, e.g. jane@example.com")
    return address


#: C0 controls but tab and newline, DEL and C1: what lets text written by a customer move the cursor, clear
#: the screen or retitle the window when printed to a terminal.
_CONTROLS = dict.fromkeys([c for c in range(0x20) if c not in (0x09, 0x0A)] + list(range(0x7F, 0xA0)))


class PrintableStdout:
    """stdout for a terminal: customer text (subjects, names, comments) cannot drive the terminal.

    Only when stdout is a terminal: a pipe gets the exact text, for scripts (and ``--json`` escapes controls
    itself)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(text.translate(_CONTROLS))

    def __getattr__(self, name):
        return getattr(self._stream, name)


def parse_iso(iso: str) -> datetime:
    """A view's ISO UTC time (``...Z``) back to the naive UTC the store keeps."""
    return datetime.fromisoformat(iso.removesuffix("Z"))


def local_time(iso: str | None, zone: ZoneInfo, fmt: str, missing: str) -> str:
    """A view's ISO UTC time in the configured zone, as ``fmt`` says; ``missing`` when there is none."""
    if not iso:
        return missing
    return parse_iso(iso).replace(tzinfo=timezone.utc).astimezone(zone).strftime(fmt)

"""What the subcommands share: the configuration, the database opened for them, a case read or not."""
from __future__ import annotations

import sys

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

"""``aftercare status``: the service's state from the database, running or not."""
from __future__ import annotations


def register(sub, add) -> None:
    pass

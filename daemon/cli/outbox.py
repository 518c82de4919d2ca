"""``aftercare outbox``: list, retry and cancel outgoing emails."""
from __future__ import annotations


def register(sub, add) -> None:
    pass

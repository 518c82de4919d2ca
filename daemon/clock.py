"""The one clock. Only the edges call it; the case rules are handed ``now``."""
from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    """Naive UTC, the form every stored time takes."""
    return datetime.now(timezone.utc).replace(tzinfo=None)

"""The one backoff: exponential, capped, with jitter so that retries do not march in step."""
from __future__ import annotations

import random
from datetime import timedelta


def backoff(attempt: int, *, base: timedelta = timedelta(seconds=2), cap: timedelta,
            rng: random.Random | None = None) -> timedelta:
    """Delay before try number ``attempt + 1`` (``attempt`` counts failures so far, from 1)."""
    rng = rng or random
    exponent = min(max(attempt - 1, 0), 30)
    delay = min(cap.total_seconds(), base.total_seconds() * (2 ** exponent))
    # Full jitter in the upper half: never less than half the delay, never more than the cap.
    return timedelta(seconds=delay * (0.5 + rng.random() / 2))

#: Reconnecting to a database that went away: retried at least this often, so that service
#: resumes within seconds of its return.
DATABASE_RETRY_CAP = timedelta(seconds=5)

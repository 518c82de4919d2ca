"""Which mailboxes this instance should take or give back: a fair share of them each.

Pure: the lease rows and the live instances go in, the moves come out. Each instance aims at
``ceil(mailboxes / live instances)``. It takes free mailboxes (and those whose lease ended) while it holds
fewer; at its share it still takes one that has stayed free a moment (``grace``), so no mailbox waits on
a count of instances that includes a dead one. It gives back only when it holds more than its share
and another live instance holds fewer (as many as the others lack), so the moves settle instead of going
round.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Lease:
    holder: str | None
    expired_for: float  # seconds since the lease ended; negative while it runs


@dataclass(frozen=True)
class Moves:
    take: list[str]
    give_back: list[str]


def share(mailboxes: int, live: int) -> int:
    return math.ceil(mailboxes / max(1, live))


def plan(me: str, mailboxes: list[str], leases: dict[str, Lease], live: set[str], grace: float) -> Moves:
    """The takes and give-backs for ``me`` now; ``mailboxes`` in the configuration's order."""
    live = set(live) | {me}
    fair = share(len(mailboxes), len(live))
    holding: dict[str, list[str]] = {i: [] for i in live}
    free: list[tuple[str, float]] = []
    for name in mailboxes:
        lease = leases.get(name)
        if lease is None:
            free.append((name, float("inf")))
        elif lease.holder is None or lease.expired_for >= 0:  # given back (its end is the moment it was) or ended
            free.append((name, max(0.0, lease.expired_for)))
        else:
            holding.setdefault(lease.holder, []).append(name)
    mine = holding[me]
    take = [name for name, _ in free[:max(0, fair - len(mine))]]
    take += [name for name, ended in free[len(take):] if ended >= grace]
    # What the others lack, at most what this one holds over its share: all at once (a mailbox given back is not
    # taken again by its giver within the grace, so this settles in one pass instead of one mailbox a pass).
    lacking = sum(max(0, fair - len(holding[i])) for i in live if i != me)
    give_back = mine[len(mine) - min(max(0, len(mine) - fair), lacking):] if lacking else []
    return Moves(take, give_back)

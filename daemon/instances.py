"""Several instances on one PostgreSQL database: this one's heartbeat, and the mailboxes it watches.

The coordinator runs on a thread of its own. Every ``RENEW_EVERY`` seconds (or at once when another instance
gives a mailbox back: NOTIFY) it beats, renews the leases it holds, and takes or gives back mailboxes so each
instance watches a fair share (sharing.py). For each mailbox it holds there is a ``Fence``: the intake of
that mailbox commits and files mail only while the fence holds. A fence holds while the lease is known
renewed (a monotonic deadline a little inside the lease, so a frozen or cut-off holder stops by itself
before another may take over) and, at each commit, while the lease row still names this instance and
epoch (store/leases.py).
"""
from __future__ import annotations

import threading
import time
from typing import Callable

import structlog

from . import sharing
from .loop import Loop
from .store import health, leases
from .store.database import DATABASE_ERRORS, describe_error, reset_connection
from .store.leases import LeaseLost
from .trouble import Troubles, troubles as process_troubles

log = structlog.get_logger("aftercare.instances")

LEASE_SECONDS = 3.0  # a lease not renewed for this long may be taken by another instance
RENEW_EVERY = 1.0  # the coordinator's pass: heartbeat, renewals, takes
SAFETY_SECONDS = 0.75  # the holder stops this long before its lease could be taken
INSTANCE_LOST_AFTER = LEASE_SECONDS  # an instance silent this long no longer counts towards the fair share
GRACE_SECONDS = 1.0  # a mailbox free this long is taken even by an instance at its share
FORGET_INSTANCES_AFTER = 24 * 3600.0  # a silent instance's row is removed after a day


class Fence:
    """What the intake of one mailbox asks before it commits or files anything."""

    def __init__(self, mailbox: str, instance_id: str, epoch: int, valid_until: float):
        self.mailbox = mailbox
        self.instance_id = instance_id
        self.epoch = epoch
        self.valid_until = valid_until
        self.lost = False

    def holds(self) -> bool:
        return not self.lost and time.monotonic() < self.valid_until

    def ensure(self) -> None:
        if self.lost:
            raise LeaseLost(f"mailbox {self.mailbox}: another instance holds it now")
        if time.monotonic() >= self.valid_until:
            raise LeaseLost(f"mailbox {self.mailbox}: the lease could not be renewed in time")

    def check_commit(self, cursor) -> None:
        """The transaction's last statement: refuse the commit unless the lease row still names us."""
        self.ensure()
        cursor.execute('SELECT 1 FROM "mailbox_lease" WHERE "mailbox" = %s AND "holder" = %s AND "epoch" = %s '
                       'FOR SHARE', (self.mailbox, self.instance_id, self.epoch))
        if cursor.fetchone() is None:
            self.lost = True
            raise LeaseLost(f"mailbox {self.mailbox}: another instance took it (epoch {self.epoch} is over)")


class Coordinator(Loop):
    """PostgreSQL only. ``start_intake(name, fence)`` and ``stop_intake(name)`` are the service's."""

    name = "coordinator"

    def __init__(self, instance_id: str, label: str, started_at, mailboxes: Callable[[], list[str]],
                 start_intake: Callable[[str, Fence], None], stop_intake: Callable[[str], None],
                 running_intakes: Callable[[], set[str]], database_url: str = "",
                 troubles: Troubles | None = None):
        super().__init__()
        self.instance_id = instance_id
        self.label = label
        self.started_at = started_at
        self.mailboxes = mailboxes
        self.start_intake = start_intake
        self.stop_intake = stop_intake
        self.running_intakes = running_intakes
        self.database_url = database_url
        self.troubles = troubles or process_troubles
        self.fences: dict[str, Fence] = {}
        self.alive_until = 0.0  # monotonic: the heartbeat was stored recently enough to act on claims
        self.lapses = 0  # how often alive_until passed before the next beat (a freeze, the database away)
        self._lock = threading.Lock()
        self._failures = 0
        self._forgot_at = 0.0

    def attach(self, stop: threading.Event) -> "Coordinator":
        """For the service's Worker: the same coordinator (and its leases) after a restart of its thread."""
        self.stop = stop
        return self

    def liveness(self) -> tuple[bool, int]:
        """Whether the heartbeat is recent (another instance cannot yet count this one as gone), and how many
        times it lapsed: a claim made before a lapse may have been taken over (dispatch.py asks again)."""
        return time.monotonic() < self.alive_until, self.lapses

    def held(self) -> dict[str, Fence]:
        with self._lock:
            return {m: f for m, f in self.fences.items() if f.holds()}

    def run(self) -> None:
        while not self.stop.is_set():
            self.beat()
            self.run_pass()
            if not self.ready.is_set():
                self.ready.set()
            self.sleep(RENEW_EVERY, wakeable=True)

    def run_pass(self) -> None:
        """One turn: beat, renew, reconcile the intakes with the fences, take and give back."""
        started = time.monotonic()
        try:
            leases.heartbeat(self.instance_id, self.label, self.started_at)
            if started >= self.alive_until:
                self.lapses += 1
            self.alive_until = started + INSTANCE_LOST_AFTER - SAFETY_SECONDS
            self._renew(started)
            self._reconcile()
            self._move()
            if time.monotonic() - self._forgot_at > 3600:
                self._forgot_at = time.monotonic()
                leases.forget_stale_instances(FORGET_INSTANCES_AFTER)
        except DATABASE_ERRORS as exc:
            reset_connection()
            self._failures += 1
            self.troubles.report("leases", exc, "database unavailable; mailbox leases cannot be renewed",
                                 describe=describe_error(self.database_url, exc))
            self._reconcile()  # fences past their deadline: their intakes stop
            return
        if self._failures:
            self._failures = 0
            self.troubles.clear("leases", "database back; mailbox leases renewed")

    def _renew(self, started: float) -> None:
        with self._lock:
            held = {m: f.epoch for m, f in self.fences.items() if not f.lost}
        still = leases.renew(self.instance_id, held, LEASE_SECONDS)
        with self._lock:
            for mailbox in held:
                fence = self.fences[mailbox]
                if mailbox in still:
                    fence.valid_until = started + LEASE_SECONDS - SAFETY_SECONDS
                else:
                    fence.lost = True
                    del self.fences[mailbox]
                    log.warning("mailbox lease lost: another instance watches it now", case_mailbox=mailbox,
                                epoch=fence.epoch)

    def _reconcile(self) -> None:
        """Run an intake exactly for the fences that hold (a configured mailbox); stop the others."""
        wanted = set(self.mailboxes())
        with self._lock:
            holding = {m for m, f in self.fences.items() if f.holds() and m in wanted}
            fences = dict(self.fences)
        running = self.running_intakes()
        for mailbox in running - holding:
            self.stop_intake(mailbox)
        for mailbox in holding - running:
            self.start_intake(mailbox, fences[mailbox])

    def _move(self) -> None:
        configured = self.mailboxes()
        leases.ensure_mailboxes(configured)
        rows = leases.all_leases()
        for mailbox in [m for m in list(self.fences) if m not in configured]:
            self.give_back(mailbox, "no longer configured")  # removed by a reload
        live = set(leases.live_instances(INSTANCE_LOST_AFTER))
        view = {m: sharing.Lease(r.holder, r.expired_for) for m, r in rows.items()}
        moves = sharing.plan(self.instance_id, configured, view, live, GRACE_SECONDS)
        for mailbox in moves.take:
            started = time.monotonic()
            epoch = leases.take(self.instance_id, mailbox, LEASE_SECONDS)
            if epoch is None:
                continue  # another instance was quicker, or its row is busy: the next pass looks again
            fence = Fence(mailbox, self.instance_id, epoch, started + LEASE_SECONDS - SAFETY_SECONDS)
            with self._lock:
                self.fences[mailbox] = fence
            before = rows.get(mailbox)
            log.info("mailbox lease taken", case_mailbox=mailbox, epoch=epoch,
                     previous_holder=before.holder if before else None,
                     ended_for=round(before.expired_for, 2) if before and before.holder else None)
            self.start_intake(mailbox, fence)
        for mailbox in moves.give_back:
            self.give_back(mailbox, "another instance holds fewer")

    def give_back(self, mailbox: str, why: str) -> None:
        """Hand the mailbox over at once: the fence stops our intake's commits first, then the row is freed."""
        with self._lock:
            fence = self.fences.pop(mailbox, None)
        if fence is None:
            return
        fence.lost = True
        try:
            leases.release(self.instance_id, mailbox, fence.epoch)
        except DATABASE_ERRORS as exc:  # it ends by itself within LEASE_SECONDS
            reset_connection()
            log.warning("mailbox lease could not be given back; it ends by itself", case_mailbox=mailbox,
                        error=str(exc))
        log.info("mailbox lease given back", case_mailbox=mailbox, epoch=fence.epoch, reason=why)
        self.stop_intake(mailbox)

    def give_back_all(self) -> None:
        """A clean stop: every mailbox handed over at once, and this instance's row removed, so that the others
        count one instance fewer and take its mailboxes without waiting out the grace."""
        for mailbox in list(self.fences):
            self.give_back(mailbox, "stopping")
        try:
            health.forget_instance(self.instance_id)
        except DATABASE_ERRORS:
            reset_connection()

    def run_until_idle(self) -> int:
        self.run_pass()
        return len(self.held())

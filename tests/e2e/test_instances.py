"""Several instances on one PostgreSQL database (issue 19): real Dovecot, aiosmtpd, PostgreSQL, daemons as processes.

Three instances share two mailboxes while the test kills the holder of a mailbox three times and freezes one for
ten seconds: every complaint gets one case and is acknowledged, the only repeats are emails in flight at a kill
(same Message-ID), and the frozen instance records and files nothing once it comes back. A clean stop and a reload
hand their mailboxes over within a second. Each test prints one line of figures starting "INSTANCES".
"""
from __future__ import annotations

import collections
import json
import random
import signal
import threading
import time
from datetime import datetime

import psycopg2
import pytest

from aftercare.testing.daemonproc import DaemonProcess
from test_several_mailboxes import Box, Mailboxes, USERS, complaint_to

COMPLAINTS = 300
FEED_SECONDS = 30.0
TAKEOVER_LIMIT = 5.0


def _rows(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    conn = psycopg2.connect(url, connect_timeout=3)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


def _seconds(line: dict) -> float:
    return datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00")).timestamp()


class Cluster:
    """The instances of one configuration, started, killed, frozen and restarted as systemd would."""

    def __init__(self, boxes: Mailboxes, url: str):
        self.boxes, self.url = boxes, url
        self.instances: list[DaemonProcess] = []
        self.killed: list[DaemonProcess] = []

    def start(self, wait: bool = True) -> DaemonProcess:
        d = DaemonProcess(self.boxes.config, self.boxes.tmp / f"instance-{len(self.instances) + len(self.killed)}.log")
        d.start()
        self.instances.append(d)
        if wait:
            d.wait_ready(timeout=30)
        return d

    def holders(self) -> dict[str, tuple[str | None, int]]:
        """mailbox -> (holder id, epoch), as the lease rows say."""
        return {m: (h, e) for m, h, e in _rows(self.url, "select mailbox, holder, epoch from mailbox_lease "
                                                          "where expires_at > now() at time zone 'utc'")}

    def by_holder(self, holder: str) -> DaemonProcess:
        pid = int(holder.split(":")[1])
        [d] = [d for d in self.instances if d.proc.pid == pid]
        return d

    def wait_taken(self, mailbox: str, after_epoch: int, timeout: float = 20.0) -> tuple[float, str]:
        """Until the mailbox's lease has a higher epoch than ``after_epoch``: (when, new holder)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            holder, epoch = self.holders().get(mailbox, (None, 0))
            if holder and epoch > after_epoch:
                return time.monotonic(), holder
            time.sleep(0.02)
        raise TimeoutError(f"{mailbox} not taken over within {timeout}s")

    def stop_all(self) -> None:
        for d in self.instances:
            d.signal(signal.SIGCONT)
            d.stop()


@pytest.fixture
def cluster(tmp_path, dovecot_factory, smtp_sink, postgres_url):
    boxes = Mailboxes(tmp_path, dovecot_factory(users=USERS), smtp_sink, database_url=postgres_url)
    c = Cluster(boxes, postgres_url)
    yield c
    c.stop_all()


def _write(c: Cluster, *names: str, poll: str = "1s") -> None:
    c.boxes.write_config(*[Box(n) for n in names])
    text = c.boxes.config.read_text().replace('poll_interval = "1s"', f'poll_interval = "{poll}"')
    c.boxes.config.write_text(text + '\n[log]\nlevel = "debug"\n')


def test_three_instances_share_two_mailboxes_through_kills_and_a_freeze_losing_and_doubling_nothing(cluster):
    c = cluster
    _write(c, "support", "billing")
    c.boxes.smtp.data_delay = 0.003  # emails are in flight for a moment, as on a real server
    for _ in range(3):
        c.start()
    held = c.holders()
    assert set(held) == {"support", "billing"} and len({h for h, _ in held.values()}) == 2, held

    customers = [f"customer{i:03d}@example.net" for i in range(COMPLAINTS)]
    box_of = {cust: ("support", "billing")[i % 2] for i, cust in enumerate(customers)}

    def feed():
        for i, cust in enumerate(customers):
            c.boxes.dovecot.append(box_of[cust], USERS[box_of[cust]], "INBOX",
                                   complaint_to(box_of[cust], cust, subject=f"Complaint {i}")[0])
            time.sleep(FEED_SECONDS / COMPLAINTS)

    feeder = threading.Thread(target=feed)
    started = time.monotonic()
    feeder.start()
    takeovers: list[tuple[str, str, float]] = []
    rng = random.Random(19)
    frozen = frozen_box = None
    try:
        for step, at in enumerate((4.0, 10.0, 16.0, 21.0)):
            time.sleep(max(0.0, started + at - time.monotonic()))
            box = ("support", "billing")[step % 2]
            holder, epoch = c.holders()[box]
            victim = c.by_holder(holder)
            time.sleep(rng.uniform(0, 0.3))
            hit = time.monotonic()
            if step < 3:
                victim.kill()
                c.instances.remove(victim)
                c.killed.append(victim)
                how = "kill"
            else:
                victim.signal(signal.SIGSTOP)
                frozen, frozen_box = victim, box
                how = "freeze"
            taken_at, new_holder = c.wait_taken(box, epoch)
            assert new_holder != holder
            takeovers.append((how, box, taken_at - hit))
            if how == "kill":
                c.start(wait=False)  # systemd's Restart=: the instance comes back and joins the others
        time.sleep(max(0.0, started + 21.0 + 10.0 - time.monotonic()))
        thawed_at = time.time()
        frozen.signal(signal.SIGCONT)
    finally:
        feeder.join()
    # Everyone is answered, and nothing is left to send.
    deadline = time.monotonic() + 90
    acked = lambda: {m.rcpt_tos[0] for m in c.boxes.smtp.messages} >= set(customers)  # noqa: E731
    unfinished = lambda: _rows(c.url, "select count(*) from message where direction = 'out' "  # noqa: E731
                                      "and status in ('pending', 'sending')")[0][0]
    while not (acked() and unfinished() == 0):
        assert time.monotonic() < deadline, (len({m.rcpt_tos[0] for m in c.boxes.smtp.messages}), unfinished())
        time.sleep(0.2)
    time.sleep(1.0)

    cases = collections.Counter(r[0] for r in _rows(c.url, 'select customer_address from "case"'))
    assert {cust: cases[cust] for cust in customers} == {cust: 1 for cust in customers}
    assert len(cases) == COMPLAINTS
    to_customers = [m for m in c.boxes.smtp.messages if m.rcpt_tos[0] in box_of]
    per_customer = collections.Counter(m.rcpt_tos[0] for m in to_customers)
    by_message_id = collections.Counter(m.message["Message-ID"] for m in c.boxes.smtp.messages)
    repeats = sum(n - 1 for n in by_message_id.values())
    kills = sum(1 for how, _, _ in takeovers if how == "kill")
    assert repeats <= kills, [mid for mid, n in by_message_id.items() if n > 1]
    # A customer's repeated acknowledgment is the same email again, never a second one.
    for cust, n in per_customer.items():
        ids = {m.message["Message-ID"] for m in to_customers if m.rcpt_tos[0] == cust}
        assert len(ids) == 1, (cust, n, ids)
    # No email went out from two living instances: a Message-ID sent by two came from one that was killed.
    sent_by: dict[str, set[str]] = collections.defaultdict(set)
    for d in c.instances + c.killed:
        for line in d.log_lines():
            if line.get("event") == "email sent":
                sent_by[line["message_id"]].add(str(d.log_path))
    killed_logs = {str(d.log_path) for d in c.killed}
    twice = {mid: logs for mid, logs in sent_by.items() if len(logs) > 1}
    assert all(logs & killed_logs for logs in twice.values()), twice
    assert len(twice) <= kills
    # Back from the freeze, the frozen instance recorded and filed nothing of the mailbox it had lost.
    key = f"{frozen_box}@127.0.0.1:{c.boxes.dovecot.port}/INBOX"
    until_taken = []
    for line in frozen.log_lines():
        if not line.get("timestamp") or _seconds(line) < thawed_at:
            continue
        if line.get("event") == "mailbox lease taken" and line.get("case_mailbox") == frozen_box:
            break  # it holds the mailbox again, rightly: what follows is its own
        if line.get("mailbox") == key:
            until_taken.append(line)
    assert not [l for l in until_taken if l.get("event") in ("batch committed", "messages filed")], until_taken
    # It stopped watching: its intake saw the fence fail, or its coordinator, finding the lease gone, stopped it.
    assert {l.get("event") for l in until_taken} & {"mailbox no longer held by this instance: intake stops",
                                                    "intake stopped"}, [l.get("event") for l in until_taken]
    assert all(t < TAKEOVER_LIMIT for _, _, t in takeovers), takeovers
    assert {len(c.boxes.dovecot.fetch_all(b, USERS[b], "INBOX")) for b in ("support", "billing")} == {0}
    print("\nINSTANCES chaos: %d complaints over 2 mailboxes, 3 instances; takeovers %s; %d emails, %d repeated "
          "(same Message-ID; %d kills); the frozen instance recorded and filed nothing after SIGCONT"
          % (COMPLAINTS, ", ".join(f"{how} {box} {t:.2f}s" for how, box, t in takeovers),
             len(c.boxes.smtp.messages), repeats, kills))


def _gap(giver: DaemonProcess, taker: DaemonProcess, box: str, since: float) -> float:
    """Seconds from the giver's intake of ``box`` stopping to the taker's being connected to it."""
    suffix = f"{box}@"
    stopped = [_seconds(l) for l in giver.log_lines() if l.get("event") in ("mailbox lease given back",)
               and l.get("case_mailbox") == box and _seconds(l) >= since]
    connected = [_seconds(l) for l in taker.log_lines() if l.get("event") == "mailbox connected"
                 and suffix in l.get("mailbox", "") and _seconds(l) >= since]
    assert stopped and connected, (giver.tail(), taker.tail())
    return connected[0] - stopped[0]


def test_a_clean_stop_and_a_reload_hand_mailboxes_over_within_a_second_and_status_names_the_holders(cluster):
    c = cluster
    _write(c, "support", "billing")
    first = c.start()
    held = c.holders()
    assert {h for h, _ in held.values()} == {next(iter(held.values()))[0]}  # alone, it watches both
    second = c.start()
    # The first gives one mailbox to the newcomer.
    deadline = time.monotonic() + 10
    while len({h for h, _ in c.holders().values()}) < 2:
        assert time.monotonic() < deadline, c.holders()
        time.sleep(0.05)
    out = c.boxes.cli("status", "--json")
    status = json.loads(out.stdout)
    labels = {i["label"] for i in status["instances"]}
    assert {f"{i['label'].split(':')[0]}:{d.proc.pid}" for d, i in zip((first, second), status["instances"])} \
        == labels and all(i["running"] and i["heartbeat_at"] for i in status["instances"])
    holders = {m["name"]: m["holder"] for m in status["mailboxes"]}
    assert {h["id"] for h in holders.values()} == {i["id"] for i in status["instances"]}
    assert all(m["held_since"] for m in status["mailboxes"]) and out.returncode == 0, status

    # A clean stop hands the first's mailbox to the second at once.
    first_box = next(m for m, (h, _) in c.holders().items() if int(h.split(":")[1]) == first.proc.pid)
    t0 = time.time()
    c.boxes.complain(first_box, "during-stop@example.net")
    assert first.stop() == 0
    stop_gap = _gap(first, second, first_box, t0)
    c.boxes.complain(first_box, "after-stop@example.net")
    c.boxes.wait_ack("during-stop@example.net")
    c.boxes.wait_ack("after-stop@example.net")
    assert {h for h, _ in c.holders().values()} == {f"{h}" for h, _ in c.holders().values()} and \
        all(int(h.split(":")[1]) == second.proc.pid for h, _ in c.holders().values())

    # A reload that changes the mailboxes' settings restarts the intakes: watching resumes within a second.
    t1 = time.time()
    _write(c, "support", "billing", poll="2s")
    second.signal(signal.SIGHUP)
    second.wait_for_log(lambda l: l.get("event") == "configuration reloaded" and _seconds(l) >= t1, timeout=20)
    deadline = time.monotonic() + 10
    while len(connected := [_seconds(l) for l in second.log_lines() if l.get("event") == "mailbox connected"
                            and _seconds(l) >= t1]) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    stopped = [_seconds(l) for l in second.log_lines() if l.get("event") == "intake stopped" and _seconds(l) >= t1]
    assert len(stopped) >= 2 and len(connected) >= 2, second.tail()
    reload_gap = max(connected) - min(stopped)
    c.boxes.complain("support", "after-reload@example.net")
    c.boxes.wait_ack("after-reload@example.net")
    assert stop_gap < 1.0 and reload_gap < 1.0, (stop_gap, reload_gap)
    emails = collections.Counter(m.message["Message-ID"] for m in c.boxes.smtp.messages)
    assert max(emails.values()) == 1
    # With every instance stopped, status still answers from the database, and says so.
    second.stop()
    out = c.boxes.cli("status", "--json")
    status = json.loads(out.stdout)
    assert out.returncode == 3 and status["instances"] == [] and all(m["holder"] is None for m in status["mailboxes"])
    print(f"\nINSTANCES handover: a clean stop handed {first_box} over in {stop_gap:.2f}s; a reload resumed "
          f"watching in {reload_gap:.2f}s; status listed both instances and the holder of each mailbox")


def test_on_sqlite_status_names_the_one_daemon_as_the_holder_of_every_mailbox(tmp_path, dovecot_factory, smtp_sink):
    boxes = Mailboxes(tmp_path, dovecot_factory(users=USERS), smtp_sink)
    try:
        boxes.start(Box("support"), Box("billing"))
        deadline = time.monotonic() + 15
        while True:
            status = json.loads(boxes.cli("status", "--json").stdout)
            if status["instances"] or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        [only] = status["instances"]
        assert only["label"].endswith(f":{boxes.daemon.proc.pid}") and only["running"]
        assert [m["holder"] for m in status["mailboxes"]] == [{"id": only["id"], "label": only["label"]}] * 2
        assert all(m["held_since"] == only["started_at"] for m in status["mailboxes"])
        # Killed, its row stays; the next daemon's file lock proves it gone, and status names the new one.
        boxes.daemon.kill()
        boxes.daemon.start()
        boxes.daemon.wait_ready()
        deadline = time.monotonic() + 15
        while True:
            out = boxes.cli("status", "--json")
            status = json.loads(out.stdout)
            if [i["label"] for i in status["instances"]] == [only["label"].rsplit(":", 1)[0] + f":{boxes.daemon.proc.pid}"] \
                    or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        [again] = status["instances"]
        assert again["label"].endswith(f":{boxes.daemon.proc.pid}") and again["id"] != only["id"]
        assert [m["holder"]["id"] for m in status["mailboxes"]] == [again["id"]] * 2 and out.returncode == 0, status
    finally:
        boxes.stop()


def test_every_instance_accepts_lmtp_on_the_one_address_of_the_configuration(cluster):
    from test_lmtp import LmtpClient, free_port

    c = cluster
    port = free_port()
    c.boxes.write_config(Box("support"), Box("billing"))
    c.boxes.config.write_text(c.boxes.config.read_text() + f'\n[lmtp]\nlisten = "127.0.0.1:{port}"\n')
    first, second = c.start(), c.start()  # the same address: SO_REUSEPORT, the kernel spreads connections
    customers = [f"lmtp{i}@example.net" for i in range(24)]
    for i, cust in enumerate(customers):
        client = LmtpClient(port)
        try:
            rcpt, after = client.deliver(complaint_to("support", cust, subject=f"By LMTP {i}")[0],
                                         ["support@example.com"], sender=cust)
        finally:
            client.close()
        assert rcpt == ["250 2.1.5 OK"] or rcpt[0].startswith("250"), rcpt
        assert after[0].startswith("250"), after
    for cust in customers:
        c.boxes.wait_ack(cust, timeout=20)
    recorded = {str(d.log_path): sum(1 for l in d.log_lines() if l.get("event") == "message recorded"
                                     and l.get("mailbox") == "support") for d in (first, second)}
    assert sum(recorded.values()) == len(customers) and all(recorded.values()), recorded
    cases = collections.Counter(r[0] for r in _rows(c.url, 'select customer_address from "case"'))
    assert all(cases[cust] == 1 for cust in customers) and len(cases) == len(customers)
    print(f"\nINSTANCES lmtp: {len(customers)} deliveries to one address, recorded by both instances "
          f"({sorted(recorded.values())}), one case each")

"""``make bench``: how close Aftercare gets to what the mail servers themselves allow.

Everything runs on loopback against the same real Dovecot and SMTP server the
tests use, and each figure is printed beside its floor or baseline measured in
the same run:

1. acknowledgment latency (APPEND -> SMTP accepted) vs a bare IDLE+fetch+send client;
2. backlog throughput vs a script that only fetches, sends and moves;
3. the schedule at scale (100,000 cases, 300,000 steps and timers, 1,000,000 messages);
4. start-up to READY;
5. three mailboxes busy at once in one daemon: latency per mailbox and backlog throughput, beside
   the one-mailbox figures, and every email From its mailbox's address;
6. the LMTP intake (issue 18): acknowledgment latency from the end of DATA, beside the IMAP IDLE floor,
   and a backlog delivered by 4 parallel LMTP connections, beside the IMAP backlog;
7. several instances on one PostgreSQL database (issue 19): the backlog of the three mailboxes with one, two
   and three instances, and how long the others take to take a mailbox over when its holder is killed.

Sizes can be reduced for a quick look: ``python bench/bench.py --quick``.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import make_msgid
from pathlib import Path

from imapclient import IMAPClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aftercare.testing.daemonproc import DaemonProcess, write_config  # noqa: E402
from aftercare.testing.dovecot import Dovecot  # noqa: E402
from aftercare.testing.smtpsink import SmtpSink  # noqa: E402

PASSWORD = "bench"


def complaint(i: int, tag: str) -> bytes:
    return (f"From: Customer {i} <{tag}{i}@example.net>\r\nTo: support@example.com\r\n"
            f"Subject: Complaint {i}\r\nDate: Mon, 02 Mar 2026 09:00:00 +0000\r\n"
            f"Message-ID: {make_msgid(domain='bench.example.net')}\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\nMy order {i} arrived broken.\r\n").encode()


def machine() -> str:
    """What the figures were measured on: they mean little without it."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or platform.machine())
    mem = next((int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal:")), 0)
    dovecot = subprocess.run(["/usr/sbin/dovecot", "--version"], capture_output=True, text=True).stdout.strip()
    return (f"{cpu}, {os.cpu_count()} cores, {mem:,} MB memory; {platform.platform()}; "
            f"Python {platform.python_version()}; Dovecot {dovecot.split()[0] if dovecot else '?'}")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[max(0, min(len(values) - 1, int(round(p / 100 * len(values) + 0.5)) - 1))]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- 1. latency ---------------------------------------------------------------

def floor_latency(dovecot: Dovecot, sink: SmtpSink, n: int, gap: float) -> list[float]:
    """A bare client: IDLE, fetch the new message, send one email. Nothing else."""
    stop = threading.Event()
    ready = threading.Event()

    def client() -> None:
        imap = IMAPClient(dovecot.host, dovecot.port, ssl=False)
        imap.login("floor", PASSWORD)
        imap.select_folder("INBOX")
        smtp = smtplib.SMTP(sink.host, sink.port)
        last = max(imap.search(["ALL"]) or [0])
        imap.idle()
        ready.set()
        while not stop.is_set():
            if not imap.idle_check(timeout=0.5):
                continue
            imap.idle_done()
            while True:
                uids = [u for u in imap.search(["UID", f"{last + 1}:*"]) if u > last]
                for uid, data in imap.fetch(uids, ["BODY.PEEK[]"]).items():
                    raw = data[b"BODY[]"]
                    sender = raw.split(b"<", 1)[1].split(b">", 1)[0].decode()
                    smtp.sendmail("support@example.com", [sender], b"Subject: ack\r\n\r\nthanks\r\n")
                    last = max(last, uid)
                # Mail announced in the replies to SEARCH or FETCH is not announced again in IDLE.
                if not imap._imap.untagged_responses.pop("EXISTS", None):
                    break
            imap.idle()
        imap.idle_done()
        imap.logout()
        smtp.quit()

    t = threading.Thread(target=client, daemon=True)
    t.start()
    ready.wait(10)
    try:
        return _append_and_time(dovecot, "floor", sink, n, gap, "f")
    finally:
        stop.set()
        t.join(5)


def _append_and_time(dovecot: Dovecot, user: str, sink: SmtpSink, n: int, gap: float, tag: str) -> list[float]:
    latencies = []
    with dovecot.client(user, PASSWORD) as imap:
        for i in range(n):
            rcpt = f"{tag}{i}@example.net"
            t0 = time.time()
            imap.append("INBOX", complaint(i, tag))
            got = sink.wait_for(lambda m: rcpt in m.rcpt_tos, timeout=30)
            latencies.append(min(m.received_at for m in got) - t0)
            time.sleep(gap)
    return latencies


def daemon_latency(work: Path, dovecot: Dovecot, sink: SmtpSink, n: int, gap: float) -> list[float]:
    config = write_config(work / "latency.toml", imap_port=dovecot.port, smtp_port=sink.port,
                          imap_user="support", imap_password=PASSWORD,
                          database_url=f"sqlite:///{work}/latency.db", poll_interval="60s")
    with DaemonProcess(config, work / "latency.log") as d:
        d.wait_ready()
        return _append_and_time(dovecot, "support", sink, n, gap, "d")


# --- 2. backlog ---------------------------------------------------------------

def preload(dovecot: Dovecot, user: str, n: int, tag: str) -> None:
    with dovecot.client(user, PASSWORD, timeout=60) as imap:
        for i in range(n):
            imap.append("INBOX", complaint(i, tag))


def baseline_backlog(dovecot: Dovecot, sink: SmtpSink, n: int) -> float:
    """Only the transport: fetch every message, send two emails for each over one connection, move them."""
    t0 = time.monotonic()
    with dovecot.client("base", PASSWORD, timeout=60) as imap:
        imap.select_folder("INBOX")
        if not imap.folder_exists("Done"):
            imap.create_folder("Done")
        uids = imap.search(["ALL"])
        smtp = smtplib.SMTP(sink.host, sink.port)
        for start in range(0, len(uids), 10):
            chunk = uids[start:start + 10]
            for uid, data in imap.fetch(chunk, ["BODY.PEEK[]"]).items():
                sender = data[b"BODY[]"].split(b"<", 1)[1].split(b">", 1)[0].decode()
                smtp.sendmail("support@example.com", [sender], b"Subject: ack\r\n\r\nthanks\r\n")
                smtp.sendmail("support@example.com", ["jane@example.com"], b"Subject: new\r\n\r\ncase\r\n")
            imap.move(chunk, "Done")
        smtp.quit()
    return time.monotonic() - t0


def daemon_backlog(work: Path, dovecot: Dovecot, sink: SmtpSink, n: int, profile: Path | None = None) -> dict:
    """The daemon started on a full mailbox: seconds until every email is accepted and the folder is empty.

    Also read from the daemon's own log: when it was logged in, when intake recorded the last
    complaint and when the last email went, and the CPU the process used (it runs on one core:
    its threads share one interpreter lock).
    """
    config = write_config(work / "backlog.toml", imap_port=dovecot.port, smtp_port=sink.port,
                          imap_user="backlog", imap_password=PASSWORD,
                          database_url=f"sqlite:///{work}/backlog.db", poll_interval="60s")
    before = len(sink.messages)
    wall0 = time.time()
    t0 = time.monotonic()
    with DaemonProcess(config, work / "backlog.log") as d:
        spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--format", "raw",
                                "--rate", "250", "--threads", "--gil", "--nonblocking", "-o", str(profile),
                                "--pid", str(d.proc.pid)]) if profile else None
        deadline = time.monotonic() + 3600
        while len(sink.messages) - before < 2 * n and time.monotonic() < deadline:
            time.sleep(0.01)
        with dovecot.client("backlog", PASSWORD) as imap:
            while imap.select_folder("INBOX")[b"EXISTS"] and time.monotonic() < deadline:
                time.sleep(0.01)
        elapsed = time.monotonic() - t0
        peak = rss_mb(d.proc.pid)
        stat = Path(f"/proc/{d.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
        lines = d.log_lines()
    if spy is not None:
        spy.wait(30)

    def seconds_at(event: str, last: bool = False) -> float | None:
        stamps = [line["timestamp"] for line in lines if line.get("event") == event]
        if not stamps:
            return None
        at = datetime.fromisoformat(stamps[-1 if last else 0].rstrip("Z")).replace(tzinfo=timezone.utc)
        return round(at.timestamp() - wall0, 3)

    return {"seconds": elapsed, "rss_mb": peak, "cpu_seconds": cpu,
            "logged_in_at": seconds_at("mailbox connected"),
            "last_recorded_at": seconds_at("message recorded", last=True),
            "last_sent_at": seconds_at("email sent", last=True)}


# --- 3. scale -----------------------------------------------------------------

def build_scale_db(url: str, cases: int, steps_per_case: int, messages_per_case: int) -> None:
    from aftercare.store.database import open_database
    from aftercare.store.models import Case, Message, PlanStep, Timer, database
    open_database(url)
    base = datetime(2026, 1, 1)
    far = datetime(2030, 1, 1)
    batch = 2000 if url.startswith("sqlite") else 5000
    with database.atomic():
        for start in range(0, cases, batch):
            rows = [dict(id=i + 1, status=("open", "resolved", "closed")[i % 3], customer_address=f"c{i}@x.example",
                         customer_name="", subject=f"Case {i}", owner="jane@example.com", created_at=base,
                         updated_at=base) for i in range(start, min(cases, start + batch))]
            Case.insert_many(rows).execute()
    with database.atomic():
        step_id = 0
        for start in range(0, cases, batch // steps_per_case):
            steps, timers = [], []
            for c in range(start, min(cases, start + batch // steps_per_case)):
                for k in range(steps_per_case):
                    step_id += 1
                    steps.append(dict(id=step_id, case=c + 1, number=k + 1, text="Send it", due_at=far,
                                      created_at=base))
                    timers.append(dict(case=c + 1, kind="step_overdue", step=step_id, due_at=far))
            PlanStep.insert_many(steps).execute()
            Timer.insert_many(timers).execute()
    with database.atomic():
        for start in range(0, cases, batch // messages_per_case):
            msgs = []
            for c in range(start, min(cases, start + batch // messages_per_case)):
                for k in range(messages_per_case):
                    out = k % 2 == 1
                    msgs.append(dict(case=c + 1, direction="out" if out else "in", kind="customer",
                                     message_id=f"m{c}.{k}@x", fingerprint=None if out else f"m{c}.{k}@x#f",
                                     from_address="", to="[]", recipient="", subject="s", text="t",
                                     attachments="[]", note="", created_at=base, status="sent" if out else None,
                                     automated=False, attempts=0, last_error=""))
            Message.insert_many(msgs).execute()
    database.close()


def time_scheduler(url: str, due: int) -> float:
    """Milliseconds for one timer pass (median of several) with ``due`` timers due."""
    from aftercare.casework import Casework
    from aftercare.config import load_config
    from aftercare.log import setup_logging
    setup_logging("json", "error")  # the daemon logs each fired timer; that is not what is measured here
    from aftercare.store.database import open_database
    from aftercare.store.models import Timer, database
    from aftercare.templates import Templates
    db = open_database(url)
    cfg = load_config(CONFIG_FOR_SCALE)
    cw = Casework(cfg, Templates(None))
    now = datetime(2026, 6, 1)
    runs = []
    if due:
        ids = [t.id for t in Timer.select(Timer.id).where(Timer.state == "waiting").limit(due)]
        Timer.update(due_at=datetime(2026, 5, 1)).where(Timer.id.in_(ids)).execute()
        t0 = time.perf_counter()
        fired = 0
        while True:
            n = cw.fire_due_timers(now, limit=1000)
            fired += n
            if n == 0:
                break
        runs.append((time.perf_counter() - t0) * 1000)
        assert fired == due, fired
    else:
        for _ in range(21):
            t0 = time.perf_counter()
            cw.fire_due_timers(now)
            runs.append((time.perf_counter() - t0) * 1000)
    db.close()
    database.initialize(None)
    return statistics.median(runs)


# --- 5. three mailboxes -------------------------------------------------------

#: The three mailboxes of the scenario: (name, address); each is a Dovecot user of that name. Their
#: customers are ``l<name><i>@example.net`` (latency) and ``k<name><i>@example.net`` (backlog).
MAILBOXES = (("support", "Acme Support <support@example.com>"),
             ("billing", "Acme Billing <billing@example.com>"),
             ("shop", "Acme Shop <shop@example.com>"))


def write_mailboxes_config(path: Path, dovecot: Dovecot, sink: SmtpSink, database_url: str) -> Path:
    """The usual bench config with its [mailbox] table replaced by one [[mailboxes]] table per mailbox."""
    write_config(path, imap_port=dovecot.port, smtp_port=sink.port, imap_user="support",
                 imap_password=PASSWORD, database_url=database_url, poll_interval="60s")
    text = path.read_text()
    head, rest = text.split("[mailbox]\n", 1)
    tables = "".join(f"""[[mailboxes]]
name = "{name}"
address = "{address}"
host = "127.0.0.1"
port = {dovecot.port}
security = "none"
username = "{name}"
password = "{PASSWORD}"
idle = true
poll_interval = "60s"
timeout = "10s"

""" for name, address in MAILBOXES)
    path.write_text(head + tables + "[smtp]\n" + rest.split("[smtp]\n", 1)[1])
    return path


def _wait_inboxes_empty(dovecot: Dovecot, deadline: float) -> None:
    for name, _ in MAILBOXES:
        with dovecot.client(name, PASSWORD) as imap:
            while imap.select_folder("INBOX")[b"EXISTS"] and time.monotonic() < deadline:
                time.sleep(0.01)


def _from_check(received: list, tags: dict[str, str]) -> dict:
    """Each email attributed to a mailbox by the customer it is about (``<tag><i>@example.net``: the
    acknowledgment's recipient, the staff notification's text): is it From that mailbox's address?"""
    from email.utils import parseaddr
    want = {tag: parseaddr(address)[1].lower() for tag, address in tags.items()}
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, tags)) + r")\d+@example\.net")
    acks = mismatches = unattributed = 0
    for m in received:
        about = next((pattern.match(r) for r in m.rcpt_tos if pattern.match(r)), None)
        if about:
            acks += 1
        else:
            about = pattern.search(m.message.get_body(("plain",)).get_content() if m.message.is_multipart()
                                   else m.message.get_content())
        if about is None:
            unattributed += 1
            continue
        sender = parseaddr(m.message["From"] or "")[1].lower()
        mismatches += sender != want[about.group(1)]
    return {"emails": len(received), "acknowledgments": acks, "from_mismatches": mismatches,
            "unattributed": unattributed}


def mailboxes_latency(work: Path, dovecot: Dovecot, sink: SmtpSink, rounds: int, gap: float) -> dict:
    """One daemon, three mailboxes: each round appends one complaint to each mailbox at once, then waits
    for the three acknowledgments; latency is APPEND to SMTP accepted, as for one mailbox."""
    config = write_mailboxes_config(work / "mailboxes-latency.toml", dovecot, sink,
                                     f"sqlite:///{work}/mailboxes-latency.db")
    tags = {f"l{name}": address for name, address in MAILBOXES}
    latencies: dict[str, list[float]] = {name: [] for name, _ in MAILBOXES}
    before = len(sink.messages)
    with DaemonProcess(config, work / "mailboxes-latency.log") as d:
        d.wait_ready()
        with contextlib.ExitStack() as stack:
            imaps = [(name, stack.enter_context(dovecot.client(name, PASSWORD))) for name, _ in MAILBOXES]
            for i in range(rounds):
                sent = []
                for name, imap in imaps:
                    tag = f"l{name}"
                    t0 = time.time()
                    imap.append("INBOX", complaint(i, tag))
                    sent.append((name, f"{tag}{i}@example.net", t0))
                for name, rcpt, t0 in sent:
                    got = sink.wait_for(lambda m, rcpt=rcpt: rcpt in m.rcpt_tos, timeout=30)
                    latencies[name].append(min(m.received_at for m in got) - t0)
                time.sleep(gap)
        # The staff notification of the last round, and the move out of INBOX, before the daemon stops.
        deadline = time.monotonic() + 30
        while len(sink.messages) - before < 2 * 3 * rounds and time.monotonic() < deadline:
            time.sleep(0.01)
        _wait_inboxes_empty(dovecot, deadline)
    every = [v for values in latencies.values() for v in values]
    out = {name: {"p50": statistics.median(v), "p95": pct(v, 95), "max": max(v)} for name, v in latencies.items()}
    out["all"] = {"p50": statistics.median(every), "p95": pct(every, 95), "max": max(every)}
    return {"per_mailbox": out, "from_check": _from_check(sink.messages[before:], tags)}


def mailboxes_backlog(work: Path, dovecot: Dovecot, sink: SmtpSink, n: int) -> dict:
    """One daemon started on three full mailboxes (``n`` complaints each): seconds until every email is
    accepted and the three folders are empty, and when each mailbox's last acknowledgment went."""
    tags = {f"k{name}": address for name, address in MAILBOXES}
    for name, _ in MAILBOXES:
        preload(dovecot, name, n, f"k{name}")
    config = write_mailboxes_config(work / "mailboxes-backlog.toml", dovecot, sink,
                                     f"sqlite:///{work}/mailboxes-backlog.db")
    before = len(sink.messages)
    wall0 = time.time()
    t0 = time.monotonic()
    with DaemonProcess(config, work / "mailboxes-backlog.log") as d:
        deadline = time.monotonic() + 3600
        while len(sink.messages) - before < 2 * 3 * n and time.monotonic() < deadline:
            time.sleep(0.01)
        _wait_inboxes_empty(dovecot, deadline)
        elapsed = time.monotonic() - t0
        peak = rss_mb(d.proc.pid)
        stat = Path(f"/proc/{d.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
        lines = d.log_lines()
    received = sink.messages[before:]
    per_mailbox = {}
    for name, _ in MAILBOXES:
        customer = re.compile(rf"k{name}\d+@example\.net")
        acks = sorted(m.received_at - wall0 for m in received if any(customer.fullmatch(r) for r in m.rcpt_tos))
        recorded = [line["timestamp"] for line in lines if line.get("event") == "message recorded"
                    and str(line.get("mailbox", "")).startswith(f"{name}@")]
        last_recorded = (datetime.fromisoformat(recorded[-1].rstrip("Z")).replace(tzinfo=timezone.utc).timestamp()
                         - wall0) if recorded else None
        per_mailbox[name] = {"acknowledged": len(acks), "first_ack_at": acks[0] if acks else None,
                             "last_ack_at": acks[-1] if acks else None,
                             "last_recorded_at": round(last_recorded, 3) if last_recorded is not None else None,
                             "complaints_per_s": len(acks) / acks[-1] if acks else 0.0}
    def last_at(event: str) -> float | None:
        stamps = [line["timestamp"] for line in lines if line.get("event") == event]
        return round(datetime.fromisoformat(stamps[-1].rstrip("Z")).replace(tzinfo=timezone.utc).timestamp()
                     - wall0, 3) if stamps else None

    return {"n_per_mailbox": n, "complaints": 3 * n, "emails": 6 * n, "seconds": elapsed,
            "last_recorded_at": last_at("message recorded"), "last_sent_at": last_at("email sent"),
            "complaints_per_s": 3 * n / elapsed, "rss_mb": peak, "cpu_seconds": cpu,
            "per_mailbox": per_mailbox, "from_check": _from_check(received, tags)}


# --- 6. LMTP intake -----------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LmtpClient:
    """A bare LMTP client (RFC 2033) on a socket of its own, to time the end of DATA exactly: the moment
    the last bytes of "\\r\\n.\\r\\n" are handed to the kernel. It reads one reply per recipient after DATA,
    which Python's smtplib.LMTP does not."""

    def __init__(self, port: int, timeout: float = 60.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.file = self.sock.makefile("rb")
        self._expect(self.reply(), "220")
        self.command("LHLO bench.example.net", "250")

    def reply(self) -> str:
        lines = []
        while True:
            line = self.file.readline()
            if not line:
                raise ConnectionError("the LMTP server closed the connection")
            lines.append(line.decode().rstrip("\r\n"))
            if line[3:4] != b"-":
                return "\n".join(lines)

    @staticmethod
    def _expect(reply: str, code: str) -> str:
        if not reply.startswith(code):
            raise RuntimeError(f"LMTP: expected {code}, got {reply!r}")
        return reply

    def command(self, line: str, code: str) -> str:
        self.sock.sendall(line.encode() + b"\r\n")
        return self._expect(self.reply(), code)

    def send(self, sender: str, rcpt: str, data: bytes) -> tuple[float, float]:
        """One message: (time.time() at the end of DATA, seconds until its 250)."""
        self.command(f"MAIL FROM:<{sender}>", "250")
        self.command(f"RCPT TO:<{rcpt}>", "250")
        self.command("DATA", "354")
        body = re.sub(rb"(?m)^\.", b"..", data)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        self.sock.sendall(body + b".\r\n")
        end = time.time()
        t0 = time.perf_counter()
        self._expect(self.reply(), "250")
        return end, time.perf_counter() - t0

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.command("QUIT", "221")
        self.file.close()
        self.sock.close()


def _lmtp_daemon(work: Path, dovecot: Dovecot, sink: SmtpSink, name: str) -> tuple[Path, int]:
    """The usual bench config, with [lmtp] listen on a free loopback port. Its IMAP mailbox (the Dovecot user
    lmtp) stays empty: every complaint comes by LMTP, to support@example.com (the From address)."""
    port = free_port()
    config = write_config(work / f"{name}.toml", imap_port=dovecot.port, smtp_port=sink.port,
                          imap_user="lmtp", imap_password=PASSWORD, database_url=f"sqlite:///{work}/{name}.db",
                          poll_interval="60s", extra=f'[lmtp]\nlisten = "127.0.0.1:{port}"\n')
    return config, port


def _wait_listening(d: DaemonProcess) -> None:
    d.wait_ready()
    d.wait_for_log(lambda l: l.get("event") == "LMTP intake listening", timeout=20)


def lmtp_latency(work: Path, dovecot: Dovecot, sink: SmtpSink, n: int, gap: float) -> dict:
    """``n`` complaints one at a time, each on a new connection (as Postfix opens one when its queue holds
    nothing else for the destination): end of DATA -> acknowledgment accepted by the SMTP server; also end
    of DATA -> the daemon's 250 (the complaint committed)."""
    config, port = _lmtp_daemon(work, dovecot, sink, "lmtp-latency")
    latencies, replies = [], []
    with DaemonProcess(config, work / "lmtp-latency.log") as d:
        _wait_listening(d)
        for i in range(n):
            rcpt = f"lm{i}@example.net"
            client = LmtpClient(port)
            end, reply = client.send(rcpt, "support@example.com", complaint(i, "lm"))
            client.close()
            got = sink.wait_for(lambda m: rcpt in m.rcpt_tos, timeout=30)
            latencies.append(min(m.received_at for m in got) - end)
            replies.append(reply)
            time.sleep(gap)
    return {"n": n, "gap_seconds": gap,
            "ack": {"p50": statistics.median(latencies), "p95": pct(latencies, 95), "max": max(latencies)},
            "reply_250": {"p50": statistics.median(replies), "p95": pct(replies, 95), "max": max(replies)}}


def lmtp_backlog(work: Path, dovecot: Dovecot, sink: SmtpSink, n: int, connections: int = 4) -> dict:
    """``n`` complaints delivered as fast as the daemon answers, by ``connections`` parallel LMTP connections
    (one thread each, one message at a time per connection, as Postfix's lmtp clients do): complaints recorded
    per second (until the last 250: each 250 comes after its commit) and emails accepted per second (until
    the SMTP server has all ``2 n``: acknowledgment and staff notification)."""
    config, port = _lmtp_daemon(work, dovecot, sink, "lmtp-backlog")
    before = len(sink.messages)
    errors: list[str] = []
    replies: list[float] = []
    with DaemonProcess(config, work / "lmtp-backlog.log") as d:
        _wait_listening(d)
        cpu0 = _cpu_seconds(d.proc.pid)
        clients = [LmtpClient(port) for _ in range(connections)]
        start = threading.Barrier(connections + 1)

        def deliver(k: int) -> None:
            start.wait()
            try:
                for i in range(k, n, connections):
                    rcpt = f"lk{i}@example.net"
                    replies.append(clients[k].send(rcpt, "support@example.com", complaint(i, "lk"))[1])
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=deliver, args=(k,), daemon=True) for k in range(connections)]
        for t in threads:
            t.start()
        start.wait()
        t0 = time.monotonic()
        for t in threads:
            t.join()
        recorded = time.monotonic() - t0
        for c in clients:
            c.close()
        deadline = time.monotonic() + 600
        while len(sink.messages) - before < 2 * n and time.monotonic() < deadline and not errors:
            time.sleep(0.01)
        sent = time.monotonic() - t0
        peak = rss_mb(d.proc.pid)
        cpu = _cpu_seconds(d.proc.pid) - cpu0
    if errors:
        raise RuntimeError(f"LMTP backlog: {len(errors)} connection(s) failed: {errors[0]}")
    cases = subprocess.run([sys.executable, "-c", "import sqlite3, sys; print(sqlite3.connect(sys.argv[1])"
                            ".execute('select count(*) from \"case\"').fetchone()[0])", str(work / "lmtp-backlog.db")],
                           capture_output=True, text=True).stdout.strip()
    return {"n": n, "connections": connections, "emails": 2 * n, "emails_accepted": len(sink.messages) - before,
            "cases": int(cases or 0), "recorded_seconds": recorded, "complaints_per_s": n / recorded,
            "sent_seconds": sent, "emails_per_s": 2 * n / sent, "cpu_seconds": cpu, "rss_mb": peak,
            "reply_250": {"p50": statistics.median(replies), "p95": pct(replies, 95), "max": max(replies)}}


def _cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


# --- 7. several instances on PostgreSQL (issue 19) ------------------------------

#: Where the bench creates (and drops) a database of its own for each measurement; never the database "test".
PG_SERVER = os.environ.get("AFTERCARE_BENCH_PG_SERVER", "postgresql://postgres@127.0.0.1:5432")


@contextlib.contextmanager
def fresh_pg_database(label: str):
    """A new, empty PostgreSQL database with a unique name, its schema created (one process migrates it
    before any instance starts, so instances started together do not race on the migration); dropped after."""
    import uuid

    import psycopg2
    name = f"aftercare_bench_{label}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(f"{PG_SERVER}/postgres", connect_timeout=5)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        url = f"{PG_SERVER}/{name}"
        subprocess.run([sys.executable, "-c", "import sys; from aftercare.store.database import open_database; "
                        "open_database(sys.argv[1]).close()", url], check=True, cwd=ROOT)
        yield url
    finally:
        with contextlib.suppress(Exception), admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


class LeaseWatch:
    """The mailbox_lease rows read on one connection of its own: mailbox -> (holder, epoch)."""

    def __init__(self, url: str):
        import psycopg2
        self.conn = psycopg2.connect(url, connect_timeout=5)
        self.conn.autocommit = True

    def rows(self, live_only: bool = False) -> dict[str, tuple[str | None, int]]:
        where = " where holder is not null and expires_at > now() at time zone 'utc'" if live_only else ""
        with self.conn.cursor() as cur:
            cur.execute("select mailbox, holder, epoch from mailbox_lease" + where)
            return {m: (h, e) for m, h, e in cur.fetchall()}

    def scalar(self, sql: str):
        with self.conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchone()[0]

    def close(self) -> None:
        self.conn.close()


def _busy_jiffies() -> tuple[int, int]:
    """(all, idle + iowait) CPU time of the machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values), values[3] + values[4]


def _pid_of(holder: str | None) -> int | None:
    return int(holder.split(":")[1]) if holder else None


def _split(n: int, parts: int) -> list[int]:
    return [n // parts + (1 if k < n % parts else 0) for k in range(parts)]


def instances_backlog(work: Path, dovecot: Dovecot, sink: SmtpSink, n: int, instances: int) -> dict:
    """``n`` complaints waiting, spread evenly over the three mailboxes, then ``instances`` daemons started
    together on one fresh PostgreSQL database: seconds from their start until every complaint's acknowledgment
    is accepted by the SMTP server (its case is recorded before), and who held which mailbox meanwhile."""
    tags = {f"i{instances}{name}": address for name, address in MAILBOXES}
    customers = set()
    for (name, _), count in zip(MAILBOXES, _split(n, len(MAILBOXES))):
        preload(dovecot, name, count, f"i{instances}{name}")
        customers |= {f"i{instances}{name}{i}@example.net" for i in range(count)}
    with fresh_pg_database(f"i{instances}") as url:
        config = write_mailboxes_config(work / f"instances-{instances}.toml", dovecot, sink, url)
        watch = LeaseWatch(url)
        before = len(sink.messages)
        procs = [DaemonProcess(config, work / f"instances-{instances}-{k}.log") for k in range(instances)]
        stop = threading.Event()
        timeline: list[tuple[float, dict]] = []  # (seconds from the start, mailbox -> holder pid), at each change

        pg_cpu: dict[int, float] = {}  # PostgreSQL's server processes for this database: CPU seconds, last seen

        def watch_leases() -> None:
            w = LeaseWatch(url)
            try:
                while not stop.is_set():
                    now = {m: _pid_of(h) for m, (h, _) in w.rows(live_only=True).items()}
                    if not timeline or timeline[-1][1] != now:
                        timeline.append((round(time.time() - wall0, 3), now))
                    with w.conn.cursor() as cur:
                        cur.execute("select pid from pg_stat_activity where datname = current_database() "
                                    "and pid <> pg_backend_pid()")
                        for (pid,) in cur.fetchall():
                            with contextlib.suppress(OSError, ValueError):
                                pg_cpu[pid] = _cpu_seconds(pid)
                    stop.wait(0.1)
            finally:
                w.close()

        watcher = threading.Thread(target=watch_leases, daemon=True)
        wall0 = time.time()
        t0 = time.monotonic()
        jiffies0, self0 = _busy_jiffies(), time.process_time()
        with contextlib.ExitStack() as stack:
            for d in procs:
                stack.enter_context(d)
            watcher.start()
            acked: set[str] = set()
            last_ack = 0.0
            seen = before
            deadline = time.monotonic() + 3600
            while time.monotonic() < deadline:
                msgs = sink.messages
                for m in msgs[seen:]:
                    for r in m.rcpt_tos:
                        if r in customers and r not in acked:
                            acked.add(r)
                            last_ack = max(last_ack, m.received_at)
                seen = len(msgs)
                if len(acked) == len(customers) and seen - before >= 2 * n:
                    break
                if any(d.proc.poll() is not None for d in procs):
                    raise RuntimeError("an instance exited during the backlog:\n" + "\n".join(d.tail() for d in procs))
                time.sleep(0.02)
            jiffies1, self1 = _busy_jiffies(), time.process_time()
            _wait_inboxes_empty(dovecot, deadline)
            all_done = time.monotonic() - t0
            stop.set()
            watcher.join(5)
            holders_end = {m: _pid_of(h) for m, (h, _) in watch.rows(live_only=True).items()}
            cases = watch.scalar('select count(*) from "case"')
            distinct = watch.scalar('select count(distinct customer_address) from "case"')
            per_instance = []
            for d in procs:
                lines = d.log_lines()
                per_instance.append({
                    "pid": d.proc.pid, "cpu_seconds": _cpu_seconds(d.proc.pid), "rss_mb": rss_mb(d.proc.pid),
                    "recorded": sum(1 for l in lines if l.get("event") == "message recorded"),
                    "emails_sent": sum(1 for l in lines if l.get("event") == "email sent"),
                    "leases_taken": [l.get("case_mailbox") for l in lines if l.get("event") == "mailbox lease taken"],
                    "leases_given_back": [l.get("case_mailbox") for l in lines
                                          if l.get("event") == "mailbox lease given back"]})
        watch.close()
    received = sink.messages[before:]
    seconds = last_ack - wall0
    # When the mailboxes were first held by as many instances as there are (never, with one), and how often
    # a mailbox changed hands over the run.
    spread_at = next((t for t, now in timeline if len(set(now.values()) - {None}) == min(instances, len(MAILBOXES))
                      and len(now) == len(MAILBOXES)), None)
    changes = sum(1 for (_, a), (_, b) in zip(timeline, timeline[1:]) for m in b if a.get(m) != b.get(m))
    return {"instances": instances, "complaints": n, "emails": 2 * n, "acknowledged": len(acked),
            "seconds": seconds, "complaints_per_s": n / seconds, "all_emails_and_inboxes_empty_seconds": all_done,
            "cases": cases, "cases_distinct_customers": distinct, "spread_at": spread_at,
            "holder_changes": changes, "holders_at_end": holders_end,
            "holders_timeline": [[t, now] for t, now in timeline[:50]],
            "cpu_seconds_total": sum(p["cpu_seconds"] for p in per_instance), "per_instance": per_instance,
            # What else the run cost, until the last email: PostgreSQL's processes for this database, this
            # script (the SMTP server, the polling), and how busy the whole machine was (other work included).
            "postgres_cpu_seconds": sum(pg_cpu.values()), "bench_process_cpu_seconds": self1 - self0,
            "machine_busy_fraction": 1 - (jiffies1[1] - jiffies0[1]) / max(1, jiffies1[0] - jiffies0[0]),
            "from_check": _from_check(received, tags)}


def instances_takeover(work: Path, dovecot: Dovecot, sink: SmtpSink, kills: int, trickle_gap: float = 0.3) -> dict:
    """Three instances, three mailboxes and a light trickle of complaints (one every ``trickle_gap`` seconds,
    the mailboxes in turn): ``kills`` times, SIGKILL the holder of a mailbox and time until that mailbox's lease
    row names another instance at a higher epoch (read every 20 ms), then start a replacement, as systemd's
    Restart= would, and wait until the three share the mailboxes again (one each)."""
    import random
    rng = random.Random(19)
    with fresh_pg_database("takeover") as url:
        config = write_mailboxes_config(work / "instances-takeover.toml", dovecot, sink, url)
        watch = LeaseWatch(url)
        living: list[DaemonProcess] = []
        started = 0

        def start() -> None:
            nonlocal started
            d = DaemonProcess(config, work / f"instances-takeover-{started}.log")
            started += 1
            living.append(d.start())

        def wait_spread(timeout: float = 60.0) -> float:
            t = time.monotonic()
            pids = None
            while time.monotonic() < t + timeout:
                pids = {m: _pid_of(h) for m, (h, _) in watch.rows(live_only=True).items()}
                if len(pids) == len(MAILBOXES) and len(set(pids.values())) == len(MAILBOXES) \
                        and set(pids.values()) <= {d.proc.pid for d in living}:
                    return time.monotonic() - t
                time.sleep(0.05)
            raise TimeoutError(f"the three instances did not share the mailboxes within {timeout}s: {pids}")

        stop = threading.Event()
        appended: list[str] = []

        def trickle() -> None:
            with contextlib.ExitStack() as stack:
                imaps = [(name, stack.enter_context(dovecot.client(name, PASSWORD))) for name, _ in MAILBOXES]
                i = 0
                while not stop.is_set():
                    name, imap = imaps[i % len(imaps)]
                    imap.append("INBOX", complaint(i, f"t{name}"))
                    appended.append(f"t{name}{i}@example.net")
                    i += 1
                    stop.wait(trickle_gap)

        feeder = threading.Thread(target=trickle, daemon=True)
        before = len(sink.messages)
        takeovers = []
        try:
            for _ in range(3):
                start()
            first_spread = wait_spread()
            feeder.start()
            time.sleep(2.0)
            for k in range(kills):
                respread = wait_spread()
                box = MAILBOXES[k % len(MAILBOXES)][0]
                holder, epoch = watch.rows()[box]
                [victim] = [d for d in living if d.proc.pid == _pid_of(holder)]
                time.sleep(rng.uniform(0.0, 1.0))  # not in step with the holders' renewals
                hit = time.monotonic()
                victim.proc.kill()
                while True:
                    new_holder, new_epoch = watch.rows()[box]
                    if new_holder and new_holder != holder and new_epoch > epoch:
                        took = time.monotonic() - hit
                        break
                    if time.monotonic() - hit > 60:
                        raise TimeoutError(f"{box} not taken over within 60 s after a kill")
                    time.sleep(0.02)
                victim.kill()  # reaped
                living.remove(victim)
                takeovers.append({"kill": k + 1, "mailbox": box, "seconds": took, "epoch": [epoch, new_epoch],
                                  "resettled_before_s": respread})
                start()  # the replacement
            wait_spread()
        finally:
            stop.set()
            if feeder.is_alive():
                feeder.join(10)
            # Every complaint of the trickle answered: nothing was lost at a kill.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                acked = {r for m in sink.messages[before:] for r in m.rcpt_tos}
                if set(appended) <= acked:
                    break
                time.sleep(0.2)
            cases = watch.scalar('select count(*) from "case"') if living else None
            for d in living:
                d.stop()
            watch.close()
    seconds = [t["seconds"] for t in takeovers]
    acked = {r for m in sink.messages[before:] for r in m.rcpt_tos}
    return {"instances": 3, "mailboxes": len(MAILBOXES), "kills": len(takeovers), "trickle_gap_seconds": trickle_gap,
            "first_spread_seconds": first_spread, "takeovers": takeovers,
            "median": statistics.median(seconds), "max": max(seconds), "min": min(seconds),
            "trickle_complaints": len(appended), "trickle_acknowledged": len(set(appended) & acked),
            "trickle_cases": cases}


CONFIG_FOR_SCALE = Path(tempfile.gettempdir()) / "aftercare-bench-scale.toml"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small sizes for a quick look")
    ap.add_argument("--skip", default="", help="comma list of: " + ",".join(PARTS))
    ap.add_argument("--only", default="", help="comma list of the parts to run (the others are skipped)")
    ap.add_argument("--profile", type=Path, default=None,
                    help="record the backlog daemon with py-spy (raw flame format) into this file")
    ap.add_argument("--backlog", type=int, default=None, help="complaints in the backlog")
    ap.add_argument("--scale-cases", type=int, default=None, help="cases in the scale database")
    ap.add_argument("--kills", type=int, default=None, help="holders killed in the instances part's takeover")
    args = ap.parse_args()
    if args.profile and not (Path(sys.executable).parent / "py-spy").exists():
        ap.error("--profile needs py-spy in this environment: .venv/bin/pip install py-spy")
    q = args.quick
    n_latency, gap = (20, 0.3) if q else (100, 0.5)
    n_backlog = args.backlog or (300 if q else FULL_BACKLOG)
    scale_cases = 10_000 if q else 100_000
    if args.scale_cases:
        scale_cases = args.scale_cases
    n_mb_rounds, n_mb_backlog = (20, 100) if q else (40, 1000)
    n_kills = args.kills or (3 if q else FULL_KILLS)
    skip = set(filter(None, args.skip.split(",")))
    only = set(filter(None, args.only.split(",")))
    if (skip | only) - set(PARTS):
        ap.error(f"unknown part(s): {', '.join(sorted((skip | only) - set(PARTS)))}; the parts: {', '.join(PARTS)}")
    if only:
        skip |= set(PARTS) - only
    results: dict = {"machine": machine(),
                     "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    work = Path(tempfile.mkdtemp(prefix="aftercare-bench-"))
    dovecot = Dovecot(work / "dovecot")
    for user in ("support", "floor", "base", "backlog", "lmtp", *(name for name, _ in MAILBOXES if name != "support")):
        dovecot.add_user(user, PASSWORD)
    sink = SmtpSink()
    dovecot.start()
    sink.start()
    try:
        if "latency" not in skip:
            floor = floor_latency(dovecot, sink, n_latency, gap)
            ours = daemon_latency(work, dovecot, sink, n_latency, gap)
            results["latency"] = {
                "n": n_latency,
                "floor": {"p50": statistics.median(floor), "p95": pct(floor, 95), "max": max(floor)},
                "aftercare": {"p50": statistics.median(ours), "p95": pct(ours, 95), "max": max(ours)},
            }
            results["latency"]["ratio_p50"] = results["latency"]["aftercare"]["p50"] / results["latency"]["floor"]["p50"]
        if "backlog" not in skip:
            preload(dovecot, "base", n_backlog, "b")
            preload(dovecot, "backlog", n_backlog, "k")
            base = baseline_backlog(dovecot, sink, n_backlog)
            ours = daemon_backlog(work, dovecot, sink, n_backlog, args.profile)
            results["backlog"] = {"n": n_backlog, "emails": 2 * n_backlog,
                                  "baseline_seconds": base, "baseline_emails_per_s": 2 * n_backlog / base,
                                  "aftercare_seconds": ours["seconds"],
                                  "aftercare_emails_per_s": 2 * n_backlog / ours["seconds"],
                                  "ratio": base / ours["seconds"], "aftercare_rss_mb": ours["rss_mb"],
                                  "aftercare_cpu_seconds": ours["cpu_seconds"],
                                  "daemon_timeline_seconds": {k: ours[k] for k in (
                                      "logged_in_at", "last_recorded_at", "last_sent_at")}}
        if "mailboxes" not in skip:
            # Beside the one-mailbox figures of this run; measured here, at this scenario's sizes, when
            # those parts were skipped.
            lat_ref = results.get("latency")
            if lat_ref is None:
                floor = floor_latency(dovecot, sink, n_mb_rounds, gap)
                one = daemon_latency(work, dovecot, sink, n_mb_rounds, gap)
                lat_ref = {"n": n_mb_rounds, "floor": {"p50": statistics.median(floor), "p95": pct(floor, 95),
                                                       "max": max(floor)},
                           "aftercare": {"p50": statistics.median(one), "p95": pct(one, 95), "max": max(one)}}
            three = mailboxes_latency(work, dovecot, sink, n_mb_rounds, gap)
            ref_b = results.get("backlog")
            if ref_b is None:
                preload(dovecot, "backlog", 3 * n_mb_backlog, "k")
                one = daemon_backlog(work, dovecot, sink, 3 * n_mb_backlog)
                ref_b = {"n": 3 * n_mb_backlog, "aftercare_seconds": one["seconds"],
                         "aftercare_emails_per_s": 6 * n_mb_backlog / one["seconds"],
                         "aftercare_cpu_seconds": one["cpu_seconds"],
                         "daemon_timeline_seconds": {k: one[k] for k in ("last_recorded_at", "last_sent_at")}}
            many = mailboxes_backlog(work, dovecot, sink, n_mb_backlog)
            one_cps = ref_b["aftercare_emails_per_s"] / 2
            results["mailboxes"] = {
                "mailboxes": [name for name, _ in MAILBOXES],
                "latency": {"rounds": n_mb_rounds, "gap_seconds": gap, **three["per_mailbox"],
                            "from_check": three["from_check"],
                            "one_mailbox": {"n": lat_ref["n"], "floor_p50": lat_ref["floor"]["p50"],
                                            "aftercare_p50": lat_ref["aftercare"]["p50"],
                                            "aftercare_p95": lat_ref["aftercare"]["p95"],
                                            "same_run_part": "latency" in results},
                            "ratio_p50": three["per_mailbox"]["all"]["p50"] / lat_ref["floor"]["p50"]},
                "backlog": {**many, "one_mailbox": {"n": ref_b["n"], "seconds": ref_b["aftercare_seconds"],
                                                    "complaints_per_s": one_cps,
                                                    "cpu_seconds": ref_b["aftercare_cpu_seconds"],
                                                    "last_recorded_at": ref_b["daemon_timeline_seconds"]["last_recorded_at"],
                                                    "last_sent_at": ref_b["daemon_timeline_seconds"]["last_sent_at"],
                                                    "same_run_part": "backlog" in results},
                            "ratio_to_one_mailbox": many["complaints_per_s"] / one_cps},
            }
        if "lmtp" not in skip:
            # Beside the IMAP figures of this run; the IDLE floor and the IMAP backlog are measured here, at
            # the same sizes, when those parts were skipped.
            lat_ref = results.get("latency")
            if lat_ref is None:
                floor = floor_latency(dovecot, sink, n_latency, gap)
                lat_ref = {"n": n_latency, "floor": {"p50": statistics.median(floor), "p95": pct(floor, 95),
                                                     "max": max(floor)}}
            lat = lmtp_latency(work, dovecot, sink, n_latency, gap)
            ref_b = results.get("backlog")
            if ref_b is None:
                preload(dovecot, "backlog", n_backlog, "k")
                one = daemon_backlog(work, dovecot, sink, n_backlog)
                ref_b = {"n": n_backlog, "aftercare_seconds": one["seconds"],
                         "aftercare_emails_per_s": 2 * n_backlog / one["seconds"],
                         "daemon_timeline_seconds": {k: one[k] for k in (
                             "logged_in_at", "last_recorded_at", "last_sent_at")}}
            bl = lmtp_backlog(work, dovecot, sink, n_backlog)
            t = ref_b["daemon_timeline_seconds"]
            imap_recorded = t["last_recorded_at"] - t["logged_in_at"]
            imap_sent = t["last_sent_at"] - t["logged_in_at"]
            results["lmtp"] = {
                "latency": {**lat, "imap_floor": lat_ref["floor"],
                            "imap_aftercare": lat_ref.get("aftercare"), "imap_n": lat_ref["n"],
                            "same_run_part": "latency" in results},
                "backlog": {**bl, "imap": {"n": ref_b["n"], "seconds": ref_b["aftercare_seconds"],
                                           "recorded_seconds_from_login": imap_recorded,
                                           "complaints_per_s_from_login": ref_b["n"] / imap_recorded,
                                           "sent_seconds_from_login": imap_sent,
                                           "emails_per_s_from_login": 2 * ref_b["n"] / imap_sent,
                                           "emails_per_s": ref_b["aftercare_emails_per_s"],
                                           "same_run_part": "backlog" in results}},
            }
        if "instances" not in skip:
            # On a fresh PostgreSQL database for each measurement; the load average says what else ran.
            load_before = os.getloadavg()
            try:
                backlogs = [instances_backlog(work, dovecot, sink, n_backlog, k) for k in (1, 2, 3)]
                takeover = instances_takeover(work, dovecot, sink, n_kills)
            except ImportError as exc:  # psycopg2 missing
                results["instances"] = f"skipped: {exc}"
            else:
                results["instances"] = {
                    "n": n_backlog, "backlog": backlogs,
                    "ratio_3_to_1": backlogs[2]["complaints_per_s"] / backlogs[0]["complaints_per_s"],
                    "ratio_2_to_1": backlogs[1]["complaints_per_s"] / backlogs[0]["complaints_per_s"],
                    "takeover": takeover, "cores": os.cpu_count(),
                    "load_average_before": load_before, "load_average_after": os.getloadavg()}
        if "startup" not in skip:
            config = write_config(work / "startup.toml", imap_port=dovecot.port, smtp_port=sink.port,
                                  imap_user="floor", imap_password=PASSWORD,
                                  database_url=f"sqlite:///{work}/startup.db")
            t0 = time.monotonic()
            with DaemonProcess(config, work / "startup.log") as d:
                d.wait_ready()
                results["startup_seconds"] = time.monotonic() - t0
        if "scale" not in skip:
            CONFIG_FOR_SCALE.write_text(write_config(work / "scale.toml", imap_port=dovecot.port,
                                                     smtp_port=sink.port, imap_user="floor",
                                                     imap_password=PASSWORD,
                                                     database_url="sqlite:///unused.db").read_text())
            results["scale"] = {}
            for name, url in (("sqlite", f"sqlite:///{work}/scale.db"), ("postgresql", os.environ.get(
                    "AFTERCARE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/aftercare_bench"))):
                if name == "postgresql":
                    try:
                        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-qc",
                                        "DROP DATABASE IF EXISTS aftercare_bench WITH (FORCE)"], check=True)
                        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-qc",
                                        "CREATE DATABASE aftercare_bench"], check=True)
                    except (OSError, subprocess.CalledProcessError):
                        results["scale"][name] = "skipped: PostgreSQL unavailable"
                        continue
                t0 = time.monotonic()
                build_scale_db(url, scale_cases, 3, 10)
                built = time.monotonic() - t0
                idle_ms = time_scheduler(url, 0)
                due_ms = time_scheduler(url, 1000)
                cfg = write_config(work / f"scale-{name}.toml", imap_port=dovecot.port, smtp_port=sink.port,
                                   imap_user="floor", imap_password=PASSWORD, database_url=url)
                t0 = time.monotonic()
                out = subprocess.run([sys.executable, "-m", "aftercare", "--config", str(cfg), "cases", "list",
                                      "--status", "open", "--json"], capture_output=True, text=True)
                list_s = time.monotonic() - t0
                with DaemonProcess(cfg, work / f"scale-{name}.log") as d:
                    d.wait_ready(60)
                    time.sleep(1)
                    rss = rss_mb(d.proc.pid)
                results["scale"][name] = {"cases": scale_cases, "steps": 3 * scale_cases,
                                          "timers": 3 * scale_cases, "messages": 10 * scale_cases,
                                          "build_seconds": built, "pass_nothing_due_ms": idle_ms,
                                          "pass_1000_due_ms": due_ms, "cases_list_open_seconds": list_s,
                                          "cases_listed": len(json.loads(out.stdout or "[]")),
                                          "rss_after_start_mb": rss}
    finally:
        sink.stop()
        dovecot.stop()
    (ROOT / "bench" / "last-run.json").write_text(json.dumps(results, indent=2) + "\n")
    table = render_table(results)
    print(table)
    if skip or args.only or args.backlog or args.scale_cases or args.kills:
        print("a partial or resized run: bench/RESULTS.md is left as it was", file=sys.stderr)
    else:
        write_results_block(ROOT / "bench" / "RESULTS.md", table)
    return 0 if all(ok is not False for ok in verdicts(results)) else 1


FULL_BACKLOG = 5000
#: Issue 18's targets for the acknowledgment over LMTP, end of DATA to the SMTP server's acceptance.
LMTP_P50, LMTP_P95 = 0.060, 0.150
PARTS = ("latency", "backlog", "mailboxes", "lmtp", "instances", "startup", "scale")
#: Issue 19's targets: three instances at least this many times one instance's backlog throughput on three
#: mailboxes (judged at the full backlog), and a mailbox taken over within this many seconds at every kill.
INSTANCES_RATIO, TAKEOVER_LIMIT = 2.0, 5.0
FULL_KILLS = 10


def verdicts(r: dict) -> list[bool | None]:
    """Each target that was measured: held or not."""
    out = []
    if "latency" in r:
        out += [r["latency"]["ratio_p50"] <= 1.3, r["latency"]["aftercare"]["p95"] < 2.0]
    if "backlog" in r:
        out.append(r["backlog"]["aftercare_rss_mb"] < 120)
        if r["backlog"]["n"] >= FULL_BACKLOG:  # the target is set at that size (see render_table)
            out.append(r["backlog"]["ratio"] >= 0.5)
    if "mailboxes" in r:
        m = r["mailboxes"]
        out += [m["latency"]["ratio_p50"] <= 1.3, m["latency"]["all"]["p95"] < 2.0,
                m["backlog"]["rss_mb"] < 120,
                m["latency"]["from_check"]["from_mismatches"] + m["backlog"]["from_check"]["from_mismatches"] == 0]
    if "lmtp" in r:
        a = r["lmtp"]["latency"]["ack"]
        out += [a["p50"] <= LMTP_P50, a["p95"] <= LMTP_P95,
                r["lmtp"]["backlog"]["cases"] == r["lmtp"]["backlog"]["n"]]
    if isinstance(r.get("instances"), dict):
        i = r["instances"]
        if i["n"] >= FULL_BACKLOG:
            out.append(i["ratio_3_to_1"] >= INSTANCES_RATIO)
        out.append(i["takeover"]["max"] < TAKEOVER_LIMIT)
        out += [b["cases"] == b["complaints"] == b["cases_distinct_customers"] == b["acknowledged"]
                and b["from_check"]["from_mismatches"] == 0 for b in i["backlog"]]
    for db in (r.get("scale") or {}).values():
        if isinstance(db, dict):
            out += [db["pass_nothing_due_ms"] < 20, db["rss_after_start_mb"] < 120]
    return out


def render_table(r: dict) -> str:
    """The run as a Markdown table: each figure beside its floor or baseline and its target."""
    def mark(ok: bool) -> str:
        return "met" if ok else "**missed**"

    rows = []
    if "latency" in r:
        lat = r["latency"]
        f, a = lat["floor"], lat["aftercare"]
        rows.append(f"| acknowledgment latency p50 ({lat['n']} complaints, one at a time) | {f['p50']:.3f} s | "
                    f"{a['p50']:.3f} s | {lat['ratio_p50']:.2f} | within 1.3 of the floor: "
                    f"{mark(lat['ratio_p50'] <= 1.3)} |")
        rows.append(f"| acknowledgment latency p95 / max | {f['p95']:.3f} / {f['max']:.3f} s | "
                    f"{a['p95']:.3f} / {a['max']:.3f} s | | p95 under 2 s: {mark(a['p95'] < 2.0)} |")
    if "backlog" in r:
        b = r["backlog"]
        t = b["daemon_timeline_seconds"]
        rows.append(f"| backlog throughput ({b['n']} complaints waiting, {b['emails']} emails) | "
                    f"{b['baseline_emails_per_s']:.0f} emails/s ({b['baseline_seconds']:.1f} s) | "
                    f"{b['aftercare_emails_per_s']:.0f} emails/s ({b['aftercare_seconds']:.1f} s) | "
                    f"{b['ratio']:.2f} | at least 0.5: "
                    f"{mark(b['ratio'] >= 0.5) if b['n'] >= FULL_BACKLOG else 'judged at 5,000 (start-up weighs on small runs)'} |")
        rows.append(f"| backlog: logged in / last complaint recorded / last email accepted | | "
                    f"{t['logged_in_at']} / {t['last_recorded_at']} / {t['last_sent_at']} s | | |")
        rows.append(f"| backlog: daemon CPU time, resident memory at the end | | {b['aftercare_cpu_seconds']:.1f} s, "
                    f"{b['aftercare_rss_mb']:.0f} MB | | under 120 MB: {mark(b['aftercare_rss_mb'] < 120)} |")
    if "mailboxes" in r:
        m = r["mailboxes"]
        lat, bl, one = m["latency"], m["backlog"], m["latency"]["one_mailbox"]
        names = m["mailboxes"]
        ref = "" if one["same_run_part"] else f", one mailbox: {one['n']} complaints"
        rows.append(f"| three mailboxes: acknowledgment latency p50 ({len(names)} x {lat['rounds']} complaints, "
                    f"one per mailbox at once{ref}) | {one['floor_p50']:.3f} s; one mailbox "
                    f"{one['aftercare_p50']:.3f} s | {lat['all']['p50']:.3f} s | {lat['ratio_p50']:.2f} | "
                    f"within 1.3 of the floor: {mark(lat['ratio_p50'] <= 1.3)} |")
        rows.append(f"| three mailboxes: latency p95 / max, all | one mailbox p95 {one['aftercare_p95']:.3f} s | "
                    f"{lat['all']['p95']:.3f} / {lat['all']['max']:.3f} s | | p95 under 2 s: "
                    f"{mark(lat['all']['p95'] < 2.0)} |")
        rows.append("| three mailboxes: latency p50 / p95 per mailbox | | " + "; ".join(
            f"{n} {lat[n]['p50']:.3f} / {lat[n]['p95']:.3f} s" for n in names) + " | | |")
        ob = bl["one_mailbox"]
        ref = "" if ob["same_run_part"] else " (measured for this row)"
        rows.append(f"| three mailboxes: backlog ({len(names)} x {bl['n_per_mailbox']} complaints waiting, "
                    f"{bl['emails']} emails) | one mailbox{ref}: {ob['complaints_per_s']:.0f} complaints/s "
                    f"({ob['n']} in {ob['seconds']:.1f} s) | {bl['complaints_per_s']:.0f} complaints/s "
                    f"({bl['seconds']:.1f} s) | {bl['ratio_to_one_mailbox']:.2f} | |")
        rows.append("| three mailboxes: backlog per mailbox, last acknowledgment at (complaints/s) | | " + "; ".join(
            f"{n} {bl['per_mailbox'][n]['last_ack_at']:.1f} s ({bl['per_mailbox'][n]['complaints_per_s']:.0f}/s)"
            for n in names) + " | | |")
        rows.append(f"| three mailboxes: backlog last complaint recorded / last email accepted | one mailbox "
                    f"{ob['last_recorded_at']} / {ob['last_sent_at']} s | {bl['last_recorded_at']} / "
                    f"{bl['last_sent_at']} s | | |")
        rows.append(f"| three mailboxes: backlog daemon CPU time, resident memory at the end | one mailbox "
                    f"{ob['cpu_seconds']:.1f} s | {bl['cpu_seconds']:.1f} s, {bl['rss_mb']:.0f} MB | | "
                    f"under 120 MB: {mark(bl['rss_mb'] < 120)} |")
        checks = [lat["from_check"], bl["from_check"]]
        wrong = sum(c["from_mismatches"] for c in checks)
        rows.append(f"| three mailboxes: emails not From their mailbox's address | | {wrong} of "
                    f"{sum(c['emails'] for c in checks)} ({sum(c['acknowledgments'] for c in checks)} "
                    f"acknowledgments; {sum(c['unattributed'] for c in checks)} unattributed) | | 0: {mark(wrong == 0)} |")
    if "lmtp" in r:
        lat, bl = r["lmtp"]["latency"], r["lmtp"]["backlog"]
        a, f, rep = lat["ack"], lat["imap_floor"], lat["reply_250"]
        ref = "" if lat["same_run_part"] else f" (measured for this row, {lat['imap_n']} complaints)"
        rows.append(f"| LMTP: acknowledgment latency p50, end of DATA to the SMTP server's acceptance ({lat['n']} "
                    f"complaints, one at a time, a connection each) | IMAP IDLE floor{ref} {f['p50']:.3f} s | "
                    f"{a['p50'] * 1000:.0f} ms | {a['p50'] / f['p50']:.2f} of the IMAP floor | at most 60 ms: "
                    f"{mark(a['p50'] <= LMTP_P50)} |")
        rows.append(f"| LMTP: acknowledgment latency p95 / max | IMAP IDLE floor {f['p95']:.3f} / {f['max']:.3f} s | "
                    f"{a['p95'] * 1000:.0f} / {a['max'] * 1000:.0f} ms | | p95 at most 150 ms: "
                    f"{mark(a['p95'] <= LMTP_P95)} |")
        rows.append(f"| LMTP: end of DATA to the daemon's 250 (committed), p50 / p95 | | {rep['p50'] * 1000:.0f} / "
                    f"{rep['p95'] * 1000:.0f} ms | | |")
        imap = bl["imap"]
        ref = "" if imap["same_run_part"] else " (measured for this row)"
        rows.append(f"| LMTP: backlog, {bl['n']} complaints by {bl['connections']} parallel connections: complaints "
                    f"recorded (each 250 after its commit) | IMAP backlog{ref}, {imap['n']} waiting: "
                    f"{imap['complaints_per_s_from_login']:.0f} complaints/s from login | "
                    f"{bl['complaints_per_s']:.0f} complaints/s ({bl['recorded_seconds']:.1f} s) | "
                    f"{bl['complaints_per_s'] / imap['complaints_per_s_from_login']:.2f} | |")
        rows.append(f"| LMTP: backlog, emails accepted ({bl['emails']}: acknowledgments and staff notifications) | "
                    f"IMAP backlog: {imap['emails_per_s_from_login']:.0f} emails/s from login | "
                    f"{bl['emails_per_s']:.0f} emails/s ({bl['sent_seconds']:.1f} s) | "
                    f"{bl['emails_per_s'] / imap['emails_per_s_from_login']:.2f} | |")
        rows.append(f"| LMTP: backlog 250 per delivery p50 / p95; daemon CPU time, resident memory at the end; "
                    f"cases opened | | {bl['reply_250']['p50'] * 1000:.0f} / {bl['reply_250']['p95'] * 1000:.0f} ms; "
                    f"{bl['cpu_seconds']:.1f} s, {bl['rss_mb']:.0f} MB; {bl['cases']} | | one case per complaint: "
                    f"{mark(bl['cases'] == bl['n'])} |")
    if isinstance(r.get("instances"), str):
        rows.append(f"| several instances on PostgreSQL | | {r['instances']} | | |")
    elif "instances" in r:
        i = r["instances"]
        one = i["backlog"][0]
        for b in i["backlog"]:
            k = b["instances"]
            if k == 1:
                ref, ratio, target = "", "", ""
            else:
                ref = f"one instance: {one['complaints_per_s']:.0f} complaints/s"
                ratio = f"{b['complaints_per_s'] / one['complaints_per_s']:.2f}"
                target = "" if k != 3 else (f"at least {INSTANCES_RATIO:g} of one instance: " + (
                    mark(i["ratio_3_to_1"] >= INSTANCES_RATIO) if i["n"] >= FULL_BACKLOG
                    else "judged at 5,000 (start-up weighs on small runs)"))
            rows.append(f"| instances on PostgreSQL: backlog, {b['complaints']} complaints waiting over 3 mailboxes, "
                        f"{'1 instance' if k == 1 else f'{k} instances started together'}, until the last acknowledgment | {ref} | "
                        f"{b['complaints_per_s']:.0f} complaints/s ({b['seconds']:.1f} s) | {ratio} | {target} |")
        rows.append("| instances: complaints recorded by each instance (1 / 2 / 3 instances) | | " + "; ".join(
            " + ".join(str(p["recorded"]) for p in b["per_instance"]) for b in i["backlog"]) + " | | |")
        rows.append("| instances: mailboxes first held by as many instances as run (2 / 3 instances); mailbox "
                    "changes of hand | | " + "; ".join(
                        f"{'never' if b['spread_at'] is None else str(b['spread_at']) + ' s'}, {b['holder_changes']}"
                        for b in i["backlog"][1:]) + " | | |")
        rows.append("| instances: CPU time of all instances, and per second of the run (1 / 2 / 3 instances; "
                    f"{i['cores']} cores) | | " + "; ".join(
                        f"{b['cpu_seconds_total']:.1f} s, {b['cpu_seconds_total'] / b['seconds']:.2f}"
                        for b in i["backlog"]) + " | | |")
        rows.append("| instances: CPU time of PostgreSQL's processes / of the bench's own process (SMTP server); "
                    "the machine busy, all work on it (1 / 2 / 3 instances) | | " + "; ".join(
                        f"{b['postgres_cpu_seconds']:.1f} s / {b['bench_process_cpu_seconds']:.1f} s; "
                        f"{b['machine_busy_fraction']:.0%}" for b in i["backlog"]) + " | | |")
        bad = sum(b["from_check"]["from_mismatches"] for b in i["backlog"])
        cases_ok = all(b["cases"] == b["complaints"] == b["cases_distinct_customers"] == b["acknowledged"]
                       for b in i["backlog"])
        rows.append(f"| instances: one case and one acknowledgment per complaint; emails not From their "
                    f"mailbox's address | | cases {', '.join(str(b['cases']) for b in i['backlog'])}; "
                    f"{bad} not From | | one case each: {mark(cases_ok)}; 0: {mark(bad == 0)} |")
        t = i["takeover"]
        rows.append(f"| instances: takeover after SIGKILL of a mailbox's holder, until its lease names another "
                    f"instance (3 instances, 3 mailboxes, {t['kills']} kills) median / max | | "
                    f"{t['median']:.2f} / {t['max']:.2f} s | | under {TAKEOVER_LIMIT:g} s every kill: "
                    f"{mark(t['max'] < TAKEOVER_LIMIT)} |")
        rows.append("| instances: each takeover | | " + ", ".join(f"{x['seconds']:.2f}" for x in t["takeovers"])
                    + f" s | | |")
        rows.append(f"| instances: trickle during the kills, complaints acknowledged | | {t['trickle_acknowledged']} of "
                    f"{t['trickle_complaints']} | | |")
        lb, la = i["load_average_before"], i["load_average_after"]
        rows.append(f"| instances: load average (1, 5, 15 min) before / after this part | | "
                    f"{lb[0]:.2f} {lb[1]:.2f} {lb[2]:.2f} / {la[0]:.2f} {la[1]:.2f} {la[2]:.2f} | | |")
    if "startup_seconds" in r:
        rows.append(f"| start-up to READY, empty mailbox | | {r['startup_seconds']:.2f} s | | |")
    for name, db in (r.get("scale") or {}).items():
        if not isinstance(db, dict):
            rows.append(f"| scale on {name} | | {db} | | |")
            continue
        size = (f"{db['cases']:,} cases, {db['steps']:,} steps, {db['timers']:,} timers, "
                f"{db['messages']:,} messages")
        rows.append(f"| {name}: timer pass, nothing due ({size}) | | {db['pass_nothing_due_ms']:.2f} ms | | "
                    f"under 20 ms: {mark(db['pass_nothing_due_ms'] < 20)} |")
        rows.append(f"| {name}: timer pass, 1,000 due | | {db['pass_1000_due_ms'] / 1000:.2f} s | | |")
        rows.append(f"| {name}: `cases list --status open` ({db['cases_listed']:,} cases) | | "
                    f"{db['cases_list_open_seconds']:.2f} s | | |")
        rows.append(f"| {name}: resident memory after start-up | | {db['rss_after_start_mb']:.0f} MB | | "
                    f"under 120 MB: {mark(db['rss_after_start_mb'] < 120)} |")
    head = ("| measurement | floor / baseline, same run | Aftercare | ratio | target |\n"
            "|---|---|---|---|---|")
    return f"Machine: {r['machine']}\nDate: {r['date']}\n\n{head}\n" + "\n".join(rows) + "\n"


BLOCK_START = "<!-- bench:last-run:start (written by bench/bench.py) -->"
BLOCK_END = "<!-- bench:last-run:end -->"


def write_results_block(path: Path, table: str) -> None:
    """Replace the last-run block of RESULTS.md; the history around it is kept by hand."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    block = f"{BLOCK_START}\n## Last run of `make bench`\n\n{table}{BLOCK_END}"
    if BLOCK_START in text and BLOCK_END in text:
        before, rest = text.split(BLOCK_START, 1)
        text = before + block + rest.split(BLOCK_END, 1)[1]
    else:
        head, sep, tail = text.partition("\n## ")
        text = f"{head.rstrip()}\n\n{block}\n\n{sep.lstrip()}{tail}" if sep else f"{text.rstrip()}\n\n{block}\n"
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())

"""``make bench``: how close Aftercare gets to what the mail servers themselves allow.

Everything runs on loopback against the same real Dovecot and SMTP server the
tests use, and each figure is printed beside its floor or baseline measured in
the same run:

1. acknowledgment latency (APPEND -> SMTP accepted) vs a bare IDLE+fetch+send client;
2. backlog throughput vs a script that only fetches, sends and moves;
3. the schedule at scale (100,000 cases, 300,000 steps and timers, 1,000,000 messages);
4. start-up to READY.

Sizes can be reduced for a quick look: ``python bench/bench.py --quick``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from email.utils import make_msgid
from pathlib import Path

from imapclient import IMAPClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from daemon.testing.daemonproc import DaemonProcess, write_config  # noqa: E402
from daemon.testing.dovecot import Dovecot  # noqa: E402
from daemon.testing.smtpsink import SmtpSink  # noqa: E402

PASSWORD = "bench"


def complaint(i: int, tag: str) -> bytes:
    return (f"From: Customer {i} <{tag}{i}@example.net>\r\nTo: support@example.com\r\n"
            f"Subject: Complaint {i}\r\nDate: Mon, 02 Mar 2026 09:00:00 +0000\r\n"
            f"Message-ID: {make_msgid(domain='bench.example.net')}\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\nMy order {i} arrived broken.\r\n").encode()


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
            uids = [u for u in imap.search(["UID", f"{last + 1}:*"]) if u > last]
            for uid, data in imap.fetch(uids, ["BODY.PEEK[]"]).items():
                raw = data[b"BODY[]"]
                sender = raw.split(b"<", 1)[1].split(b">", 1)[0].decode()
                smtp.sendmail("support@example.com", [sender], b"Subject: ack\r\n\r\nthanks\r\n")
                last = max(last, uid)
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


def daemon_backlog(work: Path, dovecot: Dovecot, sink: SmtpSink, n: int,
                   profile: Path | None = None) -> tuple[float, float]:
    config = write_config(work / "backlog.toml", imap_port=dovecot.port, smtp_port=sink.port,
                          imap_user="backlog", imap_password=PASSWORD,
                          database_url=f"sqlite:///{work}/backlog.db", poll_interval="60s")
    before = len(sink.messages)
    t0 = time.monotonic()
    wall0 = time.time() + time.timezone * 0
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
        if os.environ.get("AFTERCARE_BENCH_CPU"):
            tick = os.sysconf("SC_CLK_TCK")
            for task in sorted(Path(f"/proc/{d.proc.pid}/task").iterdir()):
                f = (task / "stat").read_text().rsplit(")", 1)[1].split()
                print("daemon thread", (task / "comm").read_text().strip(), (int(f[11]) + int(f[12])) / tick,
                      file=sys.stderr)
            print("bench process cpu", sum(os.times()[:2]), file=sys.stderr)
            lines = d.log_lines()
            def at(event, last=False):
                ts = [l["timestamp"] for l in lines if l.get("event") == event]
                return (datetime.fromisoformat((ts[-1] if last else ts[0]).rstrip("Z")).timestamp() - wall0) if ts else None
            print("timeline s:", [(e, last, round(at(e, last), 2)) for e, last in (("aftercare started", 0), ("mailbox connected", 0),
                  ("message recorded", 0), ("message recorded", 1), ("email sent", 0), ("email sent", 1))],
                  "done", round(elapsed, 2), file=sys.stderr)
            sent_ts = sorted(datetime.fromisoformat(l["timestamp"].rstrip("Z")).timestamp() - wall0 for l in lines if l.get("event") == "email sent")
            for q in range(0, 11):
                print("sent", q * 10, "% at", round(sent_ts[min(len(sent_ts) - 1, q * len(sent_ts) // 10)], 2), file=sys.stderr)
    if spy is not None:
        spy.wait(30)
    return elapsed, peak


# --- 3. scale -----------------------------------------------------------------

def build_scale_db(url: str, cases: int, steps_per_case: int, messages_per_case: int) -> None:
    from daemon.store.database import open_database
    from daemon.store.models import Case, Message, PlanStep, Timer, database
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
    from daemon.casework import Casework
    from daemon.config import load_config
    from daemon.log import setup_logging
    setup_logging("json", "error")  # the daemon logs each fired timer; that is not what is measured here
    from daemon.store.database import open_database
    from daemon.store.models import Timer, database
    from daemon.templates import Templates
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


CONFIG_FOR_SCALE = Path(tempfile.gettempdir()) / "aftercare-bench-scale.toml"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small sizes for a quick look")
    ap.add_argument("--skip", default="", help="comma list of: latency,backlog,scale,startup")
    ap.add_argument("--profile", type=Path, default=None,
                    help="record the backlog daemon with py-spy (raw flame format) into this file")
    ap.add_argument("--backlog", type=int, default=None, help="complaints in the backlog")
    ap.add_argument("--scale-cases", type=int, default=None, help="cases in the scale database")
    args = ap.parse_args()
    q = args.quick
    n_latency, gap = (20, 0.3) if q else (100, 0.5)
    n_backlog = args.backlog or (300 if q else 5000)
    scale_cases = 10_000 if q else 100_000
    if args.scale_cases:
        scale_cases = args.scale_cases
    skip = set(filter(None, args.skip.split(",")))
    results: dict = {"machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
                                f"Python {platform.python_version()}, {platform.platform()}",
                     "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    work = Path(tempfile.mkdtemp(prefix="aftercare-bench-"))
    dovecot = Dovecot(work / "dovecot")
    for user in ("support", "floor", "base", "backlog"):
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
            ours, peak = daemon_backlog(work, dovecot, sink, n_backlog, args.profile)
            results["backlog"] = {"n": n_backlog, "emails": 2 * n_backlog,
                                  "baseline_seconds": base, "baseline_emails_per_s": 2 * n_backlog / base,
                                  "aftercare_seconds": ours, "aftercare_emails_per_s": 2 * n_backlog / ours,
                                  "ratio": base / ours, "aftercare_rss_mb": peak}
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
                out = subprocess.run([sys.executable, "-m", "daemon", "--config", str(cfg), "cases", "list",
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
    print(json.dumps(results, indent=2))
    (ROOT / "bench" / "last-run.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

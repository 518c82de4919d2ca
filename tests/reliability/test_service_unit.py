"""The service as systemd sees it: a well-sandboxed unit, READY only once the mailbox is synced, and a watchdog
that stops being fed when the intake loop hangs (so that systemd restarts the daemon).

A hang is made with a loopback TCP proxy between the daemon and Dovecot that stops forwarding mid-stream: the
server neither answers nor goes away, which is what a stalled server or a black-holed route looks like.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aftercare.testing.daemonproc import DaemonProcess, write_config
from e2e_support import complaint
from reliability_support import FreezableProxy, NotifySocket, append_all, sql, wait_until

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parents[2]
WATCHDOG_USEC = 3_000_000  # pings every 1 s; a loop counts as hung after 2.7 s without a heartbeat


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_the_unit_verifies_and_its_exposure_is_at_most_2(tmp_path):
    exe = shutil.which("aftercare") or str(Path(sys.executable).parent / "aftercare")
    assert Path(exe).exists(), exe
    unit = tmp_path / "aftercare.service"
    unit.write_text((ROOT / "systemd" / "aftercare.service").read_text().replace("/usr/local/bin/aftercare", exe))
    verify = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    security = subprocess.run(["systemd-analyze", "security", "--offline=true", str(unit)],
                              capture_output=True, text=True, timeout=60)
    line = next(l for l in security.stdout.splitlines() if "Overall exposure level" in l)
    score = float(line.split("level for aftercare.service:")[1].split()[0])
    print(f"\nRELIABILITY service: systemd-analyze verify passes; security --offline exposure {score}")
    assert score <= 2.0, line


def _proxied_config(s, proxy: FreezableProxy) -> Path:
    config = write_config(s.tmp / "config.toml", imap_port=proxy.port, smtp_port=s.smtp.port,
                          database_url=s.database_url)
    text = config.read_text()
    assert text.count('timeout = "10s"') == 2
    config.write_text(text.replace('timeout = "10s"', 'timeout = "60s"', 1))  # [mailbox] comes first
    return config


def test_ready_is_sent_only_once_the_waiting_mail_is_recorded(rstack):
    s = rstack
    backlog = 5
    append_all(s.dovecot, (complaint(sender=f"r{i}@example.net")[0] for i in range(backlog)))
    proxy = FreezableProxy(s.dovecot.port)
    notify = NotifySocket()
    try:
        s.config = _proxied_config(s, proxy)
        proxy.freeze()  # the server accepts the connection, then says nothing
        s.daemon = DaemonProcess(s.config, s.tmp / "daemon.log",
                                 env={"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": str(WATCHDOG_USEC)}).start()
        time.sleep(6)
        assert s.daemon.proc.poll() is None, s.daemon.tail()
        assert notify.first("READY=1") is None, "READY before the mailbox could even be read"
        thawed = time.monotonic()
        proxy.thaw()
        assert wait_until(lambda: notify.first("READY=1") is not None, timeout=30), s.daemon.tail()
        ready_at, datagram = notify.first("READY=1")
        assert "STATUS=mailbox synced; watching for mail" in datagram.splitlines()
        assert sql(s.tmp / "aftercare.db", 'select count(*) from "case"')[0][0] == backlog
        events = [l.get("event") for l in s.daemon.log_lines()]
        ready_line = events.index("ready: mailbox synced")
        recorded = [i for i, e in enumerate(events) if e == "message recorded"]
        assert len(recorded) == backlog and max(recorded) < ready_line, events
        print(f"\nRELIABILITY ready: READY=1 withheld while the IMAP server hung ({6} s), sent "
              f"{ready_at - thawed:.1f} s after it answered, once all {backlog} waiting complaints were recorded")
    finally:
        if s.daemon:
            s.daemon.stop()
        notify.close()
        proxy.close()


def test_a_hung_intake_loop_stops_the_watchdog_pings_while_the_daemon_keeps_running(rstack):
    s = rstack
    proxy = FreezableProxy(s.dovecot.port)
    notify = NotifySocket()
    try:
        s.config = _proxied_config(s, proxy)
        s.daemon = DaemonProcess(s.config, s.tmp / "daemon.log",
                                 env={"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": str(WATCHDOG_USEC)}).start()
        assert wait_until(lambda: notify.first("READY=1") is not None, timeout=30), s.daemon.tail()
        ready_at = notify.first("READY=1")[0]
        assert wait_until(lambda: len(notify.times("WATCHDOG=1", since=ready_at)) >= 3, timeout=15)
        s.deliver(complaint(sender="before-hang@example.net")[0])
        s.smtp.wait_for(lambda m: m.rcpt_tos == ["before-hang@example.net"], timeout=20)

        frozen_at = time.monotonic()
        proxy.freeze()  # intake's next read from the server (at latest when IDLE ends) never returns
        time.sleep(16)
        assert s.daemon.proc.poll() is None, s.daemon.tail()
        pings = notify.times("WATCHDOG=1", since=frozen_at)
        last = max(pings, default=frozen_at)
        assert last - frozen_at < 8, f"pings went on after the hang: {[round(p - frozen_at, 1) for p in pings]}"
        assert not [p for p in pings if p > frozen_at + 8]
        silent_for = time.monotonic() - last
        # The main loop is alive all along: its periodic STATUS line (every 10 s) still comes.
        assert notify.starting("STATUS=processed", since=frozen_at)

        thawed_at = time.monotonic()
        proxy.thaw()  # the server answers again: the loop turns, the watchdog is fed again
        assert wait_until(lambda: notify.times("WATCHDOG=1", since=thawed_at), timeout=20), s.daemon.tail()
        resumed_in = notify.times("WATCHDOG=1", since=thawed_at)[0] - thawed_at
        s.deliver(complaint(sender="after-hang@example.net")[0])
        s.smtp.wait_for(lambda m: m.rcpt_tos == ["after-hang@example.net"], timeout=60)
        assert s.daemon.proc.poll() is None
        print(f"\nRELIABILITY watchdog: intake hung at {proxy.connections} connection(s): last WATCHDOG=1 "
              f"{last - frozen_at:.1f} s after the hang (WatchdogSec=3s in the test), none for {silent_for:.1f} s "
              f"while the daemon kept running; pings resumed {resumed_in:.1f} s after the server answered again")
    finally:
        proxy.thaw()
        if s.daemon:
            s.daemon.stop()
        notify.close()
        proxy.close()

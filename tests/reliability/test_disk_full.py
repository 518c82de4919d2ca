"""A full disk under SQLite: said clearly (the path and the cause), nothing sent twice, recovered by itself.

The database lives on a small tmpfs of the test's own, filled to the last byte and then freed.
"""
from __future__ import annotations

import collections
import contextlib
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from aftercare.testing.daemonproc import DaemonProcess
from server_fixtures import require_integration
from e2e_support import Stack, complaint
from reliability_support import log_events, wait_until

pytestmark = pytest.mark.reliability


@contextlib.contextmanager
def small_tmpfs(size: str = "8m"):
    if os.geteuid() != 0:
        require_integration("mounting a tmpfs needs root")
    where = Path(tempfile.mkdtemp(prefix="aftercare-full-"))
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        where.rmdir()
        require_integration(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)
        with contextlib.suppress(OSError):
            where.rmdir()


def fill(where: Path) -> Path:
    """Take every free byte of the file system; return the filler (delete it to free the space)."""
    filler = where / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (1 << 20, 65536, 4096, 512, 1):  # smaller writes until not one byte fits
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    return filler


@pytest.fixture
def full_stack(tmp_path, dovecot, smtp_sink):
    with small_tmpfs() as where:
        s = Stack(tmp_path, dovecot, smtp_sink, f"sqlite:///{where}/aftercare.db")
        s.where = where
        yield s
        if s.daemon:
            s.daemon.stop()


def _disk_full_lines(daemon) -> list[dict]:
    return [l for l in daemon.log_lines() if "the disk is full" in str(l.get("cause", ""))
            or "disk I/O error" in str(l.get("cause", ""))]


def test_a_full_disk_is_named_with_its_path_nothing_is_sent_twice_and_the_daemon_recovers_by_itself(full_stack):
    s = full_stack
    db_path = str(s.where / "aftercare.db")
    s.start(poll_interval="1s")
    s.deliver(complaint(sender="before@example.net")[0])
    s.smtp.wait_for(lambda m: "before@example.net" in m.rcpt_tos, timeout=20)

    filler = fill(s.where)
    during = [f"during{i}@example.net" for i in range(20)]
    for c in during:
        s.deliver(complaint(subject="Written while the disk is full", sender=c, body="x" * 4000)[0])
    assert wait_until(lambda: _disk_full_lines(s.daemon), timeout=30), s.daemon.tail()
    said = _disk_full_lines(s.daemon)[0]
    assert db_path in said["cause"], said
    time.sleep(3)
    assert s.daemon.proc.poll() is None, s.daemon.tail()
    full_lines = len(_disk_full_lines(s.daemon))

    filler.unlink()
    freed = time.monotonic()
    everyone = {"before@example.net", *during}
    assert wait_until(lambda: everyone <= {m.rcpt_tos[0] for m in s.smtp.messages}, timeout=60), s.daemon.tail()
    recovered_in = time.monotonic() - freed
    time.sleep(2)
    sent = collections.Counter(m.rcpt_tos[0] for m in s.smtp.messages)
    assert {c: sent[c] for c in everyone} == {c: 1 for c in everyone}
    assert max(collections.Counter(m.message["Message-ID"] for m in s.smtp.messages).values()) == 1
    assert not log_events(s.daemon, "worker crashed; restarting")
    assert not [l for l in s.daemon.log_lines() if l.get("raw")], "no raw tracebacks on the console"

    # A start on a full disk: one clear line naming the file and the cause, exit 1, no traceback.
    s.daemon.stop()
    filler = fill(s.where)
    refused = DaemonProcess(s.config, s.tmp / "refused.log").start()
    assert refused.proc.wait(30) == 1
    text = (s.tmp / "refused.log").read_text()
    assert f"not started: database {db_path}: the disk is full" in text or \
        f"not started: database {db_path}: disk I/O error" in text, text
    assert "Traceback" not in text, text
    filler.unlink()
    s.start()
    s.deliver(complaint(sender="after@example.net")[0])
    s.smtp.wait_for(lambda m: "after@example.net" in m.rcpt_tos, timeout=20)
    print(f"\nRELIABILITY disk-full: SQLite on an 8 MB tmpfs filled to the last byte, {len(during)} complaints "
          f"meanwhile, {full_lines} log lines naming the path and cause; recovered {recovered_in:.1f} s after "
          f"space was freed, each acknowledged once; a start on the full disk exits 1 with one line")

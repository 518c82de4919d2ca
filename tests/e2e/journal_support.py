"""A real systemd-journald of the test's own (a journal namespace), and a stream into it as systemd makes one.

systemd connects a service's stdout and stderr to journald's stdout socket and sets $JOURNAL_STREAM to that
socket's device:inode; journald reads a ``<N>`` prefix as the line's priority. Here the test does what
systemd does, so ``journalctl --namespace=... -p err`` answers about the daemon's real lines.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

JOURNALD = next((p for p in ("/lib/systemd/systemd-journald", "/usr/lib/systemd/systemd-journald")
                 if Path(p).exists()), None)


def available() -> str | None:
    """Why a namespaced journald cannot run here, or None."""
    if JOURNALD is None or shutil.which("journalctl") is None:
        return "systemd-journald or journalctl is not installed"
    if os.geteuid() != 0:
        return "a journal namespace needs root"
    return None


class Journal:
    def __init__(self) -> None:
        self.namespace = f"aftercare-test-{uuid.uuid4().hex[:8]}"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Journal":
        Path("/run/systemd").mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([JOURNALD, self.namespace], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        socket_path = Path(f"/run/systemd/journal.{self.namespace}/stdout")
        deadline = time.monotonic() + 10
        while not socket_path.exists():
            if time.monotonic() > deadline:
                raise TimeoutError("journald did not open its stdout socket")
            time.sleep(0.05)
        return self

    def stream(self, identifier: str) -> tuple[socket.socket, dict[str, str]]:
        """A connected stdout stream (level prefixes on) and the environment that names it."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(f"/run/systemd/journal.{self.namespace}/stdout")
        # identifier, unit, default priority (info), level prefix, forward to syslog/kmsg/console
        s.sendall(f"{identifier}\n\n6\n1\n0\n0\n0\n".encode())
        st = os.fstat(s.fileno())
        return s, {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}

    def entries(self, identifier: str, priority: str | None = None) -> list[dict]:
        args = ["journalctl", f"--namespace={self.namespace}", "-t", identifier, "-o", "json", "--no-pager"]
        if priority:
            args += ["-p", priority]
        out = subprocess.run(args, capture_output=True, text=True, timeout=30)
        return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(f"/run/systemd/journal.{self.namespace}", ignore_errors=True)
        shutil.rmtree(f"/run/log/journal/{self.namespace}", ignore_errors=True)
        for base in Path("/var/log/journal").glob(f"*.{self.namespace}"):
            shutil.rmtree(base, ignore_errors=True)
        for base in Path("/run/log/journal").glob(f"*.{self.namespace}"):
            shutil.rmtree(base, ignore_errors=True)

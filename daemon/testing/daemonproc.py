"""The real daemon as a child process, for end-to-end tests and the demo.

It runs ``python -m aftercare run`` exactly as systemd would, so tests can kill it
with SIGKILL, send SIGHUP, and read its JSON log lines.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable


def write_config(path: Path, *, imap_port: int, smtp_port: int, database_url: str,
                 imap_user: str = "support", imap_password: str = "secret",
                 staff: tuple[str, ...] = ("Jane Doe <jane@example.com>", "sam@example.com"),
                 extra: str = "", poll_interval: str = "1s", idle: bool = True,
                 first_response_due: str = "24h", max_retry_interval: str = "2s",
                 templates_dir: Path | None = None, schedule_extra: str = "", staff_extra: str = "",
                 outbox_extra: str = "") -> Path:
    """A config file pointing at loopback servers, with short schedules."""
    templates = f'[templates]\ndirectory = "{templates_dir}"\n' if templates_dir else ""
    staff_list = ", ".join(json.dumps(s) for s in staff)
    path.write_text(f"""
[mailbox]
host = "127.0.0.1"
port = {imap_port}
security = "none"
username = "{imap_user}"
password = "{imap_password}"
idle = {"true" if idle else "false"}
poll_interval = "{poll_interval}"
timeout = "10s"

[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from_address = "Acme Support <support@example.com>"
timeout = "10s"

[outbox]
max_retry_interval = "{max_retry_interval}"
{outbox_extra}

[database]
url = "{database_url}"

[staff]
addresses = [{staff_list}]
{staff_extra}

[schedule]
first_response_due = "{first_response_due}"
{schedule_extra}

{templates}
{extra}
""")
    return path


def child_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a Python process started here (``env``, else ours), with its bytecode cached.

    Where PYTHONDONTWRITEBYTECODE keeps .pyc files out of the source tree, every daemon and command started
    would compile the package's modules again (about 0.15 s of CPU each time); they are cached outside the
    tree instead (PYTHONPYCACHEPREFIX, in the temporary directory). What the process does is the same.
    """
    env = dict(os.environ if env is None else env)
    if env.get("PYTHONDONTWRITEBYTECODE") and not env.get("PYTHONPYCACHEPREFIX"):
        del env["PYTHONDONTWRITEBYTECODE"]
        env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), f"aftercare-pycache-{os.getuid()}")
    return env


class DaemonProcess:
    def __init__(self, config_path: Path, log_path: Path, env: dict[str, str] | None = None, output=None):
        """``output``: where stdout and stderr go instead of ``log_path`` (a journald stream socket)."""
        self.output = output
        self.config_path = config_path
        self.log_path = log_path
        self.env = env or {}
        self.proc: subprocess.Popen | None = None
        self._log_file = None

    def start(self) -> "DaemonProcess":
        self._log_file = open(self.log_path, "ab")
        self._log_offset = self._log_file.tell()  # where this run's lines begin in a shared log
        env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")}
        env = child_environment(env)
        env.update({"PYTHONUNBUFFERED": "1", **self.env})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "aftercare", "--config", str(self.config_path), "run", "--log-format", "json"],
            stdout=self.output.fileno() if self.output is not None else self._log_file, stderr=subprocess.STDOUT,
            env=env,
        )
        return self

    def log_lines(self, since_start: bool = False) -> list[dict[str, Any]]:
        """The log's JSON lines; with ``since_start``, only this run's."""
        out = []
        if not self.log_path.exists():
            return out
        data = self.log_path.read_bytes()[getattr(self, "_log_offset", 0) if since_start else 0:]
        for line in data.decode(errors="replace").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                out.append({"event": line, "raw": True})
        return out

    def wait_for_log(self, predicate: Callable[[dict], bool], timeout: float = 15.0,
                     since_start: bool = False) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log_lines(since_start):
                if predicate(line):
                    return line
            if self.proc and self.proc.poll() is not None:
                raise RuntimeError(f"the daemon exited with {self.proc.returncode}:\n{self.tail()}")
            time.sleep(0.05)
        raise TimeoutError(f"no matching log line within {timeout}s:\n{self.tail()}")

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Until this run is READY (a restart on the same log waits for its own line, not the last run's)."""
        self.wait_for_log(lambda l: l.get("event") == "ready: mailbox synced", timeout, since_start=True)

    def wait_connected(self, timeout: float = 20.0) -> None:
        """Until this run has logged in to the mailbox: intake starts its work now."""
        self.wait_for_log(lambda l: l.get("event") == "mailbox connected", timeout, since_start=True)

    def tail(self, n: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def signal(self, sig: int) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log_file:
            self._log_file.close()
            self._log_file = None
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self._log_file:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> "DaemonProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def run_cli(config_path: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run an ``aftercare`` subcommand as an operator would."""
    return subprocess.run([sys.executable, "-m", "aftercare", "--config", str(config_path), *args],
                          capture_output=True, text=True, timeout=timeout, env=child_environment())

"""A PostgreSQL cluster of a test's own, which the test may stop, restart and kill.

The shared server at 127.0.0.1:5432 serves every other test; an outage test
needs a server it can take away. ``initdb`` makes a small cluster in a
temporary folder (trust auth, loopback only, fsync off), ``start``/``stop``
bring it up and down on the same port, as an operator's restart or a failover
would. Run as root, the server runs as the ``postgres`` user.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    def __init__(self, base: Path | None = None, port: int | None = None):
        self.base = Path(base or tempfile.mkdtemp(prefix="aftercare-pg-"))
        self.data = self.base / "data"
        self.port = port or _free_port()
        self.log = self.base / "server.log"
        self._user = None
        if os.geteuid() == 0:
            self._user = pwd.getpwnam("postgres")

    @staticmethod
    def available() -> bool:
        return _bin("initdb") is not None and _bin("pg_ctl") is not None

    def _run(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        kwargs = {}
        if self._user is not None:
            uid, gid = self._user.pw_uid, self._user.pw_gid

            def demote():  # noqa: ANN202 - the server refuses to run as root
                os.setgid(gid)
                os.setuid(uid)
            kwargs["preexec_fn"] = demote
        return subprocess.run(list(args), capture_output=True, text=True, check=check, timeout=timeout,
                              cwd=str(self.base), **kwargs)

    def init(self) -> "PgCluster":
        self.base.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            os.chown(self.base, self._user.pw_uid, self._user.pw_gid)
        self._run(_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync",
                  "-E", "UTF8", "--locale=C")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.base}'\n"
                       "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 50\n"
                       "shared_buffers = 16MB\n")
        return self

    def start(self, timeout: float = 30) -> "PgCluster":
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", str(int(timeout)),
                  "start", timeout=timeout + 10)
        return self

    def stop(self, mode: str = "fast") -> None:
        """``fast``: an operator's restart (sessions terminated); ``immediate``: a crash."""
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def restart(self) -> None:
        self.stop()
        self.start()

    def running(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg2

        conn = psycopg2.connect(self.url(), connect_timeout=5)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        return self.url(name)

    def wait_ready(self, timeout: float = 30) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.running():
                return True
            time.sleep(0.1)
        return False

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> "PgCluster":
        return self.init().start()

    def __exit__(self, *exc) -> None:
        self.destroy()

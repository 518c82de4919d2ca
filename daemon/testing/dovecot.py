"""A throwaway, real Dovecot IMAP server for tests and demos.

Modelled on GNU Mailman's ``testing/layers.py``: the daemon under test talks to
a real IMAP server over a real socket, not to a mock.  Everything the server
needs (configuration, sockets, state, log, mail) lives inside one directory, so
several instances can run side by side and a test's ``tmp_path`` cleans up
after it.

Usage::

    imap = Dovecot(tmp_path / "imap")
    imap.add_user("support", "secret")       # before start(): no waiting
    with imap:                               # start() ... stop()
        imap.append("support", "secret", "INBOX", b"Subject: hi\\r\\n\\r\\nbody\\r\\n")
        client = IMAPClient(imap.host, imap.port, ssl=False)
        ...
        imap.restart()                       # same port, same mail

How it is configured, and why, is explained in ``dovecot_config.py``.

:meth:`Dovecot.stop` sends SIGTERM to Dovecot's whole process group (a
master-only SIGTERM costs ~1 s per stop) and SIGKILL after 0.5 s; it returns
only when none of them is still running, so the port can be reused at once.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as _dt
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from imapclient import IMAPClient

__all__ = ["Dovecot", "DovecotError"]

from .dovecot_config import HOST, dovecot_conf, dovecot_oauth2_conf  # noqa: E402 - after the typing imports above


_START_TIMEOUT = 10.0
_PORT_ATTEMPTS = 5

_running: "weakref.WeakSet[Dovecot]" = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:  # pragma: no cover - safety net for demos / crashes
    for server in list(_running):
        with contextlib.suppress(Exception):
            server.stop()


class DovecotError(RuntimeError):
    """Dovecot could not be started (the message includes the log tail)."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _mail_account() -> tuple[int, int]:
    """The unprivileged account that mail processes run as, as (uid, gid)."""
    if os.geteuid() != 0:
        return os.geteuid(), os.getegid()
    for name in ("mail", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if entry.pw_uid != 0:
            return entry.pw_uid, entry.pw_gid
    raise DovecotError("no unprivileged 'mail' or 'nobody' account to run mail processes as")


class Dovecot:
    """A real Dovecot IMAP server living in ``workdir``.

    ``idle=False`` / ``move=False`` remove IDLE / MOVE from the advertised
    CAPABILITY list.  Users can be added before or after :meth:`start`.

    ``oauth2_introspection_url``: also accept ``AUTHENTICATE XOAUTH2`` and
    ``AUTHENTICATE OAUTHBEARER``, with an access token that this RFC 7662
    introspection endpoint (e.g. :class:`~aftercare.testing.tokenserver.TokenServer`'s)
    calls active for the user.  Password logins keep working; a user logging
    in with tokens must also exist as a password user (:meth:`add_user`).
    """

    binary = "dovecot"

    def __init__(
        self,
        workdir: Path | str,
        *,
        idle: bool = True,
        move: bool = True,
        oauth2_introspection_url: str | None = None,
    ) -> None:
        self.workdir = Path(workdir).resolve()
        self.idle = idle
        self.move = move
        self.oauth2_introspection_url = oauth2_introspection_url
        self.host = HOST
        self.port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._users: dict[str, str] = {}
        self._lock = threading.Lock()
        self._as_root = os.geteuid() == 0
        self._mail_uid, self._mail_gid = _mail_account()
        self.workdir.mkdir(parents=True, exist_ok=True)
        # Sockets live in a short path of their own: a unix socket path is limited to 108 bytes, which a
        # deep workdir (pytest-xdist's popen-gwN level, long test names) easily passes.
        self.run_dir = Path(tempfile.mkdtemp(prefix="dv-"))
        weakref.finalize(self, shutil.rmtree, str(self.run_dir), True)
        self.mail_root.mkdir(exist_ok=True)
        self._chown(self.mail_root)
        if self.passwd_path.exists():  # reusing a workdir: keep its users
            for line in self.passwd_path.read_text().splitlines():
                name, _, rest = line.partition(":")
                if name and rest.startswith("{PLAIN}"):
                    self._users[name] = rest[len("{PLAIN}"):].split(":", 1)[0]
        else:
            self._write_passwd()

    # -- paths ------------------------------------------------------------

    @property
    def config_path(self) -> Path:
        return self.workdir / "dovecot.conf"

    @property
    def passwd_path(self) -> Path:
        return self.workdir / "passwd"

    @property
    def oauth2_conf_path(self) -> Path:
        return self.workdir / "dovecot-oauth2.conf.ext"

    @property
    def log_path(self) -> Path:
        return self.workdir / "dovecot.log"

    @property
    def console_path(self) -> Path:
        return self.workdir / "dovecot.console"

    @property
    def mail_root(self) -> Path:
        return self.workdir / "mail"

    def maildir(self, user: str) -> Path:
        """The on-disk Maildir of ``user`` (for inspection in tests)."""
        return self.mail_root / user / "Maildir"

    # -- class helpers ----------------------------------------------------

    @classmethod
    def available(cls) -> bool:
        """True if a dovecot binary is installed (PATH or /usr/sbin)."""
        return cls._find_binary() is not None

    @classmethod
    def _find_binary(cls) -> str | None:
        found = shutil.which(cls.binary)
        if found:
            return found
        for candidate in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot"):
            if os.access(candidate, os.X_OK):
                return candidate
        return None

    # -- users --------------------------------------------------------------

    def add_user(self, name: str, password: str) -> None:
        """Add (or change the password of) an IMAP user; works while running."""
        if not name or any(c in name for c in ":/\n\r\t ") or name.startswith("."):
            raise ValueError(f"unusable IMAP user name: {name!r}")
        if any(c in password for c in ":\n\r"):
            raise ValueError("password must not contain ':' or newlines")
        with self._lock:
            self._users[name] = password
            home = self.mail_root / name
            home.mkdir(exist_ok=True)  # else imap logs "chdir(/name) failed" on first login
            self._chown(home)
            self._write_passwd()
        if self.running:
            # The auth process re-checks the passwd-file at most once per
            # (wall-clock) second, so a lookup in the second of the write may
            # still see the old file.  From the next second on it cannot.
            time.sleep(1.05 - time.time() % 1.0)

    @property
    def users(self) -> dict[str, str]:
        return dict(self._users)

    def _write_passwd(self) -> None:
        # Atomic replace: Dovecot re-reads the file when its mtime/size change.
        lines = "".join(f"{u}:{{PLAIN}}{p}::::::\n" for u, p in self._users.items())
        tmp = self.passwd_path.with_suffix(".tmp")
        tmp.write_text(lines)
        # Dovecot notices changes by mtime and size; make sure mtime moves even
        # for a same-size rewrite within the same second.
        with contextlib.suppress(FileNotFoundError):
            previous = self.passwd_path.stat().st_mtime
            stamp = max(time.time(), previous + 1)
            os.utime(tmp, (stamp, stamp))
        os.replace(tmp, self.passwd_path)

    def _chown(self, path: Path) -> None:
        if self._as_root:
            os.chown(path, self._mail_uid, self._mail_gid)

    # -- configuration ------------------------------------------------------

    def _config(self) -> str:
        return dovecot_conf(self)

    # -- lifecycle ----------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> "Dovecot":
        """Write the config, start ``dovecot -F`` and wait until a login works."""
        if self.running:
            return self
        binary = self._find_binary()
        if binary is None:
            raise DovecotError("dovecot binary not found (apt-get install dovecot-imapd)")
        keep_port = self.port is not None
        attempts = 1 if keep_port else _PORT_ATTEMPTS
        last_error: DovecotError | None = None
        for _ in range(attempts):
            if not keep_port:
                self.port = _free_port()
            try:
                self._start_once(binary)
                _running.add(self)
                return self
            except _PortInUse as exc:
                last_error = exc
                continue
        assert last_error is not None
        raise last_error

    def _start_once(self, binary: str) -> None:
        (self.workdir / "state").mkdir(exist_ok=True)
        self.run_dir.mkdir(exist_ok=True)
        # A killed master leaves its pid file; if that pid got reused, Dovecot
        # would refuse to start ("already running").
        with contextlib.suppress(FileNotFoundError):
            (self.run_dir / "master.pid").unlink()
        if self.oauth2_introspection_url is not None:
            self.oauth2_conf_path.write_text(dovecot_oauth2_conf(self))
        self.config_path.write_text(self._config())
        log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        # Startup errors (bad config, bind failures) go to stdout/stderr before
        # log_path is open; a file rather than a pipe so nothing can block.
        with self.console_path.open("wb") as console:
            self._proc = subprocess.Popen(
                [binary, "-F", "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # lets stop() kill the whole process group
            )
        deadline = time.monotonic() + _START_TIMEOUT
        problem = "timed out"
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                status = self._proc.returncode
                self._proc = None
                output = self.console_path.read_text(errors="replace")
                tail = self._log_tail(log_offset)
                text = f"dovecot exited early with status {status}\n{output}\n{tail}"
                if "Address already in use" in output + tail:
                    raise _PortInUse(f"{self.host}:{self.port} already in use\n{text}")
                raise DovecotError(text)
            ok, problem = self._probe()
            if ok:
                return
            fatal = [line for line in self._log_tail(log_offset, 400).splitlines() if ": Fatal: " in line]
            if fatal:
                self.stop()
                text = f"Dovecot failed to start: {fatal[0]}\n{self._log_tail(log_offset)}"
                if "Address already in use" in text:
                    raise _PortInUse(f"{self.host}:{self.port} already in use\n{text}")
                raise DovecotError(text)
            time.sleep(0.05)
        self.stop()
        raise DovecotError(
            f"Dovecot on {self.host}:{self.port} not ready after {_START_TIMEOUT:.0f}s "
            f"({problem}); config {self.config_path}\n{self._log_tail(log_offset)}"
        )

    def _probe(self) -> tuple[bool, str]:
        try:
            with socket.create_connection((self.host, self.port), timeout=1.0) as s:
                greeting = s.recv(1024)
        except OSError as exc:
            return False, f"connect: {exc}"
        if not greeting.startswith(b"* OK"):
            return False, f"greeting {greeting!r}"
        if not self._users:
            return True, ""
        user, password = next(iter(self._users.items()))
        try:
            with self.client(user, password, timeout=2.0) as client:
                client.noop()
        except Exception as exc:  # noqa: BLE001 - reported in the timeout error
            return False, f"login as {user!r}: {exc!r}"
        return True, ""

    def _log_tail(self, offset: int = 0, lines: int = 40) -> str:
        try:
            with self.log_path.open("rb") as fh:
                fh.seek(offset)
                text = fh.read().decode(errors="replace")
        except OSError:
            return "(no dovecot log)"
        return "--- dovecot.log (tail) ---\n" + "\n".join(text.splitlines()[-lines:])

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server log (for assertion messages)."""
        return self._log_tail(0, lines)

    def stop(self) -> None:
        """Stop the server: SIGTERM to all its processes, SIGKILL after 0.5 s.

        Returns when no process of it is left running (zombies aside), so the
        port is free again.
        """
        proc, self._proc = self._proc, None
        _running.discard(self)
        if proc is None:
            return
        pgid = proc.pid  # start_new_session: the master leads its own group
        # The whole group, not just the master: a master-only SIGTERM costs
        # ~1 s per stop while it waits for its children.  Acknowledged
        # APPENDs are already on disk, and Dovecot repairs its index files if
        # a kill interrupted them, so the SIGKILL fallback loses nothing.
        self._signal_group(pgid, signal.SIGTERM)
        try:
            proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            self._signal_group(pgid, signal.SIGKILL)
            proc.wait(timeout=5)
        deadline = time.monotonic() + 5
        while self._group_alive(pgid):  # children of a killed master
            if time.monotonic() > deadline:
                self._signal_group(pgid, signal.SIGKILL)
                deadline = time.monotonic() + 5
            time.sleep(0.01)

    @staticmethod
    def _signal_group(pgid: int, sig: int) -> bool:
        """Send ``sig`` to the process group; False if none of it is left."""
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return False
        return True

    @classmethod
    def _group_alive(cls, pgid: int) -> bool:
        """Any process of the group still running?  Zombies do not count:
        they hold no sockets, and reaping orphans is init's business (which
        can take a second or more in some containers)."""
        proc = Path("/proc")
        if not (proc / "self" / "stat").exists():  # not Linux
            return cls._signal_group(pgid, 0)
        for stat in proc.glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # exited meanwhile
            state, pgrp = fields[0], fields[2]
            if pgrp == str(pgid) and state not in ("Z", "X"):
                return True
        return False

    def restart(self) -> "Dovecot":
        """Stop and start again on the same port with the same mail and users."""
        self.stop()
        return self.start()

    def __enter__(self) -> "Dovecot":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Dovecot {self.host}:{self.port} {state} {self.workdir}>"

    # -- IMAP helpers (imapclient) -------------------------------------------

    @contextlib.contextmanager
    def client(self, user: str, password: str, *, timeout: float = 10.0) -> Iterator["IMAPClient"]:
        """A logged-in IMAPClient, logged out afterwards."""
        from imapclient import IMAPClient

        if self.port is None:
            raise DovecotError("Dovecot has not been started")
        client = IMAPClient(self.host, self.port, ssl=False, timeout=timeout)
        try:
            client.login(user, password)
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()
            with contextlib.suppress(Exception):
                client.shutdown()

    def append(
        self,
        user: str,
        password: str,
        folder: str,
        raw: bytes,
        *,
        flags: tuple[str | bytes, ...] = (),
        msg_time: _dt.datetime | None = None,
    ) -> int | None:
        """APPEND ``raw`` to ``folder`` (created if missing); returns the UID."""
        with self.client(user, password) as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            response = client.append(folder, raw, flags=flags, msg_time=msg_time)
        # b'[APPENDUID <uidvalidity> <uid>] Append completed ...'
        if isinstance(response, bytes) and response.startswith(b"[APPENDUID"):
            with contextlib.suppress(IndexError, ValueError):
                return int(response.split(b"]", 1)[0].split()[2])
        return None

    def fetch_all(self, user: str, password: str, folder: str = "INBOX") -> list[bytes]:
        """Every message in ``folder``, by ascending UID, without setting \\Seen."""
        with self.client(user, password) as client:
            client.select_folder(folder, readonly=True)
            uids = sorted(client.search("ALL"))
            if not uids:
                return []
            data = client.fetch(uids, ["BODY.PEEK[]"])
            # A message moved away between SEARCH and FETCH (the daemon filing it) is no longer there.
            return [data[uid][b"BODY[]"] for uid in uids if uid in data]

    def folders(self, user: str, password: str) -> list[str]:
        """Names of all folders of ``user`` (server's own delimiter, e.g. 'INBOX.Sent')."""
        with self.client(user, password) as client:
            return [name for _flags, _delim, name in client.list_folders()]


class _PortInUse(DovecotError):
    pass

"""Helpers shared by the reliability tests: waiting, bulk delivery, the database, notify, a freezable proxy."""
from __future__ import annotations

import contextlib
import email
import email.policy
import os
import socket
import sqlite3
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Callable, Iterable

from aftercare.testing.dovecot import Dovecot
from e2e_support import SUPPORT


def wait_until(predicate: Callable[[], object], timeout: float = 30.0, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def append_all(dovecot: Dovecot, raws: Iterable[bytes], folder: str = "INBOX") -> None:
    """APPEND many messages over one IMAP session (as a busy MTA would deliver them)."""
    with dovecot.client(*SUPPORT, timeout=60) as client:
        for raw in raws:
            client.append(folder, raw)


def maildir_deliver(dovecot: Dovecot, raw: bytes, user: str = "support") -> Path:
    """Deliver like an MDA does, straight into Maildir/new: works while Dovecot is stopped."""
    maildir = dovecot.maildir(user)
    owner = maildir.stat()
    name = f"{int(time.time())}.M{uuid.uuid4().hex}.reliability"
    tmp = maildir / "tmp" / name
    tmp.parent.mkdir(exist_ok=True)
    tmp.write_bytes(raw)
    os.chown(tmp, owner.st_uid, owner.st_gid)
    final = maildir / "new" / name
    os.replace(tmp, final)
    return final


def sql(db_path: Path, query: str, params: tuple = ()) -> list[tuple]:
    """One read of the daemon's SQLite database from outside (as an operator would)."""
    con = sqlite3.connect(db_path, timeout=30)
    try:
        return con.execute(query, params).fetchall()
    finally:
        con.close()


def outbox_unfinished(db_path: Path) -> int:
    return sql(db_path, "select count(*) from message where direction='out' and status in ('pending','sending')")[0][0]


def parsed(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)


def plain_text(data: bytes) -> str:
    msg = parsed(data)
    body = msg.get_body(("plain",))
    return body.get_content() if body is not None else ""


def log_events(daemon, name: str) -> list[dict]:
    return [line for line in daemon.log_lines() if line.get("event") == name]


class NotifySocket:
    """systemd's side of sd_notify: a datagram socket that records what the daemon says, with times."""

    def __init__(self) -> None:
        # AF_UNIX paths are limited to 108 bytes; pytest's tmp_path can be longer.
        self.dir = tempfile.mkdtemp(prefix="acn-")
        self.path = os.path.join(self.dir, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.received: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.received.append((time.monotonic(), data.decode(errors="replace")))

    def times(self, field: str, since: float = 0.0) -> list[float]:
        with self._lock:
            return [t for t, text in self.received if t >= since and field in text.splitlines()]

    def starting(self, prefix: str, since: float = 0.0) -> list[float]:
        with self._lock:
            return [t for t, text in self.received if t >= since
                    and any(line.startswith(prefix) for line in text.splitlines())]

    def first(self, field: str) -> tuple[float, str] | None:
        with self._lock:
            return next(((t, text) for t, text in self.received if field in text.splitlines()), None)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
            os.rmdir(self.dir)


class FreezableProxy:
    """A loopback TCP proxy that can stop forwarding mid-stream (a server that hangs, not one that is down).

    While frozen, bytes already read are held back and nothing more is read, in both directions: the
    peer's next read blocks until its own timeout, exactly like a stalled server or a black-holed route.
    """

    def __init__(self, target_port: int, host: str = "127.0.0.1",
                 cut: Callable[[bytes], bool] | None = None, latency: float = 0.0) -> None:
        """``cut``: called with each chunk the client sends; True drops the connection instead of forwarding.
        ``latency``: seconds each chunk from the server waits before it is passed on (a slow server)."""
        self.target = (host, target_port)
        self.cut = cut
        self.latency = latency
        self.cuts = 0
        self.listener = socket.create_server((host, 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.frozen = threading.Event()
        self.closed = threading.Event()
        self.connections = 0
        self._socks: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            client.settimeout(None)
            self.connections += 1
            self._socks += [client, upstream]
            for src, dst, from_client in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pump, args=(src, dst, from_client), daemon=True).start()

    def _hold(self) -> None:
        while self.frozen.is_set() and not self.closed.is_set():
            time.sleep(0.02)

    def _pump(self, src: socket.socket, dst: socket.socket, from_client: bool) -> None:
        try:
            while not self.closed.is_set():
                self._hold()
                data = src.recv(65536)
                if not data:
                    break
                if from_client and self.cut is not None and self.cut(data):
                    self.cuts += 1
                    break
                if not from_client and self.latency:
                    time.sleep(self.latency)
                self._hold()
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def freeze(self) -> None:
        self.frozen.set()

    def thaw(self) -> None:
        self.frozen.clear()

    def close(self) -> None:
        self.closed.set()
        self.frozen.clear()
        with contextlib.suppress(OSError):
            self.listener.close()
        for s in self._socks:
            with contextlib.suppress(OSError):
                s.close()
        self._thread.join(2)

"""The IMAP edge: one connection to the support mailbox, thin around imapclient.

It lists, fetches, moves and waits; it decides nothing about cases. IDLE is
used only as a wake-up: what is in the folder is always read by UID search.
Servers without MOVE get COPY, \\Deleted and UID EXPUNGE instead.
"""
from __future__ import annotations

import email
import email.utils
import ssl
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Iterable, Iterator

import imapclient
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from .errors import AuthenticationRefused, EdgeError, ProtocolError, ServerUnreachable
from .oauth2 import SaslExchange, TokenError, TokenSource

ANNOUNCED_WAKE_GAP = 1.0  # seconds between wake-ups on mail announced in other replies (see idle_wait)
IDLE_REISSUE_SECONDS = 9 * 60  # RFC 2177 asks clients to re-issue IDLE at least every 29 minutes; servers often cut at 10+
FETCH_BATCH = 25  # messages per FETCH and per intake transaction
FETCH_BATCH_BYTES = 16 * 2**20  # ...and at most this much mail, so large attachments come a few at a time
SIZE_QUERY_CHUNK = 500  # UIDs per RFC822.SIZE query: keeps the command line short on any folder


class MailboxError(EdgeError):
    """The mailbox could not be reached or refused an operation; the caller reconnects."""


class MailboxLoginRefused(MailboxError, AuthenticationRefused):
    """The IMAP server refused the login: said once, retried on a slow schedule."""


class MailboxUnreachable(MailboxError, ServerUnreachable):
    """No IMAP connection could be made (or it broke)."""


class MailboxProtocolError(MailboxError, ProtocolError):
    """The IMAP server refused a command or answered outside the protocol."""


class MailboxMissing(MailboxError):
    """The watched folder does not exist: permanent until someone creates it or fixes mailbox.folder."""

    permanent = True


class MailboxCertificateRefused(MailboxUnreachable):
    """The server's TLS certificate was not trusted: permanent until the certificate or the CA store is fixed."""

    permanent = True


@dataclass(frozen=True)
class ImapSettings:
    """The mailbox to watch, as this edge needs it (the configuration builds it: ``MailboxConfig.imap``)."""

    host: str
    port: int
    security: str  # tls, starttls, none
    username: str
    password: Any  # has .reveal(): the secret is read only at login (None with OAuth2)
    timeout: timedelta
    auth: str = "password"  # password | oauth2 (a TokenSource is handed to Mailbox)
    mechanism: str = "XOAUTH2"  # XOAUTH2 | OAUTHBEARER, with oauth2
    folder: str = "INBOX"
    processed_folder: str = "Aftercare/Processed"
    quarantine_folder: str = "Aftercare/Quarantine"


def mailbox_key(config: ImapSettings) -> str:
    """How logs and the stored intake state name a watched folder."""
    return f"{config.username}@{config.host}:{config.port}/{config.folder}"


@dataclass(frozen=True)
class FolderStatus:
    uidvalidity: int
    uidnext: int | None


class Mailbox:
    """A logged-in connection with the watched folder selected.

    With ``auth = "oauth2"`` it logs in with an access token from ``token_source`` (shared with the SMTP
    edge when both use one grant); a refused token is replaced once before the login counts as refused.
    """

    def __init__(self, config: ImapSettings, token_source: TokenSource | None = None):
        self.config = config
        self.token_source = token_source
        self.client: IMAPClient | None = None
        self.capabilities: frozenset[bytes] = frozenset()
        self.delimiter = "/"
        self.status: FolderStatus | None = None
        self._announced_wake_at = -ANNOUNCED_WAKE_GAP  # see idle_wait

    # --- connection ---------------------------------------------------------

    def connect(self) -> FolderStatus:
        cfg = self.config
        timeout = imapclient.SocketTimeout(connect=min(cfg.timeout.total_seconds(), 30),
                                           read=cfg.timeout.total_seconds())
        try:
            client = self.client = IMAPClient(cfg.host, port=cfg.port, ssl=cfg.security == "tls",
                                              ssl_context=ssl.create_default_context(), timeout=timeout,
                                              use_uid=True)
            if cfg.security == "starttls":
                client.starttls(ssl.create_default_context())
            if cfg.auth == "oauth2":
                self._token_login(client)
            else:
                client.login(cfg.username, cfg.password.reveal())
            self.capabilities = frozenset(c.upper() for c in client.capabilities())
            self.delimiter = self._find_delimiter()
            for folder in (cfg.processed_folder, cfg.quarantine_folder):
                name = self.server_name(folder)
                if not client.folder_exists(name):
                    client.create_folder(name)
                    try:
                        client.subscribe_folder(name)
                    except IMAPClientError:
                        pass
            if not client.folder_exists(cfg.folder):
                raise MailboxMissing(f"the folder {cfg.folder!r} does not exist in {cfg.username}@{cfg.host} "
                                     "(mailbox.folder)")
            info = client.select_folder(cfg.folder)
        except MailboxMissing:
            self.close()
            raise
        except LoginError as exc:
            self.close()
            how = f" ({cfg.mechanism} token)" if cfg.auth == "oauth2" else ""
            raise MailboxLoginRefused(f"login refused for {cfg.username}@{cfg.host}{how}: {_describe(exc)}") from None
        except TokenError:
            self.close()  # no token to log in with: the loop says why (the grant, the endpoint)
            raise
        except ssl.SSLCertVerificationError as exc:
            self.close()
            raise MailboxCertificateRefused(f"the TLS certificate of {cfg.host}:{cfg.port} is not trusted: "
                                            f"{exc.verify_message or _describe(exc)}") from None
        except (OSError, ssl.SSLError) as exc:
            self.close()
            raise MailboxUnreachable(_describe(exc)) from None
        except IMAPClientError as exc:
            self.close()
            raise MailboxProtocolError(_describe(exc)) from None
        self.status = FolderStatus(int(info[b"UIDVALIDITY"]), int(info[b"UIDNEXT"]) if b"UIDNEXT" in info else None)
        return self.status

    def _token_login(self, client: IMAPClient) -> None:
        """XOAUTH2 or OAUTHBEARER; a refused token is replaced by a fresh one once (it may have just expired)."""
        if self.token_source is None:
            raise TokenError("auth is oauth2 but no token source was given")
        cfg = self.config
        for attempt in (1, 2):
            token = self.token_source.access_token()
            exchange = SaslExchange(cfg.mechanism, cfg.username, token, cfg.host, cfg.port)
            try:
                client.sasl_login(cfg.mechanism, exchange.imap)
                return
            except IMAPClientError as exc:
                if isinstance(exc, imapclient.exceptions.IMAPClientAbortError):
                    raise
                self.token_source.refused(token)
                if attempt == 2:
                    said = f" (the server said: {exchange.server_said})" if exchange.server_said else ""
                    raise LoginError(f"{_describe(exc)}{said}") from None

    def _find_delimiter(self) -> str:
        try:
            folders = self.client.list_folders(directory="", pattern="")
            if folders and folders[0][1]:
                d = folders[0][1]
                return d.decode() if isinstance(d, bytes) else d
        except IMAPClientError:
            pass
        return "/"

    def server_name(self, folder: str) -> str:
        """A configured folder name written with '/' in the server's own hierarchy delimiter."""
        return folder.replace("/", self.delimiter) if self.delimiter and self.delimiter != "/" else folder

    def close(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # already gone: nothing to tidy
            try:
                client.shutdown()
            except Exception:
                pass

    @property
    def supports_idle(self) -> bool:
        return b"IDLE" in self.capabilities

    @property
    def supports_move(self) -> bool:
        return b"MOVE" in self.capabilities

    # --- reading ------------------------------------------------------------

    def uids(self, after: int = 0) -> list[int]:
        """UIDs of the folder's undeleted messages above ``after``, ascending."""
        try:
            if after:
                found = self.client.search(["UID", f"{after + 1}:*", "UNDELETED"])
            else:
                found = self.client.search(["UNDELETED"])
        except (OSError, IMAPClientError) as exc:
            raise _edge_error(exc) from None
        return sorted(u for u in found if u > after)

    def fetch_batches(self, uids: Iterable[int]) -> Iterator[list[tuple[int, bytes]]]:
        """Raw bytes of the messages, a batch at a time: one round trip each, bounded memory.

        A batch holds up to ``FETCH_BATCH`` messages and ``FETCH_BATCH_BYTES``
        of mail by the server's RFC822.SIZE; a larger message comes alone. A
        message that vanished meanwhile is skipped.
        """
        uids = list(uids)
        for start in range(0, len(uids), SIZE_QUERY_CHUNK):
            part = uids[start:start + SIZE_QUERY_CHUNK]
            sizes = self._fetch(part, ["RFC822.SIZE"])
            batch, total = [], 0
            for uid in part:
                size = sizes.get(uid, {}).get(b"RFC822.SIZE") or 0
                if batch and (len(batch) >= FETCH_BATCH or total + size > FETCH_BATCH_BYTES):
                    yield self._bodies(batch)
                    batch, total = [], 0
                batch.append(uid)
                total += size
            if batch:
                yield self._bodies(batch)

    def _bodies(self, uids: list[int]) -> list[tuple[int, bytes]]:
        data = self._fetch(uids, ["BODY.PEEK[]"])
        return [(uid, data[uid][b"BODY[]"]) for uid in uids if data.get(uid, {}).get(b"BODY[]") is not None]

    def _fetch(self, uids: list[int], items: list[str]) -> dict:
        try:
            return self.client.fetch(uids, items)
        except (OSError, IMAPClientError) as exc:
            raise _edge_error(exc) from None

    # --- filing -------------------------------------------------------------

    def move(self, uids: list[int], folder: str) -> None:
        if not uids:
            return
        target = self.server_name(folder)
        try:
            if self.supports_move:
                self.client.move(uids, target)
            else:
                self.client.copy(uids, target)
                self.client.add_flags(uids, [imapclient.DELETED], silent=True)
                if b"UIDPLUS" in self.capabilities:
                    self.client.uid_expunge(uids)
                else:
                    self.client.expunge()
        except (OSError, IMAPClientError) as exc:
            raise _edge_error(exc) from None

    # --- erasing (aftercare customer erase) ---------------------------------

    def purge(self, folder: str, address: str, message_ids: Iterable[str] = (), redact=None) -> int:
        """Erase a customer from ``folder``: delete the messages they wrote (From, Sender or Reply-To them) and
        those whose Message-ID is one of ``message_ids``; a message of someone else that only names them (To or
        Cc) is replaced by a copy with ``redact(bytes)`` applied. The server's search is by substring, so each
        candidate's addresses are read and compared exactly. Return how many messages were deleted or replaced;
        the watched folder is selected again afterwards."""
        ids = {m.strip().strip("<>").lower() for m in message_ids if m}
        target = self.server_name(folder)
        addr = address.lower()
        try:
            self.client.select_folder(target)
            candidates = set(self.client.search(["OR", "OR", "FROM", address, "TO", address, "CC", address]))
            candidates.update(self.client.search(["OR", "HEADER", "Sender", address, "HEADER", "Reply-To", address]))
            for mid in ids:
                candidates.update(self.client.search(["HEADER", "Message-ID", mid]))
            doomed, replaced = [], []
            if candidates:
                fields = "BODY.PEEK[HEADER.FIELDS (FROM SENDER REPLY-TO TO CC MESSAGE-ID)]"
                for uid, data in self.client.fetch(sorted(candidates), [fields]).items():
                    raw = next((v for k, v in data.items() if k.startswith(b"BODY[")), b"") or b""
                    header = email.message_from_bytes(raw)

                    def people(*names):
                        return {a.lower() for _, a in email.utils.getaddresses(
                            [v for n in names for v in header.get_all(n, [])])}
                    if addr in people("From", "Sender", "Reply-To") or \
                            (header.get("Message-ID") or "").strip().strip("<>").lower() in ids:
                        doomed.append(uid)
                    elif addr in people("To", "Cc") and redact is not None:
                        replaced.append(uid)
            for uid, data in (self.client.fetch(replaced, ["BODY.PEEK[]", "FLAGS", "INTERNALDATE"]).items()
                              if replaced else []):
                body = next((v for k, v in data.items() if k.startswith(b"BODY[")), b"") or b""
                flags = [f for f in data.get(b"FLAGS", ()) if f not in (imapclient.RECENT,)]
                self.client.append(target, redact(body), flags=flags, msg_time=data.get(b"INTERNALDATE"))
            gone = doomed + replaced
            if gone:
                if b"UIDPLUS" not in self.capabilities:
                    others = set(self.client.search(["DELETED"])) - set(gone)
                    if others:  # a plain EXPUNGE would take them too
                        raise MailboxProtocolError(
                            f"{folder} holds {len(others)} message(s) marked deleted by someone else, and the "
                            "server cannot expunge by UID: expunge or undelete them, then run the command again")
                self.client.add_flags(gone, [imapclient.DELETED], silent=True)
                if b"UIDPLUS" in self.capabilities:
                    self.client.uid_expunge(gone)
                else:
                    self.client.expunge()
            self.client.select_folder(self.config.folder)
        except (OSError, IMAPClientError) as exc:
            raise _edge_error(exc) from None
        return len(gone)

    # --- waiting ------------------------------------------------------------

    def announced_meanwhile(self) -> bool:
        """Whether the server announced new mail in its reply to another command.

        A message that arrives while we SEARCH, FETCH or MOVE is announced
        (``* N EXISTS``) in that command's reply, which imaplib files away, and
        IDLE does not announce it again: without this check it would wait for
        the next full scan (``poll_interval``). Reading imaplib's store goes
        through imapclient's ``_imap``: imapclient offers no other way to it.
        """
        stash = self.client._imap.untagged_responses
        stash.pop("RECENT", None)  # Dovecot answers a MOVE with "* 0 RECENT": that is no news
        return stash.pop("EXISTS", None) is not None

    def idle_wait(self, seconds: float, should_stop) -> bool:
        """Wait in IDLE up to ``seconds`` for news; True if the server announced some.

        News announced meanwhile wakes at once, at most once per
        ``ANNOUNCED_WAKE_GAP``: a server that repeats EXISTS with every reply
        costs one extra scan a second, never a busy loop.
        """
        announced = self.announced_meanwhile()
        if announced:
            since = time.monotonic() - self._announced_wake_at
            if since >= ANNOUNCED_WAKE_GAP:
                self._announced_wake_at = time.monotonic()
                return True
            seconds = min(seconds, ANNOUNCED_WAKE_GAP - since)
        try:
            self.client.idle()
            deadline = time.monotonic() + min(seconds, IDLE_REISSUE_SECONDS)
            news = False
            while not should_stop() and time.monotonic() < deadline:
                responses = self.client.idle_check(timeout=min(0.5, max(0.01, deadline - time.monotonic())))
                if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                    news = True
                    break
                if any(r and r[0] == b"BYE" for r in responses):
                    raise MailboxUnreachable("the server ended the connection during IDLE")
            self.client.idle_done()
        except (OSError, IMAPClientError) as exc:
            raise _edge_error(exc) from None
        if announced:
            self._announced_wake_at = time.monotonic()
        return news or announced

    def noop(self) -> None:
        try:
            self.client.noop()
        except (OSError, IMAPClientError) as exc:
            raise _edge_error(exc) from None


def _edge_error(exc: BaseException) -> MailboxError:
    """The typed error for a failure during a command: a broken connection, or a refused command."""
    if isinstance(exc, IMAPClientError) and not isinstance(exc, imapclient.exceptions.IMAPClientAbortError):
        return MailboxProtocolError(_describe(exc))
    return MailboxUnreachable(_describe(exc))


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:500]

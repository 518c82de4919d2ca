"""The OAuth2 token sources of this process: one per grant, shared by the edges that log in with it.

IMAP and SMTP usually log in with one grant (one consent gives both scopes, one refresh token). Two
sources for one grant would each rotate the refresh token behind the other's back, so the edges get
the same ``TokenSource``; sources outlive the loops' restarts (a reload, a worker that died) so that
a dead grant is not asked about again by every new loop.
"""
from __future__ import annotations

from typing import Callable

from .config import Config
from .mail.oauth2 import OAuth2Settings, TokenSource


class TokenSources:
    """Every mailbox's IMAP and SMTP token sources (``imap_for(name)``, ``smtp_for(name)``); ``imap`` and
    ``smtp`` are the first mailbox's."""

    def __init__(self, on_secret: Callable[[str], None] = lambda s: None):
        self.on_secret = on_secret
        self._sources: dict[tuple, TokenSource] = {}
        self._imap: dict[str, TokenSource] = {}
        self._smtp: dict[str, TokenSource] = {}
        self.imap: TokenSource | None = None
        self.smtp: TokenSource | None = None

    def configure(self, config: Config) -> None:
        """Sources for the configuration's grants, the unchanged ones kept; each forgets any refusal, so
        that a reload (``systemctl reload``) makes the next login ask the token endpoint afresh."""
        wanted = {}
        for inbox in config.inboxes:
            for s in (inbox.imap_oauth2, inbox.smtp_oauth2):
                if s is not None:
                    wanted[s.key()] = s
        self._sources = {key: self._sources.get(key) or self._new(s) for key, s in wanted.items()}
        for key, source in self._sources.items():
            source.reset(wanted[key])  # a new client secret given in the file takes effect
        self._imap = {i.name: self._sources[i.imap_oauth2.key()] for i in config.inboxes if i.imap_oauth2}
        self._smtp = {i.name: self._sources[i.smtp_oauth2.key()] for i in config.inboxes if i.smtp_oauth2}
        first = config.default_inbox.name
        self.imap, self.smtp = self._imap.get(first), self._smtp.get(first)

    def _new(self, settings: OAuth2Settings) -> TokenSource:
        return TokenSource(settings, on_secret=self.on_secret)

    def imap_for(self, inbox: str) -> TokenSource | None:
        return self._imap.get(inbox)

    def smtp_for(self, inbox: str) -> TokenSource | None:
        return self._smtp.get(inbox)

    def all(self) -> list[TokenSource]:
        return list(self._sources.values())

    def smtp_shares_imap_grant(self, inbox: str | None = None) -> bool:
        """Whether the mailbox sends with the grant it reads with (then a dead one stops both)."""
        imap = self._imap.get(inbox) if inbox else self.imap
        smtp = self._smtp.get(inbox) if inbox else self.smtp
        return smtp is not None and smtp is imap

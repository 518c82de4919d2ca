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
    def __init__(self, on_secret: Callable[[str], None] = lambda s: None):
        self.on_secret = on_secret
        self._sources: dict[tuple, TokenSource] = {}
        self.imap: TokenSource | None = None
        self.smtp: TokenSource | None = None

    def configure(self, config: Config) -> None:
        """Sources for the configuration's grants, the unchanged ones kept; each forgets any refusal, so
        that a reload (``systemctl reload``) makes the next login ask the token endpoint afresh."""
        wanted = {s.key(): s for s in (config.imap_oauth2, config.smtp_oauth2) if s is not None}
        self._sources = {key: self._sources.get(key) or self._new(s) for key, s in wanted.items()}
        for key, source in self._sources.items():
            source.reset(wanted[key])  # a new client secret given in the file takes effect
        self.imap = self._sources[config.imap_oauth2.key()] if config.imap_oauth2 else None
        self.smtp = self._sources[config.smtp_oauth2.key()] if config.smtp_oauth2 else None

    def _new(self, settings: OAuth2Settings) -> TokenSource:
        return TokenSource(settings, on_secret=self.on_secret)

    def all(self) -> list[TokenSource]:
        return list(self._sources.values())

    def smtp_shares_imap_grant(self) -> bool:
        return self.smtp is not None and self.smtp is self.imap

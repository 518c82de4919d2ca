"""How an edge (IMAP, SMTP, later OAuth2 token endpoints) says it failed, so the loops can tell kinds apart.

A refused login is permanent until a person acts (a wrong password, a dead token): the loops say so
once, loudly, and try again on a slow schedule, instead of logging "connection lost" forever. A server
that cannot be reached, or that answers outside the protocol, is transient: the loops back off and
reconnect.
"""
from __future__ import annotations

from datetime import timedelta


class EdgeError(Exception):
    """A server at the edge failed us."""

    permanent = False


class AuthenticationRefused(EdgeError):
    """The server refused our credentials: nothing gets better until someone fixes them."""

    permanent = True


class ServerUnreachable(EdgeError):
    """No connection (refused, timed out, TLS failed, name not found)."""


class ProtocolError(EdgeError):
    """The server answered, but not as the protocol says (or refused a command)."""


#: A refused login is tried again this often at first, then up to ``LOGIN_RETRY_CAP`` apart:
#: often enough to notice a fixed password soon, rarely enough not to look like an attack.
LOGIN_RETRY_BASE = timedelta(seconds=30)
LOGIN_RETRY_CAP = timedelta(minutes=15)

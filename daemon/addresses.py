"""Which addresses can be written into a header as they are: shared by the case rules and the composer.

Neutral ground, so that the domain (``cases/``) can decide "this customer cannot be written to" without
importing the mail edge that writes the headers.
"""
from __future__ import annotations

_ADDR_BAD = set(" \t\r\n\"<>()[],;:\\")


def writable_address(addr: str) -> bool:
    """Whether we can put this address in a header without the stdlib reinterpreting it: one @, no
    encoded-word syntax (which the address parser would decode), no spaces, quotes or controls."""
    local, at, domain = addr.rpartition("@")
    return (bool(local) and bool(at) and bool(domain) and "@" not in local and "=?" not in addr
            and not any(ch in _ADDR_BAD or ord(ch) < 32 for ch in addr))

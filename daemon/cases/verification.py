"""Is a staff-looking email really from that staff member?

A From header is trivially forged, so staff mail is obeyed only when one of
the configured methods vouches for it:

* ``reply-token``: every email to staff carries a Reply-To plus-address of the
  support mailbox, ``support+c12.<token>@example.com``, where the token is an
  HMAC over the case and the staff address with a secret only the daemon knows.
  A reply must be addressed to a valid token for that staff member.
* ``authentication-results``: the receiving server (``staff.authserv_id``)
  recorded dkim=pass or spf=pass for the From domain.
* ``from-header``: trust From alone (unsafe; check-config says so).
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Collection, Iterable

from ..inbound import InboundMail

TOKEN_LENGTH = 16
_TOKEN = re.compile(r"\+c(\d{1,9})\.([0-9a-f]{%d})@" % TOKEN_LENGTH)


def make_token(secret: bytes, case_id: int, staff_address: str) -> str:
    mac = hmac.new(secret, f"{case_id}:{staff_address.lower()}".encode(), hashlib.sha256)
    return mac.hexdigest()[:TOKEN_LENGTH]


def reply_address(support_address: str, secret: bytes, case_id: int, staff_address: str) -> str:
    """The plus-address a staff member replies to for this case."""
    local, _, domain = support_address.partition("@")
    return f"{local}+c{case_id}.{make_token(secret, case_id, staff_address)}@{domain}"


def token_cases(addresses: Iterable[str], secret: bytes, staff_address: str) -> list[int]:
    """Every case with a valid token for ``staff_address`` among ``addresses``, in the order found."""
    found: list[int] = []
    for address in addresses:
        m = _TOKEN.search(address.lower())
        if m and hmac.compare_digest(m.group(2), make_token(secret, int(m.group(1)), staff_address)):
            if int(m.group(1)) not in found:
                found.append(int(m.group(1)))
    return found


def token_case(addresses: Iterable[str], secret: bytes, staff_address: str) -> int | None:
    """The case whose valid token for ``staff_address`` is among ``addresses``, else None."""
    found = token_cases(addresses, secret, staff_address)
    return found[0] if found else None


# --- envelope senders (VERP) ----------------------------------------------------------------------------------
#
# Every outgoing email's envelope sender (MAIL FROM, hence the Return-Path a server bounces to) names its
# outbox row: ``support+b<row>.<mac>@example.com``, the mac an HMAC over the row with the same secret. A
# delivery report that comes back to it is matched to the exact email, whatever its body says; the body
# heuristics (returned Message-IDs) remain only for servers that rewrite the envelope.

BOUNCE_MAC_LENGTH = 12
_BOUNCE = re.compile(r"\+b(\d{1,12})\.([0-9a-f]{%d})@" % BOUNCE_MAC_LENGTH)


def _bounce_mac(secret: bytes, row_id: int) -> str:
    return hmac.new(secret, f"bounce:{row_id}".encode(), hashlib.sha256).hexdigest()[:BOUNCE_MAC_LENGTH]


def bounce_address(support_address: str, secret: bytes, row_id: int) -> str:
    """The envelope sender of outbox row ``row_id``: where its delivery reports come back."""
    local, _, domain = support_address.partition("@")
    return f"{local}+b{row_id}.{_bounce_mac(secret, row_id)}@{domain}"


def bounced_row(addresses: Iterable[str], secret: bytes) -> int | None:
    """The outbox row whose genuine envelope address is among ``addresses``, else None."""
    for address in addresses:
        m = _BOUNCE.search(address.lower())
        if m and hmac.compare_digest(m.group(2), _bounce_mac(secret, int(m.group(1)))):
            return int(m.group(1))
    return None


def recipients(mail: InboundMail) -> list[str]:
    """Every address the mail was sent to, including what the delivering server recorded."""
    out = list(mail.to) + list(mail.cc)
    for header in ("delivered-to", "x-original-to", "envelope-to"):
        if mail.headers.get(header):
            out.append(mail.headers[header].strip("<> ").lower())
    return out


def authentication_passes(mail: InboundMail, authserv_id: str) -> bool:
    """dkim or spf pass for the From domain in our own server's Authentication-Results."""
    value = _without_comments(mail.headers.get("authentication-results", ""))
    if not value or not authserv_id or not mail.from_address:
        return False
    serv, _, results = value.partition(";")
    serv_id = serv.strip().split()[0].lower() if serv.strip() else ""
    if serv_id != authserv_id.lower():
        return False
    domain = mail.from_address.rpartition("@")[2].lower()
    for clause in results.split(";"):
        words = clause.strip().lower().split()
        if not words:
            continue
        method = words[0]
        props = dict((k, v.strip('"')) for k, v in (w.split("=", 1) for w in words[1:] if "=" in w))
        if method == "dkim=pass" and props.get("header.d", "").strip(".") == domain:
            return True
        if method == "spf=pass" and props.get("smtp.mailfrom", "").rpartition("@")[2].strip(".") == domain:
            return True
    return False


def _without_comments(value: str) -> str:
    """The header without its (comments), which may hold ";" (OpenDKIM: "(2048-bit key; unprotected)"),
    and with no ";" or space left inside "quoted strings" (``reason="..."``), so neither splits a result."""
    out: list[str] = []
    depth, quoted, escaped = 0, False, False
    for ch in value:
        if escaped or (ch == "\\" and (quoted or depth)):  # a quoted-pair, only inside quotes or comments
            escaped = not escaped
            if quoted and (ch == ";" or ch.isspace()):
                ch = "_"
        elif quoted:
            quoted = ch != '"'
            if ch == ";" or ch.isspace():
                ch = "_"
        elif ch == '"' and not depth:
            quoted = True
        elif ch == "(":
            depth += 1
            if depth == 1:
                out.append(" ")
            continue
        elif ch == ")" and depth:
            depth -= 1
            continue
        if not depth:
            out.append(ch)
    return "".join(out)


@dataclass(frozen=True)
class Verdict:
    verified: bool
    method: str  # which method vouched, or why none did
    token_case: int | None = None


def verify_staff(mail: InboundMail, *, methods: Collection[str], secret: bytes, authserv_id: str = "",
                 case_id: int | None = None) -> Verdict:
    """Whether staff mail may be obeyed, and (by its token) which case it is for."""
    sender = (mail.from_address or "").lower()
    cases = token_cases(recipients(mail), secret, sender)
    # A reply may carry the tokens of several cases (a reply-all across two); the case at hand picks its own.
    found = case_id if case_id in cases else (cases[0] if cases else None)
    if "reply-token" in methods and found is not None and (case_id is None or found == case_id):
        return Verdict(True, "reply-token", found)
    if "authentication-results" in methods and authentication_passes(mail, authserv_id):
        return Verdict(True, "authentication-results", found)
    if "from-header" in methods:
        return Verdict(True, "from-header", found)
    return Verdict(False, "no valid reply token" + (" or passing Authentication-Results"
                                                    if "authentication-results" in methods else ""), found)

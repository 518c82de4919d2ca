"""``aftercare check-config`` online: log in as the daemon would, and name the step that fails.

For OAuth2 the steps are the token endpoint (the client, the grant), then the IMAP and SMTP logins
with the token (the scope, the mailbox's settings), so an operator knows whom to ask: the identity
provider's admin, or the mail server's.
"""
from __future__ import annotations

import sys
from typing import Callable

from .config import Config, Inbox
from .mail.imap import Mailbox, MailboxError
from .mail.oauth2 import GrantRefused, TokenError, TokenSource
from .mail.smtp import PermanentFailure, SmtpSender, SmtpTokenUnavailable, TemporaryFailure
from .tokens import TokenSources


def check_online(config: Config, out: Callable[[str], None] = print,
                 err: Callable[[str], None] = lambda line: print(line, file=sys.stderr)) -> bool:
    """Every login the daemon makes, mailbox by mailbox, in order; True if all worked."""
    tokens = TokenSources()
    tokens.configure(config)
    ok = True
    checked: set[int] = set()
    for inbox in config.inboxes:
        label = "" if len(config.inboxes) == 1 else f"[{inbox.name}] "
        prefix = (lambda write, label=label: lambda line: write(label + line))
        o, e = prefix(out), prefix(err)
        imap, smtp = tokens.imap_for(inbox.name), tokens.smtp_for(inbox.name)
        for name, source in ((f"{inbox.key}.oauth2", imap),
                             (f"{inbox.key}.smtp.oauth2" if inbox.smtp.oauth2 else f"{inbox.key}.oauth2", smtp)):
            if source is None or id(source) in checked:
                continue
            checked.add(id(source))
            ok &= _check_token(name, source, o, e)
        ok &= _check_imap(inbox, imap, o, e)
        ok &= _check_smtp(inbox, smtp, o, e)
    return ok


def _check_token(name: str, source: TokenSource, out, err) -> bool:
    s = source.settings
    try:
        source.access_token()
    except GrantRefused as exc:
        err(f"oauth2 ({name}): step 1, the token endpoint: {exc}")
        err(f"  what to do: {exc.hint}")
        return False
    except TokenError as exc:
        err(f"oauth2 ({name}): step 1, the token endpoint: {exc}")
        return False
    how = "app-only (client_credentials)" if s.flow == "client_credentials" else "refresh token"
    out(f"oauth2 ({name}): token endpoint gave an access token ({how}, {s.provider}, scope {s.scope or 'default'})")
    return True


def _check_imap(inbox: Inbox, source: TokenSource | None, out, err) -> bool:
    mb = inbox.mailbox
    mailbox = Mailbox(mb.imap, source)
    try:
        status = mailbox.connect()
        how = f" with an OAuth2 token ({mb.imap.mechanism})" if mb.auth == "oauth2" else ""
        out(f"imap: logged in to {mb.host}:{mb.port} as {mb.username}{how}; {mb.folder} selected (UIDVALIDITY "
            f"{status.uidvalidity}); IDLE {'yes' if mailbox.supports_idle else 'no'}, "
            f"MOVE {'yes' if mailbox.supports_move else 'no'}")
        return True
    except TokenError as exc:
        err(f"imap: no login tried: no OAuth2 token ({exc})")
    except MailboxError as exc:
        step = " (step 2: the IMAP server refused the token: is the IMAP scope granted, and IMAP enabled " \
               "for this mailbox?)" if mb.auth == "oauth2" and exc.permanent else ""
        err(f"imap: cannot use {mb.host}:{mb.port}: {exc}{step}")
    finally:
        mailbox.close()
    return False


def _check_smtp(inbox: Inbox, source: TokenSource | None, out, err) -> bool:
    sending = inbox.smtp_sending
    try:
        SmtpSender(sending, source).check()
    except SmtpTokenUnavailable as exc:
        err(f"smtp: no login tried: {exc}")
        return False
    except (TemporaryFailure, PermanentFailure) as exc:
        step = " (step 3: the SMTP server refused the token: is the SMTP scope granted, and SMTP AUTH enabled " \
               "for this mailbox?)" if sending.auth == "oauth2" and getattr(exc, "permanent", False) else ""
        err(f"smtp: {exc}{step}")
        return False
    if sending.auth == "oauth2":
        login = f" and logged in as {sending.username} with an OAuth2 token ({sending.mechanism})"
    else:
        login = f" and logged in as {sending.username}" if sending.username else ""
    out(f"smtp: connected to {sending.host}:{sending.port}{login}")
    return True

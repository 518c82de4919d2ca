"""The mailer: a decided email (``Outgoing``) becomes an outbox row with its final bytes.

Render the template, compose the message with the headers that keep each
conversation in one thread and its files (each named by its stored copy,
store/files.py), refuse an address that cannot be written safely
into a header, apply the per-recipient loop limit, and store the row in the
caller's transaction: it is sent only once that commits. The envelope that
names the row (VERP) is the dispatcher's, at sending time.
"""
from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Callable

import structlog

from .cases.lifecycle import LOOP_PRONE_KINDS, Outgoing
from .cases.routing import case_tag
from .cases.states import Direction, OutboxStatus
from .cases.verification import reply_address
from .config import Config, Inbox
from .mail.compose import compose, new_message_id, shorten_subject, writable_address
from .store import outbox, repository
from .store.models import Case
from .templates import Templates

log = structlog.get_logger("aftercare.mailer")


class Mailer:
    """Turns decided emails into outbox rows. ``templates_for`` gives a mailbox's templates, ``secret`` the
    key behind staff reply addresses."""

    def __init__(self, config: Config, templates_for: Callable[[str], Templates], secret: Callable[[], bytes]):
        self.config = config
        self.templates_for = templates_for
        self.secret = secret

    def inbox_of(self, case: Case | None, inbox: str | None = None) -> Inbox:
        """The mailbox an email goes by: its case's (kept even after the mailbox left the file), else the one
        named, else the first."""
        if case is not None:
            return self.config.inbox_for(case.mailbox, case.mailbox_address)
        return self.config.inbox(inbox) or self.config.default_inbox

    def enqueue(self, out: Outgoing, case: Case | None, now: datetime, inbox: str | None = None) -> int:
        """Render, compose and store one email; it is sent only once this transaction commits."""
        box = self.inbox_of(case, inbox)
        smtp = box.smtp
        case_id = case.id if case else None
        if not writable_address(out.to):
            # An address the header classes would reinterpret (e.g. an encoded word before the @) is never
            # written into a header: the email is recorded as failed, and the case itself stands.
            reason = f"not sent: {out.to!r} cannot be written safely into an email header"
            log.warning("email not sent: unsafe recipient address", case_id=case_id, recipient=out.to)
            return repository.insert_outgoing(
                case=case_id, kind=out.kind, message_id=None, from_address=smtp.from_addr_spec, to=[out.to],
                recipient=out.to.lower(), subject="", text="", created_at=now, status=OutboxStatus.FAILED, raw="",
                automated=out.auto_submitted is not None, next_attempt_at=None, note=reason, last_error=reason,
                mailbox=box.name)
        rendered = self.templates_for(box.name).render(out.template, out.context, **self.language_of(out, case, box))
        subject = shorten_subject(rendered.subject)  # may cut a tag at the end: it is put back next
        if case is not None and case_tag(subject) != case.id:
            subject = f"{subject} [Case #{case.id}]"
        rendered = dataclasses.replace(rendered, subject=subject)
        in_reply_to, references = self.thread(out.thread, case)
        mid = new_message_id(smtp.domain, case_id)
        recipient = out.to.lower()
        composed = compose(
            rendered, from_name=smtp.from_name, from_address=smtp.from_addr_spec,
            to_name=out.to_name, to_address=out.to, message_id=mid, now=now,
            in_reply_to=in_reply_to, references=references, auto_submitted=out.auto_submitted,
            loop_marker=smtp.from_addr_spec, case_id=case_id,
            reply_to=self.reply_address(case.id, recipient, box) if case is not None else None,
            attachments=out.attachments, content_language=rendered.language,
        )
        status, note = self._loop_limit(out, recipient, now, case_id, mid, box)
        return repository.insert_outgoing(
            case=case_id, kind=out.kind, message_id=mid, from_address=smtp.from_addr_spec, to=[out.to],
            recipient=recipient, subject=composed.subject, text=rendered.text, created_at=now, status=status,
            raw=composed.raw.decode("utf-8", "surrogateescape"), automated=out.auto_submitted is not None,
            next_attempt_at=now, note=note, last_error=note, mailbox=box.name,
            attachments=[repository.attachment_entry(a, stored=True) for a in out.attachments if a.sha256],
        )

    def language_of(self, out: Outgoing, case: Case | None, box: Inbox) -> dict[str, str]:
        """The language an email is written in: a customer's in the case's (``#language``, else as read when it
        opened), falling back to [customer] default_language where no template is in it; staff's in
        [staff] language."""
        default = self.config.customer.default_language
        if out.template.startswith("customer/"):
            return {"language": (case.language if case is not None else "") or default, "default_language": default}
        return {"language": box.staff.language, "default_language": box.staff.language}

    def _loop_limit(self, out: Outgoing, recipient: str, now: datetime, case_id: int | None,
                    mid: str, box: Inbox) -> tuple[OutboxStatus, str]:
        """Pending, or held back when an outside address already got ``recipient_limit`` automatic answers
        in the window: an autoresponder answering ours would otherwise loop for ever."""
        limit = self.config.outbox
        if out.kind not in LOOP_PRONE_KINDS or recipient in box.staff.addresses:
            return OutboxStatus.PENDING, ""
        recent = outbox.recent_automated_count(recipient, now - limit.recipient_limit_window, LOOP_PRONE_KINDS)
        if recent < limit.recipient_limit:
            return OutboxStatus.PENDING, ""
        log.warning("automated email held back by the loop limit", case_id=case_id, message_id=mid,
                    recipient=recipient, recent=recent)
        return OutboxStatus.HELD, (f"held back: {recent} automated emails to {recipient} in the last "
                                   f"{limit.recipient_limit_window} (outbox.recipient_limit = {limit.recipient_limit})")

    def reply_address(self, case_id: int, recipient: str, box: Inbox | None = None) -> str | None:
        """Where a staff member acts on a case by email: their personal reply address for it, at the case's
        mailbox."""
        if box is None:
            box = self.inbox_of(repository.find_case(case_id))
        if recipient.lower() not in box.staff.addresses:
            return None
        return reply_address(box.smtp.from_addr_spec, self.secret(), case_id, recipient.lower())

    def thread(self, thread: str, case: Case | None) -> tuple[str | None, list[str]]:
        """In-Reply-To and References that keep each conversation in one thread in every client."""
        if case is None or thread == "none":
            return None, []
        if thread == "customer":
            rows = repository.customer_thread(case)
            ids = [mid for mid, _ in rows]
            parent = next((mid for mid, direction in reversed(rows) if direction == Direction.IN), None) or \
                (ids[-1] if ids else None)
            # RFC 5322 3.6.4: the References end with the message we answer (the In-Reply-To).
            return parent, [i for i in ids if i != parent] + ([parent] if parent else [])
        root = repository.staff_thread_root(case)
        return (root, [root]) if root else (None, [])

"""Which files go with an email: a customer's to the owner, a staff member's to the customer.

Pure rules over what a message carried (``inbound.Attachment``: name, type, size, where it stands):

* A staff reply relays its own files, not those of what its quoting removes: an image the HTML shows
  by Content-ID goes only when its place survives quoting (``mail.quoting.own_text``, run by the caller;
  a signature logo, a picture in the quoted history do not); files inside a forwarded message travel
  inside it.
* Executable and script types that mail servers commonly block are never attached (the sender's
  server would refuse the whole email, words and all); ``[outbox] blocked_attachment_types``.
* One email's files together stay within ``[outbox] max_attachments_size``: the largest are left out
  first, and the email says which (staff can save them with ``aftercare cases attachments``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from ..inbound import IMAGE_MARK, Attachment, InboundMail

#: What ``[outbox] blocked_attachment_types`` is when the file does not say: programs and scripts that
#: Windows runs on a double click, and Office files that carry macros. Gmail and Exchange Online refuse
#: these (and archives holding them) outright.
BLOCKED_ATTACHMENT_TYPES = (
    ".exe", ".com", ".scr", ".pif", ".msi", ".msp", ".dll", ".cpl", ".bat", ".cmd", ".js", ".jse", ".vbs",
    ".vbe", ".wsf", ".wsh", ".hta", ".ps1", ".psm1", ".jar", ".lnk", ".reg", ".docm", ".dotm", ".xlsm",
    ".xltm", ".xlam", ".pptm", ".potm", ".ppsm", ".ppam", ".sldm",
    "application/x-msdownload", "application/x-msdos-program", "application/x-ms-installer",
    "application/java-archive", "application/javascript", "application/x-javascript",
)

_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}")
_CONTENT_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")


def attachment_type_problem(item: str) -> str | None:
    """Why an entry of ``blocked_attachment_types`` cannot be used, or None."""
    if _EXTENSION.fullmatch(item) or _CONTENT_TYPE.fullmatch(item.lower()):
        return None
    return f'expected a file extension such as ".exe" or a content type such as "application/x-msdownload", ' \
           f"got {item!r}"


@dataclass(frozen=True)
class LeftOut:
    """A file that does not go with the email, and why: ``blocked_type`` or ``too_large``."""

    file: Attachment
    reason: str


@dataclass(frozen=True)
class Selection:
    sent: tuple[Attachment, ...] = ()
    left_out: tuple[LeftOut, ...] = ()


def is_blocked(file: Attachment, blocked: Iterable[str]) -> bool:
    """True when the file's extension or content type is on the blocked list, or, for a forwarded
    message, that of a file inside it (mail servers look inside, and refuse the whole email)."""
    blocked = tuple(blocked)
    return any(_blocked(name, ctype, blocked) for name, ctype in ((file.filename, file.content_type), *file.inside))


def _blocked(filename: str | None, content_type: str | None, blocked: tuple[str, ...]) -> bool:
    name = (filename or "").lower().rstrip(". ")
    ctype = (content_type or "").lower()
    for item in blocked:
        if item.startswith("."):
            if name.endswith(item):
                return True
        elif ctype == item:
            return True
    return False


def wire_size(size: int) -> int:
    """What a file adds to an email: base64 in lines of 76 and CR LF (57 bytes per 78)."""
    return -(-size // 57) * 78


def select(files: Sequence[Attachment], *, budget: int, blocked: Iterable[str]) -> Selection:
    """The files that go (in their order) and those left out: blocked types, then the largest until the
    rest fit in ``budget`` bytes as they travel (base64: a third more), so that an email within the budget
    also passes a mail server's limit of the same size."""
    blocked = tuple(blocked)
    refused = [is_blocked(f, blocked) for f in files]
    left = [LeftOut(f, "blocked_type") for f, no in zip(files, refused) if no]
    going = [f for f, no in zip(files, refused) if not no]
    total = sum(wire_size(f.size) for f in going)
    for f in sorted(going, key=lambda f: f.size, reverse=True):
        if total <= budget:
            break
        left.append(LeftOut(f, "too_large"))
        total -= wire_size(f.size)
    dropped = {id(x.file) for x in left}
    return Selection(tuple(f for f in files if id(f) not in dropped),
                     tuple(sorted(left, key=lambda x: files.index(x.file))))


def customer_files(mail: InboundMail) -> list[Attachment]:
    """What a customer's message carried, for the owner: every file stored from it, inline images too."""
    return [a for a in mail.attachments if a.sha256 and not a.nested]


def staff_files(mail: InboundMail, said_html: str) -> list[Attachment]:
    """What a staff reply relays: its own files, and the images it shows in place only where that place is
    part of what the reply says (not its signature, not the quoted history). ``said_html``: the reply's
    HTML as text with its images marked, cut by ``quoting.own_text`` to what the sender wrote this time
    ("" when nothing: then none of its pictures is theirs)."""
    # An interleaved answer keeps the quoted paragraph it answers ("> " lines): a picture there is quoted.
    kept = {int(m) for line in (said_html or "").split("\n") if not line.lstrip().startswith(">")
            for m in IMAGE_MARK.findall(line)}
    return [a for i, a in enumerate(mail.attachments)
            if a.sha256 and not a.nested and (not a.referenced or i in kept)]


def describe(file: Attachment) -> dict:
    """A file as the templates see it."""
    return {"filename": file.filename or "(unnamed)", "content_type": file.content_type, "size": file.size,
            "inline": file.inline and file.content_type.lower().startswith("image/")}

"""Attachment bytes, stored once each, and the outbox rows that carry them.

A file a customer or a staff member sent is kept in ``attachment_file`` under its SHA-256: the same
photo relayed to the owner, handed over to a colleague and saved by the operator is one row. An
outgoing email's ``raw`` holds every byte of the email except each attachment's body, where a line
names the file (``=aftercare-file:base64:<sha256>=``, ``mail/compose.py``); ``expand`` writes the body in at sending time,
the same way every time, so a resend after a crash is byte for byte the email first tried.
"""
from __future__ import annotations

import base64
import re
from datetime import datetime
from typing import Iterable

from ..inbound import Attachment
from ..mail.compose import FILE_MARK as _MARK, FILE_MARK_PREFIX as _MARK_PREFIX
from .models import AttachmentFile


class MissingFile(Exception):
    """An outgoing email names a file the database no longer holds."""


def store(files: Iterable[Attachment], now: datetime) -> None:
    """Keep the bytes of each file not yet stored, in the caller's transaction."""
    seen: set[str] = set()
    for f in files:
        if not f.sha256 or not f.data or f.sha256 in seen:
            continue
        seen.add(f.sha256)
        AttachmentFile.insert(sha256=f.sha256, data=f.data, size=len(f.data),
                              created_at=now).on_conflict_ignore().execute()


def read(sha256: str) -> bytes | None:
    row = AttachmentFile.get_or_none(AttachmentFile.sha256 == sha256)
    return bytes(row.data) if row is not None else None


def stored(hashes: Iterable[str]) -> set[str]:
    """Which of these files the database holds."""
    hashes = [h for h in set(hashes) if h]
    if not hashes:
        return set()
    return {r[0] for r in AttachmentFile.select(AttachmentFile.sha256).where(AttachmentFile.sha256.in_(hashes))
            .tuples()}


def carries_files(raw: bytes | str) -> bool:
    return (_MARK_PREFIX if isinstance(raw, bytes) else _MARK_PREFIX.decode()) in raw


def expand(raw: bytes) -> bytes:
    """The email as it goes on the wire: each file's body written in where ``raw`` names it."""
    if _MARK_PREFIX not in raw:
        return raw
    cache: dict[str, bytes] = {}

    def body(match: re.Match) -> bytes:
        transfer, sha = match.group(1).decode(), match.group(2).decode()
        if sha not in cache:
            data = read(sha)
            if data is None:
                raise MissingFile(f"attachment {sha[:12]} is no longer stored")
            cache[sha] = data
        data = cache[sha]
        if transfer == "raw":
            text = re.sub(rb"\r?\n", b"\r\n", data)
            return text[:-2] if text.endswith(b"\r\n") else text
        return base64.encodebytes(data).replace(b"\n", b"\r\n").rstrip(b"\r\n")

    return _MARK.sub(body, raw)

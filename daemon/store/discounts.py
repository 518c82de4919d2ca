"""The discount code pool: each code goes to at most one case, ever.

Claiming happens inside the caller's transaction. On PostgreSQL the candidate
row is locked with SKIP LOCKED and the update re-checks that it is still free;
on SQLite the write transaction (BEGIN IMMEDIATE) already serialises claims. So
two daemons on one database can never hand out the same code.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from peewee import PostgresqlDatabase, fn

from .models import DiscountCode, database


def load_pool(codes_file: Path, now: datetime) -> int:
    """Add the file's codes (one per line; blank lines and # comments skipped); return how many were new."""
    codes = []
    for line in codes_file.read_text(encoding="utf-8").splitlines():
        code = line.strip()
        if code and not code.startswith("#"):
            codes.append(code)
    if not codes:
        return 0
    with database.atomic():
        before = DiscountCode.select().count()
        for start in range(0, len(codes), 500):
            (DiscountCode.insert_many([{"code": c, "added_at": now} for c in codes[start:start + 500]])
             .on_conflict_ignore().execute())
        return DiscountCode.select().count() - before


def claim(case_id: int, now: datetime) -> str | None:
    """Give the next free code to ``case_id`` (the one it already has, if any); None when the pool is empty."""
    mine = DiscountCode.get_or_none(DiscountCode.case == case_id)
    if mine is not None:
        return mine.code
    for _ in range(5):
        query = (DiscountCode.select().where(DiscountCode.case.is_null() & DiscountCode.issued_at.is_null())
                 .order_by(DiscountCode.id).limit(1))
        if isinstance(database.obj, PostgresqlDatabase):
            query = query.for_update(skip_locked=True)
        row = query.first()
        if row is None:
            return None
        taken = (DiscountCode.update(case=case_id, issued_at=now)
                 .where((DiscountCode.id == row.id) & DiscountCode.case.is_null()
                        & DiscountCode.issued_at.is_null()).execute())
        if taken == 1:
            return row.code
    return None


def remaining() -> int:
    return DiscountCode.select(fn.COUNT(DiscountCode.id)).where(DiscountCode.issued_at.is_null()).scalar()

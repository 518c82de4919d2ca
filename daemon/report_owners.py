"""The report's figures about the work itself: each owner's cases, promises kept, volume per week, what is late.

Pure functions over rows that ``report.build_report`` has read: they take ``now`` and the report's
timezone and never read the clock or the database. Times in and out are naive UTC; weeks are ISO weeks
of the local time (``schedule.timezone``), since a manager's week starts on their own Monday.

Figures:

* within the promise: a case with a due time for its first staff reply (``first_response_due_at``) kept
  it when ``first_response_at <= first_response_due_at``; answered later, or still unanswered after the
  due time (open or not), it missed; unanswered and not yet due, it is left out. Cases without a due
  time (opened before the daemon recorded one) are left out too, and counted as such.
* plan steps on time, per owner: as for the whole report, steps done by their due time / steps done or
  overdue at ``now``.
* volume per week: cases opened in the week, and cases resolved in it (``resolved_at``, or ``closed_at``
  for a case closed without being resolved first), every week from the first to the last with anything
  or from the report's period, gaps filled with zeros so a quiet week shows as one.
* open cases: every open case of the selection with what is overdue on it: the first reply (unanswered
  past its due time) and each plan step not done past its due time. Cases with something overdue come
  first, the longest overdue first.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Iterable, NamedTuple
from zoneinfo import ZoneInfo

from .cases.states import CaseStatus


TONES = ("calm", "upset", "angry", "abusive")


class CaseRow(NamedTuple):
    id: int
    owner: str
    status: str
    subject: str
    mailbox: str
    created_at: datetime
    first_response_due_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    rating_score: int | None
    answer_due_at: datetime | None = None  # a reopened case owes its answer by then
    priority: str = "normal"  # urgent: an angry or abusive message, or a repeated complaint (cases/tone.py)


class StepRow(NamedTuple):
    case_id: int
    number: int
    text: str
    due_at: datetime
    done_at: datetime | None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def promise_kept(case: CaseRow, now: datetime) -> bool | None:
    """True kept, False missed, None not judged (no due time, or unanswered and not yet due)."""
    due, answered = case.first_response_due_at, case.first_response_at
    if due is None:
        return None
    if answered is not None:
        return answered <= due
    return False if due < now else None


def step_on_time(step: StepRow, now: datetime) -> bool | None:
    """True done by its due time, False done late or overdue now, None not done and not yet due."""
    if step.done_at is not None:
        return step.done_at <= step.due_at
    return False if step.due_at < now else None


def within_promise(cases: Iterable[CaseRow], now: datetime) -> dict:
    """The share of cases whose first staff reply came within the promise, with the counts behind it."""
    counts = {"within": 0, "late": 0, "unanswered_past_due": 0, "not_yet_due": 0, "without_promise": 0}
    for case in cases:
        kept = promise_kept(case, now)
        if case.first_response_due_at is None:
            counts["without_promise"] += 1
        elif kept is None:
            counts["not_yet_due"] += 1
        elif kept:
            counts["within"] += 1
        elif case.first_response_at is not None:
            counts["late"] += 1
        else:
            counts["unanswered_past_due"] += 1
    judged = counts["within"] + counts["late"] + counts["unanswered_past_due"]
    return {"share": _share(counts["within"], judged), "judged": judged, **counts}


def by_owner(cases: list[CaseRow], steps: list[StepRow], now: datetime) -> list[dict]:
    """A row per owner (as the address is written, compared without case), by address."""
    from .report import _durations, median  # the same median as the rest of the report

    owner_of = {c.id: c.owner.strip().lower() for c in cases}
    rows: dict[str, dict] = {}
    for c in cases:
        r = rows.setdefault(owner_of[c.id], {"cases": 0, "open": 0, "replies": [], "kept": [], "steps": [],
                                             "scores": []})
        r["cases"] += 1
        r["open"] += c.status == CaseStatus.OPEN
        r["replies"].append((c.created_at, c.first_response_at))
        kept = promise_kept(c, now)
        if kept is not None:
            r["kept"].append(kept)
        if c.rating_score is not None and 1 <= c.rating_score <= 5:
            r["scores"].append(c.rating_score)
    for s in steps:
        on_time = step_on_time(s, now)
        if on_time is not None and s.case_id in owner_of:
            rows[owner_of[s.case_id]]["steps"].append(on_time)
    return [{"owner": owner, "cases": r["cases"], "open": r["open"],
             "median_first_reply_seconds": median(_durations(r["replies"])),
             "within_promise_share": _share(sum(r["kept"]), len(r["kept"])),
             "promises_kept": sum(r["kept"]), "promises_judged": len(r["kept"]),
             "steps_on_time_share": _share(sum(r["steps"]), len(r["steps"])),
             "steps_on_time": sum(r["steps"]), "steps_judged": len(r["steps"]),
             "ratings": len(r["scores"]),
             "average_rating": round(sum(r["scores"]) / len(r["scores"]), 2) if r["scores"] else None}
            for owner, r in sorted(rows.items())]


def local(value: datetime, tz: ZoneInfo) -> datetime:
    """A stored time (naive UTC) as the local time in ``tz``."""
    return value.replace(tzinfo=timezone.utc).astimezone(tz)


def week_start(value: datetime, tz: ZoneInfo) -> date:
    """The local Monday of the week a stored time falls in."""
    day = local(value, tz).date()
    return day - timedelta(days=day.weekday())


def week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def volume_by_week(cases: Iterable[CaseRow], tz: ZoneInfo, now: datetime, since: datetime | None = None,
                   until: datetime | None = None, settled: Iterable[datetime] | None = None,
                   tones: Iterable[tuple[datetime, str]] = ()) -> list[dict]:
    """Cases opened and resolved per local week, every week of the span shown, quiet ones as zeros.

    ``settled``: when cases were resolved (or closed unresolved) within the period, whenever opened; without
    it, the resolutions of ``cases`` count. A reopened case's earlier resolution is forgotten (its
    ``resolved_at`` is cleared), so past weeks may lose one when a case reopens. Each week also counts its
    new cases that are ``urgent`` and, from ``tones`` (when each customer message came and its tone), how
    many messages read calm, upset, angry and abusive."""
    opened: dict[date, int] = {}
    resolved: dict[date, int] = {}
    urgent: dict[date, int] = {}
    by_tone: dict[date, dict[str, int]] = {}
    for c in cases:
        w = week_start(c.created_at, tz)
        opened[w] = opened.get(w, 0) + 1
        if c.priority == "urgent":
            urgent[w] = urgent.get(w, 0) + 1
    for at, tone in tones:
        counts = by_tone.setdefault(week_start(at, tz), dict.fromkeys(TONES, 0))
        if tone in counts:
            counts[tone] += 1
    if settled is None:
        settled = [c.resolved_at or c.closed_at for c in cases if (c.resolved_at or c.closed_at) is not None]
    for at in settled:
        w = week_start(at, tz)
        resolved[w] = resolved.get(w, 0) + 1
    weeks = set(opened) | set(resolved)
    if not weeks and since is None:
        return []
    if since is not None:
        weeks.add(week_start(since, tz))
    last = now if until is None else min(until - timedelta(microseconds=1), now)
    if since is None or last >= since:
        weeks.add(week_start(last, tz))
    monday, end = min(weeks), max(weeks)
    out = []
    while monday <= end:
        out.append({"week": week_label(monday), "starts": monday.isoformat(),
                    "opened": opened.get(monday, 0), "resolved": resolved.get(monday, 0),
                    "urgent": urgent.get(monday, 0), "tones": by_tone.get(monday, dict.fromkeys(TONES, 0))})
        monday += timedelta(days=7)
    return out


def open_cases(cases: Iterable[CaseRow], steps: Iterable[StepRow], now: datetime) -> list[dict]:
    """Every open case with what is overdue on it; the longest overdue first, then the rest by number.

    A reopened case owes one answer (``answer_due_at``): late, it is listed as ``reopened_answer``, and a
    first response never given to the original complaint is not listed beside it (the answer owes both)."""
    late_steps: dict[int, list[StepRow]] = {}
    for s in steps:
        if s.done_at is None and s.due_at < now:
            late_steps.setdefault(s.case_id, []).append(s)
    rows = []
    for c in cases:
        if c.status != CaseStatus.OPEN:
            continue
        overdue: list[tuple[datetime, dict]] = []
        if c.answer_due_at is not None:
            if c.answer_due_at < now:
                overdue.append((c.answer_due_at, {"what": "reopened_answer", "due_at": _iso(c.answer_due_at)}))
        elif c.first_response_at is None and c.first_response_due_at is not None and c.first_response_due_at < now:
            overdue.append((c.first_response_due_at,
                            {"what": "first_response", "due_at": _iso(c.first_response_due_at)}))
        for s in sorted(late_steps.get(c.id, []), key=lambda s: (s.due_at, s.number)):
            overdue.append((s.due_at, {"what": "plan_step", "step": s.number, "text": s.text,
                                       "due_at": _iso(s.due_at)}))
        overdue.sort(key=lambda pair: pair[0])
        first_due = overdue[0][0] if overdue else None
        rows.append((first_due is None, first_due or datetime.min, c.id,
                     {"id": c.id, "owner": c.owner, "subject": c.subject, "mailbox": c.mailbox,
                      "created_at": _iso(c.created_at), "overdue": [item for _, item in overdue]}))
    rows.sort(key=lambda r: r[:3])
    return [r[3] for r in rows]

"""The lessons report: what happened to the complaints, how fast, and what keeps going wrong.

``build_report`` reads the database into one JSON-ready dict (times as ISO text
with ``Z``, durations in seconds); ``render_text`` and ``render_html`` present
it. Only cases created at or after ``since`` and before ``until`` count (of
``owner`` and ``mailbox`` when given), and everything else (plan steps, ratings,
causes, codes) is taken from those cases. A date as ``since`` or ``until`` is a
local day in the report's timezone (``schedule.timezone``), ``until`` included;
a datetime without a zone is UTC, and ``until`` as a datetime is excluded. The
JSON keeps UTC; text and HTML show local times with the zone named.

Figures:

* time to acknowledgment: the case's first outbound ``acknowledgment`` message
  with status ``sent``, ``sent_at - created_at``; to first staff reply:
  ``first_response_at - created_at``; to resolution: ``resolved_at - created_at``.
  Each as count, median (even count: mean of the middle two) and 90th
  percentile (nearest rank); a negative difference (clock skew) counts as 0.
* satisfaction by week: local ISO weeks of ``rated_at`` (``created_at`` when
  unknown), each with the Monday it starts (``starts``).
* plan steps: share on time = steps done by their due time / steps that are
  done or overdue at ``now`` (null when there are none).
* root causes (``#cause``) ranked by count, then name; spellings that differ
  only in case or spacing are counted together under the most used spelling.
* discount codes: codes of the pool handed to a case, plus codes recorded on a
  case without a pool row (``mode = "static"``, issued with the check-in).
* mailboxes: a row per mailbox the cases came in by: cases, open now, median
  time to first staff reply, share resolved (resolved or closed now), ratings.
  With ``mailbox`` every figure counts only that mailbox's cases.
* owners, the share answered within the promise, volume per week and the open
  cases with what is overdue on them: see ``report_owners``.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Iterable
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader
from peewee import fn

from .cases.states import CaseStatus, Direction, MessageKind, OutboxStatus
from .report_owners import (CaseRow, StepRow, by_owner, local, open_cases, volume_by_week, week_label, week_start,
                            within_promise)
from .store.models import Case, DiscountCode, Message, PlanStep
from .templates import bundled_directory

STATUSES = tuple(s.value for s in CaseStatus)
MAX_COMMENTS = 50


# --- figures ----------------------------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


def _naive_utc(value: datetime | date | None, tz: ZoneInfo = ZoneInfo("UTC"), next_day: bool = False
               ) -> datetime | None:
    """A bound as naive UTC: a date is local midnight in ``tz`` (of the day after, with ``next_day``)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        day = value + timedelta(days=1) if next_day else value
        return datetime.combine(day, time(0), tz).astimezone(timezone.utc).replace(tzinfo=None)
    if value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def _number(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


def median(values: list[float]) -> int | float | None:
    """Middle of the sorted values; the mean of the middle two for an even count."""
    if not values:
        return None
    s = sorted(values)
    mid = len(s) // 2
    return _number(s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2)


def percentile(values: list[float], p: float) -> int | float | None:
    """Nearest-rank percentile: the smallest value with at least p% of the values at or below it."""
    if not values:
        return None
    s = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(s)))
    return _number(s[rank - 1])


def _durations(pairs: Iterable[tuple[datetime, datetime]]) -> list[float]:
    out = []
    for start, end in pairs:
        if start is not None and end is not None:
            out.append(_number(max(0.0, (end - start).total_seconds())))
    return out


def _timing(pairs: Iterable[tuple[datetime, datetime]]) -> dict:
    values = _durations(pairs)
    return {"count": len(values), "median_seconds": median(values), "p90_seconds": percentile(values, 90)}


def _by_mailbox(cases) -> list[dict]:
    """One row per mailbox, by name, from (mailbox, status, created_at, first_response_at, rating_score) rows."""
    rows: dict[str, dict] = {}
    for name, status, created_at, first_response_at, score in cases.tuples():
        r = rows.setdefault(name, {"cases": 0, "open": 0, "replies": [], "scores": []})
        r["cases"] += 1
        r["open"] += status == CaseStatus.OPEN
        r["replies"].append((created_at, first_response_at))
        if score is not None and 1 <= score <= 5:
            r["scores"].append(score)
    return [{"mailbox": name, "cases": r["cases"], "open": r["open"],
             "median_first_reply_seconds": median(_durations(r["replies"])),
             "share_resolved": round((r["cases"] - r["open"]) / r["cases"], 4),
             "ratings": len(r["scores"]),
             "average_rating": round(sum(r["scores"]) / len(r["scores"]), 2) if r["scores"] else None}
            for name, r in sorted(rows.items())]


def build_report(since: datetime | date | None = None, now: datetime | None = None,
                 mailbox: str | None = None, *, until: datetime | date | None = None, owner: str | None = None,
                 tz: ZoneInfo | str = "UTC") -> dict:
    """The report over the cases created in [``since``, ``until``) (open-ended when None), as of ``now``,
    of ``mailbox`` and ``owner`` only when given; weeks and dates in ``tz``."""
    if now is None:
        raise TypeError("build_report needs now: the report is as of a time its caller chooses")
    tz = ZoneInfo(tz) if isinstance(tz, str) else tz
    now = _naive_utc(now)
    since = _naive_utc(since, tz)
    until = _naive_utc(until, tz, next_day=True)

    def in_range(query, when=Case.created_at):
        """``query`` narrowed to the mailbox and owner asked for, and to ``when`` (by default the case's opening)
        within the period."""
        if mailbox is not None:
            query = query.where(Case.mailbox == mailbox)
        if owner is not None:
            query = query.where(fn.LOWER(Case.owner) == owner.strip().lower())
        if until is not None:
            query = query.where(when < until)
        return query.where(when >= since) if since is not None else query

    def tones_in_range():
        """When customers' messages came within the period and how they read, whatever case they are on: an
        angry reply this week on a case opened last month is this week's."""
        return list(in_range(Message.select(Message.created_at, Message.tone).join(Case, on=(Message.case == Case.id))
                             .where((Message.direction == Direction.IN) & (Message.tone != "")),
                             when=Message.created_at).tuples())

    def settled_in_range():
        """When cases of the mailbox and owner were resolved (or closed unresolved) within the period, whenever
        they were opened: a week's "resolved" is work done that week, not the fate of its new cases."""
        settled = fn.COALESCE(Case.resolved_at, Case.closed_at)
        query = in_range(Case.select(settled).where(settled.is_null(False)), when=settled)
        return [_naive_utc(at) if isinstance(at, datetime) else datetime.fromisoformat(str(at))
                for (at,) in query.tuples()]

    # Cases by status.
    by_status = {s: 0 for s in STATUSES}
    for status, n in in_range(Case.select(Case.status, fn.COUNT(Case.id)).group_by(Case.status)).tuples():
        by_status[status] = by_status.get(status, 0) + n

    # Response times.
    acknowledged = in_range(
        Message.select(Case.created_at, fn.MIN(Message.sent_at))
        .join(Case, on=(Message.case == Case.id))
        .where((Message.direction == Direction.OUT) & (Message.kind == MessageKind.ACKNOWLEDGMENT)
               & (Message.status == OutboxStatus.SENT)
               & Message.sent_at.is_null(False))
        .group_by(Case.id, Case.created_at)
    ).tuples()
    first_replies = in_range(Case.select(Case.created_at, Case.first_response_at)
                             .where(Case.first_response_at.is_null(False))).tuples()
    resolutions = in_range(Case.select(Case.created_at, Case.resolved_at)
                           .where(Case.resolved_at.is_null(False))).tuples()

    # Plan steps.
    steps = in_range(PlanStep.select().join(Case, on=(PlanStep.case == Case.id)))
    done = steps.where(PlanStep.done_at.is_null(False))
    done_on_time = done.where(PlanStep.done_at <= PlanStep.due_at).count()
    done_count = done.count()
    overdue = steps.where(PlanStep.done_at.is_null(True) & (PlanStep.due_at < now)).count()
    judged = done_count + overdue
    plan_steps = {
        "total": steps.count(), "done": done_count, "done_on_time": done_on_time, "overdue": overdue,
        "share_on_time": round(done_on_time / judged, 4) if judged else None,
    }

    # Satisfaction.
    rated = in_range(Case.select().where(Case.rating_score.is_null(False)))
    distribution = {str(k): 0 for k in range(1, 6)}
    for score, n in rated.select(Case.rating_score, fn.COUNT(Case.id)).group_by(Case.rating_score).tuples():
        if str(score) in distribution:
            distribution[str(score)] += n
    count = sum(distribution.values())
    total = sum(int(k) * n for k, n in distribution.items())
    weeks: dict[date, list[int]] = defaultdict(list)
    for rated_at, created_at, score in rated.select(Case.rated_at, Case.created_at, Case.rating_score).tuples():
        if 1 <= score <= 5:
            weeks[week_start(rated_at or created_at, tz)].append(score)
    latest_comments = (rated.select(Case.id, Case.rating_score, Case.rating_comment, Case.rated_at)
                       .where(Case.rating_comment != "")
                       .order_by(fn.COALESCE(Case.rated_at, Case.created_at).desc(), Case.id.desc())
                       .limit(MAX_COMMENTS))
    comments = [{"case_id": case_id, "score": score, "comment": comment, "rated_at": _iso(rated_at)}
                for case_id, score, comment, rated_at in latest_comments.tuples()]
    satisfaction = {
        "count": count,
        "average": round(total / count, 2) if count else None,
        "distribution": distribution,
        "by_week": [{"week": week_label(w), "starts": w.isoformat(), "count": len(s),
                     "average": round(sum(s) / len(s), 2)} for w, s in sorted(weeks.items())],
        "comments": comments,
    }

    # Root causes, counted together when they differ only in case or spacing.
    spellings: dict[str, Counter] = defaultdict(Counter)
    for cause, n in in_range(Case.select(Case.cause, fn.COUNT(Case.id)).where(Case.cause != "")
                             .group_by(Case.cause)).tuples():
        name = " ".join(cause.split())
        if name:
            spellings[name.casefold()][name] += n
    causes = []
    for variants in spellings.values():
        name = min(variants, key=lambda v: (-variants[v], v))
        causes.append({"cause": name, "count": sum(variants.values())})
    causes.sort(key=lambda c: (-c["count"], c["cause"].casefold(), c["cause"]))

    # Reopened cases.
    reopened = [i for (i,) in in_range(Case.select(Case.id).where(Case.reopened_count > 0)
                                       .order_by(Case.id)).tuples()]

    # Discount codes: the pool's, then codes on cases without a pool row (static mode).
    issued: dict[tuple[str, int], datetime | None] = {}
    pool = in_range(DiscountCode.select(DiscountCode.code, Case.id, DiscountCode.issued_at)
                    .join(Case, on=(DiscountCode.case == Case.id))).tuples()
    for code, case_id, issued_at in pool:
        issued[(code, case_id)] = issued_at
    on_cases = in_range(Case.select(Case.discount_code, Case.id, Case.checkin_sent_at)
                        .where(Case.discount_code != "")).tuples()
    for code, case_id, checkin_sent_at in on_cases:
        issued.setdefault((code, case_id), checkin_sent_at)
    codes = [{"code": code, "case_id": case_id, "issued_at": _iso(at)}
             for (code, case_id), at in sorted(issued.items(), key=lambda kv: (kv[1] is None, kv[1] or datetime.min,
                                                                               kv[0][1], kv[0][0]))]

    # The work: owners, promises, volume, what is late now.
    rows = [CaseRow(*t) for t in in_range(Case.select(
        Case.id, Case.owner, Case.status, Case.subject, Case.mailbox, Case.created_at, Case.first_response_due_at,
        Case.first_response_at, Case.resolved_at, Case.closed_at, Case.rating_score, Case.answer_due_at,
        Case.priority).order_by(Case.id)).tuples()]
    tones = tones_in_range()
    step_rows = [StepRow(*t) for t in in_range(
        PlanStep.select(PlanStep.case, PlanStep.number, PlanStep.text, PlanStep.due_at, PlanStep.done_at)
        .join(Case, on=(PlanStep.case == Case.id))).tuples()]

    return {
        "generated_at": _iso(now),
        "since": _iso(since),
        "period": {"since": _iso(since), "until": _iso(until)},
        "timezone": tz.key,
        "mailbox": mailbox,
        "owner": owner,
        "cases": {"total": sum(by_status.values()), "by_status": by_status},
        "mailboxes": _by_mailbox(in_range(Case.select(Case.mailbox, Case.status, Case.created_at,
                                                      Case.first_response_at, Case.rating_score))),
        "time_to_acknowledgment": _timing(acknowledged),
        "time_to_first_reply": _timing(first_replies),
        "time_to_resolution": _timing(resolutions),
        "plan_steps": plan_steps,
        "satisfaction": satisfaction,
        "causes": causes,
        "reopened": {"count": len(reopened), "cases": reopened},
        "discount_codes": {"issued": len(codes), "codes": codes},
        "within_promise": within_promise(rows, now),
        "owners": by_owner(rows, step_rows, now),
        "volume_by_week": volume_by_week(rows, tz, now, since, until, settled=settled_in_range(), tones=tones),
        "open_cases": open_cases(rows, step_rows, now),
    }


# --- presentation helpers ---------------------------------------------------------------------------------------

TIMINGS = (
    ("time_to_acknowledgment", "Acknowledgment"),
    ("time_to_first_reply", "First staff reply"),
    ("time_to_resolution", "Resolution"),
)
MAX_OPEN_CASES_IN_TEXT = 50


def human_duration(seconds: float | None) -> str:
    """``45s``, ``12m``, ``2h 15m``, ``3d 4h``; a dash when there is nothing to show."""
    if seconds is None:
        return "–"
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        m, rest = divmod(s, 60)
        return f"{m}m {rest}s" if rest else f"{m}m"
    if s < 86400:
        h, m = divmod(s // 60, 60)
        return f"{h}h {m}m" if m else f"{h}h"
    d, h = divmod(s // 3600, 24)
    return f"{d}d {h}h" if h else f"{d}d"


def _zone(report: dict) -> ZoneInfo:
    return ZoneInfo(report.get("timezone") or "UTC")


def _parse_iso(iso: str) -> datetime:
    """The report's ``...Z`` text back to naive UTC."""
    return datetime.fromisoformat(iso.removesuffix("Z"))


def human_time(iso: str | None, tz: ZoneInfo | None = None) -> str:
    """``2026-03-05T10:00:00Z`` as local time with the zone's abbreviation: ``2026-03-05 11:00 CET``."""
    if not iso:
        return "–"
    at = local(_parse_iso(iso), tz or ZoneInfo("UTC"))
    return f"{at:%Y-%m-%d %H:%M} {at.tzname()}"


def human_day(iso_date: str) -> str:
    """``2026-03-02`` as ``2 Mar 2026``: the Monday a week starts, for people rather than ISO week numbers."""
    d = date.fromisoformat(iso_date)
    return f"{d.day} {d:%b %Y}"


def _last_day(until_iso: str, tz: ZoneInfo) -> str:
    """The report's exclusive end (local midnight after the last day) as the last day included: ``10 Mar 2026``."""
    last = (local(_parse_iso(until_iso), tz) - timedelta(microseconds=1)).date()
    return f"{last.day} {last:%b %Y}"


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.0f}%"


def _average(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _period(report: dict) -> str:
    tz = _zone(report)
    period = report.get("period") or {"since": report.get("since"), "until": None}
    since, until = period.get("since"), period.get("until")
    if since and until:
        text = f"cases created from {human_time(since, tz)} through {_last_day(until, tz)}"
    elif since:
        text = f"cases created since {human_time(since, tz)}"
    elif until:
        text = f"cases created through {_last_day(until, tz)}"
    else:
        text = "all cases"
    if report.get("owner"):
        text += f" of {report['owner']}"
    return text + (f" in mailbox {report['mailbox']}" if report.get("mailbox") else "")


def promise_summary(w: dict) -> str:
    """``67% (2 of 3; 1 late, 0 unanswered past due)`` and what was left out."""
    if not w["judged"]:
        text = "– (no case with a due reply yet)"
    else:
        text = (f"{_percent(w['share'])} ({w['within']} of {w['judged']}; {w['late']} answered late, "
                f"{w['unanswered_past_due']} unanswered past due)")
    left_out = [f"{w['not_yet_due']} not yet due"] if w["not_yet_due"] else []
    left_out += [f"{w['without_promise']} without a due time"] if w["without_promise"] else []
    return text + (f"; left out: {', '.join(left_out)}" if left_out else "")


def overdue_text(item: dict, tz: ZoneInfo, as_of: str | None = None) -> str:
    """One overdue thing on an open case, as a manager reads it: what, when it was due, how long ago."""
    due = human_time(item["due_at"], tz)
    if as_of:
        late = _parse_iso(as_of) - _parse_iso(item["due_at"])
        due += f", {human_duration(late.total_seconds())} ago"
    if item["what"] == "first_response":
        return f"first reply was due {due}"
    if item["what"] == "reopened_answer":
        return f"answer to the reopened case was due {due}"
    return f"step {item['step']} “{item['text']}” was due {due}"


# --- text -------------------------------------------------------------------------------------------------------


def render_text(report: dict) -> str:
    """The report for a terminal, times in the report's timezone."""
    tz = _zone(report)
    out: list[str] = []
    add = out.append
    add(f"Aftercare report: {_period(report)} (as of {human_time(report.get('generated_at'), tz)}; "
        f"times in {tz.key})")
    add("")
    cases = report["cases"]
    statuses = ", ".join(f"{s} {n}" for s, n in cases["by_status"].items())
    add(f"Cases: {cases['total']} ({statuses})")
    add(f"First reply within the promise: {promise_summary(report['within_promise'])}")
    add("")
    if report["owners"]:
        width = min(max(8, *(len(o["owner"]) for o in report["owners"])), 40)
        add(f"{'By owner':<{width + 2}}{'cases':>7}{'open':>7}  {'1st reply':>10}{'in promise':>12}"
            f"{'steps on time':>15}  rating")
        for o in report["owners"]:
            add(f"  {o['owner']:<{width}}{o['cases']:>7}{o['open']:>7}  "
                f"{human_duration(o['median_first_reply_seconds']):>10}{_percent(o['within_promise_share']):>12}"
                f"{_percent(o['steps_on_time_share']):>15}  {_average(o['average_rating'])} ({o['ratings']})")
        add("")
    if report["mailboxes"]:
        width = min(max(8, *(len(m["mailbox"]) for m in report["mailboxes"])), 30)
        add(f"{'By mailbox':<{width + 2}}{'cases':>7}{'open':>7}  {'1st reply':>10}{'resolved':>10}  rating")
        for m in report["mailboxes"]:
            add(f"  {m['mailbox'][:30]:<{width}}{m['cases']:>7}{m['open']:>7}  "
                f"{human_duration(m['median_first_reply_seconds']):>10}{_percent(m['share_resolved']):>10}  "
                f"{_average(m['average_rating'])} ({m['ratings']})")
        add("")
    add(f"{'Response times':<22}{'cases':>7}  {'median':>10}  {'90th pct':>10}")
    for key, label in TIMINGS:
        t = report[key]
        add(f"  {label:<20}{t['count']:>7}  {human_duration(t['median_seconds']):>10}  "
            f"{human_duration(t['p90_seconds']):>10}")
    add("")
    if report["volume_by_week"]:
        add(f"{'Volume per week':<30}{'opened':>8}{'resolved':>10}{'urgent':>8}   messages calm/upset/angry/abusive")
        for w in report["volume_by_week"]:
            tones = "/".join(str(w["tones"][k]) for k in ("calm", "upset", "angry", "abusive"))
            add(f"  {w['week'] + ' (from ' + human_day(w['starts']) + ')':<28}{w['opened']:>8}{w['resolved']:>10}"
                f"{w['urgent']:>8}   {tones}")
        add("")
    opened = report["open_cases"]
    late = sum(1 for c in opened if c["overdue"])
    add(f"Open cases: {len(opened)}, {late} with something overdue" if opened else "Open cases: none")
    for c in opened[:MAX_OPEN_CASES_IN_TEXT]:
        add(f"  #{c['id']} {c['owner']}: {' '.join(c['subject'].split()) or '(no subject)'}"
            + ("" if c["overdue"] else " (nothing overdue)"))
        for item in c["overdue"]:
            add(f"      {overdue_text(item, tz, report.get('generated_at'))}")
    if len(opened) > MAX_OPEN_CASES_IN_TEXT:
        add(f"  … and {len(opened) - MAX_OPEN_CASES_IN_TEXT} more (--json or --html lists them all)")
    add("")
    p = report["plan_steps"]
    add(f"Plan steps: {p['total']} in all, {p['done']} done, {p['done_on_time']} on time, {p['overdue']} overdue; "
        f"on time: {_percent(p['share_on_time'])}")
    add("")
    sat = report["satisfaction"]
    add(f"Satisfaction: {sat['count']} rating{'' if sat['count'] == 1 else 's'}, average {_average(sat['average'])}")
    if sat["count"]:
        widest = max(sat["distribution"].values()) or 1
        for score in ("5", "4", "3", "2", "1"):
            n = sat["distribution"][score]
            add(f"  {score}  {'#' * round(20 * n / widest):<20} {n}")
        add("  by week: " + ", ".join(f"{w['week']} {_average(w['average'])} ({w['count']})" for w in sat["by_week"]))
    if sat.get("comments"):
        add("  latest comments:")
    for c in sat.get("comments", [])[:10]:
        comment = " ".join(c["comment"].split())
        add(f"    case #{c['case_id']} ({c['score']}): {comment[:100]}{'…' if len(comment) > 100 else ''}")
    add("")
    add("Root causes:" if report["causes"] else "Root causes: none recorded (staff note them with #cause)")
    width = max((len(c["cause"]) for c in report["causes"][:20]), default=0)
    for c in report["causes"][:20]:
        add(f"  {c['cause']:<{min(width, 50)}}  {c['count']}")
    if len(report["causes"]) > 20:
        add(f"  … and {len(report['causes']) - 20} more")
    add("")
    r = report["reopened"]
    add(f"Reopened cases: {r['count']}" + (" (" + ", ".join(f"#{i}" for i in r["cases"]) + ")" if r["cases"] else ""))
    d = report["discount_codes"]
    add(f"Discount codes issued: {d['issued']}")
    width = min(max((len(c["code"]) for c in d["codes"]), default=0), 40)
    for c in d["codes"]:
        add(f"  {c['code']:<{width}}  case #{c['case_id']:<5} {human_time(c['issued_at'], tz)}")
    return "\n".join(out) + "\n"


# --- HTML -------------------------------------------------------------------------------------------------------


def render_html(report: dict) -> str:
    """One self-contained HTML file: inline CSS and SVG, no scripts, nothing fetched; local times."""
    from .report_charts import charts  # it draws with this module's helpers
    tz = _zone(report)
    env = Environment(loader=FileSystemLoader(str(Path(bundled_directory()) / "report")), autoescape=True)
    env.filters["duration"] = human_duration
    env.filters["when"] = lambda iso: human_time(iso, tz)
    env.filters["day"] = human_day
    env.filters["percent"] = _percent
    env.filters["average"] = _average
    env.filters["overdue"] = lambda item: overdue_text(item, tz, report.get("generated_at"))
    template = env.get_template("report.html")
    return template.render(report=report, charts=charts(report), period=_period(report), timings=TIMINGS,
                           zone=tz.key, promise=promise_summary(report["within_promise"]))

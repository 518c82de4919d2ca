"""The lessons report: what happened to the complaints, how fast, and what keeps going wrong.

``build_report`` reads the database into one JSON-ready dict (times as ISO text
with ``Z``, durations in seconds); ``render_text`` and ``render_html`` present
it. Only cases created at or after ``since`` count, and everything else (plan
steps, ratings, causes, codes) is taken from those cases.

Figures:

* time to acknowledgment: the case's first outbound ``acknowledgment`` message
  with status ``sent``, ``sent_at - created_at``; to first staff reply:
  ``first_response_at - created_at``; to resolution: ``resolved_at - created_at``.
  Each as count, median (even count: mean of the middle two) and 90th
  percentile (nearest rank); a negative difference (clock skew) counts as 0.
* plan steps: share on time = steps done by their due time / steps that are
  done or overdue at ``now`` (null when there are none).
* root causes (``#cause``) ranked by count, then name; spellings that differ
  only in case or spacing are counted together under the most used spelling.
* discount codes: codes of the pool handed to a case, plus codes recorded on a
  case without a pool row (``mode = "static"``, issued with the check-in).
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup, escape
from peewee import fn

from .cases.states import CaseStatus, Direction, MessageKind, OutboxStatus
from .clock import utcnow
from .store.models import Case, DiscountCode, Message, PlanStep
from .templates import bundled_directory

STATUSES = tuple(s.value for s in CaseStatus)
MAX_COMMENTS = 50


# --- figures ----------------------------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


def _naive_utc(value: datetime | date | None) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
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


def _week(value: datetime) -> str:
    year, week, _ = value.isocalendar()
    return f"{year}-W{week:02d}"


def build_report(since: datetime | date | None = None, now: datetime | None = None) -> dict:
    """The report over the cases created at or after ``since`` (all when None), as of ``now`` (naive UTC)."""
    now = _naive_utc(now) or utcnow()
    since = _naive_utc(since)

    def in_range(query):
        return query.where(Case.created_at >= since) if since is not None else query

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
    weeks: dict[str, list[int]] = defaultdict(list)
    for rated_at, created_at, score in rated.select(Case.rated_at, Case.created_at, Case.rating_score).tuples():
        if 1 <= score <= 5:
            weeks[_week(rated_at or created_at)].append(score)
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
        "by_week": [{"week": w, "count": len(s), "average": round(sum(s) / len(s), 2)}
                    for w, s in sorted(weeks.items())],
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

    return {
        "generated_at": _iso(now),
        "since": _iso(since),
        "cases": {"total": sum(by_status.values()), "by_status": by_status},
        "time_to_acknowledgment": _timing(acknowledged),
        "time_to_first_reply": _timing(first_replies),
        "time_to_resolution": _timing(resolutions),
        "plan_steps": plan_steps,
        "satisfaction": satisfaction,
        "causes": causes,
        "reopened": {"count": len(reopened), "cases": reopened},
        "discount_codes": {"issued": len(codes), "codes": codes},
    }


# --- presentation helpers ---------------------------------------------------------------------------------------

TIMINGS = (
    ("time_to_acknowledgment", "Acknowledgment"),
    ("time_to_first_reply", "First staff reply"),
    ("time_to_resolution", "Resolution"),
)


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


def human_time(iso: str | None) -> str:
    """``2026-03-05T10:00:00Z`` as ``2026-03-05 10:00 UTC``."""
    if not iso:
        return "–"
    return iso[:16].replace("T", " ") + " UTC"


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.0f}%"


def _average(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _period(report: dict) -> str:
    since = report.get("since")
    return f"cases created since {human_time(since)}" if since else "all cases"


# --- text -------------------------------------------------------------------------------------------------------


def render_text(report: dict) -> str:
    """The report for a terminal."""
    out: list[str] = []
    add = out.append
    add(f"Aftercare report: {_period(report)} (as of {human_time(report.get('generated_at'))})")
    add("")
    cases = report["cases"]
    statuses = ", ".join(f"{s} {n}" for s, n in cases["by_status"].items())
    add(f"Cases: {cases['total']} ({statuses})")
    add("")
    add(f"{'Response times':<22}{'cases':>7}  {'median':>10}  {'90th pct':>10}")
    for key, label in TIMINGS:
        t = report[key]
        add(f"  {label:<20}{t['count']:>7}  {human_duration(t['median_seconds']):>10}  "
            f"{human_duration(t['p90_seconds']):>10}")
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
        add(f"  {c['code']:<{width}}  case #{c['case_id']:<5} {human_time(c['issued_at'])}")
    return "\n".join(out) + "\n"


# --- HTML and charts --------------------------------------------------------------------------------------------

_FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"'
INK, MUTED, GRID = "#1f2933", "#616e7c", "#e4e7eb"
BLUE, LIGHT_BLUE = "#2f6fbf", "#9cc3ee"
GOOD, FAIR, BAD = "#2f9e6b", "#d9a21b", "#c8463d"


def _svg(width: int, height: int, label: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{escape(label)}" {_FONT} '
        f'font-size="12">' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: Any, anchor: str = "middle", fill: str = INK, size: int = 12,
          weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" font-size="{size}" '
            f'font-weight="{weight}">{escape(str(text))}</text>')


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _score_colour(average: float) -> str:
    return GOOD if average >= 4 else FAIR if average >= 3 else BAD


def satisfaction_chart(by_week: list[dict], max_weeks: int = 26) -> Markup | None:
    """Bars of the average rating per week, with the number of ratings under each."""
    weeks = by_week[-max_weeks:]
    if not weeks:
        return None
    width, height, left, right, top, bottom = 680, 250, 34, 10, 22, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    body = []
    for score in range(0, 6):
        y = top + plot_h - plot_h * score / 5
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>')
        body.append(_text(left - 8, y + 4, score, "end", MUTED, 11))
    band = plot_w / len(weeks)
    bar = min(46.0, band * 0.7)
    for i, w in enumerate(weeks):
        x = left + band * i + (band - bar) / 2
        h = plot_h * w["average"] / 5
        y = top + plot_h - h
        body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" rx="3" '
                    f'fill="{_score_colour(w["average"])}"><title>{escape(w["week"])}: average '
                    f'{w["average"]:.2f} from {w["count"]} rating{"" if w["count"] == 1 else "s"}</title></rect>')
        cx = x + bar / 2
        body.append(_text(cx, y - 6, f'{w["average"]:.2f}', size=11, weight="600"))
        body.append(_text(cx, top + plot_h + 16, w["week"][-3:] if len(weeks) > 8 else w["week"], fill=MUTED,
                          size=11))
        body.append(_text(cx, top + plot_h + 32, f'n={w["count"]}', fill=MUTED, size=10))
    return _svg(width, height, "Average satisfaction per week", body)


def bar_chart(rows: list[tuple[str, float, str]], label: str, colour: str = BLUE, label_width: int = 210,
              limit: int = 34) -> Markup | None:
    """Horizontal bars: (label, value, value as shown)."""
    if not rows:
        return None
    row_h, width, top = 28, 680, 6
    height = top * 2 + row_h * len(rows)
    biggest = max(v for _, v, _ in rows) or 1
    span = width - label_width - 70
    body = []
    for i, (name, value, shown) in enumerate(rows):
        y = top + i * row_h
        w = max(2.0, span * value / biggest) if value else 0.0
        body.append(f'<g><title>{escape(name)}: {escape(shown)}</title>')
        body.append(_text(label_width - 10, y + row_h / 2 + 4, _shorten(name, limit), "end"))
        body.append(f'<rect x="{label_width}" y="{y + 5}" width="{w:.1f}" height="{row_h - 10}" rx="3" '
                    f'fill="{colour}"/>')
        body.append(_text(label_width + w + 8, y + row_h / 2 + 4, shown, "start", MUTED, 12, "600"))
        body.append("</g>")
    return _svg(width, height, label, body)


def response_chart(report: dict) -> Markup | None:
    """Median and 90th-percentile bars for acknowledgment, first reply and resolution."""
    groups = [(label, report[key]["median_seconds"], report[key]["p90_seconds"]) for key, label in TIMINGS]
    values = [v for _, m, p in groups for v in (m, p) if v is not None]
    if not values:
        return None
    width, height, left, right, top, bottom = 680, 260, 64, 10, 34, 32
    plot_w, plot_h = width - left - right, height - top - bottom
    biggest = max(values) or 1
    body = [
        f'<rect x="{left}" y="6" width="12" height="12" rx="2" fill="{BLUE}"/>',
        _text(left + 18, 16, "median", "start", MUTED, 11),
        f'<rect x="{left + 90}" y="6" width="12" height="12" rx="2" fill="{LIGHT_BLUE}"/>',
        _text(left + 108, 16, "90th percentile", "start", MUTED, 11),
    ]
    for i in range(0, 5):
        y = top + plot_h - plot_h * i / 4
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>')
        body.append(_text(left - 8, y + 4, human_duration(biggest * i / 4), "end", MUTED, 10))
    band = plot_w / len(groups)
    bar = min(70.0, band * 0.3)
    for g, (label, med, p90) in enumerate(groups):
        x0 = left + band * g + band / 2 - bar
        for j, (value, colour, what) in enumerate(((med, BLUE, "median"), (p90, LIGHT_BLUE, "90th percentile"))):
            x = x0 + j * bar
            if value is None:
                body.append(_text(x + bar / 2, top + plot_h - 6, "–", fill=MUTED))
                continue
            h = max(2.0, plot_h * value / biggest)  # a sliver stays visible beside a long bar
            y = top + plot_h - h
            body.append(f'<rect x="{x + 2:.1f}" y="{y:.1f}" width="{bar - 4:.1f}" height="{h:.1f}" rx="1" '
                        f'fill="{colour}"><title>{escape(label)}, {what}: {human_duration(value)}</title></rect>')
            body.append(_text(x + bar / 2, y - 5, human_duration(value), size=11, weight="600"))
        body.append(_text(left + band * g + band / 2, top + plot_h + 20, label))
    return _svg(width, height, "Response times: median and 90th percentile", body)


def charts(report: dict) -> dict[str, Markup | None]:
    sat = report["satisfaction"]
    distribution = [(f"{s} ★", sat["distribution"][s], str(sat["distribution"][s])) for s in ("5", "4", "3", "2", "1")]
    return {
        "satisfaction": satisfaction_chart(sat["by_week"]),
        "distribution": bar_chart(distribution, "Ratings by score", FAIR, label_width=60) if sat["count"] else None,
        "causes": bar_chart([(c["cause"], c["count"], str(c["count"])) for c in report["causes"][:20]],
                            "Root causes by number of cases", BAD),
        "response_times": response_chart(report),
    }


def render_html(report: dict) -> str:
    """One self-contained HTML file: inline CSS and SVG, no scripts, nothing fetched."""
    env = Environment(loader=FileSystemLoader(str(Path(bundled_directory()) / "report")), autoescape=True)
    env.filters["duration"] = human_duration
    env.filters["when"] = human_time
    env.filters["percent"] = _percent
    env.filters["average"] = _average
    template = env.get_template("report.html")
    return template.render(report=report, charts=charts(report), period=_period(report), timings=TIMINGS)

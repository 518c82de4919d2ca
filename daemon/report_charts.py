"""The report's charts, inline for ``render_html``: nothing fetched, everything typed escaped.

Readable as printed: an SVG is drawn at its own size in CSS pixels (``width``/``height`` set, never
stretched or shrunk to fit; a narrow window scrolls it) and its smallest text is 12 px, so what a manager
reads is 12 px or more. Bars with free-text labels (root causes) are HTML, not SVG, so a long label
wraps onto several lines instead of being cut.
"""
from __future__ import annotations

import math
from typing import Any

from markupsafe import Markup, escape

from .report import TIMINGS, human_day, human_duration

_FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"'
INK, MUTED, GRID = "#1f2933", "#616e7c", "#e4e7eb"
BLUE, LIGHT_BLUE = "#2f6fbf", "#9cc3ee"
GOOD, FAIR, BAD = "#2f9e6b", "#d9a21b", "#c8463d"
SMALL, NORMAL = 12, 13  # px: the smallest text in a chart, and the usual
MAX_WEEKS = 52  # a year of weeks in a chart; the table beside it has them all


def _svg(width: float, height: float, label: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart" width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'role="img" aria-label="{escape(label)}" {_FONT} font-size="{NORMAL}">' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: Any, anchor: str = "middle", fill: str = INK, size: int = NORMAL,
          weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" font-size="{size}" '
            f'font-weight="{weight}">{escape(str(text))}</text>')


def _score_colour(average: float) -> str:
    return GOOD if average >= 4 else FAIR if average >= 3 else BAD


def _short_day(iso_date: str) -> str:
    return " ".join(human_day(iso_date).split()[:2])  # "2 Mar": the year is in each bar's title


class _WeekAxis:
    """Bands for weeks along x: wide enough to read, the latest week always labelled, older ones as room allows."""

    def __init__(self, weeks: list[dict], left: float, per_week: float = 44, min_plot: float = 360,
                 max_plot: float = 880):
        self.weeks, self.left = weeks, left
        self.plot_w = min(max_plot, max(min_plot, len(weeks) * per_week))
        self.band = self.plot_w / len(weeks)
        self.every = max(1, math.ceil(56 / self.band))  # "12 Mar" at 12 px needs about 45 px

    def x(self, i: int) -> float:
        return self.left + self.band * i

    def labels(self, y: float) -> list[str]:
        n = len(self.weeks)
        return [_text(self.x(i) + self.band / 2, y, _short_day(w["starts"]), fill=MUTED, size=SMALL)
                for i, w in enumerate(self.weeks) if (n - 1 - i) % self.every == 0]


def satisfaction_chart(by_week: list[dict], max_weeks: int = MAX_WEEKS) -> Markup | None:
    """Bars of the average rating per week, with the number of ratings under each when there is room."""
    weeks = by_week[-max_weeks:]
    if not weeks:
        return None
    left, right, top, bottom = 34, 12, 24, 50
    axis = _WeekAxis(weeks, left)
    plot_h = 180
    width, height = left + axis.plot_w + right, top + plot_h + bottom
    body = []
    for score in range(0, 6):
        y = top + plot_h - plot_h * score / 5
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>')
        body.append(_text(left - 8, y + 4, score, "end", MUTED, SMALL))
    bar = min(46.0, axis.band * 0.7)
    for i, w in enumerate(weeks):
        x = axis.x(i) + (axis.band - bar) / 2
        h = plot_h * w["average"] / 5
        y = top + plot_h - h
        body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" rx="3" '
                    f'fill="{_score_colour(w["average"])}"><title>Week from {human_day(w["starts"])}: average '
                    f'{w["average"]:.2f} from {w["count"]} rating{"" if w["count"] == 1 else "s"}</title></rect>')
        if axis.band >= 40:
            body.append(_text(x + bar / 2, y - 6, f'{w["average"]:.1f}', size=SMALL, weight="600"))
            body.append(_text(x + bar / 2, top + plot_h + 36, f'n={w["count"]}', fill=MUTED, size=SMALL))
    body += axis.labels(top + plot_h + 18)
    return _svg(width, height, "Average satisfaction per week", body)


def volume_chart(by_week: list[dict], max_weeks: int = MAX_WEEKS) -> Markup | None:
    """Cases opened and resolved per week, side by side: is the backlog growing?"""
    weeks = by_week[-max_weeks:]
    if not weeks or not any(w["opened"] or w["resolved"] for w in weeks):
        return None
    left, right, top, bottom = 40, 12, 40, 30
    axis = _WeekAxis(weeks, left)
    plot_h = 180
    width, height = left + axis.plot_w + right, top + plot_h + bottom
    biggest = max(max(w["opened"], w["resolved"]) for w in weeks)
    step = max(1, math.ceil(biggest / 4))
    top_value = step * math.ceil(biggest / step)
    body = [
        f'<rect x="{left}" y="8" width="12" height="12" rx="2" fill="{BLUE}"/>',
        _text(left + 18, 19, "opened", "start", MUTED, SMALL),
        f'<rect x="{left + 90}" y="8" width="12" height="12" rx="2" fill="{GOOD}"/>',
        _text(left + 108, 19, "resolved", "start", MUTED, SMALL),
    ]
    for value in range(0, top_value + 1, step):
        y = top + plot_h - plot_h * value / top_value
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>')
        body.append(_text(left - 8, y + 4, value, "end", MUTED, SMALL))
    bar = min(20.0, axis.band * 0.38)
    for i, w in enumerate(weeks):
        x0 = axis.x(i) + axis.band / 2 - bar
        for j, (key, colour) in enumerate((("opened", BLUE), ("resolved", GOOD))):
            value = w[key]
            h = plot_h * value / top_value
            x, y = x0 + j * bar, top + plot_h - h
            body.append(f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{bar - 2:.1f}" height="{h:.1f}" rx="1" '
                        f'fill="{colour}"><title>Week from {human_day(w["starts"])}: {value} {key}</title></rect>')
            if axis.band >= 40 and value:
                body.append(_text(x + bar / 2, y - 4, value, size=SMALL, weight="600"))
    body += axis.labels(top + plot_h + 18)
    return _svg(width, height, "Cases opened and resolved per week", body)


def bar_list(rows: list[tuple[str, float, str]], label: str, colour: str = BLUE,
             label_column: str = "") -> Markup | None:
    """Horizontal bars as HTML: (label, value, value as shown); a long label wraps, whole, beside its bar."""
    if not rows:
        return None
    biggest = max(v for _, v, _ in rows) or 1
    style = f' style="--label-column: {escape(label_column)}"' if label_column else ""
    out = [f'<div class="bars" role="list" aria-label="{escape(label)}"{style}>']
    for name, value, shown in rows:
        share = value / biggest if value else 0.0
        out.append(f'<div class="bar-row" role="listitem" title="{escape(name)}: {escape(shown)}">'
                   f'<span class="bar-label">{escape(name)}</span><span class="bar-track">'
                   f'<span class="bar" style="width: calc((100% - 4em) * {share:.4f}); background: {colour}"></span>'
                   f'<span class="bar-value">{escape(shown)}</span></span></div>')
    out.append("</div>")
    return Markup("".join(out))


def response_chart(report: dict) -> Markup | None:
    """Median and 90th-percentile bars for acknowledgment, first reply and resolution."""
    groups = [(label, report[key]["median_seconds"], report[key]["p90_seconds"]) for key, label in TIMINGS]
    values = [v for _, m, p in groups for v in (m, p) if v is not None]
    if not values:
        return None
    width, height, left, right, top, bottom = 680, 270, 70, 10, 40, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    biggest = max(values) or 1
    body = [
        f'<rect x="{left}" y="8" width="12" height="12" rx="2" fill="{BLUE}"/>',
        _text(left + 18, 19, "median", "start", MUTED, SMALL),
        f'<rect x="{left + 90}" y="8" width="12" height="12" rx="2" fill="{LIGHT_BLUE}"/>',
        _text(left + 108, 19, "90th percentile", "start", MUTED, SMALL),
    ]
    for i in range(0, 5):
        y = top + plot_h - plot_h * i / 4
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>')
        body.append(_text(left - 8, y + 4, human_duration(biggest * i / 4), "end", MUTED, SMALL))
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
            body.append(_text(x + bar / 2, y - 5, human_duration(value), size=SMALL, weight="600"))
        body.append(_text(left + band * g + band / 2, top + plot_h + 22, label))
    return _svg(width, height, "Response times: median and 90th percentile", body)


def charts(report: dict) -> dict[str, Markup | None]:
    sat = report["satisfaction"]
    distribution = [(f"{s} ★", sat["distribution"][s], str(sat["distribution"][s])) for s in ("5", "4", "3", "2", "1")]
    return {
        "satisfaction": satisfaction_chart(sat["by_week"]),
        "distribution": bar_list(distribution, "Ratings by score", FAIR, label_column="3em") if sat["count"] else None,
        "causes": bar_list([(c["cause"], c["count"], str(c["count"])) for c in report["causes"][:20]],
                           "Root causes by number of cases", BAD),
        "response_times": response_chart(report),
        "volume": volume_chart(report["volume_by_week"]),
    }

"""The report's SVG charts: inline drawings for ``render_html``, nothing fetched, everything typed escaped."""
from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from .report import TIMINGS, human_duration

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

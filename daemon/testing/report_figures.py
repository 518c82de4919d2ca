"""The report's figures without its words, for tests that prove an erasure leaves them as they were."""
from __future__ import annotations


def figures(report, path: str = "") -> dict:
    """Every number in the report (``build_report`` or ``report --json``), by where it is. The list of latest
    rating comments is words (an erased customer's comment leaves it), not a figure."""
    if isinstance(report, dict):
        return {k: v for key, sub in report.items() if key != "comments"
                for k, v in figures(sub, f"{path}.{key}").items()}
    if isinstance(report, list):
        return {k: v for i, sub in enumerate(report) for k, v in figures(sub, f"{path}[{i}]").items()}
    return {path: report} if isinstance(report, (int, float)) and not isinstance(report, bool) else {}

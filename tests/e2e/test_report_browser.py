"""The HTML report as a browser draws it: headless Chromium measures what a manager would read.

A copy of the report gets a test-only script that writes what the browser computed (font sizes as
rendered, where a long label's lines fall) into the page; ``--dump-dom`` hands that back. The report
itself has no scripts. Skipped without Chromium unless AFTERCARE_REQUIRE_INTEGRATION=1.
"""
from __future__ import annotations

import html as html_lib
import json
import re
import shutil
import subprocess
from datetime import datetime, timedelta

import pytest

from aftercare.report import build_report, render_html
from aftercare.store.database import open_database
from aftercare.store.models import Case, PlanStep, database
from server_fixtures import require_integration

NOW = datetime(2026, 3, 20, 12, 0)
H, D = timedelta(hours=1), timedelta(days=1)
LONG_CAUSE = ("Courier left the parcel in the rain at the wrong address and the replacement was sent "
              "to the old address that the customer had asked us to remove from the account")

MEASURE = """
<script>
(() => {
  const px = (el) => parseFloat(getComputedStyle(el).fontSize);
  const svgText = [];
  for (const svg of document.querySelectorAll("svg")) {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    for (const t of svg.querySelectorAll("text")) svgText.push({text: t.textContent, size: px(t) * scale});
  }
  const label = [...document.querySelectorAll(".bar-label")].find((el) => el.textContent.startsWith("Courier left"));
  const range = document.createRange();
  range.selectNodeContents(label);
  const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
  const box = label.getBoundingClientRect(), text = range.getBoundingClientRect();
  const out = {
    width: innerWidth,
    svgText,
    htmlChartText: [...document.querySelectorAll(".bar-label, .bar-value")].map(px),
    label: {text: label.textContent, lines: lines.size, size: px(label),
            clipped: label.scrollWidth > label.clientWidth || label.scrollHeight > label.clientHeight,
            inside: text.left >= box.left - 1 && text.right <= box.right + 1 && text.left >= 0
                    && text.right <= document.documentElement.clientWidth},
    owners: [...document.querySelectorAll("#owners tbody tr")].map((tr) => [...tr.cells].map((c) => c.textContent)),
    weeks: [...document.querySelectorAll("#volume tbody tr")].map((tr) => [...tr.cells].map((c) => c.textContent)),
    volumeChart: !!document.querySelector('#volume svg[aria-label="Cases opened and resolved per week"] rect title'),
  };
  const pre = document.createElement("pre");
  pre.id = "measured";
  pre.textContent = JSON.stringify(out);
  document.body.append(pre);
})();
</script>
"""


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    require_integration("Chromium is not installed")


@pytest.fixture
def report_html(tmp_path):
    """A report with two owners, several weeks and a root cause too long for one line."""
    open_database(f"sqlite:///{tmp_path}/aftercare.db")
    try:
        rows = [("jane@example.com", 2, LONG_CAUSE), ("jane@example.com", 3, "Wrong size"),
                ("sam@example.com", 9, LONG_CAUSE), ("sam@example.com", 16, "")]
        for i, (owner, day, cause) in enumerate(rows):
            created = datetime(2026, 3, day, 9)
            case = Case.create(status="open" if i % 2 else "resolved", customer_address="maria@example.net",
                               owner=owner, subject=f"complaint {i}", created_at=created, updated_at=created,
                               first_response_due_at=created + 24 * H, first_response_at=created + (i + 1) * 10 * H,
                               resolved_at=None if i % 2 else created + 2 * D, cause=cause, rating_score=5 - i)
            PlanStep.create(case=case, number=1, text="refund", due_at=created + D, created_at=created)
        return render_html(build_report(now=NOW, tz="Europe/Berlin"))
    finally:
        database.close()
        database.initialize(None)


def measure(browser: str, page: str, tmp_path, width: int) -> dict:
    path = tmp_path / f"report-{width}.html"
    path.write_text(page.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    out = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          f"--user-data-dir={tmp_path / f'profile-{width}'}", f"--window-size={width},2400",
                          "--dump-dom", path.as_uri()], capture_output=True, text=True, timeout=60)
    found = re.search(r'<pre id="measured">(.*?)</pre>', out.stdout, re.S)
    assert found, f"no measurements from Chromium (rc {out.returncode}): {out.stderr[-2000:]}"
    return json.loads(html_lib.unescape(found.group(1)))


@pytest.mark.parametrize("width", [1280, 600])
def test_the_report_reads_well_in_a_browser(report_html, tmp_path, width):
    m = measure(chromium(), report_html, tmp_path, width)
    assert m["width"] == width
    assert [row[0] for row in m["owners"]] == ["jane@example.com", "sam@example.com"]
    assert [row[1] for row in m["owners"]] == ["2", "2"]
    assert [(row[0], row[2], row[3]) for row in m["weeks"]] == [
        ("2026-W10", "2", "1"), ("2026-W11", "1", "1"), ("2026-W12", "1", "0")]
    assert m["volumeChart"]
    # Chart text as drawn: at least 12 px, also in a narrow window (the chart scrolls rather than shrink).
    assert len(m["svgText"]) > 20
    smallest = min(m["svgText"], key=lambda t: t["size"])
    assert smallest["size"] >= 12 - 1e-6, smallest
    assert m["htmlChartText"] and min(m["htmlChartText"]) >= 12
    # The long root cause is whole, on several lines, inside its box and the window.
    label = m["label"]
    assert label["text"] == LONG_CAUSE
    assert label["lines"] >= 2 and label["size"] >= 12
    assert not label["clipped"] and label["inside"]

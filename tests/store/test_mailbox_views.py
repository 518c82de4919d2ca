"""Cases of several mailboxes: `cases list/show` and the report cut by mailbox, with a row per mailbox."""
import json
from datetime import datetime, timedelta

import pytest

from aftercare.report import build_report, render_html, render_text
from aftercare.store.models import Case, Message, PlanStep
from aftercare.store.views import case_detail, case_summaries
from aftercare.testing.daemonproc import run_cli

NOW = datetime(2026, 3, 20, 12, 0)
T0 = datetime(2026, 3, 2, 9, 0)
H, D, M = timedelta(hours=1), timedelta(days=1), timedelta(minutes=1)
BILLING = "Acme Billing <billing@example.com>"


def make_case(created_at, status="open", **kw):
    return Case.create(status=status, customer_address="maria@example.net", owner="jane@example.com",
                       subject=f"case at {created_at}", created_at=created_at, updated_at=created_at, **kw)


def ack(case, after):
    Message.create(case=case, direction="out", kind="acknowledgment", created_at=case.created_at, status="sent",
                   sent_at=case.created_at + after, mailbox=case.mailbox)


@pytest.fixture
def cases(db):
    s1 = make_case(T0, mailbox="support", first_response_at=T0 + H, cause="Courier damage", reopened_count=1)
    ack(s1, 5 * M)
    PlanStep.create(case=s1, number=1, text="refund", due_at=T0 + D, done_at=T0 + 2 * H, created_at=T0)
    s2 = make_case(T0 + D, "closed", mailbox="support", first_response_at=T0 + D + 3 * H, resolved_at=T0 + 2 * D,
                   rating_score=5, discount_code="S-1")
    b1 = make_case(T0 + 2 * D, mailbox="billing", mailbox_address=BILLING, first_response_at=T0 + 2 * D + 30 * M)
    ack(b1, 2 * M)
    PlanStep.create(case=b1, number=1, text="credit note", due_at=T0 + 3 * D, created_at=T0 + 2 * D)
    b2 = make_case(T0 + 3 * D, "resolved", mailbox="billing", mailbox_address=BILLING,
                   first_response_at=T0 + 3 * D + 90 * M, resolved_at=T0 + 4 * D, rating_score=3,
                   cause="Wrong invoice")
    b3 = make_case(T0 + 4 * D, "closed", mailbox="billing", mailbox_address=BILLING, resolved_at=T0 + 5 * D,
                   rating_score=4, discount_code="B-1")
    d1 = make_case(T0 + 5 * D)  # before several mailboxes: the "default" one
    return {"s1": s1, "s2": s2, "b1": b1, "b2": b2, "b3": b3, "d1": d1}


BILLING_ROW = {"mailbox": "billing", "cases": 3, "open": 1, "median_first_reply_seconds": 3600,
               "share_resolved": 0.6667, "ratings": 2, "average_rating": 3.5}
DEFAULT_ROW = {"mailbox": "default", "cases": 1, "open": 1, "median_first_reply_seconds": None,
               "share_resolved": 0.0, "ratings": 0, "average_rating": None}
SUPPORT_ROW = {"mailbox": "support", "cases": 2, "open": 1, "median_first_reply_seconds": 7200,
               "share_resolved": 0.5, "ratings": 1, "average_rating": 5.0}


def test_case_views_carry_and_filter_by_the_mailbox(cases):
    c = cases
    rows = case_summaries()
    assert [(r["id"], r["mailbox"]) for r in rows] == [
        (c["s1"].id, "support"), (c["s2"].id, "support"), (c["b1"].id, "billing"), (c["b2"].id, "billing"),
        (c["b3"].id, "billing"), (c["d1"].id, "default")]
    assert [r["id"] for r in case_summaries(mailbox="billing")] == [c["b1"].id, c["b2"].id, c["b3"].id]
    assert [r["id"] for r in case_summaries(status="open", mailbox="billing")] == [c["b1"].id]
    assert case_summaries(mailbox="nowhere") == []
    billing = case_detail(c["b1"].id)
    assert (billing["mailbox"], billing["mailbox_address"]) == ("billing", BILLING)
    default = case_detail(c["d1"].id)
    assert default["mailbox"] == "default" and "mailbox_address" not in default


def test_the_report_has_a_row_per_mailbox(cases):
    r = build_report(now=NOW)
    assert json.loads(json.dumps(r)) == r
    assert r["mailbox"] is None and r["cases"]["total"] == 6
    assert r["mailboxes"] == [BILLING_ROW, DEFAULT_ROW, SUPPORT_ROW]
    assert build_report(since=T0 + 3 * D, now=NOW)["mailboxes"] == [
        {**BILLING_ROW, "cases": 2, "open": 0, "median_first_reply_seconds": 5400, "share_resolved": 1.0},
        DEFAULT_ROW]


def test_the_report_cut_by_mailbox_counts_only_its_cases(cases):
    r = build_report(now=NOW, mailbox="billing")
    assert r["mailbox"] == "billing"
    assert r["cases"] == {"total": 3, "by_status": {"open": 1, "resolved": 1, "closed": 1}}
    assert r["mailboxes"] == [BILLING_ROW]
    assert r["time_to_acknowledgment"] == {"count": 1, "median_seconds": 120, "p90_seconds": 120}
    assert r["time_to_first_reply"] == {"count": 2, "median_seconds": 3600, "p90_seconds": 5400}
    assert r["time_to_resolution"]["count"] == 2
    assert (r["plan_steps"]["total"], r["plan_steps"]["overdue"]) == (1, 1)
    assert (r["satisfaction"]["count"], r["satisfaction"]["average"]) == (2, 3.5)
    assert r["causes"] == [{"cause": "Wrong invoice", "count": 1}]
    assert r["reopened"] == {"count": 0, "cases": []}
    assert [c["code"] for c in r["discount_codes"]["codes"]] == ["B-1"]
    assert build_report(since=T0 + 3 * D, now=NOW, mailbox="billing")["cases"]["total"] == 2
    nowhere = build_report(now=NOW, mailbox="nowhere")
    assert (nowhere["cases"]["total"], nowhere["mailboxes"]) == (0, [])


def test_text_and_html_show_the_mailboxes(cases):
    text = render_text(build_report(now=NOW))
    assert "By mailbox" in text
    lines = {line.split()[0]: line.split()[1:] for line in text.splitlines()
             if line.startswith("  ") and line.split()[0] in ("billing", "default", "support")}
    assert lines["billing"] == ["3", "1", "1h", "67%", "3.50", "(2)"]
    assert lines["default"] == ["1", "1", "–", "0%", "–", "(0)"]
    assert lines["support"] == ["2", "1", "2h", "50%", "5.00", "(1)"]
    assert "Aftercare report: all cases in mailbox billing" in render_text(build_report(now=NOW, mailbox="billing"))
    html = render_html(build_report(now=NOW, mailbox="billing"))
    assert "By mailbox" in html and "<td>billing</td>" in html and "67%" in html and "<td>support</td>" not in html
    assert "All cases in mailbox billing" in html
    assert "By mailbox" not in render_text(build_report(now=NOW, mailbox="nowhere"))


def test_the_commands_take_a_mailbox(cases, make_config):
    c = cases
    path = make_config().path
    out = run_cli(path, "cases", "list", "--mailbox", "billing", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [(r["id"], r["mailbox"]) for r in rows] == [(c["b1"].id, "billing"), (c["b2"].id, "billing"),
                                                       (c["b3"].id, "billing")]
    table = run_cli(path, "cases", "list", "--status", "open").stdout.splitlines()
    assert table[0].split()[:3] == ["case", "status", "mailbox"]
    assert [line.split()[:3] for line in table[1:]] == [[str(c["s1"].id), "open", "support"],
                                                        [str(c["b1"].id), "open", "billing"],
                                                        [str(c["d1"].id), "open", "default"]]
    assert run_cli(path, "cases", "list", "--mailbox", "nowhere").stdout.strip() == "no cases in mailbox nowhere"
    detail = json.loads(run_cli(path, "cases", "show", str(c["b1"].id), "--json").stdout)
    assert (detail["mailbox"], detail["mailbox_address"]) == ("billing", BILLING)
    assert f"mailbox:  billing ({BILLING})" in run_cli(path, "cases", "show", str(c["b1"].id)).stdout
    report = json.loads(run_cli(path, "report", "--mailbox", "billing", "--json").stdout)
    assert (report["mailbox"], report["cases"]["total"]) == ("billing", 3)
    assert [m["mailbox"] for m in report["mailboxes"]] == ["billing"]
    everything = run_cli(path, "report").stdout
    assert "By mailbox" in everything and "support" in everything and "billing" in everything

"""`make demo` is what a new user sees first: it must keep working."""
from aftercare.demo import run_demo


def test_the_demo_runs_a_complaint_through_to_a_rating(tmp_path, capsys, dovecot):
    assert run_demo(tmp_path / "demo") == 0
    out = capsys.readouterr().out
    for expected in ("Email to the customer: the acknowledgment", "Email to the owner: the new case",
                     "the plan in writing", "progress: everything done", "the satisfaction check-in",
                     "thanks for the rating", "Aftercare report", "Originals filed in Aftercare/Processed: 5; "
                     "left in INBOX: 0", "The demo worked."):
        assert expected in out, expected
    assert "#plan" not in out.split("Jane's answer, relayed")[1].split("===")[0]

"""Discount codes: each goes to one case, ever, even with many claimants at once (SQLite and PostgreSQL)."""
import threading
from datetime import datetime

from aftercare.store import discounts
from aftercare.store.models import Case, DiscountCode, database

NOW = datetime(2026, 3, 2, 9, 0)


def make_cases(n):
    return [Case.create(status="resolved", customer_address=f"c{i}@example.net", subject="s", owner="jane@example.com",
                        created_at=NOW, updated_at=NOW).id for i in range(n)]


def test_the_pool_loads_once_skipping_blank_lines_and_comments(db, tmp_path):
    f = tmp_path / "codes.txt"
    f.write_text("# spring\nAAA\n\nBBB\nAAA\n")
    assert discounts.load_pool(f, NOW) == 2
    assert discounts.load_pool(f, NOW) == 0  # reloading adds nothing twice
    assert discounts.remaining() == 2


def test_a_case_keeps_its_code_and_an_empty_pool_says_none(db, tmp_path):
    f = tmp_path / "codes.txt"
    f.write_text("AAA\n")
    discounts.load_pool(f, NOW)
    a, b = make_cases(2)
    with database.atomic():
        assert discounts.claim(a, NOW) == "AAA"
    with database.atomic():
        assert discounts.claim(a, NOW) == "AAA"  # the same case asking again
        assert discounts.claim(b, NOW) is None


def test_concurrent_claims_never_hand_out_a_code_twice(db, tmp_path):
    f = tmp_path / "codes.txt"
    f.write_text("\n".join(f"CODE-{i:03d}" for i in range(30)))
    discounts.load_pool(f, NOW)
    case_ids = make_cases(40)
    results: dict[int, str | None] = {}
    errors = []
    start = threading.Barrier(8)

    def worker(ids):
        try:
            start.wait()
            for case_id in ids:
                with database.atomic():
                    results[case_id] = discounts.claim(case_id, NOW)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            database.close()

    threads = [threading.Thread(target=worker, args=(case_ids[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    given = [c for c in results.values() if c]
    assert len(given) == 30 and len(set(given)) == 30
    assert sum(1 for c in results.values() if c is None) == 10
    assert DiscountCode.select().where(DiscountCode.case.is_null()).count() == 0

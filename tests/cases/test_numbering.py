"""文号 allocation: 50 concurrent requests get 50 distinct consecutive numbers."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from assistant.cases.numbering import current_sequence, format_doc_number, next_sequence
from assistant.db import Database
from tests.conftest import database_url_for


def test_concurrent_allocation_is_gapless_and_unique(tmp_path: Path) -> None:
    db = Database(database_url_for(tmp_path / "numbers.db"))
    db.migrate()

    def allocate(_: int) -> int:
        with db.session() as session:
            return next_sequence(session, prefix="示税稽", kind="罚", year=2026)

    with ThreadPoolExecutor(max_workers=50) as pool:
        numbers = list(pool.map(allocate, range(50)))
    assert sorted(numbers) == list(range(1, 51))
    with db.session() as session:
        assert current_sequence(session, prefix="示税稽", kind="罚", year=2026) == 50
        assert next_sequence(session, prefix="示税稽", kind="罚告", year=2026) == 1
        assert next_sequence(session, prefix="示税稽", kind="罚", year=2027) == 1


def test_rolled_back_allocation_leaves_no_gap(tmp_path: Path) -> None:
    db = Database(database_url_for(tmp_path / "numbers.db"))
    db.migrate()
    try:
        with db.session() as session:
            next_sequence(session, prefix="示税稽", kind="罚", year=2026)
            raise RuntimeError("drafting failed")
    except RuntimeError:
        pass
    with db.session() as session:
        assert next_sequence(session, prefix="示税稽", kind="罚", year=2026) == 1


def test_format_matches_real_documents() -> None:
    assert format_doc_number("包税稽", "罚", 2026, 12) == "包税稽罚〔2026〕12号"

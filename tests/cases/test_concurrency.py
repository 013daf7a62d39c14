"""Concurrent writers on one case, one taxpayer and one 文号 counter: no error, no gap.

Fifty threads against the real workflow on a real migrated database, SQLite (WAL) and
PostgreSQL (the test session's throwaway server): each append to the signed record, each
taxpayer upsert and each 文号 must succeed, and the record must verify afterwards (gapless
`seq`, unbroken chain).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from assistant.cases import CaseWorkflow, NewCase, TaxpayerInput
from assistant.db.models import Case, CaseEvent, Taxpayer
from assistant.record import verify_case
from assistant.services import Services, build_services
from tests.conftest import DEMO_USCC, make_settings
from tests.record.helpers import credentialed_officer

WRITERS = 50


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """None: the default SQLite file in the data dir; else a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return str(request.getfixturevalue("postgres_database"))


@pytest.fixture
def services(tmp_path: Path, database_url: str | None) -> Iterator[Services]:
    services = build_services(
        make_settings(tmp_path / "data", seed_demo_users=False, database_url=database_url)
    )
    services.db.migrate()
    yield services
    services.db.engine.dispose()  # PostgreSQL drops the database after the test


def _new_case(uscc: str = DEMO_USCC) -> NewCase:
    return NewCase(
        taxpayer=TaxpayerInput("示例商贸有限公司", uscc, "organisation"),
        violation="late_filing",
        facts="该公司2025年3月增值税纳税申报逾期45日。",
        violation_date=date(2025, 4, 15),
        days_overdue=45,
        corrected_in_time=True,
    )


def _run(writers: int, work: Callable[[int], object]) -> list[BaseException]:
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            work(i)
        except BaseException as exc:
            errors.append(exc)

    with ThreadPoolExecutor(max_workers=writers) as pool:
        list(pool.map(one, range(writers)))
    return errors


def test_fifty_concurrent_appends_to_one_case_record(services: Services) -> None:
    officer = credentialed_officer(services)
    workflow = CaseWorkflow(services)
    case = workflow.create_case(officer, _new_case())

    errors = _run(WRITERS, lambda _: workflow.suggest(officer, case.id))

    assert errors == []
    with services.db.session() as session:
        seqs = list(
            session.scalars(
                select(CaseEvent.seq).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
            )
        )
        assert seqs == list(range(1, WRITERS + 2))
        row = session.get(Case, case.id)
        assert row is not None and row.record_length == WRITERS + 1
        report = verify_case(session, services.files, case.id)
    assert report.ok, report.problems


def test_fifty_concurrent_case_creations_for_one_new_taxpayer(services: Services) -> None:
    officer = credentialed_officer(services)
    workflow = CaseWorkflow(services)

    errors = _run(WRITERS, lambda _: workflow.create_case(officer, _new_case()))

    assert errors == []
    with services.db.session() as session:
        assert session.scalar(select(func.count(Taxpayer.id))) == 1
        assert session.scalar(select(func.count(Case.id))) == WRITERS


def test_concurrent_creations_with_another_name_are_a_conflict_not_a_crash(
    services: Services,
) -> None:
    officer = credentialed_officer(services)
    workflow = CaseWorkflow(services)
    other = replace(_new_case(), taxpayer=TaxpayerInput("另一家公司", DEMO_USCC, "organisation"))

    errors = _run(WRITERS, lambda i: workflow.create_case(officer, other if i % 2 else _new_case()))

    codes = {getattr(e, "code", type(e).__name__) for e in errors}
    assert codes == {"taxpayer_name_mismatch"}
    assert len(errors) == WRITERS // 2


def test_fifty_concurrent_uploads_and_steps_on_one_case(services: Services) -> None:
    """The upload and the analysis steps append to the same record at once."""
    from tests.conftest import FIXTURES

    officer = credentialed_officer(services)
    workflow = CaseWorkflow(services)
    case = workflow.create_case(officer, _new_case())
    audio = FIXTURES / "interview_zh.wav"

    def write(i: int) -> None:
        if i % 2:
            workflow.suggest(officer, case.id)
            return
        with audio.open("rb") as handle:
            workflow.add_recording(
                officer, case.id, handle, filename=f"{i}.wav", content_type="audio/wav"
            )

    errors = _run(WRITERS, write)

    assert errors == []
    with services.db.session() as session:
        report = verify_case(session, services.files, case.id)
        row = session.get(Case, case.id)
        assert row is not None and row.record_length == WRITERS + 1
    assert report.ok, report.problems


DRAFTERS = 20


def test_concurrent_drafts_get_distinct_numbers_and_a_valid_record(
    tmp_path: Path, shared_index_dir: Path, database_url: str | None
) -> None:
    """Drafting takes a 文号 and appends to the record in one transaction, 20 at once."""
    import shutil

    from assistant.db.models import Document

    settings = make_settings(tmp_path / "data", seed_demo_users=False, database_url=database_url)
    shutil.copytree(shared_index_dir, settings.index_dir)
    services = build_services(settings)
    services.db.migrate()
    officer = credentialed_officer(services)
    workflow = CaseWorkflow(services)
    case = workflow.create_case(officer, _new_case())
    workflow.suggest(officer, case.id)

    errors = _run(DRAFTERS, lambda _: workflow.draft(officer, case.id, "penalty_notice"))

    assert errors == []
    with services.db.session() as session:
        numbers = list(session.scalars(select(Document.number).where(Document.case_id == case.id)))
        report = verify_case(session, services.files, case.id)
    services.db.engine.dispose()
    assert len(numbers) == len(set(numbers)) == DRAFTERS
    assert report.ok, report.problems

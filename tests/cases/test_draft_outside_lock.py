"""A draft renders before it takes SQLite's write lock, so other writers do not queue behind
a render; what it stores is still the draft with the 文号 it was given (gapless)."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from assistant.cases import CaseWorkflow, NewCase, TaxpayerInput
from assistant.db.models import Document
from assistant.documents.kind import DocumentKind, DraftRequest
from assistant.drafting.documents import RenderedDocument
from assistant.record import verify_case
from assistant.services import Services, build_services
from tests.conftest import DEMO_USCC, make_settings, sqlite_only
from tests.record.helpers import credentialed_officer


@pytest.fixture
def services(tmp_path: Path, shared_index_dir: Path) -> Iterator[Services]:
    settings = make_settings(tmp_path / "data", seed_demo_users=False)
    shutil.copytree(shared_index_dir, settings.index_dir)
    services = build_services(settings)
    services.db.migrate()
    yield services
    services.db.engine.dispose()


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Each render of a draft: whether its connection was inside a write transaction."""
    seen: list[dict[str, Any]] = []
    original = DocumentKind.draft

    def draft(
        self: DocumentKind[Any], request: DraftRequest
    ) -> tuple[RenderedDocument, dict[str, list[str]]]:
        dbapi = request.session.connection().connection.dbapi_connection
        writing = bool(getattr(dbapi, "in_transaction", False))
        result = original(self, request)
        seen.append({"writing": writing})
        return result

    monkeypatch.setattr(DocumentKind, "draft", draft)
    return seen


def _case(services: Services) -> tuple[Any, int]:
    officer = credentialed_officer(services)
    workflow = CaseWorkflow(services)
    case = workflow.create_case(
        officer,
        NewCase(
            taxpayer=TaxpayerInput("示例商贸有限公司", DEMO_USCC, "organisation"),
            violation="late_filing",
            facts="该公司2025年3月增值税纳税申报逾期45日。",
            violation_date=date(2025, 4, 15),
            days_overdue=45,
            corrected_in_time=True,
        ),
    )
    workflow.suggest(officer, case.id)
    return officer, case.id


def test_a_draft_is_rendered_once_outside_the_write_transaction(
    services: Services, renders: list[dict[str, Any]]
) -> None:
    officer, case_id = _case(services)
    document = CaseWorkflow(services).draft(officer, case_id, "penalty_notice")
    assert renders == [{"writing": False}]
    assert document.number.endswith("1号")  # the first 罚告 of the year: the number predicted
    with services.db.session() as session:
        assert verify_case(session, services.files, case_id).ok


@sqlite_only(reason="holds SQLite's one write lock from a second sqlite3 connection")
def test_the_render_does_not_wait_for_another_writers_lock(
    services: Services, renders: list[dict[str, Any]]
) -> None:
    officer, case_id = _case(services)
    holder = sqlite3.connect(services.settings.data_dir / "taxassist.db", timeout=0)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds SQLite's write lock
    outcome: dict[str, Any] = {}

    def draft() -> None:
        try:
            outcome["document"] = CaseWorkflow(services).draft(officer, case_id, "penalty_notice")
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=draft)
    thread.start()
    try:
        for _ in range(1200):  # the render finishes while the lock is still held
            if renders:
                break
            threading.Event().wait(0.05)
        assert renders, "the draft did not render while another writer held the lock"
        assert "document" not in outcome  # storing it waits for the lock
    finally:
        holder.rollback()
        holder.close()
    thread.join(120)
    assert "error" not in outcome, outcome
    assert len(renders) == 1  # nothing changed meanwhile: the early render was stored
    with services.db.session() as session:
        stored = session.scalars(select(Document).where(Document.case_id == case_id)).one()
        assert stored.number == outcome["document"].number
        assert verify_case(session, services.files, case_id).ok


def test_a_draft_whose_number_was_taken_meanwhile_is_rendered_again(
    services: Services, renders: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another draft takes the predicted 文号 between the render and the lock: the stored
    draft carries the number it was allocated, never the predicted one."""
    import assistant.cases.service as service_module

    officer, case_id = _case(services)
    workflow = CaseWorkflow(services)
    original = service_module.prerender
    raced: list[str] = []
    racing = threading.Event()

    def prerender_then_race(*args: Any, **kwargs: Any) -> Any:
        early = original(*args, **kwargs)
        if not racing.is_set():  # once: another draft of the same kind commits in between
            racing.set()
            raced.append(workflow.draft(officer, case_id, "penalty_notice").number)
        return early

    monkeypatch.setattr(service_module, "prerender", prerender_then_race)
    document = workflow.draft(officer, case_id, "penalty_notice")
    with services.db.session() as session:
        numbers = sorted(
            session.scalars(select(Document.number).where(Document.case_id == case_id))
        )
        text = session.get(Document, document.id).text  # type: ignore[union-attr]
    assert len(set(numbers)) == 2 and document.number != raced[0]
    assert document.number in text and raced[0] not in text
    with services.db.session() as session:
        assert verify_case(session, services.files, case_id).ok

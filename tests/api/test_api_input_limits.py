"""Hostile input at the edge: ids, offsets, amounts, counts, booleans and text.

Each value here answered 500 or was accepted and then broke the case (no suggestion, no
edit, drafting and the 笔录 export failing). Now: a 4xx envelope and nothing stored, and a
case that was accepted can be corrected (PATCH) and gets a suggestion.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from assistant.config import Settings
from assistant.db import Case, CaseEvent
from assistant.record import verify_case
from assistant.services import build_services
from tests.api.apphelpers import assert_error, login, prepare_data_dir, running_app
from tests.conftest import demo_case_payload, make_settings

BIG = 2**63  # one past int64
ID_ROUTES = [
    ("get", "/cases/{id}"),
    ("patch", "/cases/{id}"),
    ("get", "/cases/{id}/events"),
    ("post", "/cases/{id}/discretion"),
    ("get", "/cases/{id}/recordings"),
    ("get", "/cases/{id}/documents"),
    ("get", "/cases/{id}/timeline"),
    ("get", "/cases/{id}/record/verify"),
    ("get", "/cases/{id}/lifecycle"),
    ("get", "/recordings/{id}"),
    ("get", "/recordings/{id}/transcript"),
    ("get", "/recordings/{id}/segments/0/versions"),
    ("get", "/recordings/1/segments/{id}/versions"),
    ("get", "/documents/{id}"),
    ("get", "/documents/{id}/file"),
    ("get", "/documents/{id}/revisions"),
    ("get", "/jobs/{id}"),
    ("get", "/jobs/{id}/events"),
    ("post", "/jobs/{id}/cancel"),
]


@pytest.fixture(scope="module")
def limits_settings(tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path) -> Settings:
    settings = make_settings(tmp_path_factory.mktemp("limits") / "data")
    prepare_data_dir(settings, shared_index_dir)
    return settings


@pytest.fixture(scope="module")
def client(limits_settings: Settings) -> Iterator[TestClient]:
    with running_app(limits_settings) as client:
        yield client


@pytest.fixture(scope="module")
def officer(client: TestClient) -> dict[str, str]:
    return login(client, "officer")


def _cases(settings: Settings) -> int:
    services = build_services(settings)
    with services.db.session() as session:
        count = session.scalar(select(func.count(Case.id))) or 0
    services.db.engine.dispose()
    return count


@pytest.mark.parametrize("value", [BIG, 2**64, 10**30])
@pytest.mark.parametrize(("method", "route"), ID_ROUTES)
def test_ids_beyond_int64_are_422(
    client: TestClient, officer: dict[str, str], method: str, route: str, value: int
) -> None:
    kwargs: dict[str, Any] = {"json": {}} if method in ("patch",) else {}
    response = client.request(method, route.format(id=value), headers=officer, **kwargs)
    assert_error(response, 422, "invalid_request")


def test_largest_int64_id_is_not_found(client: TestClient, officer: dict[str, str]) -> None:
    assert_error(client.get(f"/cases/{BIG - 1}", headers=officer), 404, "case_not_found")
    assert_error(client.get(f"/jobs/{BIG - 1}", headers=officer), 404, "job_not_found")


@pytest.mark.parametrize("query", [f"offset={BIG}", "offset=-1", "limit=0"])
def test_offsets_beyond_int64_are_422(
    client: TestClient, officer: dict[str, str], query: str
) -> None:
    assert_error(client.get(f"/cases?{query}", headers=officer), 422, "invalid_request")


def test_sse_after_and_last_event_id_are_bounded(
    client: TestClient, officer: dict[str, str]
) -> None:
    assert_error(client.get(f"/jobs/1/events?after={BIG}", headers=officer), 422, "invalid_request")
    headers = {**officer, "Last-Event-ID": str(BIG)}
    response = client.get("/cases", headers=officer)
    assert response.status_code == 200
    assert client.get("/jobs/1/events", headers=headers).status_code in (404, 422)


BAD_CASE_FIELDS: list[tuple[str, Any]] = [
    ("tax_unpaid", "1e1000000"),
    ("tax_unpaid", "9" * 400),
    ("tax_unpaid", 9 * 10**399),
    ("tax_unpaid", "12.345"),
    ("tax_unpaid", "NaN"),
    ("days_overdue", 2**70),
    ("days_overdue", 36501),
    ("occurrences", 0),
    ("occurrences", 10**6),
    ("first_violation", "yes"),
    ("corrected_in_time", 1),
    ("factors", ["no_such_factor"]),
    ("facts", "逾期申报\x01"),
    ("facts", "逾期申报\x00"),
    ("facts", "逾期申报\uffff"),
    ("facts", "逾期申报\x1b[31m"),
    ("evidence", ["申报记录\x07"]),
]
BAD_TAXPAYER_FIELDS: list[tuple[str, Any]] = [
    ("name", "\u200b\u200b"),
    ("name", "\u200d\ufeff"),
    ("name", "示例\u202e司公限有"),
    ("name", "示例\x00公司"),
    ("address", "示例路\x1b1号"),
    ("legal_representative", "张\u2066示例"),
]


@pytest.mark.parametrize(("field", "value"), BAD_CASE_FIELDS)
def test_bad_case_values_are_refused_at_creation(
    client: TestClient,
    officer: dict[str, str],
    limits_settings: Settings,
    field: str,
    value: Any,
) -> None:
    before = _cases(limits_settings)
    payload = demo_case_payload()
    payload[field] = value
    response = client.post("/cases", json=payload, headers=officer)
    code = "unknown_factor" if field == "factors" else "invalid_request"
    error = assert_error(response, 422, code)
    assert field in str(error["details"]) or code == "unknown_factor"
    assert _cases(limits_settings) == before


@pytest.mark.parametrize(("field", "value"), BAD_TAXPAYER_FIELDS)
def test_bad_taxpayer_text_is_refused(
    client: TestClient,
    officer: dict[str, str],
    limits_settings: Settings,
    field: str,
    value: Any,
) -> None:
    before = _cases(limits_settings)
    payload = demo_case_payload()
    payload["taxpayer"] = {**payload["taxpayer"], field: value}  # type: ignore[dict-item]
    response = client.post("/cases", json=payload, headers=officer)
    assert_error(response, 422, "invalid_request")
    assert _cases(limits_settings) == before


def test_text_is_nfc_normalised(client: TestClient, officer: dict[str, str]) -> None:
    payload = demo_case_payload()
    payload["facts"] = "Cafe\u0301 逾期申报\n第二行"  # e + combining acute: NFC is é
    response = client.post("/cases", json=payload, headers=officer)
    assert response.status_code == 201, response.text
    assert response.json()["facts"] == "Café 逾期申报\n第二行"


def test_accepted_case_can_be_corrected_and_gets_a_suggestion(
    client: TestClient, officer: dict[str, str], limits_settings: Settings
) -> None:
    created = client.post("/cases", json=demo_case_payload(), headers=officer)
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]

    for body in (
        {"occurrences": 0},
        {"factors": ["no_such_factor"]},
        {"first_violation": "yes"},
        {"facts": None},
        {"facts": "事实\x01"},
        {"tax_unpaid": "1e1000000"},
        {"taxpayer": {"name": "另一家"}},
    ):
        response = client.patch(f"/cases/{case_id}", json=body, headers=officer)
        assert_error(response, 422, "unknown_factor" if "factors" in body else "invalid_request")

    response = client.patch(
        f"/cases/{case_id}",
        json={"days_overdue": 20, "factors": ["voluntarily_eliminated_harm"], "harm": "none"},
        headers=officer,
    )
    assert response.status_code == 200, response.text
    assert response.json()["days_overdue"] == 20
    assert response.json()["factors"] == ["voluntarily_eliminated_harm"]

    other = login(client, "officer2")
    assert_error(
        client.patch(f"/cases/{case_id}", json={"days_overdue": 3}, headers=other),
        403,
        "not_case_officer",
    )

    suggestion = client.post(f"/cases/{case_id}/discretion", headers=officer)
    assert suggestion.status_code == 201, suggestion.text

    services = build_services(limits_settings)
    with services.db.session() as session:
        actions = list(
            session.scalars(
                select(CaseEvent.action).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
            )
        )
        event = session.scalar(
            select(CaseEvent).where(
                CaseEvent.case_id == case_id, CaseEvent.action == "case_updated"
            )
        )
        report = verify_case(session, services.files, case_id)
    services.db.engine.dispose()
    assert actions == ["case_created", "case_updated", "discretion_completed"]
    assert event is not None
    assert event.details["changes"]["days_overdue"] == {"from": 45, "to": 20}
    assert report.ok, report.problems


def test_discretion_suggest_refuses_huge_values(
    client: TestClient, officer: dict[str, str]
) -> None:
    base = {
        "violation": "late_filing",
        "taxpayer_type": "organisation",
        "violation_date": "2025-04-15",
        "decision_date": "2025-06-01",
    }
    for field, value, code in (
        ("tax_unpaid", "1e1000000", "invalid_field"),
        ("tax_unpaid", "9" * 400, "invalid_field"),
        ("tax_unpaid", "1" + "0" * 15, "value_too_large"),
        ("days_overdue", 2**70, "value_too_large"),
        ("occurrences", 10**9, "value_too_large"),
    ):
        response = client.post("/discretion/suggest", json={**base, field: value}, headers=officer)
        assert_error(response, 422, code)

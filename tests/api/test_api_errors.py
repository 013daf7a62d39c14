"""Bad input on every endpoint of the flow: a clear 4xx envelope and nothing half-written."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from assistant.config import Settings
from assistant.db import (
    Case,
    CaseEvent,
    Document,
    Job,
    Recording,
    Taxpayer,
    TranscriptSegment,
)
from assistant.services import build_services
from tests.api.apphelpers import assert_error, login, prepare_data_dir, running_app
from tests.conftest import FIXTURES, demo_case_payload, iter_files, make_settings

UPLOAD_LIMIT = 400_000  # bytes; the 690 kB interview fixture is over it


@pytest.fixture(scope="module")
def error_settings(tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path) -> Settings:
    settings = make_settings(
        tmp_path_factory.mktemp("errors") / "data", max_upload_bytes=UPLOAD_LIMIT
    )
    prepare_data_dir(settings, shared_index_dir)
    return settings


@pytest.fixture(scope="module")
def client(error_settings: Settings) -> Iterator[TestClient]:
    with running_app(error_settings) as client:
        yield client


@pytest.fixture(scope="module")
def officer(client: TestClient) -> dict[str, str]:
    return login(client, "officer")


@pytest.fixture(scope="module")
def case_id(client: TestClient, officer: dict[str, str]) -> int:
    response = client.post("/cases", json=demo_case_payload(), headers=officer)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _counts(settings: Settings) -> dict[str, int]:
    services = build_services(settings)
    with services.db.session() as session:
        counts = {
            model.__tablename__: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Case, Taxpayer, Recording, TranscriptSegment, Document, CaseEvent, Job)
        }
    services.db.engine.dispose()
    blobs = [p for p in iter_files(settings.blobs_dir) if "tmp" not in p.parts]
    counts["blobs"] = len(blobs)
    counts["tmp"] = len(list(iter_files(settings.blobs_dir / "tmp")))
    return counts


@pytest.fixture
def unchanged(error_settings: Settings, case_id: int) -> Iterator[None]:
    """Asserts the test's bad request left no row and no file behind."""
    before = _counts(error_settings)
    yield
    assert _counts(error_settings) == before


def _upload(
    client: TestClient, case: int, headers: dict[str, str], name: str, data: bytes
) -> object:
    return client.post(
        f"/cases/{case}/recordings", files={"file": (name, io.BytesIO(data))}, headers=headers
    )


# -- authentication and roles --------------------------------------------------------------------
def test_missing_token(client: TestClient, unchanged: None) -> None:
    assert_error(client.post("/cases", json=demo_case_payload()), 401, "missing_token")


def test_invalid_token(client: TestClient, unchanged: None) -> None:
    response = client.get("/cases", headers={"Authorization": "Bearer not-a-token"})
    assert_error(response, 401, "invalid_token")


def test_wrong_password(client: TestClient) -> None:
    response = client.post("/auth/token", json={"username": "officer", "password": "wrong-pass"})
    assert_error(response, 401, "invalid_credentials")


def test_health_needs_no_token(client: TestClient) -> None:
    assert client.get("/health").json()["status"] == "ok"


def test_reviewer_cannot_open_a_case(client: TestClient, unchanged: None) -> None:
    response = client.post("/cases", json=demo_case_payload(), headers=login(client, "reviewer"))
    assert_error(response, 403, "role_not_allowed")


def test_other_officer_cannot_work_on_the_case(
    client: TestClient, case_id: int, unchanged: None
) -> None:
    other = login(client, "officer2")
    for step in ("entities", "retrieval", "discretion"):
        assert_error(
            client.post(f"/cases/{case_id}/{step}", headers=other), 403, "not_case_officer"
        )
    wav = (FIXTURES / "interview_zh.wav").read_bytes()[:1000]
    assert_error(_upload(client, case_id, other, "a.wav", wav), 403, "not_case_officer")


def test_officer_cannot_review(client: TestClient, case_id: int, officer: dict[str, str]) -> None:
    response = client.post(f"/cases/{case_id}/review", json={"result": "同意"}, headers=officer)
    assert_error(response, 403, "role_not_allowed")


def test_only_admin_creates_users(client: TestClient, officer: dict[str, str]) -> None:
    body = {"username": "newbie", "password": "long-enough-pw", "role": "officer"}
    assert_error(client.post("/users", json=body, headers=officer), 403, "role_not_allowed")


# -- case creation -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "uscc",
    ["91150100MA0N7Y2K38", "91150100MA0N7Y2K3", "91150100MA0N7Y2KI7", "abc"],
    ids=["check-digit", "too-short", "letter-I", "garbage"],
)
def test_malformed_uscc(
    client: TestClient, officer: dict[str, str], uscc: str, unchanged: None
) -> None:
    payload = demo_case_payload()
    payload["taxpayer"]["id_number"] = uscc  # type: ignore[index]
    error = assert_error(client.post("/cases", json=payload, headers=officer), 422, "invalid_uscc")
    assert error["details"]["field"] == "taxpayer.id_number"  # type: ignore[index]


def test_unknown_violation(client: TestClient, officer: dict[str, str], unchanged: None) -> None:
    payload = demo_case_payload() | {"violation": "jaywalking"}
    assert_error(client.post("/cases", json=payload, headers=officer), 422, "unknown_violation")


def test_negative_amount_and_missing_field(
    client: TestClient, officer: dict[str, str], unchanged: None
) -> None:
    payload = demo_case_payload() | {"tax_unpaid": "-5"}
    error = assert_error(
        client.post("/cases", json=payload, headers=officer), 422, "invalid_request"
    )
    assert error["details"]["errors"][0]["field"] == "tax_unpaid"  # type: ignore[index]
    payload = demo_case_payload()
    del payload["facts"]
    assert_error(client.post("/cases", json=payload, headers=officer), 422, "invalid_request")


def test_violation_date_in_future(
    client: TestClient, officer: dict[str, str], unchanged: None
) -> None:
    payload = demo_case_payload() | {"violation_date": "2999-01-01"}
    assert_error(client.post("/cases", json=payload, headers=officer), 422, "date_in_future")


# -- unknown case on every step ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/cases/999999", None),
        ("post", "/cases/999999/entities", None),
        ("post", "/cases/999999/retrieval", None),
        ("post", "/cases/999999/discretion", None),
        ("post", "/cases/999999/documents", {"doc_type": "penalty_notice"}),
        ("get", "/cases/999999/documents", None),
        ("get", "/cases/999999/events", None),
        ("post", "/cases/999999/review", {"result": "同意"}),
    ],
)
def test_unknown_case(
    client: TestClient, method: str, path: str, body: dict[str, str] | None, unchanged: None
) -> None:
    headers = login(client, "reviewer") if path.endswith("review") else login(client, "officer")
    response = client.request(method, path, json=body, headers=headers)
    assert_error(response, 404, "case_not_found")


def test_upload_to_unknown_case(
    client: TestClient, officer: dict[str, str], unchanged: None
) -> None:
    wav = (FIXTURES / "interview_zh.wav").read_bytes()[:1000]
    assert_error(_upload(client, 999999, officer, "a.wav", wav), 404, "case_not_found")


# -- uploads -------------------------------------------------------------------------------------
def test_not_audio(
    client: TestClient, case_id: int, officer: dict[str, str], unchanged: None
) -> None:
    data = "询问笔录：这不是录音文件。".encode() * 50
    assert_error(_upload(client, case_id, officer, "notes.wav", data), 415, "not_audio")


def test_empty_file(
    client: TestClient, case_id: int, officer: dict[str, str], unchanged: None
) -> None:
    assert_error(_upload(client, case_id, officer, "empty.wav", b""), 422, "empty_file")


def test_truncated_audio(
    client: TestClient, case_id: int, officer: dict[str, str], unchanged: None
) -> None:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\x00\x00" * 16000)
    header_only = buffer.getvalue()[:44]
    response = _upload(client, case_id, officer, "cut.wav", header_only)
    assert response.status_code in (415, 422)  # type: ignore[attr-defined]
    assert response.json()["error"]["code"] in {"not_audio", "corrupt_audio", "empty_audio"}  # type: ignore[attr-defined]


def _wav(frames: bytes, *, format_tag: int | None = None) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(frames)
    data = bytearray(buffer.getvalue())
    if format_tag is not None:
        data[20:22] = format_tag.to_bytes(2, "little")  # the WAVE fmt chunk's codec tag
    return bytes(data)


def test_zero_length_audio(
    client: TestClient, case_id: int, officer: dict[str, str], unchanged: None
) -> None:
    """A well-formed file with no samples at all."""
    response = _upload(client, case_id, officer, "silent.wav", _wav(b""))
    assert_error(response, 422, "empty_audio")


def test_unsupported_codec(
    client: TestClient, case_id: int, officer: dict[str, str], unchanged: None
) -> None:
    """A WAVE container whose codec tag no decoder knows."""
    data = _wav(b"\x00\x01" * 16000, format_tag=0x1234)
    assert_error(_upload(client, case_id, officer, "odd.wav", data), 415, "unsupported_codec")


def test_oversize_upload(
    client: TestClient, case_id: int, officer: dict[str, str], unchanged: None
) -> None:
    data = (FIXTURES / "interview_zh.wav").read_bytes()
    assert len(data) > UPLOAD_LIMIT
    assert_error(_upload(client, case_id, officer, "big.wav", data), 413, "file_too_large")


def test_upload_without_file_field(
    client: TestClient, case_id: int, officer: dict[str, str], unchanged: None
) -> None:
    response = client.post(f"/cases/{case_id}/recordings", headers=officer)
    assert_error(response, 422, "invalid_request")


# -- drafting ------------------------------------------------------------------------------------
def test_draft_before_discretion(
    client: TestClient, case_id: int, officer: dict[str, str], unchanged: None
) -> None:
    response = client.post(
        f"/cases/{case_id}/documents", json={"doc_type": "penalty_decision"}, headers=officer
    )
    error = assert_error(response, 409, "discretion_required")
    assert error["details"]["missing_step"] == "discretion"  # type: ignore[index]


def test_unknown_document_type(
    client: TestClient, case_id: int, officer: dict[str, str], unchanged: None
) -> None:
    response = client.post(
        f"/cases/{case_id}/documents", json={"doc_type": "love_letter"}, headers=officer
    )
    # doc_type is a Literal of the registry's codes: the 422 names the field and the codes
    error = assert_error(response, 422, "invalid_request")
    (problem,) = error["details"]["errors"]  # type: ignore[index]
    assert problem["field"] == "doc_type" and "penalty_decision" in problem["problem"]


def test_unknown_document(client: TestClient, officer: dict[str, str]) -> None:
    assert_error(client.get("/documents/424242/file", headers=officer), 404, "document_not_found")


# -- search --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("statutes", {"text": "   ", "k": 5}, "empty_query"),
        ("statutes", {"text": "逾期申报", "k": 0}, "invalid_k"),
        ("statutes", {"text": "逾期申报", "k": 100000}, "invalid_k"),
        ("statutes", {"text": "逾" * 1_000_001, "k": 5}, "invalid_request"),
        ("statutes", {"text": "逾期申报", "k": 5, "region": "华北"}, "unknown_filter"),
        ("statutes", {"text": "逾期申报", "k": 5, "colour": None}, "unknown_filter"),
        (
            "statutes",
            {"text": "逾期申报", "k": 5, "violation_type": "jaywalking"},
            "unknown_violation",
        ),
        ("statutes", {"text": "逾期申报", "k": 5, "law": "交通法"}, "unknown_law"),
        ("statutes", {"text": "逾期申报", "k": 5, "date": "1990-01-01"}, "date_before_statutes"),
        ("cases", {"text": "逾期申报", "k": 5, "date": "2024-01-01"}, "unknown_filter"),
        ("cases", {"text": "逾期申报", "k": 5, "law": "刑法"}, "unknown_filter"),
        ("cases", {"text": "逾期申报", "k": 5, "doc_type": "memo"}, "unknown_doc_type"),
        ("cases", {"text": "", "k": 5}, "empty_query"),
        ("cases", {"text": "逾期申报", "k": -1}, "invalid_k"),
    ],
    ids=[
        "empty",
        "k-zero",
        "k-huge",
        "1MB",
        "unknown-filter",
        "unknown-null-filter",
        "unknown-violation",
        "unknown-law",
        "date-before-any-version",
        "cases-date",
        "cases-law",
        "cases-doc-type",
        "cases-empty",
        "cases-k-negative",
    ],
)
def test_bad_search(
    client: TestClient, officer: dict[str, str], path: str, body: dict[str, object], code: str
) -> None:
    error = assert_error(client.post(f"/search/{path}", json=body, headers=officer), 422, code)
    if code == "unknown_filter":
        assert error["details"]["filter"] in body  # type: ignore[index]


def test_search_cases_returns_authority_and_amounts(
    client: TestClient, officer: dict[str, str]
) -> None:
    """Case results keep their keys and add authority and amounts (Decimal strings or null)."""
    response = client.post(
        "/search/cases", json={"text": "私户收款少缴税款", "k": 10}, headers=officer
    )
    assert response.status_code == 200, response.text
    rows = response.json()
    assert rows
    for row in rows:
        assert {"id", "title", "violation_type", "outcome", "score"} <= set(row)
        assert isinstance(row["authority"], str)
        assert set(row["amounts"]) == {"tax_evaded", "fine", "multiple", "criminal_fine"}
    by_id = {row["id"]: row for row in rows}
    assert by_id["demo:003"]["amounts"] == {  # 少缴…共计52万元；百分之五十的罚款26万元
        "tax_evaded": "520000.00",
        "fine": "260000.00",
        "multiple": "0.5",
        "criminal_fine": None,
    }

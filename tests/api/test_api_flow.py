"""One case through every step over HTTP, with the real Whisper model and a real FAISS index."""

from __future__ import annotations

import hashlib
import io
import itertools
from pathlib import Path

import docx
import pytest

from assistant.config import Settings
from tests.api.apphelpers import login, prepare_data_dir, running_app, upload_recording
from tests.conftest import DEMO_USCC, demo_case_payload, make_settings

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def flow_settings(tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path) -> Settings:
    settings = make_settings(tmp_path_factory.mktemp("flow") / "data")
    prepare_data_dir(settings, shared_index_dir)
    return settings


@pytest.fixture(scope="module")
def flow(flow_settings: Settings, case_payload_module: dict[str, object]) -> dict[str, object]:
    """Runs the whole flow once; the tests below check what each step left behind."""
    wav = Path(__file__).resolve().parents[1] / "fixtures" / "interview_zh.wav"
    out: dict[str, object] = {"wav_sha256": hashlib.sha256(wav.read_bytes()).hexdigest()}
    with running_app(flow_settings) as client:
        officer = login(client, "officer")
        case = client.post("/cases", json=case_payload_module, headers=officer)
        assert case.status_code == 201, case.text
        case_id = case.json()["id"]
        out["case"] = case.json()
        out["recording"] = upload_recording(client, officer, case_id, wav)
        for step in ("entities", "retrieval?doc_type=penalty_decision", "discretion"):
            response = client.post(f"/cases/{case_id}/{step}", headers=officer)
            assert response.status_code == 201, response.text
            out[step.partition("?")[0]] = response.json()
        documents = []
        for doc_type in ("penalty_notice", "penalty_decision"):
            response = client.post(
                f"/cases/{case_id}/documents", json={"doc_type": doc_type}, headers=officer
            )
            assert response.status_code == 201, response.text
            document = response.json()
            download = client.get(f"/documents/{document['id']}/file", headers=officer)
            assert download.status_code == 200
            document["bytes"] = download.content
            documents.append(document)
        out["documents"] = documents
        review = client.post(
            f"/cases/{case_id}/review",
            json={"result": "同意", "opinion": "事实清楚，证据确凿，适用依据正确。"},
            headers=login(client, "reviewer"),
        )
        out["review"] = review.json()
        approve = client.post(
            f"/cases/{case_id}/approve", json={"opinion": "同意"}, headers=login(client, "approver")
        )
        out["approve"] = approve.json()
        out["events"] = client.get(f"/cases/{case_id}/events", headers=officer).json()
    return out


@pytest.fixture(scope="module")
def case_payload_module() -> dict[str, object]:
    return demo_case_payload()


def test_case_is_opened_with_a_number_and_taxpayer(flow: dict[str, object]) -> None:
    case = flow["case"]
    assert isinstance(case, dict)
    assert case["number"].startswith("TA-2025-")
    assert case["status"] == "investigating"
    assert case["taxpayer"]["id_number"] == DEMO_USCC
    assert case["tax_unpaid"] == "12000.00"


def test_recording_is_stored_by_hash_and_transcribed(flow: dict[str, object]) -> None:
    recording = flow["recording"]
    assert isinstance(recording, dict)
    assert recording["sha256"] == flow["wav_sha256"]
    assert recording["duration_seconds"] == pytest.approx(12.61, abs=0.05)
    assert recording["processing_seconds"] > 0
    assert recording["real_time_factor"] == pytest.approx(
        recording["processing_seconds"] / recording["duration_seconds"], rel=1e-3
    )
    assert recording["model"]["name"] == "whisper-base"
    assert recording["model"]["compute_type"] == "int8"
    assert recording["status"] == "transcribed"
    segments = recording["segments"]
    assert segments, "the synthetic interview produced no segment at all"
    for previous, segment in itertools.pairwise(segments):
        assert previous["index"] + 1 == segment["index"]
        assert previous["start"] <= segment["start"]
    for segment in segments:
        assert 0 <= segment["start"] <= segment["end"] <= recording["duration_seconds"]
        assert segment["text"].strip()


def test_entities_are_extracted_from_facts(flow: dict[str, object]) -> None:
    payload = flow["entities"]["payload"]  # type: ignore[index]
    facts = payload["sources"]["facts"]
    amounts = [e["value"] for e in facts["items"] if e["kind"] == "amount"]
    assert "12000.00" in amounts
    dates = [e["value"] for e in facts["items"] if e["kind"] == "date"]
    assert "2025-05-30" in dates
    assert any(name.startswith("recording:") for name in payload["sources"])


def test_retrieval_pushes_the_late_filing_article(flow: dict[str, object]) -> None:
    payload = flow["retrieval"]["payload"]  # type: ignore[index]
    statute_ids = [hit["id"] for hit in payload["statutes"]]
    assert "税收征收管理法:62" in statute_ids[:3]
    # the case's dates and the decision being drafted (from the document registry) steer it
    assert payload["facts"]["document"] == "处罚决定"
    assert payload["facts"]["act_date"] == flow["case"]["violation_date"]  # type: ignore[index]
    assert payload["cases"], "no similar case retrieved from the demo corpus"
    assert all(hit["score"] is not None for hit in payload["cases"])


def test_discretion_suggestion_respects_the_statutory_range(flow: dict[str, object]) -> None:
    payload = flow["discretion"]["payload"]  # type: ignore[index]
    assert payload["decision"] == "penalty"
    assert "税收征收管理法:62" in payload["legal_ground"]
    low = float(payload["statutory_range"]["min"])
    high = float(payload["statutory_range"]["max"])
    assert 0 <= low <= float(payload["suggested_amount"]) <= high <= 10000
    assert payload["formula"]
    assert payload["explanation"]


def test_two_docx_documents_are_drafted_and_downloadable(flow: dict[str, object]) -> None:
    notice, decision = flow["documents"]  # type: ignore[misc]
    assert notice["number"].startswith("示税稽罚告〔") and notice["number"].endswith("〕1号")
    assert decision["number"].startswith("示税稽罚〔") and decision["number"].endswith("〕1号")
    amount = flow["discretion"]["payload"]["suggested_amount"]  # type: ignore[index]
    for document in (notice, decision):
        assert hashlib.sha256(document["bytes"]).hexdigest() == document["sha256"]
        text = "\n".join(p.text for p in docx.Document(io.BytesIO(document["bytes"])).paragraphs)
        assert "示例商贸有限公司" in text
        assert DEMO_USCC in text
        assert "第六十二条" in text
        figures = f"{float(amount):,.2f}"
        assert figures in text or amount in text
    assert "税务行政处罚事项告知书" in notice["text"]
    assert "税务行政处罚决定书" in decision["text"]


def test_review_and_approval_complete_the_case(flow: dict[str, object]) -> None:
    assert flow["review"]["status"] == "review_passed"  # type: ignore[index]
    assert flow["approve"]["status"] == "approved"  # type: ignore[index]
    actions = [event["action"] for event in flow["events"]]  # type: ignore[union-attr]
    assert actions == [
        "case_created",
        "recording_uploaded",
        "recording_transcribed",
        "entities_completed",
        "retrieval_completed",
        "discretion_completed",
        "document_drafted",
        "document_drafted",
        "legal_review",
        "approved",
    ]


def test_restart_keeps_cases_recordings_documents_and_index(
    flow: dict[str, object], flow_settings: Settings
) -> None:
    index_files = {
        p: p.stat().st_mtime_ns for p in flow_settings.index_dir.rglob("*") if p.is_file()
    }
    assert index_files
    case_id = flow["case"]["id"]  # type: ignore[index]
    with running_app(flow_settings) as client:
        officer = login(client, "officer")
        case = client.get(f"/cases/{case_id}", headers=officer).json()
        assert case["status"] == "approved"
        recordings = client.get(f"/cases/{case_id}/recordings", headers=officer).json()
        assert [r["sha256"] for r in recordings] == [flow["wav_sha256"]]
        assert recordings[0]["segments"] == flow["recording"]["segments"]  # type: ignore[index]
        documents = client.get(f"/cases/{case_id}/documents", headers=officer).json()
        assert len(documents) == 2
        for document, before in zip(documents, flow["documents"], strict=True):  # type: ignore[call-overload]
            download = client.get(f"/documents/{document['id']}/file", headers=officer)
            assert download.content == before["bytes"]
        search = client.post(
            "/search/statutes", json={"text": "逾期未办理纳税申报", "k": 5}, headers=officer
        )
        assert search.status_code == 200
        assert search.json()
    after = {p: p.stat().st_mtime_ns for p in flow_settings.index_dir.rglob("*") if p.is_file()}
    assert after == index_files, "the index was rebuilt on restart instead of reloaded"


def test_separation_of_duties(
    flow_settings: Settings, case_payload_module: dict[str, object]
) -> None:
    """An admin who handles a case (with a credential of its own) still cannot review or
    approve it."""
    with running_app(flow_settings) as client:
        admin = login(client, "admin")
        credential = {"username": "admin", "number": "ADMIN-FLOW-1"}
        period = {"issued_on": "2024-01-01", "valid_until": "2099-12-31"}
        assert client.post("/credentials", json=credential | period, headers=admin).is_success
        payload = dict(case_payload_module)
        case = client.post("/cases", json=payload, headers=admin)
        assert case.status_code == 201, case.text
        case_id = case.json()["id"]
        response = client.post(f"/cases/{case_id}/review", json={"result": "同意"}, headers=admin)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "separation_of_duties"
        response = client.post(f"/cases/{case_id}/approve", json={}, headers=admin)
        assert response.json()["error"]["code"] == "separation_of_duties"
        response = client.post(
            f"/cases/{case_id}/approve", json={}, headers=login(client, "approver")
        )
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "review_not_passed"


def test_the_whole_flow_leaves_a_signed_record_that_verifies(
    flow: dict[str, object], flow_settings: Settings
) -> None:
    """Issue 7: every step of the flow is a signed, chained event linking its files."""
    case_id = flow["case"]["id"]  # type: ignore[index]
    with running_app(flow_settings) as client:
        officer = login(client, "officer")
        report = client.get(f"/cases/{case_id}/record/verify", headers=officer).json()
        assert report["ok"] is True, report["problems"]
        assert report["events"] == 10
        assert report["files"] == 3  # the recording and the two drafts
        timeline = client.get(f"/cases/{case_id}/timeline", headers=officer).json()
    assert [e["seq"] for e in timeline["events"]] == list(range(1, 11))
    assert all(e["verified"] for e in timeline["events"])
    for uploaded_or_transcribed in timeline["events"][1:3]:
        assert uploaded_or_transcribed["files"] == [
            {"sha256": flow["wav_sha256"], "kind": "recording"}
        ]

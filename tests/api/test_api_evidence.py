"""Evidence over HTTP with the real OCR model: a scanned page of a real decision (turned 2°,
blurred, saved as an image-only PDF) uploaded to a case, read by the job queue and listed in
the 证据清单 with its signed events; the text PDF and DOCX paths; every bad file a clear 4xx
that stores nothing; the record verifies."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.config import Settings
from assistant.evidence import read_text_layers
from assistant.transcription.evaluation import edit_distance
from tests.api.apphelpers import assert_error, login, prepare_data_dir, running_app, wait_for_job
from tests.conftest import demo_case_payload, iter_files, make_settings, requires_shared
from tests.evidence.scans import decision_pdfs, image_bytes, scanned_page

pytestmark = [pytest.mark.e2e, requires_shared]
MAX_BYTES = 3 * 1024 * 1024


@pytest.fixture(scope="module")
def evidence_settings(tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path) -> Settings:
    settings = make_settings(
        tmp_path_factory.mktemp("evidence") / "data",
        evidence_max_bytes=MAX_BYTES,
        evidence_max_pages=6,
    )
    prepare_data_dir(settings, shared_index_dir)
    return settings


@pytest.fixture(scope="module")
def client(evidence_settings: Settings) -> Iterator[TestClient]:
    with running_app(evidence_settings) as client:
        yield client


@pytest.fixture(scope="module")
def officer(client: TestClient) -> dict[str, str]:
    return login(client, "officer")


@pytest.fixture(scope="module")
def case_id(client: TestClient, officer: dict[str, str]) -> int:
    response = client.post("/cases", json=demo_case_payload(), headers=officer)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@pytest.fixture(scope="module")
def decision() -> Path:
    return decision_pdfs()[0]


def _post(
    client: TestClient, headers: dict[str, str], case: int, name: str, data: bytes, **form: str
) -> Any:
    return client.post(
        f"/cases/{case}/evidence",
        files={"file": (name, io.BytesIO(data))},
        data=form,
        headers=headers,
    )


def _read(
    client: TestClient, headers: dict[str, str], case: int, name: str, data: bytes, **form: str
) -> dict[str, Any]:
    response = _post(client, headers, case, name, data, **form)
    assert response.status_code == 202, response.text
    body = response.json()
    assert response.headers["location"] == f"/jobs/{body['job']['id']}"
    assert body["evidence"]["status"] == "reading"
    assert body["job"]["kind"] == "evidence_reading"
    assert body["job"]["links"]["evidence"] == f"/evidence/{body['evidence']['id']}"
    job = wait_for_job(client, headers, body["job"]["id"], timeout=300)
    assert job["status"] == "succeeded", job
    evidence = client.get(f"/evidence/{body['evidence']['id']}", headers=headers)
    assert evidence.status_code == 200
    return evidence.json()  # type: ignore[no-any-return]


def _compact(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if not ch.isspace())


def test_scanned_decision_page_is_read_by_ocr_and_listed(
    client: TestClient, officer: dict[str, str], case_id: int, decision: Path
) -> None:
    scan = image_bytes(scanned_page(decision, 0), "PDF")
    evidence = _read(client, officer, case_id, "扫描件.pdf", scan, title="处理决定书扫描件")
    assert evidence["kind"] == "pdf" and evidence["method"] == "ocr" and evidence["pages"] == 1
    assert evidence["reader"]["ocr_pages"] == [1] and evidence["reader"]["box_unit"] == "pt"
    assert evidence["reader"]["ocr"]["engine"] == "rapidocr 3.10.0"
    lines = evidence["lines"]
    assert lines and all(line["page"] == 1 and line["source"] == "ocr" for line in lines)
    assert all(len(line["box"]) == 4 and 0 < line["confidence"] <= 1 for line in lines)
    reference, _ = read_text_layers(decision, "pdf")
    ref = _compact(
        "".join(
            r.text
            for r in sorted((r for r in reference if r.page == 1), key=lambda r: r.box[0][1])  # type: ignore[index]
        )
    )
    hyp = _compact("".join(line["text"] for line in lines))
    assert edit_distance(ref, hyp) / len(ref) <= 0.02
    assert "二税稽处〔2025〕1号" in hyp

    original = client.get(f"/evidence/{evidence['id']}/file", headers=officer)
    assert original.status_code == 200 and original.content == scan
    assert original.headers["content-type"] == "application/pdf"

    listing = client.get(f"/cases/{case_id}/evidence", headers=officer).json()
    item = next(i for i in listing["items"] if i["id"] == evidence["id"])
    assert item["name"] == "处理决定书扫描件" and item["filename"] == "扫描件.pdf"
    assert item["method"] == "ocr" and item["lines"] == len(lines)
    assert item["submitted_by"] == "示例承办人" and 0.5 < item["mean_confidence"] <= 1
    timeline = client.get(f"/cases/{case_id}/timeline", headers=officer).json()
    events = {e["seq"]: e for e in timeline["events"]}
    assert [p["action"] for p in item["provenance"]] == ["evidence_uploaded", "evidence_read"]
    for step in item["provenance"]:
        assert events[step["seq"]]["hash"] == step["hash"]
    verify = client.get(f"/cases/{case_id}/record/verify", headers=officer).json()
    assert verify["ok"], verify


def test_text_pdf_and_docx_are_read_from_their_text(
    client: TestClient, officer: dict[str, str], case_id: int, decision: Path
) -> None:
    pdf = _read(client, officer, case_id, "决定书.pdf", decision.read_bytes())
    assert pdf["method"] == "text_layer" and pdf["pages"] == 4
    assert {line["page"] for line in pdf["lines"]} == {1, 2, 3, 4}
    assert any(line["text"] == "税务处理决定书" for line in pdf["lines"])
    assert all(line["confidence"] is None for line in pdf["lines"])

    import docx

    document = docx.Document()
    document.add_paragraph("陈述申辩书：我公司对少缴税款的事实无异议。")
    buffer = io.BytesIO()
    document.save(buffer)
    note = _read(client, officer, case_id, "申辩.docx", buffer.getvalue())
    assert note["method"] == "docx" and note["lines"][0]["text"].startswith("陈述申辩书")
    listing = client.get(f"/cases/{case_id}/evidence", headers=officer).json()
    assert [i["number"] for i in listing["items"]] == list(range(1, listing["count"] + 1))


def test_photographed_page_top_is_read_by_ocr_in_pixels(
    client: TestClient, officer: dict[str, str], case_id: int, decision: Path
) -> None:
    page = scanned_page(decision, 0)
    top = page.crop((0, 0, page.width, page.height // 4))
    evidence = _read(client, officer, case_id, "照片.jpg", image_bytes(top, "JPEG"))
    assert evidence["kind"] == "image" and evidence["media_type"] == "image/jpeg"
    assert evidence["method"] == "ocr" and evidence["reader"]["box_unit"] == "px"
    texts = [line["text"] for line in evidence["lines"]]
    assert "税务处理决定书" in texts
    for line in evidence["lines"]:
        assert all(0 <= x <= top.width and 0 <= y <= top.height for x, y in line["box"])


def test_bad_files_are_clear_4xx_and_store_nothing(
    client: TestClient,
    officer: dict[str, str],
    case_id: int,
    decision: Path,
    evidence_settings: Settings,
) -> None:
    def blobs() -> int:
        return len([p for p in iter_files(evidence_settings.blobs_dir) if "tmp" not in p.parts])

    before = blobs()
    png = image_bytes(scanned_page(decision, 0, dpi=60), "PNG")
    bad = [
        ("notes.txt", "纯文本不是证据文件".encode(), 415, "unsupported_evidence_type"),
        (
            "old.doc",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600),
            415,
            "unsupported_evidence_type",
        ),
        ("cut.pdf", decision.read_bytes()[:4000], 422, "corrupt_file"),
        ("cut.png", png[: len(png) // 3], 422, "corrupt_file"),
        ("empty.pdf", b"", 422, "empty_file"),
        ("huge.png", png + bytes(MAX_BYTES), 413, "file_too_large"),
    ]
    for name, data, status, code in bad:
        assert_error(_post(client, officer, case_id, name, data), status, code)
    other = login(client, "officer2")
    assert_error(_post(client, other, case_id, "x.png", png), 403, "not_case_officer")
    assert blobs() == before
    assert_error(client.get("/evidence/999999", headers=officer), 404, "evidence_not_found")

"""GET /documents/{id}/pdf and /html over HTTP: the stored .docx as PDF and as HTML."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from assistant.config import Settings
from assistant.drafting.pdf import RenderingUnavailable, find_fonts
from tests.api.apphelpers import assert_error, login, prepare_data_dir, running_app
from tests.conftest import demo_case_payload, make_settings


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path
) -> Iterator[TestClient]:
    settings: Settings = make_settings(tmp_path_factory.mktemp("renditions") / "data")
    prepare_data_dir(settings, shared_index_dir)
    with running_app(settings) as client:
        yield client


@pytest.fixture(scope="module")
def decision(client: TestClient) -> tuple[dict[str, str], dict[str, object]]:
    officer = login(client, "officer")
    case = client.post("/cases", json=demo_case_payload(), headers=officer)
    assert case.status_code == 201, case.text
    case_id = case.json()["id"]
    step = client.post(f"/cases/{case_id}/discretion", headers=officer)
    assert step.status_code == 201, step.text
    drafted = client.post(
        f"/cases/{case_id}/documents", json={"doc_type": "penalty_decision"}, headers=officer
    )
    assert drafted.status_code == 201, drafted.text
    return officer, drafted.json()


def test_pdf_of_a_drafted_decision(
    client: TestClient, decision: tuple[dict[str, str], dict[str, object]]
) -> None:
    try:
        find_fonts()
    except RenderingUnavailable:
        pytest.skip("CJK fonts not installed; run `make system-deps`")
    officer, document = decision
    response = client.get(f"/documents/{document['id']}/pdf", headers=officer)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "".join("".join(p.extract_text().split()) for p in reader.pages)
    assert "税务行政处罚决定书" in text and str(document["number"]) in text


def test_html_preview_of_a_drafted_decision(
    client: TestClient, decision: tuple[dict[str, str], dict[str, object]]
) -> None:
    officer, document = decision
    response = client.get(f"/documents/{document['id']}/html", headers=officer)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "税务行政处罚决定书" in response.text and str(document["number"]) in response.text


def test_renditions_need_a_token_and_a_real_document(
    client: TestClient, decision: tuple[dict[str, str], dict[str, object]]
) -> None:
    officer, document = decision
    assert client.get(f"/documents/{document['id']}/pdf").status_code == 401
    assert_error(client.get("/documents/424242/pdf", headers=officer), 404, "document_not_found")
    assert_error(client.get("/documents/424242/html", headers=officer), 404, "document_not_found")


def test_a_draft_that_fails_the_fact_guard_is_not_stored(
    client: TestClient,
    decision: tuple[dict[str, str], dict[str, object]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The type's renderer is replaced by one that misstates the fine: 409 with the span, no
    document."""
    import dataclasses

    from assistant.documents.registry import REGISTRY
    from assistant.drafting import RenderedDocument

    kind = REGISTRY["penalty_decision"]

    def tampered(ctx: object) -> RenderedDocument:
        rendered = kind.render(ctx)
        text = rendered.text.replace("处以罚款", "处以罚款1", 1)
        return dataclasses.replace(rendered, text=text)

    officer, document = decision
    case_id = document["case_id"]
    before = client.get(f"/cases/{case_id}/documents", headers=officer).json()
    monkeypatch.setitem(REGISTRY, "penalty_decision", dataclasses.replace(kind, render=tampered))
    response = client.post(
        f"/cases/{case_id}/documents", json={"doc_type": "penalty_decision"}, headers=officer
    )
    error = assert_error(response, 409, "fact_check_failed")
    findings = error["details"]["findings"]  # type: ignore[index]
    assert any(f["kind"] == "amount" for f in findings), findings
    after = client.get(f"/cases/{case_id}/documents", headers=officer).json()
    assert after == before


def test_no_penalty_decision_for_a_first_minor_violation(client: TestClient) -> None:
    """首违不罚: the workflow drafts a 不予税务行政处罚决定书, fact-checked, citing 第三十三条."""
    from tests.conftest import DEMO_USCC

    officer = login(client, "officer")
    payload = demo_case_payload()
    payload["first_violation"] = True
    payload["days_overdue"] = 5
    payload["facts"] = (
        "该公司2025年3月增值税纳税申报逾期5日，经责令限期改正后于2025年4月20日补办申报。"
    )
    case = client.post("/cases", json=payload, headers=officer)
    assert case.status_code == 201, case.text
    case_id = case.json()["id"]
    step = client.post(f"/cases/{case_id}/discretion", headers=officer)
    assert step.json()["payload"]["decision"] == "no_penalty", step.json()
    assert_error(
        client.post(
            f"/cases/{case_id}/documents", json={"doc_type": "penalty_decision"}, headers=officer
        ),
        422,
        "not_a_penalty",
    )
    drafted = client.post(
        f"/cases/{case_id}/documents", json={"doc_type": "no_penalty_decision"}, headers=officer
    )
    assert drafted.status_code == 201, drafted.text
    text = drafted.json()["text"]
    assert text.split("\n")[1] == "不予税务行政处罚决定书"
    assert "不罚" in drafted.json()["number"]
    assert "《中华人民共和国行政处罚法》第三十三条第一款" in text and "决定不予税务行政处罚" in text
    assert DEMO_USCC in text


def test_no_penalty_decision_refused_for_a_penalty_case(
    client: TestClient, decision: tuple[dict[str, str], dict[str, object]]
) -> None:
    officer, document = decision
    response = client.post(
        f"/cases/{document['case_id']}/documents",
        json={"doc_type": "no_penalty_decision"},
        headers=officer,
    )
    assert_error(response, 409, "not_a_no_penalty_case")

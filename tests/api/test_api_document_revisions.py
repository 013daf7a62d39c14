"""Edits are revisions with author and time, diffable; a guard failure or an issued document
refuses the edit; issuing needs an approver and the stage the lifecycle allows for the type."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.config import Settings
from tests.api.apphelpers import (
    assert_error,
    decide_after_notice,
    login,
    prepare_data_dir,
    running_app,
)
from tests.conftest import demo_case_payload, make_settings


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path
) -> Iterator[TestClient]:
    settings: Settings = make_settings(tmp_path_factory.mktemp("revisions") / "data")
    prepare_data_dir(settings, shared_index_dir)
    with running_app(settings) as client:
        yield client


def test_edit_diff_issue_then_immutable(client: TestClient) -> None:
    officer = login(client, "officer")
    case_id = client.post("/cases", json=demo_case_payload(), headers=officer).json()["id"]
    assert client.post(f"/cases/{case_id}/discretion", headers=officer).status_code == 201
    drafted = client.post(
        f"/cases/{case_id}/documents", json={"doc_type": "penalty_decision"}, headers=officer
    ).json()
    doc_id, original = drafted["id"], drafted["text"]
    notice = client.post(
        f"/cases/{case_id}/documents", json={"doc_type": "penalty_notice"}, headers=officer
    ).json()
    lines = original.split("\n")
    facts_at = lines.index("一、违法事实及证据") + 1
    edited = lines.copy()
    edited[facts_at] = "经查，" + edited[facts_at]

    response = client.post(
        f"/documents/{doc_id}/revisions",
        json={"text": "\n".join(edited), "note": "补充“经查”"},
        headers=officer,
    )
    assert response.status_code == 201, response.text
    assert response.json()["text"] == "\n".join(edited)
    assert response.json()["sha256"] != drafted["sha256"]
    assert response.json()["number"] == drafted["number"]  # same 文号 through edits

    # a wrong fact in an edit is refused with its span, and nothing changes
    wrong = [line.replace("罚款", "罚款1", 1) if "处以罚款" in line else line for line in edited]
    error = assert_error(
        client.post(
            f"/documents/{doc_id}/revisions", json={"text": "\n".join(wrong)}, headers=officer
        ),
        409,
        "fact_check_failed",
    )
    assert error["details"]["findings"]  # type: ignore[index]

    revisions = client.get(f"/documents/{doc_id}/revisions", headers=officer).json()
    assert [r["revision"] for r in revisions] == [1, 2]
    assert revisions[0]["text"] == original and revisions[1]["note"] == "补充“经查”"
    assert all(r["author_id"] and r["created_at"] for r in revisions)

    diff = client.get(f"/documents/{doc_id}/diff?from=1&to=2", headers=officer).json()["diff"]
    assert f"-{lines[facts_at]}" in diff and f"+{edited[facts_at]}" in diff
    assert_error(
        client.get(f"/documents/{doc_id}/diff?from=1&to=9", headers=officer),
        404,
        "revision_not_found",
    )

    download = client.get(f"/documents/{doc_id}/file", headers=officer)
    import hashlib

    assert hashlib.sha256(download.content).hexdigest() == revisions[1]["sha256"]

    # issuing: not by the officer, not before approval
    assert_error(
        client.post(f"/documents/{doc_id}/issue", headers=officer), 403, "role_not_allowed"
    )
    approver = login(client, "approver")
    assert_error(
        client.post(f"/documents/{doc_id}/issue", headers=approver), 409, "case_not_approved"
    )
    reviewer = login(client, "reviewer")
    review = client.post(f"/cases/{case_id}/review", json={"result": "同意"}, headers=reviewer)
    assert review.status_code == 200, review.text
    assert client.post(f"/cases/{case_id}/approve", json={}, headers=approver).status_code == 200
    # the 决定书 is final only once the decision is made: after the notice and the statement
    error = assert_error(
        client.post(f"/documents/{doc_id}/issue", headers=approver),
        409,
        "rule_document_issue_stage",
    )
    assert "第六十二条" in str(error["message"])
    decide_after_notice(client, case_id, notice["id"])
    issued = client.post(f"/documents/{doc_id}/issue", headers=approver)
    assert issued.status_code == 200, issued.text
    assert issued.json()["issued_at"] and issued.json()["issued_by"]

    assert_error(
        client.post(f"/documents/{doc_id}/revisions", json={"text": original}, headers=officer),
        409,
        "document_issued",
    )
    assert_error(
        client.post(f"/documents/{doc_id}/issue", headers=approver), 409, "document_issued"
    )
    events = [e["action"] for e in client.get(f"/cases/{case_id}/events", headers=officer).json()]
    # the 处罚决定书 is published: its draft is made with the issue (tests/publicity)
    assert events.count("document_edited") == 1
    assert events[-2:] == ["document_issued", "publication_drafted"]

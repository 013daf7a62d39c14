"""Approval pins the reviewed version: review and approval record the version and text hash
of every document they saw; editing after review or approval reopens review (a signed
`review_reopened` event, back to 调查取证); only the approved text, byte for byte, is issued.

The finding: after review and approval the officer dropped the remedy paragraph of the
approved 决定书 and it was issued.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.services import build_services
from tests.api.apphelpers import (
    assert_error,
    decide_after_notice,
    login,
    prepare_data_dir,
    running_app,
)
from tests.conftest import demo_case_payload, make_settings
from tests.record.helpers import resign_as_pre_upgrade


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path
) -> Iterator[TestClient]:
    settings = make_settings(tmp_path_factory.mktemp("approval-pin") / "data")
    prepare_data_dir(settings, shared_index_dir)
    with running_app(settings) as client:
        yield client


def _approved_case(client: TestClient) -> tuple[int, dict[str, Any]]:
    """A case drafted, reviewed and approved; returns it and its 决定书 (the 告知书 rides along
    under the key `notice`)."""
    officer = login(client, "officer")
    case_id = int(client.post("/cases", json=demo_case_payload(), headers=officer).json()["id"])
    assert client.post(f"/cases/{case_id}/discretion", headers=officer).status_code == 201
    drafted = {}
    for doc_type in ("penalty_notice", "penalty_decision"):
        response = client.post(
            f"/cases/{case_id}/documents", json={"doc_type": doc_type}, headers=officer
        )
        assert response.status_code == 201, response.text
        drafted[doc_type] = response.json()
    _review_and_approve(client, case_id)
    return case_id, {**drafted["penalty_decision"], "notice": drafted["penalty_notice"]}


def _review_and_approve(client: TestClient, case_id: int) -> None:
    review = client.post(
        f"/cases/{case_id}/review", json={"result": "同意"}, headers=login(client, "reviewer")
    )
    assert review.status_code == 200, review.text
    approve = client.post(f"/cases/{case_id}/approve", json={}, headers=login(client, "approver"))
    assert approve.status_code == 200, approve.text


def _events(client: TestClient, case_id: int) -> list[dict[str, Any]]:
    response = client.get(f"/cases/{case_id}/events", headers=login(client, "officer"))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _reworded(text: str) -> str:
    """An edit the fact guard lets through (the remedy clauses may not be touched at all): a
    sentence added at the end, as an officer's afterthought would be."""
    return text.rstrip("\n") + "\n本决定书一式两份，一份送达当事人，一份存档。"


def test_review_and_approval_record_the_versions_they_saw(client: TestClient) -> None:
    case_id, decision = _approved_case(client)
    events = {e["action"]: e for e in _events(client, case_id)}
    for action in ("legal_review", "approved"):
        seen = {d["document_id"]: d for d in events[action]["details"]["documents"]}
        assert seen[decision["id"]]["revision"] == 1
        assert seen[decision["id"]]["sha256"] == decision["sha256"]
        text_hash = hashlib.sha256(decision["text"].encode("utf-8")).hexdigest()
        assert seen[decision["id"]]["text_sha256"] == text_hash


def test_editing_an_approved_document_reopens_review_and_blocks_issue(client: TestClient) -> None:
    officer, approver = login(client, "officer"), login(client, "approver")
    case_id, decision = _approved_case(client)
    edited_text = _reworded(decision["text"])
    assert edited_text != decision["text"]
    edited = client.post(
        f"/documents/{decision['id']}/revisions",
        json={"text": edited_text, "note": "补充送达说明"},
        headers=officer,
    )
    assert edited.status_code == 201, edited.text
    case = client.get(f"/cases/{case_id}", headers=officer).json()
    assert case["status"] == "investigating"
    reopened = _events(client, case_id)[-1]
    assert reopened["action"] == "review_reopened"
    assert (reopened["state_before"], reopened["state_after"]) == ("approved", "investigating")
    assert reopened["details"]["document_id"] == decision["id"]
    # the edited text is not the approved one: it cannot be issued
    assert_error(
        client.post(f"/documents/{decision['id']}/issue", headers=approver),
        409,
        "case_not_approved",
    )
    # reviewed and approved again, the new version is pinned and is what gets issued
    _review_and_approve(client, case_id)
    approved = _events(client, case_id)[-1]
    seen = {d["document_id"]: d for d in approved["details"]["documents"]}
    assert seen[decision["id"]]["revision"] == 2
    decide_after_notice(client, case_id, decision["notice"]["id"])
    issued = client.post(f"/documents/{decision['id']}/issue", headers=approver)
    assert issued.status_code == 200, issued.text
    assert issued.json()["text"] == edited_text
    verify = client.get(f"/cases/{case_id}/record/verify", headers=officer).json()
    assert verify["ok"] is True, verify["problems"]


def test_a_document_edited_after_the_decision_is_not_issued(client: TestClient) -> None:
    """Past the decision the review cannot reopen; the issue check still refuses the text."""
    officer, approver = login(client, "officer"), login(client, "approver")
    case_id, decision = _approved_case(client)
    decide_after_notice(client, case_id, decision["notice"]["id"])
    edited = client.post(
        f"/documents/{decision['id']}/revisions",
        json={"text": _reworded(decision["text"])},
        headers=officer,
    )
    assert edited.status_code == 201, edited.text
    error = assert_error(
        client.post(f"/documents/{decision['id']}/issue", headers=approver),
        409,
        "document_changed_after_approval",
    )
    assert error["details"]["approved_revision"] == 1  # type: ignore[index]
    assert _events(client, case_id)[-1]["action"] == "document_edited"  # nothing issued


def test_an_approval_from_before_pinning_still_issues_an_unedited_document(
    tmp_path: Path, shared_index_dir: Path
) -> None:
    """An approval recorded without versions (pre-upgrade) counts while the record shows no
    edit of the document since: old approved cases are not stuck."""
    settings = make_settings(tmp_path / "data")
    prepare_data_dir(settings, shared_index_dir)
    with running_app(settings) as client:
        case_id, decision = _approved_case(client)
    resign_as_pre_upgrade(build_services(settings), case_id, drop=("documents",))
    with running_app(settings) as client:
        approved = _events(client, case_id)[-1]
        assert approved["action"] == "approved" and "documents" not in approved["details"]
        decide_after_notice(client, case_id, decision["notice"]["id"])
        issued = client.post(
            f"/documents/{decision['id']}/issue", headers=login(client, "approver")
        )
        assert issued.status_code == 200, issued.text

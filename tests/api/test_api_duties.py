"""Separation of duties without exceptions, and a credential for every recorded act.

On one case the handler, the legal reviewer and the approver are three people whatever their
role: an admin is held to it like anyone else, and needs a valid 执法证件 to act at all.
Through the real app, with the demo users and credentials as `taxassist setup` makes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.dates import today_in_china
from tests.api.apphelpers import assert_error, login, prepare_data_dir, running_app
from tests.conftest import demo_case_payload, make_settings


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path
) -> Iterator[TestClient]:
    settings = make_settings(tmp_path_factory.mktemp("duties") / "data")
    prepare_data_dir(settings, shared_index_dir)
    with running_app(settings) as client:
        yield client


def _credential(client: TestClient, admin: dict[str, str], number: str, **period: str) -> None:
    today = today_in_china()
    body = {
        "username": "admin",
        "number": number,
        "issued_on": period.get("issued_on", f"{today.year - 1}-01-01"),
        "valid_until": period.get("valid_until", f"{today.year + 1}-12-31"),
    }
    response = client.post("/credentials", json=body, headers=admin)
    assert response.status_code == 201, response.text


def _drafted_case(client: TestClient, officer: dict[str, str]) -> int:
    case_id = int(client.post("/cases", json=demo_case_payload(), headers=officer).json()["id"])
    assert client.post(f"/cases/{case_id}/discretion", headers=officer).status_code == 201
    for doc_type in ("penalty_notice", "penalty_decision"):
        drafted = client.post(
            f"/cases/{case_id}/documents", json={"doc_type": doc_type}, headers=officer
        )
        assert drafted.status_code == 201, drafted.text
    return case_id


def test_an_admin_without_a_credential_cannot_act_on_a_case(client: TestClient) -> None:
    admin, officer = login(client, "admin"), login(client, "officer")
    error = assert_error(
        client.post("/cases", json=demo_case_payload(), headers=admin), 403, "no_valid_credential"
    )
    assert error["details"]["rule"] == "credential_required"  # type: ignore[index]
    case_id = _drafted_case(client, officer)
    assert_error(
        client.post(f"/cases/{case_id}/review", json={"result": "同意"}, headers=admin),
        403,
        "no_valid_credential",
    )
    events = client.get(f"/cases/{case_id}/events", headers=officer).json()
    assert [e["action"] for e in events][-1] == "document_drafted"  # nothing was recorded


def test_an_expired_credential_does_not_count(client: TestClient) -> None:
    admin, officer = login(client, "admin"), login(client, "officer")
    _credential(client, admin, "ADMIN-EXPIRED", issued_on="2020-01-01", valid_until="2021-12-31")
    case_id = _drafted_case(client, officer)
    assert_error(
        client.post(f"/cases/{case_id}/review", json={"result": "同意"}, headers=admin),
        403,
        "no_valid_credential",
    )


def test_one_admin_cannot_both_review_and_approve(client: TestClient) -> None:
    """The finding: one admin did 法制审核 and 负责人 approval of the same case."""
    admin, officer = login(client, "admin"), login(client, "officer")
    _credential(client, admin, "ADMIN-0001")
    case_id = _drafted_case(client, officer)
    review = client.post(f"/cases/{case_id}/review", json={"result": "同意"}, headers=admin)
    assert review.status_code == 200, review.text
    error = assert_error(
        client.post(f"/cases/{case_id}/approve", json={}, headers=admin),
        403,
        "separation_of_duties",
    )
    assert error["details"]["duty"] == "approval"  # type: ignore[index]
    assert error["details"]["held"] == ["review"]  # type: ignore[index]
    approved = client.post(f"/cases/{case_id}/approve", json={}, headers=login(client, "approver"))
    assert approved.status_code == 200, approved.text
    # nor may the reviewing admin issue the decision (the leader's act)
    documents = client.get(f"/cases/{case_id}/documents", headers=officer).json()
    assert_error(
        client.post(f"/documents/{documents[-1]['id']}/issue", headers=admin),
        403,
        "separation_of_duties",
    )


def test_an_admin_who_handles_a_case_neither_reviews_nor_approves_it(client: TestClient) -> None:
    admin = login(client, "admin")
    _credential(client, admin, "ADMIN-0002")
    case_id = int(client.post("/cases", json=demo_case_payload(), headers=admin).json()["id"])
    assert client.post(f"/cases/{case_id}/discretion", headers=admin).status_code == 201
    for path, body in (
        (f"/cases/{case_id}/review", {"result": "同意"}),
        (f"/cases/{case_id}/approve", {}),
    ):
        error = assert_error(
            client.post(path, json=body, headers=admin), 403, "separation_of_duties"
        )
        assert error["details"]["held"] == ["handling"]  # type: ignore[index]


def test_a_reviewer_of_a_case_cannot_then_handle_it(client: TestClient) -> None:
    """The admin reviewed; a handling act by the same person afterwards is refused too."""
    admin, officer = login(client, "admin"), login(client, "officer")
    _credential(client, admin, "ADMIN-0003")
    case_id = _drafted_case(client, officer)
    review = client.post(
        f"/cases/{case_id}/review",
        json={"result": "存在问题", "opinion": "证据不足"},
        headers=admin,
    )
    assert review.status_code == 200, review.text
    error = assert_error(
        client.post(f"/cases/{case_id}/discretion", headers=admin), 403, "separation_of_duties"
    )
    assert error["details"]["held"] == ["review"]  # type: ignore[index]


def test_the_handler_cannot_rewrite_the_review_opinion(client: TestClient) -> None:
    """The 法制审核意见书 is the reviewer's act: the handling officer editing it would be
    reviewing the own case."""
    officer = login(client, "officer")
    case_id = _drafted_case(client, officer)
    review = client.post(
        f"/cases/{case_id}/legal-review",
        json={"result": "存在问题", "opinion": "证据不足，请补充询问笔录。"},
        headers=login(client, "reviewer"),
    )
    assert review.status_code == 200, review.text
    documents = client.get(f"/cases/{case_id}/documents", headers=officer).json()
    opinion = next(d for d in documents if d["doc_type"] == "legal_review_opinion")
    edited = opinion["text"].replace("证据不足，请补充询问笔录。", "同意。")
    error = assert_error(
        client.post(
            f"/documents/{opinion['id']}/revisions", json={"text": edited}, headers=officer
        ),
        403,
        "separation_of_duties",
    )
    assert error["details"]["duty"] == "review"  # type: ignore[index]
    assert error["details"]["held"] == ["handling"]  # type: ignore[index]

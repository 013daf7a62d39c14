"""The procedure guards the law sets, through the API: each refusal is a 409 (422 for a bad
date) in the error envelope, naming the rule and, in its Chinese message, the article."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.auth import create_user
from assistant.cases.credentials import add_credential
from assistant.cases.guard_rules import load_guard_rules
from assistant.dates import today_in_china
from assistant.services import build_services
from tests.api.apphelpers import assert_error, login, prepare_data_dir, running_app
from tests.conftest import demo_case_payload, make_settings

TODAY = today_in_china()
CHIEF_PASSWORD = "vanilla-kite-58-river"


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path
) -> Iterator[TestClient]:
    settings = make_settings(
        tmp_path_factory.mktemp("guards") / "data", principal_usernames="chief"
    )
    prepare_data_dir(settings, shared_index_dir)
    services = build_services(settings)
    with services.db.session() as session:
        create_user(session, username="chief", password=CHIEF_PASSWORD, role="approver")
        session.flush()
        add_credential(
            session,
            "chief",
            number="TEST-CHIEF-API",
            issued_on=date(2024, 1, 1),
            valid_until=date(2099, 12, 31),
        )
    services.db.engine.dispose()
    with running_app(settings) as client:
        yield client


def travel(monkeypatch: pytest.MonkeyPatch, days: int) -> None:
    """The lifecycle's China date moves `days` after today (the record's timestamps stay real)."""
    day = TODAY + timedelta(days=days)
    monkeypatch.setattr("assistant.cases.lifecycle.today_in_china", lambda: day)


def headers(client: TestClient, who: str) -> dict[str, str]:
    if who == "chief":
        response = client.post(
            "/auth/token", json={"username": "chief", "password": CHIEF_PASSWORD}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}
    return login(client, who)


def open_case(client: TestClient, **facts: Any) -> tuple[int, dict[str, int]]:
    """Open, analyse and draft as the officer does; returns the case and its document ids."""
    officer = headers(client, "officer")
    payload = {**demo_case_payload(), **facts}
    case_id = client.post("/cases", json=payload, headers=officer).json()["id"]
    suggestion = client.post(f"/cases/{case_id}/discretion", headers=officer).json()["payload"]
    documents: dict[str, int] = {}
    if not suggestion["criminal_referral"]:
        for doc_type in ("penalty_notice", "penalty_decision"):
            response = client.post(
                f"/cases/{case_id}/documents", json={"doc_type": doc_type}, headers=officer
            )
            assert response.status_code == 201, response.text
            documents[doc_type] = response.json()["id"]
    return case_id, documents


def approved(client: TestClient, **facts: Any) -> tuple[int, dict[str, int]]:
    case_id, documents = open_case(client, **facts)
    review = client.post(
        f"/cases/{case_id}/review", json={"result": "同意"}, headers=headers(client, "reviewer")
    )
    assert review.status_code == 200, review.text
    approve = client.post(f"/cases/{case_id}/approve", json={}, headers=headers(client, "approver"))
    assert approve.status_code == 200, approve.text
    return case_id, documents


def act(client: TestClient, case_id: int, action: str, who: str, **body: Any) -> Any:
    return client.post(
        f"/cases/{case_id}/lifecycle/{action}", json=body, headers=headers(client, who)
    )


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def refused(response: Any, rule: str, status: int = 409) -> dict[str, Any]:
    error = assert_error(response, status, f"rule_{rule}")
    details: dict[str, Any] = error["details"]  # type: ignore[assignment]
    assert details["rule"] == rule and details["source"]
    assert details["source"] in str(error["message"])  # the article, for the officer
    return details


def test_a_decision_is_not_issued_before_the_notice(client: TestClient) -> None:
    _, documents = approved(client)
    approver = headers(client, "approver")
    details = refused(
        client.post(f"/documents/{documents['penalty_decision']}/issue", headers=approver),
        "document_issue_stage",
    )
    assert "第六十二条" in details["source"]
    assert (
        client.post(f"/documents/{documents['penalty_notice']}/issue", headers=approver).status_code
        == 200
    )


def test_dates_never_precede_the_case_nor_lie_in_the_future(client: TestClient) -> None:
    case_id, _ = approved(client)
    before = (TODAY - timedelta(days=33)).isoformat()
    details = refused(act(client, case_id, "notify", "officer", on=before), "act_date", 422)
    assert details["last"] == TODAY.isoformat()
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    refused(act(client, case_id, "notify", "officer", on=tomorrow), "act_date", 422)
    assert ok(act(client, case_id, "notify", "officer"))["status"] == "notified"


def test_statement_is_recorded_and_reviewed_before_the_decision(client: TestClient) -> None:
    case_id, _ = approved(client)
    ok(act(client, case_id, "notify", "officer"))
    refused(act(client, case_id, "decide", "approver"), "statement_period")
    ok(act(client, case_id, "record_statement", "officer", statement="逾期系财务人员离职所致。"))
    refused(act(client, case_id, "decide", "approver"), "statement_review")
    reviewed = act(
        client,
        case_id,
        "review_statement",
        "officer",
        opinion="经复核，所述理由不影响违法事实的认定，不予采纳。",
        adopted=False,
    )
    assert ok(reviewed)["status"] == "notified"
    assert ok(act(client, case_id, "decide", "approver"))["status"] == "decided"
    events = [
        e["action"]
        for e in client.get(f"/cases/{case_id}/events", headers=headers(client, "officer")).json()
    ]
    assert events[-3:] == ["statement_recorded", "statement_reviewed", "decided"]


def test_a_decision_is_served_only_once_issued(client: TestClient) -> None:
    """送达 delivers the 决定书 (行政处罚法第六十一条): not before the leader issued it."""
    case_id, documents = approved(client)
    ok(act(client, case_id, "notify", "officer"))
    ok(act(client, case_id, "record_statement", "officer", waived=True, waives_hearing=True))
    assert ok(act(client, case_id, "decide", "approver"))["status"] == "decided"
    details = refused(act(client, case_id, "serve", "officer"), "decision_issued_before_service")
    assert details["status"] == "decided"
    decision = documents["penalty_decision"]
    issued = client.post(f"/documents/{decision}/issue", headers=headers(client, "approver"))
    assert issued.status_code == 200, issued.text
    assert ok(act(client, case_id, "serve", "officer"))["status"] == "served"
    events = client.get(f"/cases/{case_id}/events", headers=headers(client, "officer")).json()
    assert events[-1]["action"] == "served"
    assert events[-1]["details"]["document_id"] == decision


def renotice_ready(client: TestClient, *, waive: bool = False, **changes: Any) -> int:
    """A case notified once (and, with `waive`, the party waiving 陈述申辩 and the hearing),
    then its facts corrected, re-drafted, reviewed and approved again: the decision now needs a
    second notice."""
    case_id, _ = approved(client, **changes)
    officer = headers(client, "officer")
    ok(act(client, case_id, "notify", "officer"))
    if waive:
        ok(act(client, case_id, "record_statement", "officer", waived=True, waives_hearing=True))
    redrafted = client.post(
        f"/cases/{case_id}/documents", json={"doc_type": "penalty_decision"}, headers=officer
    )
    assert redrafted.status_code == 201, redrafted.text  # the review is reopened
    facts = str(demo_case_payload()["facts"]) + "经进一步核实，该公司另有一期申报逾期。"
    patched = client.patch(f"/cases/{case_id}", json={"facts": facts}, headers=officer)
    assert patched.status_code == 200, patched.text
    for doc_type in ("penalty_notice", "penalty_decision"):
        response = client.post(
            f"/cases/{case_id}/documents", json={"doc_type": doc_type}, headers=officer
        )
        assert response.status_code == 201, response.text
    reviewer, approver = headers(client, "reviewer"), headers(client, "approver")
    review = client.post(f"/cases/{case_id}/review", json={"result": "同意"}, headers=reviewer)
    assert review.status_code == 200, review.text
    approval = client.post(f"/cases/{case_id}/approve", json={}, headers=approver)
    assert approval.status_code == 200, approval.text
    return case_id


def test_a_decision_on_changed_facts_needs_a_new_notice(client: TestClient) -> None:
    """After the notice, the facts were corrected and the decision re-drafted: the party was
    told other facts (行政处罚法第四十四条), so the decision waits for a second notice."""
    case_id = renotice_ready(client)
    ok(act(client, case_id, "record_statement", "officer", waived=True, waives_hearing=True))
    details = refused(act(client, case_id, "decide", "approver"), "renotice_required")
    assert details["changed"] == ["facts_sha256"]
    assert ok(act(client, case_id, "notify", "officer"))["status"] == "notified"
    # the waiver answered the first notice; the party is asked again
    refused(act(client, case_id, "decide", "approver"), "statement_period")
    ok(act(client, case_id, "record_statement", "officer", waived=True, waives_hearing=True))
    assert ok(act(client, case_id, "decide", "approver"))["status"] == "decided"


def test_a_waiver_does_not_carry_over_to_a_second_notice(client: TestClient) -> None:
    """The party waived 陈述申辩 and the hearing after the first notice; the second notice
    proposes on other facts, so the rights open again (行政处罚法第四十四条、第六十三条): the
    decision waits for the statement period or a new waiver, and for the hearing window."""
    # 偷税 of 30,000: a fine over 10,000 for an organisation, so a hearing is offered
    case_id = renotice_ready(client, waive=True, violation="tax_evasion", tax_unpaid="30000.00")
    assert ok(act(client, case_id, "notify", "officer"))["status"] == "notified"
    refused(act(client, case_id, "decide", "approver"), "statement_period")
    ok(act(client, case_id, "record_statement", "officer", waived=True))
    refused(act(client, case_id, "decide", "approver"), "hearing_request_period")
    ok(act(client, case_id, "record_statement", "officer", waives_hearing=True))
    assert ok(act(client, case_id, "decide", "approver"))["status"] == "decided"


def test_hearing_notice_chair_and_record(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id, _ = approved(client, violation="tax_evasion", tax_unpaid="30000.00")
    ok(act(client, case_id, "notify", "officer"))
    ok(act(client, case_id, "request_hearing", "officer"))
    same_day = {"hearing_on": TODAY.isoformat(), "chair": "reviewer", "place": "第一听证室"}
    details = refused(
        act(client, case_id, "schedule_hearing", "approver", **same_day), "hearing_notice_period"
    )
    assert details["earliest"] == (TODAY + timedelta(days=7)).isoformat()
    week = {**same_day, "hearing_on": (TODAY + timedelta(days=7)).isoformat()}
    refused(
        act(client, case_id, "schedule_hearing", "approver", **{**week, "chair": "officer"}),
        "hearing_chair",
    )
    assert ok(act(client, case_id, "schedule_hearing", "approver", **week))["status"] == (
        "hearing_scheduled"
    )
    travel(monkeypatch, 7)
    refused(act(client, case_id, "hold_hearing", "officer", record="笔录"), "hearing_chair")
    refused(act(client, case_id, "hold_hearing", "reviewer"), "hearing_record")
    held = act(client, case_id, "hold_hearing", "reviewer", record="听证笔录：当事人到场申辩。")
    assert ok(held)["status"] == "heard"


def test_referral_needs_the_bureau_head_and_comes_back_when_the_police_decline(
    client: TestClient,
) -> None:
    case_id, _ = open_case(client, violation="tax_evasion", tax_unpaid="600000.00")
    assert ok(act(client, case_id, "refer", "officer"))["status"] == "referral_proposed"
    for who in ("officer", "approver"):
        error = assert_error(act(client, case_id, "approve_referral", who), 403, "not_principal")
        assert "第五条" in error["details"]["source"]  # type: ignore[index]
    refused(act(client, case_id, "reject_referral", "chief"), "referral_approval")
    back = act(client, case_id, "reject_referral", "chief", reason="现有证据不足以证明涉嫌犯罪")
    assert ok(back)["status"] == "investigating"
    ok(act(client, case_id, "refer", "officer"))
    assert ok(act(client, case_id, "approve_referral", "chief"))["status"] == "referred"
    refused(act(client, case_id, "police_declined", "officer"), "referral_declined")
    declined = act(client, case_id, "police_declined", "officer", notice="某公安局不予立案通知书")
    assert ok(declined)["status"] == "investigating"


def test_a_major_tax_case_goes_to_the_review_committee(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = load_guard_rules()
    assert "verify" in rules.confidence["major_case_committee"]
    provincial = dataclasses.replace(rules, committee_threshold=Decimal("10000.00"))
    monkeypatch.setattr("assistant.cases.lifecycle.load_guard_rules", lambda: provincial)
    case_id, _ = approved(client, violation="tax_evasion", tax_unpaid="90000.00")
    ok(act(client, case_id, "notify", "officer"))
    ok(act(client, case_id, "record_statement", "officer", waived=True, waives_hearing=True))
    refused(act(client, case_id, "decide", "approver"), "major_case_committee")
    assert act(client, case_id, "committee_review", "officer", opinion="同意").status_code == 403
    ok(act(client, case_id, "committee_review", "approver", opinion="经审理，同意处罚"))
    assert ok(act(client, case_id, "decide", "approver"))["status"] == "decided"

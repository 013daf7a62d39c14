"""One case through the real app from issue to withdrawal: the decision issued with its masked
publication draft in the same transaction (the deadline counted from the decision's date), a
强制 measure, a 复议 that revokes the decision and withdraws the publication at once, a lawsuit
dismissed; a 强制 measure's own public record published and withdrawn when the 复议 against it
revokes it, and the same through the CLI; the annual statistics count them, the 一户式 archive
carries the publications and their events into a fresh data directory, and `record verify`
catches a published text changed afterwards."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from assistant.dates import today_in_china
from assistant.db.models import Publication
from assistant.errors import InvalidInput
from assistant.publicity.workdays import load_calendar
from assistant.record.archive import import_archive
from assistant.services import build_services
from tests.api.apphelpers import (
    assert_error,
    decide_after_notice,
    login,
    prepare_data_dir,
    running_app,
)
from tests.conftest import DEMO_USCC, demo_case_payload, make_settings


@dataclass
class Flow:
    client: TestClient
    settings: Any
    case_id: int
    decision_id: int


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path) -> Iterator[Flow]:
    """An approved case whose notice is served and decision made: the 决定书 awaits 签发."""
    settings = make_settings(tmp_path_factory.mktemp("issue-flow") / "data")
    prepare_data_dir(settings, shared_index_dir)
    with running_app(settings) as client:
        officer = login(client, "officer")
        case_id = _ok(client.post("/cases", json=demo_case_payload(), headers=officer), 201)["id"]
        _ok(client.post(f"/cases/{case_id}/discretion", headers=officer), 201)
        ids = {}
        for doc_type in ("penalty_notice", "penalty_decision"):
            body = {"doc_type": doc_type}
            ids[doc_type] = _ok(
                client.post(f"/cases/{case_id}/documents", json=body, headers=officer), 201
            )["id"]
        review = {"result": "同意"}
        _ok(client.post(f"/cases/{case_id}/review", json=review, headers=login(client, "reviewer")))
        _ok(client.post(f"/cases/{case_id}/approve", json={}, headers=login(client, "approver")))
        decide_after_notice(client, case_id, ids["penalty_notice"])
        yield Flow(client, settings, case_id, ids["penalty_decision"])


def _events(flow: Flow) -> list[dict[str, Any]]:
    headers = login(flow.client, "officer")
    return _ok(flow.client.get(f"/cases/{flow.case_id}/events", headers=headers))  # type: ignore[no-any-return]


def test_issue_drafts_the_publication_in_the_same_transaction(
    flow: Flow, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, approver = flow.client, login(flow.client, "approver")
    before = len(_events(flow))

    def broken(*_: object) -> None:
        raise InvalidInput("masking_failed", "遮蔽失败（测试）。")

    # a draft that cannot be made takes the issue back with it: nothing half-written
    with monkeypatch.context() as patch:
        patch.setattr("assistant.publicity.service.mask", broken)
        assert_error(
            client.post(f"/documents/{flow.decision_id}/issue", headers=approver),
            422,
            "masking_failed",
        )
    assert len(_events(flow)) == before
    assert _ok(client.get("/publications", headers=approver)) == []

    issued = _ok(client.post(f"/documents/{flow.decision_id}/issue", headers=approver))
    assert issued["issued_at"]
    draft = issued["publication"]
    today = today_in_china()
    assert draft["status"] == "draft" and draft["kind"] == "处罚"
    assert draft["document_id"] == flow.decision_id and draft["decided_on"] == today.isoformat()
    assert draft["due_on"] == load_calendar().add_working_days(today, 7).due_on.isoformat()
    assert draft["due_warning"] is None
    assert draft["fields"]["document_number"] and draft["fields"]["party"].startswith("示例商贸")
    # the drafted decision's result, without its signature block (authority, seal, date)
    result = draft["fields"]["result"]
    assert "罚款" in result and "（印章）" not in result and "〇" not in result
    assert draft["fields"]["authority"] not in result.splitlines()
    actions = [(e["action"], e["details"].get("automatic")) for e in _events(flow)[before:]]
    assert actions == [("document_issued", None), ("publication_drafted", True)]
    # the officer only reviews and publishes; a second draft of the decision is refused
    officer = login(client, "officer")
    assert_error(
        client.post("/publications", json={"document_id": flow.decision_id}, headers=officer),
        409,
        "publication_exists",
    )
    published = _ok(client.post(f"/publications/{draft['id']}/publish", headers=officer))
    assert published["status"] == "published"
    alerts = _ok(client.get("/publications/alerts", headers=officer))
    assert flow.decision_id not in {a["document_id"] for a in alerts}


def test_measures_and_remedies_are_signed_and_a_revocation_withdraws(flow: Flow) -> None:
    client, officer = flow.client, login(flow.client, "officer")
    base = f"/cases/{flow.case_id}"
    measure = {"measure": "execution", "method": "deduct_deposit", "amount": "12000.00"}
    taken = _ok(client.post(f"{base}/enforcement-measures", json=measure, headers=officer), 201)
    assert taken["details"]["source"] == "《中华人民共和国税收征收管理法》第四十条"
    assert taken["details"]["amount"] == "12000.00"
    bad = {**measure, "method": "seize_property"}  # a 保全 method, not one of 第四十条
    assert_error(
        client.post(f"{base}/enforcement-measures", json=bad, headers=officer),
        422,
        "invalid_measure_method",
    )
    result = {"result": "撤销"}
    assert_error(
        client.post(f"{base}/remedies/reconsideration/result", json=result, headers=officer),
        409,
        "remedy_not_applied",
    )
    applied = {"body": "国家税务总局示例市税务局", "document_id": flow.decision_id}
    _ok(client.post(f"{base}/remedies/reconsideration", json=applied, headers=officer), 201)
    assert_error(
        client.post(f"{base}/remedies/reconsideration", json=applied, headers=officer),
        409,
        "remedy_pending",
    )
    assert_error(
        client.post(
            f"{base}/remedies/reconsideration/result", json={"result": "部分撤销"}, headers=officer
        ),
        422,
        "invalid_remedy_result",
    )
    decided = _ok(
        client.post(f"{base}/remedies/reconsideration/result", json=result, headers=officer)
    )
    assert decided["details"]["withdraws"] and "第四十八条第二款" in decided["details"]["source"]
    [withdrawn] = decided["withdrawn"]
    assert withdrawn["status"] == "withdrawn" and withdrawn["withdrawal_reason"] == "revoked"
    assert withdrawn["revoked_on"] == today_in_china().isoformat()
    feed = client.get("/public/publications").json()
    assert withdrawn["id"] not in {item["id"] for item in feed["items"]}
    assert any(w["id"] == withdrawn["id"] for w in feed["withdrawals"])
    # a lawsuit dismissed leaves everything as it is
    court = {"body": "示例市中级人民法院"}
    _ok(client.post(f"{base}/remedies/litigation", json=court, headers=officer), 201)
    judged = _ok(
        client.post(
            f"{base}/remedies/litigation/result",
            json={"result": "驳回诉讼请求"},
            headers=officer,
        )
    )
    assert judged["withdrawn"] == [] and not judged["details"]["withdraws"]
    outcomes = [e["action"] for e in _ok(client.get(f"{base}/outcomes", headers=officer))]
    assert outcomes == [
        "enforcement_measure",
        "reconsideration_applied",
        "reconsideration_decided",
        "lawsuit_filed",
        "lawsuit_judged",
    ]
    actions = [e["action"] for e in _events(flow)]
    assert actions.index("publication_withdrawn") == actions.index("reconsideration_decided") + 1
    verify = _ok(client.get(f"{base}/record/verify", headers=officer))
    assert verify["ok"], verify

    year = today_in_china().year
    stats = _ok(client.get(f"/statistics/annual?year={year}", headers=login(client, "approver")))
    rows = {r["key"]: r["value"] for r in stats["rows"]}
    assert rows["enforcement"] == rows["enforcement_execution"] == 1
    assert rows["enforcement_preservation"] == 0
    assert rows["reconsiderations"] == rows["reconsiderations_overturned"] == 1
    assert rows["lawsuits"] == 1 and rows["lawsuits_overturned"] == 0
    assert rows["publications_published"] == rows["publications_withdrawn"] == 1
    assert rows["licensing"] is None


def test_a_measure_is_published_as_its_own_record_and_withdrawn_when_revoked(flow: Flow) -> None:
    """税收保全措施 recorded: its 强制 record drafted at once (masked party, 文书 and 文号, measure,
    article, authority, date; 20 working days), published into the feed, counted by kind, and
    withdrawn when the 复议 against that measure revokes it; the decision's record is untouched."""
    client, officer = flow.client, login(flow.client, "officer")
    base = f"/cases/{flow.case_id}"
    measure = {
        "measure": "preservation",
        "method": "freeze_deposit",
        "document_number": "示税保〔2026〕3号",
        "note": "法定代表人张示例，电话13812345678",  # the officer's note is not published
    }
    taken = _ok(client.post(f"{base}/enforcement-measures", json=measure, headers=officer), 201)
    draft = taken["publication"]
    today = today_in_china()
    assert draft["status"] == "draft" and draft["kind"] == "强制"
    assert draft["record_type"] == "enforcement_measure" and draft["document_id"] is None
    assert draft["event_id"] == taken["event_id"]
    assert draft["fields"] == {
        "party": draft["fields"]["party"],
        "document_number": "税收保全措施决定书（示税保〔2026〕3号）",
        "measure": "税收保全措施",
        "method": draft["fields"]["method"],
        "basis": "《中华人民共和国税收征收管理法》第三十八条",
        "authority": flow.settings.authority_name,
        "decided_on": today.isoformat(),
    }
    assert draft["fields"]["party"].startswith("示例商贸有限公司（统一社会信用代码：")
    assert "冻结存款" in draft["fields"]["method"]
    assert draft["due_on"] == load_calendar().add_working_days(today, 20).due_on.isoformat()
    assert "13812345678" not in str(draft["fields"])
    alerts = _ok(client.get("/publications/alerts", headers=officer))
    assert [a["publication_id"] for a in alerts if a["event_id"] == taken["event_id"]] == [
        draft["id"]
    ]
    # every field comes from the signed record: nothing to correct by hand
    assert_error(
        client.patch(f"/publications/{draft['id']}", json={"facts": "x"}, headers=officer),
        422,
        "field_not_editable",
    )
    _ok(client.post(f"/publications/{draft['id']}/publish", headers=officer))
    feed = client.get("/public/publications").json()
    [item] = [i for i in feed["items"] if i["id"] == draft["id"]]
    assert item["record_type"] == "enforcement_measure" and item["fields"] == draft["fields"]
    page = client.get("/public").text
    assert "强制措施种类" in page and "税收保全措施决定书（示税保〔2026〕3号）" in page
    assert "强制措施种类：税收保全措施" in client.get("/public/publications.rss").text

    # a 复议 against the measure (not the decision) revokes it: only its record is withdrawn
    challenge = {"body": "国家税务总局示例市税务局", "measure_event_id": taken["event_id"]}
    created = _events(flow)[0]["id"]  # case_created: not a measure
    assert_error(
        client.post(
            f"{base}/remedies/reconsideration",
            json={**challenge, "measure_event_id": created},
            headers=officer,
        ),
        422,
        "invalid_challenged_measure",
    )
    _ok(client.post(f"{base}/remedies/reconsideration", json=challenge, headers=officer), 201)
    decided = _ok(
        client.post(
            f"{base}/remedies/reconsideration/result", json={"result": "撤销"}, headers=officer
        )
    )
    assert [w["id"] for w in decided["withdrawn"]] == [draft["id"]]
    assert decided["withdrawn"][0]["withdrawal_reason"] == "revoked"
    feed = client.get("/public/publications").json()
    assert draft["id"] not in {i["id"] for i in feed["items"]}
    [notice] = [w for w in feed["withdrawals"] if w["id"] == draft["id"]]
    assert notice["kind"] == "强制" and notice["reason"] == "原决定被依法撤销"
    verify = _ok(client.get(f"{base}/record/verify", headers=officer))
    assert verify["ok"], verify
    stats = _ok(
        client.get(f"/statistics/annual?year={today.year}", headers=login(client, "approver"))
    )
    rows = {r["key"]: r["value"] for r in stats["rows"]}
    assert rows["publications_published_enforcement"] == 1
    assert rows["publications_published_penalty"] == 1
    assert rows["publications_published_licensing"] is None
    assert rows["publications_withdrawn"] == 2


def test_the_archive_carries_the_publications_and_verification_catches_a_change(
    flow: Flow, tmp_path: Path
) -> None:
    client = flow.client
    archive = client.get(f"/archives/{DEMO_USCC}", headers=login(client, "admin"))
    assert archive.status_code == 200, archive.text
    target = make_settings(tmp_path / "target")
    services = build_services(target)
    services.db.migrate()
    result = import_archive(services, archive.content)
    assert result["ok"] and all(case["ok"] for case in result["cases"])
    with services.db.session() as session:
        rows = list(session.scalars(select(Publication).order_by(Publication.id)))
        assert [(r.case_id, r.kind, r.status, r.withdrawal_reason) for r in rows] == [
            (flow.case_id, "处罚", "withdrawn", "revoked"),
            (flow.case_id, "强制", "draft", None),  # the execution measure's, not published
            (flow.case_id, "强制", "withdrawn", "revoked"),  # the measure the 复议 revoked
        ]
        published_text = dict(rows[0].fields)
    services.db.engine.dispose()

    # the published text changed in the database afterwards: the record no longer vouches for it
    source = build_services(flow.settings)
    with source.db.session() as session:
        row = session.scalars(select(Publication).where(Publication.kind == "处罚")).one()
        assert row.fields == published_text
        row.fields = {**row.fields, "result": "罚款100.00元。"}
    source.db.engine.dispose()
    officer = login(client, "officer")
    verify = _ok(client.get(f"/cases/{flow.case_id}/record/verify", headers=officer))
    assert not verify["ok"]
    assert {p["kind"] for p in verify["problems"]} == {"publication_altered"}


def test_the_cli_records_a_measure_and_a_judgment_that_withdraws_its_draft(
    flow: Flow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`taxassist case measure` and `case remedy apply|result|list` call the same service: the
    measure's 强制 draft is made, and a judgment confirming the measure unlawful withdraws it."""
    from typer.testing import CliRunner

    from assistant.cli import app
    from assistant.errors import Conflict

    monkeypatch.setattr("assistant.cli_common.get_settings", lambda: flow.settings)
    runner, case = CliRunner(), str(flow.case_id)

    def cli(*args: str) -> Any:
        result = runner.invoke(app, ["case", *args, "--as", "officer", "--json"])
        assert result.exit_code == 0, (result.output, result.exception)
        return json.loads(result.output)

    taken = cli(
        "measure", case, "--measure", "execution", "--method", "auction_property",
        "--document-number", "示税执〔2026〕1号", "--amount", "5000",
    )  # fmt: skip
    assert taken["details"]["amount"] == "5000.00"
    assert taken["publication"]["kind"] == "强制" and taken["publication"]["status"] == "draft"
    assert (
        taken["publication"]["fields"]["document_number"]
        == "税收强制执行决定书（示税执〔2026〕1号）"
    )
    bad = runner.invoke(
        app, ["case", "measure", case, "--as", "officer", "--measure", "x", "--method", "y"]
    )
    assert isinstance(bad.exception, InvalidInput) and bad.exception.code == "invalid_measure"
    court = "示例市中级人民法院"
    event = str(taken["event_id"])
    cli("remedy", "apply", case, "litigation", "--body", court, "--measure-event-id", event)
    pending = runner.invoke(
        app, ["case", "remedy", "apply", case, "litigation", "--as", "officer", "--body", court]
    )
    assert isinstance(pending.exception, Conflict) and pending.exception.code == "remedy_pending"
    judged = cli("remedy", "result", case, "litigation", "--result", "确认违法")
    assert [w["id"] for w in judged["withdrawn"]] == [taken["publication"]["id"]]
    assert judged["withdrawn"][0]["withdrawal_reason"] == "confirmed_unlawful"
    listed = runner.invoke(app, ["case", "remedy", "list", case, "--json"])
    assert json.loads(listed.output)[-1]["action"] == "lawsuit_judged"

"""Every legal path through the lifecycle, and every forbidden step refused with its rule.

Real database, real discretion engine, real drafted documents and the real signed record: at
the end of each path the record of the case verifies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from assistant.cases import CaseWorkflow, NewCase, TaxpayerInput
from assistant.cases.lifecycle import RULES, CaseLifecycle
from assistant.dates import today_in_china
from assistant.db.models import User
from assistant.errors import Conflict, Forbidden, InvalidInput
from assistant.record.service import verify_record
from assistant.services import Services, build_services
from tests.api.apphelpers import prepare_data_dir
from tests.conftest import DEMO_USCC, make_settings

TODAY = today_in_china()


@dataclass
class World:
    services: Services
    workflow: CaseWorkflow
    lifecycle: CaseLifecycle
    users: dict[str, User]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path) -> Iterator[World]:
    settings = make_settings(tmp_path_factory.mktemp("lifecycle") / "data")
    prepare_data_dir(settings, shared_index_dir)
    services = build_services(settings)
    with services.db.session() as session:
        users = {u.username: u for u in session.scalars(select(User))}
    workflow = CaseWorkflow(services)
    yield World(services, workflow, CaseLifecycle(workflow), users)
    services.db.engine.dispose()


def open_case(world: World, **facts: Any) -> int:
    """Open, analyse and draft a case as the handling officer does before review."""
    officer = world.users["officer"]
    values: dict[str, Any] = {
        "violation": "late_filing",
        "days_overdue": 45,
        "tax_unpaid": Decimal("12000.00"),
        "corrected_in_time": True,
        "evidence": ("纳税申报记录", "责令限期改正通知书"),
        **facts,
    }
    case = world.workflow.create_case(
        officer,
        NewCase(
            taxpayer=TaxpayerInput(
                name="示例商贸有限公司", id_number=DEMO_USCC, kind="organisation"
            ),
            facts="经查，该公司存在违法事实。",
            violation_date=TODAY - timedelta(days=200),
            **values,
        ),
    )
    suggestion = world.workflow.suggest(officer, case.id)
    payload = suggestion.payload
    if payload["decision"] == "penalty" and not payload["criminal_referral"]:
        for doc_type in ("penalty_notice", "penalty_decision"):
            world.workflow.draft(officer, case.id, doc_type)
    return case.id


def review(world: World, case_id: int, *, passed: bool = True) -> str:
    return world.workflow.review(
        world.users["reviewer"], case_id, passed=passed, opinion="审核意见"
    ).status


def approve(world: World, case_id: int) -> str:
    return world.workflow.approve(world.users["approver"], case_id, opinion="同意").status


def refused(rule: str, call: Callable[[], object]) -> None:
    with pytest.raises(Conflict) as caught:
        call()
    assert caught.value.status_code == 409
    assert caught.value.details["rule"] == rule, caught.value.details
    assert caught.value.details["source"] == RULES[rule]


def actions(world: World, case_id: int) -> list[str]:
    return [e.action for e in world.workflow.events(case_id)]


def test_ordinary_penalty(world: World) -> None:
    case_id = open_case(world)
    lc, officer, approver = world.lifecycle, world.users["officer"], world.users["approver"]
    refused("lifecycle_order", lambda: lc.notify(officer, case_id))  # before review
    assert review(world, case_id) == "review_passed"
    refused("lifecycle_order", lambda: lc.decide(approver, case_id))  # before approval
    assert approve(world, case_id) == "approved"
    refused("notice_before_decision", lambda: lc.decide(approver, case_id))
    refused("act_date", lambda: lc.notify(officer, case_id, on=TODAY + timedelta(days=1)))
    assert lc.notify(officer, case_id, on=TODAY - timedelta(days=10)).status == "notified"
    with pytest.raises(Forbidden):
        lc.decide(officer, case_id)  # the handling officer never decides
    assert lc.decide(approver, case_id).status == "decided"
    refused("lifecycle_order", lambda: lc.execute(officer, case_id))  # before service
    assert lc.serve(officer, case_id).status == "served"
    refused("lifecycle_order", lambda: lc.close(officer, case_id))  # fine not yet executed
    assert lc.execute(officer, case_id).status == "executing"
    assert lc.close(officer, case_id).status == "closed"
    refused("lifecycle_order", lambda: lc.refer(officer, case_id))
    assert actions(world, case_id)[-7:] == [
        "legal_review",
        "approved",
        "notified",
        "decided",
        "served",
        "executed",
        "closed",
    ]
    assert verify_record(world.services, case_id).ok


def test_statement_period_must_end_before_the_decision(world: World) -> None:
    case_id = open_case(world)
    review(world, case_id)
    approve(world, case_id)
    world.lifecycle.notify(world.users["officer"], case_id, on=TODAY - timedelta(days=2))
    refused("statement_period", lambda: world.lifecycle.decide(world.users["approver"], case_id))


def test_no_penalty_under_first_violation(world: World) -> None:
    case_id = open_case(
        world, days_overdue=3, tax_unpaid=Decimal("0"), first_violation=True, harm="none"
    )
    lc, officer, approver = world.lifecycle, world.users["officer"], world.users["approver"]
    review(world, case_id)
    approve(world, case_id)
    refused("lifecycle_order", lambda: lc.notify(officer, case_id))  # nothing to notify
    decided = lc.decide(approver, case_id)
    assert decided.status == "decided"
    assert world.workflow.events(case_id)[-1].details["decision"] == "no_penalty"
    lc.serve(officer, case_id)
    refused("lifecycle_order", lambda: lc.execute(officer, case_id))
    closed = lc.close(officer, case_id)
    assert closed.status == "closed"
    assert verify_record(world.services, case_id).ok
    # issue 4: the closed case is now a similar case for later ones (index and search)
    knowledge = world.services.knowledge()
    assert f"taxassist:{closed.number}" in knowledge.case_index
    assert f"taxassist:{closed.number}" in {h.id for h in knowledge.search_cases(closed.facts, k=3)}


def test_hearing_requested_then_held_then_reviewed_again(world: World) -> None:
    case_id = open_case(world, violation="tax_evasion", tax_unpaid=Decimal("30000.00"))
    lc, officer, approver = world.lifecycle, world.users["officer"], world.users["approver"]
    review(world, case_id)
    approve(world, case_id)
    lc.notify(officer, case_id, on=TODAY - timedelta(days=9))
    assert lc.request_hearing(officer, case_id, on=TODAY - timedelta(days=6)).status == (
        "hearing_requested"
    )
    refused("lifecycle_order", lambda: lc.decide(approver, case_id))  # hearing pending
    assert lc.hold_hearing(officer, case_id, summary="当事人到场陈述").status == "heard"
    refused("lifecycle_order", lambda: lc.decide(approver, case_id))  # review again first
    assert review(world, case_id) == "review_passed"
    approve(world, case_id)
    decided = lc.decide(approver, case_id)
    assert decided.status == "decided"
    assert "hearing_held" in world.workflow.events(case_id)[-1].details["major"]
    assert verify_record(world.services, case_id).ok


def test_hearing_requested_too_late_is_refused(world: World) -> None:
    case_id = open_case(world, violation="tax_evasion", tax_unpaid=Decimal("30000.00"))
    review(world, case_id)
    approve(world, case_id)
    world.lifecycle.notify(world.users["officer"], case_id, on=TODAY - timedelta(days=6))
    refused(
        "hearing_request_period",
        lambda: world.lifecycle.request_hearing(world.users["officer"], case_id),
    )


def test_review_failed_then_passed_tracks_the_resubmission(world: World) -> None:
    case_id = open_case(world)
    lc, officer = world.lifecycle, world.users["officer"]
    assert review(world, case_id, passed=False) == "review_failed"
    with pytest.raises(Conflict) as caught:
        approve(world, case_id)
    assert caught.value.code == "review_not_passed"
    refused("lifecycle_order", lambda: lc.notify(officer, case_id))
    refused("lifecycle_order", lambda: review(world, case_id))  # not resubmitted yet
    resubmitted = lc.resubmit(officer, case_id, note="补充送达回证")
    assert resubmitted.status == "investigating"
    assert world.workflow.events(case_id)[-1].details["resubmission"] == 1
    assert review(world, case_id) == "review_passed"
    assert approve(world, case_id) == "approved"
    assert verify_record(world.services, case_id).ok


def test_referral_for_a_suspected_crime(world: World) -> None:
    case_id = open_case(world, violation="tax_evasion", tax_unpaid=Decimal("600000.00"))
    lc, officer, approver = world.lifecycle, world.users["officer"], world.users["approver"]
    review(world, case_id)
    approve(world, case_id)
    refused("criminal_referral", lambda: lc.decide(approver, case_id))
    assert lc.refer(officer, case_id).status == "referred"
    refused("lifecycle_order", lambda: lc.decide(approver, case_id))
    assert lc.close(officer, case_id).status == "closed"
    assert verify_record(world.services, case_id).ok


def test_referral_needs_a_criminal_threshold(world: World) -> None:
    case_id = open_case(world)
    refused("no_criminal_threshold", lambda: world.lifecycle.refer(world.users["officer"], case_id))


def test_no_major_decision_without_a_passed_review(world: World) -> None:
    """A complex (major) case that reached approval without review (e.g. migrated from an
    older system) still cannot be decided: the guard reads the record, not the status."""
    case_id = open_case(world, violation="tax_evasion", tax_unpaid=Decimal("90000.00"))
    with world.services.db.session() as session:
        session.execute(
            text("UPDATE cases SET status='approved', factors=:f WHERE id=:i"),
            {"i": case_id, "f": '["complex_case"]'},
        )
    # The status set outside the workflow shows in the record's verification ...
    kinds = {p.kind for p in verify_record(world.services, case_id).problems}
    assert kinds == {"status_not_in_record"}
    # ... and the guard, which reads the record, still refuses the decision.
    lc = world.lifecycle
    lc.notify(world.users["officer"], case_id, on=TODAY - timedelta(days=10))
    refused("legal_review_before_decision", lambda: lc.decide(world.users["approver"], case_id))


def test_lifecycle_over_http_refuses_with_409_and_the_rule(
    world: World, shared_index_dir: Path
) -> None:
    from tests.api.apphelpers import assert_error, login, running_app

    case_id = open_case(world)
    with running_app(world.services.settings) as client:
        officer = login(client, "officer")
        state = client.get(f"/cases/{case_id}/lifecycle", headers=officer).json()
        assert state["status"] == "investigating"
        assert {a["action"] for a in state["next"]} == {"review", "refer"}
        error = assert_error(
            client.post(f"/cases/{case_id}/lifecycle/notify", json={}, headers=officer),
            409,
            "rule_lifecycle_order",
        )
        assert error["details"]["rule"] == "lifecycle_order"
        assert error["details"]["source"]
        response = client.post(f"/cases/{case_id}/lifecycle/explode", json={}, headers=officer)
        assert response.status_code == 422


def test_an_officer_without_a_valid_credential_cannot_act(world: World) -> None:
    from assistant.auth import create_user
    from assistant.cases.credentials import add_credential, revoke_credential

    with world.services.db.session() as session:
        newcomer = create_user(
            session, username="newcomer", password="vanilla-kite-58-river", role="officer"
        )
        session.flush()
        session.expunge(newcomer)
    new_case = NewCase(
        taxpayer=TaxpayerInput(name="示例商贸有限公司", id_number=DEMO_USCC, kind="organisation"),
        violation="late_filing",
        facts="逾期申报。",
        violation_date=TODAY - timedelta(days=30),
    )

    def refused_for_credential() -> None:
        with pytest.raises(Forbidden) as caught:
            world.workflow.create_case(newcomer, new_case)
        assert caught.value.code == "no_valid_credential"
        assert "第四十二条" in caught.value.details["source"]

    refused_for_credential()  # none at all
    with world.services.db.session() as session:
        add_credential(
            session,
            "newcomer",
            number="T-EXPIRED",
            issued_on=TODAY - timedelta(days=800),
            valid_until=TODAY - timedelta(days=1),
        )
    refused_for_credential()  # expired yesterday
    with world.services.db.session() as session:
        add_credential(
            session,
            "newcomer",
            number="T-VALID",
            issued_on=TODAY - timedelta(days=10),
            valid_until=TODAY + timedelta(days=365),
        )
    case = world.workflow.create_case(newcomer, new_case)
    assert world.workflow.events(case.id)[0].details["credential"] == "T-VALID"
    with world.services.db.session() as session:
        revoke_credential(session, "T-VALID")
    refused_for_credential()  # revoked
    with world.services.db.session() as session:  # the reviewer's own credential is checked too
        session.execute(
            text("UPDATE officer_credentials SET revoked=1 WHERE number='DEMO-15010003'")
        )
    case_id = open_case(world)
    with pytest.raises(Forbidden):
        review(world, case_id)
    with world.services.db.session() as session:
        session.execute(
            text("UPDATE officer_credentials SET revoked=0 WHERE number='DEMO-15010003'")
        )
    assert review(world, case_id) == "review_passed"


MANUAL_OK = {
    code: {"ok": True, "opinion": "经审查无误"}
    for code in ("facts_clear", "evidence", "competence")
}


def test_legal_review_checklist(world: World) -> None:
    case_id = open_case(world)
    lc, reviewer = world.lifecycle, world.users["reviewer"]
    points = {p["code"]: p for p in lc.checklist(case_id)}
    assert len(points) == 10
    assert {c for c, p in points.items() if p["status"] == "manual"} == {
        "facts_clear",
        "evidence",
        "competence",
    }
    assert all(p["status"] == "pass" for c, p in points.items() if p["automatic"]), points
    assert "税收征收管理法:62" in points["legal_basis"]["basis"]
    # 同意 while manual points are unconfirmed: refused, naming the open points.
    with pytest.raises(Conflict) as caught:
        lc.legal_review(reviewer, case_id, result="同意", opinion="", findings={})
    assert caught.value.details["rule"] == "review_checklist"
    assert {p["code"] for p in caught.value.details["points"]} == set(MANUAL_OK)
    with pytest.raises(InvalidInput):
        lc.legal_review(reviewer, case_id, result="存在问题", opinion=" ", findings={})
    failed = lc.legal_review(
        reviewer,
        case_id,
        result="存在问题",
        opinion="证据不足，补充询问笔录",
        findings={**MANUAL_OK, "evidence": {"ok": False, "opinion": "缺询问笔录"}},
    )
    assert failed.status == "review_failed"
    lc.resubmit(world.users["officer"], case_id, note="已补充询问笔录")
    passed = lc.legal_review(reviewer, case_id, result="同意", opinion="同意", findings=MANUAL_OK)
    assert passed.status == "review_passed"
    review_event, opinion_event = world.workflow.events(case_id)[-2:]
    assert opinion_event.details["doc_type"] == "review_opinion"
    opinions = [d for d in world.workflow.documents(case_id) if d.doc_type == "review_opinion"]
    assert [d.version for d in opinions] == [1, 2]
    assert "法制审核意见书" in opinions[0].text and "存在问题" in opinions[0].text
    assert "缺询问笔录" in opinions[0].text and "审核结论：同意" in opinions[1].text
    assert opinion_event.details["sha256"] == opinions[1].sha256
    event = review_event
    assert event.details["checklist"]["round"] == 2
    assert all(p["status"] == "pass" for p in event.details["checklist"]["points"])
    assert verify_record(world.services, case_id).ok


def test_checklist_fails_procedure_on_an_altered_record(world: World) -> None:
    case_id = open_case(world)
    with world.services.db.session() as session:
        session.execute(
            text("UPDATE case_events SET actor_role='admin' WHERE case_id=:i AND seq=1"),
            {"i": case_id},
        )
    points = {p["code"]: p for p in world.lifecycle.checklist(case_id)}
    assert points["lawful_procedure"]["status"] == "fail"
    assert "第1号事件" in points["lawful_procedure"]["basis"]
    with pytest.raises(Conflict):
        world.lifecycle.legal_review(
            world.users["reviewer"], case_id, result="同意", opinion="", findings=MANUAL_OK
        )

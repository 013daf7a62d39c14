"""Every legal path through the lifecycle, and every forbidden step refused with its rule.

Real database, real discretion engine, real drafted documents and the real signed record: at
the end of each path the record of the case verifies.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from assistant.cases import CaseWorkflow, NewCase, TaxpayerInput
from assistant.cases.lifecycle import RULES, CaseLifecycle
from assistant.cases.revisions import DocumentRevisions
from assistant.dates import today_in_china
from assistant.db.models import Case, Job, User
from assistant.errors import Conflict, Forbidden, InvalidInput, TaxAssistError
from assistant.jobs import run_job
from assistant.jobs.store import INDEX_CLOSED_CASES
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
    from assistant.auth import create_user
    from assistant.cases.credentials import add_credential

    settings = make_settings(
        tmp_path_factory.mktemp("lifecycle") / "data", principal_usernames="chief"
    )
    prepare_data_dir(settings, shared_index_dir)
    services = build_services(settings)
    with services.db.session() as session:  # the bureau head (正职负责人)
        create_user(session, username="chief", password="vanilla-kite-58-river", role="approver")
        session.flush()
        add_credential(
            session,
            "chief",
            number="TEST-CHIEF-L",
            issued_on=date(2024, 1, 1),
            valid_until=date(2099, 12, 31),
        )
    with services.db.session() as session:
        users = {u.username: u for u in session.scalars(select(User))}
    workflow = CaseWorkflow(services)
    yield World(services, workflow, workflow.lifecycle, users)
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
    elif payload["decision"] == "no_penalty":
        world.workflow.draft(officer, case.id, "no_penalty_decision")
    return case.id


def review(world: World, case_id: int, *, passed: bool = True) -> str:
    return world.workflow.review(
        world.users["reviewer"], case_id, passed=passed, opinion="审核意见"
    ).status


def approve(world: World, case_id: int) -> str:
    return world.workflow.approve(world.users["approver"], case_id, opinion="同意").status


def refused(rule: str, call: Callable[[], object], status: int = 409) -> None:
    """Refused with the rule, its source from data, and the article in the message."""
    with pytest.raises(TaxAssistError) as caught:
        call()
    assert caught.value.status_code == status, caught.value.details
    assert caught.value.details["rule"] == rule, caught.value.details
    assert caught.value.details["source"] == RULES[rule]
    assert RULES[rule] in caught.value.message


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], date]:
    """Move the lifecycle's China date `days` after today (the record's timestamps stay real)."""

    def travel(days: int) -> date:
        day = TODAY + timedelta(days=days)
        monkeypatch.setattr("assistant.cases.lifecycle.today_in_china", lambda: day)
        return day

    return travel


def actions(world: World, case_id: int) -> list[str]:
    return [e.action for e in world.workflow.events(case_id)]


def test_ordinary_penalty(world: World, clock: Callable[[int], date]) -> None:
    case_id = open_case(world)
    lc, officer, approver = world.lifecycle, world.users["officer"], world.users["approver"]
    refused("lifecycle_order", lambda: lc.notify(officer, case_id))  # before review
    assert review(world, case_id) == "review_passed"
    refused("lifecycle_order", lambda: lc.decide(approver, case_id))  # before approval
    assert approve(world, case_id) == "approved"
    refused("notice_before_decision", lambda: lc.decide(approver, case_id))
    refused("act_date", lambda: lc.notify(officer, case_id, on=TODAY + timedelta(days=1)), 422)
    # backdating before the case was opened would erase the statement and hearing periods
    refused("act_date", lambda: lc.notify(officer, case_id, on=TODAY - timedelta(days=1)), 422)
    assert lc.notify(officer, case_id).status == "notified"
    clock(10)  # the statement period has run out
    with pytest.raises(Forbidden):
        lc.decide(officer, case_id)  # the handling officer never decides
    assert lc.decide(approver, case_id).status == "decided"
    refused("act_date", lambda: lc.serve(officer, case_id, on=TODAY + timedelta(days=9)), 422)
    refused("lifecycle_order", lambda: lc.execute(officer, case_id))  # before service
    refused("decision_issued_before_service", lambda: lc.serve(officer, case_id))
    decision = next(
        d for d in world.workflow.documents(case_id) if d.doc_type == "penalty_decision"
    )
    DocumentRevisions(world.services).issue(approver, decision.id)
    assert lc.serve(officer, case_id).status == "served"
    refused("lifecycle_order", lambda: lc.close(officer, case_id))  # fine not yet executed
    assert lc.execute(officer, case_id).status == "executing"
    assert lc.close(officer, case_id).status == "closed"
    refused("lifecycle_order", lambda: lc.refer(officer, case_id))
    assert actions(world, case_id)[-8:] == [
        "legal_review",
        "approved",
        "notified",
        "decided",
        "document_issued",
        "served",
        "executed",
        "closed",
    ]
    assert verify_record(world.services, case_id).ok


def test_statement_period_must_end_before_the_decision(
    world: World, clock: Callable[[int], date]
) -> None:
    case_id = open_case(world)
    lc, officer = world.lifecycle, world.users["officer"]
    review(world, case_id)
    approve(world, case_id)
    lc.notify(officer, case_id)
    clock(2)
    refused("statement_period", lambda: lc.decide(world.users["approver"], case_id))
    # 行政处罚法第六十二条: the party's express waiver lets the decision come at once
    with pytest.raises(InvalidInput):
        lc.record_statement(officer, case_id, statement="", waived=False)
    lc.record_statement(officer, case_id, waived=True)
    assert lc.decide(world.users["approver"], case_id).status == "decided"


def test_statement_is_heard_and_reviewed_and_never_makes_it_heavier(world: World) -> None:
    """行政处罚法第四十五条: the statement is recorded and 复核ed before the decision, and the
    decision may not exceed what the notice announced."""
    case_id = open_case(world, violation="tax_evasion", tax_unpaid=Decimal("30000.00"))
    lc, officer, approver = world.lifecycle, world.users["officer"], world.users["approver"]
    refused("lifecycle_order", lambda: lc.record_statement(officer, case_id, statement="无异议"))
    review(world, case_id)
    approve(world, case_id)
    refused("notice_before_decision", lambda: lc.record_statement(officer, case_id, statement="x"))
    lc.notify(officer, case_id)
    refused(
        "statement_review",
        lambda: lc.review_statement(officer, case_id, opinion="无", adopted=False),
    )
    lc.record_statement(officer, case_id, statement="逾期系财务人员离职所致，已补报补缴。")
    refused("statement_review", lambda: lc.decide(approver, case_id))
    reviewed = lc.review_statement(
        officer, case_id, opinion="所述理由不影响违法事实认定，不予采纳。", adopted=False
    )
    assert reviewed.status == "notified"  # recorded, the stage unchanged
    # 行政处罚法第六十四条第（一）项: the hearing offered may still be requested within 5 days
    refused("hearing_request_period", lambda: lc.decide(approver, case_id))
    lc.record_statement(officer, case_id, waives_hearing=True)
    # a new suggestion heavier than the notice: refused (第四十五条第二款)
    with world.services.db.session() as session:
        session.get(Case, case_id).tax_unpaid = Decimal("60000.00")  # type: ignore[union-attr]
    world.workflow.suggest(officer, case_id)
    refused("no_heavier_penalty", lambda: lc.decide(approver, case_id))
    with world.services.db.session() as session:
        session.get(Case, case_id).tax_unpaid = Decimal("30000.00")  # type: ignore[union-attr]
    world.workflow.suggest(officer, case_id)
    assert lc.decide(approver, case_id).status == "decided"
    kinds = [e.action for e in world.workflow.events(case_id)]
    assert "statement_recorded" in kinds and "statement_reviewed" in kinds


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
    # 送达 delivers the 决定书: refused until the leader has issued it (行政处罚法第六十一条)
    refused("decision_issued_before_service", lambda: lc.serve(officer, case_id))
    (decision,) = world.workflow.documents(case_id)
    DocumentRevisions(world.services).issue(approver, decision.id)
    served = lc.serve(officer, case_id)
    assert world.workflow.events(case_id)[-1].details["document_id"] == decision.id
    assert served.status == "served"
    refused("lifecycle_order", lambda: lc.execute(officer, case_id))
    closed = lc.close(officer, case_id)
    assert closed.status == "closed"
    assert verify_record(world.services, case_id).ok
    # closing queued the index job (no queue runs here: run it as a worker would); the closed
    # case is then a similar case for later ones (index and search)
    with world.services.db.session() as session:
        (job_id,) = session.scalars(
            select(Job.id).where(Job.case_id == case_id, Job.kind == INDEX_CLOSED_CASES)
        ).all()
    assert run_job(world.services, job_id) == "succeeded"
    knowledge = world.services.knowledge()
    assert f"taxassist:{closed.number}" in knowledge.case_index
    assert f"taxassist:{closed.number}" in {h.id for h in knowledge.search_cases(closed.facts, k=3)}


def test_hearing_requested_then_held_then_reviewed_again(
    world: World, clock: Callable[[int], date]
) -> None:
    case_id = open_case(world, violation="tax_evasion", tax_unpaid=Decimal("30000.00"))
    lc, officer, approver = world.lifecycle, world.users["officer"], world.users["approver"]
    reviewer = world.users["reviewer"]
    review(world, case_id)
    approve(world, case_id)
    lc.notify(officer, case_id)
    clock(3)
    assert lc.request_hearing(officer, case_id).status == "hearing_requested"
    refused("lifecycle_order", lambda: lc.decide(approver, case_id))  # hearing pending
    refused("lifecycle_order", lambda: lc.hold_hearing(officer, case_id, record="笔录"))
    hearing_on = TODAY + timedelta(days=10)

    def schedule(days_ahead: int, chair: str) -> object:
        return lc.schedule_hearing(
            approver,
            case_id,
            hearing_on=TODAY + timedelta(days=3 + days_ahead),
            chair=chair,
            place="第一听证室",
        )

    # 行政处罚法第六十四条第（二）项: seven days' notice; 第（四）项: not an investigator
    refused("hearing_notice_period", lambda: schedule(6, "reviewer"))
    refused("hearing_chair", lambda: schedule(7, "officer"))
    with pytest.raises(Forbidden):
        lc.schedule_hearing(
            officer, case_id, hearing_on=hearing_on, chair="reviewer", place="第一听证室"
        )
    assert schedule(7, "reviewer").status == "hearing_scheduled"
    clock(10)
    refused("hearing_chair", lambda: lc.hold_hearing(officer, case_id, record="笔录"))
    refused("hearing_record", lambda: lc.hold_hearing(reviewer, case_id, record=" "))
    heard = lc.hold_hearing(
        reviewer, case_id, record="听证笔录：调查人员陈述事实，当事人申辩质证。"
    )
    assert heard.status == "heard"
    refused("lifecycle_order", lambda: lc.decide(approver, case_id))  # review again first
    assert review(world, case_id) == "review_passed"
    approve(world, case_id)
    decided = lc.decide(approver, case_id)
    assert decided.status == "decided"
    assert "hearing_held" in world.workflow.events(case_id)[-1].details["major"]
    assert verify_record(world.services, case_id).ok


def test_hearing_requested_too_late_is_refused(world: World, clock: Callable[[int], date]) -> None:
    case_id = open_case(world, violation="tax_evasion", tax_unpaid=Decimal("30000.00"))
    review(world, case_id)
    approve(world, case_id)
    world.lifecycle.notify(world.users["officer"], case_id)
    clock(6)
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
    chief = world.users["chief"]
    review(world, case_id)
    approve(world, case_id)
    refused("criminal_referral", lambda: lc.decide(approver, case_id))
    assert lc.refer(officer, case_id, report="涉嫌逃税罪，移送公安机关").status == (
        "referral_proposed"
    )
    refused("lifecycle_order", lambda: lc.close(officer, case_id))  # not referred yet
    # 国务院令第310号 第五条: only the bureau head approves, not the officer or another leader
    for someone in (officer, approver):
        with pytest.raises(Forbidden) as caught:
            lc.decide_referral(someone, case_id, approve=True, reason="")
        assert caught.value.details["rule"] == "referral_approval"
    assert lc.decide_referral(chief, case_id, approve=True, reason="").status == "referred"
    refused("lifecycle_order", lambda: lc.decide(approver, case_id))
    assert lc.close(officer, case_id).status == "closed"
    assert verify_record(world.services, case_id).ok


def test_police_decline_returns_the_case_to_administrative_handling(
    world: World, clock: Callable[[int], date]
) -> None:
    case_id = open_case(world, violation="tax_evasion", tax_unpaid=Decimal("1200000.00"))
    lc, officer, approver = world.lifecycle, world.users["officer"], world.users["approver"]
    chief = world.users["chief"]
    lc.refer(officer, case_id)
    refused(
        "referral_approval", lambda: lc.decide_referral(chief, case_id, approve=False, reason="")
    )
    back = lc.decide_referral(chief, case_id, approve=False, reason="证据尚不足以证明涉嫌犯罪")
    assert back.status == "investigating"
    lc.refer(officer, case_id)
    lc.decide_referral(chief, case_id, approve=True, reason="")
    refused("referral_declined", lambda: lc.police_declined(officer, case_id, notice=""))
    back = lc.police_declined(
        officer, case_id, notice="某公安局不予立案通知书（某公（经）不立字〔2026〕1号）"
    )
    assert back.status == "investigating"
    with pytest.raises(Conflict) as caught:  # handled as a penalty case again: drafts first
        review(world, case_id)
    assert caught.value.code == "documents_required"
    for doc_type in ("penalty_notice", "penalty_decision"):
        world.workflow.draft(officer, case_id, doc_type)
    review(world, case_id)
    approve(world, case_id)
    lc.notify(officer, case_id)
    lc.record_statement(officer, case_id, waived=True, waives_hearing=True)
    # the police declined: the penalty is no longer a substitute for a referral
    refused("major_case_committee", lambda: lc.decide(approver, case_id))
    lc.committee_review(approver, case_id, opinion="同意按告知内容作出处罚决定")
    assert lc.decide(approver, case_id).status == "decided"
    assert verify_record(world.services, case_id).ok


def test_major_tax_case_goes_to_the_review_committee(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """重大税务案件审理办法: the provincial amount is configuration (sourced, marked verify)."""
    import dataclasses

    from assistant.cases.guard_rules import load_guard_rules

    rules = load_guard_rules()
    assert "verify" in rules.confidence["major_case_committee"]
    assert rules.committee_source
    provincial = dataclasses.replace(rules, committee_threshold=Decimal("10000.00"))
    monkeypatch.setattr("assistant.cases.lifecycle.load_guard_rules", lambda: provincial)
    case_id = open_case(world, violation="tax_evasion", tax_unpaid=Decimal("90000.00"))
    lc, officer, approver = world.lifecycle, world.users["officer"], world.users["approver"]
    review(world, case_id)
    approve(world, case_id)
    lc.committee_review(approver, case_id, opinion="同意")  # too early: before the notice
    lc.notify(officer, case_id)
    lc.record_statement(officer, case_id, waived=True, waives_hearing=True)
    refused("major_case_committee", lambda: lc.decide(approver, case_id))
    with pytest.raises(Forbidden):
        lc.committee_review(officer, case_id, opinion="同意")
    lc.committee_review(approver, case_id, opinion="经审理，同意按告知内容处罚")
    assert lc.decide(approver, case_id).status == "decided"
    monkeypatch.undo()
    assert load_guard_rules().committee_threshold == Decimal("500000.00")


def test_no_major_decision_without_a_passed_review(world: World) -> None:
    """A complex (major) case that reached approval without review (e.g. migrated from an
    older system) still cannot be decided: the guard reads the record, not the status."""
    case_id = open_case(world, violation="tax_evasion", tax_unpaid=Decimal("90000.00"))
    with world.services.db.session() as session:
        session.execute(
            text("UPDATE cases SET status='approved', factors=:f WHERE id=:i"),
            {"i": case_id, "f": '["complex_case"]'},
        )
    # The status and factors set outside the workflow show in the record's verification ...
    problems = verify_record(world.services, case_id).problems
    assert {(p.kind, p.ref) for p in problems} == {
        ("status_not_in_record", None),
        ("content_altered", "case.factors"),
    }
    # ... and the guard, which reads the record, still refuses the decision.
    lc = world.lifecycle
    lc.notify(world.users["officer"], case_id)
    lc.record_statement(world.users["officer"], case_id, waived=True, waives_hearing=True)
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
    from assistant.cases.credentials import add_credential, credentials_of, revoke_credential

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
    with world.services.db.session() as session:
        revoke_credential(session, "T-EXPIRED")  # on PostgreSQL its new row version is now last
        listed = [c["number"] for c in credentials_of(session, "newcomer")]
    assert listed == ["T-EXPIRED", "T-VALID"]  # in the order they were registered
    with world.services.db.session() as session:  # the reviewer's own credential is checked too
        session.execute(
            text("UPDATE officer_credentials SET revoked=true WHERE number='DEMO-15010003'")
        )
    case_id = open_case(world)
    with pytest.raises(Forbidden):
        review(world, case_id)
    with world.services.db.session() as session:
        session.execute(
            text("UPDATE officer_credentials SET revoked=false WHERE number='DEMO-15010003'")
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
    assert opinion_event.details["doc_type"] == "legal_review_opinion"
    opinions = [
        d for d in world.workflow.documents(case_id) if d.doc_type == "legal_review_opinion"
    ]
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


def test_racing_transitions_check_the_status_under_the_row_lock(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two 告知 of one case at once: the second sees the first's stage, never a stale one.

    Both requests are held just after their stage check until both got there (or 3 s passed):
    read without the row lock, both saw `approved` and both recorded a notice.
    """
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import assistant.cases.lifecycle as lifecycle

    case_id = open_case(world)
    review(world, case_id)
    approve(world, case_id)
    barrier = threading.Barrier(2, timeout=3)
    real = lifecycle.record_facts

    def held(session: Any, case_id: int) -> Any:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return real(session, case_id)

    monkeypatch.setattr(lifecycle, "record_facts", held)

    def notify(_: int) -> str:
        try:
            return world.lifecycle.notify(world.users["officer"], case_id).status
        except TaxAssistError as exc:
            return exc.code

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(notify, range(2)))

    assert outcomes == ["notified", "rule_lifecycle_order"]
    assert actions(world, case_id).count("notified") == 1
    assert verify_record(world.services, case_id).ok

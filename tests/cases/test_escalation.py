"""Disagreement with a failed legal review: handling unit → its leader → the principal.

Real database, real discretion engine and drafted documents, real signed record; each path
ends with a record that verifies, and every refusal names who or what forbids the step.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from assistant.auth import create_user
from assistant.cases import CaseWorkflow
from assistant.cases.credentials import add_credential
from assistant.cases.escalation import Escalation
from assistant.db.models import User
from assistant.errors import Conflict, Forbidden, InvalidInput
from assistant.record.service import verify_record
from assistant.services import build_services
from tests.api.apphelpers import assert_error, login, prepare_data_dir, running_app
from tests.cases.test_lifecycle import World, open_case, refused
from tests.conftest import make_settings
from tests.core.test_cli import run_cli


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, shared_index_dir: Path) -> Iterator[World]:
    settings = make_settings(
        tmp_path_factory.mktemp("escalation") / "data", principal_usernames="chief"
    )
    prepare_data_dir(settings, shared_index_dir)
    services = build_services(settings)
    with services.db.session() as session:
        create_user(session, username="chief", password="vanilla-kite-58-river", role="approver")
        session.flush()
        add_credential(
            session,
            "chief",
            number="TEST-CHIEF",
            issued_on=date(2024, 1, 1),
            valid_until=date(2099, 12, 31),
        )
    with services.db.session() as session:
        users = {u.username: u for u in session.scalars(select(User))}
    workflow = CaseWorkflow(services)
    yield World(services, workflow, workflow.lifecycle, users)
    services.db.engine.dispose()


def failed_case(world: World) -> int:
    case_id = open_case(world)
    world.workflow.review(world.users["reviewer"], case_id, passed=False, opinion="证据不足")
    return case_id


def test_leader_supports_then_principal_adopts_the_units_view(world: World) -> None:
    case_id = failed_case(world)
    esc, u = Escalation(world.lifecycle), world.users
    refused(
        "escalation_order",
        lambda: esc.decide(u["approver"], case_id, outcome="uphold", opinion="x"),
    )
    with pytest.raises(Forbidden):  # only the handling officer escalates
        esc.escalate(u["reviewer"], case_id, reason="不同意")
    with pytest.raises(InvalidInput):
        esc.escalate(u["officer"], case_id, reason=" ")
    assert esc.escalate(u["officer"], case_id, reason="证据已足，见询问笔录").status == "escalated"
    assert esc.state(case_id)["pending_level"] == "unit_leader"
    for party in ("officer", "reviewer"):
        with pytest.raises(Forbidden) as caught:
            esc.decide(u[party], case_id, outcome="uphold", opinion="维持")
        assert caught.value.code == "escalation_party_cannot_decide"
    # The leader cannot overrule the review; only the principal decides.
    refused(
        "escalation_order",
        lambda: esc.decide(u["approver"], case_id, outcome="overrule", opinion="采纳"),
    )
    with pytest.raises(Conflict):  # no approval while the disagreement is open
        world.workflow.approve(u["approver"], case_id)
    supported = esc.decide(u["approver"], case_id, outcome="support", opinion="同意承办机构意见")
    assert supported.status == "escalated"
    assert esc.state(case_id)["pending_level"] == "principal"
    with pytest.raises(Forbidden) as caught:
        esc.decide(u["approver"], case_id, outcome="overrule", opinion="采纳")
    assert caught.value.code == "not_principal"
    refused(
        "escalation_order", lambda: esc.decide(u["chief"], case_id, outcome="support", opinion="x")
    )
    decided = esc.decide(u["chief"], case_id, outcome="overrule", opinion="采纳承办机构意见")
    assert decided.status == "review_passed"
    assert world.workflow.approve(u["approver"], case_id).status == "approved"
    events = world.workflow.events(case_id)
    trail = [(e.action, e.state_after, e.details.get("level")) for e in events[-4:]]
    assert trail == [
        ("review_escalated", "escalated", "unit_leader"),
        ("escalation_decided", "escalated", "unit_leader"),
        ("escalation_decided", "review_passed", "principal"),
        ("approved", "approved", None),
    ]
    assert all(e.signature for e in events)
    assert verify_record(world.services, case_id).ok


def test_upheld_at_each_level_then_corrected(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    case_id = failed_case(world)
    esc, u, lc = Escalation(world.lifecycle), world.users, world.lifecycle
    esc.escalate(u["officer"], case_id, reason="不同意审核意见")
    assert (
        esc.decide(u["approver"], case_id, outcome="uphold", opinion="维持").status
        == "review_failed"
    )
    # Without a configured principal the unit cannot go further.
    monkeypatch.setattr(world.services.settings, "principal_usernames", "")
    refused("escalation_order", lambda: esc.escalate(u["officer"], case_id, reason="仍不同意"))
    monkeypatch.undo()
    assert esc.escalate(u["officer"], case_id, reason="仍不同意").status == "escalated"
    assert esc.state(case_id)["pending_level"] == "principal"
    with pytest.raises(Forbidden) as caught:  # the principal is not the leader who coordinated
        monkeypatch.setattr(world.services.settings, "principal_usernames", "approver,chief")
        esc.decide(u["approver"], case_id, outcome="uphold", opinion="维持")
    assert caught.value.code == "escalation_same_person"
    monkeypatch.undo()
    assert (
        esc.decide(u["chief"], case_id, outcome="uphold", opinion="维持").status == "review_failed"
    )
    refused("escalation_order", lambda: esc.escalate(u["officer"], case_id, reason="再次"))
    refused("lifecycle_order", lambda: lc.notify(u["officer"], case_id))
    assert lc.resubmit(u["officer"], case_id, note="按决定补正").status == "investigating"
    # A new review round starts a fresh disagreement history.
    world.workflow.review(u["reviewer"], case_id, passed=False, opinion="仍有问题")
    assert esc.state(case_id)["decided_levels"] == []
    assert verify_record(world.services, case_id).ok


def test_escalation_over_http(world: World) -> None:
    case_id = failed_case(world)
    with running_app(world.services.settings) as client:
        officer, approver = login(client, "officer"), login(client, "approver")
        url = f"/cases/{case_id}/escalation"
        assert_error(
            client.post(url, json={"reason": "不同意"}, headers=approver),
            403,
            "role_not_allowed",
        )
        response = client.post(url, json={"reason": "不同意审核意见"}, headers=officer)
        assert response.status_code == 200 and response.json()["status"] == "escalated"
        assert client.get(url, headers=officer).json()["pending_level"] == "unit_leader"
        decision = {"outcome": "overrule", "opinion": "采纳"}
        error = assert_error(
            client.post(f"{url}/decision", json=decision, headers=approver),
            409,
            "rule_escalation_order",
        )
        assert error["details"]["rule"] == "escalation_order"  # type: ignore[index]
        decision = {"outcome": "uphold", "opinion": "维持审核意见"}
        response = client.post(f"{url}/decision", json=decision, headers=approver)
        assert response.status_code == 200 and response.json()["status"] == "review_failed"
    data_dir = world.services.settings.data_dir
    shown = run_cli("escalation", "show", str(case_id), "--json", data_dir=data_dir)
    assert shown.returncode == 0, shown.stderr
    assert [s["action"] for s in json.loads(shown.stdout)["history"]] == [
        "review_escalated",
        "escalation_decided",
    ]
    again = run_cli(
        "escalation",
        "escalate",
        str(case_id),
        "--actor",
        "approver",
        "--reason",
        "x",
        data_dir=data_dir,
    )
    assert again.returncode == 1 and "role_not_allowed" in again.stderr


def test_review_and_its_opinion_document_are_one_transaction(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure while writing the 法制审核意见书 leaves no review event behind (all or nothing)."""
    from dataclasses import replace

    from assistant.documents.registry import REGISTRY

    case_id = open_case(world)
    before = [e.action for e in world.workflow.events(case_id)]

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full while writing the opinion")

    kind = REGISTRY["legal_review_opinion"]
    monkeypatch.setitem(REGISTRY, "legal_review_opinion", replace(kind, render=broken))
    with pytest.raises(OSError):
        world.lifecycle.legal_review(
            world.users["reviewer"], case_id, result="存在问题", opinion="证据不足", findings={}
        )
    assert world.workflow.get_case(case_id).status == "investigating"
    assert [e.action for e in world.workflow.events(case_id)] == before
    monkeypatch.undo()
    failed = world.lifecycle.legal_review(
        world.users["reviewer"], case_id, result="存在问题", opinion="证据不足", findings={}
    )
    assert failed.status == "review_failed"
    assert [e.action for e in world.workflow.events(case_id)][-2:] == [
        "legal_review",
        "document_drafted",
    ]
    assert verify_record(world.services, case_id).ok


def test_probing_escalation_says_who_may_act_now_and_writes_nothing(world: World) -> None:
    case_id = failed_case(world)
    esc, u = Escalation(world.lifecycle), world.users

    def allowed(user: str) -> dict[str, bool]:
        return {c.action: c.allowed for c in esc.check_actions(u[user], case_id)}

    before = esc.state(case_id)
    assert allowed("officer") == {"escalate": True, "decide_escalation": False}
    assert allowed("reviewer") == {"escalate": False, "decide_escalation": False}
    assert esc.state(case_id) == before  # probing wrote nothing
    esc.escalate(u["officer"], case_id, reason="证据已足")
    assert allowed("approver") == {"escalate": False, "decide_escalation": True}
    officer = {c.action: c for c in esc.check_actions(u["officer"], case_id)}
    assert officer["decide_escalation"].code == "escalation_party_cannot_decide"
    assert officer["decide_escalation"].source  # the rule's article, shown on the page
    assert esc.state(case_id)["pending_level"] == "unit_leader"

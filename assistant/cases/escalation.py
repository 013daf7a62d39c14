"""Disagreement with a legal review (法制审核意见分歧): handling unit → its leader → the principal.

When the review finds problems (存在问题) and the handling unit disagrees, the handling officer
may escalate with written reasons instead of correcting and resubmitting. The first level is
the unit's leader (承办机构负责人: a user with the `approver` role), who coordinates: they
either uphold the review (the case goes back to 存在问题 and must be corrected) or support the
unit, which refers the disagreement to the principal (主要负责人: the users named in the
bureau's `TAXASSIST_PRINCIPAL_USERNAMES`). The principal decides: uphold the review, or adopt
the unit's view, which counts as the review passing for the decision guards. Each step is a
signed event; the level reached is read from the record, never from a column. One failed
review can be escalated to each level once; after the principal's decision it is final.

Neither the handling officer nor the reviewer of the disputed round may decide a level, and
the principal must be a different person from the leader who coordinated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.auth.security import Role
from assistant.cases.access import load_case, require_handler
from assistant.cases.events import record_action
from assistant.cases.lifecycle import (
    ACTION_EVENTS,
    ACTION_NAMES,
    RULES,
    ActionCheck,
    CaseLifecycle,
    ProbePassed,
    enter,
    principals,
    refuse,
)
from assistant.db.models import Case, CaseEvent, User
from assistant.errors import Forbidden, InvalidInput, TaxAssistError

LEVELS = {"unit_leader": "承办机构负责人", "principal": "本机关主要负责人"}
# outcome -> (levels where it is allowed, Chinese name)
OUTCOMES = {
    "uphold": (frozenset(LEVELS), "维持法制审核意见"),
    "support": (frozenset({"unit_leader"}), "支持承办机构意见，报请主要负责人决定"),
    "overrule": (frozenset({"principal"}), "采纳承办机构意见"),
}


@dataclass
class EscalationState:
    """Where the disagreement over the latest failed review stands, from the signed record."""

    review_seq: int | None = None
    reviewer_id: int | None = None
    pending: str | None = None  # the level that must decide now
    done: list[str] = field(default_factory=list)  # levels that have decided
    deciders: dict[str, int] = field(default_factory=dict)  # level -> user id
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "review_seq": self.review_seq,
            "pending_level": self.pending,
            "pending_level_name": LEVELS.get(self.pending or ""),
            "decided_levels": self.done,
            "history": self.history,
        }


def escalation_state(session: Session, case_id: int) -> EscalationState:
    state = EscalationState()
    events = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
    )
    for event in events:
        if event.action == "legal_review":
            state = EscalationState(review_seq=event.seq, reviewer_id=event.actor_id)
        elif event.action == "review_escalated":
            state.pending = event.details.get("level")
            state.history.append(_step(event))
        elif event.action == "escalation_decided":
            level = str(event.details.get("level"))
            state.done.append(level)
            state.deciders[level] = event.actor_id
            state.pending = "principal" if event.details.get("outcome") == "support" else None
            state.history.append(_step(event))
    return state


class Escalation:
    """Escalate a disputed review and decide it, level by level (uses the lifecycle's path)."""

    def __init__(self, lifecycle: CaseLifecycle) -> None:
        self.lifecycle = lifecycle
        self.services = lifecycle.services

    def state(self, case_id: int) -> dict[str, Any]:
        with self.services.db.session() as session:
            case = load_case(session, case_id)
            return {"status": case.status, **escalation_state(session, case.id).to_dict()}

    def check_actions(self, actor: User, case_id: int) -> list[ActionCheck]:
        """Escalating and deciding, probed for `actor` as the lifecycle probes its acts: allowed
        now, or the refusal with its article, so the case page offers only what would pass."""
        probe = Escalation(CaseLifecycle(self.services, probe=True))
        attempts = {
            "escalate": lambda: probe.escalate(actor, case_id, reason="-"),
            # 维持 is open at every level: the probe asks whether this user decides the level now
            "decide_escalation": lambda: probe.decide(
                actor, case_id, outcome="uphold", opinion="-"
            ),
        }
        checks = []
        for action, attempt in attempts.items():
            try:
                attempt()
            except ProbePassed:
                checks.append(ActionCheck(action, ACTION_NAMES[action], True))
            except TaxAssistError as exc:
                source = str(exc.details.get("source", ""))
                checks.append(
                    ActionCheck(action, ACTION_NAMES[action], False, exc.code, exc.message, source)
                )
        return checks

    def escalate(self, actor: User, case_id: int, *, reason: str) -> Case:
        """The handling unit disagrees with 存在问题: to the unit's leader, then the principal."""
        if not reason.strip():
            raise InvalidInput("missing_escalation_reason", "提请协调须书面说明不同意见的理由。")
        with self.services.db.session() as session:
            case = self.lifecycle.load(session, case_id)
            require_handler(actor, case)
            if case.status != "review_failed":
                raise refuse(
                    "escalation_order",
                    "只有法制审核结论为“存在问题”且尚未补正的案件可以提请协调。",
                    status=case.status,
                )
            state = escalation_state(session, case.id)
            if "principal" in state.done:
                raise refuse(
                    "escalation_order",
                    "主要负责人已对该审核意见分歧作出决定，不能再次提请；请按决定补正。",
                )
            level = "principal" if "unit_leader" in state.done else "unit_leader"
            if level == "principal":
                self._require_principal_configured()
            details = {"level": level, "reason": reason, "review_seq": state.review_seq}
            return self._write(session, case, actor, "escalate", "escalated", details)

    def decide(self, actor: User, case_id: int, *, outcome: str, opinion: str) -> Case:
        """The pending level's decision; only its holder, never the officer or the reviewer."""
        if outcome not in OUTCOMES:
            raise InvalidInput(
                "invalid_escalation_outcome", "协调结论只能是 uphold、support 或 overrule。"
            )
        if not opinion.strip():
            raise InvalidInput("missing_escalation_opinion", "协调或决定须填写书面意见。")
        with self.services.db.session() as session:
            case = self.lifecycle.load(session, case_id)
            state = escalation_state(session, case.id)
            if case.status != "escalated" or state.pending is None:
                raise refuse(
                    "escalation_order", "案件没有待协调的审核意见分歧。", status=case.status
                )
            level = state.pending
            self._require_level(actor, case, state, level)
            allowed, name = OUTCOMES[outcome]
            if level not in allowed:
                raise refuse(
                    "escalation_order",
                    f"{LEVELS[level]}不能作出“{name}”的结论。",
                    level=level,
                    outcome=outcome,
                )
            if outcome == "support":
                self._require_principal_configured()
            target = {"uphold": "review_failed", "support": "escalated"}.get(
                outcome, "review_passed"
            )
            details = {
                "level": level,
                "outcome": outcome,
                "outcome_name": name,
                "opinion": opinion,
                "review_seq": state.review_seq,
            }
            return self._write(session, case, actor, "decide_escalation", target, details)

    # -- guards ------------------------------------------------------------------------------
    def _require_level(self, actor: User, case: Case, state: EscalationState, level: str) -> None:
        if actor.id == case.officer_id or actor.id == state.reviewer_id:
            raise Forbidden(
                "escalation_party_cannot_decide",
                "案件承办人或本轮法制审核人员不得协调或决定本案的审核意见分歧。",
                details={"rule": "escalation_separation", "source": RULES["escalation_separation"]},
            )
        if level == "unit_leader":
            if actor.role not in {Role.APPROVER, Role.ADMIN}:
                raise Forbidden(
                    "not_unit_leader",
                    "只有承办机构负责人（负责人角色）可以协调审核意见分歧。",
                    details={"rule": "escalation_level", "level": level},
                )
            return
        if actor.username not in principals(self.services.settings.principal_usernames):
            raise Forbidden(
                "not_principal",
                "只有本机关主要负责人可以对审核意见分歧作出决定。",
                details={"rule": "escalation_level", "level": level},
            )
        if state.deciders.get("unit_leader") == actor.id:
            raise Forbidden(
                "escalation_same_person",
                "已在上一级协调的负责人不能再以主要负责人身份决定。",
                details={"rule": "escalation_separation", "level": level},
            )

    def _require_principal_configured(self) -> None:
        if not principals(self.services.settings.principal_usernames):
            raise refuse(
                "escalation_order",
                "本局未配置主要负责人（TAXASSIST_PRINCIPAL_USERNAMES），不能报请主要负责人决定。",
            )

    def _write(
        self,
        session: Session,
        case: Case,
        actor: User,
        action: str,
        target: str,
        details: dict[str, Any],
    ) -> Case:
        if self.lifecycle.probe:
            raise ProbePassed(case.id)
        before, after = enter(case, action, target)
        event = ACTION_EVENTS[action]
        record_action(self.services, session, case, actor, event, before, after, details)
        session.flush()
        return load_case(session, case.id)


def _step(event: CaseEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "action": event.action,
        "actor_id": event.actor_id,
        "at": event.created_at.isoformat() if event.created_at else None,
        **{k: v for k, v in event.details.items() if k != "credential"},
    }

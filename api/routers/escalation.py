"""Disagreement with a legal review over HTTP: escalate, decide, and where it stands."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentUser, WorkflowDep
from api.fields import DbId, Paragraph
from api.schemas import CaseOut
from assistant.cases.escalation import Escalation

router = APIRouter(prefix="/cases", tags=["lifecycle"])


class EscalateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Paragraph = Field(max_length=5000)  # the unit's written reasons for disagreeing


class EscalationDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["uphold", "support", "overrule"]
    opinion: Paragraph = Field(max_length=5000)


@router.get("/{case_id}/escalation")
def escalation_state(case_id: DbId, user: CurrentUser, workflow: WorkflowDep) -> dict[str, Any]:
    return Escalation(workflow.lifecycle).state(case_id)


@router.post("/{case_id}/escalation", response_model=CaseOut)
def escalate(
    case_id: DbId, body: EscalateRequest, user: CurrentUser, workflow: WorkflowDep
) -> CaseOut:
    case = Escalation(workflow.lifecycle).escalate(user, case_id, reason=body.reason)
    return CaseOut.model_validate(case)


@router.post("/{case_id}/escalation/decision", response_model=CaseOut)
def decide(
    case_id: DbId, body: EscalationDecision, user: CurrentUser, workflow: WorkflowDep
) -> CaseOut:
    case = Escalation(workflow.lifecycle).decide(
        user, case_id, outcome=body.outcome, opinion=body.opinion
    )
    return CaseOut.model_validate(case)

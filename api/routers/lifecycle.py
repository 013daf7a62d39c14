"""Lifecycle actions after review and approval: 告知, 听证, 决定, 送达, 执行, 结案, 移送."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentUser, WorkflowDep
from api.fields import DbId, JsonObject, Paragraph
from api.schemas import CaseOut
from assistant.cases.lifecycle import ACTION_NAMES, STAGES, TRANSITIONS, CaseLifecycle

router = APIRouter(prefix="/cases", tags=["lifecycle"])

Action = Literal[
    "notify",
    "request_hearing",
    "hold_hearing",
    "decide",
    "serve",
    "execute",
    "close",
    "refer",
    "resubmit",
]


class LifecycleRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: date | None = None  # the date of the act (China date); default today
    summary: Paragraph = Field(default="", max_length=20000)  # hearing record (hold_hearing)
    note: Paragraph = Field(default="", max_length=5000)  # what was corrected (resubmit)


@router.get("/{case_id}/lifecycle")
def lifecycle_state(case_id: DbId, user: CurrentUser, workflow: WorkflowDep) -> dict[str, Any]:
    """The stage and the actions its position allows (guards are checked when acting)."""
    case = workflow.get_case(case_id)
    return {
        "status": case.status,
        "stage": STAGES.get(case.status, case.status),
        "next": [
            {"action": a, "name": ACTION_NAMES[a]}
            for a, (sources, _) in TRANSITIONS.items()
            if case.status in sources
        ],
    }


@router.post("/{case_id}/lifecycle/{action}", response_model=CaseOut)
def act(
    case_id: DbId,
    action: Action,
    body: LifecycleRequest,
    user: CurrentUser,
    workflow: WorkflowDep,
) -> CaseOut:
    lifecycle = CaseLifecycle(workflow)
    if action == "hold_hearing":
        case = lifecycle.hold_hearing(user, case_id, summary=body.summary, on=body.on)
    elif action == "resubmit":
        case = lifecycle.resubmit(user, case_id, note=body.note)
    else:
        case = getattr(lifecycle, action)(user, case_id, on=body.on)
    return CaseOut.model_validate(case)


class LegalReviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    result: Literal["同意", "存在问题"]
    opinion: Paragraph = Field(default="", max_length=5000)
    # point code -> {"ok": bool, "opinion": str}: the reviewer's findings on the checklist
    findings: dict[str, JsonObject] = {}


@router.get("/{case_id}/legal-review/checklist")
def review_checklist(
    case_id: DbId, user: CurrentUser, workflow: WorkflowDep
) -> list[dict[str, Any]]:
    return CaseLifecycle(workflow).checklist(case_id)


@router.post("/{case_id}/legal-review", response_model=CaseOut)
def legal_review(
    case_id: DbId, body: LegalReviewRequest, user: CurrentUser, workflow: WorkflowDep
) -> CaseOut:
    case = CaseLifecycle(workflow).legal_review(
        user, case_id, result=body.result, opinion=body.opinion, findings=body.findings
    )
    return CaseOut.model_validate(case)

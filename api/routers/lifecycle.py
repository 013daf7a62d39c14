"""Lifecycle actions after review and approval: 告知, 陈述申辩与复核, 听证, 重大案件审理, 决定,
送达, 执行, 结案, 移送 (approved by the bureau head; back to administrative handling when the
police decline)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal, get_args

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentUser, WorkflowDep
from api.fields import DbId, Flag, JsonObject, Line, Paragraph
from api.schemas import CaseOut
from assistant.cases.lifecycle import ACTION_NAMES, STAGES, TRANSITIONS, CaseLifecycle
from assistant.db import Case, User
from assistant.errors import InvalidInput

router = APIRouter(prefix="/cases", tags=["lifecycle"])

Action = Literal[
    "notify",
    "request_hearing",
    "schedule_hearing",
    "hold_hearing",
    "record_statement",
    "review_statement",
    "committee_review",
    "decide",
    "serve",
    "execute",
    "close",
    "refer",
    "approve_referral",
    "reject_referral",
    "police_declined",
    "resubmit",
]


class LifecycleRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: date | None = None  # the date of the act (China date); default today
    record: Paragraph = Field(default="", max_length=20000)  # 听证笔录 (hold_hearing)
    hearing_on: date | None = None  # the hearing date notified (schedule_hearing)
    chair: Line = Field(default="", max_length=150)  # designated hearing chair (schedule_hearing)
    place: Line = Field(default="", max_length=200)  # hearing place (schedule_hearing)
    statement: Paragraph = Field(default="", max_length=20000)  # 陈述申辩 (record_statement)
    waived: Flag = False  # the party expressly waived 陈述申辩 (record_statement)
    waives_hearing: Flag = False  # the party expressly waived the hearing (record_statement)
    opinion: Paragraph = Field(default="", max_length=20000)  # 复核意见, 审理意见
    adopted: Flag = False  # the party's facts/reasons held and were adopted (review_statement)
    reason: Paragraph = Field(default="", max_length=5000)  # approve_/reject_referral
    report: Paragraph = Field(default="", max_length=20000)  # 移送报告 (refer)
    notice: Paragraph = Field(default="", max_length=5000)  # 不予立案通知书 (police_declined)
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
    return CaseOut.model_validate(perform(workflow.lifecycle, user, case_id, action, body))


def perform(
    lifecycle: CaseLifecycle, user: User, case_id: int, action: str, body: LifecycleRequest
) -> Case:
    """One lifecycle action with the request's inputs: the API's route and the workbench's
    forms both act through here, so they take the same inputs the same way."""
    on = body.on
    if action == "schedule_hearing":
        if body.hearing_on is None:
            raise InvalidInput(
                "missing_hearing_date",
                "请填写听证日期（hearing_on）。",
                details={"field": "hearing_on"},
            )
        return lifecycle.schedule_hearing(
            user, case_id, hearing_on=body.hearing_on, chair=body.chair, place=body.place, on=on
        )
    if action == "hold_hearing":
        return lifecycle.hold_hearing(user, case_id, record=body.record, on=on)
    if action == "record_statement":
        return lifecycle.record_statement(
            user,
            case_id,
            statement=body.statement,
            waived=body.waived,
            waives_hearing=body.waives_hearing,
            on=on,
        )
    if action == "review_statement":
        return lifecycle.review_statement(
            user, case_id, opinion=body.opinion, adopted=body.adopted, on=on
        )
    if action == "committee_review":
        return lifecycle.committee_review(user, case_id, opinion=body.opinion, on=on)
    if action == "refer":
        return lifecycle.refer(user, case_id, report=body.report, on=on)
    if action in {"approve_referral", "reject_referral"}:
        approve = action == "approve_referral"
        return lifecycle.decide_referral(user, case_id, approve=approve, reason=body.reason, on=on)
    if action == "police_declined":
        return lifecycle.police_declined(user, case_id, notice=body.notice, on=on)
    if action == "resubmit":
        return lifecycle.resubmit(user, case_id, note=body.note)
    if action not in get_args(Action):
        raise InvalidInput("unknown_action", f"未知的程序操作：{action}")
    case: Case = getattr(lifecycle, action)(user, case_id, on=on)
    return case


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
    return workflow.lifecycle.checklist(case_id)


@router.post("/{case_id}/legal-review", response_model=CaseOut)
def legal_review(
    case_id: DbId, body: LegalReviewRequest, user: CurrentUser, workflow: WorkflowDep
) -> CaseOut:
    case = workflow.lifecycle.legal_review(
        user, case_id, result=body.result, opinion=body.opinion, findings=body.findings
    )
    return CaseOut.model_validate(case)

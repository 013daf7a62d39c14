from __future__ import annotations

from fastapi import APIRouter, Query, status

from api.deps import CurrentUser, WorkflowDep
from api.fields import DbId, Offset
from api.schemas import (
    ApproveRequest,
    CaseCreate,
    CaseOut,
    CaseUpdate,
    EventOut,
    ReviewRequest,
    StepResultOut,
)
from assistant.cases import NewCase, TaxpayerInput
from assistant.documents.registry import DocTypeCode
from assistant.errors import NotFound

router = APIRouter(prefix="/cases", tags=["cases"])


@router.post("", response_model=CaseOut, status_code=status.HTTP_201_CREATED)
def create_case(body: CaseCreate, user: CurrentUser, workflow: WorkflowDep) -> CaseOut:
    data = body.model_dump()
    taxpayer = TaxpayerInput(**data.pop("taxpayer"))
    data["factors"] = tuple(data["factors"])
    data["evidence"] = tuple(data["evidence"])
    case = workflow.create_case(user, NewCase(taxpayer=taxpayer, **data))
    return CaseOut.model_validate(case)


@router.get("", response_model=list[CaseOut])
def list_cases(
    user: CurrentUser,
    workflow: WorkflowDep,
    limit: int = Query(default=50, ge=1, le=500),
    offset: Offset = 0,
) -> list[CaseOut]:
    return [CaseOut.model_validate(c) for c in workflow.list_cases(limit=limit, offset=offset)]


@router.get("/{case_id}", response_model=CaseOut)
def get_case(case_id: DbId, user: CurrentUser, workflow: WorkflowDep) -> CaseOut:
    return CaseOut.model_validate(workflow.get_case(case_id, user))


@router.patch("/{case_id}", response_model=CaseOut)
def update_case(
    case_id: DbId, body: CaseUpdate, user: CurrentUser, workflow: WorkflowDep
) -> CaseOut:
    """Correct the case's facts (handling officer, before review or after it sent the case
    back); the same checks as at creation; the changes are a signed `case_updated` event."""
    return CaseOut.model_validate(workflow.update_case(user, case_id, body.changes()))


@router.post("/{case_id}/entities", response_model=StepResultOut, status_code=201)
def extract_entities(case_id: DbId, user: CurrentUser, workflow: WorkflowDep) -> StepResultOut:
    return StepResultOut.model_validate(workflow.extract_entities(user, case_id))


@router.post("/{case_id}/retrieval", response_model=StepResultOut, status_code=201)
def retrieve(
    case_id: DbId,
    user: CurrentUser,
    workflow: WorkflowDep,
    doc_type: DocTypeCode | None = Query(
        default=None,
        description="the decision being drafted (a document type code): statute push then "
        "recommends what that document must cite",
    ),
) -> StepResultOut:
    return StepResultOut.model_validate(workflow.retrieve(user, case_id, doc_type=doc_type))


@router.post("/{case_id}/discretion", response_model=StepResultOut, status_code=201)
def suggest(case_id: DbId, user: CurrentUser, workflow: WorkflowDep) -> StepResultOut:
    return StepResultOut.model_validate(workflow.suggest(user, case_id))


@router.get("/{case_id}/results/{step}", response_model=StepResultOut)
def latest_result(
    case_id: DbId, step: str, user: CurrentUser, workflow: WorkflowDep
) -> StepResultOut:
    result = workflow.latest_result(case_id, step)
    if result is None:
        raise NotFound("result_not_found", f"案件尚未完成“{step}”步骤。", details={"step": step})
    return StepResultOut.model_validate(result)


@router.post("/{case_id}/review", response_model=CaseOut)
def review(case_id: DbId, body: ReviewRequest, user: CurrentUser, workflow: WorkflowDep) -> CaseOut:
    case = workflow.review(user, case_id, passed=body.result == "同意", opinion=body.opinion)
    return CaseOut.model_validate(case)


@router.post("/{case_id}/approve", response_model=CaseOut)
def approve(
    case_id: DbId, body: ApproveRequest, user: CurrentUser, workflow: WorkflowDep
) -> CaseOut:
    return CaseOut.model_validate(workflow.approve(user, case_id, opinion=body.opinion))


@router.get("/{case_id}/events", response_model=list[EventOut])
def events(case_id: DbId, user: CurrentUser, workflow: WorkflowDep) -> list[EventOut]:
    return [EventOut.model_validate(e) for e in workflow.events(case_id)]

"""Document revisions: edit → new revision, list, diff, issue (then immutable)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from api.deps import CurrentUser, WorkflowDep
from api.fields import DbId, Line, Paragraph
from api.schemas import DocumentOut
from assistant.cases.revisions import DocumentRevisions
from assistant.limits import INDEX_MAX
from assistant.publicity.service import issue_decision

router = APIRouter(tags=["documents"])


class EditRequest(BaseModel):
    text: Paragraph = Field(
        min_length=1, max_length=200_000, description="the whole document, one paragraph per line"
    )
    note: Line = Field(default="", max_length=500)


class RevisionOut(BaseModel):
    revision: int
    sha256: str
    text: str
    note: str
    author_id: int
    created_at: datetime


class IssuedDocumentOut(DocumentOut):
    issued_at: datetime | None = None
    issued_by: int | None = None
    publication: dict[str, Any] | None = Field(
        default=None,
        description="the masked publication draft made with the issue (published decisions)",
    )


class DiffOut(BaseModel):
    from_revision: int
    to_revision: int
    diff: list[str]


@router.post(
    "/documents/{document_id}/revisions",
    response_model=IssuedDocumentOut,
    status_code=status.HTTP_201_CREATED,
)
def edit_document(
    document_id: DbId, body: EditRequest, user: CurrentUser, workflow: WorkflowDep
) -> IssuedDocumentOut:
    document = DocumentRevisions(workflow.services).edit(user, document_id, body.text, body.note)
    return IssuedDocumentOut.model_validate(document, from_attributes=True)


@router.get("/documents/{document_id}/revisions", response_model=list[RevisionOut])
def list_revisions(
    document_id: DbId, user: CurrentUser, workflow: WorkflowDep
) -> list[RevisionOut]:
    return [
        RevisionOut.model_validate(r, from_attributes=True)
        for r in DocumentRevisions(workflow.services).history(document_id)
    ]


@router.get("/documents/{document_id}/diff", response_model=DiffOut)
def diff_revisions(
    document_id: DbId,
    user: CurrentUser,
    workflow: WorkflowDep,
    from_revision: int = Query(1, alias="from", ge=1, le=INDEX_MAX),
    to_revision: int = Query(..., alias="to", ge=1, le=INDEX_MAX),
) -> DiffOut:
    lines = DocumentRevisions(workflow.services).diff(document_id, from_revision, to_revision)
    return DiffOut(from_revision=from_revision, to_revision=to_revision, diff=lines)


@router.post("/documents/{document_id}/issue", response_model=IssuedDocumentOut)
def issue_document(
    document_id: DbId, user: CurrentUser, workflow: WorkflowDep
) -> IssuedDocumentOut:
    """签发; a decision that is published gets its masked draft in the same transaction."""
    document, publication = issue_decision(workflow.services, user, document_id)
    out = IssuedDocumentOut.model_validate(document, from_attributes=True)
    out.publication = publication
    return out

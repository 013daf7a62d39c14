"""Facts read from a case's evidence: proposals with sources, the officer's confirmation, and
the evidence check before review. Proposals are computed on request and stored nowhere."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from api.deps import CurrentUser, WorkflowDep
from api.fields import DbId, Line, Paragraph
from api.schemas import CaseOut
from assistant.cases.facts import CaseFacts, Confirmation
from assistant.facts import SourceRef, SourceText
from assistant.limits import INDEX_MAX, INT64_MAX

router = APIRouter(prefix="/cases", tags=["facts"])

Id = Annotated[int, Field(ge=1, le=INT64_MAX)]
Index = Annotated[int, Field(ge=0, le=INDEX_MAX)]
Seconds = Annotated[float, Field(ge=0, le=1e6)]
Coordinate = Annotated[float, Field(ge=-1e6, le=1e6)]


class SpanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: Index
    end: Index


class SourceIn(BaseModel):
    """Where a value was read: as a proposal gave it (recording segment, statement, case
    facts) or a document line (document id, page, box) with its text."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["recording", "document", "statement", "case_facts"]
    text: Paragraph = Field(default="", max_length=20000)
    recording_id: Id | None = None
    segment_index: Index | None = None
    start: Seconds | None = None
    end: Seconds | None = None
    speaker: Line | None = Field(default=None, max_length=32)
    version: Index | None = None
    document_id: Id | None = None
    page: Index | None = None
    box: list[Coordinate] | None = Field(default=None, min_length=4, max_length=4)
    event_seq: Index | None = None
    span: SpanIn | None = None
    quote_start: Seconds | None = None
    quote_end: Seconds | None = None
    quote: Paragraph | None = Field(default=None, max_length=20000)  # echoed back; ignored
    cue: Line | None = Field(default=None, max_length=100)  # echoed back; ignored

    def ref(self) -> SourceRef:
        data = self.model_dump(exclude={"quote", "cue"})
        return SourceRef.from_dict(data)


class DocumentText(BaseModel):
    """A document's text the client holds (uploaded evidence files are read without this)."""

    model_config = ConfigDict(extra="forbid")
    text: Paragraph = Field(min_length=1, max_length=20000)
    document_id: Id | None = None
    page: Index | None = None
    box: list[Coordinate] | None = Field(default=None, min_length=4, max_length=4)


class ProposalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    documents: list[DocumentText] = Field(default_factory=list, max_length=50)


FactValue = StrictBool | StrictInt | Annotated[str, Field(max_length=64)]


class FactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field: Line = Field(max_length=64)
    value: FactValue
    sources: list[SourceIn] = Field(default_factory=list, max_length=20)
    proposed: FactValue | None = None  # the proposed value, when the officer corrected it


class ConfirmRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    facts: list[FactIn] = Field(min_length=1, max_length=20)


def _document_text(doc: DocumentText) -> SourceText:
    box = None if doc.box is None else (doc.box[0], doc.box[1], doc.box[2], doc.box[3])
    ref = SourceRef(
        kind="document", text=doc.text, document_id=doc.document_id, page=doc.page, box=box
    )
    return SourceText.of(ref)


@router.get("/{case_id}/facts/proposals")
def get_proposals(case_id: DbId, user: CurrentUser, workflow: WorkflowDep) -> dict[str, Any]:
    """Facts proposed from the case's transcripts, read evidence documents (document, page and
    box), statements and facts text, each with its source; and the party's points of dispute.
    Nothing is stored."""
    return CaseFacts(workflow).proposals(user, case_id)


@router.post("/{case_id}/facts/proposals", status_code=200)
def post_proposals(
    case_id: DbId, body: ProposalRequest, user: CurrentUser, workflow: WorkflowDep
) -> dict[str, Any]:
    """As GET, also reading the document texts given (page and box kept as their source)."""
    extra = [_document_text(d) for d in body.documents]
    return CaseFacts(workflow).proposals(user, case_id, extra)


@router.post("/{case_id}/facts/confirm", response_model=CaseOut)
def confirm(
    case_id: DbId, body: ConfirmRequest, user: CurrentUser, workflow: WorkflowDep
) -> CaseOut:
    """The officer's confirmed (or corrected) values enter the case as one signed
    `case_updated` event with their sources; 409 once the case has left investigation."""
    confirmations = [
        Confirmation(f.field, f.value, tuple(s.ref() for s in f.sources), f.proposed)
        for f in body.facts
    ]
    return CaseOut.model_validate(CaseFacts(workflow).confirm(user, case_id, confirmations))


@router.get("/{case_id}/evidence-check")
def evidence_check(case_id: DbId, user: CurrentUser, workflow: WorkflowDep) -> dict[str, Any]:
    """The facts and evidence the case's violation type needs before review, met or missing,
    each with its legal source; and the open points of dispute."""
    return CaseFacts(workflow).evidence_check(user, case_id)

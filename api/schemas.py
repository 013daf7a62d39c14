"""Pydantic request/response schemas; money travels as strings of yuan with 2 places."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.fields import Days, Flag, JsonObject, Line, Money, Occurrences, Paragraph
from assistant.documents.registry import DRAFTABLE, REGISTRY, RETIRED, DocTypeCode


class TokenRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime = Field(description="when the access token expires (minutes)")
    refresh_token: str = Field(description="one use: POST /auth/refresh returns a new pair")
    refresh_expires_at: datetime = Field(description="when this sign-in ends")
    role: str


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=256)


class UserCreate(BaseModel):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(
        min_length=1, max_length=256, description="password policy: see README (sign-in)"
    )
    role: Literal["officer", "reviewer", "approver", "admin"]
    display_name: Line | None = Field(default=None, max_length=64)


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    active: bool = Field(description="false: disable and end every sign-in of the user")


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str
    role: str
    active: bool


class TaxpayerIn(BaseModel):
    name: Line = Field(min_length=1, max_length=200)
    id_number: Line = Field(
        min_length=1, max_length=32, description="统一社会信用代码 or 身份证号码"
    )
    kind: Literal["organisation", "individual"]
    address: Line | None = Field(default=None, max_length=300)
    legal_representative: Line | None = Field(default=None, max_length=64)


class TaxpayerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    id_number: str = Field(validation_alias="uscc")
    kind: str
    address: str | None
    legal_representative: str | None


class CaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    taxpayer: TaxpayerIn
    violation: Line = Field(min_length=1, max_length=64, description="violation code (taxonomy)")
    facts: Paragraph = Field(min_length=1, max_length=20000)
    violation_date: date
    tax_unpaid: Money = Decimal("0")
    invoice_amount: Money = Decimal("0")
    illegal_gains: Money = Decimal("0")
    days_overdue: Days = 0
    occurrences: Occurrences = 1
    first_violation: Flag = False
    corrected_in_time: Flag = False
    harm: Literal["none", "minor", "serious"] = "minor"
    factors: list[Annotated[Line, Field(max_length=64)]] = Field(
        default_factory=list, max_length=20, description="factor codes (discretion catalogue)"
    )
    evidence: list[Annotated[Line, Field(max_length=500)]] = Field(
        default_factory=list, max_length=100
    )
    discovery_date: date | None = None
    invoice_tax_amount: Money = Decimal("0")
    tax_payable: Money | None = None
    party_role: Literal["taxpayer", "withholding_agent"] = "taxpayer"


class CaseUpdate(BaseModel):
    """The case facts to correct (PATCH): only the keys sent change; null is refused."""

    model_config = ConfigDict(extra="forbid")
    violation: Line | None = Field(default=None, min_length=1, max_length=64)
    facts: Paragraph | None = Field(default=None, min_length=1, max_length=20000)
    violation_date: date | None = None
    tax_unpaid: Money | None = None
    invoice_amount: Money | None = None
    illegal_gains: Money | None = None
    days_overdue: Days | None = None
    occurrences: Occurrences | None = None
    first_violation: Flag | None = None
    corrected_in_time: Flag | None = None
    harm: Literal["none", "minor", "serious"] | None = None
    factors: list[Annotated[Line, Field(max_length=64)]] | None = Field(default=None, max_length=20)
    evidence: list[Annotated[Line, Field(max_length=500)]] | None = Field(
        default=None, max_length=100
    )
    discovery_date: date | None = None
    invoice_tax_amount: Money | None = None
    tax_payable: Money | None = None
    party_role: Literal["taxpayer", "withholding_agent"] | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> CaseUpdate:
        nulls = sorted(k for k in self.model_fields_set if getattr(self, k) is None)
        if nulls:
            raise ValueError(f"字段不能为 null：{'、'.join(nulls)}")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields sent, as the workflow takes them (lists as tuples)."""
        data = self.model_dump(exclude_unset=True)
        return {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}


class CaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    status: str
    taxpayer: TaxpayerOut
    officer_id: int
    violation: str = Field(validation_alias="violation_code")
    facts: str
    violation_date: date
    tax_unpaid: Money
    invoice_amount: Money
    illegal_gains: Money
    days_overdue: int
    occurrences: int
    first_violation: bool
    corrected_in_time: bool
    harm: str
    factors: list[str]
    evidence: list[str]
    discovery_date: date | None = Field(validation_alias="discovered_date")
    invoice_tax_amount: Money
    tax_payable: Money | None
    party_role: str
    created_at: datetime
    updated_at: datetime


class SegmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    index: int
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    speaker: str | None


class RecordingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    case_id: int
    sha256: str
    original_filename: str
    content_type: str | None
    size_bytes: int
    duration_seconds: float
    processing_seconds: float
    real_time_factor: float = 0.0
    language: str | None
    model: dict[str, Any]
    created_at: datetime
    status: str = "transcribed"  # transcribing | transcribed | failed | cancelled
    segments: list[SegmentOut]


class JobOut(BaseModel):
    """Issue 3: an asynchronous job; `progress` is the share of the audio processed."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    case_id: int
    recording_id: int | None
    evidence_id: int | None = None
    status: str  # queued | running | succeeded | failed | cancelled
    progress: float
    processed_seconds: float
    duration_seconds: float
    resumed_from_seconds: float | None
    attempts: int
    cancel_requested: bool
    error_code: str | None
    error_message: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    links: dict[str, str] = Field(default_factory=dict)


class UploadAccepted(BaseModel):
    """202 for an upload: the stored recording and the job transcribing it, with their URLs."""

    recording: RecordingOut
    job: JobOut


class EvidenceLineOut(BaseModel):
    """One line of an evidence file: page (null for DOCX), box (four corners, top-left
    origin; PDF points or image pixels), confidence (OCR score; null for a text layer)."""

    page: int | None
    text: str
    box: list[list[float]] | None
    confidence: float | None
    source: str  # text_layer | ocr | docx


class EvidenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    case_id: int
    sha256: str
    original_filename: str
    title: str | None
    media_type: str
    kind: str  # pdf | docx | image
    size_bytes: int
    pages: int
    status: str  # reading | read | failed | cancelled
    method: str | None  # text_layer | ocr | mixed | docx
    reader: dict[str, Any]
    created_at: datetime
    lines: list[EvidenceLineOut] = Field(default_factory=list)


class EvidenceAccepted(BaseModel):
    """202 for an evidence upload: the stored file and the job reading it, with their URLs."""

    evidence: EvidenceOut
    job: JobOut


class EvidenceEventOut(BaseModel):
    """A signed event that records an evidence file or its reading."""

    seq: int | None
    action: str  # evidence_uploaded | evidence_read
    at: str
    actor: str | None
    hash: str | None
    key_id: str | None


class EvidenceListItem(BaseModel):
    number: int
    id: int
    name: str
    filename: str
    kind: str
    kind_zh: str
    media_type: str
    pages: int
    size_bytes: int
    sha256: str
    status: str
    method: str | None
    method_zh: str | None
    lines: int
    ocr_pages: list[int]
    mean_confidence: float | None
    submitted_by: str | None
    submitted_at: str
    provenance: list[EvidenceEventOut]
    links: dict[str, str]


class EvidenceListOut(BaseModel):
    """证据清单: the case's evidence in submission order with provenance."""

    case_id: int
    case_number: str
    count: int
    items: list[EvidenceListItem]


class StepResultOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    case_id: int
    step: str
    payload: dict[str, Any]
    created_by: int
    created_at: datetime


class DraftRequest(BaseModel):
    doc_type: DocTypeCode = Field(
        description="a document type of the registry (assistant.documents.registry): "
        + " | ".join(f"{code} ({REGISTRY[code].title})" for code in DRAFTABLE)
        + "; retired (409 retired_document_type, naming the replacement): "
        + ", ".join(f"{old} → {new}" for old, new in RETIRED.items()),
    )
    # what a type needs that the case record does not hold (validated per type)
    inputs: JsonObject | None = Field(
        default=None, description="per-type inputs, e.g. tax_due_date for tax_handling_decision"
    )


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    case_id: int
    doc_type: str
    number: str
    version: int
    sha256: str
    filename: str
    text: str
    provenance: dict[str, Any]
    created_by: int
    created_at: datetime


class ReviewRequest(BaseModel):
    result: Literal["同意", "存在问题"]
    opinion: Paragraph = Field(default="", max_length=5000)


class ApproveRequest(BaseModel):
    opinion: Paragraph = Field(default="", max_length=5000)


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    case_id: int
    actor_id: int
    actor_role: str
    action: str
    state_before: str | None
    state_after: str | None
    details: dict[str, Any]
    created_at: datetime


class SearchRequest(BaseModel):
    """Search body; filters other than the endpoint's own are refused with unknown_filter
    (extra keys are kept so the router can name them instead of a generic 422)."""

    model_config = ConfigDict(extra="allow")
    text: str = Field(max_length=1_000_000)
    k: int = 10
    on: date | None = Field(default=None, alias="date", description="version in force on")
    violation_type: str | None = None
    law: str | None = Field(default=None, description="statutes: one law (short name)")
    region: str | None = Field(
        default=None, description="cases: province (浙江: its cities too) or city (温州市)"
    )
    doc_type: str | None = Field(
        default=None, description="cases: bulletin | judgment | decision | taxassist"
    )
    facts: dict[str, Any] | None = Field(
        default=None,
        description="statutes: structured facts "
        "{act_date, found_date, taxes, role, document, deemed}",
    )
    kind: str | None = Field(
        default=None, description="statutes: administrative | criminal (default: read from text)"
    )

    def filters(self) -> dict[str, object]:
        """Every filter the body sets (extra keys always count, even when null)."""
        given: dict[str, object] = {
            "date": self.on,
            "violation_type": self.violation_type,
            "law": self.law,
            "region": self.region,
            "doc_type": self.doc_type,
            "facts": self.facts,
            "kind": self.kind,
        }
        out = {k: v for k, v in given.items() if v is not None}
        out.update({k: ("" if v is None else v) for k, v in (self.model_extra or {}).items()})
        return out

"""What a document type declares, and the one way a declared type is drafted.

Why: a type used to be spread over the workflow's if/elif, five tables, two enums, the API
schema and the CLI; now each type is one `DocumentKind` value in its own module and the
registry (`registry.py`) lists them, so everything else reads the type from there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.orm import Session

from assistant.config import Settings
from assistant.db.models import Case, User
from assistant.drafting.context import PenaltyContext
from assistant.drafting.documents import RenderedDocument
from assistant.drafting.guard import FactRecord, check_draft, require_clean
from assistant.errors import InvalidInput
from assistant.knowledge.statutes import StatuteBook

# Who drafts a type: the handling officer (承办) or the legal reviewer (法制审核, never the
# handler: 行政处罚法第五十八条).
Drafter = Literal["handler", "reviewer"]
C = TypeVar("C")


class DocumentInputs(BaseModel):
    """What the request supplies that the case record lacks; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


@dataclass(frozen=True)
class DraftRequest:
    """Everything a context builder may read: the record and the request's inputs.

    `base` is the case's common record (party, authority, periods, legal basis, discretion)
    as a PenaltyContext with the allocated 文号; builders add provenance to `provenance`.
    """

    session: Session
    case: Case
    actor: User
    suggestion: dict[str, Any]
    base: PenaltyContext
    inputs: DocumentInputs | None
    statutes: StatuteBook
    settings: Settings
    provenance: dict[str, list[str]] = field(default_factory=dict)
    # Re-checking a stored document (an edit, the issue): its stored provenance. Builders then
    # rebuild what the draft rested on without calling a model again.
    stored: dict[str, Any] | None = None


@dataclass(frozen=True)
class Publicity:
    """How an issued decision of this type is published (行政执法公示).

    `kind`: the enforcement category the public record and the statistics name (处罚, 不予处罚,
    强制, 许可, 征收 …). `period`: which publication period applies — `decision` for 行政处罚 and
    行政许可 (7 working days), `other` for other enforcement decisions (20 working days;
    国办发〔2018〕118号); the day counts are settings. `optional`: published only where the
    bureau publishes that kind (setting `publication_optional_kinds`), e.g. 不予处罚.
    """

    kind: str
    period: Literal["decision", "other"]
    optional: bool = False


@dataclass(frozen=True)
class DocumentKind(Generic[C]):
    """One document type.

    `number_kind` is the 文号 kind (罚告 → 示税稽罚告〔2026〕1号); `context` builds the
    renderer's context from the record and inputs, `render` writes the .docx, and `record` is
    the fact record the fact guard checks the draft against: every fact printed must be in it.
    `decision`: the type is a case's 决定书, which 送达 delivers and which is issued first.
    `via_api`: drafted through `POST /cases/{id}/documents`; False for a type another step
    produces.
    `notice_of`: the code of the draft this notice precedes (罚告 before 罚: 行政处罚法第四十四条);
    告知 serves it, and a new notice reopens the party's 陈述申辩 and hearing rights.
    `publicity`: set on an issued decision that is published; None: never published.
    `statute_document`: which decision the type is for statute push (knowledge.facts.DOCUMENTS):
    a 处罚决定 cites the penalty provision and the 行政处罚法's procedure, a 处理决定 the 征管法's
    articles on the tax and its 滞纳金; None for a type that is neither.
    """

    code: str
    title: str
    number_kind: str
    inputs: type[DocumentInputs] | None
    needs_discretion: bool
    drafter: Drafter
    context: Callable[[DraftRequest], C]
    render: Callable[[C], RenderedDocument]
    record: Callable[[DraftRequest, C], FactRecord]
    decision: bool = False
    via_api: bool = True
    notice_of: str | None = None
    publicity: Publicity | None = None
    statute_document: str | None = None

    def parse_inputs(self, inputs: dict[str, Any] | None) -> DocumentInputs | None:
        """Validate the request's inputs: 422 `missing_document_data` naming the fields."""
        if self.inputs is None:
            if inputs:
                raise InvalidInput(
                    "unexpected_document_inputs",
                    "该文书类型的内容全部取自案件记录，不接受额外输入。",
                    details={"doc_type": self.code, "fields": sorted(inputs)},
                )
            return None
        try:
            return self.inputs.model_validate(inputs or {})
        except ValidationError as exc:
            raise _input_error(self.code, exc) from exc

    def fact_record(self, request: DraftRequest) -> FactRecord:
        """The record a draft of this type is checked against (again at edit and issue)."""
        return self.record(request, self.context(request))

    def draft(self, request: DraftRequest) -> tuple[RenderedDocument, dict[str, list[str]]]:
        """Build, render and fact-check; the draft and the provenance to store with it."""
        context = self.context(request)
        rendered = self.render(context)
        require_clean(check_draft(rendered.text, self.record(request, context), request.statutes))
        provenance = {k: list(v) for k, v in request.base.provenance.items()}
        if request.inputs is not None:
            provenance["inputs"] = [request.inputs.model_dump_json()]
        provenance.update(request.provenance)
        provenance.update({k: list(v) for k, v in rendered.provenance.items()})
        return rendered, provenance


def _input_error(doc_type: str, exc: ValidationError) -> InvalidInput:
    missing = [".".join(str(p) for p in e["loc"]) for e in exc.errors() if e["type"] == "missing"]
    invalid = [
        {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
        for e in exc.errors()
        if e["type"] != "missing"
    ]
    if missing:
        return InvalidInput(
            "missing_document_data",
            "起草该文书还缺少以下信息：" + "、".join(missing) + "（请在 inputs 中提供）。",
            details={"doc_type": doc_type, "fields": missing, "invalid": invalid},
        )
    return InvalidInput(
        "invalid_document_data",
        "文书输入信息不合法：" + "、".join(i["field"] for i in invalid) + "。",
        details={"doc_type": doc_type, "invalid": invalid},
    )

"""The registry of document types: adding a type is its module in `types/` and one line here.

Everything that needs to know the types reads them from here: the workflow (who drafts, 文号
kind, discretion needed, how to build, render and fact-check), the API's `doc_type` (a
`Literal` of the codes, so OpenAPI lists them), the CLI's `--type` choices, the separation of
duties (the reviewer's types) and the lifecycle (which types are the case's 决定书).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from assistant.documents.kind import DocumentKind
from assistant.documents.types import (
    correction_notice,
    interview_record,
    legal_review_opinion,
    no_penalty,
    penalty,
    review_opinion,
    simple_penalty,
    tax_handling,
)
from assistant.errors import InvalidInput

REGISTRY: dict[str, DocumentKind[Any]] = {
    kind.code: kind
    for kind in (
        penalty.NOTICE,
        penalty.DECISION,
        no_penalty.KIND,
        simple_penalty.KIND,
        tax_handling.KIND,
        correction_notice.KIND,
        interview_record.KIND,
        legal_review_opinion.KIND,
        review_opinion.KIND,
    )
}

# The types `POST /cases/{id}/documents` and `taxassist case draft` accept.
DRAFTABLE: tuple[str, ...] = tuple(code for code, kind in REGISTRY.items() if kind.via_api)
if TYPE_CHECKING:
    DocTypeCode = str
else:
    DocTypeCode = Literal[DRAFTABLE]
# The reviewer's own documents: not what a review or approval passes on.
REVIEWER_TYPES = frozenset(code for code, kind in REGISTRY.items() if kind.drafter == "reviewer")
# The case's 决定书: issued before 送达 delivers it.
DECISION_TYPES = frozenset(code for code, kind in REGISTRY.items() if kind.decision)


def document_kind(code: str, *, via_api: bool = False) -> DocumentKind[Any]:
    """The type of that code; 422 `unknown_document_type` listing the codes otherwise."""
    kind = REGISTRY.get(code)
    if kind is None or (via_api and not kind.via_api):
        raise InvalidInput(
            "unknown_document_type",
            f"不支持的文书类型：{code}",
            details={"doc_type": code, "allowed": sorted(DRAFTABLE)},
        )
    return kind

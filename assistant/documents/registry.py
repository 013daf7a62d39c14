"""The registry of document types: adding a type is its module in `types/` and one line here.

Everything that needs to know the types reads them from here: the workflow (who drafts, 文号
kind, discretion needed, how to build, render and fact-check), the API's `doc_type` (a
`Literal` of the codes, so OpenAPI lists them), the CLI's `--type` choices, the separation of
duties (the reviewer's types) and the lifecycle (which types are the case's 决定书).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from assistant.documents.kind import DocumentKind, Publicity
from assistant.documents.types import (
    correction_notice,
    interview_record,
    legal_review_opinion,
    no_penalty,
    penalty,
    simple_penalty,
    tax_handling,
)
from assistant.errors import Conflict, InvalidInput
from assistant.knowledge.facts import DOCUMENTS as FACT_DOCUMENTS

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
    )
}
# Retired codes and the type that replaced each: documents stored under them keep their type
# (listed, downloaded, counted as their replacement's kind), but drafting, editing or issuing
# one answers 409 `retired_document_type` naming the replacement, so an old client or script
# learns what to send instead of a bare "unknown type".
RETIRED: dict[str, str] = {"review_opinion": "legal_review_opinion"}

# The types `POST /cases/{id}/documents` and `taxassist case draft` accept.
DRAFTABLE: tuple[str, ...] = tuple(code for code, kind in REGISTRY.items() if kind.via_api)
# What the API's `doc_type` and the CLI's `--type` parse: the retired codes too, so that they
# reach `document_kind` and its 409 rather than a schema 422 that cannot name the replacement.
ACCEPTED: tuple[str, ...] = (*DRAFTABLE, *RETIRED)
if TYPE_CHECKING:
    DocTypeCode = str
else:
    DocTypeCode = Literal[ACCEPTED]


def _codes_where(test: Callable[[DocumentKind[Any]], bool]) -> frozenset[str]:
    """The codes whose type passes `test`, with the retired codes of such a type."""
    live = {code for code, kind in REGISTRY.items() if test(kind)}
    return frozenset(live | {old for old, new in RETIRED.items() if new in live})


# The reviewer's own documents: not what a review or approval passes on.
REVIEWER_TYPES = _codes_where(lambda kind: kind.drafter == "reviewer")
# The case's 决定书: issued before 送达 delivers it.
DECISION_TYPES = _codes_where(lambda kind: kind.decision)
# Issued decisions that are published (行政执法公示): type code -> how.
PUBLISHED_TYPES: dict[str, Publicity] = {
    code: kind.publicity for code, kind in REGISTRY.items() if kind.publicity is not None
}
# notice type -> the draft it precedes (税务行政处罚事项告知书 before the 决定书): 告知 serves the
# notice of the draft the case is heading to.
NOTICES: dict[str, str] = {
    code: kind.notice_of for code, kind in REGISTRY.items() if kind.notice_of is not None
}
# type code -> the decision kind statute push is told (knowledge.facts.DOCUMENTS): drafting a
# 决定书 (or its 告知书) fixes which procedural and penalty articles the document must cite.
STATUTE_DOCUMENTS: dict[str, str] = {
    code: kind.statute_document
    for code, kind in REGISTRY.items()
    if kind.statute_document is not None
}
if not set(STATUTE_DOCUMENTS.values()) <= set(FACT_DOCUMENTS):  # pragma: no cover - a typo
    raise ValueError(f"statute_document outside {FACT_DOCUMENTS}: {STATUTE_DOCUMENTS}")


def document_kind(code: str, *, via_api: bool = False) -> DocumentKind[Any]:
    """The type of that code; 409 `retired_document_type` naming the replacement for a retired
    code, 422 `unknown_document_type` listing the codes otherwise."""
    replacement = RETIRED.get(code)
    if replacement is not None:
        raise Conflict(
            "retired_document_type",
            f"文书类型 {code} 已停用，请改用 {replacement}（{REGISTRY[replacement].title}）。",
            details={"doc_type": code, "replacement": replacement},
        )
    kind = REGISTRY.get(code)
    if kind is None or (via_api and not kind.via_api):
        raise InvalidInput(
            "unknown_document_type",
            f"不支持的文书类型：{code}",
            details={"doc_type": code, "allowed": sorted(DRAFTABLE)},
        )
    return kind

"""The workbench's documents: draft any registered type, preview, edit, download, compare.

Every action goes through what the API calls: drafting through `CaseWorkflow.draft` with the
request validated by the API's `DraftRequest` (the types come from the document registry),
editing through `DocumentRevisions.edit` with the API's `EditRequest`; a refusal re-renders the
form with what was typed and the API's message beside the field, and a fact-guard refusal marks
each finding at the offending text. The preview is the API's HTML rendition, shown in a frame
under its own policy (its inline styles are the rendition's; the page's own policy forbids
them); downloads are the stored .docx and its PDF.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep, WorkflowDep
from api.fields import DbId
from api.routers.document_revisions import EditRequest
from api.schemas import DraftRequest
from api.web.pages import field_problem
from api.web.render import error_page, render, templates
from api.web.session import CsrfChecked, WebUser
from assistant.auth.security import Role
from assistant.cases import CaseWorkflow
from assistant.cases.revisions import DocumentRevisions
from assistant.db import Document, User
from assistant.db.files import stored_path
from assistant.documents.registry import DRAFTABLE, REGISTRY
from assistant.errors import InvalidInput, TaxAssistError

router = APIRouter(include_in_schema=False)

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# The preview frame: the rendition's inline styles, nothing else; framed by this app only.
PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'; base-uri 'none'; "
    "form-action 'none'"
)


# -- drafting --------------------------------------------------------------------------------
def draft_types() -> list[tuple[str, str]]:
    """The types a case page may draft: the registry's, in its order."""
    return [(code, REGISTRY[code].title) for code in DRAFTABLE]


# the case page's "起草文书" list, the one way to draft from it (context built in pages.py)
templates.env.globals.update(draft_any_types=draft_types())


def inputs_skeleton(code: str) -> str:
    """The fields a type asks of the request (required ones), as a JSON object to fill in."""
    kind = REGISTRY.get(code)
    if kind is None or kind.inputs is None:
        return ""
    schema = kind.inputs.model_json_schema()
    required = schema.get("required", [])
    skeleton: dict[str, Any] = {}
    for name in required:
        prop = schema.get("properties", {}).get(name, {})
        skeleton[name] = [] if prop.get("type") == "array" else ""
    return json.dumps(skeleton, ensure_ascii=False, indent=1)


def input_fields(code: str) -> list[tuple[str, bool, str]]:
    """(field, required, description) of a type's inputs, for the hint beside the form."""
    kind = REGISTRY.get(code)
    if kind is None or kind.inputs is None:
        return []
    out = []
    for name, info in kind.inputs.model_fields.items():
        out.append((name, info.is_required(), info.description or ""))
    return out


def draft_page(
    request: Request,
    workflow: CaseWorkflow,
    user: User,
    case_id: int,
    values: dict[str, str],
    errors: dict[str, str],
    error: TaxAssistError | None = None,
    status_code: int = 200,
) -> Response:
    try:
        case = workflow.get_case(case_id, user)
    except TaxAssistError as exc:
        return error_page(request, user, exc)
    code = values.get("doc_type", "")
    return render(
        request,
        "document_draft.html",
        {
            "user": user,
            "case": case,
            "values": values,
            "errors": errors,
            "error": error,
            "types": draft_types(),
            "fields": input_fields(code),
            "skeleton": inputs_skeleton(code),
            "type_title": REGISTRY[code].title if code in REGISTRY else "",
        },
        status_code=status_code,
    )


@router.get("/workbench/cases/{case_id}/drafts/new")
def new_draft(
    case_id: DbId,
    request: Request,
    user: WebUser,
    workflow: WorkflowDep,
    doc_type: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The draft form for one type: what it asks beyond the case record, pre-filled to edit."""
    values = {"doc_type": doc_type, "inputs": inputs_skeleton(doc_type)}
    errors: dict[str, str] = {}
    if doc_type and doc_type not in DRAFTABLE:
        problem = field_problem({"type": "literal_error"})
        errors["doc_type"] = f"请求内容不符合要求：doc_type（{problem}）。"
    return draft_page(
        request, workflow, user, case_id, values, errors, status_code=422 if errors else 200
    )


def parse_inputs(text: str) -> dict[str, Any] | None:
    """The inputs textarea as the API's `inputs` object (empty: none)."""
    if not text.strip():
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            "invalid_json",
            f"补充信息不是有效的 JSON（第{exc.lineno}行第{exc.colno}列）。",
            details={"field": "inputs"},
        ) from None
    if not isinstance(value, dict):
        raise InvalidInput(
            "invalid_json", "补充信息应为 JSON 对象（{…}）。", details={"field": "inputs"}
        )
    return value


@router.post("/workbench/cases/{case_id}/drafts")
def create_draft(
    case_id: DbId,
    request: Request,
    user: WebUser,
    workflow: WorkflowDep,
    _csrf: CsrfChecked,
    doc_type: Annotated[str, Form(max_length=64)] = "",
    inputs: Annotated[str, Form(max_length=200_000)] = "",
) -> Response:
    """Draft a document of any registered type; refused: the form again, as typed."""
    values = {"doc_type": doc_type, "inputs": inputs}
    try:
        body = DraftRequest.model_validate({"doc_type": doc_type, "inputs": parse_inputs(inputs)})
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for problem in exc.errors():
            field = str(problem.get("loc", ("doc_type",))[0])
            errors.setdefault(field, f"请求内容不符合要求：{field}（{field_problem(problem)}）。")
        return draft_page(request, workflow, user, case_id, values, errors, status_code=422)
    except TaxAssistError as exc:
        return draft_page(
            request, workflow, user, case_id, values, {"inputs": exc.message}, exc, exc.status_code
        )
    try:
        document = workflow.draft(user, case_id, body.doc_type, body.inputs)
    except TaxAssistError as exc:
        # a 422 is about what the request supplied (the record itself was validated when it
        # was stored); a 403 or 409 is about drafting this type now
        inputs_wrong = exc.status_code == 422 and exc.code != "unknown_document_type"
        field = "inputs" if inputs_wrong else "doc_type"
        return draft_page(
            request, workflow, user, case_id, values, {field: exc.message}, exc, exc.status_code
        )
    return RedirectResponse(f"/workbench/documents/{document.id}", status_code=303)


# -- the document page: preview, edit, versions ------------------------------------------------
@dataclass(frozen=True)
class Mark:
    """A run of the edited text: plain, or a fact-guard finding (numbered)."""

    text: str
    finding: int | None = None


def mark_findings(text: str, findings: list[dict[str, Any]]) -> list[Mark]:
    """The text with each finding's span marked (overlaps and empty spans are listed only)."""
    marks: list[Mark] = []
    pos = 0
    spans = sorted(
        (int(f["span"][0]), int(f["span"][1]), i + 1)
        for i, f in enumerate(findings)
        if f.get("span") and int(f["span"][1]) > int(f["span"][0])
    )
    for start, end, number in spans:
        if start < pos or end > len(text):
            continue
        if start > pos:
            marks.append(Mark(text[pos:start]))
        marks.append(Mark(text[start:end], number))
        pos = end
    if pos < len(text):
        marks.append(Mark(text[pos:]))
    return marks


@dataclass(frozen=True)
class DiffRow:
    """One line of the side-by-side diff: left and right line numbers and text pieces."""

    tag: str  # equal, replace, delete, insert
    left_no: int | None
    left: list[tuple[str, bool]]
    right_no: int | None
    right: list[tuple[str, bool]]


def char_marks(old: str, new: str) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """Two versions of a paragraph with the characters that differ marked."""
    left: list[tuple[str, bool]] = []
    right: list[tuple[str, bool]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new).get_opcodes():
        if old[i1:i2]:
            left.append((old[i1:i2], tag != "equal"))
        if new[j1:j2]:
            right.append((new[j1:j2], tag != "equal"))
    return left, right


def side_by_side(old: str, new: str) -> list[DiffRow]:
    """Paragraph by paragraph (one per line), changed ones paired and marked within."""
    a, b = old.split("\n"), new.split("\n")
    rows: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b).get_opcodes():
        if tag == "equal":
            rows += [
                DiffRow("equal", i + 1, [(a[i], False)], j + 1, [(b[j], False)])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            ]
            continue
        for n in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + n, j1 + n
            if i < i2 and j < j2:
                left, right = char_marks(a[i], b[j])
                rows.append(DiffRow("replace", i + 1, left, j + 1, right))
            elif i < i2:
                rows.append(DiffRow("delete", i + 1, [(a[i], True)], None, []))
            else:
                rows.append(DiffRow("insert", None, [], j + 1, [(b[j], True)]))
    return rows


def readable_document(workflow: CaseWorkflow, user: User, document_id: int) -> Document:
    """The document, if `user` may read its case (the case's access rule)."""
    document = workflow.get_document(document_id)
    workflow.get_case(document.case_id, user)
    return document


def handles(user: User, officer_id: int) -> bool:
    """The edit form is offered to the handling officer (or an admin), as `edit` allows."""
    return user.role == Role.ADMIN or (user.role == Role.OFFICER and user.id == officer_id)


def parse_revision(raw: str, name: str, errors: dict[str, str]) -> int | None:
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 1_000_000:
        errors[name] = f"请求内容不符合要求：{name}（应为版本号，即正整数）。"
        return None
    return int(raw)


def document_page(
    request: Request,
    workflow: CaseWorkflow,
    user: User,
    document_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: TaxAssistError | None = None,
    compare: tuple[str, str] = ("", ""),
    checked: str = "",
    status_code: int = 200,
) -> Response:
    """The document page; after a refused edit, `values` as typed and `checked` the text the
    fact guard read (its findings' offsets are into that text)."""
    errors = dict(errors or {})
    try:
        document = readable_document(workflow, user, document_id)
        case = workflow.get_case(document.case_id, user)
        revisions = DocumentRevisions(workflow.services)
        history = revisions.history(document_id)
    except TaxAssistError as exc:
        return error_page(request, user, exc)
    with workflow.services.db.session() as session:
        authors = {
            u.id: u.display_name
            for u in session.query(User).filter(User.id.in_({r.author_id for r in history}))
        }
    old = parse_revision(compare[0], "from", errors)
    new = parse_revision(compare[1], "to", errors)
    rows: list[DiffRow] | None = None
    if len(history) > 1 and not errors:
        old = old or history[-2].revision
        new = new or history[-1].revision
        try:
            revisions.diff(document_id, old, new)  # the API's refusal for a missing version
        except TaxAssistError as exc:
            errors["from" if old not in {r.revision for r in history} else "to"] = exc.message
            status_code = max(status_code, exc.status_code)
        else:
            texts = {r.revision: r.text for r in history}
            rows = side_by_side(texts[old], texts[new])
    if errors and status_code == 200:
        status_code = 422
    findings: list[dict[str, Any]] = []
    if error is not None:
        findings = list(error.details.get("findings") or [])
    return render(
        request,
        "document.html",
        {
            "user": user,
            "case": case,
            "document": document,
            "title": REGISTRY[document.doc_type].title
            if document.doc_type in REGISTRY
            else document.doc_type,
            "history": history,
            "authors": authors,
            "values": values or {"text": document.text, "note": ""},
            "errors": errors,
            "error": error,
            "findings": findings,
            "marked": mark_findings(checked, findings) if findings else [],
            "rows": rows,
            "compare": (old, new),
            "can_edit": document.issued_at is None and handles(user, case.officer_id),
            "posted": values is not None,
        },
        status_code=status_code,
    )


@router.get("/workbench/documents/{document_id}")
def show_document(
    document_id: DbId,
    request: Request,
    user: WebUser,
    workflow: WorkflowDep,
    from_revision: Annotated[str, Query(alias="from", max_length=12)] = "",
    to_revision: Annotated[str, Query(alias="to", max_length=12)] = "",
) -> Response:
    return document_page(request, workflow, user, document_id, compare=(from_revision, to_revision))


@router.post("/workbench/documents/{document_id}/revisions")
def edit_document(
    document_id: DbId,
    request: Request,
    user: WebUser,
    workflow: WorkflowDep,
    _csrf: CsrfChecked,
    text: Annotated[str, Form(max_length=400_000)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """A new revision through the API's schema and service; refused: the typed text kept, the
    message beside the field and each fact-guard finding marked at its text."""
    values = {"text": text, "note": note}
    try:
        body = EditRequest.model_validate(values)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for problem in exc.errors():
            field = str(problem.get("loc", ("text",))[0])
            errors.setdefault(field, f"请求内容不符合要求：{field}（{field_problem(problem)}）。")
        return document_page(
            request, workflow, user, document_id, values=values, errors=errors, status_code=422
        )
    try:
        DocumentRevisions(workflow.services).edit(user, document_id, body.text, body.note)
    except TaxAssistError as exc:
        return document_page(
            request,
            workflow,
            user,
            document_id,
            values=values,
            errors={"text": exc.message},
            error=exc,
            checked=body.text.replace("\r\n", "\n").strip("\n"),
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/workbench/documents/{document_id}", status_code=303)


# -- preview and downloads -----------------------------------------------------------------------
def stored_docx(services: Any, document: Document) -> bytes:
    return stored_path(services.files, document.sha256, "文书").read_bytes()


def disposition(kind: str, name: str) -> dict[str, str]:
    return {"Content-Disposition": f"{kind}; filename*=UTF-8''{quote(name)}"}


@router.get("/workbench/documents/{document_id}/preview")
def preview(
    document_id: DbId,
    request: Request,
    user: WebUser,
    workflow: WorkflowDep,
    services: ServicesDep,
) -> Response:
    """The API's HTML rendition (from the stored .docx), framed by the document page."""
    from assistant.drafting.pdf import docx_to_html

    try:
        document = readable_document(workflow, user, document_id)
        page = docx_to_html(stored_docx(services, document), title=document.number)
    except TaxAssistError as exc:
        return error_page(request, user, exc)
    return HTMLResponse(
        page,
        headers={"Content-Security-Policy": PREVIEW_POLICY, "X-Frame-Options": "SAMEORIGIN"},
    )


@router.get("/workbench/documents/{document_id}/docx")
def download_docx(
    document_id: DbId,
    request: Request,
    user: WebUser,
    workflow: WorkflowDep,
    services: ServicesDep,
) -> Response:
    try:
        document = readable_document(workflow, user, document_id)
        data = stored_docx(services, document)
    except TaxAssistError as exc:
        return error_page(request, user, exc)
    return Response(
        data, media_type=DOCX_MEDIA_TYPE, headers=disposition("attachment", document.filename)
    )


@router.get("/workbench/documents/{document_id}/pdf")
async def download_pdf(
    document_id: DbId,
    request: Request,
    user: WebUser,
    workflow: WorkflowDep,
    services: ServicesDep,
) -> Response:
    """The PDF rendition with embedded CJK fonts (a refusal, e.g. a character no font has, is
    shown as a page with the API's code and message)."""
    from assistant.drafting.pdf import PDF_MEDIA_TYPE, docx_to_pdf

    def build() -> Response:
        try:
            document = readable_document(workflow, user, document_id)
            data = docx_to_pdf(stored_docx(services, document), title=document.number)
        except TaxAssistError as exc:
            return error_page(request, user, exc)
        name = document.filename.rsplit(".", 1)[0] + ".pdf"
        return Response(data, media_type=PDF_MEDIA_TYPE, headers=disposition("inline", name))

    return await run_in_threadpool(build)

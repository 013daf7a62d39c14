"""The workbench's pages: work queue, case list, new case, the case page and its actions.

Every action posts a form to a route here that calls the same workflow the API calls (the
same validation, guards and signed record); a refusal is shown on the page with the API's
code and message (and the article a guard rests on), never as a bare error page. Pages are
left out of the OpenAPI document: they are not the API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep, WorkflowDep
from api.fields import DbId
from api.schemas import CaseCreate
from api.web.render import error_page, render
from api.web.session import CsrfChecked, WebUser
from assistant.auth.security import Role
from assistant.cases import CaseWorkflow, NewCase, TaxpayerInput
from assistant.cases.queries import CaseFilter
from assistant.cases.review_checklist import POINTS
from assistant.db import User
from assistant.db.files import stored_path
from assistant.documents.registry import REGISTRY
from assistant.errors import InvalidInput, TaxAssistError
from assistant.record.service import timeline
from assistant.taxonomy import load_taxonomy
from assistant.transcription.exports import LOW_CONFIDENCE_LOGPROB, LOW_CONFIDENCE_WORD

router = APIRouter(include_in_schema=False)

UNRECOGNISED = "【无法识别】"
# Lifecycle actions the case page offers a form for, and the fields each form takes (named
# as the API's `LifecycleRequest` names them; the rest of its fields keep their defaults).
ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    "resubmit": ("note",),
    "notify": (),
    "record_statement": ("statement", "waived", "waives_hearing"),
    "review_statement": ("opinion", "adopted"),
    "request_hearing": (),
    "schedule_hearing": ("hearing_on", "chair", "place"),
    "hold_hearing": ("on", "record"),
    "committee_review": ("opinion",),
    "decide": (),
    "serve": (),
    "execute": (),
    "close": (),
    "refer": ("report",),
    "approve_referral": ("reason",),
    "reject_referral": ("reason",),
    "police_declined": ("notice",),
}
# How each field is asked: its label, and its kind where it is not a line of text.
ACTION_FIELD_LABELS = {
    "note": "补正说明",
    "statement": "陈述申辩内容",
    "waived": "当事人明确放弃陈述申辩",
    "waives_hearing": "当事人明确放弃听证",
    "opinion": "审理意见",
    "adopted": "当事人提出的事实、理由或者证据成立，予以采纳",
    # "<action>-<field>": one action's label where it differs from the field's usual one
    "review_statement-opinion": "复核意见（对当事人提出的事实、理由和证据）",
    "hearing_on": "听证日期",
    "chair": "听证主持人（非本案调查人员）",
    "place": "听证地点",
    "on": "举行听证的日期",
    "record": "听证笔录",
    "report": "移送涉嫌犯罪案件的书面报告（留空则以裁量建议的说明为报告）",
    "reason": "审批意见（不批准移送的，应写明理由）",
    "notice": "公安机关不予立案通知书的文号及理由",
}
ACTION_FIELD_KINDS = {
    "waived": "flag",
    "adopted": "flag",
    "waives_hearing": "flag",
    "hearing_on": "date",
    "on": "date",
    "chair": "user",
    "record": "text",
    "report": "text",
    "notice": "text",
}
STEP_NAMES = {"entities": "要素提取", "retrieval": "法条与类案检索", "discretion": "裁量建议"}
FIELD_PROBLEMS = {
    "missing": "必须填写",
    "greater_than_equal": "不能小于 {ge}",
    "less_than_equal": "不能大于 {le}",
    "decimal_max_places": "最多两位小数",
    "decimal_max_digits": "数字位数过多",
    "string_too_long": "过长（最多 {max_length} 个字符）",
    "string_too_short": "必须填写",
    "too_long": "过长（最多 {max_length} 个字符）",
    "literal_error": "请从列表中选择",
}

# A refusal's code → the id of the case page's field it concerns, where the page shows the
# message beside that field (a refusal can also name its field: `posted["error_field"]`).
ERROR_FIELDS: dict[str, str] = {}


def violations() -> list[tuple[str, str]]:
    return sorted(((v.code, v.name_zh) for v in load_taxonomy().values()), key=lambda x: x[0])


def violation_name(code: str) -> str:
    violation = load_taxonomy().get(code)
    return violation.name_zh if violation else code


# -- work queue and case list ----------------------------------------------------------------
@router.get("/")
def work_queue(request: Request, user: WebUser, workflow: WorkflowDep) -> Response:
    sections = workflow.work_queue(user)
    return render(request, "queue.html", {"user": user, "sections": sections})


@router.get("/workbench/cases")
def case_list(
    request: Request,
    user: WebUser,
    workflow: WorkflowDep,
    services: ServicesDep,
    q: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str, Query(max_length=32)] = "",
    violation: Annotated[str, Query(max_length=64)] = "",
    date_from: Annotated[str, Query(max_length=10)] = "",
    date_to: Annotated[str, Query(max_length=10)] = "",
    officer: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    values = {
        "q": q,
        "status": status,
        "violation": violation,
        "date_from": date_from,
        "date_to": date_to,
        "officer": officer,
    }
    errors: dict[str, str] = {}
    dates: dict[str, date | None] = {}
    for name in ("date_from", "date_to"):
        try:
            dates[name] = date.fromisoformat(values[name]) if values[name] else None
        except ValueError:
            errors[name] = "日期格式应为 YYYY-MM-DD。"
            dates[name] = None
    cases = workflow.find_cases(
        user,
        CaseFilter(
            text=q,
            status=status or None,
            violation=violation or None,
            date_from=dates["date_from"],
            date_to=dates["date_to"],
            officer=officer or None,
        ),
    )
    with services.db.session() as session:
        officers = [
            (u.username, u.display_name)
            for u in session.query(User).filter(User.role == Role.OFFICER).order_by(User.username)
        ]
    return render(
        request,
        "cases.html",
        {
            "user": user,
            "cases": cases,
            "values": values,
            "errors": errors,
            "violations": violations(),
            "officers": officers,
            "violation_name": violation_name,
        },
        status_code=422 if errors else 200,
    )


# -- 立案 --------------------------------------------------------------------------------------
NEW_CASE_TEXT = (
    "taxpayer.name",
    "taxpayer.id_number",
    "taxpayer.kind",
    "taxpayer.address",
    "taxpayer.legal_representative",
    "violation",
    "facts",
    "violation_date",
    "discovery_date",
    "tax_unpaid",
    "invoice_amount",
    "illegal_gains",
    "days_overdue",
    "occurrences",
    "harm",
    "party_role",
    "evidence",
)
NEW_CASE_FLAGS = ("first_violation", "corrected_in_time")
NEW_CASE_DEFAULTS = {
    "taxpayer.kind": "organisation",
    "harm": "minor",
    "party_role": "taxpayer",
    "occurrences": "1",
    "days_overdue": "0",
}


def new_case_page(
    request: Request,
    user: User,
    values: dict[str, Any],
    errors: dict[str, str],
    message: str = "",
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "case_new.html",
        {
            "user": user,
            "values": values,
            "errors": errors,
            "message": message,
            "violations": violations(),
        },
        status_code=status_code,
    )


@router.get("/workbench/cases/new")
def new_case_form(request: Request, user: WebUser) -> Response:
    return new_case_page(request, user, dict(NEW_CASE_DEFAULTS), {})


def case_payload(values: dict[str, Any]) -> dict[str, Any]:
    """The form as the API's `POST /cases` body: empty optional fields left out."""
    taxpayer = {
        key.split(".", 1)[1]: value
        for key, value in values.items()
        if key.startswith("taxpayer.") and value != ""
    }
    body: dict[str, Any] = {"taxpayer": taxpayer}
    for key in NEW_CASE_TEXT:
        if key.startswith("taxpayer.") or values.get(key, "") == "":
            continue
        body[key] = values[key]
    if "evidence" in body:
        body["evidence"] = [line.strip() for line in body["evidence"].splitlines() if line.strip()]
    for flag in NEW_CASE_FLAGS:
        body[flag] = bool(values.get(flag))
    return body


def field_problem(error: Any) -> str:
    """A schema refusal in Chinese: the API's own words for what it checks (clean text reasons
    are Chinese already), the rest from the error type."""
    kind = error.get("type", "")
    if kind == "value_error":
        return str(error.get("msg", "")).removeprefix("Value error, ")
    template = FIELD_PROBLEMS.get(kind)
    if template is not None:
        return template.format(**(error.get("ctx") or {}))
    if kind.endswith("_parsing") or kind.endswith("_type"):
        return "格式不正确"
    return str(error.get("msg", ""))


@router.post("/workbench/cases/new")
async def create_case(
    request: Request, user: WebUser, workflow: WorkflowDep, _csrf: CsrfChecked
) -> Response:
    form = await request.form()
    values: dict[str, Any] = {
        key: str(form.get(key, "")) for key in NEW_CASE_TEXT if isinstance(form.get(key, ""), str)
    }
    for flag in NEW_CASE_FLAGS:
        values[flag] = form.get(flag) == "on"
    try:
        body = CaseCreate.model_validate(case_payload(values))
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            field = ".".join(str(p) for p in error.get("loc", ()) if not isinstance(p, int))
            errors.setdefault(field, f"请求内容不符合要求：{field}（{field_problem(error)}）。")
        return new_case_page(request, user, values, errors, "请更正标出的字段。", 422)
    data = body.model_dump()
    taxpayer = TaxpayerInput(**data.pop("taxpayer"))
    data["factors"] = tuple(data["factors"])
    data["evidence"] = tuple(data["evidence"])
    try:
        case = await run_in_threadpool(
            workflow.create_case, user, NewCase(taxpayer=taxpayer, **data)
        )
    except TaxAssistError as exc:
        field = str(exc.details.get("field") or "")
        if not field and exc.code == "missing_party_data":
            field = "taxpayer.name"
        if not field and exc.code == "missing_facts":
            field = "facts"
        if not field and exc.code.startswith("unknown_violation"):
            field = "violation"
        errors = {field: exc.message} if field else {}
        return new_case_page(request, user, values, errors, exc.message, exc.status_code)
    return RedirectResponse(f"/workbench/cases/{case.id}", status_code=303)


# -- the case page -------------------------------------------------------------------------------
def segment_parts(text: str) -> list[tuple[str, bool]]:
    """The text split around 【无法识别】 placeholders: (piece, is_placeholder)."""
    parts: list[tuple[str, bool]] = []
    for i, piece in enumerate(text.split(UNRECOGNISED)):
        if i:
            parts.append((UNRECOGNISED, True))
        if piece:
            parts.append((piece, False))
    return parts


def low_words(words: list[dict[str, Any]] | None) -> list[str]:
    return [
        str(w.get("word", "")).strip()
        for w in words or []
        if float(w.get("probability", 1.0)) < LOW_CONFIDENCE_WORD
    ]


# What other modules add to the case page (and its sections re-rendered alone): each hook
# gets the context built so far and returns its additions. Registered at import.
CaseContextHook = Callable[[CaseWorkflow, User, dict[str, Any]], dict[str, Any]]
CASE_CONTEXT_HOOKS: list[CaseContextHook] = []


def active_users(workflow: CaseWorkflow) -> list[tuple[str, str, str]]:
    """(username, display name, role) of every active account, by username."""
    with workflow.services.db.session() as session:
        rows = session.query(User).filter(User.active.is_(True)).order_by(User.username)
        return [(u.username, u.display_name, u.role) for u in rows]


def case_context(workflow: CaseWorkflow, user: User, case_id: int) -> dict[str, Any]:
    case = workflow.get_case(case_id, user)
    checks = workflow.lifecycle.check_actions(user, case_id)
    allowed = {c.action for c in checks if c.allowed}
    documents = [d for d in workflow.documents(case_id)]
    context: dict[str, Any] = {
        "user": user,
        "case": case,
        "violation_name": violation_name(case.violation_code),
        "recordings": workflow.recordings(case_id, user, segments=False),
        "jobs": workflow.recording_jobs(case_id),
        "documents": documents,
        "doc_titles": {code: kind.title for code, kind in REGISTRY.items()},
        "checks": checks,
        "action_fields": ACTION_FIELDS,
        "field_labels": ACTION_FIELD_LABELS,
        "field_kinds": ACTION_FIELD_KINDS,
        # the hearing's chair is chosen among the active accounts; the notified hearing day is
        # what the chair's form proposes as the day it was held
        "chairs": active_users(workflow) if "schedule_hearing" in allowed else [],
        "hearing_day": (
            workflow.lifecycle.hearing_day(case_id) if "hold_hearing" in allowed else None
        ),
        "steps": STEP_NAMES,
        "results": {step: workflow.latest_result(case_id, step) for step in STEP_NAMES},
        "segment_parts": segment_parts,
        "low_words": low_words,
        "low_logprob": LOW_CONFIDENCE_LOGPROB,
        "is_handler": user.role == Role.ADMIN
        or (user.role == Role.OFFICER and user.id == case.officer_id),
        "can_issue": user.role in (Role.APPROVER, Role.ADMIN),
        "checklist": workflow.lifecycle.checklist(case_id) if "review" in allowed else None,
        "can_approve": "approve" in allowed,
    }
    for hook in CASE_CONTEXT_HOOKS:
        context.update(hook(workflow, user, context))
    return context


def case_page(
    request: Request,
    workflow: CaseWorkflow,
    user: User,
    case_id: int,
    error: TaxAssistError | None = None,
    posted: Mapping[str, Any] | None = None,
) -> Response:
    """The case page; after a refusal with it and the refused form's values (`posted`), so
    the form shows them again with the message beside its field."""
    try:
        context = case_context(workflow, user, case_id)
    except TaxAssistError as exc:
        return error_page(request, user, exc)
    context["error"] = error
    context["posted"] = posted or {}
    field = (posted or {}).get("error_field") or (ERROR_FIELDS.get(error.code) if error else "")
    context["error_field"] = field if error else ""
    return render(request, "case.html", context, status_code=error.status_code if error else 200)


@router.get("/workbench/cases/{case_id}")
def show_case(case_id: DbId, request: Request, user: WebUser, workflow: WorkflowDep) -> Response:
    return case_page(request, workflow, user, case_id)


@router.get("/workbench/cases/{case_id}/recordings")
def recordings_fragment(
    case_id: DbId, request: Request, user: WebUser, workflow: WorkflowDep
) -> Response:
    """The recordings section alone: the case page polls it while a transcription runs."""
    try:
        context = case_context(workflow, user, case_id)
    except TaxAssistError as exc:
        return error_page(request, user, exc)
    return render(request, "_recordings.html", context)


@router.get("/workbench/cases/{case_id}/timeline")
def timeline_fragment(
    case_id: DbId, request: Request, user: WebUser, workflow: WorkflowDep
) -> Response:
    """The signed timeline, each event's signature checked: loaded by htmx after the case page
    (verifying is most of what the page would otherwise cost), or as a page without script."""
    fragment = "hx-request" in request.headers
    try:
        case = workflow.get_case(case_id, user)
        events = timeline(workflow.services, case_id)
    except TaxAssistError as exc:
        return error_page(request, user, exc)
    context = {"user": user, "case": case, "timeline": events}
    return render(request, "_timeline.html" if fragment else "case_timeline.html", context)


def after(
    request: Request,
    workflow: CaseWorkflow,
    user: User,
    case_id: int,
    act: Any,
    posted: Mapping[str, Any] | None = None,
    anchor: str = "",
) -> Response:
    """Run `act`; on success back to the case page (303, at `anchor`), on a refusal the page
    with it and the form's values kept."""
    try:
        act()
    except TaxAssistError as exc:
        return case_page(request, workflow, user, case_id, exc, posted)
    where = f"#{anchor}" if anchor else ""
    return RedirectResponse(f"/workbench/cases/{case_id}{where}", status_code=303)


@router.get("/workbench/recordings/{recording_id}/audio")
def audio(
    recording_id: DbId, user: WebUser, workflow: WorkflowDep, services: ServicesDep
) -> Response:
    """The original recording for the page's player (range requests: seeking works)."""
    recording = workflow.recording_for(user, recording_id)
    path = stored_path(services.files, recording.sha256, "录音")
    return FileResponse(path, media_type=recording.content_type or "application/octet-stream")


@router.post("/workbench/cases/{case_id}/steps/{step}")
def run_step(
    case_id: DbId,
    step: str,
    request: Request,
    user: WebUser,
    workflow: WorkflowDep,
    _csrf: CsrfChecked,
) -> Response:
    runs = {
        "entities": workflow.extract_entities,
        "retrieval": workflow.retrieve,
        "discretion": workflow.suggest,
    }

    def act() -> None:
        if step not in runs:
            raise InvalidInput("unknown_step", f"未知的分析步骤：{step}")
        runs[step](user, case_id)

    return after(request, workflow, user, case_id, act)


@router.post("/workbench/cases/{case_id}/review")
async def review(
    case_id: DbId, request: Request, user: WebUser, workflow: WorkflowDep, _csrf: CsrfChecked
) -> Response:
    """法制审核 with the checklist: the manual points the reviewer confirmed, the conclusion."""
    form = await request.form()
    result = str(form.get("result", ""))
    opinion = str(form.get("opinion", ""))
    findings = {
        code: {"ok": True, "opinion": str(form.get(f"opinion-{code}", "")) or "已核实"}
        for code in POINTS
        if form.get(f"point-{code}") == "on"
    }
    return await run_in_threadpool(
        after,
        request,
        workflow,
        user,
        case_id,
        lambda: workflow.lifecycle.legal_review(
            user, case_id, result=result, opinion=opinion, findings=findings
        ),
        dict(form),
    )


@router.post("/workbench/cases/{case_id}/approve")
def approve(
    case_id: DbId,
    request: Request,
    user: WebUser,
    workflow: WorkflowDep,
    _csrf: CsrfChecked,
    opinion: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    return after(
        request,
        workflow,
        user,
        case_id,
        lambda: workflow.approve(user, case_id, opinion=opinion),
        {"form": "approve", "opinion": opinion},
    )


@router.post("/workbench/documents/{document_id}/issue")
def issue(
    document_id: DbId, request: Request, user: WebUser, workflow: WorkflowDep, _csrf: CsrfChecked
) -> Response:
    from assistant.publicity.service import issue_decision

    document = workflow.get_document(document_id)
    return after(
        request,
        workflow,
        user,
        document.case_id,
        lambda: issue_decision(workflow.services, user, document_id),
    )

"""The case page's forms for 强制 measures and for 行政复议 / 行政诉讼 and their results.

Each form goes through the API's request schema (`api.routers.outcomes`) and the service the
API calls (same checks, signed events, the measure's public record drafted, the withdrawal a
revoking result makes); a measure's public record withdrawn as inaccurate is drafted again
through `POST /publications`'s schema and function. A refusal is shown beside the field it
concerns with the values kept, and a form the user may not use now is shown blocked with the
reason.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.deps import WorkflowDep
from api.fields import DbId
from api.routers.outcomes import (
    MeasureIn,
    RemedyIn,
    ResultIn,
    apply_for_remedy,
    record_remedy_result,
    take_measure,
)
from api.routers.publications import PublicationIn, draft_from
from api.web import pages
from api.web.actions import checked, run
from api.web.session import CsrfChecked, WebUser
from assistant.cases import CaseWorkflow
from assistant.dates import today_in_china
from assistant.db import User
from assistant.errors import InvalidInput, TaxAssistError
from assistant.outcomes import service

router = APIRouter(include_in_schema=False)

# Each form's fields (named as the API's schema names them); the page's field id is
# "<form>-<field>" (the remedy forms: "<remedy>-…", "<remedy>-result-…").
MEASURE_FIELDS = ("measure", "method", "on", "amount", "document_number", "note")
REMEDY_FIELDS = ("body", "on", "document_id", "measure_event_id", "note")
RESULT_FIELDS = ("result", "on", "note")
REDRAFT_FIELDS = ("measure_event_id",)
# A service refusal's code → the form field it concerns (where the refusal names none).
REFUSED = {
    "invalid_measure": "measure",
    "invalid_measure_method": "method",
    "invalid_amount": "amount",
    "invalid_act_date": "on",
    "invalid_challenged_decision": "document_id",
    "invalid_challenged_measure": "measure_event_id",
    "remedy_pending": "body",
    "invalid_remedy_result": "result",
    "remedy_not_applied": "result",
    "invalid_withdrawal_reason": "result",
    "invalid_revoked_on": "on",
    "publication_exists": "measure_event_id",
    "publication_withdrawn_for_good": "measure_event_id",
    "measure_not_found": "measure_event_id",
    "invalid_publication_source": "measure_event_id",
}


def outcome_context(workflow: CaseWorkflow, user: User, context: dict[str, Any]) -> dict[str, Any]:
    """The forms' state (allowed or why not), the case's recorded outcomes, today's date."""
    case_id = context["case"].id
    return {
        "outcomes": service.case_outcomes(workflow.services, case_id),
        "outcome_forms": service.form_state(workflow.services, user, case_id),
        "today": today_in_china().isoformat(),
    }


pages.CASE_CONTEXT_HOOKS.append(outcome_context)


def _values(form: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """The form's non-empty values (empty optional fields keep the schema's default)."""
    return {name: str(form.get(name, "")) for name in fields if str(form.get(name, "")).strip()}


def _submit(
    request: Request,
    workflow: CaseWorkflow,
    user: User,
    case_id: int,
    form: Any,
    prefix: str,
    fields: tuple[str, ...],
    perform: Any,
) -> Response:
    ids = {name: f"{prefix}-{name}" for name in fields}

    def act() -> None:
        try:
            perform()
        except TaxAssistError as exc:
            field = exc.details.get("field") or REFUSED.get(exc.code)
            if field in ids:
                exc.details["field"] = ids[field]
            raise

    posted = {key: str(value) for key, value in form.items()}
    return run(request, workflow, user, case_id, act, posted, "h-outcomes")


@router.post("/workbench/cases/{case_id}/measures")
async def record_measure(
    case_id: DbId, request: Request, user: WebUser, workflow: WorkflowDep, _csrf: CsrfChecked
) -> Response:
    """A 税收保全措施 or 强制执行措施 (`POST /cases/{id}/enforcement-measures`)."""
    form = await request.form()

    def perform() -> None:
        body = checked(MeasureIn, _values(form, MEASURE_FIELDS), {})
        take_measure(workflow.services, user, case_id, body)

    return await run_in_threadpool(
        _submit, request, workflow, user, case_id, form, "measure", MEASURE_FIELDS, perform
    )


def _remedy(remedy: str) -> Any:
    if remedy not in ("reconsideration", "litigation"):
        raise InvalidInput("invalid_remedy", f"未知的救济：{remedy}")
    return remedy


@router.post("/workbench/cases/{case_id}/remedies/{remedy}")
async def apply_remedy(
    case_id: DbId,
    remedy: str,
    request: Request,
    user: WebUser,
    workflow: WorkflowDep,
    _csrf: CsrfChecked,
) -> Response:
    """申请行政复议 / 提起行政诉讼 (`POST /cases/{id}/remedies/{remedy}`)."""
    form = await request.form()

    def perform() -> None:
        kind = _remedy(remedy)
        body = checked(RemedyIn, _values(form, REMEDY_FIELDS), {})
        apply_for_remedy(workflow.services, user, case_id, kind, body)

    return await run_in_threadpool(
        _submit, request, workflow, user, case_id, form, remedy, REMEDY_FIELDS, perform
    )


@router.post("/workbench/cases/{case_id}/remedies/{remedy}/result")
async def conclude_remedy(
    case_id: DbId,
    remedy: str,
    request: Request,
    user: WebUser,
    workflow: WorkflowDep,
    _csrf: CsrfChecked,
) -> Response:
    """复议决定 / 判决 (`POST …/{remedy}/result`): a revoking result withdraws at once."""
    form = await request.form()

    def perform() -> None:
        kind = _remedy(remedy)
        body = checked(ResultIn, _values(form, RESULT_FIELDS), {})
        record_remedy_result(workflow.services, user, case_id, kind, body)

    prefix = f"{remedy}-result"
    return await run_in_threadpool(
        _submit, request, workflow, user, case_id, form, prefix, RESULT_FIELDS, perform
    )


@router.post("/workbench/cases/{case_id}/publications")
async def redraft_measure_publication(
    case_id: DbId, request: Request, user: WebUser, workflow: WorkflowDep, _csrf: CsrfChecked
) -> Response:
    """重新生成公示稿 for a measure whose record was withdrawn as inaccurate (`POST
    /publications {measure_event_id}`, the same checks and refusals)."""
    form = await request.form()
    prefix = f"redraft-{str(form.get('measure_event_id', '')).strip()}"

    def perform() -> None:
        body = checked(PublicationIn, _values(form, REDRAFT_FIELDS), {})
        draft_from(workflow.services, user, body, case_id=case_id)

    return await run_in_threadpool(
        _submit, request, workflow, user, case_id, form, prefix, REDRAFT_FIELDS, perform
    )

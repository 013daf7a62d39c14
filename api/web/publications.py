"""The 公示 pages: every public record (draft, published, withdrawn) with its working-day
deadline and the overdue alerts, and one record's review before it goes out.

The officer reviews the masked public text beside the spans the masking hid, corrects the
fields the rules let an officer correct, publishes, withdraws with a reason from the rules,
or drafts again where `POST /publications` would. Each action goes through the API's request
schema and the function its route calls (`api.routers.publications`), so roles, checks,
signed events and refusals are the API's; a refusal is shown beside the control that asked,
the values entered kept.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep
from api.fields import DbId
from api.routers.publications import (
    PublicationEdit,
    PublicationIn,
    WithdrawalIn,
    draft_from,
    publish,
    revise_publication,
    withdraw,
)
from api.web import pages
from api.web.actions import checked
from api.web.render import error_page, render
from api.web.session import CsrfChecked, WebUser
from assistant.cases import CaseWorkflow
from assistant.db import User
from assistant.errors import InvalidInput, TaxAssistError
from assistant.publicity import service
from assistant.publicity.redaction import KIND_NAMES
from assistant.publicity.rules import load_rules
from assistant.services import Services

router = APIRouter(include_in_schema=False)

STATUSES = {"draft": "草稿（待审核）", "published": "已公示", "withdrawn": "已撤回"}
WITHDRAW_FIELDS = ("reason", "note", "revoked_on")
# A refusal's code → the control it concerns, where the refusal names no field of the form.
REFUSED = {
    "invalid_withdrawal_reason": "withdraw-reason",
    "invalid_revoked_on": "withdraw-revoked_on",
}


# The controls of each state's review page; a refusal about none of them is shown at the top.
CONTROLS = {
    "draft": {"edit", "edit-facts", "edit-basis", "edit-result", "publish"},
    "published": {"withdraw", "withdraw-reason", "withdraw-revoked_on", "withdraw-note"},
    "withdrawn": {"redraft"},
}


def case_links(workflow: CaseWorkflow, user: User, context: dict[str, Any]) -> dict[str, Any]:
    """The case page's decision lines link their latest public record."""
    return {"publication_of": service.latest_of_case(workflow.services, context["case"].id)}


pages.CASE_CONTEXT_HOOKS.append(case_links)


def may_publish(user: User) -> bool:
    """Who may draft, correct, publish and withdraw: the roles the service requires."""
    return user.role in service.PUBLISHERS


def redraft_refusal(services: Services, row: dict[str, Any]) -> str | None:
    """Why the record's decision or measure cannot be drafted again now (the API's 409
    message), or None where `POST /publications` would draft it."""
    with services.db.session() as session:
        rows = service.records_of(session, document_id=row["document_id"], event_id=row["event_id"])
        refusal = service.redraft_refusal(rows, "强制措施" if row["event_id"] else "文书")
    return refusal.message if refusal else None


def list_context(services: Services, user: User, status: str) -> dict[str, Any]:
    if status and status not in STATUSES:
        raise InvalidInput(
            "invalid_status",
            "状态只能是草稿、已公示或已撤回。",
            details={"status": status, "allowed": sorted(STATUSES)},
        )
    return {
        "user": user,
        "status": status,
        "statuses": STATUSES,
        "publications": service.list_publications(services, status or None),
        "alerts": service.alerts(services),
        "may_publish": may_publish(user),
    }


def review_context(services: Services, user: User, publication_id: int) -> dict[str, Any]:
    row = service.get_publication(services, user, publication_id)
    rules = load_rules()
    record = rules.records[row["record_type"]]
    withdrawn_for = (
        rules.withdrawal_reasons.get(row["withdrawal_reason"] or "", row["withdrawal_reason"])
        if row["status"] == "withdrawn"
        else None
    )
    return {
        "user": user,
        "p": row,
        "labels": record.fields,
        "editable": [f for f in record.fields if f in record.editable],
        "kind_names": KIND_NAMES,
        "statuses": STATUSES,
        "reasons": rules.withdrawal_reasons,
        "withdrawn_for": withdrawn_for,
        "may_publish": may_publish(user),
        "why_not_redraft": (
            redraft_refusal(services, row) if row["status"] == "withdrawn" else None
        ),
        "posted": {},
        "error": None,
        "error_field": "",
    }


@router.get("/workbench/publications")
async def publications_page(
    request: Request,
    user: WebUser,
    services: ServicesDep,
    status: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    """Every record, filtered by state, and the decisions and measures still to publish."""
    try:
        context = await run_in_threadpool(list_context, services, user, status.strip())
    except TaxAssistError as exc:
        return error_page(request, user, exc, title="公示")
    return render(request, "publications.html", context)


def review_page(
    request: Request,
    services: Services,
    user: User,
    publication_id: int,
    error: TaxAssistError | None = None,
    posted: dict[str, Any] | None = None,
    field: str = "",
) -> Response:
    """The review page; after a refusal with the message beside `field`, the values kept."""
    try:
        context = review_context(services, user, publication_id)
    except TaxAssistError as exc:
        return error_page(request, user, exc, title="公示审核")
    if error is not None:
        named = str(error.details.get("field") or "")
        beside = REFUSED.get(error.code) or named or field
        shown = CONTROLS[context["p"]["status"]] if context["may_publish"] else set()
        context.update(
            error=error, posted=posted or {}, error_field=beside if beside in shown else "page"
        )
    return render(
        request, "publication.html", context, status_code=error.status_code if error else 200
    )


@router.get("/workbench/publications/{publication_id}")
async def publication_page(
    publication_id: DbId, request: Request, user: WebUser, services: ServicesDep
) -> Response:
    return await run_in_threadpool(review_page, request, services, user, publication_id)


def _act(
    request: Request,
    services: Services,
    user: User,
    publication_id: int,
    act: Any,
    posted: dict[str, Any],
    field: str,
) -> Response:
    """Run `act` (returns the record to show next); a refusal on the review page."""
    try:
        shown = act()
    except TaxAssistError as exc:
        return review_page(request, services, user, publication_id, exc, posted, field)
    return RedirectResponse(f"/workbench/publications/{shown}", status_code=303)


@router.post("/workbench/publications/{publication_id}/fields")
async def correct_fields(
    publication_id: DbId,
    request: Request,
    user: WebUser,
    services: ServicesDep,
    _csrf: CsrfChecked,
) -> Response:
    """The officer's corrections (`PATCH /publications/{id}`), masked again before saving."""
    form = await request.form()
    posted = {k: str(v) for k, v in form.items() if k not in ("csrf_token", "form")}
    ids = {name: f"edit-{name}" for name in posted}

    def act() -> int:
        # only what the officer changed: an unchanged field keeps its findings for the review
        shown = service.get_publication(services, user, publication_id)["fields"]
        changed = {k: v for k, v in posted.items() if v.strip() != str(shown.get(k, "")).strip()}
        if not changed:
            raise InvalidInput("no_changes", "没有修改任何内容。", details={"field": "edit"})
        body = checked(PublicationEdit, changed, ids)
        try:
            revise_publication(publication_id, body, user, services)
        except InvalidInput as exc:
            if exc.code == "field_not_editable" and exc.details.get("fields"):
                exc.details["field"] = ids.get(exc.details["fields"][0], "edit")
            raise
        return publication_id

    return await run_in_threadpool(
        _act, request, services, user, publication_id, act, {"form": "edit", **posted}, "edit"
    )


@router.post("/workbench/publications/{publication_id}/publish")
async def publish_record(
    publication_id: DbId,
    request: Request,
    user: WebUser,
    services: ServicesDep,
    _csrf: CsrfChecked,
) -> Response:
    """发布 (`POST /publications/{id}/publish`): refused while an identifier is left."""

    def act() -> int:
        publish(publication_id, user, services)
        return publication_id

    return await run_in_threadpool(
        _act, request, services, user, publication_id, act, {"form": "publish"}, "publish"
    )


@router.post("/workbench/publications/{publication_id}/withdraw")
async def withdraw_record(
    publication_id: DbId,
    request: Request,
    user: WebUser,
    services: ServicesDep,
    _csrf: CsrfChecked,
) -> Response:
    """撤回 (`POST /publications/{id}/withdraw`) with a reason from the rules."""
    form = await request.form()
    posted = {k: str(form.get(k, "")) for k in WITHDRAW_FIELDS}
    values = {k: v for k, v in posted.items() if v.strip()}
    ids = {name: f"withdraw-{name}" for name in WITHDRAW_FIELDS}

    def act() -> int:
        body = checked(WithdrawalIn, values, ids)
        withdraw(publication_id, body, user, services)
        return publication_id

    return await run_in_threadpool(
        _act,
        request,
        services,
        user,
        publication_id,
        act,
        {"form": "withdraw", **posted},
        "withdraw",
    )


@router.post("/workbench/publications/{publication_id}/redraft")
async def redraft_record(
    publication_id: DbId,
    request: Request,
    user: WebUser,
    services: ServicesDep,
    _csrf: CsrfChecked,
) -> Response:
    """重新生成公示稿 of the record's decision or measure (`POST /publications`): only after a
    withdrawal as inaccurate, the withdrawn record kept; the new draft's review follows."""

    def act() -> int:
        row = service.get_publication(services, user, publication_id)
        source = {"document_id": row["document_id"], "measure_event_id": row["event_id"]}
        body = checked(PublicationIn, {k: v for k, v in source.items() if v}, {})
        return int(draft_from(services, user, body)["id"])

    return await run_in_threadpool(
        _act, request, services, user, publication_id, act, {"form": "redraft"}, "redraft"
    )


@router.post("/workbench/publications")
async def draft_record(
    request: Request, user: WebUser, services: ServicesDep, _csrf: CsrfChecked
) -> Response:
    """生成公示稿 for an alert's decision or measure that has no record to review (`POST
    /publications`); a refusal is shown on the list beside the alert's button."""
    form = await request.form()
    values = {
        k: str(form.get(k, "")).strip()
        for k in ("document_id", "measure_event_id")
        if str(form.get(k, "")).strip()
    }

    def act() -> int:
        body = checked(PublicationIn, values, {})
        return int(draft_from(services, user, body)["id"])

    try:
        shown = await run_in_threadpool(act)
    except TaxAssistError as exc:
        context = await run_in_threadpool(list_context, services, user, "")
        key = "draft-" + "-".join(f"{k}-{v}" for k, v in values.items())
        buttons = {
            f"draft-document_id-{a['document_id']}"
            if a["document_id"]
            else f"draft-measure_event_id-{a['event_id']}"
            for a in context["alerts"]
            if a["publication_id"] is None and context["may_publish"]
        }
        context.update(error=exc, error_field=key if key in buttons else "page")
        return render(request, "publications.html", context, status_code=exc.status_code)
    return RedirectResponse(f"/workbench/publications/{shown}", status_code=303)

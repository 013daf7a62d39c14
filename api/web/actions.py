"""The case page's actions on recordings, review disagreements and the signed record.

Recordings: the upload (with the file's progress when the page script sends it, then the
job's live progress from the API's event stream, here signed in by cookie), segment
correction and speaker relabelling as new versions (the machine transcript is kept).
Review: escalating a disputed review and deciding it, level by level. Lifecycle: every act's
form (hearing and referral included) through the API's request schema and dispatch. Record:
verifying the case's signed record, and the taxpayer's 一户式 archive. Each calls the service
the API calls, with the API's schema for its input; a refusal is shown beside the field it
concerns, the values entered kept.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Request, UploadFile
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from api.deps import JobQueueDep, ServicesDep, WorkflowDep, get_admin
from api.fields import DbId, Position
from api.routers.escalation import EscalateRequest, EscalationDecision
from api.routers.jobs import job_event_stream
from api.routers.lifecycle import LifecycleRequest, perform
from api.routers.recordings import SegmentCorrection, SpeakerRelabel
from api.web import pages
from api.web.render import error_page, render
from api.web.session import CsrfChecked, WebUser
from assistant.auth.security import Role
from assistant.cases import CaseWorkflow
from assistant.cases.escalation import LEVELS, OUTCOMES, Escalation
from assistant.cases.transcripts import (
    CurrentSegment,
    correct_segments,
    current_segments,
    relabel_speaker,
)
from assistant.db import Recording, User
from assistant.errors import InvalidInput, NotFound, TaxAssistError
from assistant.limits import INDEX_MAX
from assistant.record.archive import export_archive
from assistant.record.service import verify_record
from assistant.transcription.exports import LOW_CONFIDENCE_WORD

router = APIRouter(include_in_schema=False)

# A refusal's code → the id of the field it concerns on the case page (beside which the
# message is shown); refusals of a segment's own form name their field when raised.
pages.ERROR_FIELDS.update(
    {
        "missing_review_opinion": "review-opinion",
        "invalid_review_result": "review-result",
        "missing_escalation_reason": "escalate-reason",
        "missing_escalation_opinion": "escalation-opinion",
        "invalid_escalation_outcome": "escalation-outcome",
        "speaker_not_found": "relabel-old",
        "invalid_statement": "record_statement-statement",
        "missing_committee_opinion": "committee_review-opinion",
    }
)


# -- what the case page shows of these ---------------------------------------------------------
def marked_text(segment: CurrentSegment) -> list[tuple[str, str]]:
    """The segment's text in pieces, each marked "" (plain), "low" (a word the model was unsure
    of) or "unknown" (a 【无法识别】 span): the words are used while they still spell the text
    (a machine segment), otherwise only the placeholders are found."""
    words = segment.words
    if words and "".join(w.word for w in words).strip() == segment.text.strip():
        pieces: list[tuple[str, str]] = []
        for w in words:
            kind = "low" if w.probability < LOW_CONFIDENCE_WORD else ""
            if pieces and pieces[-1][1] == kind:
                pieces[-1] = (pieces[-1][0] + w.word, kind)
            else:
                pieces.append((w.word, kind))
        if pieces:
            pieces[0] = (pieces[0][0].lstrip(), pieces[0][1])
        return [
            piece
            for text, kind in pieces
            for piece in (
                [
                    (part, "unknown" if unknown else kind)
                    for part, unknown in pages.segment_parts(text)
                ]
                if pages.UNRECOGNISED in text
                else [(text, kind)]
            )
        ]
    return [
        (piece, "unknown" if unknown else "")
        for piece, unknown in pages.segment_parts(segment.text)
    ]


def transcripts(
    workflow: CaseWorkflow, recordings: list[Recording]
) -> dict[int, list[CurrentSegment]]:
    """Each recording's segments as the officer last left them (corrections applied)."""
    ids = [r.id for r in recordings]
    if not ids:
        return {}
    with workflow.services.db.session() as session:
        rows = session.scalars(select(Recording).where(Recording.id.in_(ids)))
        return {r.id: current_segments(session, r) for r in rows}


def action_context(workflow: CaseWorkflow, user: User, context: dict[str, Any]) -> dict[str, Any]:
    """The case page's additions: current transcripts, the escalation forms it may offer."""
    case = context["case"]
    current = transcripts(workflow, context["recordings"])
    escalation = Escalation(workflow.lifecycle)
    state = escalation.state(case.id)
    level = state.get("pending_level")
    return {
        "transcripts": current,
        "speakers": {
            rid: sorted({s.speaker or "" for s in segments}) for rid, segments in current.items()
        },
        "marked_text": marked_text,
        "editing": None,
        "escalation": state,
        "escalation_checks": escalation.check_actions(user, case.id),
        "escalation_outcomes": [
            (code, name) for code, (levels, name) in OUTCOMES.items() if level in levels
        ],
        "escalation_levels": LEVELS,
        "can_export_archive": user.role == Role.ADMIN,
        "verification": None,
        # no refusal to show: `pages.case_page` replaces these after one
        "posted": {},
        "error": None,
        "error_field": "",
    }


pages.CASE_CONTEXT_HOOKS.append(action_context)


def schema_problem(exc: ValidationError) -> tuple[str, str]:
    """The first refused field of a form checked by the API's schema, in the API's words."""
    error = exc.errors()[0]
    field = ".".join(str(p) for p in error.get("loc", ()) if not isinstance(p, int))
    return field, f"请求内容不符合要求：{field}（{pages.field_problem(error)}）。"


def checked(schema: type[BaseModel], values: dict[str, Any], fields: dict[str, str]) -> Any:
    """`values` through the API's `schema`; a refusal names the page's field (`fields`)."""
    try:
        return schema.model_validate(values)
    except ValidationError as exc:
        field, message = schema_problem(exc)
        raise InvalidInput(
            "invalid_input", message, details={"field": fields.get(field, field)}
        ) from None


def run(
    request: Request,
    workflow: CaseWorkflow,
    user: User,
    case_id: int,
    act: Any,
    posted: dict[str, Any],
    anchor: str = "",
) -> Response:
    """`pages.after`, with a refusal that names its field shown beside that field."""

    def guarded() -> None:
        try:
            act()
        except TaxAssistError as exc:
            field = exc.details.get("field")
            if field:
                posted["error_field"] = str(field)
            raise

    return pages.after(request, workflow, user, case_id, guarded, posted, anchor)


# -- recordings: upload and its progress ---------------------------------------------------------
def wants_json(request: Request) -> bool:
    """The page script's upload (it shows the file's progress, then follows the job)."""
    return "application/json" in request.headers.get("accept", "")


@router.post("/workbench/cases/{case_id}/recordings")
def upload(
    case_id: DbId,
    request: Request,
    user: WebUser,
    workflow: WorkflowDep,
    jobs: JobQueueDep,
    _csrf: CsrfChecked,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Store the recording and start its transcription (as `POST /cases/{id}/recordings`).
    Sent by the page script: 202 with the job's event stream, or the refusal as JSON; as a
    plain form: back to the case page, which follows the job."""

    def act() -> Any:
        accepted = workflow.add_recording(
            user,
            case_id,
            file.file,
            filename=file.filename or "recording",
            content_type=file.content_type,
        )
        jobs.submit(accepted.job.id)
        return accepted

    if not wants_json(request):
        return pages.after(request, workflow, user, case_id, act, {}, "recordings")
    try:
        accepted = act()
    except TaxAssistError as exc:
        return JSONResponse({"code": exc.code, "message": exc.message}, status_code=exc.status_code)
    return JSONResponse(
        {
            "recording": accepted.recording.id,
            "job": accepted.job.id,
            "events": f"/workbench/jobs/{accepted.job.id}/events",
            "page": f"/workbench/cases/{case_id}#recordings",
        },
        status_code=202,
    )


@router.get("/workbench/jobs/{job_id}/events")
async def job_events(
    job_id: DbId,
    request: Request,
    user: WebUser,
    workflow: WorkflowDep,
    services: ServicesDep,
    last_event_id: Annotated[str, Header(alias="Last-Event-ID", max_length=32)] = "",
) -> Response:
    """The API's event stream of a job (`GET /jobs/{id}/events`) for a signed-in page; a
    reconnecting browser gets only the segments after the last one it received."""
    await run_in_threadpool(workflow.job_for, user, job_id)
    last = int(last_event_id) if last_event_id.strip().isdigit() else -1
    return StreamingResponse(
        job_event_stream(services, request, job_id, min(last, INDEX_MAX)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


# -- recordings: corrections ---------------------------------------------------------------------
def segment_field(recording_id: int, index: int, name: str) -> str:
    return f"seg-{recording_id}-{index}-{name}"


@router.get("/workbench/recordings/{recording_id}/segments/{index}/edit")
def edit_segment(
    recording_id: DbId,
    index: Position,
    request: Request,
    user: WebUser,
    workflow: WorkflowDep,
) -> Response:
    """The correction form of one segment: alone for htmx (swapped into the transcript), or
    the case page with it open (without script)."""
    try:
        recording = workflow.recording_for(user, recording_id, write=True)
        context = pages.case_context(workflow, user, recording.case_id)
    except TaxAssistError as exc:
        return error_page(request, user, exc)
    segment = next(
        (s for s in context["transcripts"].get(recording_id, []) if s.index == index), None
    )
    if segment is None:
        error = NotFound("segment_not_found", f"录音 {recording_id} 没有第 {index} 段。")
        return error_page(request, user, error)
    context["editing"] = (recording_id, index)
    if "hx-request" in request.headers:
        return render(request, "_segment_form.html", {**context, "r": recording, "s": segment})
    return render(request, "case.html", context)


@router.post("/workbench/recordings/{recording_id}/segments/{index}")
def correct_segment(
    recording_id: DbId,
    index: Position,
    request: Request,
    user: WebUser,
    workflow: WorkflowDep,
    _csrf: CsrfChecked,
    text: Annotated[str, Form(max_length=20000)] = "",
    speaker: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """A new version of the segment's text and speaker (`PATCH /recordings/{id}/segments/{i}`)."""
    try:
        recording = workflow.recording_for(user, recording_id)
    except TaxAssistError as exc:
        return error_page(request, user, exc)
    posted = {"text": text, "speaker": speaker, "segment": f"{recording_id}-{index}"}
    fields = {
        "text": segment_field(recording_id, index, "text"),
        "speaker": segment_field(recording_id, index, "speaker"),
    }

    def act() -> None:
        workflow.recording_for(user, recording_id, write=True)
        body = checked(
            SegmentCorrection, {"text": text, "speaker": speaker.strip() or None}, fields
        )
        try:
            correct_segments(
                workflow.services, user, recording_id, {index: (body.text, body.speaker)}
            )
        except InvalidInput as exc:  # the service's refusal, shown beside the page's field
            if "field" in exc.details:
                exc.details["field"] = fields.get(exc.details["field"], exc.details["field"])
            raise

    anchor = f"seg-{recording_id}-{index}"
    return run(request, workflow, user, recording.case_id, act, posted, anchor)


@router.post("/workbench/recordings/{recording_id}/speakers")
def relabel_speakers(
    recording_id: DbId,
    request: Request,
    user: WebUser,
    workflow: WorkflowDep,
    _csrf: CsrfChecked,
    old: Annotated[str, Form(max_length=1000)] = "",
    new: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Every segment labelled `old` (empty: unlabelled) gets `new` (`POST .../speakers`)."""
    try:
        recording = workflow.recording_for(user, recording_id)
    except TaxAssistError as exc:
        return error_page(request, user, exc)
    posted = {"old": old, "new": new, "relabel": str(recording_id)}
    fields = {"old": "relabel-old", "new": "relabel-new"}

    def act() -> None:
        workflow.recording_for(user, recording_id, write=True)
        body = checked(SpeakerRelabel, {"old": old or None, "new": new.strip()}, fields)
        relabel_speaker(workflow.services, user, recording_id, body.old, body.new)

    return run(request, workflow, user, recording.case_id, act, posted, f"rec-{recording_id}")


# -- disagreement with a legal review --------------------------------------------------------------
@router.post("/workbench/cases/{case_id}/escalation")
def escalate(
    case_id: DbId,
    request: Request,
    user: WebUser,
    workflow: WorkflowDep,
    _csrf: CsrfChecked,
    reason: Annotated[str, Form(max_length=20000)] = "",
) -> Response:
    """The handling unit disagrees with 存在问题: to its leader, then the principal."""

    def act() -> None:
        body = checked(EscalateRequest, {"reason": reason}, {"reason": "escalate-reason"})
        Escalation(workflow.lifecycle).escalate(user, case_id, reason=body.reason)

    posted = {"form": "escalate", "reason": reason}
    return run(request, workflow, user, case_id, act, posted, "h-escalation")


@router.post("/workbench/cases/{case_id}/escalation/decision")
def decide_escalation(
    case_id: DbId,
    request: Request,
    user: WebUser,
    workflow: WorkflowDep,
    _csrf: CsrfChecked,
    outcome: Annotated[str, Form(max_length=64)] = "",
    opinion: Annotated[str, Form(max_length=20000)] = "",
) -> Response:
    """The pending level's decision (the unit's leader, then the principal)."""
    fields = {"outcome": "escalation-outcome", "opinion": "escalation-opinion"}

    def act() -> None:
        body = checked(EscalationDecision, {"outcome": outcome, "opinion": opinion}, fields)
        Escalation(workflow.lifecycle).decide(
            user, case_id, outcome=body.outcome, opinion=body.opinion
        )

    posted = {"form": "decide_escalation", "outcome": outcome, "opinion": opinion}
    return run(request, workflow, user, case_id, act, posted, "h-escalation")


# -- the signed record and the 一户式 archive ---------------------------------------------------
@router.get("/workbench/cases/{case_id}/record/verify")
def verify(case_id: DbId, request: Request, user: WebUser, workflow: WorkflowDep) -> Response:
    """Every event's signature and chain and every file's checksum, checked now
    (`GET /cases/{id}/record/verify`): the result alone for htmx, or on the case page."""
    try:
        context = pages.case_context(workflow, user, case_id)
    except TaxAssistError as exc:
        return error_page(request, user, exc)
    context["verification"] = verify_record(workflow.services, case_id).to_dict()
    if "hx-request" in request.headers:
        return render(request, "_verification.html", context)
    return render(request, "case.html", context)


@router.get("/workbench/cases/{case_id}/archive")
def archive(case_id: DbId, request: Request, user: WebUser, workflow: WorkflowDep) -> Response:
    """The taxpayer's signed 一户式 archive (zip), administrators only as over the API."""
    try:
        case = workflow.get_case(case_id, user)
        get_admin(user)
        data = export_archive(workflow.services, case.taxpayer.uscc)
    except TaxAssistError as exc:
        return pages.case_page(request, workflow, user, case_id, exc)
    name = f"{case.taxpayer.uscc.strip().upper()}.zip"
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# -- lifecycle actions: 告知 … 结案, 听证, 移送 ------------------------------------------------
# (action, refusal code) → the form's field the refusal concerns, where the service's refusal
# does not name it (a guard's rule is about the act, the form knows which input it was).
REFUSED_FIELDS = {
    ("schedule_hearing", "missing_hearing_place"): "place",
    ("schedule_hearing", "unknown_hearing_chair"): "chair",
    ("schedule_hearing", "rule_hearing_chair"): "chair",
    ("schedule_hearing", "rule_hearing_notice_period"): "hearing_on",
    ("hold_hearing", "rule_hearing_notice_period"): "on",
    ("hold_hearing", "rule_act_date"): "on",
    ("hold_hearing", "rule_hearing_record"): "record",
    ("review_statement", "missing_review_opinion"): "opinion",
    ("reject_referral", "rule_referral_approval"): "reason",
    ("police_declined", "rule_referral_declined"): "notice",
}


@router.post("/workbench/cases/{case_id}/lifecycle/{action}")
async def lifecycle_action(
    case_id: DbId,
    action: str,
    request: Request,
    user: WebUser,
    workflow: WorkflowDep,
    _csrf: CsrfChecked,
) -> Response:
    """The action's form through the API's `LifecycleRequest` and the API's own dispatch
    (`api.routers.lifecycle.perform`); a refusal is shown beside the field it concerns."""
    form = await request.form()
    fields = pages.ACTION_FIELDS.get(action, ())
    field_ids = {name: f"{action}-{name}" for name in fields}
    values: dict[str, Any] = {}
    for name in fields:
        if pages.ACTION_FIELD_KINDS.get(name) == "flag":
            values[name] = form.get(name) == "on"
        elif str(form.get(name, "")) or pages.ACTION_FIELD_KINDS.get(name) != "date":
            values[name] = str(form.get(name, ""))

    def act() -> None:
        if action not in pages.ACTION_FIELDS:
            raise InvalidInput("unknown_action", f"未知的程序操作：{action}")
        body = checked(LifecycleRequest, values, field_ids)
        try:
            perform(workflow.lifecycle, user, case_id, action, body)
        except TaxAssistError as exc:  # the service's refusal of a field, beside the field
            field = exc.details.get("field") or REFUSED_FIELDS.get((action, exc.code))
            if field in field_ids:
                exc.details["field"] = field_ids[field]
            raise

    posted = {key: str(value) for key, value in form.items()}
    return await run_in_threadpool(run, request, workflow, user, case_id, act, posted)

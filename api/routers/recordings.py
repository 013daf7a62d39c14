from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter, File, Request, Response, UploadFile, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentUser, JobQueueDep, WorkflowDep
from api.fields import DbId, Line, Paragraph, Position
from api.openapi import file_responses
from api.routers.jobs import job_out
from api.schemas import RecordingOut, UploadAccepted
from assistant.cases.speakers import (
    delete_voiceprint,
    enrol_voiceprint,
    voiceprint_status,
)
from assistant.cases.transcripts import (
    EXTENSIONS,
    MEDIA_TYPES,
    CurrentSegment,
    ExportFormat,
    correct_segments,
    export_transcript,
    relabel_speaker,
    segment_versions,
)
from assistant.db import Recording
from assistant.errors import PayloadTooLarge

router = APIRouter(tags=["recordings"])

# Multipart framing around the file; the file itself is limited exactly while staging.
_MULTIPART_SLACK = 64 * 1024


def _out(recording: Recording) -> RecordingOut:
    out = RecordingOut.model_validate(recording)
    if recording.duration_seconds:
        out.real_time_factor = round(recording.processing_seconds / recording.duration_seconds, 4)
    return out


@router.post(
    "/cases/{case_id}/recordings",
    response_model=UploadAccepted,
    status_code=status.HTTP_202_ACCEPTED,
)
def upload_recording(
    case_id: DbId,
    request: Request,
    response: Response,
    user: CurrentUser,
    workflow: WorkflowDep,
    jobs: JobQueueDep,
    file: UploadFile = File(description="interview recording: wav, mp3, m4a, flac, ogg, mp4 …"),
) -> UploadAccepted:
    """Store the original (SHA-256) and start its transcription job: 202 with the job's URLs.

    What can be checked at once (size, not audio, empty, corrupt header, length limit,
    unsupported codec) is a 4xx here and stores nothing; damage found while decoding fails the
    job with a reason. Follow `GET /jobs/{id}` or the SSE stream `GET /jobs/{id}/events`.
    """
    limit = workflow.settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + _MULTIPART_SLACK:
        raise PayloadTooLarge(
            "file_too_large",
            f"文件超过大小上限（{limit // (1024 * 1024)} MB）。",
            details={"max_bytes": limit},
        )
    upload = workflow.add_recording(
        user,
        case_id,
        file.file,
        filename=file.filename or "recording",
        content_type=file.content_type,
    )
    jobs.submit(upload.job.id)
    response.headers["Location"] = f"/jobs/{upload.job.id}"
    return UploadAccepted(recording=_out(upload.recording), job=job_out(upload.job))


@router.get("/cases/{case_id}/recordings", response_model=list[RecordingOut])
def list_recordings(case_id: DbId, user: CurrentUser, workflow: WorkflowDep) -> list[RecordingOut]:
    return [_out(r) for r in workflow.recordings(case_id, user)]


@router.get("/recordings/{recording_id}", response_model=RecordingOut)
def get_recording(recording_id: DbId, user: CurrentUser, workflow: WorkflowDep) -> RecordingOut:
    return _out(workflow.recording_for(user, recording_id))


# --- transcript outputs -------------------------------------------------------------


@router.get(
    "/recordings/{recording_id}/transcript",
    response_class=Response,
    responses=file_responses(*dict.fromkeys(MEDIA_TYPES.values())),
)
def export_recording_transcript(
    recording_id: DbId,
    user: CurrentUser,
    workflow: WorkflowDep,
    format: ExportFormat = "json",
    version: Literal["current", "machine"] = "current",
) -> Response:
    """The transcript as JSON, SRT, WebVTT, text, or a 询问笔录 draft (record_txt, record_docx)."""
    workflow.recording_for(user, recording_id)
    body = export_transcript(workflow.services, recording_id, format, machine=version == "machine")
    name = f"recording-{recording_id}.{EXTENSIONS[format]}"
    return Response(
        body,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


class SegmentCorrection(BaseModel):
    text: Paragraph | None = Field(default=None, max_length=2000)
    speaker: Line | None = Field(default=None, max_length=32)


class SpeakerRelabel(BaseModel):
    old: Line | None = Field(default=None, max_length=32, description="null: unlabelled segments")
    new: Line = Field(min_length=1, max_length=32)


def _current(segments: list[CurrentSegment]) -> list[dict[str, Any]]:
    return [asdict(s) for s in segments]


@router.patch("/recordings/{recording_id}/segments/{index}")
def correct_recording_segment(
    recording_id: DbId,
    index: Position,
    body: SegmentCorrection,
    user: CurrentUser,
    workflow: WorkflowDep,
) -> list[dict[str, Any]]:
    """The handling officer corrects a segment's text or speaker: a new version; the machine
    transcript is kept."""
    workflow.recording_for(user, recording_id, write=True)
    return _current(
        correct_segments(workflow.services, user, recording_id, {index: (body.text, body.speaker)})
    )


@router.post("/recordings/{recording_id}/speakers")
def relabel_recording_speaker(
    recording_id: DbId, body: SpeakerRelabel, user: CurrentUser, workflow: WorkflowDep
) -> list[dict[str, Any]]:
    workflow.recording_for(user, recording_id, write=True)
    return _current(relabel_speaker(workflow.services, user, recording_id, body.old, body.new))


@router.get("/recordings/{recording_id}/segments/{index}/versions")
def recording_segment_versions(
    recording_id: DbId, index: Position, user: CurrentUser, workflow: WorkflowDep
) -> list[dict[str, object]]:
    workflow.recording_for(user, recording_id)
    return segment_versions(workflow.services, recording_id, index)


# --- speakers of mono recordings: officers' voiceprints ---------------------------------------


class VoiceprintEnrolment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    speaker: Line = Field(
        default="问", min_length=1, max_length=32, description="the label of your own turns"
    )


@router.post("/recordings/{recording_id}/voiceprint", status_code=status.HTTP_201_CREATED)
def enrol_recording_voiceprint(
    recording_id: DbId, body: VoiceprintEnrolment, user: CurrentUser, workflow: WorkflowDep
) -> dict[str, Any]:
    """Enrol your voice from this recording's turns labelled `speaker` (check them first): in
    later mono recordings your turns are then labelled 问 by voice, not by question cues."""
    return asdict(enrol_voiceprint(workflow.services, user, recording_id, body.speaker))


@router.get("/auth/me/voiceprint", responses={404: {"description": "尚未登记声纹"}})
def my_voiceprint(user: CurrentUser, workflow: WorkflowDep) -> dict[str, Any]:
    return asdict(voiceprint_status(workflow.services, user))


@router.delete(
    "/auth/me/voiceprint",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "尚未登记声纹"}},
)
def delete_my_voiceprint(user: CurrentUser, workflow: WorkflowDep) -> Response:
    delete_voiceprint(workflow.services, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

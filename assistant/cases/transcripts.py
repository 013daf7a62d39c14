"""Issue 3: a stored transcript in the format the officer asks for (SRT, WebVTT, text, 询问笔录)."""

from __future__ import annotations

from typing import Literal

from assistant.db.models import Case, Recording
from assistant.errors import NotFound
from assistant.services import Services
from assistant.transcription.exports import (
    InterviewHeader,
    interview_record_docx,
    interview_record_lines,
    to_json,
    to_srt,
    to_text,
    to_vtt,
)

ExportFormat = Literal["json", "srt", "vtt", "txt", "record_txt", "record_docx"]
MEDIA_TYPES: dict[str, str] = {
    "json": "application/json",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "record_txt": "text/plain; charset=utf-8",
    "record_docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
EXTENSIONS = {
    "json": "json",
    "srt": "srt",
    "vtt": "vtt",
    "txt": "txt",
    "record_txt": "txt",
    "record_docx": "docx",
}


def export_transcript(services: Services, recording_id: int, fmt: ExportFormat) -> bytes:
    with services.db.session() as session:
        recording = session.get(Recording, recording_id)
        if recording is None:
            raise NotFound("recording_not_found", f"录音 {recording_id} 不存在。")
        segments = list(recording.segments)
        if fmt == "json":
            return to_json(segments, model=recording.model).encode("utf-8")
        if fmt == "srt":
            return to_srt(segments).encode("utf-8")
        if fmt == "vtt":
            return to_vtt(segments).encode("utf-8")
        if fmt == "txt":
            return to_text(segments).encode("utf-8")
        case = session.get(Case, recording.case_id)
        header = _header(case)
        if fmt == "record_txt":
            return ("\n".join(interview_record_lines(segments, header)) + "\n").encode("utf-8")
        return interview_record_docx(segments, header)


def _header(case: Case | None) -> InterviewHeader:
    """What the case knows; time, place and people present are left for the officer to fill."""
    if case is None:
        return InterviewHeader()
    taxpayer = case.taxpayer
    extra = {"被询问单位": f"{taxpayer.name}（{taxpayer.uscc}）"}
    return InterviewHeader(interviewee=taxpayer.legal_representative or "", extra=extra)

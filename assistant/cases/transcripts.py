"""A stored transcript in the format the officer asks for (SRT, WebVTT, text, 询问笔录).

The 询问笔录 exports are the document type's layout (`interview_record` in the registry) filled
from the transcript as a draft: this module is the glue, since transcription knows nothing of
documents or cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.cases.access import require_handler
from assistant.cases.events import record_action
from assistant.cases.interview_header import InterviewHeader, build_header
from assistant.db.models import Case, Recording, SegmentRevision, TranscriptSegment, User
from assistant.documents.registry import REGISTRY
from assistant.drafting.documents import RenderedDocument
from assistant.drafting.other_documents import InterviewContext, Utterance
from assistant.errors import InvalidInput, NotFound
from assistant.services import Services
from assistant.transcription.backend import Word
from assistant.transcription.exports import (
    SegmentLike,
    check_point_lines,
    interview_turns,
    segment_words,
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


@dataclass(frozen=True)
class CurrentSegment:
    """A segment as the officer last left it; version 0 is the machine transcript."""

    index: int
    start: float
    end: float
    text: str
    avg_logprob: float
    speaker: str | None
    version: int
    machine_text: str
    machine_speaker: str | None
    # the machine's word timings/probabilities while the text is the machine's (a speaker
    # relabel keeps them); none once the officer has changed the text
    words: tuple[Word, ...] = ()


def _recording(session: Session, recording_id: int) -> Recording:
    recording = session.get(Recording, recording_id)
    if recording is None:
        raise NotFound("recording_not_found", f"录音 {recording_id} 不存在。")
    return recording


def current_segments(session: Session, recording: Recording) -> list[CurrentSegment]:
    latest: dict[int, SegmentRevision] = {}
    for revision in session.scalars(
        select(SegmentRevision)
        .where(SegmentRevision.recording_id == recording.id)
        .order_by(SegmentRevision.version)
    ):
        latest[revision.segment_index] = revision
    out = []
    for s in recording.segments:
        rev = latest.get(s.index)
        out.append(
            CurrentSegment(
                index=s.index,
                start=s.start,
                end=s.end,
                text=rev.text if rev else s.text,
                # an officer's correction is certain: it is never marked for checking
                avg_logprob=0.0 if rev else s.avg_logprob,
                speaker=rev.speaker if rev else s.speaker,
                version=rev.version if rev else 0,
                machine_text=s.text,
                machine_speaker=s.speaker,
                words=segment_words(s) if rev is None or rev.text == s.text else (),
            )
        )
    return out


def correct_segments(
    services: Services,
    actor: User,
    recording_id: int,
    changes: dict[int, tuple[str | None, str | None]],
) -> list[CurrentSegment]:
    """New versions for the given segments: index → (new text or None, new speaker or None)."""
    with services.db.session() as session:
        recording = _recording(session, recording_id)
        case = session.get(Case, recording.case_id)
        assert case is not None
        require_handler(actor, case)
        current = {s.index: s for s in current_segments(session, recording)}
        added: list[SegmentRevision] = []
        for index, (text, speaker) in changes.items():
            if index not in current:
                raise NotFound("segment_not_found", f"录音 {recording_id} 没有第 {index} 段。")
            if text is not None and not text.strip():
                raise InvalidInput(
                    "empty_segment_text",
                    "更正后的文字不能为空。",
                    details={"field": "text", "index": index},
                )
            version = (
                session.scalar(
                    select(func.max(SegmentRevision.version)).where(
                        SegmentRevision.recording_id == recording_id,
                        SegmentRevision.segment_index == index,
                    )
                )
                or 0
            ) + 1
            added.append(
                SegmentRevision(
                    recording_id=recording_id,
                    segment_index=index,
                    version=version,
                    text=text.strip() if text is not None else current[index].text,
                    speaker=speaker if speaker is not None else current[index].speaker,
                    edited_by=actor.id,
                )
            )
        session.add_all(added)
        # A correction changes what the 询问笔录 will say: it is a recorded, signed act.
        record_action(
            services,
            session,
            case,
            actor,
            "segments_corrected",
            case.status,
            case.status,
            {
                "recording_id": recording_id,
                "segments": [{"index": r.segment_index, "version": r.version} for r in added],
            },
            covers=added,
        )
        session.flush()
        return current_segments(session, recording)


def relabel_speaker(
    services: Services, actor: User, recording_id: int, old: str | None, new: str
) -> list[CurrentSegment]:
    """Every segment now labelled `old` (None: unlabelled) gets `new`, as a new version each."""
    with services.db.session() as session:
        segments = current_segments(session, _recording(session, recording_id))
    changes: dict[int, tuple[str | None, str | None]] = {
        s.index: (None, new) for s in segments if s.speaker == old
    }
    if not changes:
        raise InvalidInput("speaker_not_found", f"没有标为“{old}”的段落。")
    return correct_segments(services, actor, recording_id, changes)


def segment_versions(services: Services, recording_id: int, index: int) -> list[dict[str, object]]:
    """The machine text (version 0) and every correction, oldest first."""
    with services.db.session() as session:
        recording = _recording(session, recording_id)
        machine = next((s for s in recording.segments if s.index == index), None)
        if machine is None:
            raise NotFound("segment_not_found", f"录音 {recording_id} 没有第 {index} 段。")
        versions: list[dict[str, object]] = [
            {"version": 0, "text": machine.text, "speaker": machine.speaker, "edited_by": None}
        ]
        for rev in session.scalars(
            select(SegmentRevision)
            .where(
                SegmentRevision.recording_id == recording_id,
                SegmentRevision.segment_index == index,
            )
            .order_by(SegmentRevision.version)
        ):
            versions.append(
                {
                    "version": rev.version,
                    "text": rev.text,
                    "speaker": rev.speaker,
                    "edited_by": rev.edited_by,
                    "created_at": rev.created_at.isoformat(),
                }
            )
        return versions


def export_transcript(
    services: Services, recording_id: int, fmt: ExportFormat, *, machine: bool = False
) -> bytes:
    """The officer's current version by default; `machine=True` gives the untouched machine one."""
    with services.db.session() as session:
        recording = _recording(session, recording_id)
        segments: list[CurrentSegment] | list[TranscriptSegment] = (
            list(recording.segments) if machine else current_segments(session, recording)
        )
        if fmt == "json":
            return to_json(segments, model=recording.model).encode("utf-8")
        if fmt == "srt":
            return to_srt(segments).encode("utf-8")
        if fmt == "vtt":
            return to_vtt(segments).encode("utf-8")
        if fmt == "txt":
            return to_text(segments).encode("utf-8")
        case = session.get(Case, recording.case_id)
        header = (
            build_header(
                session,
                services.settings,
                case,
                recording,
                services.files.path_for(recording.sha256),
            )
            if case is not None
            else InterviewHeader()
        )
        events = ((recording.model or {}).get("check_results") or {}).get("events", [])
        rendered = interview_draft(
            segments, header, authority=services.settings.authority_name, check_events=events
        )
        if fmt == "record_txt":
            return (rendered.text + "\n").encode("utf-8")
        return rendered.docx


def interview_draft(
    segments: Sequence[SegmentLike],
    header: InterviewHeader,
    *,
    authority: str,
    check_events: Sequence[dict[str, Any]] = (),
) -> RenderedDocument:
    """The 询问笔录 draft of a transcript in the document type's own layout: the header the
    system could fill, the points to check against the recording, the 问/答 turns (【待核：…】
    where the model was unsure, 〔未标注〕 where no speaker is known), blanks for the rest."""
    context = InterviewContext(
        authority=authority,
        start=header.started,
        end=header.ended,
        place=header.place,
        interviewers=header.interviewers,
        recorder=header.recorder,
        interviewee=header.interviewee,
        interviewee_id=header.interviewee_id,
        interviewee_role="",
        utterances=tuple(Utterance(role, text) for role, text in interview_turns(segments)),
        extra=tuple(header.extra.items()),
        check_points=tuple(check_point_lines(check_events)),
        draft=True,
    )
    return REGISTRY["interview_record"].render(context)

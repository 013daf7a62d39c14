"""Speakers of a stored recording: 问/答 labels for mono transcripts, and officers' voiceprints.

The transcription job calls `label_speakers` once its segments are stored. The audio is read
again window by window (bounded memory); enrolled voiceprints of the case's handling officer
and of other officers decide who is 问, else the question cues of the text (diarization).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select

from assistant.db.models import (
    Case,
    Recording,
    SegmentRevision,
    TranscriptSegment,
    User,
    Voiceprint,
)
from assistant.db.types import utcnow
from assistant.errors import InvalidInput, ModelUnavailable, NotFound
from assistant.registry import load_manifest, sha256_file
from assistant.services import Services
from assistant.transcription.diarization import SpeechSpan, diarize, voiceprint_of
from assistant.transcription.diarization import Voiceprint as Print
from assistant.transcription.speaker_encoder import VoiceEncoder
from assistant.transcription.windows import iter_windows

log = logging.getLogger(__name__)

# Enough speech for a stable voiceprint: GE2E enrolments use several utterances; 8 s of the
# officer's own questions is a few of them.
MIN_ENROL_SECONDS = 8.0


def speaker_model_id(services: Services) -> str:
    """name@SHA-256 prefix of the encoder weights: a voiceprint only compares with its own."""
    spec = load_manifest()["speaker"]
    if services.settings.speaker_model_path is None:
        return f"{spec.name}@{spec.files[0].sha256[:12]}"
    return f"custom@{sha256_file(services.settings.speaker_model_path)[:12]}"


def _mono_windows(services: Services, recording: Recording) -> Iterator[tuple[float, np.ndarray]]:
    path = services.files.path_for(recording.sha256)
    for window in iter_windows(
        path,
        window_seconds=services.settings.asr_window_seconds,
        max_seconds=services.settings.max_audio_seconds,
    ):
        yield window.start, window.samples.mean(axis=0)


def _prints(services: Services, case: Case) -> list[Print]:
    model = speaker_model_id(services)
    with services.db.session() as session:
        rows = session.scalars(
            select(Voiceprint)
            .join(User, User.id == Voiceprint.user_id)
            .where(Voiceprint.model == model, User.active.is_(True))
            .order_by(Voiceprint.user_id)
        ).all()
        return [
            Print(
                user_id=row.user_id,
                embedding=np.asarray(row.embedding, dtype=np.float32),
                case_officer=row.user_id == case.officer_id,
            )
            for row in rows
        ]


def label_speakers(services: Services, recording_id: int) -> dict[str, Any]:
    """Label every machine segment of a mono recording 问/问2/答/答2 (or 说话人N when nothing
    tells the officer apart); returns what the transcript metadata records. Diarization is an
    aid: when the voice model is missing the transcript stays unlabelled, never fails."""
    if not services.settings.diarization:
        return {"method": "off"}
    with services.db.session() as session:
        recording = session.get(Recording, recording_id)
        assert recording is not None
        case = session.get(Case, recording.case_id)
        assert case is not None
        session.expunge(case)
        spans = [
            SpeechSpan(s.index, s.start, s.end, s.text)
            for s in sorted(recording.segments, key=lambda s: s.index)
        ]
        session.expunge(recording)
    try:
        encoder: VoiceEncoder = services.models.get("speaker")
    except ModelUnavailable as exc:
        log.warning("speaker labels skipped: %s", exc.message)
        return {"method": "unavailable", "reason": exc.code}
    try:
        result = diarize(
            encoder, spans, _mono_windows(services, recording), _prints(services, case)
        )
    except Exception as exc:  # an aid failing must not fail the transcript it labels
        log.exception("speaker labels failed for recording %s", recording_id)
        return {"method": "failed", "reason": type(exc).__name__}
    with services.db.session() as session:
        for segment in session.scalars(
            select(TranscriptSegment).where(TranscriptSegment.recording_id == recording_id)
        ):
            segment.speaker = result.labels.get(segment.index)
    return {**result.record(), "model": speaker_model_id(services)}


@dataclass(frozen=True)
class VoiceprintInfo:
    user_id: int
    model: str
    seconds: float
    recording_id: int | None
    speaker: str
    created_at: datetime


def _info(row: Voiceprint) -> VoiceprintInfo:
    return VoiceprintInfo(
        row.user_id, row.model, row.seconds, row.recording_id, row.speaker, row.created_at
    )


def enrol_voiceprint(
    services: Services, actor: User, recording_id: int, speaker: str = "问"
) -> VoiceprintInfo:
    """The actor's voiceprint from the segments of a recording now labelled `speaker` (after the
    officer's corrections): the officer confirms which voice is theirs, the system remembers it.
    Replaces an earlier voiceprint of the same model."""
    from assistant.cases.service import CaseWorkflow

    CaseWorkflow(services).recording_for(actor, recording_id, write=True)  # 404 / 403
    with services.db.session() as session:
        recording = session.get(Recording, recording_id)
        assert recording is not None
        latest: dict[int, str | None] = {}
        for revision in session.scalars(
            select(SegmentRevision)
            .where(SegmentRevision.recording_id == recording_id)
            .order_by(SegmentRevision.version)
        ):
            latest[revision.segment_index] = revision.speaker
        spans = [
            SpeechSpan(s.index, s.start, s.end, s.text)
            for s in sorted(recording.segments, key=lambda s: s.index)
            if latest.get(s.index, s.speaker) == speaker
        ]
        session.expunge(recording)
    seconds = sum(s.end - s.start for s in spans)
    if seconds < MIN_ENROL_SECONDS:
        raise InvalidInput(
            "voiceprint_too_short",
            f"标为“{speaker}”的语音共 {seconds:.1f} 秒，不足 {MIN_ENROL_SECONDS:.0f} 秒，"
            "无法登记声纹。请先核对说话人标注，或使用更长的录音。",
            details={"speaker": speaker, "seconds": round(seconds, 1)},
        )
    encoder: VoiceEncoder = services.models.get("speaker")
    embedding, total = voiceprint_of(encoder, spans, _mono_windows(services, recording))
    model = speaker_model_id(services)
    with services.db.session() as session:
        row = session.scalar(
            select(Voiceprint).where(Voiceprint.user_id == actor.id, Voiceprint.model == model)
        )
        if row is None:
            row = Voiceprint(user_id=actor.id, model=model)
            session.add(row)
        row.embedding = [round(float(v), 6) for v in embedding]
        row.seconds = total
        row.recording_id = recording_id
        row.speaker = speaker
        row.created_at = utcnow()
        session.flush()
        return _info(row)


def voiceprint_status(services: Services, user: User) -> VoiceprintInfo:
    with services.db.session() as session:
        row = session.scalar(
            select(Voiceprint).where(
                Voiceprint.user_id == user.id, Voiceprint.model == speaker_model_id(services)
            )
        )
        if row is None:
            raise NotFound("voiceprint_not_found", "尚未登记声纹。")
        return _info(row)


def delete_voiceprint(services: Services, user: User) -> None:
    with services.db.session() as session:
        rows = session.scalars(select(Voiceprint).where(Voiceprint.user_id == user.id)).all()
        if not rows:
            raise NotFound("voiceprint_not_found", "尚未登记声纹。")
        for row in rows:
            session.delete(row)

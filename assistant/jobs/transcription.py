"""The transcription job: bounded windows in, one committed segment at a time out.

Each segment is committed with the job's progress as it arrives, so a crash loses at most the
segment being recognised: a restarted job begins decoding at the end of the last stored
segment (recorded as `resumed_from_seconds`) and numbers new segments after it. Success writes
the signed `recording_transcribed` event in the same transaction as the final state.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, replace
from typing import Any

from sqlalchemy import func, select

from assistant.db.models import Case, Recording, TranscriptSegment, User
from assistant.db.types import utcnow
from assistant.errors import TaxAssistError
from assistant.jobs import store
from assistant.jobs.store import CANCELLED_MSG, Cancelled, Stopped
from assistant.services import Services
from assistant.transcription.backend import Segment, SegmentStream, Transcriber, check_summary
from assistant.transcription.channels import channels_differ
from assistant.transcription.checks import placeholder
from assistant.transcription.windows import Window, iter_windows

log = logging.getLogger(__name__)

SPEAKERS = ("问", "答")  # left, right: one speaker per channel (interview-room recorders)


def run_transcription(
    services: Services, job_id: int, *, stopping: Callable[[], bool] = lambda: False
) -> str:
    """Run (or resume) one transcription job to a final state; returns that state.

    `stopping` is polled between segments: True means the process is shutting down.
    """
    claim = _claim(services, job_id)
    if claim is None:
        return _status(services, job_id)
    job_id, recording_id, offset, next_index = claim
    try:
        _transcribe(services, job_id, recording_id, offset, next_index, stopping)
    except Stopped:
        with services.db.session() as session:
            job = store.load_job(session, job_id)
            job.status = store.QUEUED
        return store.QUEUED
    except Cancelled:
        with services.db.session() as session:
            store.finish(
                session,
                store.load_job(session, job_id),
                store.CANCELLED,
                code="cancelled",
                message=CANCELLED_MSG,
            )
        return store.CANCELLED
    except TaxAssistError as exc:
        _fail(services, job_id, exc.code, exc.message, exc.details)
        return store.FAILED
    except Exception as exc:  # a bug or a model crash must not leave a running job behind
        log.exception("transcription job %s failed", job_id)
        _fail(
            services,
            job_id,
            "transcription_failed",
            f"转写过程出错（{type(exc).__name__}），可重试；多次失败请联系管理员。",
            {"reason": str(exc)[:200]},
        )
        return store.FAILED
    return store.SUCCEEDED


def _claim(services: Services, job_id: int) -> tuple[int, int, float, int] | None:
    """Mark the job running and find where to resume: after the last stored segment."""
    with services.db.session() as session:
        job = store.load_job(session, job_id)
        if job.recording_id is None or not store.claim(session, job):
            return None
        last = session.scalar(
            select(TranscriptSegment)
            .where(TranscriptSegment.recording_id == job.recording_id)
            .order_by(TranscriptSegment.index.desc())
            .limit(1)
        )
        offset = float(last.end) if last is not None else 0.0
        job.resumed_from_seconds = offset
        job.processed_seconds = max(job.processed_seconds, offset)
        job.progress = _share(job.processed_seconds, job.duration_seconds)
        store.sync_recording(session, job)
        return job.id, job.recording_id, offset, (last.index + 1 if last is not None else 0)


def _transcribe(
    services: Services,
    job_id: int,
    recording_id: int,
    offset: float,
    next_index: int,
    stopping: Callable[[], bool],
) -> None:
    settings = services.settings
    with services.db.session() as session:
        recording = session.get(Recording, recording_id)
        assert recording is not None
        case = session.get(Case, recording.case_id)
        assert case is not None
        path = services.files.path_for(recording.sha256)
        prompt = _case_prompt(services, case)
        details = dict(store.load_job(session, job_id).details or {})
    backend = services.transcriber()
    started = time.perf_counter()
    language: str | None = details.get("language")
    split: bool | None = details.get("split_channels")
    windows = iter_windows(
        path,
        start=offset,
        window_seconds=settings.asr_window_seconds,
        max_seconds=settings.max_audio_seconds,
    )
    try:
        for window in windows:
            if split is None:  # decided once, on the first window, and kept for resumes
                split = window.samples.shape[0] >= 2 and channels_differ(*window.samples[:2])
                _update_details(services, job_id, split_channels=split)
            events: list[dict[str, Any]] = []
            for segment, lang in _window_segments(
                backend, window, split, settings.asr_language, prompt, events
            ):
                if language is None:
                    language = lang
                    _update_details(services, job_id, language=lang)
                _store_segment(services, job_id, recording_id, next_index, segment, window)
                next_index += 1
                store.check_stop(services.db, job_id, stopping)
            if events:  # segments that failed the checks: counted in the recording's metadata
                _add_check_events(services, job_id, events)
            _progress(services, job_id, window.end)
            store.check_stop(services.db, job_id, stopping)
    except BaseException:
        spent = float(details.get("processing_seconds", 0.0)) + time.perf_counter() - started
        _update_details(services, job_id, processing_seconds=round(spent, 3))
        raise
    if not split:  # mono: speakers from voices (a split recording has one per channel)
        _update_details(services, job_id, diarization=_label_speakers(services, recording_id))
    elapsed = time.perf_counter() - started
    _succeed(services, job_id, recording_id, backend, language, split, elapsed, prompt)


def _window_segments(
    backend: Transcriber,
    window: Window,
    split: bool,
    language: str,
    prompt: str | None,
    events: list[dict[str, Any]],
) -> Iterator[tuple[Segment, str]]:
    """Segments of one window, as produced; per channel and merged by start time when split.

    Once the window is done, `events` holds its check events in recording time."""
    channels = window.samples[:2] if split else [window.samples.mean(axis=0)]
    streams = [
        backend.stream(samples, language=language, initial_prompt=prompt) for samples in channels
    ]
    if not split:
        yield from ((s, streams[0].language) for s in streams[0].segments)
    else:
        tagged = [_labelled(stream, SPEAKERS[ch]) for ch, stream in enumerate(streams)]
        yield from heapq.merge(*tagged, key=lambda item: (item[0].start, item[0].end))
    for ch, stream in enumerate(streams):
        for event in stream.events:
            row = event.to_dict(offset=window.start)
            events.append(row | {"speaker": SPEAKERS[ch]} if split else row)
    events.sort(key=lambda row: (row["start"], row["end"]))


def _add_check_events(services: Services, job_id: int, events: list[dict[str, Any]]) -> None:
    with services.db.session() as session:
        job = store.load_job(session, job_id)
        details = dict(job.details or {})
        job.details = details | {"check_events": [*details.get("check_events", []), *events]}


def _labelled(stream: SegmentStream, speaker: str) -> Iterator[tuple[Segment, str]]:
    for segment in stream.segments:
        yield replace(segment, speaker=speaker), stream.language


def _store_segment(
    services: Services,
    job_id: int,
    recording_id: int,
    index: int,
    segment: Segment,
    window: Window,
) -> None:
    """One segment and the job's progress in one commit: what is stored is never redone."""
    off = window.start
    end = min(round(segment.end + off, 3), round(window.end, 3))
    start = round(segment.start + off, 3)
    # A placeholder names its span in recording time, not in the window's.
    text = placeholder(start, end) if segment.check == "unrecognized" else segment.text
    with services.db.session() as session:
        session.add(
            TranscriptSegment(
                recording_id=recording_id,
                index=index,
                start=start,
                end=end,
                text=text,
                avg_logprob=segment.avg_logprob,
                no_speech_prob=segment.no_speech_prob,
                speaker=segment.speaker,
                words=[
                    {**asdict(w), "start": round(w.start + off, 3), "end": round(w.end + off, 3)}
                    for w in segment.words
                ]
                or None,
            )
        )
        job = store.load_job(session, job_id)
        job.processed_seconds = max(job.processed_seconds, end)
        job.progress = _share(job.processed_seconds, job.duration_seconds)
        job.heartbeat_at = utcnow()


def _progress(services: Services, job_id: int, seconds: float) -> None:
    with services.db.session() as session:
        job = store.load_job(session, job_id)
        job.processed_seconds = max(job.processed_seconds, round(seconds, 3))
        job.progress = _share(job.processed_seconds, job.duration_seconds)
        job.heartbeat_at = utcnow()


def _update_details(services: Services, job_id: int, **values: Any) -> None:
    with services.db.session() as session:
        job = store.load_job(session, job_id)
        job.details = {**(job.details or {}), **values}


def _succeed(
    services: Services,
    job_id: int,
    recording_id: int,
    backend: Transcriber,
    language: str | None,
    split: bool | None,
    elapsed: float,
    prompt: str | None,
) -> None:
    from assistant.cases.events import record_action

    with services.db.session() as session:
        job = store.load_job(session, job_id)
        recording = session.get(Recording, recording_id)
        case = session.get(Case, job.case_id)
        actor = session.get(User, job.created_by)
        assert recording is not None and case is not None and actor is not None
        # Recognition time of every run of this job (an interrupted run's time is kept too).
        processing = round(float((job.details or {}).get("processing_seconds", 0.0)) + elapsed, 3)
        count = int(
            session.scalar(
                select(func.count(TranscriptSegment.id)).where(
                    TranscriptSegment.recording_id == recording_id
                )
            )
            or 0
        )
        model: dict[str, Any] = {
            **backend.settings_record,
            "language": services.settings.asr_language,
            "initial_prompt": prompt,
            "window_seconds": services.settings.asr_window_seconds,
            "check_results": check_summary((job.details or {}).get("check_events", [])),
        }
        if split:
            model |= {"channels": 2, "speakers": list(SPEAKERS)}
        if "diarization" in (job.details or {}):
            model["diarization"] = job.details["diarization"]
        recording.language = language or services.settings.asr_language
        recording.model = model
        recording.processing_seconds = processing
        job.details = {**(job.details or {}), "processing_seconds": processing}
        job.processed_seconds = recording.duration_seconds
        job.progress = 1.0
        store.finish(session, job, store.SUCCEEDED)
        record_action(
            services,
            session,
            case,
            actor,
            "recording_transcribed",
            case.status,
            case.status,
            {
                "recording_id": recording.id,
                "job_id": job.id,
                "sha256": recording.sha256,
                "duration_seconds": recording.duration_seconds,
                "segments": count,
            },
            covers=[recording],
        )


def _fail(
    services: Services, job_id: int, code: str, message: str, details: dict[str, Any]
) -> None:
    with services.db.session() as session:
        store.finish(
            session,
            store.load_job(session, job_id),
            store.FAILED,
            code=code,
            message=message,
            details=details,
        )


def _status(services: Services, job_id: int) -> str:
    with services.db.session() as session:
        return store.load_job(session, job_id).status


def _share(processed: float, duration: float) -> float:
    return round(min(1.0, processed / duration), 4) if duration > 0 else 0.0


def _label_speakers(services: Services, recording_id: int) -> dict[str, Any]:
    from assistant.cases.speakers import label_speakers

    return label_speakers(services, recording_id)


def _case_prompt(services: Services, case: Case) -> str | None:
    from assistant.cases.service import case_prompt

    return case_prompt(services.settings, case)

"""Stereo recordings with one speaker per channel: transcribe each channel, merge into turns.

Interview-room recorders often put the officer's microphone on one channel and the taxpayer's
on the other; recognising the channels separately gives speaker labels without diarization.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import av
import numpy as np

from assistant.errors import InvalidInput
from assistant.transcription.backend import Segment, Transcriber, Transcript

SAMPLE_RATE = 16000


def decode_channels(path: Path) -> list[np.ndarray]:
    """Every channel resampled to 16 kHz float32, decoded by PyAV frame by frame."""
    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise InvalidInput("not_audio", "文件中没有音频轨道。")
        stream = container.streams.audio[0]
        channels = int(stream.codec_context.channels or 1)
        layout = "stereo" if channels >= 2 else "mono"
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=SAMPLE_RATE)
        chunks: list[np.ndarray] = []
        for frame in container.decode(stream):
            frame.pts = None
            chunks += [f.to_ndarray() for f in resampler.resample(frame)]
        chunks += [f.to_ndarray() for f in resampler.resample(None)]
    if not chunks:
        raise InvalidInput("corrupt_audio", "音频无法解码，文件可能已损坏或被截断。")
    audio = np.concatenate(chunks, axis=1).astype(np.float32)
    return [np.ascontiguousarray(row) for row in audio]


def channels_differ(left: np.ndarray, right: np.ndarray, *, threshold: float = 0.8) -> bool:
    """One speaker per channel, or one room recorded twice? Compare the 20 ms loudness curves."""
    frames = min(len(left), len(right)) // 320
    if frames < 2:
        return False
    a = np.sqrt((left[: frames * 320].reshape(frames, 320) ** 2).mean(axis=1))
    b = np.sqrt((right[: frames * 320].reshape(frames, 320) ** 2).mean(axis=1))
    if a.std() == 0 or b.std() == 0:
        return bool(a.std() != b.std())
    return float(np.corrcoef(a, b)[0, 1]) < threshold


def transcribe_channels(
    backend: Transcriber,
    path: Path,
    *,
    speakers: tuple[str, ...] = ("问", "答"),
    language: str = "zh",
    initial_prompt: str | None = None,
) -> Transcript:
    """One transcript per channel, segments labelled by channel and merged by start time."""
    channels = decode_channels(path)
    if len(channels) < 2 or not channels_differ(channels[0], channels[1]):
        # Ordinary stereo (the same room on both channels) would be transcribed twice.
        return backend.transcribe(path, language=language, initial_prompt=initial_prompt)
    parts = [
        backend.transcribe(samples, language=language, initial_prompt=initial_prompt)
        for samples in channels[: len(speakers)]
    ]
    labelled = [
        replace(segment, speaker=speakers[channel])
        for channel, part in enumerate(parts)
        for segment in part.segments
    ]
    labelled.sort(key=lambda s: (s.start, s.end))
    merged = tuple(replace(segment, index=i) for i, segment in enumerate(labelled))
    model: dict[str, Any] = {**parts[0].model, "channels": len(parts), "speakers": list(speakers)}
    return Transcript(
        segments=merged,
        language=parts[0].language,
        duration_seconds=max(p.duration_seconds for p in parts),
        processing_seconds=round(sum(p.processing_seconds for p in parts), 3),
        model=model,
    )


def speaker_turns(segments: tuple[Segment, ...]) -> list[tuple[str | None, str]]:
    """Consecutive segments of one speaker joined into a turn (问/答 for the 询问笔录)."""
    turns: list[tuple[str | None, str]] = []
    for segment in segments:
        if turns and turns[-1][0] == segment.speaker:
            turns[-1] = (segment.speaker, turns[-1][1] + segment.text)
        else:
            turns.append((segment.speaker, segment.text))
    return turns

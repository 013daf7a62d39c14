"""Decode a recording in bounded windows, so a 3-hour file never sits in memory at once.

PyAV decodes frame by frame and resamples to 16 kHz float32; samples are buffered only up to
one window (default 5 minutes: 19 MB per channel). A window is cut at the quietest 20 ms
near its end, so a word is not split between two windows (each window is recognised on its
own). Times are seconds from the start of the recording.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from assistant.errors import InvalidInput
from assistant.transcription.audio import truncated, truncated_error, wav_stated_seconds

SAMPLE_RATE = 16000
_FRAME = 320  # 20 ms at 16 kHz


class DecodeFailed(InvalidInput):
    """The file probed as audio but could not be decoded to its end (found only while decoding)."""


@dataclass(frozen=True)
class Window:
    start: float  # seconds from the start of the recording
    samples: np.ndarray  # (channels, n) float32 at 16 kHz
    last: bool

    @property
    def end(self) -> float:
        return self.start + self.samples.shape[1] / SAMPLE_RATE


def quiet_cut(mono: np.ndarray, lo: int, hi: int) -> int:
    """The sample index where to end a window: the middle of the quietest stretch in [lo, hi).

    Energy per 20 ms frame, smoothed over 100 ms (a pause, not a quiet frame inside a word);
    when several frames are equally quiet (digital silence), the middle of that run.
    """
    lo = max(0, lo - lo % _FRAME)
    frames = (hi - lo) // _FRAME
    if frames < 1:
        return hi
    energy = (mono[lo : lo + frames * _FRAME].reshape(frames, _FRAME) ** 2).mean(axis=1)
    if frames >= 5:
        energy = np.convolve(energy, np.ones(5) / 5, mode="same")
    quietest = int(np.argmin(energy))
    floor = float(energy[quietest]) * 1.01 + 1e-10
    end = quietest
    while end + 1 < frames and energy[end + 1] <= floor:
        end += 1
    return lo + (quietest + end) // 2 * _FRAME + _FRAME // 2


def iter_windows(
    path: Path,
    *,
    start: float = 0.0,
    window_seconds: float = 300.0,
    search_seconds: float | None = None,
    max_seconds: float | None = None,
) -> Iterator[Window]:
    """Windows of the file from `start` on; all channels kept (one speaker per channel).

    Audio before `start` (a resumed job) is decoded and dropped, never recognised again.
    Raises DecodeFailed (`decode_failed`, `audio_truncated`) or InvalidInput (`audio_too_long`)
    when the damage shows only while decoding.
    """
    window_n = max(int(window_seconds * SAMPLE_RATE), SAMPLE_RATE)
    search_n = int(
        (search_seconds if search_seconds is not None else min(30.0, window_seconds / 5))
        * SAMPLE_RATE
    )
    skip = round(start * SAMPLE_RATE)
    limit = None if max_seconds is None else int((max_seconds + 5) * SAMPLE_RATE)
    position = 0  # samples decoded from the start of the file, at 16 kHz
    emitted = skip  # where the next window begins
    buffer: list[np.ndarray] = []
    buffered = 0
    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            channels = max(1, int(stream.codec_context.channels or 1))
            stated = wav_stated_seconds(path)  # a cut WAV: FFmpeg reports the bytes present
            declared = (
                stated[0]
                if stated is not None
                else float(stream.duration * stream.time_base)
                if stream.duration is not None and stream.time_base is not None
                else None
            )
            resampler = av.AudioResampler(
                format="fltp", layout="stereo" if channels >= 2 else "mono", rate=SAMPLE_RATE
            )
            frames = _decoded(container, stream, resampler)
            for chunk in frames:
                n = chunk.shape[1]
                position += n
                if limit is not None and position > limit:
                    raise InvalidInput(
                        "audio_too_long",
                        f"录音实际时长超过上限（{(max_seconds or 0) / 3600:.1f} 小时）。",
                        details={"max_seconds": max_seconds},
                    )
                if position <= skip:
                    continue
                if position - n < skip:
                    chunk = chunk[:, skip - (position - n) :]
                buffer.append(chunk)
                buffered += chunk.shape[1]
                while buffered >= window_n + _FRAME:
                    audio = np.concatenate(buffer, axis=1)
                    cut = quiet_cut(audio.mean(axis=0), window_n - search_n, window_n)
                    yield Window(emitted / SAMPLE_RATE, np.ascontiguousarray(audio[:, :cut]), False)
                    emitted += cut
                    rest = audio[:, cut:]
                    buffer, buffered = [rest], rest.shape[1]
            decoded_seconds = position / SAMPLE_RATE
            if declared is not None and truncated(declared, decoded_seconds):
                raise truncated_error(declared, decoded_seconds, DecodeFailed)
    except av.error.FFmpegError as exc:
        seconds = position / SAMPLE_RATE
        raise DecodeFailed(
            "decode_failed",
            f"录音在第 {seconds:.0f} 秒处无法继续解码，文件可能已损坏或被截断，"
            "请上传完整的原始录音。",
            details={"decoded_seconds": round(seconds, 3), "reason": str(exc)[:200]},
        ) from exc
    if buffered:
        audio = np.concatenate(buffer, axis=1)
        yield Window(emitted / SAMPLE_RATE, np.ascontiguousarray(audio), True)


def _decoded(
    container: av.container.InputContainer,
    stream: av.audio.AudioStream,
    resampler: av.AudioResampler,
) -> Iterator[np.ndarray]:
    """16 kHz float32 chunks (channels, n) of the stream, frame by frame."""
    for frame in container.decode(stream):
        frame.pts = None
        for out in resampler.resample(frame):
            yield out.to_ndarray()
    for out in resampler.resample(None):
        yield out.to_ndarray()

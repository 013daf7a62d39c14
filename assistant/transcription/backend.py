"""ASR backends behind one small interface; faster-whisper (CTranslate2, int8 on CPU) by default."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

# Whisper was trained on subtitles: on silence it emits these credits. Drop them when the
# model itself thinks the segment is probably not speech.
PHANTOM_PHRASES = ("谢谢观看", "请不吝点赞", "订阅", "字幕", "明镜与点点")


@lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Output is always Simplified Chinese, whatever script the model chose."""
    return str(_t2s().convert(text))


@dataclass(frozen=True)
class Word:
    """One word (for Mandarin: one or a few characters) with its time and the model's confidence."""

    start: float
    end: float
    word: str
    probability: float


@dataclass(frozen=True)
class Segment:
    index: int
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    speaker: str | None = None
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class Transcript:
    segments: tuple[Segment, ...]
    language: str
    duration_seconds: float
    processing_seconds: float
    model: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "".join(segment.text for segment in self.segments)

    @property
    def real_time_factor(self) -> float:
        return self.processing_seconds / self.duration_seconds if self.duration_seconds else 0.0


@dataclass
class SegmentStream:
    """Segments as the model produces them, so a job can store each one as it arrives.

    Times are relative to the audio given; `index` counts from 0 within this stream.
    """

    language: str
    duration_seconds: float
    segments: Iterator[Segment]


class Transcriber(Protocol):
    """What every ASR backend offers: a stream of segments, and the settings that made them."""

    @property
    def settings_record(self) -> dict[str, Any]: ...

    def stream(
        self,
        audio: Path | np.ndarray,
        *,
        language: str = "zh",
        initial_prompt: str | None = None,
    ) -> SegmentStream: ...

    def transcribe(
        self,
        audio: Path | np.ndarray,
        *,
        language: str = "zh",
        initial_prompt: str | None = None,
    ) -> Transcript: ...


def collect(
    backend: Transcriber, stream: SegmentStream, started: float, **record: Any
) -> Transcript:
    """Drain a stream into a Transcript; `started` is the perf_counter time decoding began."""
    segments = tuple(stream.segments)
    return Transcript(
        segments=segments,
        language=stream.language,
        duration_seconds=stream.duration_seconds,
        processing_seconds=round(time.perf_counter() - started, 3),
        model={**backend.settings_record, **record},
    )


class StreamingBackend:
    """`transcribe()` for every backend: drain `stream()` into one Transcript."""

    @property
    def settings_record(self) -> dict[str, Any]:
        raise NotImplementedError

    def stream(
        self,
        audio: Path | np.ndarray,
        *,
        language: str = "zh",
        initial_prompt: str | None = None,
    ) -> SegmentStream:
        raise NotImplementedError

    def transcribe(
        self,
        audio: Path | np.ndarray,
        *,
        language: str = "zh",
        initial_prompt: str | None = None,
    ) -> Transcript:
        started = time.perf_counter()
        stream = self.stream(audio, language=language, initial_prompt=initial_prompt)
        return collect(self, stream, started, language=language, initial_prompt=initial_prompt)


class FasterWhisperBackend(StreamingBackend):
    """faster-whisper with its Silero VAD; settings are recorded on every transcript."""

    def __init__(
        self,
        model: Any,
        *,
        model_name: str,
        model_version: str,
        beam_size: int = 5,
        compute_type: str = "int8",
        vad_filter: bool = True,
        temperatures: tuple[float, ...] = (0.0, 0.2, 0.4),
        no_repeat_ngram_size: int = 6,
        vad_parameters: dict[str, Any] | None = None,
        batch_size: int = 0,
        word_timestamps: bool = False,
    ) -> None:
        self.model = model
        self.model_name = model_name
        self.model_version = model_version
        self.beam_size = beam_size
        self.compute_type = compute_type
        self.vad_filter = vad_filter
        self.temperatures = temperatures
        self.no_repeat_ngram_size = no_repeat_ngram_size
        self.vad_parameters = dict(vad_parameters or {})
        # 0: faster-whisper's sequential decoder (30-s windows, timestamp tokens); > 0: its
        # BatchedInferencePipeline, which decodes up to `batch_size` VAD chunks at once.
        self.batch_size = batch_size
        self.word_timestamps = word_timestamps
        self._pipeline: Any = None
        if batch_size > 0:
            from faster_whisper import BatchedInferencePipeline

            self._pipeline = BatchedInferencePipeline(model)

    @property
    def settings_record(self) -> dict[str, Any]:
        return {
            "name": self.model_name,
            "version": self.model_version,
            "backend": "faster-whisper",
            "compute_type": self.compute_type,
            "beam_size": self.beam_size,
            "vad_filter": self.vad_filter,
            "vad_parameters": self.vad_parameters,
            "temperatures": list(self.temperatures),
            "no_repeat_ngram_size": self.no_repeat_ngram_size,
            "condition_on_previous_text": False,
            "batch_size": self.batch_size,
            "word_timestamps": self.word_timestamps,
        }

    def stream(
        self,
        audio: Path | np.ndarray,
        *,
        language: str = "zh",
        initial_prompt: str | None = None,
    ) -> SegmentStream:
        """`audio` is a file, or 16 kHz mono float32 samples (a channel, or a window of a file)."""
        options: dict[str, Any] = {
            "language": language,
            "beam_size": self.beam_size,
            "vad_filter": self.vad_filter,
            "vad_parameters": dict(self.vad_parameters) or None,
            "initial_prompt": initial_prompt,
            "condition_on_previous_text": False,
            "temperature": list(self.temperatures),
            "no_repeat_ngram_size": self.no_repeat_ngram_size,
            "word_timestamps": self.word_timestamps,
        }
        source = str(audio) if isinstance(audio, Path) else audio
        if self._pipeline is not None:
            raw_segments, info = self._pipeline.transcribe(
                source, batch_size=self.batch_size, **options
            )
        else:
            raw_segments, info = self.model.transcribe(source, **options)
        duration = float(info.duration)
        return SegmentStream(
            language=info.language,
            duration_seconds=duration,
            segments=_clean(raw_segments, duration, initial_prompt),
        )


def _clean(raw_segments: Iterable[Any], duration: float, prompt: str | None) -> Iterator[Segment]:
    """Simplified Chinese, no phantom credits or parroted prompt, timestamps inside the audio."""
    index = 0
    for raw in raw_segments:
        text = to_simplified(raw.text.strip())
        if not text or _is_phantom(text, raw.no_speech_prob):
            continue
        if _is_parroted_prompt(text, prompt, raw.no_speech_prob):
            continue
        # Whisper can place the last timestamp past the end of the audio: clamp it, so the
        # transcript never points at a moment the recording does not have.
        end = min(float(raw.end), duration)
        start = min(float(raw.start), end)
        yield Segment(
            index=index,
            start=round(start, 3),
            end=round(end, 3),
            text=text,
            avg_logprob=float(raw.avg_logprob),
            no_speech_prob=float(raw.no_speech_prob),
            words=clean_words(getattr(raw, "words", None) or (), start, end),
        )
        index += 1


def clean_words(raw_words: Iterable[Any], start: float, end: float) -> tuple[Word, ...]:
    """Simplified words, each inside its segment [start, end] and never before the previous one.

    Word times come from cross-attention alignment and can stray a little outside the segment
    (or, after clamping the segment to the audio, past its end); clamping keeps them usable as
    pointers into the recording. `raw_words` are faster-whisper Words or openai-whisper dicts.
    """
    words: list[Word] = []
    cursor = start
    for raw in raw_words:
        fields = (
            raw
            if isinstance(raw, dict)
            else {key: getattr(raw, key) for key in ("start", "end", "word", "probability")}
        )
        text = to_simplified(str(fields["word"]).strip())
        if not text:
            continue
        w_start = min(max(float(fields["start"]), cursor), end)
        w_end = min(max(float(fields["end"]), w_start), end)
        words.append(
            Word(
                start=round(w_start, 3),
                end=round(w_end, 3),
                word=text,
                probability=round(float(fields["probability"]), 4),
            )
        )
        cursor = w_end
    return tuple(words)


def _is_phantom(text: str, no_speech_prob: float) -> bool:
    return no_speech_prob > 0.5 and any(phrase in text for phrase in PHANTOM_PHRASES)


def _is_parroted_prompt(text: str, prompt: str | None, no_speech_prob: float) -> bool:
    """On noise Whisper may read its own prompt back (measured without VAD: "责令限期改正、偷税额、
    进项税额、"); drop a probably-not-speech segment that is mostly a list of prompt terms."""
    if not prompt or no_speech_prob <= 0.3:
        return False
    rest = "".join(ch for ch in text if ch.isalnum())
    if not rest:
        return False
    terms = sorted({t for t in re.split(r"[、，,。\s]+", prompt) if t}, key=len, reverse=True)
    matched = 0
    for term in terms:
        if term in rest:
            matched += 1
            rest = rest.replace(term, "")
    return matched >= 2 and len(rest) <= 0.25 * len("".join(ch for ch in text if ch.isalnum()))

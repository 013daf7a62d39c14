"""ASR backends behind one small interface; faster-whisper (CTranslate2, int8 on CPU) by default."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant.transcription import checks
from assistant.transcription.punctuation import join_words, readable_pieces, readable_text

SAMPLE_RATE = 16000
# Speech chunks of the VAD at most this far apart are decoded as one clip (fewer decoder calls);
# a longer pause starts a new clip, so a short utterance is never packed behind another.
CLIP_GAP_SECONDS = 3.0
# Audio kept before and after each clip beyond the VAD's own padding. After: a soft last syllable
# stays whole (换一首歌试试 placed 25 s into a recording lost its soft end to the VAD, whose 32-ms
# frames fall differently there than in the file alone; given 0.3 s, whisper read its prompt back
# instead). Before: 0.3 s; whisper is sensitive to where a clip starts (0.6 s turned 换 into 坏 on
# the real corpus, and a more sensitive VAD, threshold 0.35, turned 城市 into 尝试).
CLIP_PAD_SECONDS = (0.3, 0.6)
# Whisper's text context (tokens), and what a decoding's prompt may take of it: the previous-text
# marker, up to max_length // 2 - 1 prompt tokens, and the 4-token start sequence.
TEXT_CONTEXT = 448


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
    """`check`: None for text as first decoded; "redecoded" when the first decoding failed the
    checks and the fallback passed them; "unrecognized" when the text is a placeholder."""

    index: int
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    speaker: str | None = None
    words: tuple[Word, ...] = ()
    check: str | None = None


@dataclass(frozen=True)
class CheckEvent:
    """One segment that failed the checks: where, why, and what the transcript kept."""

    start: float
    end: float
    reasons: tuple[str, ...]
    # "redecoded" | "unrecognized" | "removed" (no speech there) | "not_heard" (a short doubtful
    # or credit-only tail after the words of a clip: dropped, no placeholder)
    outcome: str
    rejected: str  # the text that was not kept (shortened), for the audit trail

    def to_dict(self, offset: float = 0.0) -> dict[str, Any]:
        return {
            "start": round(self.start + offset, 3),
            "end": round(self.end + offset, 3),
            "reasons": list(self.reasons),
            "outcome": self.outcome,
            "rejected": self.rejected,
        }


def check_summary(events: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Counts per outcome and per reason, then the events: what the transcript metadata keeps."""
    listed = list(events)
    outcomes: dict[str, int] = {}
    reasons: dict[str, int] = {}
    for event in listed:
        outcomes[event["outcome"]] = outcomes.get(event["outcome"], 0) + 1
        for reason in event["reasons"]:
            reasons[reason] = reasons.get(reason, 0) + 1
    return {
        "flagged": len(listed),
        "outcomes": dict(sorted(outcomes.items())),
        "reasons": dict(sorted(reasons.items())),
        "events": listed,
    }


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

    Times are relative to the audio given; `index` counts from 0 within this stream. `events`
    fills up while `segments` is consumed: the segments that failed the checks.
    """

    language: str
    duration_seconds: float
    segments: Iterator[Segment]
    events: list[CheckEvent] = field(default_factory=list)


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
        model={
            **backend.settings_record,
            **record,
            "check_results": check_summary(e.to_dict() for e in stream.events),
        },
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
    """faster-whisper with its Silero VAD; settings are recorded on every transcript.

    Decoding is deterministic: beam search at temperature 0 only (no sampling, so no seed), and
    CTranslate2 gives the same result with 1 or 2 CPU threads (measured, docs/benchmarks.md).
    Each segment then goes through `checks`; a flagged one is decoded once more with a fixed
    fallback (`_redecode`) and kept as a placeholder when that fails too.
    """

    def __init__(
        self,
        model: Any,
        *,
        model_name: str,
        model_version: str,
        model_sha256: str | None = None,
        beam_size: int = 5,
        compute_type: str = "int8",
        vad_filter: bool = True,
        temperatures: tuple[float, ...] = (0.0,),
        no_repeat_ngram_size: int = 6,
        vad_parameters: dict[str, Any] | None = None,
        batch_size: int = 0,
        word_timestamps: bool = False,
        checks_enabled: bool = True,
    ) -> None:
        self.model = model
        self.model_name = model_name
        self.model_version = model_version
        self.model_sha256 = model_sha256
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
        self.checks_enabled = checks_enabled
        self._pipeline: Any = None
        if batch_size > 0:
            from faster_whisper import BatchedInferencePipeline

            self._pipeline = BatchedInferencePipeline(model)

    @property
    def settings_record(self) -> dict[str, Any]:
        import ctranslate2
        import faster_whisper

        return {
            "name": self.model_name,
            "version": self.model_version,
            "model_sha256": self.model_sha256,
            "backend": "faster-whisper",
            "faster_whisper": faster_whisper.__version__,
            "ctranslate2": ctranslate2.__version__,
            "compute_type": self.compute_type,
            "beam_size": self.beam_size,
            "vad_filter": self.vad_filter,
            "vad_parameters": self.vad_parameters,
            "decoding": self.decoding_record(),
            "temperatures": list(self.temperatures),
            "seed": None if all(t == 0 for t in self.temperatures) else "unseeded",
            "no_repeat_ngram_size": self.no_repeat_ngram_size,
            "condition_on_previous_text": False,
            "batch_size": self.batch_size,
            "word_timestamps": self.word_timestamps,
            "checks": self.checks_record() if self.checks_enabled else None,
        }

    def decoding_record(self) -> dict[str, Any]:
        """How the audio is cut for the decoder (part of what determines the transcript)."""
        if not self.vad_filter or self._pipeline is not None:
            return {"clips": "faster-whisper" if self.vad_filter else "none"}
        return {
            "clips": "per VAD clip",
            "vad": CHECK_VAD | self.vad_parameters,
            "clip_gap_seconds": CLIP_GAP_SECONDS,
            "clip_pad_seconds": CLIP_PAD_SECONDS,
            "no_speech_threshold": None,
            "max_new_tokens": "2 × max_chars_per_second × min(clip, 30 s) + 16",
        }

    def checks_record(self) -> dict[str, Any]:
        return {
            "charset": "通用规范汉字表 (8105)",
            "charset_sha256": checks.charset_sha256(),
            "credits_sha256": checks.credits_sha256(),
            "tail_seconds": checks.TAIL_SECONDS,
            "tail_reasons": list(TAIL_REASONS),
            "failed_clip": "decoded again as one when a segment has no speech under it",
            "empty_clip": "decoded again",
            "max_compression_ratio": checks.MAX_COMPRESSION_RATIO,
            "max_chars_per_second": checks.MAX_CHARS_PER_SECOND,
            "min_logprob": checks.MIN_LOGPROB,
            "noise": {"logprob": checks.NOISE_LOGPROB, "no_speech": checks.NOISE_NO_SPEECH},
            "speech_vad": dict(CHECK_VAD),
            "fallback": {
                "beam_size": max(self.beam_size, 5),
                "temperature": 0.0,
                "initial_prompt": None,
                "without_timestamps": True,
                "window": "speech inside the segment ± 0.2 s",
            },
        }

    def stream(
        self,
        audio: Path | np.ndarray,
        *,
        language: str = "zh",
        initial_prompt: str | None = None,
    ) -> SegmentStream:
        """`audio` is a file, or 16 kHz mono float32 samples (a channel, or a window of a file).

        With the VAD on (and no batching), each clip of speech is decoded from its own samples
        (`clips`): nothing is decoded where the VAD hears nothing, and a short utterance is never
        packed into a 30-s window behind other speech, where whisper skips it."""
        if isinstance(audio, Path):
            from faster_whisper.audio import decode_audio

            samples = decode_audio(str(audio), sampling_rate=SAMPLE_RATE)
        else:
            samples = audio
        duration = len(samples) / SAMPLE_RATE
        options: dict[str, Any] = {
            "language": language,
            "beam_size": self.beam_size,
            "initial_prompt": initial_prompt,
            "condition_on_previous_text": False,
            "temperature": list(self.temperatures),
            "no_repeat_ngram_size": self.no_repeat_ngram_size,
            "word_timestamps": self.word_timestamps,
        }
        groups: Iterator[list[Segment]]
        if self.vad_filter and self._pipeline is None:
            heard = speech_intervals(samples, self.vad_parameters)
            stream = SegmentStream(language=language, duration_seconds=duration, segments=iter(()))
            groups = self._decode_clips(samples, clips(heard, duration), options)
        else:
            options |= {
                "vad_filter": self.vad_filter,
                "vad_parameters": dict(self.vad_parameters) or None,
            }
            if self._pipeline is not None:
                raw_segments, info = self._pipeline.transcribe(
                    samples, batch_size=self.batch_size, **options
                )
            else:
                raw_segments, info = self.model.transcribe(samples, **options)
            stream = SegmentStream(
                language=info.language, duration_seconds=float(info.duration), segments=iter(())
            )
            groups = ([s] for s in clean_segments(raw_segments, duration, initial_prompt))
        if self.checks_enabled:
            speech = speech_intervals(samples)
            stream.segments = self._checked(groups, samples, speech, language, stream.events)
        else:
            stream.segments = (s for group in groups for s in group if s.text)
        return stream

    def _decode_clips(
        self, samples: np.ndarray, spans: list[tuple[float, float]], options: dict[str, Any]
    ) -> Iterator[list[Segment]]:
        """The segments of each clip, decoded from the clip's samples alone, in audio time.

        Whisper's no-speech skip is off (the VAD heard speech there), and each decoding may write
        no more tokens than the clip's length allows (`token_cap`): a loop ends early."""
        prompt_tokens = self.prompt_tokens(options.get("initial_prompt"))
        for lo, hi in spans:
            clip = samples[int(lo * SAMPLE_RATE) : int(hi * SAMPLE_RATE)]
            raw_segments, _ = self.model.transcribe(
                clip,
                vad_filter=False,
                no_speech_threshold=None,
                max_new_tokens=token_cap(hi - lo, prompt_tokens),
                **options,
            )
            group = [
                shifted(segment, lo)
                for segment in clean_segments(
                    raw_segments, len(clip) / SAMPLE_RATE, options.get("initial_prompt")
                )
            ]
            # Speech the VAD heard never vanishes: a clip that decoded to nothing (whisper-base
            # wrote nothing, or only its prompt, for 对 cut by the end of a recording) is one
            # empty segment for the checks, so the fallback decodes it or a placeholder marks it.
            yield group or [Segment(0, lo, hi, "", avg_logprob=0.0, no_speech_prob=0.0)]

    def prompt_tokens(self, prompt: str | None) -> int:
        """How many context tokens the prompt takes in a decoding (as faster-whisper builds it)."""
        if not prompt:
            return 0
        tokenizer = getattr(self.model, "hf_tokenizer", None)
        count = (
            len(tokenizer.encode(" " + prompt.strip(), add_special_tokens=False).ids)
            if tokenizer is not None
            else len((" " + prompt.strip()).encode("utf-8"))  # byte-level BPE: at most one a byte
        )
        return min(count, TEXT_CONTEXT // 2 - 1)

    def _checked(
        self,
        groups: Iterable[list[Segment]],
        samples: np.ndarray,
        speech: list[tuple[float, float]],
        language: str,
        events: list[CheckEvent],
    ) -> Iterator[Segment]:
        """Segments that pass the checks as they are; the others decoded again or replaced.

        A group is what one clip decoded to. A credit-only segment, or the last one of a group
        when it is short and doubtful and follows another, is the decoder running on into the
        pause: dropped as `not_heard` (counted, no placeholder). A doubtful segment alone in its
        clip may be a short word: it goes to the fallback like any other; so does a clip of
        which no segment passed and one had no speech under it, as one (`whole_clip`): there the
        segment times do not say where the words are. Otherwise each failed segment is decoded
        again on its own (a narrower window: on robotic espeak speech one of them then passed
        where the whole clip did not)."""
        index = 0
        for group in groups:
            verdicts = [
                checks.check_segment(
                    segment.text,
                    segment.start,
                    segment.end,
                    speech=speech,
                    word_starts=[w.start for w in segment.words],
                    avg_logprob=segment.avg_logprob,
                    no_speech_prob=segment.no_speech_prob,
                )
                for segment in group
            ]
            if (
                len(group) > 1
                and not any(v.ok for v in verdicts)
                and any(checks.NO_SPEECH in v.reasons for v in verdicts)
            ):
                group, verdicts = whole_clip(group, verdicts, speech, events)
            tail = unheard_tail(group, verdicts, speech)
            for position, (segment, verdict) in enumerate(zip(group, verdicts, strict=True)):
                kept: Segment | None = segment
                if not verdict.ok:
                    if checks.SUBTITLE_CREDIT in verdict.reasons or position >= tail:
                        kept, outcome = None, "not_heard"
                    else:
                        kept, outcome = self._fallback(segment, verdict, samples, speech, language)
                    events.append(
                        CheckEvent(
                            segment.start, segment.end, verdict.reasons, outcome, segment.text[:60]
                        )
                    )
                if kept is not None:
                    yield replace(kept, index=index)
                    index += 1

    def _fallback(
        self,
        segment: Segment,
        verdict: checks.Verdict,
        samples: np.ndarray,
        speech: list[tuple[float, float]],
        language: str,
    ) -> tuple[Segment | None, str]:
        """No speech there: drop it. Else decode the speech inside it once more (beam search, no
        prompt, no timestamps, a window of just that speech, tokens capped by its length); keep
        that if it passes, else a placeholder with the span."""
        if checks.NO_SPEECH in verdict.reasons:
            return None, "removed"
        parts = [(max(s, segment.start), min(e, segment.end)) for s, e in speech]
        parts = [(s, e) for s, e in parts if e > s]
        duration = len(samples) / SAMPLE_RATE
        lo = max(0.0, parts[0][0] - 0.2) if parts else segment.start
        hi = min(duration, parts[-1][1] + 0.2) if parts else segment.end
        clip = samples[int(lo * SAMPLE_RATE) : int(hi * SAMPLE_RATE)]
        raw_segments, _ = self.model.transcribe(
            clip,
            language=language,
            beam_size=max(self.beam_size, 5),
            temperature=[0.0],
            initial_prompt=None,
            condition_on_previous_text=False,
            vad_filter=False,
            without_timestamps=True,
            no_repeat_ngram_size=self.no_repeat_ngram_size,
            word_timestamps=self.word_timestamps,
            max_new_tokens=token_cap(hi - lo),
        )
        retried = list(clean_segments(raw_segments, hi - lo, None))
        text = "".join(s.text for s in retried)
        words = tuple(
            replace(w, start=round(w.start + lo, 3), end=round(w.end + lo, 3))
            for s in retried
            for w in s.words
        )
        if text:
            again = checks.check_segment(
                text,
                lo,
                hi,
                speech=speech,
                word_starts=[w.start for w in words],
                avg_logprob=min(s.avg_logprob for s in retried),
                no_speech_prob=max(s.no_speech_prob for s in retried),
            )
            if again.ok:
                return (
                    replace(
                        segment,
                        text=text,
                        words=words,
                        avg_logprob=min(s.avg_logprob for s in retried),
                        check="redecoded",
                    ),
                    "redecoded",
                )
        # The span named is the speech inside the segment, never wider than the segment.
        start = round(max(segment.start, parts[0][0]) if parts else segment.start, 3)
        end = round(min(segment.end, parts[-1][1]) if parts else segment.end, 3)
        return (
            replace(
                segment,
                start=start,
                end=end,
                text=checks.placeholder(start, end),
                words=(),
                check="unrecognized",
            ),
            "unrecognized",
        )


# Speech as the checks see it: Silero VAD with little padding (faster-whisper's own VAD pads each
# chunk by 400 ms, which is where a phantom tail sits).
CHECK_VAD = {"threshold": 0.5, "min_silence_duration_ms": 500, "speech_pad_ms": 100}


def speech_intervals(
    samples: np.ndarray, parameters: dict[str, Any] | None = None
) -> list[tuple[float, float]]:
    """Where the VAD hears speech, in seconds (CHECK_VAD, or with `parameters` over it)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    chunks = get_speech_timestamps(samples, VadOptions(**(CHECK_VAD | (parameters or {}))))
    return [(c["start"] / SAMPLE_RATE, c["end"] / SAMPLE_RATE) for c in chunks]


def clips(speech: list[tuple[float, float]], duration: float) -> list[tuple[float, float]]:
    """Spans to decode: speech chunks at most CLIP_GAP_SECONDS apart joined, each widened by
    CLIP_PAD_SECONDS inside the audio (never into the next clip). No speech, no clip (and no
    decoding)."""
    spans: list[tuple[float, float]] = []
    for start, end in speech:
        if spans and start - spans[-1][1] <= CLIP_GAP_SECONDS:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    before, after = CLIP_PAD_SECONDS
    return [(round(max(0.0, s - before), 3), round(min(duration, e + after), 3)) for s, e in spans]


def token_cap(seconds: float, prompt_tokens: int = 0) -> int:
    """Most tokens one decoding of `seconds` of audio may write: two a character (CJK characters
    are often two byte-level tokens) at MAX_CHARS_PER_SECOND over at most one 30-s window, plus
    room for timestamps; never more than the text context leaves after the prompt."""
    room = TEXT_CONTEXT - 1 - prompt_tokens - 4
    return max(8, min(int(2 * checks.MAX_CHARS_PER_SECOND * min(seconds, 30.0)) + 16, room))


def shifted(segment: Segment, offset: float) -> Segment:
    """The segment (and its words) moved by `offset` seconds: clip time to audio time."""
    return replace(
        segment,
        start=round(segment.start + offset, 3),
        end=round(segment.end + offset, 3),
        words=tuple(
            replace(w, start=round(w.start + offset, 3), end=round(w.end + offset, 3))
            for w in segment.words
        ),
    )


def whole_clip(
    group: list[Segment],
    verdicts: list[checks.Verdict],
    speech: list[tuple[float, float]],
    events: list[CheckEvent],
) -> tuple[list[Segment], list[checks.Verdict]]:
    """A clip of which no segment passed, as one segment for the fallback (credits dropped as
    `not_heard` first). Inside a failed decoding the segment times are no guide to where the
    words are (on a word cut by the end of a recording whisper put 对 at 0.00–0.36 s of the clip
    and the VAD's speech began at 0.30 s: judged alone, 对 had "no speech" under it and would
    have been removed; a loop after it decides nothing either)."""
    rest: list[Segment] = []
    for segment, verdict in zip(group, verdicts, strict=True):
        if checks.SUBTITLE_CREDIT in verdict.reasons:
            events.append(
                CheckEvent(
                    segment.start, segment.end, verdict.reasons, "not_heard", segment.text[:60]
                )
            )
        else:
            rest.append(segment)
    if len(rest) < 2:
        kept = [(s, v) for s, v in zip(group, verdicts, strict=True) if s in rest]
        return [s for s, _ in kept], [v for _, v in kept]
    whole = replace(
        rest[0],
        end=rest[-1].end,
        text="".join(s.text for s in rest),
        words=tuple(w for s in rest for w in s.words),
        avg_logprob=min(s.avg_logprob for s in rest),
        no_speech_prob=max(s.no_speech_prob for s in rest),
    )
    spoken = checks.speech_overlap(whole.start, whole.end, speech)
    reasons = dict.fromkeys(
        r for s, v in zip(group, verdicts, strict=True) if s in rest for r in v.reasons
    )
    reasons.pop(checks.NO_SPEECH, None)
    if spoken < checks.MIN_SPEECH_SECONDS:
        reasons[checks.NO_SPEECH] = None
    return [whole], [checks.Verdict(tuple(reasons), round(spoken, 3))]


# What makes a short flagged segment after the words of a clip a tail nobody said: the model's
# doubt, or text that cannot have been said in that little speech (a loop, too many characters,
# words past the end of speech). whisper-base wrote "3-4-3-4-4-4-5-5-…" (log-probability -0.51,
# no-speech 0.48: not doubtful) into the 0.3 s after 太乙真人 in a 30-min recording; decoded again
# it was "再次！" and the transcript kept a placeholder over words already heard.
TAIL_REASONS = (
    checks.LOW_CONFIDENCE,
    checks.REPETITION,
    checks.TOO_FAST,
    checks.PAST_SPEECH_END,
)


def unheard_tail(
    segments: list[Segment],
    verdicts: list[checks.Verdict],
    speech: list[tuple[float, float]] | None = None,
) -> int:
    """Where a clip's unheard tail begins (len(segments): none). The tail is the run of segments
    at the clip's end, after at least one other, that the model doubts or rates as noise, or
    that could not have been said there (TAIL_REASONS), over less than TAIL_SECONDS of speech
    together (credits count for nothing): the decoder running on into the pause, not a
    placeholder, since nothing was said there. Speech that the VAD hears begin after the words
    that passed (`speech`) is someone speaking again, never a tail: the clip joined it to the
    words before across a pause of up to CLIP_GAP_SECONDS (a word cut by the end of a recording,
    2.6 s after 换一首歌试试, vanished as a tail)."""
    passed = [s.end for s, v in zip(segments, verdicts, strict=True) if v.ok]
    heard_until = max(passed, default=segments[0].start if segments else 0.0)
    start, spoken = len(segments), 0.0
    while start > 1:
        segment, verdict = segments[start - 1], verdicts[start - 1]
        if verdict.ok:
            break
        if any(heard_until <= s < segment.end for s, _ in speech or ()):
            break
        if checks.SUBTITLE_CREDIT not in verdict.reasons:
            spoken += verdict.speech_seconds
            doubtful = segment.no_speech_prob > checks.NOISE_NO_SPEECH or any(
                reason in verdict.reasons for reason in TAIL_REASONS
            )
            if not doubtful or spoken >= checks.TAIL_SECONDS:
                break
        start -= 1
    return start


def clean_segments(
    raw_segments: Iterable[Any], duration: float, prompt: str | None
) -> Iterator[Segment]:
    """Simplified Chinese with 笔录 punctuation, no parroted prompt, timestamps inside the audio;
    numbered from 0 (the checks renumber what they keep; subtitle credits are theirs too)."""
    index = 0
    for raw in raw_segments:
        text = to_simplified(raw.text.strip())
        if not text:
            continue
        if _is_parroted_prompt(text, prompt, raw.no_speech_prob):
            continue
        # Whisper can place the last timestamp past the end of the audio: clamp it, so the
        # transcript never points at a moment the recording does not have.
        end = min(float(raw.end), duration)
        start = min(float(raw.start), end)
        words = clean_words(getattr(raw, "words", None) or (), start, end)
        if words:
            pieces = readable_pieces([w.word for w in words])
            words = tuple(replace(w, word=p) for w, p in zip(words, pieces, strict=True))
            text = join_words(pieces)
        else:
            text = readable_text(text)
        yield Segment(
            index=index,
            start=round(start, 3),
            end=round(end, 3),
            text=text,
            avg_logprob=float(raw.avg_logprob),
            no_speech_prob=float(raw.no_speech_prob),
            words=words,
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

"""Per-clip decoding on the real model: short utterances in long silence are heard, tails that
nobody said are dropped as not heard, subtitle credits never reach a 笔录."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from faster_whisper.audio import decode_audio
from faster_whisper.transcribe import Segment as RawSegment

from assistant.registry import ModelRegistry
from assistant.transcription import FasterWhisperBackend, checks
from assistant.transcription.backend import SAMPLE_RATE, clips, token_cap
from assistant.transcription.vocabulary import build_prompt
from tests.conftest import SHARED_CORPORA, make_settings, requires_shared

SPEECH = SHARED_CORPORA / "speech" / "wav"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> ModelRegistry:
    return ModelRegistry(make_settings(tmp_path_factory.mktemp("clips")))


class Counting:
    """The real model; records the length of every clip it is asked to decode."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.clips: list[float] = []

    def transcribe(self, audio: Any, **options: Any) -> Any:
        self.clips.append(len(audio) / SAMPLE_RATE)
        return self.model.transcribe(audio, **options)


class Tailed(Counting):
    """The real model, with a tail planted after the first segment it decoded from each clip (the
    kind of tail whisper writes into the pause after the last word), in place of the rest."""

    def __init__(self, model: Any, text: str, seconds: float, avg_logprob: float) -> None:
        super().__init__(model)
        self.tail = (text, seconds, avg_logprob)

    def transcribe(self, audio: Any, **options: Any) -> Any:
        segments, info = super().transcribe(audio, **options)
        text, seconds, avg_logprob = self.tail
        end = len(audio) / SAMPLE_RATE
        segments = list(segments)[:1]
        planted = RawSegment(
            id=len(segments) + 1,
            seek=0,
            start=max(end - seconds, segments[0].end if segments else 0.0),
            end=end,
            text=text,
            tokens=[],
            avg_logprob=avg_logprob,
            compression_ratio=1.0,
            no_speech_prob=0.2,
            words=None,
            temperature=0.0,
        )
        return iter([*segments, planted]), info


def _utterance(name: str) -> np.ndarray:
    return decode_audio(str(SPEECH / name), sampling_rate=SAMPLE_RATE)


def _backend(model: Any) -> FasterWhisperBackend:
    return FasterWhisperBackend(
        model, model_name="whisper-base", model_version="1", word_timestamps=True
    )


def test_clips_join_close_speech_and_pad_inside_the_audio() -> None:
    speech = [(0.05, 1.0), (3.5, 4.0), (7.5, 9.0), (9.5, 9.9)]
    assert clips(speech, 10.0) == [(0.0, 4.6), (7.2, 10.0)]
    assert clips([], 10.0) == []  # no speech: nothing to decode


def test_token_cap_follows_the_clip_and_leaves_room_for_the_prompt() -> None:
    assert token_cap(1.0) < token_cap(5.0) < token_cap(60.0)
    assert token_cap(60.0) == token_cap(30.0)  # one 30-s window at a time
    assert token_cap(30.0, prompt_tokens=223) + 223 + 5 <= 448


@requires_shared
def test_a_short_utterance_inside_long_silence_is_not_lost(registry: ModelRegistry) -> None:
    """换一首歌试试 (2 s) between 25 s of silence and 25 s of faint noise: one clip around it is
    decoded, nothing else. It must not vanish (faster-whisper's packed 30-s windows skipped such
    utterances): its words, or a placeholder where it was placed; no text anywhere else."""
    rng = np.random.default_rng(1)
    before = np.zeros(25 * SAMPLE_RATE, dtype=np.float32)
    after = (rng.standard_normal(25 * SAMPLE_RATE) * 0.003).astype(np.float32)
    short = _utterance("IT0011W0001.wav")
    audio = np.concatenate([before, short, after])
    model = Counting(registry.get("asr"))
    stream = _backend(model).stream(audio, language="zh", initial_prompt=build_prompt())
    segments = list(stream.segments)
    assert model.clips and model.clips[0] < 4.0  # one clip (a fallback may decode again)
    assert segments
    placed_end = 25 + len(short) / SAMPLE_RATE
    for segment in segments:
        assert segment.start >= 24.5 and segment.end <= placed_end + 0.5
        assert all(24.5 <= w.start <= placed_end for w in segment.words)
        if segment.check != "unrecognized":
            assert set(segment.text.rstrip("。")) <= set("换一首歌试")


@pytest.mark.parametrize(
    ("name", "tail", "seconds", "avg_logprob", "reason"),
    [
        # a 0.5-s loop the model doubts, after the words of a clip
        ("BAC009S0764W0122.wav", "我认认认论", 0.5, -1.3, checks.LOW_CONFIDENCE),
        # a digit loop the model is sure of (as after 太乙真人 in the 30-minute build): a tail
        (
            "BAC009S0764W0122.wav",
            "3-4-3-4-4-4-5-5-5-4-5-4-4-7-4-7-5-4-7-8-",
            0.5,
            -0.51,
            checks.TOO_FAST,
        ),
        # the credit whisper-base wrote, rated as speech by the model (1.2 s: not short)
        (
            "IT0011W0001.wav",
            "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目",
            1.2,
            -0.2,
            checks.SUBTITLE_CREDIT,
        ),
    ],
)
@requires_shared
def test_a_tail_nobody_said_is_not_heard(
    registry: ModelRegistry, name: str, tail: str, seconds: float, avg_logprob: float, reason: str
) -> None:
    """The planted tail is dropped and counted, no placeholder; the words before it unchanged."""
    model = registry.get("asr")
    plain = _backend(model).transcribe(SPEECH / name, language="zh", initial_prompt=build_prompt())
    tailed = _backend(Tailed(model, tail, seconds, avg_logprob)).transcribe(
        SPEECH / name, language="zh", initial_prompt=build_prompt()
    )
    assert tailed.text == plain.text and plain.text
    assert [s.check for s in tailed.segments] == [s.check for s in plain.segments]
    assert "【" not in tailed.text
    events = tailed.model["check_results"]["events"]
    # the cleaned text: spaces between Chinese characters dropped
    planted = [e for e in events if e["rejected"] == tail.replace(" ", "")]
    assert len(planted) == 1 and planted[0]["outcome"] == "not_heard"
    assert reason in planted[0]["reasons"]


@requires_shared
def test_a_doubtful_segment_alone_in_its_clip_is_not_dropped(registry: ModelRegistry) -> None:
    """Only a tail after other words is dropped: a doubtful segment on its own may be a short
    answer, so it is decoded again or marked for the officer, never silently removed."""
    audio = np.concatenate(
        [np.zeros(5 * SAMPLE_RATE, np.float32), _utterance("IT0011W0001.wav")[::-1].copy()]
    )
    stream = _backend(registry.get("asr")).stream(audio, language="zh")
    segments = list(stream.segments)
    first = stream.events[0]
    assert first.outcome in ("redecoded", "unrecognized")
    assert segments and segments[0].check == first.outcome


@requires_shared
def test_a_word_cut_by_the_end_of_the_recording_is_never_the_prompt(
    registry: ModelRegistry,
) -> None:
    """The end of the 30-minute build: 换一首歌试试, a pause, then the first 0.64 s of 对，这就是我
    (对 whole, the rest cut off by the end of the file). Given that little, whisper-base read
    its prompt back ("统一社会信用代码"). The transcript must hold 对 or a placeholder over the
    cut word, never the prompt's words; 换一首歌 stays heard."""
    first = _utterance("IT0011W0001.wav")
    cut = _utterance("f5tts_basic_ref_zh.wav")[: int(0.644 * SAMPLE_RATE)]
    gap = np.zeros(int(2.6 * SAMPLE_RATE), np.float32)
    audio = np.concatenate([gap, first, gap, cut])
    prompt = build_prompt(["示例商贸有限公司", "张示例"])
    stream = _backend(registry.get("asr")).stream(audio, language="zh", initial_prompt=prompt)
    segments = list(stream.segments)
    cut_at = (len(audio) - len(cut)) / SAMPLE_RATE
    before = "".join(s.text for s in segments if s.end <= cut_at)
    assert "换一首歌" in before
    last = [s for s in segments if s.end > cut_at]
    assert last, f"the cut word vanished: {stream.events}"
    for segment in last:
        if segment.check == "unrecognized":
            assert cut_at <= segment.start < segment.end <= len(audio) / SAMPLE_RATE
        else:
            assert set(segment.text) <= set("对，。！")
    terms = [t for t in prompt.strip("。").split("、") if len(t) >= 2]
    assert not any(t in s.text for s in segments for t in terms)

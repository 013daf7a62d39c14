"""Word timestamps from real decoding, their cleaning, and low-confidence words in the outputs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from assistant.registry import ModelRegistry
from assistant.transcription import FasterWhisperBackend, Transcript, Word, to_simplified
from assistant.transcription.backend import clean_words
from assistant.transcription.checks import has_repetition, outside_charset, placeholder
from assistant.transcription.exports import (
    LOW_CONFIDENCE_WORD,
    interview_turns,
    mark_words,
    to_json,
)
from tests.conftest import FIXTURES, SHARED_CORPORA, make_settings, requires_shared


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> FasterWhisperBackend:
    registry = ModelRegistry(make_settings(tmp_path_factory.mktemp("asr")))
    return FasterWhisperBackend(
        registry.get("asr"), model_name="whisper-base", model_version="1", word_timestamps=True
    )


def _check_words(transcript: Transcript) -> None:
    """Every word inside its segment, in order, Simplified, and the words spell the segment."""
    assert transcript.model["word_timestamps"] is True
    assert any(segment.words for segment in transcript.segments)
    for segment in transcript.segments:
        previous_end = segment.start
        for word in segment.words:
            assert segment.start <= word.start <= word.end <= segment.end
            assert word.start >= previous_end
            assert 0.0 <= word.probability <= 1.0
            assert word.word and to_simplified(word.word) == word.word
            previous_end = word.end
        if segment.words:
            # Words carry no spaces; the segment text keeps the model's spacing (", "), which
            # varies with the temperature fallback: the characters must be the same.
            joined = "".join(w.word for w in segment.words)
            assert joined == "".join(segment.text.split())


def test_words_from_real_decoding(backend: FasterWhisperBackend) -> None:
    transcript = backend.transcribe(FIXTURES / "interview_zh.wav", language="zh")
    _check_words(transcript)
    assert transcript.segments[-1].end <= transcript.duration_seconds
    # Robotic espeak Mandarin: whisper-base hears little of it (it wrote "钢鋳鋳钢锯…" here when
    # sampling). Whatever is kept is clean text with words, or a placeholder naming its span.
    for segment in transcript.segments:
        assert "\ufffd" not in segment.text
        if segment.check == "unrecognized":
            assert segment.text == placeholder(segment.start, segment.end) and not segment.words
        else:
            assert not outside_charset(segment.text) and not has_repetition(segment.text)
            assert segment.words


@requires_shared
def test_words_on_real_speech_are_simplified(backend: FasterWhisperBackend) -> None:
    # whisper-base writes this recording in traditional characters without t2s (工廠, 規模)
    transcript = backend.transcribe(SHARED_CORPORA / "speech" / "wav" / "wenet_long_noref.wav")
    _check_words(transcript)
    words = "".join(w.word for s in transcript.segments for w in s.words)
    assert "廠" not in words and "規" not in words


def test_stream_yields_words_with_times_relative_to_the_window(
    backend: FasterWhisperBackend,
) -> None:
    from faster_whisper.audio import decode_audio

    samples = decode_audio(str(FIXTURES / "interview_zh.wav"), sampling_rate=16000)
    window = samples[16000 * 4 :]
    stream = backend.stream(window, language="zh")
    segments = list(stream.segments)
    assert segments and stream.duration_seconds == pytest.approx(len(window) / 16000, abs=0.01)
    for segment in segments:
        for word in segment.words:
            assert 0.0 <= word.start <= word.end <= stream.duration_seconds


def test_clean_words_clamps_orders_and_simplifies() -> None:
    raw = [
        SimpleNamespace(start=0.5, end=1.2, word=" 發", probability=0.9),
        {"start": 1.0, "end": 1.6, "word": "票", "probability": 0.4},  # overlaps the previous
        SimpleNamespace(start=2.9, end=3.4, word="。", probability=0.99),  # past the segment
        SimpleNamespace(start=3.0, end=3.0, word="  ", probability=0.1),  # empty: dropped
    ]
    words = clean_words(raw, 0.8, 3.0)
    assert [w.word for w in words] == ["发", "票", "。"]
    assert [(w.start, w.end) for w in words] == [(0.8, 1.2), (1.2, 1.6), (2.9, 3.0)]
    assert words[1].probability == 0.4


def test_mark_words_groups_runs_and_keeps_punctuation_outside() -> None:
    low = LOW_CONFIDENCE_WORD / 2
    words = [
        Word(0.0, 0.2, "广", 0.9),
        Word(0.2, 0.4, "州", 0.9),
        Word(0.4, 0.6, "佛", low),
        Word(0.6, 0.8, "地", 0.9),
        Word(0.8, 1.0, "中", low),
        Word(1.0, 1.2, "间", low),
        Word(1.2, 1.4, "协会。", 0.95),
        Word(1.4, 1.6, "对，", low),
    ]
    assert mark_words(words) == "广州【待核：佛】地【待核：中间】协会。【待核：对】，"
    assert mark_words(words, threshold=0.0) == "广州佛地中间协会。对，"


@dataclass(frozen=True)
class Seg:
    index: int
    start: float
    end: float
    text: str
    avg_logprob: float
    speaker: str | None
    words: tuple[Word, ...] | list[dict[str, object]] | None = None


def test_draft_marks_words_where_words_exist() -> None:
    low = LOW_CONFIDENCE_WORD - 0.1
    stored_words = [  # as the database keeps them (JSON dicts)
        {"start": 0.0, "end": 0.5, "word": "补报", "probability": 0.95},
        {"start": 0.5, "end": 0.9, "word": "了。", "probability": low},
    ]
    segments = [
        # confident overall, one unsure word: only that word is marked
        Seg(0, 0.0, 0.9, "补报了。", -0.3, "答", stored_words),
        # an unsure segment without words: the whole segment is marked, as before
        Seg(1, 1.0, 2.0, "一共十二张。", -1.2, "答"),
        # words that no longer spell the text (officer's edit): segment rule, no stale marks
        Seg(2, 2.0, 3.0, "金额一万二。", -0.2, "答", (Word(2.0, 3.0, "金额一万元。", low),)),
    ]
    assert interview_turns(segments) == [
        ("答", "补报【待核：了】。【待核：一共十二张。】金额一万二。")
    ]
    data = json.loads(to_json(segments))
    first = data["segments"][0]["words"]
    assert [w["low_confidence"] for w in first] == [False, True]
    assert data["segments"][1]["words"] == []
    assert data["low_confidence_word_probability"] == LOW_CONFIDENCE_WORD

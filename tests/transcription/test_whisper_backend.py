"""The real bundled Whisper model on the project's synthetic recording (structure, not accuracy)."""

from pathlib import Path

import pytest

from assistant.errors import InvalidInput, UnsupportedMedia
from assistant.registry import ModelRegistry
from assistant.transcription import FasterWhisperBackend, probe_audio, to_simplified
from tests.conftest import FIXTURES, SHARED_CORPORA, make_settings, requires_shared


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> FasterWhisperBackend:
    registry = ModelRegistry(make_settings(tmp_path_factory.mktemp("asr")))
    return FasterWhisperBackend(registry.get("asr"), model_name="whisper-base", model_version="1")


def test_probe_reads_duration_and_codec() -> None:
    info = probe_audio(FIXTURES / "interview_zh.wav")
    assert info.codec == "pcm_s16le"
    assert info.channels == 1
    assert info.duration_seconds == pytest.approx(12.61, abs=0.05)


def test_probe_refuses_non_audio_and_long_audio(tmp_path: Path) -> None:
    text = tmp_path / "notes.wav"
    text.write_text("不是音频" * 100, encoding="utf-8")
    with pytest.raises(UnsupportedMedia):
        probe_audio(text)
    with pytest.raises(InvalidInput) as error:
        probe_audio(FIXTURES / "interview_zh.wav", max_seconds=10)
    assert error.value.code == "audio_too_long"


def test_transcript_structure_and_settings(backend: FasterWhisperBackend) -> None:
    transcript = backend.transcribe(FIXTURES / "interview_zh.wav", language="zh")
    assert transcript.segments
    assert transcript.duration_seconds == pytest.approx(12.61, abs=0.05)
    assert transcript.processing_seconds > 0
    assert transcript.model["compute_type"] == "int8"
    assert transcript.model["vad_filter"] is True
    for segment in transcript.segments:
        assert 0 <= segment.start <= segment.end <= transcript.duration_seconds
        assert to_simplified(segment.text) == segment.text


def test_traditional_is_converted() -> None:
    assert to_simplified("富士康在印度工廠出現大規模感染") == "富士康在印度工厂出现大规模感染"


@requires_shared
def test_real_mandarin_recording_is_simplified(backend: FasterWhisperBackend) -> None:
    # This recording came out in traditional characters from whisper-base without t2s.
    transcript = backend.transcribe(SHARED_CORPORA / "speech" / "wav" / "wenet_long_noref.wav")
    text = transcript.text
    assert "工厂" in text or "厂" in text
    assert "廠" not in text and "規" not in text

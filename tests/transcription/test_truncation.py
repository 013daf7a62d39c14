"""A WAV cut short (header says 10 s, data holds 3.3 s) is refused, not transcribed as 3.3 s."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

import pytest

from assistant.errors import InvalidInput
from assistant.transcription import probe_audio
from assistant.transcription.audio import wav_stated_seconds
from assistant.transcription.windows import DecodeFailed, iter_windows

RATE = 16000


def _wav(path: Path, seconds: float) -> Path:
    samples = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / RATE)))
        for i in range(int(seconds * RATE))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples)
    return path


def _cut(source: Path, target: Path, seconds: float) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: 44 + int(seconds * RATE) * 2])
    return target


@pytest.fixture
def truncated_wav(tmp_path: Path) -> Path:
    return _cut(_wav(tmp_path / "full.wav", 10.0), tmp_path / "cut.wav", 3.3)


def test_header_duration_is_read(tmp_path: Path, truncated_wav: Path) -> None:
    assert wav_stated_seconds(_wav(tmp_path / "ok.wav", 10.0)) == (10.0, 10.0)
    stated = wav_stated_seconds(truncated_wav)
    assert stated is not None
    assert stated[0] == 10.0 and stated[1] == pytest.approx(3.3)


def test_truncated_wav_is_refused_at_upload(truncated_wav: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        probe_audio(truncated_wav)
    assert caught.value.code == "audio_truncated"
    assert caught.value.status_code == 422
    assert caught.value.details["declared_seconds"] == 10.0
    assert "截断" in caught.value.message


def test_truncated_wav_fails_the_job(truncated_wav: Path) -> None:
    with pytest.raises(DecodeFailed) as caught:
        list(iter_windows(truncated_wav, window_seconds=60))
    assert caught.value.code == "audio_truncated"


def test_complete_and_unknown_length_wavs_pass(tmp_path: Path) -> None:
    complete = _wav(tmp_path / "ok.wav", 10.0)
    assert probe_audio(complete).duration_seconds == pytest.approx(10.0)
    streamed = tmp_path / "streamed.wav"
    data = bytearray(complete.read_bytes())
    data[40:44] = struct.pack("<I", 0xFFFFFFFF)  # a streaming writer's "size unknown"
    streamed.write_bytes(bytes(data))
    assert wav_stated_seconds(streamed) is None
    # a second or less short (a writer's rounding) is not called truncated
    assert probe_audio(_cut(complete, tmp_path / "short.wav", 9.5)).duration_seconds > 9

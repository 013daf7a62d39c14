"""Every upload format decoded for real by PyAV (no system ffmpeg), and stereo split by speaker.

The fixtures are generated from interview_zh.wav by the project's own script
(tests/fixtures/make_formats.py) into a temporary folder once per session.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.registry import ModelRegistry
from assistant.transcription import (
    FasterWhisperBackend,
    Segment,
    Transcript,
    probe_audio,
    to_simplified,
)
from assistant.transcription.channels import (
    channels_differ,
    decode_channels,
    speaker_turns,
    transcribe_channels,
)
from tests.conftest import FIXTURES, make_settings
from tests.fixtures.make_formats import FORMATS
from tests.fixtures.make_formats import main as make_formats

EXPECTED_CODEC = {
    "mp3": "mp3",
    "m4a": "aac",
    "aac": "aac",
    "amr": "amr",
    "flac": "flac",
    "ogg": "opus",
    "mp4": "aac",
    "mov": "aac",
}


@pytest.fixture(scope="module")
def formats_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("formats")
    make_formats(out)
    return out


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> FasterWhisperBackend:
    registry = ModelRegistry(make_settings(tmp_path_factory.mktemp("asr-formats")))
    return FasterWhisperBackend(registry.get("asr"), model_name="whisper-base", model_version="1")


def _envelope(samples: np.ndarray) -> np.ndarray:
    """RMS per 20 ms: survives lossy codecs, still tells speech from silence."""
    frames = len(samples) // 320
    return np.sqrt((samples[: frames * 320].reshape(frames, 320) ** 2).mean(axis=1))


@pytest.mark.parametrize("ext", sorted(FORMATS))
def test_format_decodes_to_the_same_speech(formats_dir: Path, ext: str) -> None:
    path = formats_dir / f"interview_zh.{ext}"
    info = probe_audio(path)
    assert EXPECTED_CODEC[ext] in info.codec
    (decoded,) = decode_channels(path)
    (original,) = decode_channels(FIXTURES / "interview_zh.wav")
    assert len(decoded) / 16000 == pytest.approx(len(original) / 16000, abs=0.25)
    a, b = _envelope(original), _envelope(decoded)
    # Raw ADTS AAC has no edit list to hide the encoder's priming samples: allow a short lag.
    best = max(_correlation(a, b[lag:]) for lag in range(0, 20))
    assert best > 0.9


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    return float(np.corrcoef(a[:n], b[:n])[0, 1])


@pytest.mark.parametrize("ext", ["amr"])
def test_lossy_formats_are_transcribed(
    formats_dir: Path, backend: FasterWhisperBackend, ext: str
) -> None:
    # amr: 8 kHz narrow-band phone codec, the hardest input here (the other containers are
    # decoded above; the model itself runs on a stereo upload in tests/api/).
    transcript = backend.transcribe(formats_dir / f"interview_zh.{ext}")
    assert transcript.segments
    assert to_simplified(transcript.text) == transcript.text


class SpeechSpanRecogniser:
    """A stand-in for the model that tests only the channel split and the merge: it reports
    each loud stretch of the samples it is given as one segment. The real model runs on the
    same stereo file in tests/api/test_api_transcripts.py."""

    def transcribe(
        self, path: object, *, language: str = "zh", initial_prompt: str | None = None
    ) -> Transcript:
        assert isinstance(path, np.ndarray)
        loud = np.flatnonzero(np.abs(path) > 0.02)
        segments = (
            (Segment(0, loud[0] / 16000, loud[-1] / 16000, "话", -0.1, 0.0),) if len(loud) else ()
        )
        return Transcript(segments, "zh", len(path) / 16000, 0.01, {"name": "span"})


def test_stereo_channels_become_two_speakers(formats_dir: Path) -> None:
    left, right = decode_channels(formats_dir / "interview_stereo.wav")
    cut = int(7.2 * 16000)
    assert np.abs(left[cut + 1600 :]).max() < 1e-3 and np.abs(right[: cut - 1600]).max() < 1e-3
    recogniser = SpeechSpanRecogniser()
    transcript = transcribe_channels(
        recogniser,  # type: ignore[arg-type]
        formats_dir / "interview_stereo.wav",
    )
    assert [s.speaker for s in transcript.segments] == ["问", "答"]
    assert [s.index for s in transcript.segments] == [0, 1]
    question, answer = transcript.segments
    assert question.end <= 7.3 and answer.start >= 7.1
    assert transcript.model["channels"] == 2
    assert speaker_turns(transcript.segments) == [("问", "话"), ("答", "话")]


def test_ordinary_stereo_is_not_split() -> None:
    (mono,) = decode_channels(FIXTURES / "interview_zh.wav")
    assert not channels_differ(mono, mono * 0.7)  # one room on both channels
    silent = np.zeros_like(mono)
    half = len(mono) // 2
    assert channels_differ(
        np.concatenate([mono[:half], silent[half:]]), np.concatenate([silent[:half], mono[half:]])
    )


def test_video_without_audio_track_is_refused(tmp_path: Path) -> None:
    from fractions import Fraction

    import av

    from assistant.errors import UnsupportedMedia

    path = tmp_path / "camera_no_sound.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(
                np.zeros((48, 64, 3), dtype=np.uint8), format="rgb24"
            )
            frame.pts, frame.time_base = i, Fraction(1, 5)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    with pytest.raises(UnsupportedMedia) as error:
        probe_audio(path)
    assert error.value.code == "not_audio"


def test_truncated_compressed_file_is_refused(formats_dir: Path, tmp_path: Path) -> None:
    from assistant.errors import InvalidInput, TaxAssistError

    data = (formats_dir / "interview_zh.m4a").read_bytes()
    truncated = tmp_path / "cut.m4a"
    truncated.write_bytes(data[: len(data) // 3])  # the moov atom sits at the end: unreadable
    with pytest.raises(TaxAssistError) as error:
        probe_audio(truncated)
    assert error.value.code in {"not_audio", "corrupt_audio"}
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    with pytest.raises((InvalidInput, TaxAssistError)):
        probe_audio(empty)

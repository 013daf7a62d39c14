"""Every upload format decoded for real by PyAV (no system ffmpeg), and stereo split by speaker.

The fixtures are generated from interview_zh.wav by the project's own script
(tests/fixtures/make_formats.py) into a temporary folder once per session.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.registry import ModelRegistry
from assistant.transcription import FasterWhisperBackend, probe_audio, to_simplified
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


@pytest.mark.parametrize("ext", ["amr", "mp4"])
def test_lossy_formats_are_transcribed(
    formats_dir: Path, backend: FasterWhisperBackend, ext: str
) -> None:
    # amr: 8 kHz narrow-band phone codec; mp4: a body-camera style container.
    transcript = backend.transcribe(formats_dir / f"interview_zh.{ext}")
    assert transcript.segments
    assert to_simplified(transcript.text) == transcript.text


def test_stereo_channels_become_two_speakers(
    formats_dir: Path, backend: FasterWhisperBackend
) -> None:
    left, right = decode_channels(formats_dir / "interview_stereo.wav")
    cut = int(7.2 * 16000)
    assert np.abs(left[cut + 1600 :]).max() < 1e-3 and np.abs(right[: cut - 1600]).max() < 1e-3
    transcript = transcribe_channels(backend, formats_dir / "interview_stereo.wav")
    speakers = [s.speaker for s in transcript.segments]
    assert set(speakers) == {"问", "答"}
    assert speakers[0] == "问"  # the question comes first, on the left channel
    starts = [s.start for s in transcript.segments]
    assert starts == sorted(starts)
    assert [s.index for s in transcript.segments] == list(range(len(starts)))
    assert all(s.start < 7.4 for s in transcript.segments if s.speaker == "问")
    assert all(s.end > 7.0 for s in transcript.segments if s.speaker == "答")
    turns = speaker_turns(transcript.segments)
    assert [t[0] for t in turns][:2] == ["问", "答"]


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

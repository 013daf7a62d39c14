"""Bounded-window decoding: windows tile the file, cut in pauses, resume, fail clearly."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import InvalidInput
from assistant.transcription.channels import decode_channels
from assistant.transcription.windows import SAMPLE_RATE, DecodeFailed, iter_windows, quiet_cut
from tests.jobs.audio import FLAC, MP3, cut_in_half, long_interview


@pytest.fixture(scope="module")
def long_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return long_interview(tmp_path_factory.mktemp("windows") / "long.wav", repeats=3)


def test_windows_tile_the_recording_exactly(long_wav: Path) -> None:
    windows = list(iter_windows(long_wav, window_seconds=10.0))
    whole = decode_channels(long_wav)[0]
    assert len(windows) >= 4
    assert [w.last for w in windows] == [False] * (len(windows) - 1) + [True]
    assert windows[0].start == 0.0
    for a, b in itertools.pairwise(windows):
        assert b.start == pytest.approx(a.end)
    assert all(w.samples.shape[1] <= 10.0 * SAMPLE_RATE + 320 for w in windows)
    joined = np.concatenate([w.samples[0] for w in windows])
    assert joined.shape == whole.shape
    np.testing.assert_array_equal(joined, whole)  # nothing lost or repeated at the cuts


def test_a_window_ends_in_the_quietest_moment_near_its_end(long_wav: Path) -> None:
    """With a 13 s window the 1 s pause after the 12.6 s interview lies in the search range."""
    first = next(iter_windows(long_wav, window_seconds=14.0, search_seconds=3.0))
    tail = first.samples[0][-SAMPLE_RATE // 10 :]
    assert float(np.abs(tail).max()) < 1e-3  # cut in silence, not in a word
    assert 11.0 <= first.end <= 14.0


def test_quiet_cut_finds_the_pause() -> None:
    rng = np.random.default_rng(0)
    mono = rng.normal(0, 0.3, 10 * SAMPLE_RATE).astype(np.float32)
    mono[7 * SAMPLE_RATE : int(7.4 * SAMPLE_RATE)] = 0.0
    cut = quiet_cut(mono, 6 * SAMPLE_RATE, 9 * SAMPLE_RATE)
    assert 7 * SAMPLE_RATE <= cut <= int(7.4 * SAMPLE_RATE)


def test_resume_starts_at_the_offset(long_wav: Path) -> None:
    windows = list(iter_windows(long_wav, start=20.5, window_seconds=10.0))
    whole = decode_channels(long_wav)[0]
    assert windows[0].start == pytest.approx(20.5)
    joined = np.concatenate([w.samples[0] for w in windows])
    np.testing.assert_array_equal(joined, whole[int(20.5 * SAMPLE_RATE) :])


def test_length_beyond_the_limit_fails_while_decoding(long_wav: Path) -> None:
    with pytest.raises(InvalidInput) as info:
        list(iter_windows(long_wav, window_seconds=10.0, max_seconds=20.0))
    assert info.value.code == "audio_too_long"


@pytest.mark.parametrize(("spec", "code"), [(FLAC, "decode_failed"), (MP3, "audio_truncated")])
def test_damaged_files_fail_with_a_code(
    tmp_path: Path, spec: tuple[str, str, int, str, str], code: str
) -> None:
    path = cut_in_half(tmp_path / f"half.{spec[0]}", spec)
    with pytest.raises(DecodeFailed) as info:
        list(iter_windows(path, window_seconds=60.0))
    assert info.value.code == code
    assert "截断" in info.value.message

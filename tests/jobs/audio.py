"""Recordings for the job tests, made from the synthetic interview (no new binary fixtures)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.fixtures.make_formats import SOURCE, encode, read_mono

WAV = ("wav", "pcm_s16le", 16000, "s16", "mono")


def long_interview(out: Path, *, repeats: int = 4, gap_seconds: float = 1.0) -> Path:
    """The interview `repeats` times with silence between: several windows of speech."""
    samples, rate = read_mono(SOURCE)
    gap = np.zeros(int(gap_seconds * rate), dtype=np.int16)
    parts = [p for _ in range(repeats) for p in (samples, gap)]
    encode(np.concatenate(parts).reshape(1, -1), rate, out, WAV)
    return out


def cut_in_half(out: Path, spec: tuple[str, str, int, str, str]) -> Path:
    """The interview encoded with `spec`, then the file cut in the middle: the header still
    declares the full length, so it probes fine and fails only while decoding."""
    samples, rate = read_mono(SOURCE)
    whole = out.with_name("whole-" + out.name)
    encode(samples.reshape(1, -1), rate, whole, spec)
    data = whole.read_bytes()
    whole.unlink()
    out.write_bytes(data[: len(data) // 2])
    return out


FLAC = ("flac", "flac", 16000, "s16", "mono")
MP3 = ("mp3", "libmp3lame", 16000, "s16p", "mono")

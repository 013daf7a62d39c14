"""Recordings for the job tests, made from the synthetic interview (no new binary fixtures)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from tests.conftest import SHARED_CORPORA
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


# Two short Mandarin clips of the shared corpus (about 4.3 s and 5.0 s): real speech in two
# decoding windows of 5 s, so a job has a first segment stored well before its end.
CLIPS = ("BAC009S0724W0121", "wenet_mid_noref")


def joined_clips(
    out: Path, clips: tuple[str, ...] = CLIPS, gap_seconds: float = 0.5
) -> tuple[Path, list[tuple[float, float]]]:
    """The clips one after another with short pauses: the file and each clip's span."""
    spans: list[tuple[float, float]] = []
    frames: list[bytes] = []
    rate = 16000
    at = 0.0
    for name in clips:
        with wave.open(str(SHARED_CORPORA / "speech" / "wav" / f"{name}.wav"), "rb") as clip:
            assert (clip.getframerate(), clip.getnchannels(), clip.getsampwidth()) == (rate, 1, 2)
            n = clip.getnframes()
            frames += [clip.readframes(n), b"\0\0" * int(gap_seconds * rate)]
        spans.append((at, at + n / rate))
        at += n / rate + gap_seconds
    with wave.open(str(out), "wb") as joined:
        joined.setnchannels(1)
        joined.setsampwidth(2)
        joined.setframerate(rate)
        joined.writeframes(b"".join(frames))
    return out, spans

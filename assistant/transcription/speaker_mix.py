"""Mono interview-like mixes of real speakers with a known who-spoke-when, to measure diarization.

Real interviews with speaker-labelled references are not available offline, so turns are cut
from the real utterances of different speakers in a Kaldi-layout corpus
(shared/corpora/speech), given random gains and joined with low-noise pauses, alternating like
questions and answers. A seeded generator makes the same mix on every machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.transcription.channels import decode_channels

SAMPLE_RATE = 16000
_FRAME = 320

# Utterance id → speaker. AISHELL ids carry the speaker (BAC009S0764W0122 → S0764); the two
# wenet no-reference files are one voice (cosine 0.88 between them, at most 0.64 to any other
# speaker here), so they count as one speaker.
_AISHELL = re.compile(r"^BAC009(S\d{4})W\d{4}$")
_FIRERED = re.compile(r"^(IT\d{4})W\d{4}$")


def speaker_of(utterance: str) -> str:
    if m := _AISHELL.match(utterance) or _FIRERED.match(utterance):
        return m.group(1)
    if utterance.startswith("wenet_"):
        return "wenet"
    return utterance.split("_", 1)[0]


def trimmed(samples: np.ndarray, floor_db: float = -35.0) -> np.ndarray:
    """Leading and trailing silence cut (20 ms frames below `floor_db` of the loudest frame),
    so a reference turn is speech from its first to its last voiced frame."""
    frames = len(samples) // _FRAME
    if frames == 0:
        return samples
    energy = (samples[: frames * _FRAME].reshape(frames, _FRAME) ** 2).mean(axis=1)
    loud = np.where(energy >= energy.max() * 10 ** (floor_db / 10))[0]
    return samples[loud[0] * _FRAME : (loud[-1] + 1) * _FRAME]


def load_speakers(corpus: Path) -> dict[str, list[np.ndarray]]:
    """Every wav under corpus/wav, trimmed, grouped by speaker (sorted: order never varies)."""
    out: dict[str, list[np.ndarray]] = {}
    for path in sorted((corpus / "wav").glob("*.wav")):
        out.setdefault(speaker_of(path.stem), []).append(trimmed(decode_channels(path)[0]))
    return out


@dataclass(frozen=True)
class Mix:
    samples: np.ndarray  # mono float32, 16 kHz
    reference: tuple[tuple[float, float, str], ...]  # (start, end, speaker) per turn

    @property
    def seconds(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def build_mix(
    voices: dict[str, list[np.ndarray]],
    speakers: list[str],
    *,
    turns: int = 12,
    seed: int = 0,
    min_turn: float = 1.5,
    max_turn: float = 4.0,
    pause: tuple[float, float] = (0.4, 1.2),
    noise_db: float = -60.0,
) -> Mix:
    """`turns` turns cycling through `speakers`; each a random crop (whole utterance if shorter)
    of one of that speaker's utterances at a random gain of ±6 dB, pauses of low noise."""
    rng = np.random.default_rng(seed)
    noise_rms = 10 ** (noise_db / 20)
    parts: list[np.ndarray] = []
    reference: list[tuple[float, float, str]] = []
    cursor = 0

    def add_pause() -> None:
        nonlocal cursor
        n = int(rng.uniform(*pause) * SAMPLE_RATE)
        parts.append((rng.standard_normal(n) * noise_rms).astype(np.float32))
        cursor += n

    add_pause()
    for turn in range(turns):
        speaker = speakers[turn % len(speakers)]
        utterances = voices[speaker]
        source = utterances[int(rng.integers(len(utterances)))]
        length = min(len(source), int(rng.uniform(min_turn, max_turn) * SAMPLE_RATE))
        offset = int(rng.integers(len(source) - length + 1))
        piece = source[offset : offset + length] * 10 ** (rng.uniform(-6, 6) / 20)
        piece = piece + (rng.standard_normal(len(piece)) * noise_rms)
        parts.append(np.clip(piece, -1, 1).astype(np.float32))
        reference.append(
            (round(cursor / SAMPLE_RATE, 3), round((cursor + length) / SAMPLE_RATE, 3), speaker)
        )
        cursor += length
        add_pause()
    return Mix(np.concatenate(parts), tuple(reference))


def write_wav(path: Path, samples: np.ndarray) -> None:
    import wave

    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm.tobytes())

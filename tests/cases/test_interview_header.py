"""When a recording was made, from its container tags (the 询问笔录 header's time)."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from assistant.cases.interview_header import recorded_at
from tests.conftest import FIXTURES


def _m4a(path: Path, tags: dict[str, str]) -> Path:
    pcm = (np.sin(np.arange(16000) / 9) * 8000).astype(np.int16).reshape(1, -1)
    with av.open(str(path), "w", format="ipod") as container:
        container.metadata.update(tags)
        stream = container.add_stream("aac", rate=16000, layout="mono")
        stream.codec_context.open()
        resampler = av.AudioResampler(
            format="fltp", layout="mono", rate=16000, frame_size=stream.codec_context.frame_size
        )
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = 16000, 0, Fraction(1, 16000)
        for chunk in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(chunk):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("2025-06-03T01:05:00.000000Z", datetime(2025, 6, 3, 1, 5, tzinfo=UTC)),
        ("2025-06-03T09:05:00+08:00", datetime(2025, 6, 3, 1, 5, tzinfo=UTC)),
        ("2025-06-03", None),  # a date alone says nothing of the hour
        ("not a date at all", None),
    ],
)
def test_creation_time_tag(tmp_path: Path, tag: str, expected: datetime | None) -> None:
    assert recorded_at(_m4a(tmp_path / "r.m4a", {"creation_time": tag})) == expected


def test_untagged_or_unreadable_files_have_no_time(tmp_path: Path) -> None:
    assert recorded_at(FIXTURES / "interview_zh.wav") is None
    (tmp_path / "x.wav").write_bytes(b"RIFF0000WAVE")
    assert recorded_at(tmp_path / "x.wav") is None
    assert recorded_at(tmp_path / "missing.wav") is None

"""Transcript outputs: SRT and WebVTT checked by a strict parser (the 询问笔录 draft is the
document type's layout: tests/cases/test_interview_draft.py)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from assistant.transcription.exports import (
    to_json,
    to_srt,
    to_text,
    to_vtt,
)


@dataclass(frozen=True)
class Seg:
    index: int
    start: float
    end: float
    text: str
    avg_logprob: float = -0.2
    speaker: str | None = None


SEGMENTS = [
    Seg(0, 0.0, 3.5, "请问你公司三月的增值税为什么没有按期申报？", speaker="问"),
    Seg(1, 3.5, 7.25, "因为会计离职了。", speaker="答"),
    Seg(2, 7.25, 9.0, "我们后来补报了。", avg_logprob=-1.3, speaker="答"),
    Seg(3, 3601.5, 3605.004, "好的。", speaker="问"),
]

_TIME = r"(\d{2}):(\d{2}):(\d{2})SEP(\d{3})"


def _seconds(match: tuple[str, ...]) -> float:
    h, m, s, ms = (int(x) for x in match)
    return h * 3600 + m * 60 + s + ms / 1000


def parse_cues(text: str, *, sep: str, header: str | None) -> list[tuple[float, float, str]]:
    """A strict SRT/WebVTT cue parser: numbered blocks, well-formed times, start ≤ end."""
    blocks = text.strip("\n").split("\n\n")
    if header is not None:
        assert blocks.pop(0).strip() == header
    stamp = _TIME.replace("SEP", re.escape(sep))
    timing = re.compile(f"^{stamp} --> {stamp}$")
    cues = []
    for number, block in enumerate(blocks, start=1):
        lines = block.split("\n")
        assert lines[0] == str(number)
        match = timing.match(lines[1])
        assert match, lines[1]
        start, end = _seconds(match.groups()[:4]), _seconds(match.groups()[4:])
        assert 0 <= start <= end
        assert len(lines) >= 3 and all(lines[2:])
        cues.append((start, end, "\n".join(lines[2:])))
    return cues


def test_srt_parses_with_times_and_speakers() -> None:
    cues = parse_cues(to_srt(SEGMENTS), sep=",", header=None)
    assert [c[:2] for c in cues] == [(0.0, 3.5), (3.5, 7.25), (7.25, 9.0), (3601.5, 3605.004)]
    assert cues[1][2] == "答：因为会计离职了。"


def test_vtt_parses_with_voice_tags() -> None:
    cues = parse_cues(to_vtt(SEGMENTS), sep=".", header="WEBVTT")
    assert len(cues) == 4
    assert cues[0][2].startswith("<v 问>请问")
    assert cues[3][:2] == (3601.5, 3605.004)


def test_text_and_json() -> None:
    assert to_text(SEGMENTS).splitlines()[1] == "答：因为会计离职了。"
    data = json.loads(to_json(SEGMENTS, model={"name": "whisper-base"}))
    assert data["model"]["name"] == "whisper-base"
    assert [s["low_confidence"] for s in data["segments"]] == [False, False, True, False]

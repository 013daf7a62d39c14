"""The 询问笔录 turns from diarization labels: every officer asks (问), every party answers."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.transcription.exports import interview_turns


@dataclass(frozen=True)
class Seg:
    index: int
    start: float
    end: float
    text: str
    speaker: str | None
    avg_logprob: float = -0.1


def test_second_officer_and_second_party_keep_their_roles() -> None:
    segments = [
        Seg(0, 0, 1, "你叫什么名字？", "问"),
        Seg(1, 1, 2, "张示例。", "答"),
        Seg(2, 2, 3, "补充问一下，账是谁记的？", "问2"),
        Seg(3, 3, 4, "会计记的。", "答2"),
        Seg(4, 4, 5, "嗯。", "说话人3"),
        Seg(5, 5, 6, "（听不清）", None),
    ]
    assert interview_turns(segments) == [
        ("问", "你叫什么名字？"),
        ("答", "张示例。"),
        ("问", "补充问一下，账是谁记的？"),
        ("答", "会计记的。"),
        ("〔未标注〕", "嗯。（听不清）"),
    ]

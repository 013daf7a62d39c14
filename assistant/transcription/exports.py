"""Transcript outputs: JSON, SRT, WebVTT, plain text and the 询问笔录 draft (.docx and text).

The draft is for the officer to correct, never a signed record: segments the model was unsure
of are marked 【待核：…】 so the officer listens to those moments before the reading-back.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

# Below this mean token log-probability a segment is marked for checking (whisper's own
# fallback threshold is -1.0; -0.8 flags a little more, since a wrong word in a record matters).
LOW_CONFIDENCE_LOGPROB = -0.8
READING_BACK = "以上笔录我已看过（向我宣读过），和我说的相符。"


class SegmentLike(Protocol):
    @property
    def index(self) -> int: ...
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...
    @property
    def text(self) -> str: ...
    @property
    def avg_logprob(self) -> float: ...
    @property
    def speaker(self) -> str | None: ...


def _timestamp(seconds: float, separator: str) -> str:
    millis = round(max(seconds, 0.0) * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _label(segment: SegmentLike) -> str:
    return f"{segment.speaker}：" if segment.speaker else ""


def to_srt(segments: Sequence[SegmentLike]) -> str:
    blocks = [
        f"{n}\n{_timestamp(s.start, ',')} --> {_timestamp(s.end, ',')}\n{_label(s)}{s.text}\n"
        for n, s in enumerate(segments, start=1)
    ]
    return "\n".join(blocks)


def to_vtt(segments: Sequence[SegmentLike]) -> str:
    blocks = ["WEBVTT\n"]
    for s in segments:
        voice = f"<v {s.speaker}>" if s.speaker else ""
        blocks.append(
            f"{s.index + 1}\n{_timestamp(s.start, '.')} --> {_timestamp(s.end, '.')}\n"
            f"{voice}{s.text}\n"
        )
    return "\n".join(blocks)


def to_text(segments: Sequence[SegmentLike]) -> str:
    return "\n".join(f"{_label(s)}{s.text}" for s in segments) + "\n"


def to_json(segments: Sequence[SegmentLike], *, model: dict[str, Any] | None = None) -> str:
    return json.dumps(
        {
            "model": model or {},
            "segments": [
                {
                    "index": s.index,
                    "start": s.start,
                    "end": s.end,
                    "speaker": s.speaker,
                    "text": s.text,
                    "avg_logprob": s.avg_logprob,
                    "low_confidence": s.avg_logprob < LOW_CONFIDENCE_LOGPROB,
                }
                for s in segments
            ],
        },
        ensure_ascii=False,
        indent=2,
    )


@dataclass(frozen=True)
class InterviewHeader:
    """The 询问笔录 header fields; what the system does not know stays blank for the officer."""

    started: str = ""
    ended: str = ""
    place: str = ""
    interviewers: str = ""
    recorder: str = ""
    interviewee: str = ""
    interviewee_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def _marked(segment: SegmentLike) -> str:
    if segment.avg_logprob < LOW_CONFIDENCE_LOGPROB:
        return f"【待核：{segment.text}】"
    return segment.text


def interview_turns(
    segments: Sequence[SegmentLike], *, officer: str = "问", taxpayer: str = "答"
) -> list[tuple[str, str]]:
    """Q/A turns: a speaker's consecutive segments joined; unlabelled speech is 〔未标注〕."""
    turns: list[tuple[str, str]] = []
    for segment in segments:
        if segment.speaker == officer:
            role = "问"
        elif segment.speaker == taxpayer:
            role = "答"
        else:
            role = "〔未标注〕"
        if turns and turns[-1][0] == role:
            turns[-1] = (role, turns[-1][1] + _marked(segment))
        else:
            turns.append((role, _marked(segment)))
    return turns


def interview_record_lines(
    segments: Sequence[SegmentLike], header: InterviewHeader, **speakers: str
) -> list[str]:
    """The draft as lines: header, Q/A turns, the reading-back statement and signature lines."""
    lines = [
        "询问笔录（草稿，须经承办人核对）",
        f"时间：{header.started} 至 {header.ended}",
        f"地点：{header.place}",
        f"询问人：{header.interviewers}",
        f"记录人：{header.recorder}",
        f"被询问人：{header.interviewee}",
        f"身份证件号码：{header.interviewee_id}",
        *[f"{key}：{value}" for key, value in header.extra.items()],
    ]
    lines += [f"{role}：{text}" for role, text in interview_turns(segments, **speakers)]
    lines += [
        f"答：{READING_BACK}",
        "被询问人（签名）：__________    年  月  日",
        "询问人（签名）：__________    记录人（签名）：__________",
    ]
    return lines


def interview_record_docx(
    segments: Sequence[SegmentLike], header: InterviewHeader, **speakers: str
) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    from assistant.drafting.layout import Role, add_paragraph, setup_page

    doc = Document()
    setup_page(doc)
    lines = interview_record_lines(segments, header, **speakers)
    add_paragraph(doc, lines[0], role=Role.TITLE, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    for line in lines[1:]:
        add_paragraph(doc, line, role=Role.BODY, indent=False)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()

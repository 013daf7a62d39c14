"""The 询问笔录 draft of a transcript is the document type's layout (one renderer): header,
the notice of rights, 问/答 turns with their 【待核】 marks, the check points, the signatures."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

import pytest
from docx import Document

from assistant.cases.interview_header import InterviewHeader
from assistant.cases.transcripts import interview_draft
from assistant.documents.registry import REGISTRY
from assistant.drafting.other_documents import InterviewContext, Utterance, render_interview
from assistant.errors import InvalidInput

AUTHORITY = "国家税务总局示例市税务局稽查局"


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
    Seg(3, 9.0, 10.0, "嗯。", speaker=None),
    Seg(4, 3601.5, 3605.004, "好的。", speaker="问"),
]
HEADER = InterviewHeader(
    started="2025年6月3日9时00分",
    ended="2025年6月3日9时40分",
    place="示例区税务局询问室",
    interviewers=(("示例承办人", "15010001"), ("示例承办人二", "")),
    recorder="示例承办人二",
    interviewee="张示例",
    extra={"被询问单位": "示例商贸有限公司（91150100MA0000000X）"},
)


def test_the_registered_type_renders_the_draft() -> None:
    assert REGISTRY["interview_record"].render is render_interview


def test_transcript_draft_in_the_formal_layout() -> None:
    events = [{"start": 7.25, "end": 9.0, "reasons": ["repetition"], "outcome": "redecoded"}]
    rendered = interview_draft(SEGMENTS, HEADER, authority=AUTHORITY, check_events=events)
    lines = [p.text for p in Document(io.BytesIO(rendered.docx)).paragraphs]
    assert rendered.text.splitlines() == lines
    assert lines[0] == AUTHORITY
    assert lines[1] == "询问（调查）笔录（草稿，须经承办人核对）"
    assert lines[2] == "核对要点（自动识别存疑 1 处，宣读前请对照录音核对）："
    assert lines[3].startswith("1. 00:07.2–00:09.0：重复循环；已重新识别")
    assert "询问时间：2025年6月3日9时00分至2025年6月3日9时40分" in lines
    assert "询问地点：示例区税务局询问室" in lines
    assert "询问人：示例承办人（执法证号：15010001）、示例承办人二" in lines
    # what the system does not know is a blank for the officer, not a refusal
    assert "被询问人：张示例（身份证件号码：________），________" in lines
    assert "被询问单位：示例商贸有限公司（91150100MA0000000X）" in lines
    assert any(line.startswith("告知：我们是" + AUTHORITY) for line in lines)
    turns = [line for line in lines if line.startswith(("问：", "答：", "〔未标注〕："))]
    assert turns == [
        "问：请问你公司三月的增值税为什么没有按期申报？",
        "答：因为会计离职了。【待核：我们后来补报了。】",
        "〔未标注〕：嗯。",
        "问：好的。",
    ]
    # the reading-back and signatures are the document type's own
    assert "以上笔录我已看过（已向我宣读过），与我所说的一致。" in lines
    assert any(line.startswith("被询问人（签名）") for line in lines)
    assert any("记录人（签名）" in line for line in lines)


def test_an_unknown_header_leaves_blanks() -> None:
    rendered = interview_draft(SEGMENTS[:1], InterviewHeader(), authority=AUTHORITY)
    lines = rendered.text.splitlines()
    assert lines[2] == "询问时间：________至________"
    assert "询问人：________、________" in lines


def test_the_formal_type_still_refuses_a_missing_field() -> None:
    """Only the draft may leave blanks: the registered type wants every field."""
    context = InterviewContext(
        authority=AUTHORITY,
        start=datetime(2026, 5, 10, 9, 0),
        end=datetime(2026, 5, 10, 10, 0),
        place="",
        interviewers=(("王检查", "15010001"), ("李检查", "15010002")),
        recorder="赵二",
        interviewee="张示例",
        interviewee_id="150102199001011234",
        interviewee_role="法定代表人",
        utterances=(Utterance("问", "你是否申请回避？"),),
    )
    with pytest.raises(InvalidInput) as err:
        render_interview(context)
    assert err.value.details["fields"] == ["place"]

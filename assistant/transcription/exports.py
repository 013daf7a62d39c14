"""Transcript outputs: JSON, SRT, WebVTT, plain text, and the transcript-level parts of the
询问笔录 draft: its 问/答 turns and the points to check against the recording.

The 笔录 itself has one layout, the document type's (`drafting.other_documents.render_interview`);
`cases.transcripts` lays these turns out in it. The draft is for the officer to correct, never a
signed record: words (or, without word timestamps, whole segments) the model was unsure of are
marked 【待核：…】 so the officer listens to those moments before the reading-back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, Protocol

from assistant.transcription.backend import Word
from assistant.transcription.checks import clock

# Below this mean token log-probability a segment is marked for checking (whisper's own
# fallback threshold is -1.0; -0.8 flags a little more, since a wrong word in a record matters).
LOW_CONFIDENCE_LOGPROB = -0.8
# Below this word probability a word is marked for checking. Measured on the four real
# utterances of shared/corpora/speech (whisper-base int8, docs/benchmarks.md): the four
# misrecognised characters had 0.12–0.60, 7 of the 38 correct ones were below 0.65 too. A
# missed error costs more than a needless listen, so the threshold favours recall (4/4 caught,
# about one word in four marked); a tiny sample, to be re-measured on real interviews.
LOW_CONFIDENCE_WORD = 0.65
_EDGE_PUNCT = re.compile(r"^([\W_]*)(.*?)([\W_]*)$", re.S)


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


def segment_words(segment: SegmentLike) -> tuple[Word, ...]:
    """The segment's words, whether it is a backend Segment (Word objects), a stored
    TranscriptSegment (JSON dicts) or an officer's version (none: a correction has no words)."""
    raw = getattr(segment, "words", None) or ()
    return tuple(
        w if isinstance(w, Word) else Word(w["start"], w["end"], w["word"], w["probability"])
        for w in raw
    )


def to_json(segments: Sequence[SegmentLike], *, model: dict[str, Any] | None = None) -> str:
    return json.dumps(
        {
            "model": model or {},
            "low_confidence_word_probability": LOW_CONFIDENCE_WORD,
            "segments": [
                {
                    "index": s.index,
                    "start": s.start,
                    "end": s.end,
                    "speaker": s.speaker,
                    "text": s.text,
                    "avg_logprob": s.avg_logprob,
                    "low_confidence": s.avg_logprob < LOW_CONFIDENCE_LOGPROB,
                    "words": [
                        {
                            "start": w.start,
                            "end": w.end,
                            "word": w.word,
                            "probability": w.probability,
                            "low_confidence": w.probability < LOW_CONFIDENCE_WORD,
                        }
                        for w in segment_words(s)
                    ],
                }
                for s in segments
            ],
        },
        ensure_ascii=False,
        indent=2,
    )


def _marked(segment: SegmentLike) -> str:
    """Low-confidence words marked where the words still spell the text; else the segment."""
    words = segment_words(segment)
    if words and "".join(w.word for w in words) == segment.text:
        return mark_words(words)
    if segment.avg_logprob < LOW_CONFIDENCE_LOGPROB:
        return f"【待核：{segment.text}】"
    return segment.text


def mark_words(words: Sequence[Word], threshold: float = LOW_CONFIDENCE_WORD) -> str:
    """Runs of low-confidence words in one 【待核：…】; punctuation stays outside the mark."""
    out: list[str] = []
    run: list[str] = []

    def close() -> None:
        if run:
            out.append(f"【待核：{''.join(run)}】")
            run.clear()

    for word in words:
        if word.probability >= threshold:
            close()
            out.append(word.word)
            continue
        match = _EDGE_PUNCT.match(word.word)
        lead, core, trail = match.groups() if match else ("", word.word, "")
        if not core:
            close()
            out.append(word.word)
            continue
        if lead:
            close()
            out.append(lead)
        run.append(core)
        if trail:
            close()
            out.append(trail)
    close()
    return "".join(out)


def interview_turns(
    segments: Sequence[SegmentLike], *, officer: str = "问", taxpayer: str = "答"
) -> list[tuple[str, str]]:
    """Q/A turns: a speaker's consecutive segments joined; unlabelled speech is 〔未标注〕.
    A second officer (问2) asks and a second party (答2) answers like the first."""
    turns: list[tuple[str, str]] = []
    for segment in segments:
        speaker = segment.speaker or ""
        if speaker == officer or speaker.rstrip("0123456789") == "问":
            role = "问"
        elif speaker == taxpayer or speaker.rstrip("0123456789") == "答":
            role = "答"
        else:
            role = "〔未标注〕"
        if turns and turns[-1][0] == role:
            turns[-1] = (role, turns[-1][1] + _marked(segment))
        else:
            turns.append((role, _marked(segment)))
    return turns


_REASONS = {
    "repetition": "重复循环",
    "outside_charset": "生僻字或乱码",
    "invalid_utf8": "乱码",
    "no_speech": "无语音处出现文字",
    "past_speech_end": "文字超出语音结束处",
    "too_fast": "文字多于语音时长",
    "low_confidence": "模型把握不足",
    "subtitle_credit": "字幕署名类幻觉文字",
}
_OUTCOMES = {
    "redecoded": "已重新识别，请对照录音核对该段文字",
    "unrecognized": "无法可靠识别，笔录中以【无法识别】标出，请听录音补记",
    "removed": "该处无语音，识别文字已删除，请听录音确认",
    "not_heard": "语音末尾的杂音或幻觉文字，未计入笔录，请听录音确认",
}


def check_point_lines(events: Sequence[dict[str, Any]]) -> list[str]:
    """One line per segment that failed the recognition checks: where to listen, and why."""
    if not events:
        return []
    lines = [f"核对要点（自动识别存疑 {len(events)} 处，宣读前请对照录音核对）："]
    for n, event in enumerate(events, start=1):
        reasons = "、".join(_REASONS.get(r, r) for r in event.get("reasons", []))
        speaker = f"〔{event['speaker']}〕" if event.get("speaker") else ""
        lines.append(
            f"{n}. {clock(event['start'])}–{clock(event['end'])}{speaker}：{reasons}；"
            f"{_OUTCOMES.get(event.get('outcome', ''), event.get('outcome', ''))}。"
        )
    return lines

"""The no-invented-text checks and 笔录 punctuation (pure: no model)."""

from __future__ import annotations

from assistant.transcription import checks
from assistant.transcription.backend import (
    CheckEvent,
    Segment,
    check_summary,
    unheard_tail,
    whole_clip,
)
from assistant.transcription.exports import check_point_lines, interview_turns
from assistant.transcription.punctuation import (
    ends_with_punctuation,
    join_words,
    readable_pieces,
    readable_text,
)
from tests.transcription.test_word_timestamps import Seg


def test_charset_is_the_8105_table() -> None:
    table = checks.general_standard_chars()
    assert len(table) == 8105
    for ch in "的税罚款滞纳金稽查申辩":
        assert ch in table
    for ch in "稅發鋳鋲":  # traditional or Japanese forms are not in the table
        assert ch not in table
    assert "国发〔2013〕23号" in checks.CHARSET.read_text(encoding="utf-8")


def test_outside_charset_allows_digits_latin_and_punctuation() -> None:
    assert checks.outside_charset("补缴税款12,000元（VAT）、滞纳金0.5‰。") == []
    assert checks.outside_charset("千万你钢丝钢钢鋳鋳钢锯钢鋲") == ["鋲", "鋳"]


def test_repetition_catches_the_loops_seen_on_real_speech() -> None:
    # What whisper-base wrote on the real corpus with sampling or past the end of speech.
    for loop in (
        "换一首歌我认为你认为你设定了我认为你颂护护护抚抚抚押押押抚押抚抚抹押押押押",
        "请您您您您您您 请您您您您 您 您 您您 您 请您您 请您 请您 您 您",
        "字幕——字幕——字幕—字幕——字幕",
    ):
        assert checks.has_repetition(loop), loop
    for fine in ("对对对，是的。", "补缴税款10000元。", "已经注销的账号......公司", "哈哈，好的"):
        assert not checks.has_repetition(fine), fine
    assert checks.compression_ratio("他的" * 40) > checks.MAX_COMPRESSION_RATIO


def test_check_segment_reasons() -> None:
    speech = [(0.5, 3.0)]
    ok = checks.check_segment("一二线城市虽然也处于调整中。", 0.4, 3.1, speech=speech)
    assert ok.ok and ok.speech_seconds == 2.5
    silent = checks.check_segment("谢谢大家。", 5.0, 6.0, speech=speech)
    assert silent.reasons == (checks.NO_SPEECH,)
    tail = checks.check_segment(
        "处于调整中我认识你了", 1.0, 4.5, speech=speech, word_starts=[1.0, 2.0, 3.6, 4.0]
    )
    assert tail.reasons == (checks.PAST_SPEECH_END,)
    fast = checks.check_segment("一二三四五六七八九十" * 3, 0.5, 1.0, speech=speech)
    assert checks.TOO_FAST in fast.reasons
    broken = checks.check_segment("钢\ufffd锯", 0.5, 1.5, speech=speech)
    assert broken.reasons == (checks.INVALID_UTF8,)
    unsure = checks.check_segment("无论导义", 0.5, 2.0, speech=speech, avg_logprob=-1.2)
    assert unsure.reasons == (checks.LOW_CONFIDENCE,)
    noise = checks.check_segment(
        "无论导义", 0.5, 2.0, speech=speech, avg_logprob=-0.6, no_speech_prob=0.8
    )
    assert noise.reasons == (checks.LOW_CONFIDENCE,)


def _judged(
    rows: list[tuple[float, float, str, float, float]], speech: list[tuple[float, float]]
) -> tuple[list[Segment], list[checks.Verdict]]:
    """Segments as one clip decoded them (start, end, text, log-probability, no-speech), judged."""
    segments = [Segment(n, a, b, text, lp, ns) for n, (a, b, text, lp, ns) in enumerate(rows)]
    verdicts = [
        checks.check_segment(
            s.text,
            s.start,
            s.end,
            speech=speech,
            word_starts=[s.start],
            avg_logprob=s.avg_logprob,
            no_speech_prob=s.no_speech_prob,
        )
        for s in segments
    ]
    return segments, verdicts


def test_a_loop_after_the_words_of_a_clip_is_a_tail_even_when_the_model_is_sure() -> None:
    # What whisper-base wrote after 太乙真人 at 1,115 s of the 30-minute build (clip time): the
    # loop scored -0.51 with no-speech 0.48, so the model's doubt alone did not mark it.
    speech = [(0.3, 0.596), (1.004, 6.356)]
    loop = "3-4-3-4-4-4-5-5-5-4-5-4-4-7-4-7-5-4-7-8-4-7-7-8-8-4-4-8-4-8-8-8-5-4-8-7-8-5-5-"
    segments, verdicts = _judged(
        [
            (0.0, 6.02, "对，这就是我万人仅仰的太以真人。", -0.26, 0.0),
            (6.02, 6.92, loop, -0.51, 0.48),
        ],
        speech,
    )
    assert verdicts[0].ok and checks.REPETITION in verdicts[1].reasons
    assert checks.LOW_CONFIDENCE not in verdicts[1].reasons
    assert unheard_tail(segments, verdicts) == 1
    # a rare character alone says nothing about whether it was said: not a tail, decoded again
    segments, verdicts = _judged(
        [(0.0, 6.02, "对，这就是我万人仅仰的太以真人。", -0.26, 0.0), (6.02, 6.3, "嫲", -0.3, 0.1)],
        speech,
    )
    assert verdicts[1].reasons == (checks.OUTSIDE_CHARSET,)
    assert unheard_tail(segments, verdicts) == 2
    # nor is a loop over more than TAIL_SECONDS of speech
    segments, verdicts = _judged(
        [(0.0, 4.0, "对，这就是我万人仅仰的太以真人。", -0.26, 0.0), (4.0, 6.3, loop, -0.51, 0.48)],
        speech,
    )
    assert unheard_tail(segments, verdicts) == 2


def test_a_clip_with_no_passing_segment_goes_to_the_fallback_as_one() -> None:
    # The last 0.53 s of the 30-minute build, a word cut by the end of the file (clip time):
    # whisper put 对 before the VAD's speech, then a loop. Judged alone 对 had no speech under it.
    speech = [(0.3, 0.528)]
    segments, verdicts = _judged(
        [(0.0, 0.36, "对。", -0.8, 0.67), (0.36, 0.528, "字幕——字幕——字幕—字幕——字", -0.77, 0.7)],
        speech,
    )
    assert checks.NO_SPEECH in verdicts[0].reasons
    events: list[CheckEvent] = []
    merged, judged = whole_clip(segments, verdicts, speech, events)
    assert [(s.start, s.end, s.text) for s in merged] == [
        (0.0, 0.528, "对。字幕——字幕——字幕—字幕——字")
    ]
    assert checks.NO_SPEECH not in judged[0].reasons and judged[0].speech_seconds == 0.228
    assert merged[0].avg_logprob == -0.8 and merged[0].no_speech_prob == 0.7
    assert not events
    # credits are dropped as not heard first; nothing said anywhere stays "no speech"
    segments, verdicts = _judged(
        [
            (2.0, 2.5, "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目", -0.3, 0.2),
            (2.5, 3.0, "嗯嗯嗯嗯", -1.2, 0.6),
        ],
        [(2.55, 2.6)],
    )
    merged, judged = whole_clip(segments, verdicts, [(2.55, 2.6)], events)
    assert [e.outcome for e in events] == ["not_heard"]
    assert [s.text for s in merged] == ["嗯嗯嗯嗯"] and checks.NO_SPEECH in judged[0].reasons


def test_placeholder_names_the_span() -> None:
    assert checks.placeholder(12.34, 15.0) == "【无法识别 00:12.3–00:15.0】"
    assert checks.clock(3723.46) == "1:02:03.5"


def test_punctuation_and_figures_as_in_a_record() -> None:
    assert readable_text("对,这就是我 万人敬仰的太乙真人.") == "对，这就是我万人敬仰的太乙真人。"
    assert readable_text("补缴税款12,000元,时间是10:30?") == "补缴税款12,000元，时间是10:30？"
    assert readable_text("税率１３％") == "税率13%"
    assert readable_text("VAT invoice 两张") == "VAT invoice两张"
    words = ["对", ",", "补", "缴", "12", ",", "000", "元", "."]
    pieces = readable_pieces(words)
    assert pieces == ["对", "，", "补", "缴", "12", ",", "000", "元", "。"]
    assert join_words(pieces) == "对，补缴12,000元。"
    assert join_words(["VAT", "invoice", "两", "张"]) == "VAT invoice两张"
    assert ends_with_punctuation("好的。") and not ends_with_punctuation("好的")


def test_check_points_lead_the_record_draft() -> None:
    events = [
        {"start": 12.3, "end": 15.0, "reasons": ["repetition"], "outcome": "unrecognized"},
        {"start": 61.0, "end": 64.2, "reasons": ["outside_charset"], "outcome": "redecoded"},
    ]
    summary = check_summary(events)
    assert summary["flagged"] == 2
    assert summary["outcomes"] == {"redecoded": 1, "unrecognized": 1}
    segments = [Seg(0, 12.3, 15.0, checks.placeholder(12.3, 15.0), 0.0, None)]
    lines = check_point_lines(events)
    assert lines[0] == "核对要点（自动识别存疑 2 处，宣读前请对照录音核对）："
    assert lines[1].startswith("1. 00:12.3–00:15.0：重复循环；无法可靠识别")
    assert lines[2].startswith("2. 01:01.0–01:04.2：生僻字或乱码；已重新识别")
    assert interview_turns(segments) == [("〔未标注〕", "【无法识别 00:12.3–00:15.0】")]
    assert check_point_lines([]) == []


def test_subtitle_credits_are_data_with_their_source() -> None:
    text = checks.CREDITS.read_text(encoding="utf-8")
    assert "training data" in text and "github.com/openai/whisper" in text
    assert "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目" in checks.CREDIT_PHRASES
    for credit in (
        "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目",
        "请不吝点赞订阅转发打赏支持明镜与点点栏目",
        "字幕由Amara.org社群提供",
        "请订阅。",
        "谢谢观看！",
        "字幕——字幕——字幕",
    ):
        assert checks.credit_only(credit), credit
        verdict = checks.check_segment(credit, 0.0, 1.0, speech=[(0.0, 1.0)])
        assert checks.SUBTITLE_CREDIT in verdict.reasons
    # Words around a credit phrase are somebody's words: not credit-only.
    for spoken in (
        "我谢谢观看的各位",
        "字幕上写的是十二万元",
        "一二线城市虽然也处于调整中。",
        "。",
    ):
        assert not checks.credit_only(spoken), spoken

"""Points of dispute come from the party's words and link what they contest."""

from __future__ import annotations

from datetime import date

from assistant.facts import SourceRef, SourceText, find_disputes


def _turn(text: str, index: int, speaker: str | None) -> SourceText:
    return SourceText.of(
        SourceRef("recording", text, recording_id=1, segment_index=index, speaker=speaker)
    )


def test_defences_grouped_by_topic_with_the_violation_article() -> None:
    texts = [
        _turn("你是不是故意少缴税款？", 0, "问"),
        _turn("我不是故意的，会计不懂政策。", 1, "答"),
        _turn("税款已经补缴了。", 2, "答"),
        SourceText.of(SourceRef("statement", "对少缴税款金额有异议，没有那么多。", event_seq=9)),
    ]
    disputes = {
        d.topic: d for d in find_disputes(texts, violation="tax_evasion", on=date(2024, 6, 1))
    }
    assert set(disputes) == {"no_fault", "corrected", "amount"}
    no_fault = disputes["no_fault"]
    assert [s.source.segment_index for s in no_fault.statements] == [1]  # not the question
    assert "行政处罚法:33:2" in no_fault.articles and "税收征收管理法:63:1" in no_fault.articles
    assert disputes["amount"].statements[0].source.event_seq == 9
    assert "tax_unpaid" in disputes["amount"].fields


def test_an_answer_inside_a_merged_segment_is_the_party_s() -> None:
    merged = _turn("以前受过处罚吗？没有，这是第一次。", 0, "问")
    (dispute,) = find_disputes([merged])
    assert dispute.topic == "first_offence"
    assert dispute.statements[0].source.quote == "没有，这是第一次。"


def test_documents_and_officer_questions_raise_no_dispute() -> None:
    texts = [
        _turn("你是否认为这是第一次？", 0, "问"),
        SourceText.of(SourceRef("document", "当事人称不是故意。", document_id=2)),
    ]
    assert find_disputes(texts) == []

"""The proposer on texts whose facts are known: each value, its source span, and what it must
not read (a question's words, a statute quote, a stop word nearer to the amount)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from assistant.facts import SourceRef, SourceText, propose
from assistant.facts.propose import by_field
from assistant.facts.sources import align_words


def _segment(text: str, index: int = 0, speaker: str | None = None) -> SourceText:
    ref = SourceRef(
        "recording",
        text,
        recording_id=3,
        segment_index=index,
        start=10.0,
        end=20.0,
        speaker=speaker,
    )
    return SourceText.of(ref)


def _values(*texts: SourceText) -> dict[str, object]:
    return {f.field: f.value for f in by_field(propose(texts, reference_date=date(2026, 1, 1)))}


def test_amounts_go_to_the_field_of_the_nearest_cue() -> None:
    values = _values(_segment("经核实少缴增值税十二万元，应纳税额一百二十万元，违法所得3,000元。"))
    assert values["tax_unpaid"] == Decimal("120000.00")
    assert values["tax_payable"] == Decimal("1200000.00")
    assert values["illegal_gains"] == Decimal("3000.00")


def test_a_stop_word_nearer_the_amount_claims_it() -> None:
    values = _values(_segment("少缴税款期间隐匿收入50万元。"))
    assert "tax_unpaid" not in values  # 50万元 is the concealed income, not the tax


def test_invoice_amounts_need_an_invoice_nearby_and_a_total_ranks_first() -> None:
    text = (
        "虚开增值税专用发票10份，金额100,000.00元，税额13,000.00元；另虚开5份，金额50,000.00元，"
        "税额6,500.00元。虚开发票金额合计150,000.00元，税额合计19,500.00元。"
    )
    values = _values(SourceText.of(SourceRef("document", text, document_id=1, page=1)))
    assert values["invoice_amount"] == Decimal("150000.00")
    assert values["invoice_tax_amount"] == Decimal("19500.00")
    assert "invoice_amount" not in _values(_segment("货物金额20000元。"))


def test_statute_quotes_are_not_facts() -> None:
    text = (
        "你公司虚开增值税普通发票3份。依据“虚开金额在1万元以下的，可以并处5万元以下的罚款”"
        "的规定，你公司虚开金额8,000元。"
    )
    fields = by_field(propose([SourceText.of(SourceRef("document", text))]))
    amount = next(f for f in fields if f.field == "invoice_amount")
    assert [c.value for c in amount.candidates] == [Decimal("8000.00")]


def test_period_end_is_the_violation_date_and_inspection_start_the_discovery() -> None:
    values = _values(
        _segment("2024年1月到12月用个人账户收款，没有申报。"),
        SourceText.of(SourceRef("document", "我局于2025年3月2日至2025年6月30日对你公司进行检查。")),
    )
    assert values["violation_date"] == date(2024, 12, 31)
    assert values["discovery_date"] == date(2025, 3, 2)
    assert values["violation"] == "tax_evasion"


def test_days_and_counts_in_chinese_numerals() -> None:
    values = _values(
        _segment("我们逾期三十五天才申报。"), _segment("虚开增值税专用发票二十一份。", 1)
    )
    assert values["days_overdue"] == 35
    assert values["invoice_count"] == 21


@pytest.mark.parametrize(
    ("text", "speaker", "expected"),
    [
        ("没有，这是第一次。", "答", True),
        ("以前也被处罚过。", "答", False),
        ("以前没有受过处罚。", None, True),
        ("以前受过处罚吗？", "问", None),  # a question states nothing
    ],
)
def test_first_violation_from_answers_only(
    text: str, speaker: str | None, expected: object
) -> None:
    assert _values(_segment(text, speaker=speaker)).get("first_violation") == expected


def test_correction_negatives_win_over_their_positive_words() -> None:
    assert _values(_segment("税款至今未补缴。", speaker="答"))["corrected_in_time"] is False
    assert _values(_segment("税款已经补缴了。", speaker="答"))["corrected_in_time"] is True


def test_withholding_agent_role() -> None:
    assert _values(_segment("公司作为扣缴义务人已扣未缴个人所得税。"))["party_role"] == (
        "withholding_agent"
    )


def test_each_value_keeps_its_segment_span_and_word_times() -> None:
    text = "有，2024年1月到12月，用个人账户收款。"
    words = [
        ("有", 10.0, 10.4),
        ("，2024年1月", 10.5, 11.6),
        ("到12月", 11.6, 12.3),
        ("，用个人账户收款。", 12.4, 14.0),
    ]
    ref = SourceRef(
        "recording", text, recording_id=3, segment_index=4, start=10.0, end=14.2, speaker="答"
    )
    st = SourceText.of(ref, align_words(text, words))
    (field,) = [f for f in by_field(propose([st])) if f.field == "violation_date"]
    source = field.candidates[0].proposals[0].source
    assert source.recording_id == 3 and source.segment_index == 4
    assert source.quote == "2024年1月到12月"
    assert (source.quote_start, source.quote_end) == (10.5, 12.3)
    data = source.to_dict()
    assert data["start"] == 10.0 and data["end"] == 14.2 and data["quote"] == "2024年1月到12月"


def test_the_same_value_from_two_sources_is_one_candidate_with_both() -> None:
    fields = by_field(
        propose(
            [_segment("少缴税款12000元。", 0, "答"), _segment("对，少缴税款12000元。", 1, "答")]
        )
    )
    (tax,) = [f for f in fields if f.field == "tax_unpaid"]
    assert len(tax.candidates) == 1
    assert [p.source.segment_index for p in tax.candidates[0].proposals] == [0, 1]


def test_a_document_page_quotes_the_lines_it_read_with_their_box() -> None:
    """A scanned invoice list's lines: the summary sentence broken over two OCR lines keeps
    its cues with its figures, and each value points back to its line(s), page and box."""
    from assistant.facts.sources import DocumentPage

    page = DocumentPage.of_lines(
        5,
        1,
        [
            ("发票清单", (100.0, 20.0, 300.0, 50.0)),
            ("4400231130 00123456 2024-03-05 ¥12,800.00 ¥1,664.00", (20.0, 80.0, 600.0, 100.0)),
            ("合计：以上增值税专用发票共10份，金额合计128,000.00元，", (20.0, 300.0, 620.0, 330.0)),
            ("税额合计16,640.00元。", (20.0, 340.0, 260.0, 370.0)),
        ],
    )
    fields = {f.field: f for f in by_field(propose([page], reference_date=date(2026, 1, 1)))}
    assert fields["invoice_count"].value == 10
    assert fields["invoice_amount"].value == Decimal("128000.00")
    assert fields["invoice_tax_amount"].value == Decimal("16640.00")
    amount = fields["invoice_amount"].candidates[0].proposals[0].source
    assert amount.kind == "document" and amount.document_id == 5 and amount.page == 1
    assert amount.box == (20.0, 300.0, 620.0, 330.0)
    assert amount.text.startswith("合计：") and "128,000.00元" in amount.quote
    tax = fields["invoice_tax_amount"].candidates[0].proposals[0].source
    assert tax.box == (20.0, 340.0, 260.0, 370.0) and tax.quote.endswith("16,640.00元")
    # the unit a confirmation names is found again in the page, box and all
    assert page.find(amount.text, amount.box) == page.text.index("合计：")
    assert page.find(amount.text, (0.0, 0.0, 1.0, 1.0)) is None

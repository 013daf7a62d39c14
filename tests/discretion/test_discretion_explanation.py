"""The explanation is a paragraph an officer can paste: facts relied on, item and tier, factors
with their source, the resulting amount (figures and capitals), in that order."""

from __future__ import annotations

from datetime import date

from assistant.discretion import DiscretionInput, suggest

TODAY = date(2025, 1, 1)
BASE = {
    "taxpayer_type": "organisation",
    "violation_date": "2023-03-01",
    "decision_date": "2024-03-01",
}


def _explain(**data: object) -> str:
    return suggest(DiscretionInput.from_dict({**BASE, **data}, today=TODAY)).explanation


def test_penalty_paragraph_states_facts_item_tier_factors_amount() -> None:
    text = _explain(
        violation="tax_evasion",
        tax_unpaid="50000",
        occurrences=2,
        factors=["voluntarily_confessed"],
    )
    pieces = [
        "认定事实：当事人为单位，违法行为发生于2023-03-01，不缴或者少缴的税款50,000.00元，发生2次，"
        "未在责令限期内改正，危害后果轻微。",
        "《中华人民共和国税收征收管理法》第六十三条第一款，法定罚款幅度为25,000.00元至250,000.00元",
        "第6项“一般”阶次的适用条件（偷税2次以下",
        "依法从轻适用“较轻”阶次，该阶次幅度为25,000.00元至25,000.00元",
        "主动供述行政机关尚未掌握的违法行为，依据行政处罚法第三十二条第（三）项应当从轻处罚",
        "建议处罚款25,000.00元（贰万伍仟元整）",
        "应告知当事人有权在告知后5日内要求听证",
    ]
    positions = [text.find(p) for p in pieces]
    assert all(pos >= 0 for pos in positions), [
        p for p, i in zip(pieces, positions, strict=True) if i < 0
    ]
    assert positions == sorted(positions)
    assert text.endswith("本建议由系统生成，须经办案人员审核。")


def test_no_penalty_paragraph_states_facts_and_ground() -> None:
    text = _explain(
        violation="late_filing", days_overdue=12, first_violation=True, corrected_in_time=True
    )
    assert text.startswith(
        "认定事实：当事人为单位，违法行为发生于2023-03-01，逾期12日，发生1次，系首次违法"
    )
    assert "国家税务总局公告2021年第6号）第3项" in text
    assert "《中华人民共和国行政处罚法》第三十三条第一款，可以不予行政处罚" in text
    assert "第三十三条第三款" in text  # education of the party


def test_invoice_facts_and_confiscation() -> None:
    text = _explain(violation="invoice_misuse", illegal_gains="800", corrected_in_time=True)
    assert "违法所得800.00元" in text.split("。")[0]
    assert "没收违法所得800.00元（捌佰元整），依据《中华人民共和国发票管理办法》" in text
    assert "不适用简易程序" in text

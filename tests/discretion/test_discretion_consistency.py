"""Consistency check: outcome parsing, percentile and outlier flags on real case outcomes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from assistant.discretion import DiscretionInput
from assistant.discretion.consistency import (
    compare,
    parse_check_request,
    parse_outcome,
    percentile_of,
)
from assistant.errors import InvalidInput
from assistant.knowledge.cases_corpus import load_cases
from tests.conftest import DEMO_CORPUS, SHARED_CORPORA, requires_shared

TODAY = date(2025, 1, 1)
BASE = {
    "taxpayer_type": "organisation",
    "violation_date": "2023-03-01",
    "decision_date": "2024-03-01",
}


def _case(**data: Any) -> DiscretionInput:
    return DiscretionInput.from_dict({**BASE, **data}, today=TODAY)


@pytest.mark.parametrize(
    ("text", "multiples", "fines"),
    [
        ("并处少缴税款百分之五十的罚款26万元。", ["0.5"], ["260000"]),
        ("追缴税款20万元及滞纳金，并处少缴税款0.5倍罚款10万元。", ["0.5"], ["100000"]),
        ("对其处1倍罚款计1755.57万元", ["1"], ["17555700"]),
        ("处0.6倍罚款计3.19亿元", ["0.6"], ["319000000"]),
        ("责令限期改正，处罚款500元。", [], ["500"]),
        ("处5000元罚款", [], ["5000"]),
        # a statutory range is not an outcome; a court's 罚金 is not an administrative 罚款
        ("并处不缴或者少缴的税款百分之五十以上五倍以下的罚款", [], []),
        ("判处有期徒刑36个月，并处罚金50000元", [], []),
    ],
)
def test_parse_outcome(text: str, multiples: list[str], fines: list[str]) -> None:
    parsed = parse_outcome(text)
    assert list(parsed.multiples) == [Decimal(m) for m in multiples]
    assert list(parsed.fines) == [Decimal(f) for f in fines]


def test_percentile_mid_rank() -> None:
    values = [Decimal(v) for v in ("1", "2", "3", "4")]
    assert percentile_of(Decimal("0.5"), values) == 0.0
    assert percentile_of(Decimal("2"), values) == 37.5
    assert percentile_of(Decimal("9"), values) == 100.0


def _demo(violation: str) -> list[Any]:
    return [c for c in load_cases([DEMO_CORPUS]) if c.violation_type == violation]


def test_demo_late_filing_within_everything() -> None:
    case = _case(violation="late_filing", days_overdue=40, corrected_in_time=True)
    report = compare(case, Decimal("1500"), _demo("late_filing"))
    assert report.compared_on == "amount"
    assert report.tier_position == "within" and report.within_statutory_range
    assert sorted(p.value for p in report.peers) == [Decimal("500.00"), Decimal("3000.00")]
    assert report.percentile == 50.0
    assert report.outlier is False and not report.flags
    assert "未见异常" in report.explanation


def test_demo_late_filing_above_tier_and_peers() -> None:
    case = _case(violation="late_filing", days_overdue=40, corrected_in_time=True)
    report = compare(case, Decimal("9000"), _demo("late_filing"))
    codes = {f.code for f in report.flags}
    assert codes == {"above_benchmark_tier", "high_vs_similar_cases"}
    assert report.percentile == 100.0 and report.outlier
    assert "第1项“一般”阶次" in report.explanation


def test_demo_tax_evasion_compares_multiples() -> None:
    """Demo cases 003 (百分之五十) and 004 (0.5倍): a 3× proposal is high, 0.5× is the median."""
    case = _case(violation="tax_evasion", tax_unpaid="200000", occurrences=3)
    high = compare(case, Decimal("600000"), _demo("tax_evasion"))
    assert high.compared_on == "multiple" and high.proposed_value == Decimal("3")
    assert [p.value for p in high.peers] == [Decimal("0.5"), Decimal("0.5")]
    assert high.percentile == 100.0
    assert "high_vs_similar_cases" in {f.code for f in high.flags}
    assert high.tier_position == "within"  # 严重 tier: 2–5倍
    low = compare(case, Decimal("100000"), _demo("tax_evasion"))
    assert low.percentile == 50.0
    assert "below_benchmark_tier" in {f.code for f in low.flags}


def test_outside_statute_and_no_penalty_flags() -> None:
    case = _case(violation="late_filing", corrected_in_time=False)
    over = compare(case, Decimal("10001"), [])
    assert not over.within_statutory_range
    assert "outside_statutory_range" in {f.code for f in over.flags} and over.outlier
    assert over.percentile is None and "不计算百分位" in over.explanation
    exempt = _case(violation="late_filing", first_violation=True, corrected_in_time=True)
    flagged = compare(exempt, Decimal("200"), [])
    assert "no_penalty_suggested" in {f.code for f in flagged.flags}


def test_check_request_validation() -> None:
    good = {"case": {**BASE, "violation": "late_filing"}, "proposed_amount": "100"}
    assert parse_check_request(good, today=TODAY)[1] == Decimal("100.00")
    for bad, code in [
        ({**good, "proposed_amount": "-1"}, "negative_amount"),
        ({**good, "proposed_amount": "abc"}, "invalid_field"),
        ({"proposed_amount": "1"}, "missing_field"),
        ({**good, "k": 0}, "invalid_k"),
        ({**good, "extra": 1}, "unknown_field"),
    ]:
        with pytest.raises(InvalidInput) as info:
            parse_check_request(bad, today=TODAY)
        assert info.value.code == code


@requires_shared
def test_real_bulletins_tax_evasion_multiples() -> None:
    """SAT bulletins classified as 偷税: their stated multiples are the peer group."""
    cases = [
        c
        for c in load_cases([SHARED_CORPORA])
        if c.id.startswith("bulletin:") and c.violation_type == "tax_evasion"
    ]
    case = _case(violation="tax_evasion", tax_unpaid="500000", occurrences=2)
    usual = compare(case, Decimal("500000"), cases)  # 1倍, the most common published multiple
    assert len(usual.peers) > 100
    assert all(Decimal("0.5") <= p.value <= Decimal("5") for p in usual.peers)
    assert usual.percentile is not None and 5 <= usual.percentile <= 95
    assert not any(f.code.endswith("similar_cases") for f in usual.flags)
    heavy = compare(case, Decimal("2500000"), cases)  # 5倍, the statutory maximum
    assert heavy.percentile is not None and heavy.percentile > 95
    assert "high_vs_similar_cases" in {f.code for f in heavy.flags}

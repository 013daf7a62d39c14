"""Input validation codes, the to_dict contract, law-in-time and citation formatting."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from assistant.discretion import DiscretionInput, benchmark_from_dict, cite, suggest
from assistant.discretion.benchmark import PenaltyRange
from assistant.errors import InvalidInput

TODAY = date(2025, 1, 1)
BASE: dict[str, Any] = {
    "violation": "late_filing",
    "taxpayer_type": "organisation",
    "violation_date": "2023-03-01",
    "decision_date": "2024-03-01",
}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"violation": "speeding"}, "unknown_violation"),
        ({"tax_unpaid": -1}, "negative_amount"),
        ({"days_overdue": -3}, "negative_amount"),
        ({"occurrences": -1}, "negative_amount"),
        ({"decision_date": "2025-01-02"}, "date_in_future"),
        ({"decision_date": "2023-02-28"}, "dates_out_of_order"),
        ({"factors": ["bribed_officer"]}, "unknown_factor"),
        ({"colour": "red"}, "unknown_field"),
        ({"violation_date": "2023/03/01"}, "invalid_field"),
        ({"taxpayer_type": "robot"}, "invalid_field"),
        ({"corrected_in_time": "yes"}, "invalid_field"),
        ({"also_violates": ["speeding"]}, "unknown_violation"),
        ({"also_violates": ["late_filing"]}, "invalid_field"),
        ({"also_violates": "tax_evasion"}, "invalid_field"),
    ],
)
def test_bad_input_codes(change: dict[str, Any], code: str) -> None:
    with pytest.raises(InvalidInput) as info:
        DiscretionInput.from_dict({**BASE, **change}, today=TODAY)
    assert info.value.code == code
    assert info.value.status_code == 422


def test_unknown_violation_lists_valid_codes() -> None:
    with pytest.raises(InvalidInput) as info:
        DiscretionInput.from_dict({**BASE, "violation": "x"}, today=TODAY)
    assert "tax_evasion" in info.value.details["valid_codes"]


def test_json_numbers_and_absent_numbers() -> None:
    case = DiscretionInput.from_dict({**BASE, "tax_unpaid": 1234.56}, today=TODAY)
    assert str(case.tax_unpaid) == "1234.56"
    assert str(case.invoice_amount) == "0.00" and case.occurrences == 1


def test_to_dict_contract() -> None:
    case = DiscretionInput.from_dict({**BASE, "days_overdue": 3, "corrected_in_time": True})
    out = suggest(case).to_dict()
    assert set(out) == {
        "decision", "legal_ground", "statutory_range", "benchmark_item", "tier",
        "suggested_amount", "formula", "citations", "hearing_required",
        "legal_review_required", "simple_procedure", "criminal_referral", "explanation",
        "factors", "benchmark_range", "benchmark_citation", "penalties", "confiscated_amount",
    }  # fmt: skip
    assert out["statutory_range"] == {"min": "0.00", "max": "10000.00"}
    assert out["suggested_amount"] == "300.00"
    assert out["benchmark_range"] == {"min": "100.00", "max": "500.00"}
    assert out["benchmark_citation"] == "《TaxAssist税务行政处罚裁量基准（样本）》第1项“较轻”阶次"
    assert "叁佰元整" in out["explanation"]


def test_cite_formats_statute_ids() -> None:
    assert cite("税收征收管理法:63:1") == "《中华人民共和国税收征收管理法》第六十三条第一款"
    assert cite("行政处罚法:32:1:3") == "《中华人民共和国行政处罚法》第三十二条第一款第（三）项"
    assert cite("刑法:205之一:1") == "《中华人民共和国刑法》第二百零五条之一第一款"
    assert cite("发票管理办法:35@2019-03-02").endswith("第三十五条")


def _law_change_benchmark(new_max: str) -> Any:
    """Two versions of one provision; the newer one may be lighter (行政处罚法第三十七条)."""

    def item(ident: str, number: int, start: str, end: str | None, top: str) -> dict[str, Any]:
        return {
            "id": ident,
            "number": number,
            "violation": "invoice_misuse",
            "basis": [f"发票管理办法:{33 if end is None else 35}@{start}"],
            "statutory": {"kind": "fixed", "min": "0", "max": top},
            "effective_from": "2019-03-02",
            "statute_in_force": {"from": start, "to": end},
            "source": "test",
            "tiers": [{"name": "一般", "penalty": {"kind": "fixed", "min": "0", "max": top}}],
        }

    return benchmark_from_dict(
        {
            "name": "测试基准",
            "sample": True,
            "items": [
                item("old", 1, "2019-03-02", "2023-07-19", "10000"),
                item("new", 2, "2023-07-20", None, new_max),
            ],
        }
    )


def test_lighter_new_law_applies() -> None:
    case = DiscretionInput.from_dict(
        {**BASE, "violation": "invoice_misuse", "violation_date": "2023-01-01"}, today=TODAY
    )
    lighter = suggest(case, benchmark=_law_change_benchmark("5000"))
    assert lighter.benchmark_item == "new"
    assert any(f.code == "lighter_new_law" for f in lighter.factors)
    same = suggest(case, benchmark=_law_change_benchmark("10000"))
    assert same.benchmark_item == "old"


def test_clamped_to_statute_is_said() -> None:
    bench = _law_change_benchmark("10000")
    old = bench.items[0]
    too_wide = PenaltyRange("fixed", Decimal("5000"), Decimal("30000"))
    item = replace(old, tiers=(replace(old.tiers[0], penalty=too_wide),))
    case = DiscretionInput.from_dict(
        {**BASE, "violation": "invoice_misuse", "violation_date": "2023-01-01"}, today=TODAY
    )
    result = suggest(case, benchmark=replace(bench, items=(item,)))
    assert result.suggested_amount == Decimal("10000.00") == result.statutory_max
    assert any(f.code == "clamped_to_statute" for f in result.factors)
    assert "法定幅度" in result.formula

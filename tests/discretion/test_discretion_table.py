"""Table-driven cases (tests/discretion/data/discretion_cases.yaml) against the sample benchmark."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant.discretion import DiscretionInput, suggest
from assistant.errors import TaxAssistError

CASES_FILE = Path(__file__).parent / "data" / "discretion_cases.yaml"
CASES: list[dict[str, Any]] = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))["cases"]
DEFAULTS = {
    "taxpayer_type": "organisation",
    "violation_date": "2023-03-01",
    "decision_date": "2024-03-01",
}
TODAY = date(2025, 1, 1)


def test_table_is_large_and_documented() -> None:
    assert len(CASES) >= 40
    names = [c["name"] for c in CASES]
    assert len(set(names)) == len(names)
    assert all(c.get("basis") for c in CASES)
    covered = {c["input"]["violation"] for c in CASES}
    assert len(covered) == 15  # every violation code / benchmark item


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    expect = case["expect"]
    data = {**DEFAULTS, **case["input"]}
    if "error" in expect:
        with pytest.raises(TaxAssistError) as info:
            suggest(DiscretionInput.from_dict(data, today=TODAY))
        assert info.value.code == expect["error"]
        return
    result = suggest(DiscretionInput.from_dict(data, today=TODAY))
    out = result.to_dict()
    assert result.decision == expect["decision"], result.explanation
    if result.decision == "no_penalty":
        assert result.legal_ground
        assert result.suggested_amount == 0
    if "tier" in expect:
        assert result.tier == expect["tier"], result.formula
    if "min" in expect:
        assert result.benchmark_min == Decimal(expect["min"])
        assert result.benchmark_max == Decimal(expect["max"])
    if "amount" in expect:
        assert result.suggested_amount == Decimal(expect["amount"]), result.formula
    if "ground" in expect:
        assert expect["ground"] in result.legal_ground
    if "item" in expect:
        assert result.benchmark_item == expect["item"]
    if "notice" in expect:
        assert expect["notice"] in result.explanation
        assert expect["notice"] in result.citations
    for flag in ("hearing_required", "legal_review_required", "simple_procedure"):
        if flag in expect:
            assert out[flag] is expect[flag], result.explanation
    if "criminal_referral" in expect:
        assert result.criminal_referral is expect["criminal_referral"]
        if result.criminal_referral:
            assert result.criminal_basis
            assert "涉嫌犯罪" in result.explanation
    if result.decision == "penalty":
        assert result.statutory_min <= result.suggested_amount <= result.statutory_max
        assert result.benchmark_citation is None or "（样本）" in result.benchmark_citation

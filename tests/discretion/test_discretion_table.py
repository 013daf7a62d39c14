"""Table-driven cases (tests/discretion/data/discretion_cases.yaml) against the sample benchmark."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant.discretion import DiscretionInput, load_benchmark, suggest
from assistant.discretion.benchmark import Condition
from assistant.discretion.engine import _first_violation_items
from assistant.discretion.factors import FACTORS
from assistant.errors import TaxAssistError
from assistant.taxonomy import load_taxonomy

CASES_FILE = Path(__file__).parent / "data" / "discretion_cases.yaml"
CASES: list[dict[str, Any]] = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))["cases"]
DEFAULTS = {
    "taxpayer_type": "organisation",
    "violation_date": "2023-03-01",
    "decision_date": "2024-03-01",
}
TODAY = date(2025, 1, 1)


def test_table_is_large_and_documented() -> None:
    assert len(CASES) >= 60
    names = [c["name"] for c in CASES]
    assert len(set(names)) == len(names)
    assert all(c.get("basis") for c in CASES)
    covered = {c["input"]["violation"] for c in CASES}
    assert covered == set(load_taxonomy())  # every violation code


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
    if "fv_item" in expect:
        notice, _, number = expect["fv_item"].partition("#")
        listed = [f for f in result.factors if f.code == "first_violation_no_penalty"]
        assert listed and f"{notice}所附清单第{number}项" in listed[0].description
    if "cites" in expect:
        assert expect["cites"] in result.citations
    if "notice" in expect:
        assert expect["notice"] in result.explanation
        assert expect["notice"] in result.citations
    if "confiscated" in expect:
        assert out["confiscated_amount"] == expect["confiscated"], result.explanation
        if expect["confiscated"] != "0.00":
            assert "没收违法所得" in result.explanation
    if "penalty_kind" in expect:
        assert expect["penalty_kind"] in {p["kind"] for p in out["penalties"]}, out["penalties"]
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


# --------------------------------------------------------------------------- coverage
# Coverage is computed from the table itself, so a case removed (or a tier added to the sample)
# fails here instead of silently leaving an item, a tier boundary, an exemption or a factor
# untested.


def _run_all() -> list[tuple[dict[str, Any], Any]]:
    out = []
    for case in CASES:
        if "error" in case["expect"]:
            continue
        data = {**DEFAULTS, **case["input"]}
        out.append((data, suggest(DiscretionInput.from_dict(data, today=TODAY))))
    return out


RESULTS = _run_all()


def test_every_item_and_tier_is_reached() -> None:
    bench = load_benchmark()
    wanted = {(item.id, tier.name) for item in bench.items for tier in item.tiers}
    reached = {(r.benchmark_item, r.tier) for _, r in RESULTS if r.decision == "penalty"}
    assert wanted - reached == set()


NUMERIC = ("days_overdue", "tax_unpaid", "invoice_amount", "illegal_gains", "occurrences")


def _sides(cond: Condition) -> tuple[Decimal, Decimal]:
    """The two values one unit either side of a numeric threshold (inside first)."""
    value = Decimal(cond.value)
    return {
        "lte": (value, value + 1),
        "gt": (value + 1, value),
        "lt": (value - 1, value),
        "gte": (value, value - 1),
        "eq": (value, value + 1),
    }[cond.op]


def test_every_numeric_boundary_is_tested_on_both_sides() -> None:
    """One yuan / one day / one occurrence inside and outside each numeric condition."""
    bench = load_benchmark()
    missing = []
    for item in bench.items:
        conds = [(c, True) for c in item.applies_when]
        conds += [(c, False) for t in item.tiers for c in t.when]
        for cond, item_level in conds:
            if cond.field not in NUMERIC:
                continue
            seen = {
                Decimal(str(data.get(cond.field, 1 if cond.field == "occurrences" else 0)))
                for data, r in RESULTS
                if data["violation"] == item.violation
                and (item_level or r.benchmark_item == item.id)
            }
            for side in _sides(cond):
                if side not in seen:
                    missing.append(f"{item.id}: {cond.field} {cond.op} {cond.value} → {side}")
    assert not missing, missing


def test_statute_version_and_list_dates_are_tested_on_both_sides() -> None:
    """One day either side of each statute-version switch and each 首违不罚 list's start."""
    bench = load_benchmark()
    violation_days = {(d["violation"], str(d["violation_date"])) for d, _ in RESULTS}
    for item in bench.items:
        if item.statute_to is not None:
            day = item.statute_to
            assert (item.violation, day.isoformat()) in violation_days, item.id
            assert (item.violation, (day + timedelta(days=1)).isoformat()) in violation_days
    decision_days = {str(d["decision_date"]) for d, _ in RESULTS if d.get("first_violation")}
    for start in ("2021-04-01", "2022-01-01"):
        before = (date.fromisoformat(start) - timedelta(days=1)).isoformat()
        assert {start, before} <= decision_days, start
    limitation = {r.legal_ground for _, r in RESULTS if "税收征收管理法:86" in r.legal_ground}
    assert limitation  # the five-year limit is reached once (and missed by one day elsewhere)


def test_every_exemption_and_every_factor_is_exercised() -> None:
    grounds = {g for _, r in RESULTS if r.decision == "no_penalty" for g in r.legal_ground}
    assert {"行政处罚法:33:1", "行政处罚法:33:2", "税收征收管理法:86"} <= grounds
    listed = {
        f.description.split("属于")[1].split("：")[0]
        for _, r in RESULTS
        for f in r.factors
        if f.code == "first_violation_no_penalty"
    }
    for item in _first_violation_items():
        if item.violations:  # items with a violation code in the taxonomy
            assert f"{item.notice}所附清单第{item.no}项" in listed, (item.notice, item.no)
    used = {code for data, _ in RESULTS for code in data.get("factors", ())}
    assert set(FACTORS) - used == set()

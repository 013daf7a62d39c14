"""Property: a penalty always lies inside the statutory range; no-penalty always has a ground."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.discretion import DiscretionInput, suggest
from assistant.discretion.factors import FACTORS
from assistant.taxonomy import load_taxonomy

CODES = sorted(load_taxonomy())
MONEY = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("50000000"), places=2)


@st.composite
def cases(draw: st.DrawFn) -> DiscretionInput:
    violation_date = draw(st.dates(min_value=date(2019, 3, 2), max_value=date(2024, 12, 31)))
    decision_date = violation_date + timedelta(days=draw(st.integers(0, 365 * 7)))
    violation = draw(st.sampled_from(CODES))
    also = draw(st.sets(st.sampled_from(CODES), max_size=2)) - {violation}
    return DiscretionInput(
        violation=violation,
        also_violates=tuple(sorted(also)),
        taxpayer_type=draw(st.sampled_from(["organisation", "individual"])),
        violation_date=violation_date,
        decision_date=decision_date,
        days_overdue=draw(st.integers(0, 2000)),
        tax_unpaid=draw(MONEY),
        invoice_amount=draw(MONEY),
        illegal_gains=draw(st.one_of(st.just(Decimal("0.00")), MONEY)),
        occurrences=draw(st.integers(1, 10)),
        first_violation=draw(st.booleans()),
        corrected_in_time=draw(st.booleans()),
        harm=draw(st.sampled_from(["none", "minor", "serious"])),
        factors=tuple(draw(st.sets(st.sampled_from(sorted(FACTORS)), max_size=3))),
        tax_payable=draw(st.one_of(st.none(), MONEY)),
        invoice_tax_amount=draw(MONEY),
    )


@settings(max_examples=200, deadline=None)
@given(cases())
def test_amount_within_statutory_range(case: DiscretionInput) -> None:
    result = suggest(case)
    assert result.statutory_min <= result.statutory_max
    assert result.suggested_amount == result.suggested_amount.quantize(Decimal("0.01"))
    if result.decision == "no_penalty":
        assert result.legal_ground
        assert result.suggested_amount == 0
        assert not result.hearing_required
    else:
        assert result.statutory_min <= result.suggested_amount <= result.statutory_max
        assert result.legal_ground
        if result.benchmark_min is not None and result.benchmark_max is not None:
            assert result.benchmark_min <= result.suggested_amount <= result.benchmark_max
    assert result.explanation.endswith("须经办案人员审核。")
    assert set(result.legal_ground) <= set(result.citations)

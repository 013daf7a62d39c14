"""Real benchmark quotes from published cases, encoded as test benchmark items: the engine must
reproduce the quoted tier and amount. The multiples are read from the quotes, not typed in."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from assistant.discretion import DiscretionInput, benchmark_from_dict, suggest

SHARED = (Path(__file__).resolve().parents[2] / ".." / "shared" / "corpora").resolve()
pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(not SHARED.exists(), reason="../shared/corpora absent"),
]
TODAY = date(2025, 1, 1)


def _quotes() -> list[dict[str, Any]]:
    path = SHARED / "benchmarks" / "benchmark_citations.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _quote(fragment: str) -> str:
    hits = [q["sentence"] for q in _quotes() if fragment in q["sentence"]]
    assert hits, f"quote with {fragment!r} not found"
    return hits[0]


def _multiple(sentence: str) -> Decimal:
    match = re.search(r"处([0-9.]+)倍罚款", sentence)
    assert match, sentence
    return Decimal(match.group(1))


def _item(number: int, tiers: list[dict[str, Any]], source: str) -> dict[str, Any]:
    return {
        "id": f"quoted_{number}",
        "number": number,
        "violation": "tax_evasion",
        "basis": ["税收征收管理法:63:1"],
        "base_label": "不缴或者少缴的税款",
        "statutory": {"kind": "multiple", "base": "tax_unpaid", "min": "0.5", "max": "5"},
        "effective_from": "2015-04-24",
        "source": source,
        "tiers": tiers,
    }


def _tier(name: str, when: dict[str, Any], multiple: Decimal, standard: str) -> dict[str, Any]:
    m = str(multiple)
    penalty = {"kind": "multiple", "base": "tax_unpaid", "min": m, "max": m}
    return {"name": name, "when": when, "penalty": penalty, "standard": standard}


def _case(**extra: Any) -> DiscretionInput:
    data = {
        "violation": "tax_evasion",
        "taxpayer_type": "individual",
        "violation_date": "2021-06-01",
        "decision_date": "2022-06-01",
        "tax_unpaid": "1000000",
        **extra,
    }
    return DiscretionInput.from_dict(data, today=TODAY)


def test_zhejiang_quotes_heavier_and_lighter() -> None:
    heavy = _quote("未主动补缴部分")
    light = _quote("主动补缴和报告")
    assert "浙江省税务行政处罚裁量基准" in heavy and "第三十二条" in light
    bench = benchmark_from_dict(
        {
            "name": "浙江省税务行政处罚裁量基准（测试编码）",
            "sample": True,
            "items": [
                _item(
                    1,
                    [
                        _tier("从轻", {"corrected_in_time": True}, _multiple(light), light),
                        _tier(
                            "从重",
                            {"corrected_in_time": False, "harm": ["serious"]},
                            _multiple(heavy),
                            heavy,
                        ),
                    ],
                    "税收征收管理法第六十三条；杭州市税务局稽查局通报",
                )
            ],
        }
    )
    severe = suggest(_case(harm="serious"), benchmark=bench)
    assert severe.tier == "从重"
    assert severe.suggested_amount == Decimal("4000000.00") == Decimal("1000000") * _multiple(heavy)
    lighter = suggest(
        _case(corrected_in_time=True, factors=["voluntarily_confessed"]), benchmark=bench
    )
    assert lighter.tier == "从轻"
    assert lighter.suggested_amount == Decimal("600000.00")
    assert "行政处罚法:32" in lighter.citations
    assert lighter.benchmark_citation == "《浙江省税务行政处罚裁量基准（测试编码）》第1项“从轻”阶次"


def test_northeast_item_17_first_evasion_cooperating() -> None:
    path = SHARED / "decisions" / "fulltext.jsonl"
    texts = [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()]
    found = [t for t in texts if "东北" in t and "序号 17" in t]
    if not found:
        pytest.skip("东北区域 item 17 quote not in this corpus version")
    flat = re.sub(r"\s+", "", found[0])
    standard = re.search(r"序号17“(五年内首次因偷税[^”]+)”", flat)
    assert standard, "quote text changed"
    assert standard.group(1).endswith("处不缴或者少缴的税款百分之五十的罚款")
    bench = benchmark_from_dict(
        {
            "name": "东北区域税务行政处罚裁量基准（测试编码）",
            "sample": True,
            "items": [
                _item(
                    17,
                    [
                        _tier(
                            "首次配合",
                            {"first_violation": True, "factors_any": ["cooperated"]},
                            Decimal("0.5"),
                            standard.group(1),
                        ),
                        _tier("其他", {}, Decimal("1"), "测试占位阶次"),
                    ],
                    "东北区域税务行政处罚裁量基准（2023年第2号公告）序号17",
                )
            ],
        }
    )
    result = suggest(_case(first_violation=True, factors=["cooperated"]), benchmark=bench)
    assert result.tier == "首次配合"
    assert (result.benchmark_min, result.benchmark_max) == (Decimal("500000.00"),) * 2
    assert result.suggested_amount == Decimal("500000.00")
    assert suggest(_case(first_violation=True), benchmark=bench).tier == "其他"

"""Real benchmark quotes from published cases, encoded as test benchmark items: the engine must
reproduce the quoted tier and amount. The multiples are read from the quotes, not typed in."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import yaml

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


# --------------------------------------------------------------------------- every quote
# tests/discretion/data/real_quotes.yaml accounts for every quote of benchmark_citations.jsonl:
# where the facts are stated (the quote's bulletin or the bulletin on the same case), the quoted
# tier is encoded as a benchmark item and the engine must reproduce the tier and the amount.

QUOTES_FILE = Path(__file__).parent / "data" / "real_quotes.yaml"
UNITS = {"万": Decimal("10000"), "亿": Decimal("100000000")}
STATUTORY = {
    "tax_evasion": ["税收征收管理法:63:1"],
    "non_filing_evasion": ["税收征收管理法:64:2"],
}


@lru_cache(maxsize=1)
def _spec() -> dict[str, Any]:
    return yaml.safe_load(QUOTES_FILE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def _bulletins() -> dict[str, str]:
    path = SHARED / "cases" / "chinatax_bulletins.jsonl"
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        obj = json.loads(line)
        match = re.search(r"/(c\d+)/content\.html", obj.get("url") or "")
        if match:
            out[match.group(1)] = re.sub(r"\s+", "", obj["content_text"])
    return out


def _read(part: dict[str, Any], text: str) -> dict[str, Decimal]:
    match = re.search(part["pattern"], text)
    assert match, f"pattern not found in bulletin: {part['pattern']}"
    return {k: Decimal(v) for k, v in match.groupdict().items() if v is not None}


def _facts_text(part_id: str) -> str:
    owners = [q for q in _spec()["quotes"] if part_id in (q.get("parts") or ())]
    return _bulletins()[owners[0]["facts_in"]]


def _bench_for(bureau: str) -> Any:
    spec = _spec()
    items: dict[str, dict[str, Any]] = {}
    for pid, part in spec["parts"].items():
        if part["bureau"] != bureau:
            continue
        multiple = str(_read(part, _facts_text(pid))["multiple"])
        item = items.setdefault(
            part["violation"],
            {
                "id": f"{part['violation']}_quoted",
                "number": len(items) + 1,
                "violation": part["violation"],
                "basis": STATUTORY[part["violation"]],
                "statutory": {"kind": "multiple", "base": "tax_unpaid", "min": "0.5", "max": "5"},
                "effective_from": "2015-04-24",
                "source": f"{bureau}（按公开通报引用编码）",
                "tiers": [],
            },
        )
        penalty = {"kind": "multiple", "base": "tax_unpaid", "min": multiple, "max": multiple}
        item["tiers"].append(
            {
                "name": part["tier"],
                "when": part["when"],
                "penalty": penalty,
                "standard": part["basis"],
            }
        )
    return benchmark_from_dict(
        {"name": f"{bureau}（测试编码）", "sample": True, "items": list(items.values())}
    )


def test_every_quote_is_accounted_for() -> None:
    quotes, records = _quotes(), _spec()["quotes"]
    for q in quotes:
        matching = [
            r for r in records if r["source"] == q["source"] and r["fragment"] in q["sentence"]
        ]
        assert len(matching) == 1, f"quote not (uniquely) accounted for: {q['sentence'][:60]}"
    assert len(records) == len(quotes) == 7
    stated = [r for r in records if r["facts"] == "stated"]
    assert len(stated) == 6  # the seventh (蓝某某) states the base but no multiple or tier
    for record in stated:
        sentence = next(
            q["sentence"]
            for q in quotes
            if q["source"] == record["source"] and record["fragment"] in q["sentence"]
        )
        quoted = re.findall(r"处([0-9.]+)倍罚款", sentence)
        multiples = {
            _read(_spec()["parts"][p], _facts_text(p))["multiple"] for p in record["parts"]
        }
        assert {Decimal(m) for m in quoted} <= multiples, (sentence, multiples)
        benches = {q["benchmark"][0] for q in quotes if q["source"] == record["source"]}
        assert benches == {_spec()["parts"][record["parts"][0]]["bureau"]}


PART_IDS = sorted(yaml.safe_load(QUOTES_FILE.read_text(encoding="utf-8"))["parts"])


@pytest.mark.parametrize("part_id", PART_IDS)
def test_engine_reproduces_quoted_tier_and_amount(part_id: str) -> None:
    part = _spec()["parts"][part_id]
    values = _read(part, _facts_text(part_id))
    unit = UNITS[part["unit"]]
    base = (values["base"] + values.get("base2", Decimal(0))) * unit
    data = {
        "violation": part["violation"],
        "taxpayer_type": "individual",
        "violation_date": "2020-12-31",
        "decision_date": "2022-06-01",
        "tax_unpaid": str(base),
        **part["case"],
    }
    result = suggest(
        DiscretionInput.from_dict(data, today=TODAY), benchmark=_bench_for(part["bureau"])
    )
    assert result.tier == part["tier"], result.formula
    expected = (base * values["multiple"]).quantize(Decimal("0.01"))
    assert (result.benchmark_min, result.benchmark_max) == (expected, expected)
    assert result.suggested_amount == expected
    assert result.statutory_min <= result.suggested_amount <= result.statutory_max
    if "fine" in values:  # the published fine, within the rounding of the published figures
        half = Decimal(part["precision"]) / 2 * unit
        bases = 2 if "base2" in values else 1
        tolerance = values["multiple"] * half * bases + half
        assert abs(result.suggested_amount - values["fine"] * unit) <= tolerance


def test_totals_leave_a_plausible_late_payment_surcharge() -> None:
    """共计 = taxes + 滞纳金 + fines: the remainder is ≥ 0 and, where the due date is known, at most
    0.05% a day (税收征收管理法第三十二条) up to the publication."""
    spec = _spec()
    for record in spec["quotes"]:
        total_spec = record.get("total")
        if not total_spec:
            continue
        text = _bulletins()[record["facts_in"]]
        total = _read({"pattern": total_spec["pattern"]}, text)["total"] * UNITS[total_spec["unit"]]
        tax_unit = UNITS[total_spec.get("taxes_unit", total_spec["unit"])]
        taxes = sum(_read({"pattern": total_spec["taxes"]}, text).values()) * tax_unit
        fines = Decimal(0)
        for pid in record["parts"]:
            part = spec["parts"][pid]
            v = _read(part, _facts_text(pid))
            unit = UNITS[part["unit"]]
            fines += v["fine"] * unit if "fine" in v else v["base"] * unit * v["multiple"]
        surcharge = total - taxes - fines
        slack = Decimal("0.005") * UNITS[total_spec["unit"]]  # total given to 0.01 of its unit
        assert surcharge >= -slack, (record["id"], surcharge)
        if "due" in total_spec:
            days = (
                date.fromisoformat(total_spec["decided_by"]) - date.fromisoformat(total_spec["due"])
            ).days
            assert surcharge <= taxes * Decimal("0.0005") * days + slack, record["id"]


def test_quote_without_tier_implies_a_multiple_inside_the_statute() -> None:
    record = next(r for r in _spec()["quotes"] if r["facts"] == "base_only")
    spec = record["implied"]
    text = _bulletins()[re.search(r"#(c\d+)", record["source"]).group(1)]  # type: ignore[union-attr]
    v = _read({"pattern": spec["pattern"]}, text)
    unit = UNITS[spec["unit"]]
    base, total = v["base"] * unit, v["total"] * unit
    days = (date.fromisoformat(spec["decided_by"]) - date.fromisoformat(spec["due"])).days
    max_surcharge = base * Decimal("0.0005") * days
    highest = (total - base) / base  # no surcharge at all
    lowest = (total - base - max_surcharge) / base
    assert Decimal("0.5") <= highest and lowest <= Decimal("5")  # overlaps 第六十三条's 0.5–5倍

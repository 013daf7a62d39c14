"""Benchmark validation names file, line and reason; the bundled sample is valid and labelled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.discretion import load_benchmark, validate_benchmark_file
from assistant.discretion.benchmark import DEFAULT_BENCHMARK, SCHEMA_PATH
from assistant.errors import InvalidInput

GOOD = """\
name: 测试基准
sample: true
items:
  - id: late_filing
    number: 1
    violation: late_filing
    basis: ["税收征收管理法:62"]
    statutory: {kind: fixed, min: "0", max: "10000"}
    effective_from: "2015-04-24"
    source: 税收征收管理法第六十二条
    tiers:
      - name: 一般
        penalty: {kind: fixed, min: "500", max: "2000"}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bench.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        validate_benchmark_file(path)
    assert info.value.code == "invalid_benchmark"
    assert info.value.details["file"] == str(path)
    assert str(path) in info.value.message
    return info.value


def test_bundled_sample_is_valid_and_labelled() -> None:
    validate_benchmark_file(DEFAULT_BENCHMARK)
    bench = load_benchmark()
    assert bench.sample is True
    assert "样本" in bench.name and "并非任何地区的正式裁量基准" in bench.note
    assert {item.violation for item in bench.items} >= {
        "late_filing",
        "tax_evasion",
        "invoice_false_issuing",
        "invoice_misuse",
        "obstructing_inspection",
    }
    json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def test_good_file_passes(tmp_path: Path) -> None:
    validate_benchmark_file(_write(tmp_path, GOOD))


def test_float_amount_reports_line(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace('max: "2000"}', "max: 2000.5}"))
    err = _error(path)
    assert err.details["line"] == 13
    assert "第13行" in err.message
    assert "字符串" in err.details["reason"]
    assert err.details["path"] == "items[0].tiers[0].penalty.max"


def test_tier_outside_statutory_range(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace('max: "2000"}', 'max: "20000"}'))
    err = _error(path)
    assert err.details["line"] == 13
    assert "超出法定幅度" in err.details["reason"]


def test_missing_field_and_unknown_violation(tmp_path: Path) -> None:
    err = _error(_write(tmp_path, GOOD.replace("    source: 税收征收管理法第六十二条\n", "")))
    assert "source" in err.details["reason"] and err.details["line"] == 4
    err = _error(_write(tmp_path, GOOD.replace("violation: late_filing", "violation: jaywalking")))
    assert "jaywalking" in err.details["reason"] and err.details["line"] == 6


def test_multiple_without_base_and_no_penalty_without_ground(tmp_path: Path) -> None:
    text = GOOD.replace(
        '{kind: fixed, min: "0", max: "10000"}', '{kind: multiple, min: "0.5", max: "5"}'
    )
    err = _error(_write(tmp_path, text))
    assert "base" in err.details["reason"] and err.details["line"] == 8
    text = GOOD.replace('{kind: fixed, min: "500", max: "2000"}', "{kind: no_penalty}")
    err = _error(_write(tmp_path, text))
    assert "ground" in err.details["reason"]


def test_yaml_syntax_error_and_bad_statute_id(tmp_path: Path) -> None:
    err = _error(_write(tmp_path, GOOD.replace("tiers:\n", "tiers: [\n")))
    assert "YAML" in err.details["reason"]
    err = _error(_write(tmp_path, GOOD.replace("税收征收管理法:62", "征管法第62条")))
    assert err.details["line"] == 7


def test_schema_messages_are_chinese(tmp_path: Path) -> None:
    """The jsonschema library checks the file; its findings reach the officer in Chinese."""
    err = _error(_write(tmp_path, GOOD.replace("sample: true\n", "sample: true\ncolour: red\n")))
    assert err.details["reason"] == "不允许的字段 colour" and err.details["line"] == 3
    err = _error(
        _write(tmp_path, GOOD.replace('kind: fixed, min: "500"', 'kind: ranged, min: "500"'))
    )
    assert "不在允许范围" in err.details["reason"] and "ranged" in err.details["reason"]
    err = _error(_write(tmp_path, GOOD.replace("sample: true\n", "")))
    assert err.details["reason"] == "缺少必填字段 sample"
    err = _error(_write(tmp_path, GOOD.replace("number: 1", "number: 1.0")))
    assert err.details["reason"].startswith("应为整数")

"""`taxassist discretion validate | check` as an officer runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from assistant.discretion.benchmark import DEFAULT_BENCHMARK
from tests.core.test_cli import run_cli

BROKEN = """\
name: 某局裁量基准
sample: false
items:
  - id: late_filing
    number: 1
    violation: late_filing
    basis: ["税收征收管理法:62"]
    statutory: {kind: fixed, min: "0", max: "10000"}
    effective_from: "2015-04-24"
    source: 税收征收管理法第六十二条
    tiers:
      - name: 严重
        penalty: {kind: fixed, min: "2000", max: "20000"}
"""


def test_validate_the_bundled_sample(tmp_path: Path) -> None:
    result = run_cli("discretion", "validate", str(DEFAULT_BENCHMARK), "--json", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["valid"] is True and summary["sample"] is True
    assert summary["items"] == 50 and summary["tiers"] == 142


def test_validate_names_file_line_and_reason(tmp_path: Path) -> None:
    bench = tmp_path / "bureau.yaml"
    bench.write_text(BROKEN, encoding="utf-8")
    result = run_cli("discretion", "validate", str(bench), "--json", data_dir=tmp_path)
    assert result.returncode == 1
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "invalid_benchmark"
    assert error["details"]["file"] == str(bench)
    assert error["details"]["line"] == 13  # the tier's penalty line
    assert "超出法定幅度" in error["details"]["reason"]
    plain = run_cli("discretion", "validate", str(bench), data_dir=tmp_path)
    assert plain.returncode == 1 and "第13行" in plain.stderr


def test_check_prints_the_report(tmp_path: Path, shared_index_dir: Path) -> None:
    shutil.copytree(shared_index_dir, tmp_path / "data" / "index")
    case = tmp_path / "case.json"
    case.write_text(
        json.dumps(
            {
                "violation": "late_filing",
                "taxpayer_type": "organisation",
                "violation_date": "2024-03-01",
                "decision_date": "2024-06-01",
                "days_overdue": 40,
                "corrected_in_time": True,
            }
        ),
        encoding="utf-8",
    )
    args = ("discretion", "check", "--case", str(case), "--amount", "9000", "--json")
    result = run_cli(*args, data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["outlier"] is True and report["tier"] == "一般"
    assert {p["case_id"] for p in report["similar_cases"]} == {"demo:001", "demo:002"}
    bad = run_cli(
        "discretion", "check", "--case", str(case), "--amount", "-1", "--json", data_dir=tmp_path
    )
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["error"]["code"] == "negative_amount"

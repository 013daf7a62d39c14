"""The `taxassist` command as a user runs it: JSON shapes kept stable, errors as the envelope."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import PROJECT_ROOT
from tests.conftest import DEMO_CORPUS, database_env


def run_cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TAXASSIST_DATA_DIR": str(data_dir),
        "TAXASSIST_CORPORA": "",
        "TAXASSIST_DEMO_CORPUS_DIR": str(DEMO_CORPUS),
        **database_env(data_dir),
    }
    code = "from assistant.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=300,
    )


@pytest.fixture
def data_dir(tmp_path: Path, shared_index_dir: Path) -> Path:
    shutil.copytree(shared_index_dir, tmp_path / "data" / "index")
    return tmp_path / "data"


def test_search_statutes_json_shape(data_dir: Path) -> None:
    result = run_cli(
        "search",
        "statutes",
        "--text",
        "纳税人逾期未办理纳税申报",
        "--k",
        "3",
        "--json",
        data_dir=data_dir,
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == 3
    assert set(rows[0]) >= {"id", "law", "article", "title", "text", "score"}  # extras allowed
    assert rows[0]["id"] == "税收征收管理法:62"
    assert "text" in rows[0]["provenance"] and rows[0]["highlight"]["passage"]
    hl = rows[0]["highlight"]
    assert rows[0]["text"][hl["start"] : hl["end"]] == hl["passage"]
    result = run_cli(
        "search", "statutes", "--text", "虚开发票", "--law", "刑法", "--json", data_dir=data_dir
    )
    assert result.returncode == 0, result.stderr
    assert {row["law"] for row in json.loads(result.stdout)} == {"刑法"}


def test_search_cases_json_shape(data_dir: Path) -> None:
    result = run_cli("search", "cases", "--text", "虚开增值税专用发票", "--json", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows and set(rows[0]) >= {"id", "title", "violation_type", "outcome", "score"}
    assert {row["doc_type"] for row in rows} == {"taxassist"}  # the demo corpus only
    result = run_cli(
        "search", "cases", "--text", "虚开", "--doc-type", "bulletin", "--json", data_dir=data_dir
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_discretion_suggest_contract(tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_text(
        json.dumps(
            {
                "violation": "late_filing",
                "taxpayer_type": "organisation",
                "violation_date": "2025-04-15",
                "decision_date": "2025-06-01",
                "days_overdue": 45,
            }
        ),
        encoding="utf-8",
    )
    result = run_cli("discretion", "suggest", "--case", str(case), "--json", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    suggestion = json.loads(result.stdout)
    for key in (
        "decision",
        "legal_ground",
        "statutory_range",
        "benchmark_item",
        "tier",
        "suggested_amount",
        "formula",
        "citations",
        "hearing_required",
        "legal_review_required",
        "simple_procedure",
        "criminal_referral",
        "explanation",
    ):
        assert key in suggestion
    assert suggestion["legal_ground"] == ["税收征收管理法:62"]


def test_errors_print_the_envelope_and_exit_non_zero(data_dir: Path) -> None:
    result = run_cli("search", "statutes", "--text", " ", "--json", data_dir=data_dir)
    assert result.returncode == 1
    assert json.loads(result.stdout)["error"]["code"] == "empty_query"
    result = run_cli(
        "case", "step", "1", "retrieval", "--as", "nobody", "--json", data_dir=data_dir
    )
    assert result.returncode == 1
    assert json.loads(result.stdout)["error"]["code"] == "user_not_found"
    # a retired document type: the envelope names its replacement
    result = run_cli(
        "case",
        "draft",
        "1",
        "--type",
        "review_opinion",
        "--as",
        "nobody",
        "--json",
        data_dir=data_dir,
    )
    assert result.returncode == 1
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "retired_document_type"
    assert error["details"]["replacement"] == "legal_review_opinion"
    assert "legal_review_opinion" in error["message"]
    result = run_cli("case", "step", "1", "retrieval", "--bogus", data_dir=data_dir)
    assert result.returncode == 2
    assert "No such option" in result.stderr

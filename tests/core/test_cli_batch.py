"""Batch mode of `taxassist search`: one JSONL line per query, models loaded once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.core.test_cli import run_cli


@pytest.fixture
def data_dir(tmp_path: Path, shared_index_dir: Path) -> Path:
    shutil.copytree(shared_index_dir, tmp_path / "data" / "index")
    return tmp_path / "data"


def test_statute_batch_one_line_per_query(data_dir: Path, tmp_path: Path) -> None:
    queries = tmp_path / "q.jsonl"
    lines = [
        {"id": "a", "text": "纳税人逾期未办理纳税申报"},
        {"id": "b", "text": "虚开发票", "date": "2020-01-01"},
        {"id": "c", "text": ""},
        {"id": "d", "text": "偷税", "date": "not-a-date"},
    ]
    queries.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n")
    result = run_cli("search", "statutes", "--queries", str(queries), "--k", "3", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", "b", "c", "d"]
    assert out[0]["results"][0]["id"] == "税收征收管理法:62"
    assert all(
        set(r) >= {"id", "law", "article", "title", "text", "score"} for r in out[0]["results"]
    )
    assert len(out[1]["results"]) == 3
    assert out[2]["error"]["code"] == "empty_query"
    assert out[3]["error"]["code"] == "invalid_query_line"


def test_case_batch_shape(data_dir: Path, tmp_path: Path) -> None:
    queries = tmp_path / "q.jsonl"
    queries.write_text(json.dumps({"id": 7, "text": "虚开增值税专用发票"}) + "\n")
    result = run_cli("search", "cases", "--queries", str(queries), data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    obj = json.loads(line)
    assert obj["id"] == 7
    assert obj["results"]
    assert set(obj["results"][0]) >= {"id", "title", "violation_type", "outcome", "score"}


def test_eval_without_real_corpora_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("eval", "retrieval", "--json", data_dir=tmp_path)
    assert result.returncode == 1
    assert json.loads(result.stdout)["error"]["code"] == "evaluation_data_missing"

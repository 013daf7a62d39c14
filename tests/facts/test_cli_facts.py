"""`taxassist case facts propose|confirm|show|check` as an officer runs them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import DEMO_PASSWORD, demo_case_payload
from tests.core.test_cli import run_cli


def _json(result: object) -> dict[str, object]:
    assert result.returncode == 0, result.stderr  # type: ignore[attr-defined]
    return json.loads(result.stdout)  # type: ignore[attr-defined, no-any-return]


def test_propose_confirm_show_check(tmp_path: Path, monkeypatch: object) -> None:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("TAXASSIST_DEMO_PASSWORD", DEMO_PASSWORD)  # type: ignore[attr-defined]
    assert run_cli("setup", "--no-index", data_dir=data_dir).returncode == 0
    case_file = tmp_path / "case.json"
    case_file.write_text(json.dumps(demo_case_payload(), ensure_ascii=False), encoding="utf-8")
    created = run_cli(
        "case", "create", "--file", str(case_file), "--as", "officer", data_dir=data_dir
    )
    case_id = str(_json(created)["id"])

    proposals = _json(
        run_cli("case", "facts", "propose", case_id, "--as", "officer", "--json", data_dir=data_dir)
    )
    assert proposals["stored"] is False
    days = next(f for f in proposals["fields"] if f["field"] == "days_overdue")  # type: ignore[union-attr]
    assert days["value"] == 45
    source = days["candidates"][0]["sources"][0]
    assert source["kind"] == "case_facts" and source["quote"] == "逾期45日"

    confirm_file = tmp_path / "confirm.json"
    confirm_file.write_text(
        json.dumps({"facts": [{"field": "days_overdue", "value": 45, "sources": [source]}]}),
        encoding="utf-8",
    )
    confirmed = _json(
        run_cli(
            "case",
            "facts",
            "confirm",
            case_id,
            "--file",
            str(confirm_file),
            "--as",
            "officer",
            "--json",
            data_dir=data_dir,
        )
    )
    assert confirmed["confirmed"] == ["days_overdue"]
    shown = _json(run_cli("case", "facts", "show", case_id, "--as", "officer", data_dir=data_dir))
    assert shown["confirmed"][0]["sources"][0]["quote"] == "逾期45日"  # type: ignore[index]
    check = _json(run_cli("case", "facts", "check", case_id, "--as", "officer", data_dir=data_dir))
    assert check["violation"] == "late_filing"
    facts = {f["key"]: f for f in check["facts"]}  # type: ignore[union-attr]
    assert facts["days_overdue"]["by"][0]["sources"][0]["quote"] == "逾期45日"

    refused = run_cli(
        "case", "facts", "check", "999", "--as", "officer", "--json", data_dir=data_dir
    )
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["error"]["code"] == "case_not_found"

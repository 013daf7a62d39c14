"""`taxassist case facts propose|confirm|show|check` and `taxassist case evidence
add|list|show` as an officer runs them."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DEMO_CORPUS, DEMO_PASSWORD, database_env, demo_case_payload
from tests.core.test_cli import run_cli


def _json(result: object) -> dict[str, object]:
    assert result.returncode == 0, result.stderr  # type: ignore[attr-defined]
    return json.loads(result.stdout)  # type: ignore[attr-defined, no-any-return]


@pytest.fixture(scope="module")
def cli_case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A data dir set up by the CLI and one demo case opened by the officer (shared: each
    CLI call is a new process)."""
    tmp_path = tmp_path_factory.mktemp("cli_facts")
    data_dir = tmp_path / "data"
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("TAXASSIST_DEMO_PASSWORD", DEMO_PASSWORD)
        assert run_cli("setup", "--no-index", data_dir=data_dir).returncode == 0
    case_file = tmp_path / "case.json"
    case_file.write_text(json.dumps(demo_case_payload(), ensure_ascii=False), encoding="utf-8")
    created = run_cli(
        "case", "create", "--file", str(case_file), "--as", "officer", data_dir=data_dir
    )
    return data_dir, str(_json(created)["id"])


def test_propose_confirm_show_check(tmp_path: Path, cli_case: tuple[Path, str]) -> None:
    data_dir, case_id = cli_case

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


def _in_process(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> tuple[int, str]:
    """`taxassist ARGS` through `assistant.cli.main` in this process (the modules are loaded
    once, not per call as in a new process): the exit code and what it printed."""
    from assistant.cli import main
    from assistant.config import get_settings

    capsys.readouterr()
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("TAXASSIST_DATA_DIR", str(data_dir))
        for name, value in database_env(data_dir).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("TAXASSIST_CORPORA", "")
        monkeypatch.setenv("TAXASSIST_DEMO_CORPUS_DIR", str(DEMO_CORPUS))
        monkeypatch.setattr(sys, "argv", ["taxassist", *args])
        get_settings.cache_clear()
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        finally:
            get_settings.cache_clear()
    return code, capsys.readouterr().out


def test_evidence_add_list_show_and_its_lines_as_fact_sources(
    tmp_path: Path, cli_case: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A DOCX (read without OCR) added to the case: the 证据清单 with its signed event, the
    lines shown, and its sentence proposed as the invoice facts' document source."""
    import docx

    data_dir, case_id = cli_case
    path = tmp_path / "发票清单.docx"
    document = docx.Document()
    document.add_paragraph("发票清单")
    document.add_paragraph("以上增值税专用发票共3份，金额合计30,000.00元，税额合计3,900.00元。")
    document.save(str(path))

    def run(*args: str) -> dict[str, Any]:
        code, out = _in_process(capsys, data_dir, *args, "--as", "officer", "--json")
        assert code == 0, out
        return json.loads(out)  # type: ignore[no-any-return]

    added = run("case", "evidence", "add", case_id, str(path), "--title", "发票清单")
    assert added["status"] == "read" and added["method"] == "docx" and added["job_id"]
    assert added["lines"][0]["text"] == "发票清单"
    item = run("case", "evidence", "list", case_id)["items"][0]
    assert item["id"] == added["id"] and item["name"] == "发票清单" and item["lines"] == 2
    assert [e["action"] for e in item["provenance"]] == ["evidence_uploaded", "evidence_read"]
    assert all(e["hash"] for e in item["provenance"])
    code, shown = _in_process(
        capsys, data_dir, "case", "evidence", "show", str(added["id"]), "--as", "officer"
    )
    assert code == 0 and "金额合计30,000.00元" in shown and "发票清单" in shown

    fields = {f["field"]: f for f in run("case", "facts", "propose", case_id)["fields"]}
    assert fields["invoice_count"]["value"] == 3
    assert fields["invoice_amount"]["value"] == "30000.00"
    source = fields["invoice_tax_amount"]["candidates"][0]["sources"][0]
    assert source["kind"] == "document" and source["document_id"] == added["id"]
    assert source["quote"] == "税额合计3,900.00元"

    (tmp_path / "notes.txt").write_text("不是证据文件", encoding="utf-8")
    code, refused = _in_process(
        capsys, data_dir, "case", "evidence", "add", case_id, str(tmp_path / "notes.txt"),
        "--as", "officer", "--json",
    )  # fmt: skip
    assert code == 1
    assert json.loads(refused)["error"]["code"] == "unsupported_evidence_type"

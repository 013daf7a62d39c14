"""Case corpus loading: demo format, SAT bulletins, CAIL2018 judgments."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from assistant.errors import InvalidInput
from assistant.knowledge import classify_violation, load_cases
from assistant.knowledge.cases_corpus import VIOLATION_CODES
from tests.conftest import DEMO_CORPUS

SHARED = (Path(__file__).resolve().parents[2] / ".." / "shared" / "corpora").resolve()


def test_demo_cases_cover_the_demo_violations() -> None:
    cases = load_cases([DEMO_CORPUS])
    assert 8 <= len(cases) <= 12
    assert len({c.id for c in cases}) == len(cases)
    types = {c.violation_type for c in cases}
    assert {
        "late_filing",
        "tax_evasion",
        "invoice_false_issuing",
        "bookkeeping_failure",
        "obstructing_inspection",
    } <= types
    for case in cases:
        assert case.id.startswith("demo:")
        assert "示例" in case.title and "虚构" in case.title
        assert case.text and case.outcome and case.statutes and isinstance(case.date, date)
        assert case.violation_type in VIOLATION_CODES


def test_demo_case_statutes_exist_in_the_version_in_force() -> None:
    from assistant.knowledge import StatuteBook

    book = StatuteBook.load([DEMO_CORPUS])
    for case in load_cases([DEMO_CORPUS]):
        for sid in case.statutes:
            book.get(sid, case.date)  # raises NotFound when the article is not in that version


def _write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")


def test_bulletin_and_cail_mapping(tmp_path: Path) -> None:
    _write_jsonl(
        tmp_path / "cases" / "bulletins.jsonl",
        [
            {
                "title": "某税务局查处某公司虚开发票案件",
                "url": "http://example.invalid/a.html",
                "publish_date": "2024-05-01",
                "content_text": "近年来……经查，该公司虚开增值税专用发票。"
                "依据《中华人民共和国发票管理办法》第三十五条，税务局对其作出罚款10万元的处理处罚决定。",
            }
        ],
    )
    _write_jsonl(
        tmp_path / "cases" / "cail.jsonl",
        [
            {
                "fact": "被告人某某逃避缴纳税款。",
                "meta": {
                    "relevant_articles": [201],
                    "accusation": ["[逃税]"],
                    "punish_of_money": 50000,
                    "term_of_imprisonment": {
                        "death_penalty": False,
                        "imprisonment": 12,
                        "life_imprisonment": False,
                    },
                },
            }
        ],
    )
    cases = {c.id.split(":")[0]: c for c in load_cases([tmp_path])}
    bulletin, cail = cases["bulletin"], cases["cail"]
    assert len(bulletin.id) == len("bulletin:") + 12
    assert bulletin.violation_type == "invoice_false_issuing"
    assert bulletin.date == date(2024, 5, 1)
    assert bulletin.statutes == ("发票管理办法:35",)
    assert "处理处罚决定" in bulletin.outcome
    assert bulletin.passage(max_chars=200).startswith("某税务局查处某公司虚开发票案件\n经查")
    assert cail.id == "cail:1"
    assert cail.violation_type == "tax_evasion"
    assert cail.statutes == ("刑法:201",)
    assert cail.outcome == "判处有期徒刑12个月，并处罚金50000元"
    # ids are stable across loads
    assert {c.id for c in load_cases([tmp_path])} == {bulletin.id, cail.id}


def test_bad_case_files(tmp_path: Path) -> None:
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "x.jsonl").write_text("{not json\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as exc:
        load_cases([tmp_path])
    assert exc.value.code == "invalid_case"
    _write_jsonl(
        tmp_path / "cases" / "x.jsonl", [{"id": "d:1", "text": "x", "violation_type": "nope"}]
    )
    with pytest.raises(InvalidInput):
        load_cases([tmp_path])
    _write_jsonl(tmp_path / "cases" / "x.jsonl", [{"unknown": 1}])
    with pytest.raises(InvalidInput):
        load_cases([tmp_path])


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("骗取出口退税案", "export_refund_fraud"),
        ("虚开增值税专用发票", "invoice_false_issuing"),
        ("私户收款偷税案件", "tax_evasion"),
        ("骗取留抵退税", "tax_evasion"),
        ("逾期申报", "late_filing"),
        ("税务工作会议召开", None),
    ],
)
def test_classifier(text: str, code: str | None) -> None:
    assert classify_violation(text) == code


@pytest.mark.shared
@pytest.mark.skipif(not SHARED.exists(), reason="../shared/corpora absent")
def test_load_shared_cases() -> None:
    cases = load_cases([SHARED])
    bulletins = [c for c in cases if c.id.startswith("bulletin:")]
    cail = [c for c in cases if c.id.startswith("cail:")]
    # 1,090 bulletin lines; the 44 that number several cases are split into 184 single cases
    lines = {c.id.split("-")[0] for c in bulletins}
    assert len(lines) == 1090 and len(bulletins) == 1090 - 44 + 184 and len(cail) == 205
    assert len({c.id for c in cases}) == len(cases)
    assert sum(c.violation_type == "invoice_false_issuing" for c in cail) > 150
    assert sum(c.violation_type is not None for c in bulletins) > 900
    assert all(c.date is not None for c in bulletins)
    assert sum("刑法:205" in c.statutes for c in cail) > 150


def test_numbered_bulletin_is_split_into_its_cases() -> None:
    from assistant.knowledge.cases_corpus import case_docs

    bulletin = {  # project-written, in the published format
        "title": "税务部门曝光2起偷税案件",
        "url": "http://example.invalid/b/2",
        "publish_date": "2025-06-01",
        "content_text": "近日，税务部门曝光2起偷税案件。\n"
        "一、国家税务总局甲市税务局稽查局依法查处甲公司私户收款偷税案件。\n"
        "经查，该公司少缴增值税等税费共计100万元。稽查局依据《中华人民共和国税收征收管理法》"
        "第六十三条，对其追缴税费款、加收滞纳金并处罚款。\n"
        "二、国家税务总局乙市税务局第二稽查局依法查处乙公司虚开发票案件。\n"
        "经查，该公司为他人虚开增值税普通发票50份。稽查局依据《中华人民共和国发票管理办法》"
        "第三十五条，对其处以罚款。\n",
    }
    first, second = case_docs(bulletin, line_no=7, source="b.jsonl")
    assert first.id.endswith("-1") and second.id.endswith("-2")
    assert first.id.rsplit("-", 1)[0] == second.id.rsplit("-", 1)[0]
    assert first.title == "国家税务总局甲市税务局稽查局依法查处甲公司私户收款偷税案件"
    assert (first.violation_type, second.violation_type) == ("tax_evasion", "invoice_false_issuing")
    assert first.statutes == ("税收征收管理法:63",) and second.statutes == ("发票管理办法:35",)
    assert first.authority == "国家税务总局甲市税务局稽查局"
    assert second.authority == "国家税务总局乙市税务局第二稽查局"
    assert "乙公司" not in first.text and first.date == second.date
    single = dict(bulletin, content_text="国家税务总局甲市税务局稽查局依法查处甲公司偷税案件。")
    [whole] = case_docs(single, line_no=8, source="b.jsonl")
    assert "-" not in whole.id

"""Case authority and amounts: project-written lines in the published formats, and real lines
of the shared corpora whose values were checked by hand."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from assistant.discretion.consistency import parse_outcome
from assistant.knowledge.case_fields import (
    amounts_in,
    bulletin_authority,
    derive_multiple,
    head_authority,
    judicial_authority,
    money_field,
    split_bulletin,
)
from assistant.knowledge.cases_corpus import CaseDoc, load_cases, load_decisions, parse_case_line
from assistant.knowledge.search import CaseHit
from tests.conftest import SHARED_CORPORA, requires_shared

D = Decimal

BULLETIN_ONE = (
    "近期，国家税务总局示例市税务局第一稽查局根据税收大数据分析线索，依法查处示例商贸有限公司偷税案件。\n"
    "经查，该公司通过私人账户收款隐匿收入，进行虚假申报，少缴增值税、企业所得税等税费共计120万元。"
    "国家税务总局示例市税务局第一稽查局依法对其追缴税款，并处少缴税款1倍罚款，计120万元。\n"
    "国家税务总局示例市税务局第一稽查局有关负责人表示，将依法查处各类涉税违法行为。"
)


def test_bulletin_sentence_with_tax_fine_and_multiple() -> None:
    amounts = amounts_in(BULLETIN_ONE)
    assert amounts.tax_evaded == D("1200000.00")
    assert amounts.fine == D("1200000.00")
    assert amounts.multiple == D("1")
    assert amounts.criminal_fine is None
    assert bulletin_authority(BULLETIN_ONE) == "国家税务总局示例市税务局第一稽查局"
    assert amounts.to_dict() == {
        "tax_evaded": "1200000.00",
        "fine": "1200000.00",
        "multiple": "1",
        "criminal_fine": None,
    }


def test_amounts_in_wan_yuan_and_percent_multiple() -> None:
    text = "经查，该网络主播偷逃税款1200.5万元。税务机关对其处少缴税款百分之五十的罚款600.25万元。"
    amounts = amounts_in(text)
    assert amounts.tax_evaded == D("12005000.00")
    assert amounts.fine == D("6002500.00")
    assert amounts.multiple == D("0.5")


def test_a_total_of_tax_surcharge_and_fine_is_not_a_fine() -> None:
    text = (
        "经查，少缴税费共计483.16万元，对其作出追缴税费款、加收滞纳金并处罚款共计840.47万元的决定。"
    )
    assert parse_outcome(text).fines == ()
    amounts = amounts_in(text)
    assert amounts.tax_evaded == D("4831600.00")
    assert amounts.fine is None and amounts.multiple is None  # 840.47/483.16 is no multiple


def test_a_court_fine_is_not_a_fine() -> None:
    fact = (
        "苏州市示例区人民检察院指控，被告人某某在无真实交易的情况下虚开增值税专用发票，"
        "税款共计人民币10万元。法院判处被告人有期徒刑一年，并处罚金人民币五万元。"
    )
    assert amounts_in(fact).fine is None
    doc = parse_case_line(
        {
            "fact": fact,
            "meta": {
                "accusation": ["[虚开增值税专用发票、用于骗取出口退税、抵扣税款发票]"],
                "relevant_articles": [205],
                "punish_of_money": 50000,
                "term_of_imprisonment": {"imprisonment": 12},
            },
        },
        line_no=1,
        source="cail.jsonl",
    )
    assert doc.authority == "苏州市示例区人民检察院"
    assert doc.amounts.fine is None and doc.amounts.multiple is None
    assert doc.amounts.criminal_fine == D("50000.00")


def test_several_different_tax_amounts_without_a_total_stay_unknown() -> None:
    text = "经查，该公司骗取留抵退税21.62万元，并偷税39.19万元，拟处1倍罚款。"
    amounts = amounts_in(text)
    assert amounts.tax_evaded is None
    assert amounts.multiple == D("1")  # stated, one value
    listed = "经查，该主播偷逃个人所得税218.30万元、增值税142.41万元。"
    assert amounts_in(listed).tax_evaded is None  # one item of a list is not the case's tax


def test_derived_multiple_only_within_the_legal_range_and_exact() -> None:
    assert derive_multiple(D("473688.28"), D("284212.97")) == D("0.6")
    assert derive_multiple(D("1000"), D("1370")) is None  # 1.37: not a multiple a decision states
    assert derive_multiple(D("1000"), D("6000")) is None  # above 5
    assert derive_multiple(D("1000"), D("100")) is None  # below 0.5
    assert derive_multiple(None, D("100")) is None


def test_records_line_structured_amounts_first(tmp_path: Path) -> None:
    folder = tmp_path / "decisions"
    folder.mkdir()
    record = {
        "issuingAuthority": "国家税务总局示例市税务局第二稽查局",
        "partyName": "示例公司",
        "documentType": "税务行政处罚决定书",
        "documentNumber": "示税稽罚〔2026〕1号",
        "violationFacts": "你公司少缴增值税208235.34元。",
        "recoveredTaxAmount": 208235.34,
        "fineAmount": 104117.67,
        "result": "None",
        "decisionDate": "2026-05-01",
        "province": "示例省",
        "city": "示例市",
    }
    # written as the real file is: JSON numbers (read as floats by json), never floats in money
    (folder / "records.jsonl").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    [doc] = load_decisions(folder)
    assert doc.authority == "国家税务总局示例市税务局第二稽查局"
    assert doc.amounts.tax_evaded == D("208235.34")
    assert doc.amounts.fine == D("104117.67")
    assert doc.amounts.multiple == D("0.5")
    assert isinstance(doc.amounts.tax_evaded, Decimal)
    assert money_field(0) is None and money_field("None") is None and money_field("1,5") is None


def test_multi_case_bulletin_is_split_and_has_no_single_amount(tmp_path: Path) -> None:
    text = (
        "税务部门集中公布一批案件，分别是：\n"
        "一、国家税务总局甲市税务局第一稽查局依法查处甲公司偷税案件。\n"
        "经查，该公司少缴税款共计100万元。对其处少缴税款1倍罚款。\n"
        "二、国家税务总局乙市税务局稽查局依法查处乙公司偷税案件。\n"
        "经查，该公司少缴税款共计50万元。对其处少缴税款0.5倍罚款。\n"
        "税务部门将依法查处各类涉税违法行为。"
    )
    parts = split_bulletin(text)
    assert len(parts) == 2
    assert parts[0].startswith("一、") and "100万元" in parts[0] and "乙" not in parts[0]
    assert parts[1].endswith("0.5倍罚款。")  # the closing remarks belong to no case
    assert amounts_in(parts[1]).tax_evaded == D("500000.00")
    assert bulletin_authority(parts[1]) == "国家税务总局乙市税务局稽查局"
    doc = parse_case_line(
        {"title": "集中公布", "url": "http://example.invalid/b", "content_text": text},
        line_no=1,
        source="b.jsonl",
    )
    assert doc.amounts.tax_evaded is None and doc.amounts.multiple is None
    assert doc.authority == ""  # two authorities: none is the bulletin's
    assert split_bulletin(BULLETIN_ONE) == [BULLETIN_ONE]
    # cases not numbered, but the title announces three: no single amount either
    titled = parse_case_line(
        {
            "title": "某市税务部门依法查处三起骗取留抵退税案件",
            "url": "u",
            "content_text": BULLETIN_ONE,
        },
        line_no=2,
        source="b.jsonl",
    )
    assert titled.amounts.tax_evaded is None
    assert titled.authority == "国家税务总局示例市税务局第一稽查局"


@pytest.mark.parametrize(
    ("text", "authority"),
    [
        (
            "近期，黑龙江省双鸭山市税务局稽查局根据线索，依法查处某公司。",
            "国家税务总局双鸭山市税务局稽查局",
        ),
        ("近期，河南省税务局稽查局依法查处某公司。", "国家税务总局河南省税务局稽查局"),
        (
            "近期，海南省税务局稽查局根据线索，指导海南省税务局第三稽查局依法查处某公司。",
            "国家税务总局海南省税务局第三稽查局",
        ),
        ("近期，国家税务总局根据税收大数据分析，依法查处某网红偷税案件。", "国家税务总局"),
        (
            "近期，国家税务总局驻沈阳稽查局、国家税务总局某省税务局稽查局联合公安部门依法查处。",
            "国家税务总局驻沈阳稽查局",
        ),
        (
            "近期，某自治区税务局稽查局根据线索，指导宁东能源化工基地税务局稽查局依法查处某公司。",
            "国家税务总局宁东能源化工基地税务局稽查局",
        ),
        ("某市税务局稽查局有关负责人表示，将依法查处。", ""),
        ("近日，某公司被曝光。", ""),
    ],
)
def test_bulletin_authority(text: str, authority: str) -> None:
    assert bulletin_authority(text) == authority


def test_head_and_judicial_authority() -> None:
    assert head_authority("- 1 -\n国家税务总局示例市税务局\n第二稽查局\n税务处理决定书") == (
        "国家税务总局示例市税务局第二稽查局"
    )
    assert judicial_authority("公诉机关指控，被告人某某虚开发票。") == ""
    assert judicial_authority("示例市示例区人民检察院指控，被告人某某") == "示例市示例区人民检察院"


def test_demo_line_carries_its_own_fields() -> None:
    doc = parse_case_line(
        {
            "id": "demo:x",
            "title": "示例",
            "text": "示例公司少缴增值税共计52万元。",
            "outcome": "追缴税款及滞纳金，并处少缴税款百分之五十的罚款26万元。",
            "authority": "国家税务总局示例市税务局稽查局",
        },
        line_no=1,
        source="demo.jsonl",
    )
    assert doc.authority == "国家税务总局示例市税务局稽查局"
    assert doc.amounts.to_dict() == {
        "tax_evaded": "520000.00",
        "fine": "260000.00",
        "multiple": "0.5",
        "criminal_fine": None,
    }


def test_case_hit_adds_keys_and_keeps_the_old_ones() -> None:
    doc = parse_case_line(
        {"title": "t", "url": "http://example.invalid/1", "content_text": BULLETIN_ONE},
        line_no=1,
        source="b.jsonl",
    )
    assert isinstance(doc, CaseDoc)
    hit = CaseHit(
        id=doc.id,
        title=doc.title,
        violation_type=doc.violation_type,
        outcome=doc.outcome,
        score=0.5,
        statutes=doc.statutes,
        authority=doc.authority,
        amounts=doc.amounts,
    )
    row = hit.to_dict()
    assert {"id", "title", "violation_type", "outcome", "score"} <= set(row)
    assert row["authority"] == "国家税务总局示例市税务局第一稽查局"
    assert row["amounts"]["tax_evaded"] == "1200000.00"


# -- real corpora: values checked by hand against the texts ----------------------------------------


@pytest.fixture(scope="module")
def real_cases() -> dict[str, CaseDoc]:
    return {c.id: c for c in load_cases([SHARED_CORPORA])}


def _by_title(cases: dict[str, CaseDoc], fragment: str) -> CaseDoc:
    [case] = [c for c in cases.values() if fragment in c.title]
    return case


@requires_shared
def test_real_penalty_decision(real_cases: dict[str, CaseDoc]) -> None:
    # 温税三稽罚〔2026〕65号: "对你少缴的增值税、城市维护建设税、个人所得税合计473688.28元，
    # 处以百分之六十的罚款，计284212.97元"
    case = real_cases["decision:温税三稽罚〔2026〕65号"]
    assert case.authority == "国家税务总局温州市税务局第三稽查局"
    assert case.amounts.tax_evaded == D("473688.28")
    assert case.amounts.fine == D("284212.97")
    assert case.amounts.multiple == D("0.6")
    # the head "国家税务总局鄂尔多斯市税务局 / 第二稽查局" spans two lines
    assert real_cases["decision:鄂税二稽处〔2023〕29号"].authority == (
        "国家税务总局鄂尔多斯市税务局第二稽查局"
    )


@requires_shared
def test_real_record_structured_amount(real_cases: dict[str, CaseDoc]) -> None:
    case = real_cases["decision:北市税稽处〔2026〕14号"]  # recoveredTaxAmount 208235.34
    assert case.authority == "国家税务总局北海市税务局"
    assert case.amounts.tax_evaded == D("208235.34")
    assert case.amounts.fine is None


@requires_shared
def test_real_bulletins(real_cases: dict[str, CaseDoc]) -> None:
    jingmen = _by_title(real_cases, "湖北省荆门市税务部门依法查处一起骗取留抵退税案件")
    assert jingmen.authority == "国家税务总局荆门市税务局稽查局"
    assert jingmen.amounts.tax_evaded == D("104000.00")  # 骗取留抵退税10.4万元
    assert jingmen.amounts.multiple == D("1")  # 拟处1倍罚款
    tianci = _by_title(real_cases, "还原德惠市天赐加油站隐匿收入偷税案件真相")
    assert tianci.authority == "国家税务总局长春市税务局第一稽查局"
    assert tianci.amounts.tax_evaded == D("7638100.00")  # 少缴增值税等税费款763.81万元
    assert tianci.amounts.fine is None  # "追缴…并处罚款，共计1430.53万元" is a total
    # the 8-case bulletin is ingested as 8 cases, each with its own authority and amounts
    [first] = [  # the same case was also published alone, in two bulletins of its own
        c
        for c in real_cases.values()
        if "西乌素煤炭有限责任公司私户收款偷税案件" in c.title and "-" in c.id
    ]
    bulletin = first.id.rsplit("-", 1)[0]
    siblings = [c for c in real_cases.values() if c.id.startswith(f"{bulletin}-")]
    assert len(siblings) == 8 and len({c.authority for c in siblings}) == 8
    assert first.authority == "国家税务总局鄂尔多斯市税务局第二稽查局"
    assert first.amounts.tax_evaded == D("217000000.00")  # 少缴…税费共计2.17亿元
    assert first.region == ("鄂尔多斯市",)
    assert all(len(split_bulletin(c.text)) == 1 for c in siblings)


@requires_shared
def test_real_judgment(real_cases: dict[str, CaseDoc]) -> None:
    case = real_cases["cail:130"]  # 北京市海淀区人民检察院起诉书指控…; punish_of_money 100000
    assert case.authority == "北京市海淀区人民检察院"
    assert case.amounts.criminal_fine == D("100000.00")
    assert case.amounts.fine is None


def test_closed_case_amounts_from_recorded_tax_and_fine() -> None:
    """closed_case_docs passes Case.tax_unpaid (Decimal) and the discretion result's fine (str)."""
    from assistant.knowledge.case_fields import structured_amounts

    amounts = structured_amounts(D("12000.00"), "6000.00")
    assert amounts.to_dict() == {
        "tax_evaded": "12000.00",
        "fine": "6000.00",
        "multiple": "0.5",
        "criminal_fine": None,
    }
    late_filing = structured_amounts(D("0.00"), "500.00")  # no tax unpaid: no multiple
    assert late_filing.tax_evaded is None and late_filing.fine == D("500.00")
    assert late_filing.multiple is None

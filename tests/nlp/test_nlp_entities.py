"""Entity extraction over case facts: kinds, exact values, spans and overlap handling."""

from __future__ import annotations

import itertools
import json
from datetime import date
from decimal import Decimal

import pytest

from assistant.errors import InvalidInput
from assistant.nlp import Entities, Entity, Span, extract_entities, uscc_check_char

USCC = "91350100M000100Y4" + uscc_check_char("91350100M000100Y4")

# A project-written paragraph in the style of 税务处理决定书 facts.
FACTS = (
    "经查，福州某某贸易有限公司（统一社会信用代码：" + USCC + "，法定代表人陈建国）"
    "于2024年1月1日至2024年12月31日期间，通过法定代表人王某某个人账户收取货款"
    "1,234,567.89元未申报纳税，少缴增值税142,026.48元、城市维护建设税9,941.85元、"
    "教育费附加4,260.79元。该公司取得发票代码为035001900111、发票号码为01234567、01234568"
    "的增值税专用发票2份，另取得数电发票号码24352000000012345678的发票。"
    "王某某身份证号码11010519491231002X。我局拟处罚款人民币7.1万元（大写柒万壹仟元整）。"
    "二〇二六年三月十五日"
)


@pytest.fixture(scope="module")
def facts() -> Entities:
    return extract_entities(FACTS, reference_date=date(2026, 4, 1))


def values(entities: Entities, kind: str) -> list[str]:
    return [e.value for e in entities.of(kind)]


def test_every_span_points_at_its_text(facts: Entities) -> None:
    assert len(facts) >= 20
    for e in facts:
        assert FACTS[e.span.start : e.span.end] == e.text
    starts = [e.span.start for e in facts]
    assert starts == sorted(starts)


def test_no_overlaps(facts: Entities) -> None:
    items = list(facts)
    for a, b in itertools.pairwise(items):
        assert a.span.end <= b.span.start


def test_identifiers(facts: Entities) -> None:
    [uscc] = facts.of("uscc")
    assert uscc.value == USCC and uscc.valid
    [rid] = facts.of("resident_id")
    assert rid.value == "11010519491231002X" and rid.valid


def test_amounts_are_exact(facts: Entities) -> None:
    got = [Decimal(v) for v in values(facts, "amount")]
    assert got == [
        Decimal("1234567.89"),
        Decimal("142026.48"),
        Decimal("9941.85"),
        Decimal("4260.79"),
        Decimal("71000.00"),
        Decimal("71000.00"),
    ]
    texts = [e.text for e in facts.of("amount")]
    assert "人民币7.1万元" in texts and "柒万壹仟元整" in texts


def test_dates(facts: Entities) -> None:
    assert values(facts, "date") == ["2024-01-01", "2024-12-31", "2026-03-15"]
    assert facts.of("date")[-1].text == "二〇二六年三月十五日"


def test_invoices(facts: Entities) -> None:
    invoices = facts.of("invoice_number")
    assert [e.value for e in invoices] == [
        "035001900111",
        "01234567",
        "01234568",
        "24352000000012345678",
    ]
    assert [e.note for e in invoices] == ["发票代码", "发票号码", "发票号码", "全电发票号码"]
    assert all(e.valid for e in invoices)


def test_tax_types_skip_invoice_kinds(facts: Entities) -> None:
    # 增值税专用发票 names an invoice kind, not a tax owed
    assert values(facts, "tax_type") == ["增值税", "城市维护建设税", "教育费附加"]


def test_organisations_and_persons(facts: Entities) -> None:
    assert values(facts, "organisation") == ["福州某某贸易有限公司"]
    persons = values(facts, "person")
    assert "陈建国" in persons and persons.count("王某某") == 2


def test_to_dict_is_json_ready(facts: Entities) -> None:
    data = facts.to_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["counts"]["invoice_number"] == 4
    first = data["items"][0]
    assert set(first) == {"kind", "text", "value", "span", "valid", "note", "source"}


def test_unknown_kind_is_invalid_input(facts: Entities) -> None:
    with pytest.raises(InvalidInput) as err:
        facts.of("bank_account")
    assert err.value.code == "unknown_entity_kind"


def test_non_text_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        extract_entities(b"bytes")  # type: ignore[arg-type]


def only(text: str, kind: str, **kwargs: object) -> list[Entity]:
    return extract_entities(text, use_model=False, **kwargs).of(kind)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "surface", "value"),
    [
        ("罚款12,000元。", "12,000元", "12000.00"),
        ("少缴1.2万元税款", "1.2万元", "12000.00"),
        ("收入12000.50元", "12000.50元", "12000.50"),
        ("并处人民币3万元罚款", "人民币3万元", "30000.00"),
        ("金额壹万贰仟元整。", "壹万贰仟元整", "12000.00"),
        ("罚款三万元", "三万元", "30000.00"),
        ("合计1,234,567.89元", "1,234,567.89元", "1234567.89"),
        ("价税合计110,010,646.9 元", "110,010,646.9 元", "110010646.90"),
        ("虚开金额超过1 万元的", "1 万元", "10000.00"),
        ("￥5,000.00已缴", "￥5,000.00", "5000.00"),
        ("统一3万元", "3万元", "30000.00"),
    ],
)
def test_amount_forms_in_context(text: str, surface: str, value: str) -> None:
    [e] = only(text, "amount")
    assert (e.text, e.value) == (surface, value)
    assert text[e.span.start : e.span.end] == surface


@pytest.mark.parametrize(
    "text", ["数十万元", "10余万元", "100多万元", "上千万元", "一元化管理", "100美元", "3单元"]
)
def test_not_amounts(text: str) -> None:
    assert only(text, "amount") == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("于2026年3月15日送达", "2026-03-15"),
        ("于2026-03-15送达", "2026-03-15"),
        ("于2026.3.15送达", "2026-03-15"),
        ("于2026/3/15送达", "2026-03-15"),
        ("二〇二六年三月十五日", "2026-03-15"),
        ("二零二五年十二月三十一日", "2025-12-31"),
        ("2025 年1 月 9 日", "2025-01-09"),
        ("２０２６年３月１５日", "2026-03-15"),
    ],
)
def test_date_forms(text: str, value: str) -> None:
    [e] = only(text, "date")
    assert e.value == value and e.valid
    assert date.fromisoformat(e.value)


def test_impossible_date_is_flagged() -> None:
    [e] = only("2026年2月30日", "date")
    assert not e.valid and e.note == "日期不存在"


def test_month_day_needs_reference_date() -> None:
    assert only("3月15日到场", "date") == []
    [e] = only("3月15日到场", "date", reference_date=date(2026, 4, 1))
    assert e.value == "2026-03-15" and "推定" in (e.note or "")
    [e] = only("12月20日到场", "date", reference_date=date(2026, 4, 1))
    assert e.value == "2025-12-20"


def test_amount_is_not_a_date_and_decimal_is_not_a_date() -> None:
    found = extract_entities("金额2026.35元", use_model=False)
    assert [e.kind for e in found] == ["amount"]


def test_invoice_wrong_length_is_flagged() -> None:
    [e] = only("发票号码：0123456", "invoice_number")
    assert not e.valid and "8位" in (e.note or "")
    [e] = only("发票代码：0350019001", "invoice_number")
    assert e.valid and e.note == "发票代码"


def test_twenty_digit_invoice_by_context() -> None:
    [e] = only("取得数电发票一张，票面号码24352000000012345678", "invoice_number")
    assert e.value == "24352000000012345678"


def test_bad_uscc_is_reported_invalid() -> None:
    wrong = USCC[:-1] + ("0" if USCC[-1] != "0" else "1")
    [e] = only(f"统一社会信用代码：{wrong}", "uscc")
    assert not e.valid and "校验位错误" in (e.note or "")
    [e] = only(f"统一社会信用代码：{USCC[:16]}", "uscc")
    assert not e.valid and "长度" in (e.note or "")


def test_lower_case_uscc_is_normalised() -> None:
    [e] = only(f"信用代码{USCC.lower()}。", "uscc")
    assert e.value == USCC and e.text == USCC.lower() and e.valid


def test_bank_account_is_not_an_identifier() -> None:
    found = extract_entities("银行账号：622202100112345678", use_model=False)
    assert found.of("uscc") == [] and found.of("resident_id") == []


def test_bad_resident_id_near_keyword() -> None:
    [e] = only("身份证号码110105194912310021", "resident_id")
    assert not e.valid and "校验码" in (e.note or "")


def test_overlap_keeps_longest() -> None:
    found = extract_entities("土地增值税", use_model=False)
    assert [(e.kind, e.value) for e in found] == [("tax_type", "土地增值税")]
    # the branch name contains 有限公司; the whole branch is the longer organisation
    [org] = only("某某建设有限公司福州分公司取得发票", "organisation")
    assert org.value == "某某建设有限公司福州分公司"


def test_law_titles_are_not_tax_types() -> None:
    assert only("依据《中华人民共和国增值税法》和增值税暂行条例", "tax_type") == []
    assert [e.value for e in only("补缴城建税和个税", "tax_type")] == [
        "城市维护建设税",
        "个人所得税",
    ]


def test_span_validation() -> None:
    with pytest.raises(ValueError):
        Span(5, 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("转入王某某个人账户", ["王某某"]),
        ("股东李某甲、李某乙", ["李某甲", "李某乙"]),
        ("于某日向某公司付款", []),
        ("浙江某某公司", []),
    ],
)
def test_anonymised_persons(text: str, expected: list[str]) -> None:
    assert [e.value for e in only(text, "person")] == expected


def test_remaining_and_approximate_amounts_are_kept() -> None:
    assert [e.value for e in only("其余3万元已补缴，约2万元未缴", "amount")] == [
        "30000.00",
        "20000.00",
    ]

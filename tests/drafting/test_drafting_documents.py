"""Penalty notice and decision: structure, amounts, rights, periods, layout, bad input."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt

from assistant.drafting import (
    DocumentType,
    LegalBasis,
    Party,
    PenaltyContext,
    docx_text,
    render,
)
from assistant.errors import InvalidInput
from assistant.legal import LegalValueError

COMPANY = Party(
    name="示例商贸有限公司",
    kind="organisation",
    id_label="统一社会信用代码",
    id_number="91150100MA0N7Y2K37",
    address="内蒙古自治区呼和浩特市示例区示例路1号",
    legal_representative="张示例",
)
PERSON = Party(
    name="李示例", kind="individual", id_label="身份证件号码", id_number="150102199001011234"
)


def make_ctx(**overrides: object) -> PenaltyContext:
    ctx = PenaltyContext(
        authority="国家税务总局示例市税务局稽查局",
        doc_number="示税稽罚〔2026〕3号",
        party=COMPANY,
        facts="你单位2025年3月增值税纳税申报逾期45日, 经责令限期改正后于2025年5月30日补办申报.",
        evidence=("纳税申报记录", "责令限期改正通知书及送达回证"),
        legal_basis=(LegalBasis("税收征收管理法:62", "中华人民共和国税收征收管理法"),),
        benchmark_citation="《示例税务行政处罚裁量基准（样本）》第3项'一般'阶次",
        decision="penalty",
        amount=Decimal("12345.60"),
        decision_date=date(2026, 11, 27),
        statement_days=3,
        hearing_offered=True,
        hearing_request_days=5,
        payment_days=15,
        late_fine_rate_percent=Decimal("3"),
        reconsideration_days=60,
        lawsuit_months=6,
        reconsideration_body="国家税务总局示例市税务局",
        provenance={"facts": ("segment:7",), "benchmark": ("benchmark:sample:3",)},
    )
    return replace(ctx, **overrides)  # type: ignore[arg-type]


def lines(text: str) -> list[str]:
    return text.splitlines()


def index_of(text: str, needle: str) -> int:
    found = text.find(needle)
    assert found >= 0, f"{needle!r} not in document"
    return found


def assert_in_order(text: str, needles: list[str]) -> None:
    positions = [index_of(text, n) for n in needles]
    assert positions == sorted(positions), list(zip(needles, positions, strict=True))


@pytest.mark.parametrize("doc_type", list(DocumentType))
def test_each_document_renders_and_opens(doc_type: DocumentType) -> None:
    doc = render(doc_type, make_ctx())
    assert doc.doc_type is doc_type
    opened = Document(io.BytesIO(doc.docx))
    assert [p.text for p in opened.paragraphs] == lines(doc.text)
    assert docx_text(doc.docx) == doc.text
    assert opened.core_properties.title == doc.title
    head = lines(doc.text)[:4]
    assert head == [
        "国家税务总局示例市税务局稽查局",
        doc.title,
        "示税稽罚〔2026〕3号",
        "示例商贸有限公司（统一社会信用代码：91150100MA0N7Y2K37）：",
    ]
    assert lines(doc.text)[-3:] == [
        "国家税务总局示例市税务局稽查局",
        "（印章）",
        "二〇二六年十一月二十七日",
    ]


def test_render_accepts_the_type_as_string() -> None:
    assert render("penalty_decision", make_ctx()).title == "税务行政处罚决定书"
    assert render("penalty_notice", make_ctx()).title == "税务行政处罚事项告知书"


def test_notice_sections_and_wording_in_order() -> None:
    doc = render(DocumentType.PENALTY_NOTICE, make_ctx())
    assert doc.sections == (
        "一、拟作出的税务行政处罚的事实、理由、依据及内容",
        "二、陈述、申辩的权利",
        "三、要求听证的权利",
    )
    assert all(s in lines(doc.text) for s in doc.sections)
    assert_in_order(
        doc.text,
        [
            "税务行政处罚事项告知书",
            "现将有关事项告知如下",
            doc.sections[0],
            "逾期45日",
            "1.纳税申报记录；",
            "2.责令限期改正通知书及送达回证。",
            "《中华人民共和国税收征收管理法》第六十二条",
            "第3项“一般”阶次",
            "拟对你单位处以罚款12,345.60元（大写：壹万贰仟叁佰肆拾伍元陆角整）",
            doc.sections[1],
            "在我局作出税务行政处罚决定之前",
            doc.sections[2],
            "自收到本告知书之日起五日内",
            "（印章）",
        ],
    )


def test_decision_sections_and_clauses_in_order() -> None:
    doc = render(DocumentType.PENALTY_DECISION, make_ctx())
    assert doc.sections == ("一、违法事实及证据", "二、处罚决定")
    assert_in_order(
        doc.text,
        [
            "税务行政处罚决定书",
            "示税稽罚〔2026〕3号",
            "经我局对你单位（地址：内蒙古自治区呼和浩特市示例区示例路1号）的涉税情况进行了检查",
            "一、违法事实及证据",
            "逾期45日",
            "上述违法事实，主要有以下证据证明：",
            "1.纳税申报记录；",
            "二、处罚决定",
            "根据《中华人民共和国税收征收管理法》第六十二条的规定",
            "符合《示例税务行政处罚裁量基准（样本）》第3项“一般”阶次的适用条件",
            "决定对你单位处以罚款12,345.60元（大写：壹万贰仟叁佰肆拾伍元陆角整）",
            "以上应缴款项共计12,345.60元",
            "自本决定书送达之日起十五日内到指定的银行或者通过电子支付系统缴纳",
            "《中华人民共和国行政处罚法》第七十二条第一款第（一）项",
            "每日按罚款数额的百分之三加处罚款",
            "六十日内依法向国家税务总局示例市税务局申请行政复议",
            "六个月内依法向人民法院起诉",
            "《中华人民共和国税收征收管理法》第八十八条第三款",
            "强制执行",
            "二〇二六年十一月二十七日",
        ],
    )
    assert "听证" not in doc.text


def test_decision_inspection_line_prints_periods_and_payment_place() -> None:
    ctx = make_ctx(
        inspection_period=(date(2025, 6, 1), date(2025, 9, 30)),
        tax_period=(date(2025, 1, 1), date(2025, 3, 31)),
        payment_place="国家税务总局示例市示例区税务局",
    )
    text = render(DocumentType.PENALTY_DECISION, ctx).text
    assert (
        "经我局于2025年6月1日起至2025年9月30日对你单位（地址：内蒙古自治区呼和浩特市示例区示例路1号）"
        "2025年1月1日至2025年3月31日期间的涉税情况进行了检查" in text
    )
    assert "十五日内到国家税务总局示例市示例区税务局缴纳入库" in text
    assert "指定的银行" not in text


@pytest.mark.parametrize(
    ("amount", "figures", "capitals"),
    [
        (Decimal("2000"), "2,000.00元", "贰仟元整"),
        (Decimal("12345.6"), "12,345.60元", "壹万贰仟叁佰肆拾伍元陆角整"),
        (Decimal("284212.97"), "284,212.97元", "贰拾捌万肆仟贰佰壹拾贰元玖角柒分"),
    ],
)
@pytest.mark.parametrize("doc_type", list(DocumentType))
def test_amount_in_figures_and_capitals(
    doc_type: DocumentType, amount: Decimal, figures: str, capitals: str
) -> None:
    text = render(doc_type, make_ctx(amount=amount)).text
    assert f"处以罚款{figures}（大写：{capitals}）" in text


def test_hearing_paragraph_iff_offered() -> None:
    offered = render(DocumentType.PENALTY_NOTICE, make_ctx(hearing_offered=True))
    assert "三、要求听证的权利" in offered.sections
    assert "听证申请" in offered.text
    assert "第六十三条、第六十四条" in offered.text
    assert "hearing" in offered.provenance

    not_offered = render(DocumentType.PENALTY_NOTICE, make_ctx(hearing_offered=False))
    assert not_offered.sections == offered.sections[:2]
    assert "听证" not in not_offered.text
    assert "第六十三条" not in not_offered.text
    assert "hearing" not in not_offered.provenance


def test_periods_and_rate_come_from_the_context() -> None:
    ctx = make_ctx(
        statement_days=7,
        hearing_request_days=4,
        payment_days=30,
        late_fine_rate_percent=Decimal("2.5"),
        reconsideration_days=90,
        lawsuit_months=3,
    )
    notice = render(DocumentType.PENALTY_NOTICE, ctx).text
    decision = render(DocumentType.PENALTY_DECISION, ctx).text
    assert "七日内" not in notice  # 陈述、申辩 runs until the decision (行政处罚法第四十五条)
    assert "自收到本告知书之日起四日内" in notice
    assert "三日内" not in notice and "五日内" not in notice
    assert "送达之日起三十日内" in decision
    assert "每日按罚款数额的百分之二点五加处罚款" in decision
    assert "自收到本决定书之日起九十日内" in decision
    assert "自收到本决定书之日起三个月内" in decision
    for default in ("十五日内", "百分之三", "六十日内", "六个月内"):
        assert default not in decision


@pytest.mark.parametrize("days", [1, 10, 15, 21, 45, 120])
def test_payment_period_is_printed_in_chinese_numerals(days: int) -> None:
    from assistant.legal import chinese_number

    text = render(DocumentType.PENALTY_DECISION, make_ctx(payment_days=days)).text
    assert f"送达之日起{chinese_number(days)}日内" in text


def test_individual_is_addressed_as_you() -> None:
    ctx = make_ctx(party=PERSON, facts="你2025年取得劳务报酬未申报个人所得税。")
    doc = render(DocumentType.PENALTY_DECISION, ctx)
    assert "李示例（身份证件号码：150102199001011234）：" in doc.text
    assert "你单位" not in doc.text
    assert "决定对你处以罚款" in doc.text
    assert "经我局对你的涉税情况进行了检查" in doc.text


def test_tax_office_calls_itself_wo_suo() -> None:
    ctx = make_ctx(authority="国家税务总局示例市示例区税务局第一税务所")
    assert "我所" in render(DocumentType.PENALTY_DECISION, ctx).text


def test_free_text_gets_full_width_punctuation() -> None:
    ctx = make_ctx(facts="你单位(示例)未申报; 逾期3日, 稅款1,000元.", evidence=("询问笔录(一)",))
    text = render(DocumentType.PENALTY_DECISION, ctx).text
    assert "你单位（示例）未申报；逾期3日，税款1,000元。" in text
    assert "1.询问笔录（一）。" in text
    assert not re.search(r"[;()?!]|,\D|:\D", text)


def test_multi_line_facts_become_paragraphs() -> None:
    doc = render(
        DocumentType.PENALTY_DECISION, make_ctx(facts="（一）第一项事实。\n（二）第二项事实。")
    )
    assert "（一）第一项事实。" in lines(doc.text)
    assert "（二）第二项事实。" in lines(doc.text)


def test_provenance_names_the_sources() -> None:
    decision = render(DocumentType.PENALTY_DECISION, make_ctx())
    assert decision.provenance["penalty"][0] == "税收征收管理法:62"
    assert decision.provenance["late_fine"] == ("行政处罚法:72:1:1",)
    assert decision.provenance["payment"] == ("行政处罚法:67:3",)
    assert "税收征收管理法:88:3" in decision.provenance["enforcement"]
    assert decision.provenance["facts"] == ("segment:7",)
    assert decision.provenance["benchmark"] == ("benchmark:sample:3",)
    notice = render(DocumentType.PENALTY_NOTICE, make_ctx())
    assert notice.provenance["notice_basis"][:2] == ("行政处罚法:44", "行政处罚法:45")


def test_benchmark_sentence_omitted_without_citation() -> None:
    text = render(DocumentType.PENALTY_DECISION, make_ctx(benchmark_citation=None)).text
    assert "适用条件" not in text
    assert "第六十二条的规定，决定对你单位处以罚款" in text


# --- layout -------------------------------------------------------------------------------


def _east_asian(run_element: object) -> str | None:
    rpr = run_element.rPr  # type: ignore[attr-defined]
    return rpr.rFonts.get(qn("w:eastAsia"))


@pytest.mark.parametrize("doc_type", list(DocumentType))
def test_page_size_margins_and_fonts(doc_type: DocumentType) -> None:
    doc = render(doc_type, make_ctx())
    opened = Document(io.BytesIO(doc.docx))
    section = opened.sections[0]
    for value, expected in [
        (section.page_width, 21.0),
        (section.page_height, 29.7),
        (section.top_margin, 3.7),
        (section.bottom_margin, 3.5),
        (section.left_margin, 2.8),
        (section.right_margin, 2.6),
    ]:
        assert value is not None
        assert abs(value.cm - expected) < 0.01

    paragraphs = opened.paragraphs
    title = next(p for p in paragraphs if p.text == doc.title)
    assert title.alignment == 1  # WD_ALIGN_PARAGRAPH.CENTER
    assert _east_asian(title.runs[0]._element) == "方正小标宋简体"
    assert title.runs[0].font.size == Pt(22)

    number = next(p for p in paragraphs if p.text == "示税稽罚〔2026〕3号")
    assert number.alignment == 1

    body = next(p for p in paragraphs if p.text.startswith("经查，你单位2025年3月"))
    assert _east_asian(body.runs[0]._element) == "仿宋_GB2312"
    assert body.runs[0].font.size == Pt(16)
    assert body.paragraph_format.first_line_indent == Pt(32)

    font_table = next(p for p in opened.part.package.iter_parts() if "fontTable" in str(p.partname))
    xml = font_table.blob.decode("utf-8")
    assert 'w:name="方正小标宋简体"' in xml and 'w:altName w:val="华文中宋"' in xml
    assert 'w:name="仿宋_GB2312"' in xml


# --- bad input ----------------------------------------------------------------------------


def test_unknown_document_type() -> None:
    with pytest.raises(InvalidInput) as err:
        render("tax_treatment_decision", make_ctx())
    assert err.value.code == "unknown_document_type"
    assert err.value.details["allowed"] == ["penalty_notice", "penalty_decision"]
    assert err.value.status_code == 422


@pytest.mark.parametrize(
    ("party", "fields"),
    [
        (replace(COMPANY, name=""), ["party.name"]),
        (replace(COMPANY, id_number="  "), ["party.id_number"]),
        (replace(COMPANY, name="", id_number=""), ["party.name", "party.id_number"]),
    ],
)
def test_missing_party_data(party: Party, fields: list[str]) -> None:
    with pytest.raises(InvalidInput) as err:
        render(DocumentType.PENALTY_NOTICE, make_ctx(party=party))
    assert err.value.code == "missing_party_data"
    assert err.value.details["fields"] == fields


@pytest.mark.parametrize("doc_type", list(DocumentType))
def test_no_penalty_is_refused(doc_type: DocumentType) -> None:
    with pytest.raises(InvalidInput) as err:
        render(doc_type, make_ctx(decision="no_penalty", amount=Decimal("0")))
    assert err.value.code == "not_a_penalty"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"amount": Decimal("0")}, "invalid_amount"),
        ({"amount": Decimal("-5")}, "invalid_amount"),
        ({"amount": 100.0}, "invalid_amount"),
        ({"amount": Decimal("NaN")}, "invalid_amount"),
        ({"statement_days": 0}, "invalid_period"),
        ({"payment_days": -15}, "invalid_period"),
        ({"late_fine_rate_percent": Decimal("0")}, "invalid_rate"),
        ({"facts": "  "}, "missing_facts"),
        ({"legal_basis": ()}, "missing_legal_basis"),
        ({"doc_number": ""}, "missing_document_data"),
        (
            {"legal_basis": (LegalBasis("税收征收管理法:62", "中华人民共和国行政处罚法"),)},
            "statute_title_mismatch",
        ),
        (
            {"legal_basis": (LegalBasis("税收征收管理法:六十二", "中华人民共和国税收征收管理法"),)},
            "invalid_statute_id",
        ),
    ],
)
def test_bad_context_codes(overrides: dict[str, object], code: str) -> None:
    # citation errors come from the legal core (LegalValueError, answered 422 like InvalidInput)
    with pytest.raises((InvalidInput, LegalValueError)) as err:
        render(DocumentType.PENALTY_DECISION, make_ctx(**overrides))
    assert err.value.code == code


def test_hearing_period_checked_only_when_offered() -> None:
    render(DocumentType.PENALTY_NOTICE, make_ctx(hearing_offered=False, hearing_request_days=0))
    with pytest.raises(InvalidInput) as err:
        render(DocumentType.PENALTY_NOTICE, make_ctx(hearing_request_days=0))
    assert err.value.details["fields"] == ["hearing_request_days"]


def test_docx_text_refuses_non_docx() -> None:
    with pytest.raises(InvalidInput) as err:
        docx_text(b"not a word document")
    assert err.value.code == "invalid_docx"

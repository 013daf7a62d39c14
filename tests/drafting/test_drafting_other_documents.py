"""The other document types: structure in order, computed amounts, limits, bad input, PDF."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from docx import Document

from assistant.documents.types.legal_review_opinion import (
    LegalReviewContext,
    ReviewPoint,
    render_legal_review,
)
from assistant.drafting import LegalBasis
from assistant.drafting.other_documents import (
    CorrectionNoticeContext,
    InterviewContext,
    NoPenaltyContext,
    OtherDocumentType,
    Remedy,
    SimplePenaltyContext,
    TaxHandlingContext,
    TaxItem,
    Utterance,
    render_correction_notice,
    render_interview,
    render_no_penalty,
    render_simple_penalty,
    render_tax_handling,
    surcharge,
)
from assistant.drafting.pdf import RenderingUnavailable, docx_to_pdf, find_fonts, missing_glyphs
from assistant.errors import InvalidInput
from tests.drafting.test_drafting_documents import COMPANY, PERSON

AUTH = "国家税务总局示例市税务局稽查局"
REMEDY = Remedy("国家税务总局示例市税务局")
LAW62 = LegalBasis("税收征收管理法:62", "中华人民共和国税收征收管理法")
LAW25 = LegalBasis("税收征收管理法:25:1", "中华人民共和国税收征收管理法")
OFFICERS = (("王一", "15010001"), ("赵二", "15010002"))


def no_penalty() -> NoPenaltyContext:
    return NoPenaltyContext(
        authority=AUTH,
        doc_number="示税稽不罚〔2026〕1号",
        party=COMPANY,
        facts="你单位2025年3月增值税纳税申报逾期5日。",
        evidence=("纳税申报记录",),
        violated=(LAW25,),
        reason="鉴于你单位系首次违法、危害后果轻微，并在责令限期内改正",
        remedy=REMEDY,
        decision_date=date(2026, 11, 27),
    )


def simple(amount: str = "200", party: Any = PERSON) -> SimplePenaltyContext:
    return SimplePenaltyContext(
        authority="国家税务总局示例市示例区税务局第一税务所",
        doc_number="示区税一所简罚〔2026〕4号",
        party=party,
        facts="未按照规定期限办理2026年10月个人所得税纳税申报",
        violated=(LAW25,),
        legal_basis=(LAW62,),
        amount=Decimal(amount),
        place="示例区办税服务厅",
        when=datetime(2026, 11, 27, 9, 30),
        officers=OFFICERS,
        remedy=REMEDY,
    )


def tax_handling() -> TaxHandlingContext:
    return TaxHandlingContext(
        authority=AUTH,
        doc_number="示税稽处〔2026〕7号",
        party=COMPANY,
        inspection_period=(date(2026, 3, 1), date(2026, 6, 30)),
        facts="你单位2024年12月取得收入未申报，少缴增值税10,000.00元。",
        evidence=("银行流水",),
        legal_basis=(LegalBasis("增值税暂行条例:1", "中华人民共和国增值税暂行条例"),),
        items=(
            TaxItem(
                "增值税",
                (date(2024, 12, 1), date(2024, 12, 31)),
                Decimal("10000"),
                date(2025, 1, 15),
            ),
        ),
        surcharge_until=date(2025, 3, 16),
        remedy=REMEDY,
        decision_date=date(2026, 11, 27),
        payment_place="国家税务总局示例市示例区税务局",
    )


def correction() -> CorrectionNoticeContext:
    return CorrectionNoticeContext(
        authority="国家税务总局示例市示例区税务局",
        doc_number="示区税限改〔2026〕21号",
        party=COMPANY,
        facts="你单位未按照规定期限办理2026年10月增值税纳税申报",
        violated=(LAW25,),
        legal_basis=(LAW62,),
        correction="办理纳税申报并报送纳税资料",
        deadline=date(2026, 12, 7),
        remedy=REMEDY,
        decision_date=date(2026, 11, 27),
    )


def interview() -> InterviewContext:
    return InterviewContext(
        authority=AUTH,
        start=datetime(2026, 5, 10, 9, 0),
        end=datetime(2026, 5, 10, 10, 15),
        place="示例市税务局稽查局询问室",
        interviewers=OFFICERS,
        recorder="赵二",
        interviewee="张示例",
        interviewee_id="150102199001011234",
        interviewee_role="示例商贸有限公司法定代表人",
        utterances=(
            Utterance("问", "你是否申请回避？"),
            Utterance("答", "不申请。", "segment:1"),
            Utterance("问", "你单位2025年3月的增值税为什么逾期申报？"),
            Utterance("答", "会计离职，交接时遗漏了。", "segment:4"),
        ),
    )


def legal_review() -> LegalReviewContext:
    return LegalReviewContext(
        authority="国家税务总局示例市税务局稽查局",
        doc_number="示税稽法审〔2026〕2号",
        case_name="示例商贸有限公司逾期申报案",
        party=COMPANY,
        submitting_unit="第一检查科",
        submitted_on=date(2026, 11, 20),
        proposal="对示例商贸有限公司处以罚款1,000.00元",
        points=(
            ReviewPoint("主体", "执法主体适格，承办人员具有执法资格"),
            ReviewPoint("事实", "违法事实清楚"),
            ReviewPoint("证据", "证据确实充分"),
            ReviewPoint("依据", "适用依据正确"),
            ReviewPoint("程序", "程序合法"),
            ReviewPoint("裁量", "裁量适当"),
        ),
        conclusion="同意承办部门意见。",
        reviewers=("钱三", "孙四"),
        decision_date=date(2026, 11, 25),
    )


RENDER = {
    OtherDocumentType.NO_PENALTY_DECISION: lambda: render_no_penalty(no_penalty()),
    OtherDocumentType.SIMPLE_PENALTY_DECISION: lambda: render_simple_penalty(simple()),
    OtherDocumentType.TAX_HANDLING_DECISION: lambda: render_tax_handling(tax_handling()),
    OtherDocumentType.CORRECTION_NOTICE: lambda: render_correction_notice(correction()),
    OtherDocumentType.INTERVIEW_RECORD: lambda: render_interview(interview()),
    "legal_review_opinion": lambda: render_legal_review(legal_review()),
}

# The markers each type must show, in this order (the official 文书式样 order).
ORDER = {
    OtherDocumentType.NO_PENALTY_DECISION: [
        "不予税务行政处罚决定书",
        "示税稽不罚〔2026〕1号",
        "一、违法事实及证据",
        "上述违法事实，主要有以下证据证明",
        "二、不予处罚的理由及依据",
        "《中华人民共和国税收征收管理法》第二十五条第一款",
        "《中华人民共和国行政处罚法》第三十三条第一款",
        "决定不予税务行政处罚",
        "六十日内依法向国家税务总局示例市税务局申请行政复议",
        "六个月内依法向人民法院起诉",
        "（印章）",
        "二〇二六年十一月二十七日",
    ],
    OtherDocumentType.SIMPLE_PENALTY_DECISION: [
        "税务行政处罚决定书（简易）",
        "违法事实：2026年11月27日9时30分，执法人员在示例区办税服务厅当场查明，",
        "处罚依据及内容",
        "第五十一条、第五十二条",
        "处以罚款200.00元（大写：贰佰元整）",
        "缴纳方式：限你自收到本决定书之日起十五日内",
        "每日按罚款数额的百分之三加处罚款",
        "救济途径",
        "应当自收到本决定书之日起六十日内依法向",
        "《中华人民共和国行政复议法》第二十三条第一款第（一）项",
        "对行政复议决定不服的，可以自收到行政复议决定书之日起十五日内向人民法院提起诉讼",
        "执法人员：王一（执法证号：15010001）、赵二",
        "当事人签收",
        "（印章）",
    ],
    OtherDocumentType.TAX_HANDLING_DECISION: [
        "税务处理决定书",
        "我局于2026年3月1日至2026年6月30日",
        "一、违法事实",
        "二、处理决定及依据",
        "《中华人民共和国税收征收管理法》第三十二条",
        "追缴你单位2024年12月1日至2024年12月31日增值税10,000.00元",
        "按日加收滞纳税款万分之五的滞纳金（截至2025年3月16日为300.00元）",
        "限你单位自收到本决定书之日起十五日内到国家税务总局示例市示例区税务局缴纳入库",
        "必须先依照本决定的期限缴纳税款及滞纳金或者提供相应的担保",
        "六十日内依法向国家税务总局示例市税务局申请行政复议",
        "第八十八条第一款",
        "（印章）",
    ],
    OtherDocumentType.CORRECTION_NOTICE: [
        "税务事项通知书",
        "示区税限改〔2026〕21号",
        "事由：责令限期改正",
        "依据：《中华人民共和国税收征收管理法》第六十二条",
        "违反了《中华人民共和国税收征收管理法》第二十五条第一款的规定",
        "现责令你单位于2026年12月7日前办理纳税申报并报送纳税资料",
        "如对本通知不服",
        "（印章）",
    ],
    OtherDocumentType.INTERVIEW_RECORD: [
        "询问（调查）笔录",
        "询问时间：2026年5月10日9时00分至2026年5月10日10时15分",
        "询问地点",
        "询问人：王一",
        "记录人：赵二",
        "被询问人：张示例（身份证件号码：150102199001011234）",
        "第五十四条第（四）项",
        "有权申请回避",
        "问：你是否申请回避？",
        "答：不申请。",
        "答：会计离职，交接时遗漏了。",
        "以上笔录我已看过",
        "被询问人（签名）",
    ],
    "legal_review_opinion": [
        "法制审核意见书",
        "一、案件基本情况",
        "拟作出的决定：对示例商贸有限公司处以罚款1,000.00元",
        "二、审核内容",
        "《中华人民共和国行政处罚法》第五十八条",
        "（一）主体",
        "（六）裁量",
        "三、审核意见",
        "同意承办部门意见。",
        "审核人员：钱三、孙四",
        "（印章）",
    ],
}


@pytest.mark.parametrize("kind", list(RENDER))
def test_each_type_opens_with_python_docx_and_keeps_the_official_order(kind: str) -> None:
    rendered = RENDER[kind]()
    assert rendered.doc_type == kind
    doc = Document(io.BytesIO(rendered.docx))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert text == rendered.text
    positions = [text.find(m) for m in ORDER[kind]]
    assert -1 not in positions, [m for m, p in zip(ORDER[kind], positions, strict=True) if p < 0]
    assert positions == sorted(positions)
    assert (
        doc.sections[0].page_width is not None and round(doc.sections[0].page_width.cm, 1) == 21.0
    )


def test_every_type_prints_without_tofu_and_pdfs_embed_fonts() -> None:
    """Every glyph of every type is in the fonts; two types go all the way to PDF (each PDF
    costs about 2.5 s of font parsing, see docs/benchmarks.md)."""
    try:
        find_fonts()
    except RenderingUnavailable:
        pytest.skip("CJK fonts not installed; run `make system-deps`")
    from tests.drafting.test_drafting_pdf import _embedded_fonts

    for kind in RENDER:
        assert missing_glyphs(RENDER[kind]().text) == [], kind
    for kind in (OtherDocumentType.TAX_HANDLING_DECISION, OtherDocumentType.INTERVIEW_RECORD):
        fonts = _embedded_fonts(docx_to_pdf(RENDER[kind]().docx))
        assert fonts and all(fonts.values()), (kind, fonts)


def test_surcharge_runs_from_the_day_after_the_due_date() -> None:
    item = TaxItem(
        "增值税", (date(2024, 12, 1), date(2024, 12, 31)), Decimal("10000"), date(2025, 1, 15)
    )
    assert surcharge(item, date(2025, 1, 15)) == Decimal("0.00")  # due date itself: not late
    assert surcharge(item, date(2025, 1, 16)) == Decimal("5.00")  # one day: 10,000 × 0.05%
    assert surcharge(item, date(2025, 3, 16)) == Decimal("300.00")  # 60 days
    odd = replace(item, amount=Decimal("333.33"))
    assert surcharge(odd, date(2025, 1, 18)) == Decimal("0.50")  # 0.499995 rounds half up


def test_tax_handling_totals_add_up_over_items() -> None:
    ctx = tax_handling()
    second = TaxItem(
        "城市维护建设税", (date(2024, 12, 1), date(2024, 12, 31)), Decimal("700"), date(2025, 1, 15)
    )
    text = render_tax_handling(replace(ctx, items=(*ctx.items, second))).text
    assert "以上应补缴税款共计10,700.00元" in text
    assert "滞纳金共计321.00元" in text  # 300.00 + 700 × 0.05% × 60 = 21.00


@pytest.mark.parametrize(
    ("amount", "party", "ok"),
    [
        ("200", PERSON, True),
        ("200.01", PERSON, False),
        ("3000", COMPANY, True),
        ("3000.01", COMPANY, False),
    ],
)
def test_simple_procedure_only_within_article_51_limits(amount: str, party: Any, ok: bool) -> None:
    if ok:
        assert "简易" in render_simple_penalty(simple(amount, party)).title
        return
    with pytest.raises(InvalidInput) as err:
        render_simple_penalty(simple(amount, party))
    assert err.value.code == "simple_procedure_not_allowed"


def test_bad_input_names_what_is_missing() -> None:
    with pytest.raises(InvalidInput) as err:
        render_no_penalty(replace(no_penalty(), party=replace(COMPANY, id_number="")))
    assert err.value.details["fields"] == ["party.id_number"]
    with pytest.raises(InvalidInput) as err:
        render_correction_notice(replace(correction(), deadline=date(2026, 11, 1)))
    assert err.value.code == "invalid_period"
    with pytest.raises(InvalidInput) as err:
        render_interview(replace(interview(), interviewers=OFFICERS[:1]))
    assert err.value.code == "invalid_interview"
    with pytest.raises(InvalidInput) as err:
        render_tax_handling(replace(tax_handling(), items=()))
    assert err.value.code == "invalid_amount"
    with pytest.raises(InvalidInput) as err:
        render_legal_review(replace(legal_review(), reviewers=()))
    assert err.value.code == "missing_review"


def test_interview_record_keeps_transcript_provenance() -> None:
    rendered = render_interview(interview())
    assert rendered.provenance["utterances"] == ("segment:1", "segment:4")

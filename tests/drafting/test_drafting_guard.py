"""The fact guard: every planted wrong fact is caught at its span; correct drafts pass clean."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

import pytest

from assistant.config import PROJECT_ROOT
from assistant.drafting import DocumentType, render
from assistant.drafting.context import PenaltyContext
from assistant.drafting.guard import FactRecord, GuardReport, check_draft, require_clean
from assistant.errors import Conflict
from assistant.knowledge.statutes import StatuteBook
from tests.drafting.test_drafting_documents import PERSON, make_ctx

N, D = DocumentType.PENALTY_NOTICE, DocumentType.PENALTY_DECISION


@cache
def book() -> StatuteBook:
    return StatuteBook.load([PROJECT_ROOT / "corpora"])


def guard(text: str, ctx: PenaltyContext, **record: object) -> GuardReport:
    return check_draft(text, FactRecord.from_context(ctx, **record), book())  # type: ignore[arg-type]


@dataclass(frozen=True)
class Plant:
    """Replace `old` by `new` (first occurrence) in a correct draft; `kind` must be reported."""

    name: str
    doc_type: DocumentType
    old: str
    new: str
    kind: str
    person: bool = False


PLANTS = [
    # amounts
    Plant("fine figures", D, "罚款12,345.60元", "罚款12,354.60元", "amount"),
    Plant("total", D, "共计12,345.60元", "共计13,345.60元", "amount"),
    Plant("capitals", D, "肆拾伍元陆角整", "肆拾伍元整", "amount"),
    Plant("proposed fine", N, "罚款12,345.60元", "罚款1,234.56元", "amount"),
    Plant("amount in narrative", N, "逾期45日，", "逾期45日，少缴税款8,000.00元，", "amount"),
    Plant("fine in 万元", N, "12,345.60元（", "1.2万元（", "amount"),
    # dates
    Plant("decision date", D, "二〇二六年十一月二十七日", "二〇二六年十一月二十六日", "date"),
    Plant("date in facts", N, "2025年5月30日", "2025年5月31日", "date"),
    Plant("tax month", D, "2025年3月增值税", "2025年4月增值税", "date"),
    Plant("notice year", N, "二〇二六年十一月二十七日", "二〇二五年十一月二十七日", "date"),
    Plant("invented date", D, "补办申报。", "补办申报，并于2025年6月3日缴清税款。", "date"),
    # names
    Plant("party name typo", D, "示例商贸有限公司（", "示列商贸有限公司（", "name"),
    Plant("party name form", N, "示例商贸有限公司（", "示例商贸有限责任公司（", "name"),
    Plant(
        "authority header",
        D,
        "国家税务总局示例市税务局稽查局\n税务",
        "国家税务总局示范市税务局稽查局\n税务",
        "name",
    ),
    Plant(
        "authority signature",
        D,
        "国家税务总局示例市税务局稽查局\n（印章）",
        "国家税务总局示例市税务局第一稽查局\n（印章）",
        "name",
    ),
    Plant(
        "reconsideration body",
        D,
        "依法向国家税务总局示例市税务局申请",
        "依法向国家税务总局内蒙古自治区税务局申请",
        "name",
    ),
    Plant("address", N, "示例路1号", "示例路11号", "name"),
    Plant("legal representative", N, "逾期45日，", "逾期45日，法定代表人王示范知情，", "name"),
    Plant(
        "other company",
        D,
        "你单位2025年3月",
        "经查你单位为示范科技有限公司代开发票，2025年3月",
        "name",
    ),
    Plant("person name", D, "李示例（", "李示列（", "name", person=True),
    # IDs
    Plant("USCC digit", D, "91150100MA0N7Y2K37", "91150100MA0N7Y2K38", "id"),
    Plant("resident ID", N, "150102199001011234", "150102199001011243", "id", person=True),
    Plant("ID in narrative", N, "逾期45日，", "逾期45日（91150100MA0N7Y2K99），", "id"),
    # articles
    Plant("other article", D, "第六十二条的规定，你单位", "第六十三条的规定，你单位", "citation"),
    Plant(
        "no such article", N, "第六十二条的规定，你单位", "第六百二十条的规定，你单位", "citation"
    ),
    Plant("wrong law", D, "税收征收管理法》第六十二条", "发票管理办法》第六十二条", "citation"),
    Plant(
        "no such paragraph",
        D,
        "第七十二条第一款第（一）项",
        "第七十二条第三款第（一）项",
        "citation",
    ),
    Plant("wrong notice clause", N, "第四十五条、第六十三条", "第四十六条、第六十三条", "citation"),
    Plant("wrong remedy clause", D, "第八十八条第三款", "第八十八条第一款", "citation"),
    # periods
    Plant(
        "statement cut off",
        N,
        "在我局作出税务行政处罚决定之前，你单位可以到我局",
        "请自收到本告知书之日起五日内到我局",
        "period",
    ),
    Plant("hearing days", N, "之日起五日内向我局", "之日起三日内向我局", "period"),
    Plant("payment days", D, "送达之日起十五日内", "送达之日起十日内", "period"),
    Plant("reconsideration days", D, "六十日内依法向", "三十日内依法向", "period"),
    Plant("lawsuit months", D, "六个月内依法向人民法院", "三个月内依法向人民法院", "period"),
    Plant("late fine rate", D, "百分之三加处罚款", "百分之五加处罚款", "period"),
    Plant("days overdue", D, "逾期45日", "逾期54日", "number"),
]


def test_the_planted_set_is_large_and_covers_every_kind() -> None:
    assert len(PLANTS) >= 30
    assert {p.kind for p in PLANTS} >= {"amount", "date", "name", "id", "citation", "period"}


@pytest.mark.parametrize("plant", PLANTS, ids=[p.name for p in PLANTS])
def test_planted_wrong_fact_is_caught_at_its_span(plant: Plant) -> None:
    ctx = make_ctx(party=PERSON) if plant.person else make_ctx()
    text = render(plant.doc_type, ctx).text
    where = text.find(plant.old)
    assert where >= 0, f"{plant.old!r} not in the correct draft"
    planted = text.replace(plant.old, plant.new, 1)
    report = guard(planted, ctx)
    # the finding must point into the replaced region (longest common prefix/suffix trimmed)
    head = 0
    while head < min(len(plant.old), len(plant.new)) and plant.old[head] == plant.new[head]:
        head += 1
    lo, hi = where + head, where + len(plant.new)
    hits = [f for f in report.findings if f.kind == plant.kind and f.start <= hi and f.end >= lo]
    assert hits, (plant.name, report.as_dicts())


def test_missing_hearing_paragraph_is_caught() -> None:
    ctx = make_ctx(hearing_offered=True)
    text = render(N, ctx).text
    start = text.index("三、要求听证的权利")
    end = text.index("\n\n", start)
    report = guard(text[:start] + text[end + 1 :], ctx)
    assert any(f.kind == "period" and "听证" in f.message for f in report.findings)


def test_hearing_offered_when_discretion_says_no_is_caught() -> None:
    ctx = make_ctx(hearing_offered=True)
    report = guard(render(N, ctx).text, ctx, hearing_required=False)
    assert [f.text for f in report.findings] == ["要求听证的权利"]


@pytest.mark.parametrize("doc_type", [N, D])
@pytest.mark.parametrize("person", [False, True])
@pytest.mark.parametrize("hearing", [False, True])
def test_no_false_alarm_on_correct_drafts(
    doc_type: DocumentType, person: bool, hearing: bool
) -> None:
    ctx = make_ctx(hearing_offered=hearing, **({"party": PERSON} if person else {}))
    report = guard(render(doc_type, ctx).text, ctx)
    assert report.ok, report.as_dicts()


def test_no_false_alarm_with_inspection_period_and_payment_place() -> None:
    ctx = make_ctx(
        inspection_period=(date(2026, 3, 1), date(2026, 6, 30)),
        tax_period=(date(2023, 1, 1), date(2024, 12, 31)),
        payment_place="国家税务总局示例市示例区税务局",
        facts="你单位2023年1月至2024年12月少缴增值税80,000.00元，少缴城市维护建设税5,600.00元。",
    )
    report = guard(render(D, ctx).text, ctx)
    assert report.ok, report.as_dicts()


def test_require_clean_blocks_with_the_spans() -> None:
    ctx = make_ctx()
    text = render(D, ctx).text.replace("罚款12,345.60元", "罚款99,999.00元", 1)
    with pytest.raises(Conflict) as err:
        require_clean(guard(text, ctx))
    assert err.value.code == "fact_check_failed"
    findings = err.value.details["findings"]
    assert findings and all(text[f["span"][0] : f["span"][1]] == f["text"] for f in findings)

"""Statute push routed by the facts' kind, steered by structured facts, each result explained.

Real parts: the bundled statute book and bulletins, a real FAISS index (hashing embedder, so
the test needs no model download), the real fact rules file.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from assistant.config import BUNDLED_CORPUS
from assistant.errors import InvalidInput
from assistant.knowledge import KnowledgeBase, get_embedder
from assistant.knowledge.facts import (
    ADMINISTRATIVE,
    CRIMINAL,
    CRIMINAL_LAWS,
    CaseFacts,
    fact_articles,
    facts_kind,
    load_fact_rules,
    read_facts,
)
from assistant.knowledge.recommend import (
    TAX_CHARGING,
    case_facts,
    explain,
    penalty_only,
    serves_documents,
)
from assistant.knowledge.statutes import StatuteBook

CRIMINAL_FACTS = (
    "公诉机关指控：2016年至2017年间，被告人张某在没有真实货物交易的情况下，"
    "为他人虚开增值税专用发票50份，价税合计500万元，税额72万元，已全部抵扣。"
)
ADMIN_FACTS = (
    "我局于2022年5月20日起对你公司2015年1月1日至2016年12月31日期间的涉税情况进行检查。"
    "经查，你公司隐匿销售收入，少缴增值税10万元。"
)


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    index = Path(tmp_path_factory.mktemp("index"))
    return KnowledgeBase.build([BUNDLED_CORPUS], index, get_embedder("hashing"))


def test_facts_kind_reads_a_court_record_as_criminal() -> None:
    assert facts_kind(CRIMINAL_FACTS) == CRIMINAL
    assert facts_kind(ADMIN_FACTS) == ADMINISTRATIVE
    # a tax decision that transfers the case to the police is still administrative
    assert facts_kind("你公司涉嫌虚开增值税专用发票，依法移送公安机关。") == ADMINISTRATIVE


def test_criminal_facts_reach_only_the_criminal_law_and_the_2024_interpretation(
    kb: KnowledgeBase,
) -> None:
    hits = kb.search_statutes(CRIMINAL_FACTS, k=10)
    assert hits and {h.route for h in hits} == {CRIMINAL}
    assert {h.law for h in hits} <= set(CRIMINAL_LAWS)
    assert "刑法:205" in [h.id for h in hits[:5]]
    # stated as administrative, the same facts reach tax-administration articles again
    admin = kb.search_statutes(CRIMINAL_FACTS, k=10, kind=ADMINISTRATIVE)
    assert {h.route for h in admin} == {ADMINISTRATIVE}
    assert any(h.law not in CRIMINAL_LAWS for h in admin)


def test_read_facts_takes_act_and_inspection_dates_and_role() -> None:
    facts = read_facts(ADMIN_FACTS + "你公司作为扣缴义务人应扣未扣个人所得税。")
    assert facts.act_date == date(2015, 1, 1)
    assert facts.found_date == date(2022, 5, 20)
    assert facts.role == "withholding_agent"
    assert case_facts(ADMIN_FACTS).taxes == ("增值税",)


def test_limitation_rule_fires_on_old_acts_only_for_a_penalty() -> None:
    old = CaseFacts(act_date=date(2015, 1, 1), found_date=date(2022, 5, 20))
    assert {a for a, _ in fact_articles(old)} >= {"行政处罚法:36", "税收征收管理法:86"}
    recent = CaseFacts(act_date=date(2022, 1, 1), found_date=date(2022, 5, 20))
    assert "行政处罚法:36" not in {a for a, _ in fact_articles(recent)}
    treatment = CaseFacts(
        act_date=date(2015, 1, 1), found_date=date(2022, 5, 20), document="处理决定"
    )
    assert "行政处罚法:36" not in {a for a, _ in fact_articles(treatment)}
    assert all(rule.source for rule in load_fact_rules())  # every rule quotes its provision


def test_a_receiver_of_false_invoices_loses_the_input_vat_credit() -> None:
    receiver = CaseFacts(role="invoice_receiver", taxes=("增值税",))
    rules = {a: rule for a, rule in fact_articles(receiver)}
    assert "增值税暂行条例:9" in rules and "进项税额不得" in rules["增值税暂行条例:9"].source
    # only when VAT is assessed: an income-tax-only case of the same role gets no VAT article
    income_only = CaseFacts(role="invoice_receiver", taxes=("企业所得税",))
    assert "增值税暂行条例:9" not in {a for a, _ in fact_articles(income_only)}
    issuer = CaseFacts(role="invoice_issuer", taxes=("增值税",))
    assert "增值税暂行条例:9" not in {a for a, _ in fact_articles(issuer)}


def test_an_assessment_by_deeming_brings_the_power_and_the_method_of_deeming() -> None:
    text = ADMIN_FACTS + "根据规定，对你公司2019年企业所得税核定应纳税所得额为2009.13元。"
    assert read_facts(text).deemed is True and read_facts(ADMIN_FACTS).deemed is None
    assert {a for a, _ in fact_articles(case_facts(text))} >= {
        "税收征收管理法:35",
        "税收征收管理法实施细则:47",
    }
    assert CaseFacts.from_dict({"deemed": False}).deemed is False
    with pytest.raises(InvalidInput) as err:
        CaseFacts.from_dict({"deemed": "是"})
    assert err.value.code == "invalid_fact_deemed"


def test_each_charging_article_names_the_taxpayers_of_its_tax() -> None:
    book = StatuteBook.load([BUNDLED_CORPUS])
    for tax, ids in TAX_CHARGING.items():
        for sid in ids:
            text = book.get(sid).text  # "…为增值税的纳税人", "…依照本法规定缴纳个人所得税"
            assert re.search(rf"为{tax}的纳税人|缴纳{tax}", text), (sid, text[:60])


def test_penalty_only_provisions_are_read_from_the_statute_text() -> None:
    book = StatuteBook.load([BUNDLED_CORPUS])
    on = date(2024, 6, 1)
    # fines only: the 虚开 penalty, the 征管法's 罚则 without tax
    assert penalty_only(book.get("发票管理办法:35", on))
    assert penalty_only(book.get("税收征收管理法:62", on))
    # 偷税 is also what a 处理决定 rests on (追缴税款、滞纳金); 加处罚款 enforces a fine; 强制执行
    for sid in ("税收征收管理法:63", "行政处罚法:72", "税收征收管理法:40", "税收征收管理法:32"):
        assert not penalty_only(book.get(sid, on)), sid


def test_a_tax_handling_decision_is_not_pushed_penalty_provisions(kb: KnowledgeBase) -> None:
    facts = "经查，你公司为他人虚开增值税普通发票20份，金额50万元，少缴增值税1.5万元。"
    handling = kb.search_statutes(facts, k=15, on=date(2024, 6, 1), facts={"document": "处理决定"})
    assert handling and not any(
        penalty_only(kb.statutes.get(h.id, date(2024, 6, 1))) for h in handling
    )
    penalty = kb.search_statutes(facts, k=15, on=date(2024, 6, 1), facts={"document": "处罚决定"})
    assert any(penalty_only(kb.statutes.get(h.id, date(2024, 6, 1))) for h in penalty)


def test_the_rules_on_serving_documents_are_never_pushed(kb: KnowledgeBase) -> None:
    on = date(2024, 6, 1)
    assert serves_documents(kb.statutes.get("税收征收管理法实施细则:106", on))  # 公告送达
    assert not serves_documents(kb.statutes.get("税收征收管理法实施细则:100", on))
    facts = "你公司走逃失联，少缴增值税3万元，税务文书无法直接送达或者邮寄送达，予以公告送达。"
    text = [a.partition("@")[0] for a in kb.article_ranking(facts, on)[:10]]
    assert "税收征收管理法实施细则:106" in text  # the words match; the push leaves it out
    hits = kb.search_statutes(facts, k=30, on=on)
    assert hits and not any(serves_documents(kb.statutes.get(h.id, on)) for h in hits)


def test_structured_facts_vote_and_explain_themselves(kb: KnowledgeBase) -> None:
    stated = CaseFacts(document="处罚决定")
    ev = kb.recommender.evidence(
        ADMIN_FACTS,
        on=date(2016, 1, 1),
        article_ranking=kb.article_ranking(ADMIN_FACTS, date(2016, 1, 1)),
        case_similarity=kb.case_ranking(ADMIN_FACTS, "hybrid"),
        facts=stated,
    )
    assert ev.facts is not None and ev.facts.document == "处罚决定"
    assert ev.facts.found_date == date(2022, 5, 20)  # read from the text, not stated
    assert "行政处罚法:36" in ev.votes["facts"]
    reasons = explain(ev, "行政处罚法:36", {"facts": 1.0})
    assert reasons[0].signal == "facts" and "时效" in reasons[0].detail


def test_every_hit_says_why_and_the_contributions_add_up(kb: KnowledgeBase) -> None:
    hits = kb.search_statutes(ADMIN_FACTS, k=5, facts={"document": "处罚决定"})
    for hit in hits:
        assert hit.why, hit.id
        assert sum(r.contribution for r in hit.why) == pytest.approx(hit.score, rel=1e-6)
        for reason in hit.why:
            if reason.signal == "text":
                assert reason.passage and reason.passage in hit.text
                assert "条文检索第" in reason.detail
        row = hit.to_dict()
        assert row["route"] == ADMINISTRATIVE and row["why"][0]["detail"]


@pytest.mark.parametrize(
    ("facts", "code"),
    [
        ({"weather": "sunny"}, "unknown_fact"),
        ({"act_date": "2024-13-01"}, "invalid_fact_date"),
        ({"document": "判决书"}, "invalid_fact_document"),
        ({"taxes": "增值税"}, "invalid_fact_taxes"),
    ],
)
def test_bad_facts_are_a_4xx_naming_the_field(
    kb: KnowledgeBase, facts: dict[str, object], code: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        kb.search_statutes(ADMIN_FACTS, k=3, facts=facts)
    assert err.value.code == code


def test_unknown_kind_is_refused(kb: KnowledgeBase) -> None:
    with pytest.raises(InvalidInput) as err:
        kb.search_statutes(ADMIN_FACTS, k=3, kind="civil")
    assert err.value.code == "unknown_facts_kind"

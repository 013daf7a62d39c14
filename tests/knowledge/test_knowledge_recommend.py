"""The live statute recommender (signals, provenance, version in force), case filters and
highlighting, on a small index of the demo corpus plus project-written decisions/bulletins."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from assistant.errors import InvalidInput
from assistant.knowledge import HashingEmbedder, KnowledgeBase
from assistant.knowledge.cases_corpus import load_cases, regions_in
from assistant.knowledge.highlight import MARK_CLOSE, MARK_OPEN, highlight, query_terms
from assistant.knowledge.recommend import (
    DEFAULT_WEIGHTS,
    Evidence,
    StatuteRecommender,
    basis_ranking,
    fuse_basis,
    taxes_named,
)
from assistant.knowledge.search import check_filters
from tests.conftest import DEMO_CORPUS

# Project-written lines in the published formats (not copied from the real corpora).
BULLETIN = {
    "title": "示例通报：某公司私户收款偷税案",
    "url": "http://example.invalid/bulletin/1",
    "publish_date": "2024-05-01",
    "content_text": "国家税务总局云南省税务局稽查局依法查处某公司偷税案件。经查，该公司通过个人账户"
    "收取货款，少缴增值税10万元。稽查局依据《中华人民共和国税收征收管理法》第六十三条，"
    "对其追缴税款并处罚款。",
}
DECISION = {
    "doc_type_detected": "税务处理决定书",
    "doc_number_detected": "示税稽处〔2024〕1号",
    "party": "示例贸易有限公司",
    "province": "浙江省",
    "text": "税务处理决定书\n一、违法事实\n你公司2022年1月至12月取得收入未申报，少缴增值税。"
    "\n二、处理决定\n依据《中华人民共和国税收征收管理法》第三十二条，加收滞纳金；依据《中华人民"
    "共和国税收征收管理法》第四十条，逾期强制执行。",
}


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    root = tmp_path_factory.mktemp("rec")
    corpus = root / "corpus"
    shutil.copytree(DEMO_CORPUS / "statutes", corpus / "statutes")
    shutil.copytree(DEMO_CORPUS / "cases", corpus / "cases")
    with (corpus / "cases" / "bulletins.jsonl").open("w", encoding="utf-8") as fh:
        fh.write(json.dumps(BULLETIN, ensure_ascii=False) + "\n")
    (corpus / "decisions").mkdir()
    (corpus / "decisions" / "fulltext.jsonl").write_text(
        json.dumps(DECISION, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return KnowledgeBase.build([corpus], root / "index", HashingEmbedder(dim=256))


# -- recommender ----------------------------------------------------------------------------------
def test_recommender_uses_the_version_in_force(kb: KnowledgeBase) -> None:
    facts = "该公司为他人虚开增值税普通发票50份，金额80万元"
    old = kb.search_statutes(
        facts, k=10, on=date(2021, 6, 1), violation_type="invoice_false_issuing"
    )
    new = kb.search_statutes(
        facts, k=10, on=date(2024, 6, 1), violation_type="invoice_false_issuing"
    )
    # the taxonomy's prohibition and penalty articles: 第二十二、三十七条 of the 2019 text,
    # 第二十一、三十五条 of the 2023 text
    basis = {
        (h.id, h.version_date) for h in old if "taxonomy:invoice_false_issuing" in h.provenance
    }
    assert basis == {("发票管理办法:22", date(2019, 3, 2)), ("发票管理办法:37", date(2019, 3, 2))}
    basis = {
        (h.id, h.version_date) for h in new if "taxonomy:invoice_false_issuing" in h.provenance
    }
    assert basis == {
        ("发票管理办法:21", date(2023, 7, 20)),
        ("发票管理办法:35", date(2023, 7, 20)),
    }
    for hits, version in ((old, date(2019, 3, 2)), (new, date(2023, 7, 20))):
        assert all(h.version_date == version for h in hits if h.law == "发票管理办法")


def test_every_hit_says_why_it_is_there(kb: KnowledgeBase) -> None:
    facts = "公司通过个人账户收取货款，账簿少列收入，少缴增值税"
    hits = kb.search_statutes(facts, k=10, violation_type="tax_evasion")
    assert hits and all(h.provenance for h in hits)
    kinds = {p.split(":")[0] for h in hits for p in h.provenance}
    assert {"text", "similar_case", "taxonomy"} <= kinds
    evasion = hits[0]
    # the stated violation type's legal basis comes first; a similar (demo) case cites it too
    assert evasion.id == "税收征收管理法:63" and "taxonomy:tax_evasion" in evasion.provenance
    assert any(p.startswith("similar_case:") for p in evasion.provenance)
    assert evasion.signals and set(evasion.signals) <= set(DEFAULT_WEIGHTS)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    # a predicted type's legal basis has weight 0 (cross-validated): no taxonomy provenance
    assert DEFAULT_WEIGHTS["taxonomy"] == 0.0
    plain = kb.search_statutes(facts, k=10)
    assert not any(p.startswith("taxonomy:") for h in plain for p in h.provenance)


def test_issued_decisions_vote_as_cases(kb: KnowledgeBase) -> None:
    decision = next(c for c in kb.cases if c.doc_type == "decision")
    assert decision.id == "decision:示税稽处〔2024〕1号" and decision.region == ("浙江省",)
    hits = kb.search_statutes("你公司取得收入未申报，少缴增值税", k=10)
    surcharge = next(h for h in hits if h.id == "税收征收管理法:32")
    assert f"similar_case:{decision.id}" in surcharge.provenance


def test_law_filter_and_bad_inputs(kb: KnowledgeBase) -> None:
    hits = kb.search_statutes("逾期申报", k=5, law="税收征收管理法")
    assert hits and all(h.law == "税收征收管理法" for h in hits)
    with pytest.raises(InvalidInput) as exc:
        kb.search_statutes("逾期申报", law="道路交通安全法")
    assert exc.value.code == "unknown_law"
    with pytest.raises(InvalidInput) as exc:
        kb.search_statutes("逾期申报", on=date(1980, 1, 1))
    assert exc.value.code == "date_before_statutes"
    for k in (0, -3, 10_000):
        with pytest.raises(InvalidInput) as exc:
            kb.search_statutes("逾期申报", k=k)
        assert exc.value.code == "invalid_k"
    with pytest.raises(InvalidInput) as exc:
        kb.search_statutes("逾" * 1_000_000)
    assert exc.value.code == "query_too_long"
    with pytest.raises(InvalidInput) as exc:
        check_filters({"colour": "red", "law": None}, frozenset({"law"}), "法条检索")
    assert exc.value.code == "unknown_filter" and exc.value.details["filter"] == "colour"


def test_criminal_facts_get_no_taxonomy_and_weights_switch_signals_off(
    kb: KnowledgeBase,
) -> None:
    rec = StatuteRecommender(kb.statutes, kb.cases)
    facts = "被告人为他人虚开增值税专用发票"
    ev = rec.evidence(
        facts, on=None, article_ranking=["刑法:205"], case_similarity=[], criminal=True
    )
    assert "taxonomy" not in ev.votes and "tax_type" not in ev.votes
    only_text = rec.rank(ev, k=5, weights={"text": 1.0})
    assert [r.article.id for r in only_text] == ["刑法:205"]
    assert only_text[0].provenance == ("text",)


def test_evidence_ranking_is_a_weighted_sum() -> None:
    ev = Evidence(on=None)
    ev.add("text", "a:1", 1.0, "text")
    ev.add("decisions", "a:2", 1.0, "similar_case:x")
    assert ev.ranked({"text": 1.0, "decisions": 0.5}) == ["a:1", "a:2"]
    assert ev.ranked({"text": 0.5, "decisions": 1.0}) == ["a:2", "a:1"]


def test_basis_ranking_prefers_cases_on_the_neighbours_legal_basis() -> None:
    cited = [
        ("税收征收管理法:63:1",),  # 0: nearest by text
        ("税收征收管理法:63",),  # 1
        ("发票管理办法:21",),  # 2: far by text, another basis
        (),  # 3: cites nothing: no basis score
        ("税收征收管理法:63", "发票管理办法:21"),  # 4: half on the neighbours' basis
    ]
    text = [0, 1, 3, 4, 2]
    ranked = basis_ranking(text, cited, neighbours=2)
    assert [i for i, _ in ranked] == [0, 1, 4]  # 2 shares nothing with the neighbours
    assert ranked[0][1] == pytest.approx(1.0) and ranked[2][1] == pytest.approx(0.5)
    assert basis_ranking(text, [()] * 5) == []


def test_fuse_basis_moves_cases_by_legal_basis_and_spares_uncited_ones() -> None:
    cited = [
        ("税收征收管理法:63",),  # 0
        ("税收征收管理法:63",),  # 1
        (),  # 2: cites nothing (most bulletins): basis unknown
        ("发票管理办法:21",),  # 3: another basis
        ("税收征收管理法:63",),  # 4: on the basis, far by text
    ]
    fused = [i for i, _ in fuse_basis([2, 0, 3, 1, 4], cited, neighbours=2)]
    assert fused[0] == 2  # first by text, nothing known against it: stays first
    assert fused.index(4) < fused.index(3)  # on-basis overtakes off-basis
    assert fused[-1] == 3


def test_taxes_named_only_when_assessed() -> None:
    assert taxes_named("为他人虚开增值税专用发票10份") == []
    assert taxes_named("少缴增值税、企业所得税共计10万元") == ["增值税", "企业所得税"]


# -- cases: filters --------------------------------------------------------------------------------
def test_case_filters(kb: KnowledgeBase) -> None:
    query = "通过个人账户收取货款少缴增值税"
    assert {h.doc_type for h in kb.search_cases(query, k=20)} >= {"taxassist", "bulletin"}
    bulletins = kb.search_cases(query, k=5, doc_type="bulletin")
    assert [h.doc_type for h in bulletins] == ["bulletin"]
    assert bulletins[0].region == ("云南省",)
    assert [h.id for h in kb.search_cases(query, k=5, region="云南")] == [bulletins[0].id]
    assert kb.search_cases(query, k=5, region="西藏") == []
    demo = kb.search_cases(query, k=3, doc_type="taxassist", violation_type="tax_evasion")
    assert demo and all(
        h.id.startswith("demo:") and h.violation_type == "tax_evasion" for h in demo
    )
    with pytest.raises(InvalidInput) as exc:
        kb.search_cases(query, doc_type="memo")
    assert exc.value.code == "unknown_doc_type"


def test_case_search_adds_the_legal_basis_to_text_similarity(kb: KnowledgeBase) -> None:
    from assistant.knowledge.search import CASE_RANKING

    query = "通过个人账户收取货款少缴增值税"
    text = kb.case_ranking(query, "hybrid")
    combined = kb.case_ranking(query, CASE_RANKING)
    assert CASE_RANKING == "hybrid+basis"
    assert {i for i, _ in combined} == {i for i, _ in text}  # re-ranked, nothing lost
    before = [i for i, _ in text]
    assert basis_ranking(before, [c.statutes for c in kb.cases])  # demo cases cite their basis
    assert combined == fuse_basis(before, [c.statutes for c in kb.cases])


def test_regions_from_authority_names() -> None:
    text = "国家税务总局鄂尔多斯市税务局第二稽查局依法查处；国家税务总局云南省税务局通报"
    assert regions_in(text) == ("鄂尔多斯市", "云南省")
    assert regions_in("某公司偷税案") == ()
    # bulletin prose before a division is not part of the place; a district keeps its city
    prose = (
        "国家税务总局坚决支持辽宁省税务局；国家税务总局重庆市荣昌区税务局；"
        "国家税务总局苏州工业园区税务局"
    )
    assert regions_in(prose) == ("辽宁省", "重庆市荣昌区", "苏州工业园区")


def test_demo_cases_have_doc_type(tmp_path: Path) -> None:
    cases = load_cases([DEMO_CORPUS])
    assert cases and all(c.doc_type == "taxassist" for c in cases)


# -- highlighting ---------------------------------------------------------------------------------
def test_highlight_offsets_point_at_the_matched_text(kb: KnowledgeBase) -> None:
    query = "纳税人未按照规定期限办理纳税申报"
    hit = kb.search_statutes(query, k=3, violation_type="late_filing")[0]
    assert hit.id == "税收征收管理法:62" and hit.highlight is not None
    hl = hit.highlight
    assert hit.text[hl.start : hl.end] == hl.passage
    assert hl.marked.replace(MARK_OPEN, "").replace(MARK_CLOSE, "") == hl.passage
    terms = query_terms(query)
    for a, b in hl.terms:
        assert hl.start <= a < b <= hl.end
        assert any(hit.text[a:b].find(t) != -1 or t.find(hit.text[a:b]) != -1 for t in terms)
    assert "纳税申报" in "".join(hit.text[a:b] for a, b in hl.terms)
    case = kb.search_cases(query, k=1)[0]
    assert case.highlight is not None
    full = next(c for c in kb.cases if c.id == case.id).text
    assert full[case.highlight.start : case.highlight.end] == case.highlight.passage


def test_highlight_picks_the_best_paragraph() -> None:
    text = "第一款讲登记。\n纳税人未按照规定期限办理纳税申报的，处罚款。\n第三款讲其他。"
    hl = highlight(text, query_terms("未按照规定期限办理纳税申报"), by="paragraph")
    assert hl is not None and hl.passage.startswith("纳税人未按照规定期限")
    assert hl.start == text.index("纳税人")
    assert highlight(text, ["虚开"], by="paragraph") is None

"""Evaluation metrics, query construction from real decisions, and the embedding cache."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from assistant.knowledge import KnowledgeBase
from assistant.knowledge.citations import parse_citations
from assistant.knowledge.embcache import CachedEmbedder
from assistant.knowledge.embeddings import HashingEmbedder
from assistant.knowledge.evaluation import (
    StatuteQuery,
    article_level,
    case_label,
    case_sample,
    decision_queries,
    facts_section,
    graded_ndcg,
    labelled_cases,
    leave_one_out,
    ndcg_at,
    recall_at,
    reciprocal_rank,
    strip_citations,
)
from assistant.knowledge.statutes import StatuteBook
from tests.conftest import DEMO_CORPUS, SHARED_CORPORA, requires_shared


class CountingHashing(HashingEmbedder):
    """The real hashing embedder, counting the texts it is asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += len(texts)
        return super().embed_passages(texts)


def test_metrics() -> None:
    gold = frozenset({"a", "b"})
    assert recall_at(["x", "a", "y", "b"], gold, 2) == 0.5
    assert recall_at(["x", "a", "y", "b"], gold, 4) == 1.0
    assert reciprocal_rank(["x", "y", "b"], gold) == pytest.approx(1 / 3)
    assert reciprocal_rank(["x"], gold) == 0.0
    assert ndcg_at([True, True], 2) == pytest.approx(1.0)
    expected = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert ndcg_at([False, True], 2) == pytest.approx(expected)
    assert ndcg_at([False], 0) == 0.0


def test_strip_citations_and_facts() -> None:
    text = (
        "一、违法事实\n你公司虚开发票，违反了《中华人民共和国发票\n管理办法》第二十二条第二款的规定。"
        "二、处罚决定\n根据《中华人民共和国税收征收管理法》第六十三条，处以罚款。"
    )
    facts = facts_section(text)
    assert facts.startswith("违法事实") and "罚款" not in facts
    stripped = strip_citations(facts)
    assert parse_citations(stripped) == []
    assert "第二十二条" not in stripped and "虚开发票" in stripped
    assert article_level("税收征收管理法:63:1@2015-04-24") == "税收征收管理法:63"


def test_cache_embeds_each_text_once(tmp_path: Path) -> None:
    inner = CountingHashing()
    emb = CachedEmbedder(inner, tmp_path)
    first = emb.embed_passages(["甲", "乙", "甲"])
    assert inner.calls == 2  # duplicates embedded once
    again = CachedEmbedder(inner, tmp_path).embed_passages(["乙", "甲", "丙"])  # a "restart"
    assert inner.calls == 3  # only 丙 is new
    np.testing.assert_allclose(again[0], first[1])
    np.testing.assert_allclose(again[1], first[0])


def test_rebuild_with_cache_does_not_reembed(tmp_path: Path) -> None:
    inner = CountingHashing()
    kb1 = KnowledgeBase.build([DEMO_CORPUS], tmp_path / "i1", inner, cache_dir=tmp_path / "c")
    first = inner.calls
    assert first > 0
    kb = KnowledgeBase.build([DEMO_CORPUS], tmp_path / "i2", inner, cache_dir=tmp_path / "c")
    assert inner.calls == first
    query = "纳税人逾期未办理纳税申报"
    assert kb.search_statutes(query, k=5) == kb1.search_statutes(query, k=5)


@requires_shared
def test_decision_queries_from_real_decisions() -> None:
    book = StatuteBook.load([DEMO_CORPUS, SHARED_CORPORA])
    queries = decision_queries(SHARED_CORPORA, book)
    assert len(queries) >= 15
    for q in queries:
        assert q.gold and parse_citations(q.text) == []
        for sid in q.gold:
            book.get(sid)  # every gold article exists in the book
    # invoice decisions on 2019-version facts cite the 2019 article numbers
    assert any("发票管理办法:22" in q.gold for q in queries)
    # a record's notice of service by publication (实施细则第一百零六条) is not what it decided
    assert not any(book.get(sid).chapter == "第八章 文书送达" for q in queries for sid in q.gold)


def test_case_sample_is_deterministic() -> None:
    from assistant.knowledge.cases_corpus import load_cases

    cases = load_cases([DEMO_CORPUS])
    a, b = case_sample(cases, 5), case_sample(list(reversed(cases)), 5)
    assert [c.id for c in a] == [c.id for c in b]
    assert all(c.violation_type for c in a)


# -- cross-validation and graded case labels ------------------------------------------------------
class _FixedRankings:
    """Rankings that depend only on which signal is switched on (enough to test the CV loop)."""

    def ranking(self, q: StatuteQuery, method: str, weights: dict[str, float]) -> list[str]:
        return ["law:1", "law:2"] if weights.get("text") else ["law:2", "law:1"]


def test_leave_one_out_never_tunes_on_the_held_out_query() -> None:
    # two queries want "law:1" first (text on), one wants "law:2" first (text off)
    queries = [
        StatuteQuery(id=f"q{i}", text="", on=None, gold=frozenset({g}), source="decision")
        for i, g in enumerate(["law:1", "law:1", "law:2"])
    ]
    grid = [{"text": 1.0}, {"decisions": 1.0}]
    held, chosen = leave_one_out(_FixedRankings(), queries, "bm25", grid)  # type: ignore[arg-type]
    assert chosen == [{"text": 1.0}, {"text": 1.0}, {"text": 1.0}]
    # q2 alone prefers law:2, but its weights come from q0 and q1: its held-out rank is 2
    assert [reciprocal_rank(r, q.gold) for r, q in zip(held, queries, strict=True)] == [1, 1, 0.5]


def test_ceiling_puts_every_proposed_gold_article_first() -> None:
    from assistant.knowledge.evaluation import StatuteSignals
    from assistant.knowledge.recommend import Evidence

    class Proposed(StatuteSignals):
        def evidence(self, q: StatuteQuery, method: str) -> Evidence:
            ev = Evidence(on=None)
            ev.add("text", "law:9", 1.0, "text")
            ev.add("text", "law:2", 0.1, "text")
            ev.add("decisions", "law:1", 0.2, "similar_case:x")
            ev.add("decisions", "law:5", 0.9, "similar_case:x")  # not in force: never ranked
            return ev

        def valid(self, on: date | None) -> frozenset[str]:
            return frozenset({"law:1", "law:2", "law:9"})

    signals = Proposed(book=StatuteBook([]), cases=[], embedders={})
    q = StatuteQuery(
        id="q",
        text="",
        on=None,
        gold=frozenset({"law:1", "law:2", "law:5", "law:7"}),
        source="decision",
    )
    ranked = signals.ceiling(q, "bm25")
    assert ranked == ["law:1", "law:2", "law:9"]
    # law:5 (not in force) and law:7 (proposed by no signal) bound Recall@10 at 2/4
    assert recall_at(ranked, q.gold, 10) == 0.5


def test_sign_test() -> None:
    from assistant.knowledge.evaluation import sign_test

    assert sign_test([1, 0, 0.5], [1, 0, 0.5]) == 1.0  # all tied
    assert sign_test([1, 0], [0, 1]) == 1.0
    assert sign_test([1] * 6, [0] * 6) == pytest.approx(2 / 64)  # 6 wins, 0 losses
    assert sign_test([1] * 5 + [0], [0] * 5 + [1]) == pytest.approx(2 * 7 / 64)


def test_select_default_breaks_statistical_ties_by_article_search() -> None:
    from assistant.knowledge.evaluation import select_default

    def held(method: str, per_query: list[float]) -> dict[str, object]:
        return {
            "task": "statutes",
            "set": "decision",
            "method": f"combined:{method} (LOO-CV)",
            "recall@10": sum(per_query) / len(per_query),
            "per_query_recall@10": per_query,
        }

    def plain(task: str, case_set: str, method: str, key: str, value: float) -> dict[str, object]:
        return {"task": task, "set": case_set, "method": method, key: value}

    rows = [
        held("bm25", [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]),  # best mean by one query
        held("hybrid:a", [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]),  # not separable from it
        held("hybrid:b", [0] * 10),  # loses 3 queries of 3: p = 0.25, still tied
        plain("statutes", "cail", "bm25", "recall@10", 0.4),
        plain("statutes", "cail", "hybrid:a", "recall@10", 0.9),
        plain("statutes", "cail", "hybrid:b", "recall@10", 0.8),
        plain("cases", "all-300", "hybrid:a+basis", "ndcg@10", 0.9),
        held("hybrid:a without text", [0] * 10),  # ablations never compete
    ]
    chosen = select_default(rows)
    assert chosen["top_by_recall"] == "bm25"
    assert chosen["chosen"] == "hybrid:a" and chosen["case_ranking"] == "hybrid:a+basis"
    assert {c["method"] for c in chosen["candidates"]} == {"bm25", "hybrid:a", "hybrid:b"}
    # a clear loser (worse on 8 of 8 queries) is not tied and cannot win on article search
    rows[2] = held("hybrid:b", [0] * 10)
    rows[0] = held("bm25", [1] * 8 + [0, 0])
    rows[1] = held("hybrid:a", [1] * 8 + [0, 0])
    rows[5] = plain("statutes", "cail", "hybrid:b", "recall@10", 1.0)
    assert select_default(rows)["chosen"] == "hybrid:a"


def test_graded_ndcg() -> None:
    assert graded_ndcg([2, 1, 0], [2, 1, 0, 0]) == pytest.approx(1.0)
    worse = graded_ndcg([1, 2, 0], [2, 1, 0, 0])
    assert 0 < worse < 1
    assert graded_ndcg([0, 0], [0, 0]) == 0.0


def test_case_label_comes_from_the_cited_penalty_article() -> None:
    from assistant.knowledge.cases_corpus import CaseDoc

    def case(statutes: tuple[str, ...], day: date | None = None) -> CaseDoc:
        return CaseDoc("x", "t", "偷税", None, "", "s", day, statutes)

    assert case_label(case(("税收征收管理法:32", "税收征收管理法:63:1"))) == "tax_evasion"
    assert case_label(case(("刑法:205",))) == "invoice_false_issuing"
    # 发票管理办法 was renumbered in 2023: 第三十五条 is misuse before, false issuing after
    assert case_label(case(("发票管理办法:35",), date(2021, 1, 1))) == "invoice_misuse"
    assert case_label(case(("发票管理办法:35",), date(2024, 1, 1))) == "invoice_false_issuing"
    assert case_label(case(("税收征收管理法:32",))) is None


@requires_shared
def test_real_decisions_are_left_out_of_their_own_evidence() -> None:
    from assistant.knowledge.cases_corpus import load_cases

    book = StatuteBook.load([DEMO_CORPUS, SHARED_CORPORA])
    cases = load_cases([DEMO_CORPUS, SHARED_CORPORA])
    ids = {c.id for c in cases}
    queries = decision_queries(SHARED_CORPORA, book)
    # every query's own document is in the case pool under the id the evaluation leaves out
    assert all(q.case_id in ids for q in queries)
    labelled = labelled_cases(cases, None)
    assert len(labelled) >= 100
    assert {lab for _, lab in labelled} >= {"tax_evasion", "invoice_false_issuing"}

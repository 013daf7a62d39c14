"""BM25 through bm25s: the same scores as the Okapi formula computed by hand, same tokenization."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from assistant.knowledge.bm25 import BM25, tokenize

DOCS = [
    "纳税人未按照规定期限缴纳税款的，税务机关除责令限期缴纳外，从滞纳税款之日起按日加收滞纳税款万分之五的滞纳金。",
    "扣缴义务人应扣未扣、应收而不收税款的，由税务机关向纳税人追缴税款，对扣缴义务人处应扣未扣税款百分之五十以上三倍以下的罚款。",
    "违反税收法律、行政法规应当给予行政处罚的行为，在五年内未被发现的，不再给予行政处罚。",
    "任何单位和个人不得有下列虚开发票行为：为他人、为自己开具与实际经营业务情况不符的发票。",
    "纳税人伪造、变造、隐匿、擅自销毁账簿、记账凭证，是偷税。",
]


def okapi(docs: list[list[str]], query: list[str], k1: float = 1.5, b: float = 0.75) -> list[float]:
    """The textbook formula (Lucene idf), written out independently of the module."""
    n = len(docs)
    avgdl = sum(len(d) for d in docs) / n
    df = Counter(t for d in docs for t in set(d))
    out = []
    for d in docs:
        tf = Counter(d)
        s = 0.0
        for t in set(query):
            if tf[t]:
                idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
                s += idf * tf[t] * (k1 + 1) / (tf[t] + k1 * (1 - b + b * len(d) / avgdl))
        out.append(s)
    return out


@pytest.mark.parametrize(
    "query", ["扣缴义务人应扣未扣税款", "五年内未被发现 行政处罚", "虚开发票 虚开发票 纳税人"]
)
def test_scores_match_the_okapi_formula(query: str) -> None:
    docs = [tokenize(d) for d in DOCS]
    got = BM25(docs).scores(tokenize(query))
    want = okapi(docs, tokenize(query))
    assert np.allclose(got, want, rtol=1e-4, atol=1e-5)
    assert int(np.argmax(got)) == int(np.argmax(want))


def test_top_ranks_the_matching_article_first_and_drops_zero_scores() -> None:
    index = BM25.from_texts(DOCS)
    top = index.top("扣缴义务人应扣未扣", 5)
    assert top[0][0] == 1
    assert all(score > 0 for _, score in top)
    assert index.top("量子计算", 5) == []  # no term in the vocabulary: nothing, no error


def test_empty_corpus_and_empty_query() -> None:
    assert BM25([]).top("纳税", 3) == []
    assert BM25.from_texts(DOCS).scores([]).tolist() == [0.0] * len(DOCS)


def test_tokenize_drops_punctuation_and_function_words() -> None:
    tokens = tokenize("纳税人的税款，应当按照规定缴纳。")
    assert "的" not in tokens and "，" not in tokens and "应当" not in tokens
    assert "纳税人" in tokens and "税款" in tokens

"""Okapi BM25 over jieba tokens (bm25s): the lexical half of hybrid statute retrieval.

Dense retrieval misses exact legal terms (扣缴义务人, 税控装置); BM25 catches them. Scoring is
the maintained `bm25s` library (Lucene idf, sparse term-document matrix); this module keeps the
project's tokenization (jieba search mode, legal function words dropped), which bm25s's own
English-oriented tokenizer would not give.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import bm25s
import numpy as np

_DROP = re.compile(r"^[\W_]+$")
_STOPWORDS = frozenset(
    [
        "的",
        "了",
        "和",
        "或",
        "与",
        "及",
        "或者",
        "以及",
        "在",
        "对",
        "由",
        "其",
        "是",
        "为",
        "被",
        "将",
        "并",
        "应当",
        "按照",
        "规定",
        "有关",
        "等",
    ]
)


def tokenize(text: str) -> list[str]:
    """jieba search-mode tokens without punctuation and function words."""
    import jieba

    jieba.setLogLevel(60)
    return [
        tok
        for tok in (t.strip() for t in jieba.cut_for_search(text))
        if tok and not _DROP.match(tok) and tok not in _STOPWORDS
    ]


class BM25:
    """BM25 (k1, b as in Robertson/Zaragoza, Lucene idf) over pre-tokenized documents.

    Scores are bm25s's Lucene variant times (k1 + 1): the classic Okapi form, so scores keep the
    scale of the earlier numpy implementation (rankings are the same either way). A query term
    counts once, however often it is repeated.
    """

    def __init__(self, documents: Sequence[Sequence[str]], *, k1: float = 1.5, b: float = 0.75):
        self.k1 = k1
        self.b = b
        self.n_docs = len(documents)
        self._engine: bm25s.BM25 | None = None
        if self.n_docs and any(documents):
            engine = bm25s.BM25(method="lucene", k1=k1, b=b)
            engine.index([list(d) for d in documents], show_progress=False)
            self._engine = engine

    @classmethod
    def from_texts(cls, texts: Sequence[str], **kwargs: float) -> BM25:
        return cls([tokenize(t) for t in texts], **kwargs)

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """One score per document (0 where no query term occurs)."""
        if self._engine is None:
            return np.zeros(self.n_docs, dtype=np.float32)
        vocab = self._engine.vocab_dict
        ids = sorted({vocab[t] for t in query_tokens if t and t in vocab})
        if not ids:
            return np.zeros(self.n_docs, dtype=np.float32)
        raw = self._engine.get_scores_from_ids(ids)
        return (np.asarray(raw, dtype=np.float32) * (self.k1 + 1)).astype(np.float32)

    def top(self, query: str, k: int) -> list[tuple[int, float]]:
        """(document index, score) of the k best documents with a positive score."""
        scores = self.scores(tokenize(query))
        if k <= 0 or not self.n_docs:
            return []
        k = min(k, self.n_docs)
        idx = np.argpartition(-scores, k - 1)[:k]
        idx = idx[np.argsort(-scores[idx], kind="stable")]
        return [(int(i), float(scores[i])) for i in idx if scores[i] > 0]

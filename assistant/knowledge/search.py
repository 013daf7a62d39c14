"""Statute and similar-case retrieval: FAISS dense search fused with BM25, built once, loaded fast.

`build` embeds everything and saves two indexes plus a manifest; `load` reads them back without
touching the embedder for passages (only queries are embedded at search time).

Statutes are recommended by `recommend.StatuteRecommender` (article search + taxonomy legal
basis + what similar cases and issued decisions cite + the taxes named), each result with its
provenance; cases by hybrid search (dense + BM25, reciprocal rank fusion). Both carry the
matched passage (`highlight.highlight`) so the officer sees why a result is there.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import Conflict, InvalidInput, NotFound
from assistant.knowledge.bm25 import BM25, tokenize
from assistant.knowledge.case_fields import NO_AMOUNTS, CaseAmounts
from assistant.knowledge.cases_corpus import (
    DB_CASE_PREFIX,
    DOC_TYPES,
    INGESTION_VERSION,
    CaseDoc,
    load_cases,
)
from assistant.knowledge.embeddings import Embedder, model_id
from assistant.knowledge.facts import CRIMINAL, FACTS_KINDS, CaseFacts, facts_kind
from assistant.knowledge.highlight import Highlight, highlight, query_terms
from assistant.knowledge.index import IndexParams, VectorIndex, atomic_write
from assistant.knowledge.recommend import Reason, StatuteRecommender, fuse, fuse_basis
from assistant.knowledge.statutes import EFFECTIVE_DATES_FILE, Article, StatuteBook

MANIFEST = "manifest.json"
STATUTE_INDEX = "statutes"
CASE_INDEX = "cases"
MAX_QUERY_CHARS = 10_000
MAX_K = 100
RRF_K = 60
STATUTE_PASSAGE_CHARS = 400
CASE_PASSAGE_CHARS = 256
#: How similar cases are ranked: "hybrid+basis" (dense + BM25 fused with the legal basis the
#: ten nearest cases cite, recommend.basis_ranking), "hybrid" (dense + BM25, RRF), "dense" or
#: "bm25" — the best measured on graded relevance labels (docs/benchmarks.md,
#: `taxassist eval retrieval`). The statute recommender's neighbours stay "hybrid": text only.
CASE_RANKING = "hybrid+basis"
CASE_RANKINGS = frozenset({"bm25", "dense", "hybrid", "hybrid+basis"})
#: Filters each search accepts (anything else: 422 unknown_filter).
STATUTE_FILTERS = frozenset({"law", "date", "violation_type", "facts", "kind"})
CASE_FILTERS = frozenset({"violation_type", "region", "doc_type"})


@dataclass(frozen=True)
class StatuteHit:
    id: str
    law: str
    article: int
    title: str
    text: str
    score: float
    version_date: date
    provenance: tuple[str, ...] = ()  # "text", "taxonomy:<code>", "similar_case:<id>", …
    signals: dict[str, float] | None = None  # per-signal score that put it there
    highlight: Highlight | None = None  # the 款 that matched the query best
    route: str = "administrative"  # the facts' kind (facts.FACTS_KINDS)
    why: tuple[Reason, ...] = ()  # each signal behind it, strongest first (recommend.explain)

    def to_dict(self) -> dict[str, Any]:
        """The API/CLI shape: id, law, article, title, text, score + version and provenance,
        route and why."""
        return {
            "id": self.id,
            "law": self.law,
            "article": self.article,
            "title": self.title,
            "text": self.text,
            "score": round(self.score, 6),
            "version_date": self.version_date.isoformat(),
            "provenance": list(self.provenance),
            "signals": dict(self.signals or {}),
            "highlight": self.highlight.to_dict() if self.highlight else None,
            "route": self.route,
            "why": [r.to_dict() for r in self.why],
        }


@dataclass(frozen=True)
class CaseHit:
    id: str
    title: str
    violation_type: str | None
    outcome: str
    score: float
    statutes: tuple[str, ...]
    doc_type: str = "taxassist"
    region: tuple[str, ...] = ()
    highlight: Highlight | None = None  # the sentence that matched the query best
    authority: str = ""  # the issuing tax authority / court (CaseDoc.authority)
    amounts: CaseAmounts = NO_AMOUNTS  # tax evaded, 罚款, multiple, 罚金 (CaseDoc.amounts)

    def to_dict(self) -> dict[str, Any]:
        """The API/CLI shape: id, title, violation_type, outcome, score + metadata, passage."""
        return {
            "id": self.id,
            "title": self.title,
            "violation_type": self.violation_type,
            "outcome": self.outcome,
            "score": round(self.score, 6),
            "statutes": list(self.statutes),
            "doc_type": self.doc_type,
            "region": list(self.region),
            "highlight": self.highlight.to_dict() if self.highlight else None,
            "authority": self.authority,
            "amounts": self.amounts.to_dict(),
        }


def corpus_files(corpus_dirs: Sequence[Path]) -> list[tuple[int, Path]]:
    """The files an index depends on, with the position of their corpus dir."""
    out: list[tuple[int, Path]] = []
    for pos, corpus in enumerate(corpus_dirs):
        base = Path(corpus)
        statutes = base / "statutes"
        files = sorted(statutes.glob("*.md")) if statutes.is_dir() else []
        if (statutes / EFFECTIVE_DATES_FILE).is_file():
            files.append(statutes / EFFECTIVE_DATES_FILE)
        cases = base / "cases"
        files += sorted(cases.glob("*.jsonl")) if cases.is_dir() else []
        decisions = base / "decisions"
        files += [
            decisions / name
            for name in ("fulltext.jsonl", "records.jsonl")
            if (decisions / name).is_file()
        ]
        out += [(pos, f) for f in files]
    return out


def corpus_fingerprint(corpus_dirs: Sequence[Path]) -> str:
    """sha256 over (dir position, relative name, size, mtime) of every corpus file."""
    digest = hashlib.sha256(f"ingestion {INGESTION_VERSION}\n".encode())
    for pos, path in corpus_files(corpus_dirs):
        stat = path.stat()
        rel = f"{path.parent.name}/{path.name}"
        digest.update(f"{pos}\0{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def statute_passage(article: Article) -> str:
    """Law, chapter and article label give the model context the bare text lacks."""
    head = " ".join(x for x in (article.law, article.chapter, article.label) if x)
    return f"{head}：{article.text}"[:STATUTE_PASSAGE_CHARS]


def _validate_query(text: str, k: int) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("empty_query", "检索内容不能为空，请输入案件事实或问题描述")
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidInput(
            "query_too_long",
            f"检索内容过长（{len(text)}字），请控制在{MAX_QUERY_CHARS}字以内",
            details={"length": len(text), "max": MAX_QUERY_CHARS},
        )
    if not isinstance(k, int) or isinstance(k, bool) or k <= 0 or k > MAX_K:
        raise InvalidInput(
            "invalid_k", f"返回数量 k 必须在1到{MAX_K}之间：{k}", details={"k": k, "max": MAX_K}
        )
    return text.strip()


def _validate_violation(code: str | None) -> None:
    """Any code of the violation taxonomy is a valid filter (the one registry of codes); the
    corpus classifier labels cases with a subset of them (VIOLATION_CODES), so a type no corpus
    case carries filters similar cases to none, it is not an error."""
    if code is not None:
        from assistant.taxonomy import get_violation

        get_violation(code)


def _rrf(rankings: Sequence[Sequence[str]]) -> dict[str, float]:
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            fused[key] = fused.get(key, 0.0) + 1.0 / (RRF_K + rank)
    return fused


def check_filters(filters: dict[str, Any], allowed: frozenset[str], what: str) -> None:
    """Unknown filter names -> 422 unknown_filter naming them (a typo must not be ignored)."""
    unknown = sorted(k for k, v in filters.items() if k not in allowed and v is not None)
    if unknown:
        raise InvalidInput(
            "unknown_filter",
            f"{what}不支持以下过滤条件：{'、'.join(unknown)}（可用：{'、'.join(sorted(allowed))}）",
            details={"filter": unknown[0], "unknown": unknown, "allowed": sorted(allowed)},
        )


class KnowledgeBase:
    """Statutes (all versions) and cases with their vector indexes and a BM25 over statutes."""

    def __init__(
        self,
        *,
        statutes: StatuteBook,
        cases: list[CaseDoc],
        embedder: Embedder,
        statute_index: VectorIndex,
        case_index: VectorIndex,
        manifest: dict[str, Any],
    ) -> None:
        self.statutes = statutes
        self.cases = cases
        self.embedder = embedder
        self.statute_index = statute_index
        self.case_index = case_index
        self.manifest = manifest
        #: the directory the indexes were loaded from or saved to (a published version's base)
        self.source_dir: Path | None = None
        self._articles = statutes.all_articles()
        self._by_vid = {a.versioned_id: a for a in self._articles}
        self._cases_by_id = {c.id: c for c in cases}
        self._case_pos = {c.id: i for i, c in enumerate(cases)}
        self._bm25 = BM25([tokenize(statute_passage(a)) for a in self._articles])
        self._case_bm25 = BM25([tokenize(c.passage(max_chars=CASE_PASSAGE_CHARS)) for c in cases])
        self.recommender = StatuteRecommender(statutes, cases)
        self._first_day = min(
            (
                statutes.effective_date(law, version)
                for law, versions in statutes.laws().items()
                for version in versions
            ),
            default=None,
        )

    # -- build / load ---------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        corpus_dirs: Sequence[Path],
        index_dir: Path,
        embedder: Embedder,
        *,
        cache_dir: Path | None = None,
        index_params: IndexParams | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> KnowledgeBase:
        """Parse statutes and cases, embed them, save both indexes and manifest.json.

        With `cache_dir`, passage vectors come from the content-hash cache (only new or changed
        texts are embedded), so a rebuild after a corpus change costs only the change.
        `index_params` picks exact or IVF-flat (or HNSW) per index by its size (default: exact
        below 50,000). `progress(done, total)` follows the texts sent to the model (cache misses).
        """
        params = index_params or IndexParams()
        started = time.perf_counter()
        passages: Embedder = embedder
        from assistant.knowledge.embcache import CachedEmbedder

        if cache_dir is not None:
            passages = CachedEmbedder(embedder, cache_dir)
            passages.progress = progress
        dirs = [Path(d) for d in corpus_dirs]
        fingerprint = corpus_fingerprint(dirs)
        book = StatuteBook.load(dirs)
        cases = load_cases(dirs)
        articles = book.all_articles()
        statute_index = VectorIndex(
            embedder.dim, kind=params.kind_for(len(articles)), params=params
        )
        if articles:
            statute_index.add(
                [a.versioned_id for a in articles],
                passages.embed_passages([statute_passage(a) for a in articles]),
            )
        case_index = VectorIndex(embedder.dim, kind=params.kind_for(len(cases)), params=params)
        if cases:
            case_index.add(
                [c.id for c in cases],
                passages.embed_passages([c.passage(max_chars=CASE_PASSAGE_CHARS) for c in cases]),
            )
        if isinstance(passages, CachedEmbedder):
            passages.close()  # one fold of the cache's append-only log per build
        index_dir = Path(index_dir)
        statute_index.save(index_dir, STATUTE_INDEX)
        case_index.save(index_dir, CASE_INDEX)
        manifest = {
            "format": 2,
            "embedder": embedder.name,
            "model_id": model_id(embedder),
            "dim": embedder.dim,
            "index": {STATUTE_INDEX: statute_index.kind, CASE_INDEX: case_index.kind},
            "counts": {"statutes": len(articles), "cases": len(cases)},
            "corpus_dirs": [str(d) for d in dirs],
            "fingerprint": fingerprint,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "build_seconds": round(time.perf_counter() - started, 2),
        }
        atomic_write(
            index_dir / MANIFEST,
            json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"),
        )
        kb = cls(
            statutes=book,
            cases=cases,
            embedder=embedder,
            statute_index=statute_index,
            case_index=case_index,
            manifest=manifest,
        )
        kb.source_dir = index_dir
        return kb

    @classmethod
    def load(
        cls,
        corpus_dirs: Sequence[Path],
        index_dir: Path,
        embedder: Embedder,
        *,
        mmap: bool = False,
        reuse: KnowledgeBase | None = None,
    ) -> KnowledgeBase:
        """Load saved indexes without re-embedding; the corpus texts are re-read from disk.

        `mmap`: memory-map the FAISS files (a published version that never changes).
        `reuse`: the loaded version this one replaces. When both were built from the same
        corpus files (same fingerprint) its parsed statutes and corpus cases are kept: a
        version that only added closed cases costs a replica the index files, not a re-read
        of the corpora."""
        index_dir = Path(index_dir)
        manifest_path = index_dir / MANIFEST
        if not manifest_path.is_file():
            raise NotFound(
                "index_missing",
                f"检索索引不存在（{index_dir}），请先运行 `taxassist index build`",
                details={"index_dir": str(index_dir)},
            )
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        recorded = manifest.get("model_id") or manifest.get("embedder")
        if recorded != model_id(embedder) or manifest.get("dim") != embedder.dim:
            raise Conflict(
                "index_embedder_mismatch",
                f"检索索引由向量模型 {recorded} 生成，与当前配置的 {model_id(embedder)} "
                "不一致，请重新运行 `taxassist index build`",
                details={"index": recorded, "configured": model_id(embedder)},
            )
        dirs = [Path(d) for d in corpus_dirs]
        if reuse is not None and reuse.manifest.get("fingerprint") == manifest.get("fingerprint"):
            statutes = reuse.statutes
            cases = [c for c in reuse.cases if not c.id.startswith(DB_CASE_PREFIX)]
        else:
            statutes, cases = StatuteBook.load(dirs), load_cases(dirs)
        kb = cls(
            statutes=statutes,
            cases=cases,
            embedder=embedder,
            statute_index=VectorIndex.load(index_dir, STATUTE_INDEX, mmap=mmap),
            case_index=VectorIndex.load(index_dir, CASE_INDEX, mmap=mmap),
            manifest=manifest,
        )
        kb.source_dir = index_dir
        return kb

    @staticmethod
    def is_current(corpus_dirs: Sequence[Path], index_dir: Path) -> bool:
        """True when the saved manifest was built from exactly these corpus files."""
        index_dir = Path(index_dir)
        manifest_path = index_dir / MANIFEST
        if not manifest_path.is_file():
            return False
        if not all(
            (index_dir / f"{name}{ext}").is_file()
            for name in (STATUTE_INDEX, CASE_INDEX)
            for ext in (".faiss", ".ids.json")
        ):
            return False
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return False
        return bool(
            manifest.get("fingerprint") == corpus_fingerprint([Path(d) for d in corpus_dirs])
        )

    # -- search ---------------------------------------------------------------------------
    def _in_force(self, article: Article, on: date | None) -> bool:
        return self.statutes.version_in_force(article.law, on) == article.version_date

    def _check_date(self, on: date | None) -> None:
        if on is not None and self._first_day is not None and on < self._first_day:
            raise InvalidInput(
                "date_before_statutes",
                f"日期 {on.isoformat()} 早于法规库中最早的法规版本（{self._first_day.isoformat()}"
                "起施行），无法确定当时有效的法条",
                details={"date": on.isoformat(), "earliest": self._first_day.isoformat()},
            )

    def _check_law(self, law: str | None) -> None:
        if law is not None and law not in self.statutes.laws():
            raise InvalidInput(
                "unknown_law",
                f"法规库中没有《{law}》，请使用法规简称（如 税收征收管理法）",
                details={"law": law, "laws": sorted(self.statutes.laws())},
            )

    def article_ranking(
        self, query: str, on: date | None, vector: np.ndarray | None = None
    ) -> list[str]:
        """Versioned article ids in force on `on`: dense and BM25 fused by RRF."""
        if vector is None:
            vector = self.embedder.embed_queries([query])[0]
        dense = [
            vid
            for vid, _ in self.statute_index.search(vector, max(len(self.statute_index), 1))
            if vid in self._by_vid and self._in_force(self._by_vid[vid], on)
        ]
        lexical = [
            self._articles[i].versioned_id
            for i, s in self._bm25.top(query, len(self._articles))
            if s > 0 and self._in_force(self._articles[i], on)
        ]
        fused = _rrf([dense, lexical])
        return [vid for vid, _ in sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))]

    def case_ranking(
        self, query: str, method: str = CASE_RANKING, vector: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """(position in self.cases, similarity), best first, by `method` (CASE_RANKINGS)."""
        if method == "hybrid+basis":
            text = self.case_ranking(query, "hybrid", vector)
            return fuse_basis([i for i, _ in text], [c.statutes for c in self.cases])
        rankings: list[list[tuple[int, float]]] = []
        if method in ("dense", "hybrid") and len(self.case_index):
            if vector is None:
                vector = self.embedder.embed_queries([query])[0]
            rankings.append(
                [
                    (self._case_pos[cid], score)
                    for cid, score in self.case_index.search(vector, len(self.case_index))
                    if cid in self._case_pos
                ]
            )
        if method in ("bm25", "hybrid"):
            rankings.append(
                [(i, s) for i, s in self._case_bm25.top(query, len(self.cases)) if s > 0]
            )
        if len(rankings) == 1:
            return rankings[0]
        return fuse([[i for i, _ in r] for r in rankings], depth=len(self.cases))

    def search_statutes(
        self,
        text: str,
        *,
        k: int = 10,
        on: date | None = None,
        violation_type: str | None = None,
        law: str | None = None,
        facts: CaseFacts | dict[str, Any] | None = None,
        kind: str | None = None,
        exclude: Callable[[CaseDoc], bool] | None = None,
    ) -> list[StatuteHit]:
        """Articles in force on `on` (None: latest versions) recommended for the facts `text`.

        The facts' kind routes the query (`kind`, else read from the text: facts.facts_kind):
        criminal facts reach the 刑法 and the 2024 两高解释 only, by article search and what
        similar judgments apply; administrative facts combine article search, the taxonomy's
        legal basis of `violation_type` (or of the type predicted), what similar cases and
        issued decisions cite, the taxes assessed and the structured `facts` (dates for
        limitation, taxes, role, the document drafted; what they leave open is read from the
        text). Each hit names its route, the signals behind it (`why`, with the matched 款)
        and the 款 that matched. `law` keeps one law's articles only; `exclude`: cases that
        must not vote (evaluation leaves the query's own document out).
        """
        query = _validate_query(text, k)
        _validate_violation(violation_type)
        self._check_date(on)
        self._check_law(law)
        if kind is not None and kind not in FACTS_KINDS:
            raise InvalidInput(
                "unknown_facts_kind",
                f"未知的案件类型：{kind}（可用：{'、'.join(FACTS_KINDS)}）",
                details={"kind": kind, "allowed": list(FACTS_KINDS)},
            )
        given = facts if isinstance(facts, CaseFacts) or facts is None else None
        if given is None and facts is not None:
            given = CaseFacts.from_dict(facts)  # type: ignore[arg-type]
        route = kind or facts_kind(query)
        vector = self.embedder.embed_queries([query])[0]
        evidence = self.recommender.evidence(
            query,
            on=on,
            article_ranking=self.article_ranking(query, on, vector),
            case_similarity=self.case_ranking(query, "hybrid", vector),
            violation_type=violation_type,
            criminal=route == CRIMINAL,
            exclude=exclude,
            facts=given,
        )
        terms = query_terms(query[:2000])
        hits: list[StatuteHit] = []
        for rec in self.recommender.rank(evidence, k=k, law=law):
            a = rec.article
            passage = highlight(a.text, terms, by="paragraph")
            why = tuple(
                replace(r, passage=passage.passage) if r.signal == "text" and passage else r
                for r in rec.why
            )
            hits.append(
                StatuteHit(
                    id=a.id,
                    law=a.law,
                    article=a.article,
                    title=a.title,
                    text=a.text,
                    score=rec.score,
                    version_date=a.version_date,
                    provenance=rec.provenance,
                    signals=dict(rec.signals),
                    highlight=passage,
                    route=rec.route,
                    why=why,
                )
            )
        return hits

    def search_cases(
        self,
        text: str,
        *,
        k: int = 10,
        violation_type: str | None = None,
        region: str | None = None,
        doc_type: str | None = None,
    ) -> list[CaseHit]:
        """Most similar cases (CASE_RANKING), optionally of one violation type, region (a
        province such as 云南 matches its cities' cases, a city such as 深圳市 only its own:
        assistant.knowledge.regions) and document type (bulletin/judgment/decision/taxassist)."""
        query = _validate_query(text, k)
        _validate_violation(violation_type)
        if doc_type is not None and doc_type not in DOC_TYPES:
            raise InvalidInput(
                "unknown_doc_type",
                f"未知的案例文书类型：{doc_type}（可用：{'、'.join(sorted(DOC_TYPES))}）",
                details={"doc_type": doc_type, "allowed": sorted(DOC_TYPES)},
            )
        if region is not None and not region.strip():
            raise InvalidInput("empty_region", "地区过滤条件不能为空", details={"region": region})
        terms = query_terms(query[:2000])
        hits: list[CaseHit] = []
        for i, score in self.case_ranking(query):
            case = self.cases[i]
            if violation_type is not None and case.violation_type != violation_type:
                continue
            if doc_type is not None and case.doc_type != doc_type:
                continue
            if region is not None and not case.matches_region(region.strip()):
                continue
            hits.append(
                CaseHit(
                    id=case.id,
                    title=case.title,
                    violation_type=case.violation_type,
                    outcome=case.outcome,
                    score=float(score),
                    statutes=case.statutes,
                    doc_type=case.doc_type,
                    region=case.region,
                    highlight=highlight(case.text, terms, by="sentence"),
                    authority=case.authority,
                    amounts=case.amounts,
                )
            )
            if len(hits) == k:
                break
        return hits

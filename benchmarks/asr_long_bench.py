"""Memory of a long recording through the real transcription job (bounded memory).

    python benchmarks/asr_long_bench.py [--minutes 60] [--speech-share 0.25] [--json]

Writes a long 16 kHz mono WAV (the synthetic interview `tests/fixtures/interview_zh.wav`
repeated, with silence making up the rest of each minute) to a temp dir without holding it
in memory, then in a subprocess: uploads it through `CaseWorkflow.add_recording` and runs its
job (`assistant.jobs.run_job`: windowed PyAV decoding, whisper-base per window, one commit per
segment). Reports peak RSS (`ru_maxrss`), RSS sampled every 2 s, processing time and RTF.
`--whole-decode` also measures, in its own subprocess, what decoding the whole file to 16 kHz
float32 at once holds (the pre-job path did that before recognition started).
Synthetic speech measures speed and memory only, never accuracy.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def write_long(out: Path, minutes: float, speech_share: float) -> float:
    """Interview clips and silence, written block by block (never the whole file in memory)."""
    from assistant.transcription.channels import decode_channels

    clip = (decode_channels(ROOT / "tests" / "fixtures" / "interview_zh.wav")[0] * 32767).astype(
        np.int16
    )
    gap = np.zeros(int(len(clip) * (1 - speech_share) / speech_share), dtype=np.int16)
    target = int(minutes * 60 * 16000)
    written = 0
    with wave.open(str(out), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(16000)
        while written < target:
            block = np.concatenate([clip, gap])[: target - written]
            handle.writeframes(block.tobytes())
            written += len(block)
    return written / 16000


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def job_worker(audio: Path, window_seconds: float) -> dict[str, Any]:
    """Upload and run the job in this process; RSS sampled by a thread."""
    from sqlalchemy import func, select

    from assistant.db.models import Job, TranscriptSegment
    from assistant.jobs import run_job
    from assistant.services import build_services, setup
    from tests.conftest import make_settings, queue_demo_recording

    samples: list[tuple[float, float]] = []
    done = threading.Event()
    started = time.perf_counter()

    def sample() -> None:
        while not done.wait(2.0):
            samples.append((round(time.perf_counter() - started, 1), round(_rss_mb(), 1)))

    threading.Thread(target=sample, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        services = build_services(
            # 3 h of 16 kHz 16-bit WAV is 330 MB: over the default 200 MB upload limit
            # (an MP3 of it is ~80 MB), so the limit is raised here.
            make_settings(
                Path(tmp) / "data", asr_window_seconds=window_seconds, max_upload_bytes=2**30
            )
        )
        setup(services, with_index=False)
        _, recording_id, job_id = queue_demo_recording(services, audio)
        rss_before_job = _rss_mb()
        job_started = time.perf_counter()
        status = run_job(services, job_id)
        elapsed = time.perf_counter() - job_started
        done.set()
        with services.db.session() as session:
            job = session.get(Job, job_id)
            assert job is not None
            segments = session.scalar(
                select(func.count())
                .select_from(TranscriptSegment)
                .where(TranscriptSegment.recording_id == recording_id)
            )
            result = {
                "status": status,
                "error": job.error_code,
                "audio_seconds": round(job.duration_seconds, 1),
                "segments": segments,
                "job_seconds": round(elapsed, 1),
                "rtf": round(elapsed / job.duration_seconds, 3),
                "window_seconds": window_seconds,
                "rss_before_job_mb": round(rss_before_job, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "rss_samples": samples[:: max(1, len(samples) // 40)],
            }
        services.db.engine.dispose()
    return result


def whole_decode_worker(audio: Path) -> dict[str, Any]:
    from assistant.transcription.channels import decode_channels

    started = time.perf_counter()
    channels = decode_channels(audio)
    return {
        "decoded_seconds": round(len(channels[0]) / 16000, 1),
        "decode_seconds": round(time.perf_counter() - started, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _subprocess(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, cwd=ROOT
    )
    if out.returncode != 0:
        raise SystemExit(f"worker failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--speech-share", type=float, default=0.25)
    parser.add_argument("--window-seconds", type=float, default=300.0)
    parser.add_argument("--whole-decode", action="store_true")
    parser.add_argument("--no-job", action="store_true", help="only --whole-decode")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", choices=["job", "whole"], help=argparse.SUPPRESS)
    parser.add_argument("--audio", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "job":
        print(json.dumps(job_worker(args.audio, args.window_seconds)))
        return
    if args.worker == "whole":
        print(json.dumps(whole_decode_worker(args.audio)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        audio = Path(tmp) / "long.wav"
        seconds = write_long(audio, args.minutes, args.speech_share)
        report: dict[str, Any] = {
            "audio_minutes": round(seconds / 60, 1),
            "speech_share": args.speech_share,
            "file_mb": round(audio.stat().st_size / 2**20, 1),
        }
        if args.whole_decode:
            report["whole_decode"] = _subprocess("--worker", "whole", "--audio", str(audio))
        if args.no_job:
            print(json.dumps(report, ensure_ascii=False, indent=2))
            return
        report["job"] = _subprocess(
            "--worker",
            "job",
            "--audio",
            str(audio),
            "--window-seconds",
            str(args.window_seconds),
        )
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    job = report["job"]
    print(
        f"{report['audio_minutes']} min ({report['file_mb']} MB WAV, speech share "
        f"{args.speech_share}): job {job['status']} in {job['job_seconds']} s, RTF {job['rtf']}, "
        f"{job['segments']} segments, peak RSS {job['peak_rss_mb']} MB"
    )
    if "whole_decode" in report:
        print(f"whole-file decode alone: peak RSS {report['whole_decode']['peak_rss_mb']} MB")


if __name__ == "__main__":
    main()

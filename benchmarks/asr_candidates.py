"""ASR speed candidates side by side: RTF on synthetic Mandarin and CER on real speech, one run.

    python benchmarks/asr_candidates.py [--minutes 3] [--dataset ../shared/corpora/speech]

Every candidate is the project's own FasterWhisperBackend (same cleaning, same tax prompt as
`taxassist asr eval`), so the CER column is what the officer would get. All candidates run in
this one process, one after the other, on the same audio, so that load from other work on the
machine falls on all of them alike; run it twice when the machine is noisy. RTF here is for
choosing a default; the acceptance numbers (with peak RSS per configuration) come from
benchmarks/asr_bench.py.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.asr_bench import synth  # noqa: E402

# name -> (cpu_threads, FasterWhisperBackend keyword arguments)
CANDIDATES: dict[str, tuple[int, dict[str, Any]]] = {
    "sequential beam5 (old default)": (0, {"beam_size": 5}),
    "sequential beam5 +words": (0, {"beam_size": 5, "word_timestamps": True}),
    "sequential beam5 threads2": (2, {"beam_size": 5}),
    "sequential beam5 threads2 +words": (2, {"beam_size": 5, "word_timestamps": True}),
    "sequential beam5 temp0 +words": (
        0,
        {"beam_size": 5, "temperatures": (0.0,), "word_timestamps": True},
    ),
    "sequential beam3 +words": (0, {"beam_size": 3, "word_timestamps": True}),
    "sequential beam2": (0, {"beam_size": 2}),
    "sequential beam1": (0, {"beam_size": 1}),
    "batched4 beam5": (0, {"beam_size": 5, "batch_size": 4}),
    "batched8 beam5": (0, {"beam_size": 5, "batch_size": 8}),
    "batched8 beam1": (0, {"beam_size": 1, "batch_size": 8}),
}


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(names: list[str], audio: Path, dataset: Path, repeat: int) -> list[dict[str, Any]]:
    from assistant.config import get_settings
    from assistant.registry import ModelRegistry
    from assistant.transcription import FasterWhisperBackend
    from assistant.transcription.evaluation import evaluate, load_kaldi_dataset
    from assistant.transcription.vocabulary import build_prompt

    settings = get_settings()
    prompt = build_prompt()
    utterances = load_kaldi_dataset(dataset)
    models: dict[int, Any] = {}
    rows: dict[str, dict[str, Any]] = {}
    for round_ in range(repeat):  # round robin: load from other work falls on every candidate
        for name in names:
            threads, kwargs = CANDIDATES[name]
            if threads not in models:
                update = {"asr_cpu_threads": threads, "asr_compute_type": "int8"}
                models[threads] = ModelRegistry(settings.model_copy(update=update)).get("asr")
            backend = FasterWhisperBackend(
                models[threads], model_name="whisper-base", model_version="bench", **kwargs
            )
            cpu, started = _cpu_seconds(), time.perf_counter()
            transcript = backend.transcribe(audio, language="zh", initial_prompt=prompt)
            elapsed, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
            seconds = transcript.duration_seconds
            row = rows.setdefault(name, {"candidate": name, "rtf": [], "cpu_per_audio_s": []})
            row["rtf"].append(round(elapsed / seconds, 4))
            row["cpu_per_audio_s"].append(round(cpu / seconds, 4))
            if round_ == 0:
                report = evaluate(backend, utterances, language="zh", initial_prompt=prompt)
                row["cer"] = round(report.cer, 4)
                row["segments"] = len(transcript.segments)
                row["longest_segment_s"] = round(
                    max((s.end - s.start for s in transcript.segments), default=0.0), 1
                )
            print(json.dumps(row, ensure_ascii=False), file=sys.stderr, flush=True)
    return list(rows.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--dataset", type=Path, default=ROOT.parent / "shared/corpora/speech")
    parser.add_argument("--only", nargs="*", help="candidate names (default: all)")
    parser.add_argument("--repeat", type=int, default=2, help="rounds; the table shows the best")
    args = parser.parse_args()
    names = args.only or list(CANDIDATES)
    with tempfile.TemporaryDirectory() as tmp:
        audio = Path(tmp) / "synthetic_zh.wav"
        synth(args.minutes, audio)
        rows = run(names, audio, args.dataset, args.repeat)
    print("| candidate | RTF (best; all) | CPU s per audio s (best) | CER | segments | longest |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        runs = ", ".join(f"{x:.3f}" for x in row["rtf"])
        print(
            f"| {row['candidate']} | {min(row['rtf']):.3f} ({runs}) "
            f"| {min(row['cpu_per_audio_s']):.3f} | {row['cer']:.3f} | {row['segments']} "
            f"| {row['longest_segment_s']} s |"
        )


if __name__ == "__main__":
    main()

"""Diarization error rate on mono mixes of the real speakers in shared/corpora/speech.

    python benchmarks/diarization_bench.py [--dataset ../shared/corpora/speech] [--asr] [--json]

Builds seeded interview-like mixes (assistant/transcription/speaker_mix.py): every pair of
the corpus's distinct speakers (two seeds each) and every trio (one seed), 12 turns of 1.5–4 s
crops at ±6 dB with 0.4–1.2 s pauses. Then:

- oracle turns: the reference turns as segments, so the DER is the embedding and clustering
  alone (chunks of ≤ 3 s, GE2E numpy port, average-linkage cosine clustering);
- `--asr`: the segments whisper-base (the default backend and settings, no prompt) finds in
  the seed-0 pair mixes, labelled per segment as the transcript stores them, so missed
  speech, phantom segments and turns merged into one segment count too.

DER = (missed + false alarm + confusion) / reference speech, 10 ms frames, best speaker
mapping, with no collar and with the NIST 0.25 s collar. Also: how often the number of
speakers is right, and whether a voiceprint enrolled from the seed-0 mix of a pair makes
exactly that speaker 问 in the seed-1 mix (each speaker of each pair, 20 trials). The same
mixes on every run (seeded); `diarization_rtf` is the embedding and clustering time per
second of audio.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.config import Settings  # noqa: E402
from assistant.registry import ModelRegistry  # noqa: E402
from assistant.transcription import diarization as d  # noqa: E402
from assistant.transcription.speaker_mix import Mix, build_mix, load_speakers  # noqa: E402


def _mixes(voices: dict[str, list[np.ndarray]]) -> list[tuple[str, int, Mix]]:
    names = sorted(voices)
    out = [
        ("+".join(pair), seed, build_mix(voices, list(pair), seed=seed))
        for pair in itertools.combinations(names, 2)
        for seed in (0, 1)
    ]
    out += [
        ("+".join(trio), 0, build_mix(voices, list(trio), seed=0))
        for trio in itertools.combinations(names, 3)
    ]
    return out


def _summary(rows: list[dict[str, Any]], key: str) -> dict[str, float]:
    values = [r[key]["der"] for r in rows]
    speech = sum(r[key]["speech_seconds"] for r in rows)
    pooled = sum(r[key]["der"] * r[key]["speech_seconds"] for r in rows) / speech
    return {
        "der_pooled": round(pooled, 4),
        "der_mean": round(float(np.mean(values)), 4),
        "der_max": round(float(np.max(values)), 4),
        "mixes_with_errors": sum(v > 0 for v in values),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", type=Path, default=ROOT.parent / "shared/corpora/speech")
    parser.add_argument("--asr", action="store_true", help="also diarize whisper's segments")
    parser.add_argument("--threshold", type=float, default=d.CLUSTER_THRESHOLD)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    registry = ModelRegistry(settings)
    encoder = registry.get("speaker")
    voices = load_speakers(args.dataset)
    mixes = _mixes(voices)
    rows: list[dict[str, Any]] = []
    embed_seconds = 0.0
    prints: dict[tuple[str, str], np.ndarray] = {}
    found = total = 0
    for name, seed, mix in mixes:
        spans = [d.SpeechSpan(i, a, b) for i, (a, b, _) in enumerate(mix.reference)]
        started = time.perf_counter()
        chunks = d.chunks_for(spans)
        embeddings = d.embed_chunks(encoder, chunks, [(0.0, mix.samples)])
        labels, centroids = d.cluster_chunks(chunks, embeddings, args.threshold)
        embed_seconds += time.perf_counter() - started
        hypothesis = [(c.start, c.end, str(k)) for c, k in zip(chunks, labels, strict=True)]
        speakers = sorted({s for _, _, s in mix.reference})
        rows.append(
            {
                "mix": name,
                "seed": seed,
                "seconds": round(mix.seconds, 1),
                "speakers": len(speakers),
                "found": len(centroids),
                "oracle": d.diarization_error_rate(mix.reference, hypothesis),
                "oracle_collar": d.diarization_error_rate(mix.reference, hypothesis, collar=0.25),
            }
        )
        if len(speakers) != 2:
            continue
        # enrol each speaker of a pair from the seed-0 mix (the chunks of their turns); in the
        # seed-1 mix that voice must be 问 and only that voice
        if seed == 0:
            for who in speakers:
                own = [i for i, c in enumerate(chunks) if mix.reference[c.segment][2] == who]
                weights = np.array([chunks[i].seconds for i in own])
                mean = (embeddings[own] * weights[:, None]).sum(axis=0)
                prints[(name, who)] = mean / np.linalg.norm(mean)
            continue
        speaker_of: dict[int, int] = {}
        for span in spans:
            votes: dict[int, float] = {}
            for c, k in zip(chunks, labels, strict=True):
                if c.segment == span.index:
                    votes[int(k)] = votes.get(int(k), 0.0) + c.seconds
            speaker_of[span.index] = max(sorted(votes), key=lambda k: votes[k])
        for who in speakers:
            vp = [d.Voiceprint(user_id=1, embedding=prints[(name, who)], case_officer=True)]
            roles, _, _, _ = d.assign_roles(speaker_of, spans, centroids, vp)
            found += all(
                (roles.get(speaker_of[i]) == "问") == (mix.reference[i][2] == who)
                for i in speaker_of
            )
            total += 1
    audio = sum(m.seconds for _, _, m in mixes)
    report: dict[str, Any] = {
        "dataset": str(args.dataset),
        "speakers": {k: len(v) for k, v in sorted(voices.items())},
        "mixes": len(mixes),
        "audio_seconds": round(audio, 1),
        "threshold": args.threshold,
        "oracle": _summary(rows, "oracle"),
        "oracle_collar_0.25": _summary(rows, "oracle_collar"),
        "speaker_count_right": f"{sum(r['found'] == r['speakers'] for r in rows)}/{len(rows)}",
        "voiceprint_right": f"{found}/{total}",
        "diarization_rtf": round(embed_seconds / audio, 4),
    }
    if args.asr:
        from assistant.transcription.factory import make_transcriber

        backend = make_transcriber(settings, registry)
        asr_rows = []
        for (_, seed, mix), row in zip(mixes, rows, strict=True):
            if seed != 0 or row["speakers"] != 2:  # whisper on the seed-0 pairs only
                continue
            transcript = backend.transcribe(mix.samples, language="zh")
            spans = [d.SpeechSpan(s.index, s.start, s.end, s.text) for s in transcript.segments]
            result = d.diarize(encoder, spans, [(0.0, mix.samples)], threshold=args.threshold)
            hypothesis = [
                (s.start, s.end, result.labels.get(s.index, "?")) for s in transcript.segments
            ]
            row["asr"] = d.diarization_error_rate(mix.reference, hypothesis)
            row["asr_collar"] = d.diarization_error_rate(mix.reference, hypothesis, collar=0.25)
            row["asr_roles"] = result.method
            asr_rows.append(row)
        report["asr"] = _summary(asr_rows, "asr")
        report["asr_collar_0.25"] = _summary(asr_rows, "asr_collar")
    report["per_mix"] = rows
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        for key, value in report.items():
            if key != "per_mix":
                print(f"{key}: {value}")
        for row in rows:
            extra = f"  asr {row['asr']['der']:.3f}" if "asr" in row else ""
            print(
                f"{row['mix']:<22} seed {row['seed']}  {row['seconds']:>5}s  "
                f"{row['found']}/{row['speakers']} speakers  oracle DER {row['oracle']['der']:.3f}"
                + extra
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

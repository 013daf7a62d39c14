"""A 30-minute recording of real speech with silence and noise between it, through the real job.

    python benchmarks/asr_30min_check.py [--minutes 30] [--seed 12] [--json]

Built from the six real recordings of ../shared/corpora/speech (cycled, in name order), each
followed by 2–12 s of digital silence, white noise, mains hum or low-passed rumble at a level
an interview room has (seeded, so the file is the same every run); only whole utterances are
placed, so the file ends in a pause. The file goes through
`CaseWorkflow.add_recording` and its transcription job (windows, checks, one commit per segment)
in a subprocess; the stored transcript is then compared with where speech was placed:
- text where there is none: a word (by its time) near no utterance;
- a placeholder where there is speech: a 【无法识别】 segment that overlaps an utterance;
- CER of each placed utterance that has a reference (segments whose middle falls inside it);
- the share of segments ending in punctuation, the check events, RTF and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SPEECH = ROOT.parent / "shared" / "corpora" / "speech"
RATE = 16000


def _gap(kind: str, seconds: float, rng: np.random.Generator) -> np.ndarray:
    n = int(seconds * RATE)
    if kind == "silence":
        return np.zeros(n, dtype=np.float32)
    if kind == "white":
        return (rng.standard_normal(n) * rng.uniform(0.002, 0.01)).astype(np.float32)
    if kind == "hum":  # 50 Hz mains and harmonics
        t = np.arange(n) / RATE
        wave_ = sum(np.sin(2 * np.pi * 50 * k * t) / k for k in (1, 2, 3))
        return (wave_ * rng.uniform(0.005, 0.02)).astype(np.float32)
    # rumble: white noise low-passed by a moving average (air conditioning, traffic)
    noise = rng.standard_normal(n + 63)
    return (np.convolve(noise, np.ones(64) / 8, mode="valid")[:n] * 0.01).astype(np.float32)


def build(out: Path, minutes: float, seed: int) -> list[dict[str, Any]]:
    """Write the recording; returns where each utterance was placed (seconds) and its reference."""
    from faster_whisper.audio import decode_audio

    from assistant.transcription.evaluation import load_kaldi_dataset

    references = {u.path.name: (u.id, u.reference) for u in load_kaldi_dataset(SPEECH)}
    clips = [
        (path.name, decode_audio(str(path), sampling_rate=RATE))
        for path in sorted((SPEECH / "wav").glob("*.wav"))
    ]
    rng = np.random.default_rng(seed)
    kinds = ("silence", "white", "hum", "rumble")
    target = int(minutes * 60 * RATE)
    placed: list[dict[str, Any]] = []
    written, i = 0, 0
    with wave.open(str(out), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(RATE)
        while written < target:
            name, clip = clips[i % len(clips)]
            if written + len(clip) > target:
                # Only whole utterances are placed; the rest is one more pause. A word cut by the
                # end of the file is a different question, tested on its own
                # (tests/transcription/test_clips.py): here it would count against "no placeholder
                # where there is speech" for speech that is not all there.
                rest = _gap(kinds[i % len(kinds)], (target - written) / RATE, rng)
                handle.writeframes((np.clip(rest, -1, 1) * 32767).astype(np.int16).tobytes())
                written += len(rest)
                break
            gap = _gap(kinds[i % len(kinds)], float(rng.uniform(2.0, 12.0)), rng)
            start = written / RATE
            utt_id, reference = references.get(name, (name, None))
            placed.append(
                {
                    "id": utt_id,
                    "start": round(start, 3),
                    "end": round(start + len(clip) / RATE, 3),
                    "reference": reference,
                    "gap_after": kinds[i % len(kinds)],
                }
            )
            block = np.concatenate([clip, gap])[: target - written]
            handle.writeframes((np.clip(block, -1, 1) * 32767).astype(np.int16).tobytes())
            written += len(block)
            i += 1
    return placed


def job_worker(audio: Path) -> dict[str, Any]:
    """Upload and transcribe through the job; the stored segments and metadata as JSON."""
    from sqlalchemy import select

    from assistant.db.models import Recording, TranscriptSegment
    from assistant.jobs import run_job
    from assistant.services import build_services, setup
    from tests.conftest import make_settings, queue_demo_recording

    with tempfile.TemporaryDirectory() as tmp:
        services = build_services(make_settings(Path(tmp) / "data", max_upload_bytes=2**30))
        setup(services, with_index=False)
        _, recording_id, job_id = queue_demo_recording(services, audio)
        started = time.perf_counter()
        status = run_job(services, job_id)
        elapsed = time.perf_counter() - started
        with services.db.session() as session:
            recording = session.get(Recording, recording_id)
            assert recording is not None
            rows = session.scalars(
                select(TranscriptSegment)
                .where(TranscriptSegment.recording_id == recording_id)
                .order_by(TranscriptSegment.index)
            )
            segments = [
                {"start": s.start, "end": s.end, "text": s.text, "words": s.words or []}
                for s in rows
            ]
            result = {
                "status": status,
                "audio_seconds": recording.duration_seconds,
                "job_seconds": round(elapsed, 1),
                "rtf": round(elapsed / recording.duration_seconds, 4),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "check_results": (recording.model or {}).get("check_results"),
                "segments": segments,
            }
        services.db.engine.dispose()
    return result


def evaluate(placed: list[dict[str, Any]], job: dict[str, Any]) -> dict[str, Any]:
    from assistant.transcription.evaluation import score
    from assistant.transcription.punctuation import ends_with_punctuation

    def overlap(a: dict[str, Any], b: dict[str, Any]) -> float:
        return max(0.0, min(a["end"], b["end"]) - max(a["start"], b["start"]))

    segments = job["segments"]
    unrecognized = [s for s in segments if s["text"].startswith("【无法识别")]
    spoken = [s for s in segments if not s["text"].startswith("【无法识别")]
    placeholder_in_speech = [s for s in unrecognized if any(overlap(s, u) > 0 for u in placed)]
    # A segment may span two utterances and the pause between them (VAD joins speech chunks
    # before decoding), so words, not segments, are attributed: to the utterance around the
    # word's middle (± 0.5 s); a word near no utterance is text where nobody spoke.
    heard: dict[int, str] = {}
    stray: list[dict[str, Any]] = []
    for segment in spoken:
        for word in segment["words"] or [segment]:
            middle = (word["start"] + word["end"]) / 2
            home = next(
                (n for n, u in enumerate(placed) if u["start"] - 0.5 <= middle <= u["end"] + 0.5),
                None,
            )
            if home is None:
                stray.append({**word, "segment": segment["text"][:40]})
            else:
                heard[home] = heard.get(home, "") + word.get("word", word.get("text", ""))
    text_without_speech = stray
    errors = chars = 0
    worst: list[dict[str, Any]] = []
    for n, utterance in enumerate(placed):
        if utterance["reference"] is None:
            continue
        scored = score(utterance["id"], utterance["reference"], heard.get(n, ""))
        errors += scored.errors
        chars += scored.reference_chars
        if scored.cer > 0.5:
            worst.append({**utterance, "hypothesis": scored.hypothesis, "cer": scored.cer})
    return {
        "utterances_placed": len(placed),
        "speech_seconds": round(sum(u["end"] - u["start"] for u in placed), 1),
        "segments": len(segments),
        "placeholders": len(unrecognized),
        "placeholders_where_speech": len(placeholder_in_speech),
        "words_where_no_speech": len(text_without_speech),
        "text_where_no_speech_examples": text_without_speech[:5],
        "cer_referenced": round(errors / chars, 4) if chars else None,
        "utterances_above_0_5": worst,
        "ends_with_punctuation": round(
            sum(ends_with_punctuation(s["text"]) for s in spoken) / max(1, len(spoken)), 3
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--audio", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(job_worker(args.audio), ensure_ascii=False))
        return
    with tempfile.TemporaryDirectory() as tmp:
        audio = Path(tmp) / "interview_30min.wav"
        placed = build(audio, args.minutes, args.seed)
        done = subprocess.run(
            [sys.executable, __file__, "--worker", "--audio", str(audio)],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        if done.returncode != 0:
            raise SystemExit(f"job worker failed:\n{done.stderr[-3000:]}")
        job = json.loads(done.stdout.strip().splitlines()[-1])
    report = {
        "audio_seconds": job["audio_seconds"],
        "rtf": job["rtf"],
        "job_seconds": job["job_seconds"],
        "peak_rss_mb": job["peak_rss_mb"],
        **evaluate(placed, job),
        "check_results": {k: v for k, v in (job["check_results"] or {}).items() if k != "events"},
        "check_events": (job["check_results"] or {}).get("events", []),
    }
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    print(
        f"{report['audio_seconds'] / 60:.1f} min, {report['utterances_placed']} utterances "
        f"({report['speech_seconds']} s speech): RTF {report['rtf']}, peak RSS "
        f"{report['peak_rss_mb']} MB; {report['segments']} segments, "
        f"{report['placeholders']} placeholders ({report['placeholders_where_speech']} where "
        f"speech), {report['words_where_no_speech']} words where no speech; CER "
        f"{report['cer_referenced']}; ending in punctuation {report['ends_with_punctuation']}"
    )


if __name__ == "__main__":
    main()

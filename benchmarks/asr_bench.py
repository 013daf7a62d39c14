"""ASR speed and memory: reference settings vs the project default, on real Mandarin.

    python benchmarks/asr_bench.py [--source real|espeak] [--rounds 4] [--minutes 10]
        [--reference-minutes 2] [--openai-minutes 0] [--checkpoint PATH] [--json]

`--source real` (default): the six real recordings of ../shared/corpora/speech joined with
0.5-s pauses, `--rounds` times (4 rounds: 132.6 s). `--source espeak`: espeak-ng Mandarin
(cmn-latn-pinyin voice; Debian package espeak-ng) up to `--minutes`; robotic speech drives the
reference into fallbacks, so it measures memory more than speed. Each configuration runs in its
own subprocess so that its peak RSS (ru_maxrss) is its own. Not an accuracy benchmark (see
`taxassist asr eval`); it reports the share of segments that end in punctuation, and what the
determinism and the checks cost (`default` against `no-checks` and `sampling`).
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

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CLI = (sys.executable, "-c", "from assistant.cli import main; main()")

# Interview-style sentences in tone-numbered pinyin (Debian's espeak-ng reads no Hanzi).
SENTENCES = (
    "qing3 wen4 ni3 gong1 si1 er4 ling2 er4 wu3 nian2 san1 yue4 de zeng1 zhi2 shui4 "
    "wei4 shen2 me mei2 you3 an4 qi1 shen1 bao4",
    "yin1 wei4 kuai4 ji4 li2 zhi2 le, wo3 men hou4 lai2 bu3 bao4 le",
    "ni3 men kai1 ju4 de zeng1 zhi2 shui4 zhuan1 yong4 fa1 piao4 you3 duo1 shao3 zhang1",
    "yi1 gong4 shi2 er4 zhang1, jin1 e2 shi4 yi1 wan4 er4 qian1 yuan2",
    "shui4 wu4 ji1 guan1 yi3 jing1 ze2 ling4 ni3 men xian4 qi1 gai3 zheng4",
    "wo3 men yi3 jing1 bu3 jiao3 le shui4 kuan3 he2 zhi4 na4 jin1",
    "zhe4 xie1 zhang4 bu4 shi4 shei2 bao3 guan3 de",
    "qing3 ni3 kan4 yi2 xia4 zhe4 fen4 bi3 lu4, ru2 guo3 mei2 you3 cuo4 wu4 qing3 qian1 zi4",
)

CONFIGS: dict[str, dict[str, object]] = {
    # The reference: float32, beam 5, no VAD, one 30-s window after the other, temperature 0
    # only and no previous-text conditioning. (faster-whisper's own defaults add a temperature
    # fallback ladder that robotic speech keeps triggering: RTF 3.35 on a 1-minute trial, which
    # measures fallbacks, not the runtime.)
    "reference": {"compute_type": "float32", "beam_size": 5, "vad": False},
    # The same reference settings in the reference implementation itself: openai-whisper
    # (PyTorch float32) on the bundled weights converted by `taxassist models convert-whisper`.
    "reference-openai": {"compute_type": "float32", "beam_size": 5, "vad": False, "openai": True},
    # The project default: whatever assistant.config's defaults build (Services.transcriber()).
    "default": {"from_settings": True},
    # The default without the segment checks (their cost), and the earlier default: unseeded
    # temperature fallback 0.2/0.4 and no checks (the cost of determinism, and what it replaced).
    "no-checks": {"from_settings": True, "settings": {"asr_checks": False}},
    "sampling": {
        "from_settings": True,
        "settings": {"asr_checks": False, "asr_temperatures": (0.0, 0.2, 0.4)},
    },
}
SPEECH = ROOT.parent / "shared" / "corpora" / "speech"


def join_real(rounds: int, out: Path, speech: Path = SPEECH) -> float:
    """The real recordings (sorted by name) with 0.5-s pauses, `rounds` times; 16 kHz mono."""
    clips = [_read_16k(path) for path in sorted((speech / "wav").glob("*.wav"))]
    if not clips:
        raise SystemExit(f"no recordings in {speech / 'wav'} (see shared/corpora/README.md)")
    pause = np.zeros(8000, dtype=np.int16)
    audio = np.concatenate(
        [piece for _ in range(rounds) for clip in clips for piece in (clip, pause)]
    )
    with wave.open(str(out), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(16000)
        handle.writeframes(audio.tobytes())
    return len(audio) / 16000


def synth(minutes: float, out: Path) -> float:
    """Concatenate espeak-ng sentences with 0.4–1.6 s pauses up to `minutes`; 16 kHz mono."""
    rng = np.random.default_rng(7)
    clips = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, text in enumerate(SENTENCES):
            path = Path(tmp) / f"{i}.wav"
            subprocess.run(
                ["espeak-ng", "-v", "cmn-latn-pinyin", "-s", "150", "-w", str(path), text],
                check=True,
            )
            clips.append(_read_16k(path))
    target = int(minutes * 60 * 16000)
    pieces, total, i = [], 0, 0
    while total < target:
        clip = clips[i % len(clips)]
        pause = np.zeros(int(rng.uniform(0.4, 1.6) * 16000), dtype=np.int16)
        pieces += [clip, pause]
        total += len(clip) + len(pause)
        i += 1
    audio = np.concatenate(pieces)[:target]
    with wave.open(str(out), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(16000)
        handle.writeframes(audio.tobytes())
    return len(audio) / 16000


def _prefix(source: Path, out: Path, minutes: float) -> None:
    with wave.open(str(source), "rb") as handle:
        frames = handle.readframes(int(minutes * 60 * handle.getframerate()))
        params = handle.getparams()
    with wave.open(str(out), "wb") as handle:
        handle.setparams(params)
        handle.writeframes(frames)


def _checkpoint(tmp: Path) -> Path:
    """The configured openai-whisper checkpoint, or one converted now (in a subprocess, so the
    conversion's memory is nobody's peak RSS)."""
    from assistant.config import get_settings

    configured = get_settings().resolved_asr_checkpoint
    if configured.is_file():
        return configured
    target = tmp / "whisper-base-openai.pt"
    subprocess.run(
        [*CLI, "models", "convert-whisper", "--to", str(target)],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    return target


def _read_16k(path: Path) -> np.ndarray:
    from faster_whisper.audio import decode_audio

    return (decode_audio(str(path), sampling_rate=16000) * 32767).astype(np.int16)


def worker(name: str, audio: Path, checkpoint: Path | None = None) -> dict[str, object]:
    """One configuration in this process; prints its timing and peak RSS as JSON."""
    from assistant.config import get_settings
    from assistant.registry import ModelRegistry
    from assistant.services import build_services
    from assistant.transcription.punctuation import ends_with_punctuation
    from assistant.transcription.vocabulary import build_prompt

    config = CONFIGS[name]
    settings = get_settings()
    punctuated = None
    if config.get("from_settings"):
        overrides = dict(config.get("settings") or {})  # type: ignore[call-overload]
        settings = settings.model_copy(update=overrides)
        backend = build_services(settings).transcriber()
        started = time.perf_counter()
        prompt = build_prompt() if settings.asr_domain_prompt else None
        transcript = backend.transcribe(audio, language="zh", initial_prompt=prompt)
        elapsed = time.perf_counter() - started
        described = transcript.model
        segments = len(transcript.segments)
        duration = transcript.duration_seconds
        spoken = [s for s in transcript.segments if s.check != "unrecognized"]
        punctuated = round(sum(ends_with_punctuation(s.text) for s in spoken) / len(spoken), 3)
    elif config.get("openai"):
        from assistant.transcription.openai_backend import (
            OpenAIWhisperBackend,
            load_openai_whisper,
        )

        assert checkpoint is not None
        reference = OpenAIWhisperBackend(
            load_openai_whisper(checkpoint, threads=settings.asr_cpu_threads),
            model_name="whisper-base (converted)",
            model_version="bench",
            beam_size=int(str(config["beam_size"])),
            temperatures=(0.0,),
        )
        started = time.perf_counter()
        transcript = reference.transcribe(audio, language="zh")
        elapsed = time.perf_counter() - started
        described = {**config, **reference.settings_record}
        segments = len(transcript.segments)
        duration = transcript.duration_seconds
    else:
        settings = settings.model_copy(update={"asr_compute_type": config["compute_type"]})
        model = ModelRegistry(settings).get("asr")
        started = time.perf_counter()
        raw, info = model.transcribe(
            str(audio),
            language="zh",
            beam_size=int(str(config["beam_size"])),
            vad_filter=bool(config["vad"]),
            temperature=0.0,
            condition_on_previous_text=False,
        )
        segments = len(list(raw))
        elapsed = time.perf_counter() - started
        described = dict(config)
        duration = info.duration
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "config": name,
        "settings": described,
        "audio_seconds": round(duration, 1),
        "processing_seconds": round(elapsed, 1),
        "rtf": round(elapsed / duration, 4),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "segments": segments,
        "ends_with_punctuation": punctuated,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=("real", "espeak"), default="real")
    parser.add_argument("--rounds", type=int, default=4, help="real: times the corpus is joined")
    parser.add_argument("--minutes", type=float, default=10.0, help="espeak: length")
    parser.add_argument(
        "--reference-minutes",
        type=float,
        default=None,
        help="run the (slow) reference on the first N minutes only; RTF is a ratio",
    )
    parser.add_argument(
        "--openai-minutes",
        type=float,
        default=0.0,
        help="run openai-whisper on the first N minutes only (0: skip it)",
    )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="openai-whisper checkpoint (default: TAXASSIST_ASR_CHECKPOINT if it exists, "
        "else converted from the bundled model into a temporary file)",
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--audio", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        row = worker(args.worker, args.audio, args.checkpoint)
        print(json.dumps(row, ensure_ascii=False))
        return
    with tempfile.TemporaryDirectory() as tmp:
        audio = Path(tmp) / f"{args.source}_zh.wav"
        if args.source == "real":
            seconds = join_real(args.rounds, audio)
            args.minutes = seconds / 60
        else:
            seconds = synth(args.minutes, audio)
        names = [n for n in CONFIGS if n != "reference-openai" or args.openai_minutes > 0]
        inputs = {name: audio for name in names}
        for name, minutes in (
            ("reference", args.reference_minutes),
            ("reference-openai", args.openai_minutes),
        ):
            if name in inputs and minutes and minutes < args.minutes:
                inputs[name] = Path(tmp) / f"synthetic_zh_{name}.wav"
                _prefix(audio, inputs[name], minutes)
        checkpoint = args.checkpoint
        if "reference-openai" in names and checkpoint is None:
            checkpoint = _checkpoint(Path(tmp))
        results = []
        # the default first: if a slow reference is cut short, its number still exists
        for name in sorted(names, key=lambda n: n != "default"):
            command = [sys.executable, __file__, "--worker", name, "--audio", str(inputs[name])]
            if name == "reference-openai":
                command += ["--checkpoint", str(checkpoint)]
            done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(json.dumps(results[-1], ensure_ascii=False), file=sys.stderr)
    by_name = {row["config"]: row for row in results}
    reference, default = by_name["reference"], by_name["default"]
    summary = {
        "audio_seconds": round(seconds, 1),
        "results": results,
        "speedup": round(float(reference["rtf"]) / float(default["rtf"]), 2),  # type: ignore[arg-type]
    }
    if "reference-openai" in by_name:
        openai_rtf = float(by_name["reference-openai"]["rtf"])  # type: ignore[arg-type]
        summary["speedup_vs_openai"] = round(openai_rtf / float(default["rtf"]), 2)  # type: ignore[arg-type]
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    print(f"{args.source} Mandarin, {seconds:.1f} s (speed/memory, not accuracy)")
    for row in results:
        print(
            f"{row['config']:>16}: RTF {row['rtf']:.3f}  peak RSS {row['peak_rss_mb']:.0f} MB"
            f"  ({row['processing_seconds']} s for {row['audio_seconds']} s of audio,"
            f" {row['segments']} segments, ending in punctuation {row['ends_with_punctuation']})"
        )
    print(f"default is {summary['speedup']}x faster than the reference (faster-whisper fp32)")
    if "speedup_vs_openai" in summary:
        print(f"default is {summary['speedup_vs_openai']}x faster than openai-whisper fp32")


if __name__ == "__main__":
    main()

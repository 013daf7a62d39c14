"""Write a mono interview-like mix of real speakers and its who-spoke-when reference.

    python scripts/make_speaker_mix.py OUT.wav --speakers S0764 f5tts [--turns 12] [--seed 0]
        [--dataset ../shared/corpora/speech]

Writes OUT.wav (16 kHz mono) and OUT.json ({"reference": [[start, end, speaker], …]}), the
same bytes for the same arguments on any machine. Speakers are those of the corpus
(`assistant.transcription.speaker_mix.speaker_of`); run without --speakers to list them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.transcription.speaker_mix import build_mix, load_speakers, write_wav  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--dataset", type=Path, default=ROOT.parent / "shared/corpora/speech")
    parser.add_argument("--speakers", nargs="*", default=[])
    parser.add_argument("--turns", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    voices = load_speakers(args.dataset)
    if len(args.speakers) < 2 or not set(args.speakers) <= set(voices):
        print("speakers:", " ".join(sorted(voices)), file=sys.stderr)
        return 2
    mix = build_mix(voices, args.speakers, turns=args.turns, seed=args.seed)
    write_wav(args.out, mix.samples)
    args.out.with_suffix(".json").write_text(
        json.dumps({"reference": mix.reference}, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    print(f"{args.out}: {mix.seconds:.1f} s, {len(mix.reference)} turns")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

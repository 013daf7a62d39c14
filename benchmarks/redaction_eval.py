"""Masking of personal data, measured on real text with planted personal data.

The set (`assistant.publicity.labelled.build_set`): real paragraphs of the SAT bulletins and
the issued decisions in ../shared/corpora, each with one planted sentence carrying a
公民身份号码 (valid check character), phones, bank cards (Luhn), a home address and a name.
A planted item counts as caught when its value no longer appears in the masked text (spaces
and dashes ignored; an address: the part below the county level). Precision: the share of
masked spans that overlap a planted item; spans elsewhere are counted against it even when
they are real personal data of the source text (the first few are printed to judge them).
Recall is reported apart for the held-out templates, written after the rules were tuned.

    python benchmarks/redaction_eval.py [--corpora ../shared/corpora] [--samples 600]
        [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.config import get_settings
from assistant.publicity.labelled import build_set
from assistant.publicity.redaction import IDENTIFIER_KINDS, Redactor, leaks


def shared_corpora(explicit: str | None) -> Path:
    """The real corpora: --corpora, else the configured corpus dirs holding cases/ and
    decisions/ (TAXASSIST_CORPORA), else TAXASSIST_SHARED_CORPORA."""
    if explicit:
        return Path(explicit).resolve()
    for path in get_settings().corpus_dirs:
        if (path / "cases" / "chinatax_bulletins.jsonl").is_file() and (
            path / "decisions"
        ).is_dir():
            return path
    env = os.environ.get("TAXASSIST_SHARED_CORPORA")
    if env:
        return Path(env).resolve()
    raise SystemExit("real corpora not found: pass --corpora or set TAXASSIST_CORPORA")


def evaluate(corpora: Path, samples: int, seed: int) -> dict[str, Any]:
    data = build_set(corpora, samples=samples, seed=seed)
    planted: dict[str, Counter[str]] = {"dev": Counter(), "held_out": Counter()}
    caught: dict[str, Counter[str]] = {"dev": Counter(), "held_out": Counter()}
    spans = Counter[str]()
    on_planted = Counter[str]()
    false_examples: list[str] = []
    redactor = Redactor()
    started = time.perf_counter()
    for sample in data:
        split = "held_out" if sample.held_out else "dev"
        result = redactor.redact(sample.text)
        for item in sample.planted:
            planted[split][item.kind] += 1
            if not leaks(result.text, [item.value]):
                caught[split][item.kind] += 1
        regions = []
        for item in sample.planted:
            at = sample.text.find(item.value)
            if at >= 0:
                regions.append((at, at + len(item.value)))
        for f in result.findings:
            spans[f.kind] += 1
            if any(f.start < e and f.end > s for s, e in regions):
                on_planted[f.kind] += 1
            elif len(false_examples) < 15:
                false_examples.append(f"{f.kind}: {sample.text[max(0, f.start - 12) : f.end + 6]}")
    seconds = time.perf_counter() - started

    def recall(split: str, kinds: set[str] | frozenset[str]) -> float | None:
        total = sum(planted[split][k] for k in kinds)
        return round(sum(caught[split][k] for k in kinds) / total, 4) if total else None

    kinds = sorted({*planted["dev"], *planted["held_out"]})
    return {
        "corpora": str(corpora),
        "samples": len(data),
        "seed": seed,
        "recall": {
            split: {
                "identifiers": recall(split, IDENTIFIER_KINDS),
                **{k: recall(split, {k}) for k in kinds},
                "planted": dict(planted[split]),
            }
            for split in ("dev", "held_out")
        },
        "precision": {
            "all": round(sum(on_planted.values()) / max(1, sum(spans.values())), 4),
            **{k: round(on_planted[k] / spans[k], 4) for k in sorted(spans)},
            "spans": dict(spans),
        },
        "false_positive_examples": false_examples,
        "seconds": round(seconds, 2),
        "load_average": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora")
    parser.add_argument("--samples", type=int, default=600)
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--json")
    args = parser.parse_args()
    report = evaluate(shared_corpora(args.corpora), args.samples, args.seed)
    text = json.dumps(report, ensure_ascii=False, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

"""Measuring the masking on the labelled set (`labelled.build_set`): recall per kind of planted
personal data (a planted value counts as caught when it no longer appears in the masked text,
spaces and dashes ignored; an address: the part below the county level), apart for the
held-out templates, and precision (masked spans overlapping a planted value / all masked
spans — spans elsewhere count against it even when they are real personal data of the source
text, so the first few are returned to be judged). Shared by the benchmark and the tests."""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

from assistant.publicity.labelled import build_set
from assistant.publicity.redaction import IDENTIFIER_KINDS, Redactor, leaks


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

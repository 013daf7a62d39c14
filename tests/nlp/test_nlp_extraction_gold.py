"""The acceptance floor of extraction on real text: the written gold of benchmarks/data."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = (ROOT / ".." / "shared" / "corpora").resolve()

pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(not SHARED.exists(), reason="../shared/corpora absent"),
]


def _benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "extraction_eval", ROOT / "benchmarks" / "extraction_eval.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rules_and_lac_against_the_gold() -> None:
    bench = _benchmark()
    bench.FLAVOURS = {"rules + LAC": True}  # the previous extractor is for the benchmark only
    scores = bench.evaluate(SHARED, progress=False)["scores"]

    def get(corpus: str, field: str) -> dict[str, float]:
        return scores[f"rules + LAC | {corpus} | {field}"]  # type: ignore[no-any-return]

    assert get("decisions", "amounts")["recall"] >= 0.99
    assert get("decisions", "amounts")["precision"] >= 0.95
    assert get("decisions", "dates")["recall"] >= 0.95
    assert get("decisions", "taxes")["recall"] >= 0.95
    assert get("decisions", "parties")["recall"] >= 0.9
    assert get("bulletins", "parties")["recall"] >= 0.8
    assert get("bulletins", "parties")["precision"] >= 0.7
    for field in ("amounts", "dates", "taxes"):
        assert get("bulletins", field)["recall"] >= 0.95

"""The proposer on the real issued decisions, against the gold written from their texts
(benchmarks/data/facts_gold.json; the cues were tuned on them, so these are floors that catch
a regression, not a measure of accuracy on unseen text)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from tests.conftest import SHARED_CORPORA, requires_shared

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "facts_eval.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("facts_eval", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@requires_shared
def test_decisions_recall_and_precision_floors() -> None:
    result = _bench().evaluate(SHARED_CORPORA)
    assert result["decisions"] == 11
    total = result["total"]
    assert total["gold"] == 35
    assert total["recall"] >= 0.8 and total["precision"] >= 0.8, result["misses"]
    for name in ("violation", "discovery_date"):
        assert result["fields"][name]["recall"] >= 0.9, result["misses"]

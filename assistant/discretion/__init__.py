"""Discretion: benchmark tables, procedure rules and the penalty-suggestion engine."""

from assistant.discretion.benchmark import (
    Benchmark,
    BenchmarkItem,
    Tier,
    benchmark_from_dict,
    load_benchmark,
    validate_benchmark_file,
)
from assistant.discretion.engine import DiscretionInput, Factor, Suggestion, cite, suggest
from assistant.discretion.procedure import ProcedureRules, load_procedure

__all__ = [
    "Benchmark",
    "BenchmarkItem",
    "DiscretionInput",
    "Factor",
    "ProcedureRules",
    "Suggestion",
    "Tier",
    "benchmark_from_dict",
    "cite",
    "load_benchmark",
    "load_procedure",
    "suggest",
    "validate_benchmark_file",
]

"""The legal core is the bottom layer: it imports nothing from the rest of `assistant`."""

from __future__ import annotations

import ast
from pathlib import Path

import assistant.legal

CORE = Path(assistant.legal.__file__).resolve().parent


def test_core_imports_nothing_from_the_rest_of_assistant() -> None:
    outside: list[str] = []
    for path in sorted(CORE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            outside += [
                f"{path.name}: {name}"
                for name in names
                if name.split(".")[0] == "assistant" and not name.startswith("assistant.legal")
            ]
    assert outside == []

"""The case modules import each other in one direction only (no import cycle).

Why: the workflow, the lifecycle and the review checklist once imported each other (lazily, to
dodge the cycle at import time), so which module owned a rule was unclear and private helpers
crossed modules. The graph is read from the source (every `import`, top-level or inside a
function), so a lazy import that closes a cycle fails too. The CLI front-ends (`*cli` modules,
which the command line wires together) are outside this check: their cycle with `assistant.cli`
is the command line's own layering question.
"""

from __future__ import annotations

import ast
from pathlib import Path

import assistant

ROOT = Path(assistant.__file__).resolve().parent
CHECKED = ("assistant.cases", "assistant.documents")


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = ["assistant", *path.relative_to(ROOT).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def import_graph() -> dict[str, set[str]]:
    """module -> the assistant modules it imports (a `from pkg import name` of a submodule
    counts as importing that submodule)."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _checked(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    def kept(name: str) -> bool:
        return name.startswith(CHECKED) and not name.endswith("cli")

    return {name: {t for t in targets if kept(t)} for name, targets in graph.items() if kept(name)}


def test_the_finder_sees_a_cycle_through_a_lazy_import() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_no_import_cycle_among_the_case_and_document_modules() -> None:
    graph = import_graph()
    assert "assistant.cases.lifecycle" in graph["assistant.cases.service"]
    assert cycles(_checked(graph)) == []


def test_documents_never_import_cases() -> None:
    """Layering: the document registry sits below the case workflow that stores its drafts."""
    graph = import_graph()
    upward = {
        (name, target)
        for name, targets in graph.items()
        if name.startswith("assistant.documents")
        for target in targets
        if target.startswith("assistant.cases")
    }
    assert upward == set()

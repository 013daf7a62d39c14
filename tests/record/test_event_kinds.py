"""Every kind of signed event the code can write (or read) has its Chinese name in the one
registry, assistant/record/event_kinds.py: the lifecycle's acts, the analysis steps, evidence,
outcomes, the literal kinds passed to the recording helpers anywhere in assistant/, and the
kinds the statistics' deadline data names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import assistant
from assistant.cases.evidence import EVIDENCE_ACTIONS
from assistant.cases.lifecycle import (
    ACTION_EVENTS,
    ACTION_NAMES,
    INVESTIGATION_EVENTS,
    TRANSITIONS,
)
from assistant.cases.service import STEPS
from assistant.outcomes.service import OUTCOME_ACTIONS
from assistant.record.event_kinds import EVENT_KINDS, event_name, require_known
from assistant.statistics.platform import load_deadlines

# helpers whose fifth positional argument is the event kind they sign
WRITERS = {"record_action", "_record"}


def _literal_kinds() -> dict[str, str]:
    """kind -> where, for every string literal the code passes as an event kind or compares an
    event's `.action` with."""
    found: dict[str, str] = {}
    root = Path(assistant.__file__).parent
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if ".action" not in text and not any(w in text for w in WRITERS):
            continue
        name_of = path.relative_to(root.parent)
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in WRITERS and len(node.args) > 4:
                    kind = node.args[4]
                    if isinstance(kind, ast.Constant) and isinstance(kind.value, str):
                        found[kind.value] = f"{name_of}:{node.lineno}"
            elif (
                isinstance(node, ast.Compare)
                and isinstance(node.left, ast.Attribute)
                and node.left.attr == "action"
            ):
                for right in node.comparators:
                    if isinstance(right, ast.Constant) and isinstance(right.value, str):
                        found[right.value] = f"{name_of}:{node.lineno}"
    return found


def test_every_lifecycle_act_writes_a_named_event() -> None:
    assert set(ACTION_EVENTS) == set(TRANSITIONS) == set(ACTION_NAMES)
    unnamed = {a: k for a, k in ACTION_EVENTS.items() if k not in EVENT_KINDS}
    assert not unnamed


def test_every_kind_the_code_writes_or_reads_has_a_name() -> None:
    literal = _literal_kinds()
    # the scan sees the recording helpers (cases, jobs, publicity) and the readers
    assert {"case_created", "evidence_read", "publication_withdrawn", "legal_review"} <= set(
        literal
    )
    kinds = dict.fromkeys(OUTCOME_ACTIONS, "outcomes") | dict.fromkeys(EVIDENCE_ACTIONS, "evidence")
    kinds |= {f"{step}_completed": "cases/service.py STEPS" for step in STEPS}
    kinds |= dict.fromkeys(INVESTIGATION_EVENTS, "lifecycle INVESTIGATION_EVENTS")
    for rule in load_deadlines():
        kinds |= dict.fromkeys((rule.start, *rule.end), f"statistics deadline {rule.code}")
    unnamed = {k: where for k, where in (literal | kinds).items() if k not in EVENT_KINDS}
    assert not unnamed, f"add these to EVENT_KINDS: {unnamed}"
    assert all(name and name != kind for kind, name in EVENT_KINDS.items())


def test_an_unregistered_kind_is_refused_before_signing() -> None:
    with pytest.raises(ValueError, match="EVENT_KINDS"):
        require_known("note_added")
    require_known("statement_reviewed")
    assert event_name("statement_reviewed") == "复核陈述申辩"
    assert event_name("from_a_newer_version") == "from_a_newer_version"

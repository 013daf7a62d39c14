"""The registry of document types is what the API and the CLI offer, and what the procedure
rules name: one list, read everywhere."""

from __future__ import annotations

from typer.testing import CliRunner

from api.schemas import DraftRequest
from assistant.cases.guard_rules import load_guard_rules
from assistant.documents.kind import DocumentInputs
from assistant.documents.registry import (
    DECISION_TYPES,
    DRAFTABLE,
    NOTICES,
    REGISTRY,
    RETIRED,
    REVIEWER_TYPES,
)


def test_every_type_declares_what_drafting_needs() -> None:
    for code, kind in REGISTRY.items():
        assert kind.code == code and kind.title and kind.number_kind
        assert kind.inputs is None or issubclass(kind.inputs, DocumentInputs)
    assert {"penalty_decision", "no_penalty_decision"} == DECISION_TYPES
    # the retired review_opinion stays a reviewer's type for the documents stored under it
    assert {"legal_review_opinion", "review_opinion"} == REVIEWER_TYPES
    assert "review_opinion" not in REGISTRY and RETIRED == {
        "review_opinion": "legal_review_opinion"
    }
    # notices name the draft they precede; no separate table of notices
    assert NOTICES == {"penalty_notice": "penalty_decision"}


def test_the_api_doc_type_is_the_registry_enum() -> None:
    schema = DraftRequest.model_json_schema()
    # the retired codes parse, so that drafting one answers 409 naming the replacement
    assert schema["properties"]["doc_type"]["enum"] == [*DRAFTABLE, *RETIRED]
    assert "review_opinion" not in DRAFTABLE


def test_the_cli_offers_the_registry_types() -> None:
    from assistant.cli import app

    result = CliRunner().invoke(app, ["case", "draft", "--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert all(code in result.output for code in DRAFTABLE)
    refused = CliRunner().invoke(app, ["case", "draft", "1", "--type", "love_letter", "--as", "x"])
    assert refused.exit_code == 2 and "love_letter" in refused.output


def test_issue_stages_name_registered_types() -> None:
    stages = load_guard_rules().issue_stages
    assert set(stages) - {"default"} <= set(REGISTRY)

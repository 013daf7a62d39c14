"""The registry of document types is what the API and the CLI offer, and what the procedure
rules name: one list, read everywhere."""

from __future__ import annotations

from datetime import date

from typer.testing import CliRunner

from api.schemas import DraftRequest
from assistant.cases.guard_rules import load_guard_rules
from assistant.cases.service import statute_facts
from assistant.db.models import Case
from assistant.documents.kind import DocumentInputs
from assistant.documents.registry import (
    DECISION_TYPES,
    DRAFTABLE,
    NOTICES,
    REGISTRY,
    RETIRED,
    REVIEWER_TYPES,
    STATUTE_DOCUMENTS,
)
from assistant.knowledge.facts import DOCUMENTS as FACT_DOCUMENTS
from assistant.knowledge.facts import CaseFacts


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


def test_decision_types_tell_statute_push_which_decision_is_drafted() -> None:
    # a 处罚决定书 (and its 告知书, the simple one) cites penalty provisions, a 处理决定书 the
    # tax and 滞纳金 articles: statute push reads the kind from here, not from a second table
    assert STATUTE_DOCUMENTS == {
        "penalty_notice": "处罚决定",
        "penalty_decision": "处罚决定",
        "simple_penalty_decision": "处罚决定",
        "tax_handling_decision": "处理决定",
    }
    assert set(STATUTE_DOCUMENTS.values()) <= set(FACT_DOCUMENTS)


def test_the_retrieval_step_states_the_case_facts_and_the_drafted_decision() -> None:
    case = Case(
        violation_date=date(2015, 3, 1),
        discovered_date=date(2022, 5, 20),
        party_role="withholding_agent",
    )
    assert statute_facts(case, "tax_handling_decision") == {
        "act_date": "2015-03-01",
        "found_date": "2022-05-20",
        "role": "withholding_agent",
        "document": "处理决定",
    }
    plain = Case(violation_date=date(2024, 1, 2), discovered_date=None, party_role="taxpayer")
    # a type that is no decision (询问笔录) states no document; a taxpayer's role is left to
    # the text, which may name a more specific one (开票方, 受票方)
    assert statute_facts(plain, "interview_record") == {"act_date": "2024-01-02"}
    assert CaseFacts.from_dict(statute_facts(case, "penalty_decision")).document == "处罚决定"

"""The cue and requirement files name only fields, violation codes and provisions that exist."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.config import BUNDLED_CORPUS
from assistant.errors import InvalidInput
from assistant.facts import FIELDS, check_evidence, requirements
from assistant.facts.completeness import Available
from assistant.facts.cues import load_cues
from assistant.knowledge.statutes import StatuteBook
from assistant.taxonomy import load_taxonomy


@pytest.fixture(scope="module")
def book() -> StatuteBook:
    return StatuteBook.load([BUNDLED_CORPUS])


def test_every_cited_provision_is_in_the_statute_book(book: StatuteBook) -> None:
    cited = {a for topic in load_cues().disputes for a in topic.articles}
    for code in load_taxonomy():
        for req in requirements(code):
            cited.update(req.sources_for(code, date(2024, 1, 1)))
    assert cited
    for statute_id in sorted(cited):
        assert book.get(statute_id).text, statute_id


def test_every_requirement_of_a_listed_type_has_a_source_or_says_why_not() -> None:
    for code in ("late_filing", "tax_evasion", "invoice_false_issuing", "overdue_tax_unpaid"):
        for req in requirements(code):
            assert req.sources_for(code, date(2024, 1, 1)) or req.basis_note, (code, req.key)


def test_dispute_topics_link_known_fields() -> None:
    for topic in load_cues().disputes:
        assert set(topic.fields) <= set(FIELDS)


def test_check_reports_missing_items_with_their_provision() -> None:
    available = Available(
        facts={"violation": "late_filing", "violation_date": date(2025, 4, 15)},
        evidence=["营业执照", "责令限期改正通知书及送达回证"],
        recordings={5: "interview.wav"},
    )
    result = check_evidence("late_filing", date(2025, 4, 15), available).to_dict()
    assert result["complete"] is False
    assert result["missing"] == ["days_overdue", "filing_record"]
    evidence = {e["key"]: e for e in result["evidence"]}
    assert evidence["correction_order"]["met"]
    assert evidence["correction_order"]["legal_source"] == ["税收征收管理法:62"]
    assert evidence["party_statement"]["by"] == [{"recording_id": 5, "filename": "interview.wav"}]
    assert "税收征收管理法:62" in evidence["filing_record"]["legal_source"]


def test_unknown_violation_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        requirements("no_such_code")
    assert err.value.code == "unknown_violation"

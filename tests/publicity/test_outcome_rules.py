"""The 强制 and remedy rules are data whose articles are checked against the statute book:
第三十八条 is the 税收保全措施, 第四十条 the 强制执行措施, 第八十八条 the remedies, and every result
that withdraws a publication names a withdrawal reason of the publicity rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import PROJECT_ROOT
from assistant.errors import InvalidInput
from assistant.knowledge.statutes import StatuteBook
from assistant.outcomes.rules import load_outcome_rules, parse_rules
from assistant.publicity.rules import load_rules


def test_each_article_says_what_the_rules_say_it_does() -> None:
    book = StatuteBook.load([PROJECT_ROOT / "corpora"])
    rules = load_outcome_rules()
    assert set(rules.measures) == {"preservation", "execution"}
    for measure in rules.measures.values():
        text = book.get(measure.statute).text
        assert measure.name in text, measure.statute  # 税收保全措施 / 强制执行措施
        assert "县以上税务局（分局）局长批准" in text and "局长批准" in measure.note
    assert "冻结" in book.get("税收征收管理法:38").text
    assert "扣缴税款" in book.get("税收征收管理法:40").text
    remedy = book.get(rules.remedy_statute).text
    assert "行政复议" in remedy and "向人民法院起诉" in remedy
    withdrawal = book.get(rules.withdrawal_statute).text
    assert "撤回" in withdrawal and "变更、撤销、确认违法或者确认无效" in withdrawal
    assert rules.withdrawal_reasons() <= set(load_rules().withdrawal_reasons)
    assert rules.remedies["reconsideration"].results["维持"] is None
    documents = book.get(rules.documents_statute).text  # 实施细则第一百零七条 lists the 税务文书
    assert all(m.document in documents for m in rules.measures.values())


def test_every_kind_a_record_names_is_a_kind_of_the_publicity_rules() -> None:
    from assistant.documents.registry import PUBLISHED_TYPES

    publicity = load_rules()
    kinds = set(publicity.kinds.values())
    assert {p.kind for p in PUBLISHED_TYPES.values()} <= kinds
    measure = publicity.records["enforcement_measure"]
    assert measure.kind == "强制" and measure.period == "other" and measure.source
    assert "verify" in measure.confidence and "configurable" in measure.confidence


def test_a_rule_without_a_valid_statute_id_is_refused(tmp_path: Path) -> None:
    measure = {"name": "x", "statute": "税收征收管理法:第四十条", "methods": {"a": "b"}}
    data = {"enforcement": {"x": measure}}
    with pytest.raises(InvalidInput) as caught:
        parse_rules(data, tmp_path / "acts.yaml")
    assert caught.value.code == "invalid_outcome_rules"

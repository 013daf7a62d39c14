"""The spaCy pipeline itself: components, the real Baidu LAC model, token splits, DocBin."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.legal import StatuteId
from assistant.nlp import analyse, extract_entities, from_docbin, to_docbin, uscc_check_char
from assistant.nlp.pipeline import build_pipeline, lac_mentions, resolve

USCC = "91350100M000100Y4" + uscc_check_char("91350100M000100Y4")
TEXT = (
    "经查，张伟担任法定代表人的厦门海岚贸易有限公司（统一社会信用代码：" + USCC + "）"
    "于2019年3月至2020年5月期间在厦门市思明区取得福州蓝海商贸有限公司虚开的增值税专用发票"
    "12份，金额1,234,567.89元，少缴增值税142,026.48元。依据《中华人民共和国税收征收管理法》"
    "第六十三条第一款，我局于2021年6月8日作出决定。"
)


@pytest.fixture(scope="module")
def doc():  # type: ignore[no-untyped-def]
    return analyse(TEXT, reference_date=date(2021, 7, 1))


def test_pipeline_is_blank_zh_on_jieba_with_rule_lac_and_resolver_components() -> None:
    nlp = build_pipeline()
    assert nlp.lang == "zh"
    assert nlp.tokenizer.segmenter == "jieba"  # type: ignore[attr-defined]
    names = nlp.pipe_names
    assert names[-3:] == ["lac_ner", "statute_quotes", "entity_resolver"]
    assert {"taxassist_identifiers", "taxassist_amounts", "taxassist_statutes"} <= set(names)
    assert "lac_ner" not in build_pipeline(use_model=False).pipe_names


def test_lac_model_finds_people_places_and_companies() -> None:
    sentence = "张伟在厦门市思明区为福州蓝海商贸有限公司工作"
    found = {(c.kind, c.value) for c in lac_mentions(sentence)}
    assert ("person", "张伟") in found
    assert ("location", "厦门市") in found or ("location", "厦门市思明区") in found
    assert ("organisation", "福州蓝海商贸有限公司") in found


def test_lac_offsets_survive_pdf_line_breaks() -> None:
    text = "取得福州蓝海商贸\n有限公司虚开的发票"
    orgs = [c for c in lac_mentions(text) if c.kind == "organisation"]
    assert [text[c.start : c.end] for c in orgs] == ["福州蓝海商贸\n有限公司"]
    assert orgs[0].value == "福州蓝海商贸有限公司"


def test_entities_carry_value_and_source(doc) -> None:  # type: ignore[no-untyped-def]
    by_label = {(e.label_, e._.value): e for e in doc.ents}
    assert by_label[("uscc", USCC)]._.source == "rules"
    assert by_label[("amount", "1234567.89")].text == "1,234,567.89元"
    assert by_label[("period", "2019-03/2020-05")].text == "2019年3月至2020年5月"
    assert by_label[("date", "2021-06-08")]._.valid is True
    statute = by_label[("statute", "税收征收管理法:63:1")]
    assert statute.text == "第六十三条第一款"
    person = by_label[("person", "张伟")]
    assert "lac" in person._.source.split("+")
    assert ("organisation", "福州蓝海商贸有限公司") in by_label
    assert ("tax_type", "增值税") in by_label


def test_entities_sit_on_token_boundaries(doc) -> None:  # type: ignore[no-untyped-def]
    # jieba's tokens were split where an entity starts or ends inside one
    for ent in doc.ents:
        assert ent.text == TEXT[ent.start_char : ent.end_char]
        assert doc[ent.start].idx == ent.start_char
    assert "".join(t.text_with_ws for t in doc) == TEXT


def test_docbin_round_trip_keeps_entities_and_attributes(doc) -> None:  # type: ignore[no-untyped-def]
    [back] = from_docbin(to_docbin([doc]))
    assert back.text == TEXT
    assert [t.text for t in back] == [t.text for t in doc]
    got = [(e.label_, e.start_char, e.end_char, e._.value, e._.source, e._.note) for e in back.ents]
    want = [(e.label_, e.start_char, e.end_char, e._.value, e._.source, e._.note) for e in doc.ents]
    assert got == want and len(got) >= 10


def test_rules_only_flavour_finds_no_model_mentions() -> None:
    found = extract_entities(TEXT, use_model=False)
    assert all(e.source == "rules" for e in found)
    assert found.of("location") == []
    with_model = extract_entities(TEXT)
    assert {e.value for e in with_model.of("location")}


def test_resolve_prefers_longest_then_exact_kind_and_merges_sources() -> None:
    kept = resolve(
        [
            ["organisation", 0, 10, "甲", True, None, "rules"],
            ["organisation", 0, 10, "甲", True, None, "lac"],
            ["tax_type", 2, 5, "增值税", True, None, "rules"],
            ["time", 10, 20, "x", True, None, "lac"],
            ["date", 12, 18, "2021-06-08", True, None, "rules"],
        ]
    )
    assert [(k[0], k[6]) for k in kept] == [("organisation", "lac+rules"), ("date", "rules")]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2023年度企业所得税", "2023"),
        ("2019年至2023年期间", "2019/2023"),
        ("税款所属期2024年3月", "2024-03"),
    ],
)
def test_periods(text: str, value: str) -> None:
    assert [e.value for e in extract_entities(text, use_model=False).of("period")] == [value]


def test_full_date_range_stays_two_dates() -> None:
    found = extract_entities("2024年1月1日至2024年12月31日", use_model=False)
    assert [e.kind for e in found] == ["date", "date"]


def test_statute_citations_use_the_legal_core_ids() -> None:
    text = "依照《中华人民共和国发票管理办法》第三十五条第（一）项、第三十六条处理"
    found = extract_entities(text)
    values = [e.value for e in found.of("statute")]
    # a 项 cited without its 款 sits in the first 款, as the legal core's ids say
    assert values == ["发票管理办法:35:1:1", "发票管理办法:36"]
    assert [str(StatuteId.parse(v)) for v in values] == values

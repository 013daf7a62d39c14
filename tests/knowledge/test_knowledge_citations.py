"""Citation parsing on hand-written strings and on real decision texts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.knowledge import parse_citations

SHARED = (Path(__file__).resolve().parents[2] / ".." / "shared" / "corpora").resolve()


def ids(text: str) -> list[str]:
    return [c.id for c in parse_citations(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("依据《中华人民共和国税收征收管理法》第六十三条第一款的规定", ["税收征收管理法:63:1"]),
        ("《税收征收管理法》第六十三条", ["税收征收管理法:63"]),
        ("征管法第62条", ["税收征收管理法:62"]),
        ("税收征管法第三十二条规定", ["税收征收管理法:32"]),
        ("税收征管法实施细则第七十五条", ["税收征收管理法实施细则:75"]),
        # a bare implementing rule is not its parent law (发票管理办法 + 实施细则第…)
        ("发票管理办法实施细则第二十九条第（一）项", ["发票管理办法实施细则:29:1:1"]),
        ("增值税暂行条例实施细则第十九条", ["增值税暂行条例实施细则:19"]),
        ("《税收征收管理法》第六十三条、第六十四条", ["税收征收管理法:63", "税收征收管理法:64"]),
        ("《行政处罚法》第七十二条第一款第（一）项", ["行政处罚法:72:1:1"]),
        ("《行政处罚法》第七十二条第一款第(一)项", ["行政处罚法:72:1:1"]),
        ("《行政处罚法》第七十二条第一款第一项", ["行政处罚法:72:1:1"]),
        ("《中华人民共和国税收征收\n管理法》第六十\n三条", ["税收征收管理法:63"]),
        ("《中华人民共和国 税收征收管理法》第 62 条", ["税收征收管理法:62"]),
        ("刑法第二百零五条之一", ["刑法:205之一"]),
        (
            "《中华人民共和国发票管理办法》（国务院令第709号修订）第二十二条第一款、第二款第(一)项",
            ["发票管理办法:22:1", "发票管理办法:22:2:1"],
        ),
        ("依照刑法第二百零一条至第二百零四条", ["刑法:201", "刑法:202", "刑法:203", "刑法:204"]),
        ("根据第六十三条的规定处理。", []),
        ("依照本法第四十条规定执行", []),
        ("《中华人民共和国税收征收管理法》等相关法律法规", []),
    ],
)
def test_parse_citations(text: str, expected: list[str]) -> None:
    assert ids(text) == expected


def test_spans_point_at_the_article_text() -> None:
    text = "经查，依照《税收征收管理法》第六十三条、第六十四条第二款处理。"
    cites = parse_citations(text)
    assert [text[a:b] for a, b in (c.span for c in cites)] == ["第六十三条", "第六十四条第二款"]
    assert (cites[1].article, cites[1].paragraph, cites[1].item) == (64, 2, None)


def test_bare_article_after_sentence_end_is_skipped() -> None:
    assert ids("《行政处罚法》第三十三条。另第六十三条不应被归属。") == ["行政处罚法:33"]


def test_known_laws_filters_and_extends() -> None:
    text = "《城镇土地使用税暂行条例》第二条，征管法第六十三条，示例条例第五条"
    assert ids(text) == ["城镇土地使用税暂行条例:2", "税收征收管理法:63"]
    assert [c.id for c in parse_citations(text, known_laws=["税收征收管理法", "示例条例"])] == [
        "税收征收管理法:63",
        "示例条例:5",
    ]


@pytest.mark.shared
@pytest.mark.skipif(not SHARED.exists(), reason="../shared/corpora absent")
def test_real_decision_texts() -> None:
    texts = [
        json.loads(line)["text"]
        for line in (SHARED / "decisions" / "fulltext.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
        if line.strip()
    ]
    found = {c.id for t in texts for c in parse_citations(t)}
    # the statutes real decisions rely on, including ones split across PDF line breaks
    for expected in [
        "税收征收管理法:63:1",
        "税收征收管理法:32",
        "税收征收管理法:40",
        "税收征收管理法:86",
        "行政处罚法:72:1:1",
        "行政处罚法:36",
        "发票管理办法:22:2:1",
        "税收征收管理法实施细则:75",
    ]:
        assert expected in found, expected
    for cite in (c for t in texts for c in parse_citations(t)):
        assert cite.article > 0
        assert "\n" not in cite.id and " " not in cite.id

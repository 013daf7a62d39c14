"""Statute ids as values: parse, format, equality and order."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.legal import LegalValueError, StatuteId


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("税收征收管理法:63", ("税收征收管理法", 63, None, None, None, None)),
        ("发票管理办法:34:2", ("发票管理办法", 34, None, 2, None, None)),
        ("税收征收管理法:60:1:2", ("税收征收管理法", 60, None, 1, 2, None)),
        ("发票管理办法:33@2023-07-20", ("发票管理办法", 33, None, None, None, date(2023, 7, 20))),
        ("刑法:205之一:2@2023-12-29", ("刑法", 205, 1, 2, None, date(2023, 12, 29))),
    ],
)
def test_parse_and_format_round_trip(text: str, fields: tuple[object, ...]) -> None:
    sid = StatuteId.parse(text)
    assert (sid.law, sid.article, sid.sub, sid.paragraph, sid.item, sid.version) == fields
    assert str(sid) == text
    assert StatuteId.parse(str(sid)) == sid


def test_sub_article_is_written_in_chinese() -> None:
    assert str(StatuteId.parse("刑法:205之1")) == "刑法:205之一"
    assert StatuteId.parse("刑法:205之一:2").article_id == "刑法:205之一"


@pytest.mark.parametrize(
    "bad",
    [
        "税收征收管理法",
        "税收征收管理法:六十三",
        ":63",
        "税收征收管理法:0",
        "税收征收管理法:63:0",
        "法:1:2:3:4",
        "法:1.5",
        "法:1@2023-13-01",
        "税收征收管理法第63条",
    ],
)
def test_refuses_malformed_ids(bad: str) -> None:
    with pytest.raises(LegalValueError) as err:
        StatuteId.parse(bad)
    assert err.value.code == "invalid_statute_id"
    assert err.value.details["statute_id"] == bad
    assert "法条编号格式不正确" in err.value.message


def test_an_item_needs_its_paragraph() -> None:
    with pytest.raises(LegalValueError):
        StatuteId("税收征收管理法", 60, item=2)


def test_equality_and_hash() -> None:
    assert StatuteId.parse(" 发票管理办法:34:2 ") == StatuteId("发票管理办法", 34, paragraph=2)
    assert StatuteId.parse("发票管理办法:34:2") != StatuteId.parse("发票管理办法:34")
    assert len({StatuteId.parse("刑法:205之一"), StatuteId("刑法", 205, sub=1)}) == 1


def test_ordering_is_numeric() -> None:
    ids = ["税收征收管理法:10", "税收征收管理法:9:2", "税收征收管理法:9", "刑法:205之一"]
    ids.append("刑法:205")
    ordered = [str(s) for s in sorted(StatuteId.parse(i) for i in ids)]
    assert ordered == [
        "刑法:205",
        "刑法:205之一",
        "税收征收管理法:9",
        "税收征收管理法:9:2",
        "税收征收管理法:10",
    ]
    assert StatuteId.parse("发票管理办法:33@2019-03-02") < StatuteId.parse(
        "发票管理办法:33@2023-07-20"
    )


def test_article_level_and_unversioned() -> None:
    sid = StatuteId.parse("税收征收管理法:63:1:2@2015-04-24")
    assert str(sid.article_level()) == "税收征收管理法:63"
    assert str(sid.unversioned()) == "税收征收管理法:63:1:2"


@pytest.mark.parametrize(
    ("text", "reference"),
    [
        ("税收征收管理法:63", "第六十三条"),
        ("税收征收管理法:63:1", "第六十三条第一款"),
        ("税收征收管理法:63:1:2", "第六十三条第一款第（二）项"),
        ("行政处罚法:72:1:1", "第七十二条第一款第（一）项"),
        ("税收征收管理法:10", "第十条"),
        ("刑法:201", "第二百零一条"),
        ("刑法:110", "第一百一十条"),
        ("刑法:205之一", "第二百零五条之一"),
        ("税收征收管理法:88:3@2015-04-24", "第八十八条第三款"),
    ],
)
def test_reference(text: str, reference: str) -> None:
    assert StatuteId.parse(text).reference == reference

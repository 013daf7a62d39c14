"""Citation text as issued decisions print it, with official version markers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from assistant.legal import (
    LegalValueError,
    cite,
    cite_all,
    load_version_markers,
    short_law_name,
    version_marker,
)

TAX = "中华人民共和国税收征收管理法"
ADMIN = "中华人民共和国行政处罚法"
INVOICE = "中华人民共和国发票管理办法"


@dataclass(frozen=True)
class Basis:
    statute_id: str
    law_title: str


@pytest.mark.parametrize(
    ("statute_id", "title", "text"),
    [
        ("税收征收管理法:63", TAX, "《中华人民共和国税收征收管理法》第六十三条"),
        ("税收征收管理法:63:2", TAX, "《中华人民共和国税收征收管理法》第六十三条第二款"),
        (
            "行政处罚法:63:1:2",
            ADMIN,
            "《中华人民共和国行政处罚法》第六十三条第一款第（二）项",
        ),
        (
            # the 2023 text by its official marker, not by a date
            "发票管理办法:34:1@2023-07-20",
            INVOICE,
            "《中华人民共和国发票管理办法》（国务院令第764号修订）第三十四条第一款",
        ),
        (
            "发票管理办法:33:1:4@2019-03-02",
            INVOICE,
            "《中华人民共和国发票管理办法》（国务院令第709号修订）第三十三条第一款第（四）项",
        ),
        # a version the marker table lacks is named by its year
        (
            "税收征收管理法:63@2015-04-24",
            TAX,
            "《中华人民共和国税收征收管理法》（2015年修订）第六十三条",
        ),
    ],
)
def test_cite(statute_id: str, title: str, text: str) -> None:
    assert cite(statute_id, title) == text


def test_cite_refuses_the_title_of_another_law() -> None:
    with pytest.raises(LegalValueError) as err:
        cite("税收征收管理法:63", ADMIN)
    assert err.value.code == "statute_title_mismatch"


@pytest.mark.parametrize(
    ("basis", "sentence"),
    [
        (
            [Basis("税收征收管理法:63:1", TAX), Basis("行政处罚法:32", ADMIN)],
            "《中华人民共和国税收征收管理法》第六十三条第一款、《中华人民共和国行政处罚法》第三十二条",
        ),
        (
            # Articles of one law are grouped even when another law is cited in between.
            [
                Basis("税收征收管理法:63:1", TAX),
                Basis("行政处罚法:32", ADMIN),
                Basis("税收征收管理法:64", TAX),
            ],
            "《中华人民共和国税收征收管理法》第六十三条第一款、第六十四条、"
            "《中华人民共和国行政处罚法》第三十二条",
        ),
        (
            # A provision cited twice is printed once.
            [Basis("发票管理办法:37:1", INVOICE), Basis("发票管理办法:37:1", INVOICE)],
            "《中华人民共和国发票管理办法》第三十七条第一款",
        ),
    ],
)
def test_cite_all(basis: list[Basis], sentence: str) -> None:
    assert cite_all(basis) == sentence


def test_cite_all_refuses_empty_basis_and_bad_ids() -> None:
    with pytest.raises(LegalValueError) as err:
        cite_all([])
    assert err.value.code == "missing_legal_basis"
    with pytest.raises(LegalValueError) as err:
        cite_all([Basis("税收征收管理法:六十三", TAX)])
    assert err.value.code == "invalid_statute_id"


def test_markers_come_from_the_bundled_table_with_sources() -> None:
    assert version_marker("发票管理办法", date(2023, 7, 20)) == "国务院令第764号修订"
    assert version_marker("发票管理办法", date(2019, 3, 2)) == "国务院令第709号修订"


def test_a_marker_row_without_source_is_refused(tmp_path: Path) -> None:
    table = tmp_path / "version_markers.yaml"
    table.write_text(
        "markers:\n  - {law: 示例管理办法, order: 11, version_date: 2019-01-01, source: ''}\n",
        encoding="utf-8",
    )
    with pytest.raises(LegalValueError) as err:
        load_version_markers(table)
    assert err.value.code == "invalid_version_markers"


def test_short_law_name() -> None:
    assert short_law_name("中华人民共和国 税收征收管理法") == "税收征收管理法"
    assert short_law_name("中华人民共和国") == "中华人民共和国"

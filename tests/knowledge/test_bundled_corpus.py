"""The corpus a fresh install ships: the official statute texts and the SAT case bulletins
(corpora/SOURCES.md), with versions, concordance, markers and citations working on them."""

from __future__ import annotations

import hashlib
import re
from datetime import date

from assistant.config import BUNDLED_CORPUS, Settings
from assistant.discretion.engine import cite
from assistant.knowledge.cases_corpus import load_cases
from assistant.knowledge.concordance import concordance_for
from assistant.knowledge.statutes import StatuteBook

SOURCES = (BUNDLED_CORPUS / "SOURCES.md").read_text(encoding="utf-8")


def test_a_fresh_install_reads_the_bundled_official_corpus() -> None:
    settings = Settings(_env_file=None, corpora="")  # type: ignore[call-arg]
    assert settings.corpus_dirs == [BUNDLED_CORPUS]
    assert not list((BUNDLED_CORPUS / "cases").glob("demo*"))


def test_every_shipped_file_is_listed_with_its_hash() -> None:
    listed = dict(
        (path, digest) for digest, path in re.findall(r"^([0-9a-f]{64})  (\S+)$", SOURCES, re.M)
    )
    shipped = [
        *sorted(BUNDLED_CORPUS.glob("statutes/*.md")),
        BUNDLED_CORPUS / "cases" / "chinatax_bulletins.jsonl",
    ]
    assert len(shipped) == 18
    for path in shipped:
        key = f"corpora/{path.parent.name}/{path.name}"
        assert listed.get(key) == hashlib.sha256(path.read_bytes()).hexdigest(), key


def test_statute_book_versions_and_effective_dates() -> None:
    book = StatuteBook.load([BUNDLED_CORPUS])
    assert len(book.laws()) >= 15 and len(book) > 1000
    assert book.version_in_force("发票管理办法", date(2023, 7, 19)) == date(2019, 3, 2)
    assert book.version_in_force("发票管理办法", date(2023, 7, 20)) == date(2023, 7, 20)
    assert book.version_in_force("增值税法", date(2025, 12, 31)) is None  # in force 2026-01-01
    assert book.effective_date("行政处罚法", date(2021, 1, 22)) == date(2021, 7, 15)
    lost = book.get("发票管理办法:34", on=date(2024, 1, 1)).text
    assert "丢失发票或者擅自损毁发票的，依照前款规定处罚" in lost
    assert "演示" not in book.get("税收征收管理法:63").text
    assert "第二款" not in cite("税收征收管理法:63:1") and cite("税收征收管理法:63:2").endswith(
        "第六十三条第二款"
    )


def test_concordance_and_markers_on_the_official_texts() -> None:
    concordance = concordance_for(StatuteBook.load([BUNDLED_CORPUS]))
    # 丢失发票: 2019 第三十六条 is 2023 第三十四条; 虚开: 第三十七条 → 第三十五条.
    assert concordance.translate("发票管理办法:36:2", date(2023, 1, 1), date(2024, 1, 1)) == (
        "发票管理办法:34:2"
    )
    assert concordance.translate("发票管理办法:37:1", date(2023, 1, 1), None) == (
        "发票管理办法:35:1"
    )
    assert concordance.marked_version("发票管理办法", "国务院令第709号修订") == date(2019, 3, 2)
    assert concordance.marked_version("发票管理办法", "国务院令第764号修订") == date(2023, 7, 20)


def test_case_base_is_the_sat_bulletins() -> None:
    cases = load_cases([BUNDLED_CORPUS])
    assert len(cases) > 1000
    assert all(c.id.startswith("bulletin:") for c in cases)
    kinds = {c.violation_type for c in cases}
    assert {"tax_evasion", "invoice_false_issuing", "export_refund_fraud"} <= kinds

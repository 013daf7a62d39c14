"""Statute parsing (demo and real corpus) and version selection by date."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from assistant.config import BUNDLED_CORPUS
from assistant.errors import NotFound
from assistant.knowledge import StatuteBook, parse_statute_file
from assistant.legal import LegalValueError, StatuteId
from tests.conftest import DEMO_CORPUS

SHARED = (Path(__file__).resolve().parents[2] / ".." / "shared" / "corpora").resolve()


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_parse_demo_file_structure() -> None:
    arts = parse_statute_file(DEMO_CORPUS / "statutes" / "税收征收管理法(2015-04-24).md")
    by_id = {a.id: a for a in arts}
    a63 = by_id["税收征收管理法:63"]
    assert a63.law == "税收征收管理法"
    assert a63.title == "中华人民共和国税收征收管理法"
    assert a63.version_date == date(2015, 4, 24)
    assert a63.chapter == "第五章 法律责任"
    assert len(a63.paragraphs) == 2
    assert not a63.paragraphs[0].startswith("第六十三条")
    assert "百分之五十以上五倍以下" in a63.text
    assert a63.versioned_id == "税收征收管理法:63@2015-04-24"
    assert a63.source.endswith("税收征收管理法(2015-04-24).md")
    assert len(by_id["税收征收管理法:60"].paragraphs) == 3


def test_demo_corpus_has_required_articles() -> None:
    book = StatuteBook.load([DEMO_CORPUS])
    required = {
        "税收征收管理法": [25, 32, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 86, 88],
        "行政处罚法": [29, 32, 33, 36, 37, 44, 45, 51, 58, 63, 64, 67, 72],
        "刑法": [201, 205],
    }
    for law, numbers in required.items():
        for n in numbers:
            assert book.get(f"{law}:{n}").article == n
    assert book.get("发票管理办法:37@2019-03-02").text.startswith("违反本办法第二十二条第二款")
    assert book.get("发票管理办法:35@2023-07-20").text.startswith("违反本办法的规定虚开发票")


def test_parser_handles_sections_sub_articles_and_undated(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "statutes" / "示例法_节选.md",
        "# 中华人民共和国示例法\n\n2001年1月1日 通过\n\n2009年2月28日 修正\n\n<!-- INFO END -->\n\n"
        "## 第一编 总则\n\n### 第一章 总　则\n\n#### 第一节 一般规定\n\n"
        "第一条 第一款内容。\n\n第二款内容。\n\n第一条之一 插入的条文。\n\n"
        "## 附件一\n\n1．不属于任何条文的附件内容\n",
    )
    arts = parse_statute_file(path)
    assert [a.id for a in arts] == ["示例法:1", "示例法:1之一"]
    assert arts[0].paragraphs == ("第一款内容。", "第二款内容。")
    assert arts[0].chapter == "第一章 总则"
    assert arts[1].sub == 1 and arts[1].label == "第一条之一"
    assert arts[1].paragraphs == ("插入的条文。",)  # the annex is not part of the article
    assert arts[0].version_date == date(2009, 2, 28)  # latest date of the preamble


def _book_with_versions(tmp_path: Path) -> StatuteBook:
    d = tmp_path / "c"
    for name, body in [
        ("发票管理办法(2019-03-02).md", "第三十七条 旧版虚开罚则。"),
        ("发票管理办法(2023-07-20).md", "第三十五条 新版虚开罚则。"),
        ("增值税暂行条例(2017-11-19).md", "第一条 暂行条例。"),
        ("增值税法(2024-12-25).md", "第一条 增值税法。"),
    ]:
        title = "中华人民共和国" + name.split("(")[0]
        _write(d / "statutes" / name, f"# {title}\n\n<!-- INFO END -->\n\n{body}\n")
    _write(
        d / "statutes" / "effective_dates.yaml",
        "versions:\n  - {law: 增值税法, version_date: 2024-12-25, effective_date: 2026-01-01,"
        " new_law: true, source: '增值税法:38'}\n"
        "repealed:\n  - {law: 增值税暂行条例, repealed_on: 2026-01-01, source: '增值税法:38'}\n",
    )
    return StatuteBook.load([d])


def test_version_selection_by_date(tmp_path: Path) -> None:
    book = _book_with_versions(tmp_path)
    assert book.get("发票管理办法:37", date(2023, 1, 1)).version_date == date(2019, 3, 2)
    assert book.get("发票管理办法:35", date(2024, 1, 1)).version_date == date(2023, 7, 20)
    with pytest.raises(NotFound) as exc:
        book.get("发票管理办法:37", date(2024, 1, 1))  # renumbered in 2023
    assert exc.value.code == "statute_not_found"
    assert book.get("发票管理办法:35").version_date == date(2023, 7, 20)  # latest
    assert book.get("发票管理办法:37@2019-03-02").text == "旧版虚开罚则。"
    # before the earliest version in the corpus: the earliest known text
    assert book.get("发票管理办法:37", date(2015, 1, 1)).version_date == date(2019, 3, 2)

    laws_2025 = {a.law for a in book.articles(date(2025, 6, 1))}
    laws_2026 = {a.law for a in book.articles(date(2026, 6, 1))}
    assert "增值税暂行条例" in laws_2025 and "增值税法" not in laws_2025
    assert "增值税法" in laws_2026 and "增值税暂行条例" not in laws_2026
    with pytest.raises(NotFound):
        book.get("增值税法:1", date(2025, 6, 1))
    assert book.effective_date("增值税法", date(2024, 12, 25)) == date(2026, 1, 1)
    assert book.laws()["发票管理办法"] == [date(2019, 3, 2), date(2023, 7, 20)]


def test_later_corpus_dir_wins(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for d, text in [(first, "摘要文本。"), (second, "官方文本。")]:
        _write(
            d / "statutes" / "示例法(2020-01-01).md",
            f"# 中华人民共和国示例法\n\n<!-- INFO END -->\n\n第一条 {text}\n",
        )
    book = StatuteBook.load([first, second])
    assert book.get("示例法:1").text == "官方文本。"
    assert book.full_title("示例法") == "中华人民共和国示例法"


def test_get_accepts_paragraph_suffix_and_rejects_bad_ids() -> None:
    book = StatuteBook.load([DEMO_CORPUS])
    assert book.get("税收征收管理法:63:1").id == "税收征收管理法:63"
    with pytest.raises(LegalValueError) as exc:
        book.get("税收征收管理法第63条")
    assert exc.value.code == "invalid_statute_id"
    with pytest.raises(NotFound) as nf:
        book.get("不存在法:1")
    assert nf.value.code == "statute_not_found"
    with pytest.raises(NotFound):
        book.full_title("不存在法")
    ref = StatuteId.parse("刑法:205之一:2@2023-12-29")
    assert (ref.article, ref.sub, ref.paragraph, ref.version) == (205, 1, 2, date(2023, 12, 29))


@pytest.mark.shared
@pytest.mark.skipif(not SHARED.exists(), reason="../shared/corpora absent")
def test_demo_summary_numbers_match_official_text() -> None:
    """Every money figure, multiple and period in a demo summary appears in the real article."""
    demo = StatuteBook.load([DEMO_CORPUS])
    real = StatuteBook.load([SHARED])
    pattern = re.compile(
        r"[0-9一二三四五六七八九十百千万]+(?:元|倍|年|日|天)|百分之[一二三四五六七八九十]+"
    )
    for art in demo.all_articles():
        official = real.get(art.versioned_id)
        for figure in set(pattern.findall(art.text)):
            assert figure in official.text, (art.versioned_id, figure)


@pytest.mark.shared
@pytest.mark.skipif(not SHARED.exists(), reason="../shared/corpora absent")
def test_parse_all_shared_statutes() -> None:
    files = sorted((SHARED / "statutes").glob("*.md"))
    assert len(files) == 17
    for path in files:
        arts = parse_statute_file(path)
        assert arts, path.name
        ids = [a.id for a in arts]
        assert len(ids) == len(set(ids)), path.name
        assert all(a.paragraphs and a.paragraphs[0] for a in arts)
        assert not any(re.match(r"^第[一二三四五六七八九十百千]+条\s", a.text) for a in arts)
    book = StatuteBook.load([DEMO_CORPUS, SHARED])
    assert len(book.laws()) == 15  # the 刑法 excerpt is folded into the full text
    assert book.laws()["刑法"] == [date(2023, 12, 29)]
    assert book.get("刑法:205之一").chapter == "第三章 破坏社会主义市场经济秩序罪"
    assert len(book.get("税收征收管理法:63").paragraphs) == 2
    assert "5万元以上50万元以下" in book.get("发票管理办法:35", date(2024, 1, 1)).text
    assert "5万元以上50万元以下" in book.get("发票管理办法:37", date(2023, 1, 1)).text
    # real text supersedes the demo summary of the same version
    assert book.get("税收征收管理法:62").source.startswith(str(SHARED))
    assert len(book.articles(date(2024, 6, 1))) > 1000
    vat_2025 = {a.law for a in book.articles(date(2025, 6, 1))}
    vat_2026 = {a.law for a in book.articles(date(2026, 6, 1))}
    assert "增值税暂行条例" in vat_2025 and "增值税法" not in vat_2025
    assert "增值税法" in vat_2026 and "增值税暂行条例" not in vat_2026
    assert book.effective_date("行政处罚法", date(2021, 1, 22)) == date(2021, 7, 15)


BUNDLED_BOOK = StatuteBook.load([BUNDLED_CORPUS])


def test_get_returns_the_paragraph_a_statute_id_names() -> None:
    """发票管理办法:34:2 is the second 款 of 第三十四条 (丢失发票), not the whole article."""
    whole = BUNDLED_BOOK.get("发票管理办法:34@2023-07-20")
    second = BUNDLED_BOOK.get("发票管理办法:34:2@2023-07-20")
    assert len(whole.clauses()) == 2
    assert second.text == "丢失发票或者擅自损毁发票的，依照前款规定处罚。"
    assert (second.paragraph, second.item) == (2, None)
    assert str(second.statute_id) == "发票管理办法:34:2"
    assert second.label == "第三十四条第二款"
    first = BUNDLED_BOOK.get("发票管理办法:34:1@2023-07-20")
    assert first.text.startswith("跨规定的使用区域携带") and "丢失发票" not in first.text


def test_get_returns_an_item_after_its_paragraphs_opening_words() -> None:
    """发票管理办法 2023 第三十三条第一款第（四）项: 拆本使用发票, read with the 款's conditions."""
    item = BUNDLED_BOOK.get("发票管理办法:33:1:4@2023-07-20")
    assert item.paragraphs[0].startswith("违反本办法的规定，有下列情形之一的")
    assert item.paragraphs[1] == "（四）拆本使用发票的；"
    assert len(item.paragraphs) == 2
    clause = BUNDLED_BOOK.get("发票管理办法:33:1@2023-07-20")
    assert any(line.startswith("（四）") for line in clause.paragraphs)


@pytest.mark.parametrize(
    "statute_id", ["发票管理办法:34:3@2023-07-20", "发票管理办法:34:1:1@2023-07-20"]
)
def test_get_refuses_a_paragraph_or_item_the_article_lacks(statute_id: str) -> None:
    with pytest.raises(NotFound) as nf:
        BUNDLED_BOOK.get(statute_id)
    assert nf.value.code == "statute_not_found"
    assert "该条共2款" in nf.value.message

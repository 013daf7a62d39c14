"""Article concordance between statute versions, and case votes carried across renumbering.

The first tests use a tiny project-written two-version law (no shared data); the bundled demo
corpus holds both 发票管理办法 versions' key articles, so the recommender test runs without
../shared too. The real-text tests check every 发票管理办法 2019 -> 2023 pair, verified by reading
both texts.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from assistant.knowledge import StatuteBook, parse_citations
from assistant.knowledge.cases_corpus import CaseDoc
from assistant.knowledge.concordance import (
    Concordance,
    concordance_for,
    load_version_markers,
    match_articles,
)
from assistant.knowledge.evaluation import case_label
from assistant.knowledge.recommend import StatuteRecommender
from assistant.legal import LegalValueError
from tests.conftest import DEMO_CORPUS, SHARED_CORPORA, requires_shared

INVOICE = "发票管理办法"
NOTE_2019 = "财政部令第6号发布，国务院令第709号修订"

# A project-written law in two versions: 2023 deletes 第二条, inserts a new 第三条, amends the
# penalty article slightly and renumbers the rest.
OLD_TEXT = """# 示例管理办法

<!-- INFO END -->

第一条 为了规范示例管理，制定本办法。

第二条 申请人应当提供保证人或者交纳保证金，保证金在办结后退还。

第三条 任何单位和个人不得伪造、变造示例凭证，不得转借、转让示例凭证。

第四条 违反本办法第三条规定的，由主管机关没收违法所得，并处一万元以上五万元以下的罚款。

第五条 本办法自发布之日起施行。
"""
NEW_TEXT = """# 示例管理办法

<!-- INFO END -->

第一条 为了规范示例管理，制定本办法。

第二条 任何单位和个人不得伪造、变造示例凭证，不得转借、转让示例凭证。

第三条 电子凭证与纸质凭证具有同等法律效力，数据标准由主管部门统一规定。

第四条 违反本办法第二条规定的，由主管机关没收违法所得，并处一万元以上十万元以下的罚款。

第五条 本办法自发布之日起施行。
"""


def _tiny_book(root: Path) -> StatuteBook:
    folder = root / "statutes"
    folder.mkdir(parents=True)
    (folder / "示例管理办法(2019-01-01).md").write_text(OLD_TEXT, encoding="utf-8")
    (folder / "示例管理办法(2023-01-01).md").write_text(NEW_TEXT, encoding="utf-8")
    (folder / "单一法(2020-01-01).md").write_text(
        "# 单一法\n\n<!-- INFO END -->\n\n第一条 只有一个版本。\n", encoding="utf-8"
    )
    return StatuteBook.load([root])


def test_tiny_law_pairs_deletions_and_additions(tmp_path: Path) -> None:
    book = _tiny_book(tmp_path)
    conc = Concordance(book)
    [step] = conc.steps("示例管理办法")
    assert step.forward == {
        "示例管理办法:1": "示例管理办法:1",
        "示例管理办法:3": "示例管理办法:2",
        "示例管理办法:4": "示例管理办法:4",
        "示例管理办法:5": "示例管理办法:5",
    }
    assert step.deleted == ("示例管理办法:2",) and step.added == ("示例管理办法:3",)
    assert step.unchanged == 2  # 第一条 and 第五条: same number, same text
    assert conc.steps("单一法") == []
    [row] = conc.summary()
    assert (row["mapped"], row["renumbered"], row["amended_same_number"]) == (4, 1, 1)


def test_tiny_law_translate_both_ways(tmp_path: Path) -> None:
    conc = Concordance(_tiny_book(tmp_path))
    old, new = date(2020, 6, 1), date(2024, 6, 1)
    assert conc.translate("示例管理办法:3", old, new) == "示例管理办法:2"
    assert conc.translate("示例管理办法:2", new, old) == "示例管理办法:3"
    assert conc.translate("示例管理办法:3", old, old) == "示例管理办法:3"
    # 款/项 kept; an explicit version suffix overrides the citing date
    assert conc.translate("示例管理办法:3:2", old, new) == "示例管理办法:2:2"
    assert conc.translate("示例管理办法:3@2019-01-01", new, new) == "示例管理办法:2"
    # deleted in 2023 / new in 2023: no counterpart
    assert conc.translate("示例管理办法:2", old, new) is None
    assert conc.translate("示例管理办法:3", new, old) is None
    # nothing known: unchanged (one version, or an article the cited version lacks)
    assert conc.translate("单一法:1", old, new) == "单一法:1"
    assert conc.translate("示例管理办法:9", old, new) == "示例管理办法:9"
    assert conc.translate("未收录法:1", old, new) == "未收录法:1"
    with pytest.raises(LegalValueError):
        conc.translate("not an id", old, new)


def test_threshold_decides_what_is_a_counterpart(tmp_path: Path) -> None:
    book = _tiny_book(tmp_path)
    old = [a for a in book.all_articles() if a.version_date == date(2019, 1, 1)]
    new = [a for a in book.all_articles() if a.version_date == date(2023, 1, 1)]
    pairs, deleted, added = match_articles(old, new, threshold=1.0)
    # only identical texts pair at threshold 1.0: the amended penalty article is then
    # "deleted and added"
    assert {(p.old_id, p.new_id) for p in pairs} == {
        ("示例管理办法:1", "示例管理办法:1"),
        ("示例管理办法:3", "示例管理办法:2"),
        ("示例管理办法:5", "示例管理办法:5"),
    }
    assert deleted == ["示例管理办法:2", "示例管理办法:4"]
    assert added == ["示例管理办法:3", "示例管理办法:4"]


def test_version_markers_name_the_cited_version(tmp_path: Path) -> None:
    book = _tiny_book(tmp_path)
    markers = tmp_path / "markers.yaml"
    markers.write_text(
        "markers:\n"
        "  - {law: 示例管理办法, order: 11, version_date: 2019-01-01, source: 示例}\n"
        "  - {law: 示例管理办法, order: 22, version_date: 2023-01-01, source: 示例}\n",
        encoding="utf-8",
    )
    conc = Concordance(book, markers=load_version_markers(markers))
    law = "示例管理办法"
    assert conc.marked_version(law, "国务院令第11号修订") == date(2019, 1, 1)
    assert conc.marked_version(law, "经国务院令第11号、第22号修订") == date(2023, 1, 1)
    assert conc.marked_version(law, "2019年修订") == date(2019, 1, 1)
    assert conc.marked_version(law, "2018年修正版") == date(2019, 1, 1)  # earliest held
    assert conc.marked_version(law, "国发〔1986〕50号") is None
    # a 2024 case citing the 2019 text by its order number: 第三条 is the 2023 第二条
    later = date(2024, 1, 1)
    assert conc.translate(f"{law}:3", later, later, version_note="国务院令第11号") == f"{law}:2"
    assert conc.translate(f"{law}:3", later, later, version_note="无关说明") == f"{law}:3"
    markers.write_text("markers:\n  - {law: 示例管理办法, order: 11}\n", encoding="utf-8")
    with pytest.raises(LegalValueError) as exc:
        load_version_markers(markers)
    assert exc.value.code == "invalid_version_markers"


def test_citations_expose_their_version_note() -> None:
    text = (
        f"依据《中华人民共和国发票管理办法》（{NOTE_2019}）第二十二条第二款、第三十七条，"
        "《征管法》第六十三条"
    )
    cites = parse_citations(text)
    assert [(c.id, c.version_note) for c in cites] == [
        ("发票管理办法:22:2", NOTE_2019),
        ("发票管理办法:37", NOTE_2019),
        ("税收征收管理法:63", None),
    ]


def _case(
    statutes: tuple[str, ...], day: date | None, notes: tuple[tuple[str, str], ...] = ()
) -> CaseDoc:
    return CaseDoc(
        "bulletin:x",
        "虚开发票案",
        "为他人虚开发票",
        None,
        "",
        "s",
        day,
        statutes,
        "bulletin",
        statute_notes=notes,
    )


def _votes(book: StatuteBook, case: CaseDoc, on: date) -> dict[str, float]:
    rec = StatuteRecommender(book, [case])
    ev = rec.evidence("为他人虚开发票", on=on, article_ranking=[], case_similarity=[(0, 1.0)])
    return ev.votes.get("similar_cases", {})


def test_case_votes_follow_the_renumbering_in_the_demo_corpus() -> None:
    book = StatuteBook.load([DEMO_CORPUS])
    case = _case(("发票管理办法:22:2", "税收征收管理法:63"), date(2021, 5, 1))
    assert set(_votes(book, case, date(2024, 3, 1))) == {"发票管理办法:21", "税收征收管理法:63"}
    assert set(_votes(book, case, date(2020, 3, 1))) == {"发票管理办法:22", "税收征收管理法:63"}
    rec = StatuteRecommender(book, [case])
    ev = rec.evidence(
        "为他人虚开发票", on=date(2024, 3, 1), article_ranking=[], case_similarity=[(0, 1.0)]
    )
    top = {r.article.versioned_id: r.provenance for r in rec.rank(ev, k=5)}
    assert top["发票管理办法:21@2023-07-20"] == ("similar_case:bulletin:x",)
    # an undated 2026 decision citing the 2019 text by its order number
    noted = _case(("发票管理办法:22:2",), None, (("发票管理办法:22", NOTE_2019),))
    assert set(_votes(book, noted, date(2024, 3, 1))) == {"发票管理办法:21"}
    # a closed TaxAssist case stores its versioned legal basis: the version wins over the date
    closed = _case(("发票管理办法:37:1@2019-03-02",), date(2024, 1, 1))
    assert set(_votes(book, closed, date(2024, 3, 1))) == {"发票管理办法:35"}


def test_case_label_reads_the_cited_version() -> None:
    # the old hard-coded table gave these labels; the concordance must keep them
    for statute, day, label in (
        ("发票管理办法:22:2", date(2021, 1, 1), "invoice_false_issuing"),
        ("发票管理办法:37", date(2021, 1, 1), "invoice_false_issuing"),
        ("发票管理办法:35", date(2021, 1, 1), "invoice_misuse"),
        ("发票管理办法:21:2", date(2024, 1, 1), "invoice_false_issuing"),
        ("发票管理办法:35", date(2024, 1, 1), "invoice_false_issuing"),
        ("发票管理办法:33", date(2024, 1, 1), "invoice_misuse"),
        ("发票管理办法:22", date(2024, 1, 1), None),  # 2023 第二十二条: 税控装置, no penalty
    ):
        assert case_label(_case((statute,), day)) == label, (statute, day)
    # undated decision citing the 2019 text (国务院令第709号): 第二十二条 is 虚开 there
    noted = _case(("发票管理办法:22:2:1",), None, (("发票管理办法:22", NOTE_2019),))
    assert case_label(noted) == "invoice_false_issuing"
    assert case_label(_case(("发票管理办法:22:2:1",), None)) is None


# -- the real statute texts -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_book() -> StatuteBook:
    if not SHARED_CORPORA.is_dir():
        pytest.skip(f"real corpora not found at {SHARED_CORPORA}")
    return StatuteBook.load([DEMO_CORPUS, SHARED_CORPORA])


def _expected_2019_to_2023(n: int) -> int | None:
    """Read off both texts: 2019 第十八条 (保证人/保证金) and 第三十四条 (发票填写情况核对卡) were
    deleted; the articles after each shift up by one."""
    if n in (18, 34):
        return None
    return n if n < 18 else n - 1 if n < 34 else n - 2


@requires_shared
def test_real_invoice_concordance_2019_to_2023(real_book: StatuteBook) -> None:
    conc = concordance_for(real_book)
    assert conc is concordance_for(real_book)  # built once per book
    [step] = conc.steps(INVOICE)
    assert (step.old_version, step.new_version) == (date(2019, 3, 2), date(2023, 7, 20))
    expected = {
        f"{INVOICE}:{n}": f"{INVOICE}:{m}"
        for n in range(1, 46)
        if (m := _expected_2019_to_2023(n)) is not None
    }
    assert step.forward == expected
    assert step.deleted == (f"{INVOICE}:18", f"{INVOICE}:34") and step.added == ()
    # the pairs the renumbering matters for, and their texts
    v19, v23 = "@2019-03-02", "@2023-07-20"
    for old, new, words in (
        (22, 21, "虚开发票行为"),
        (37, 35, "虚开发票的，由税务机关没收违法所得"),
        (35, 33, "应当开具而未开具发票"),
        (39, 37, "转借、转让、介绍他人转让发票"),
    ):
        assert words in real_book.by_versioned_id(f"{INVOICE}:{old}{v19}").text  # type: ignore[union-attr]
        assert words in real_book.by_versioned_id(f"{INVOICE}:{new}{v23}").text  # type: ignore[union-attr]
        assert conc.translate(f"{INVOICE}:{old}", date(2021, 1, 1), date(2024, 1, 1)) == (
            f"{INVOICE}:{new}"
        )
        assert conc.translate(f"{INVOICE}:{new}", date(2024, 1, 1), date(2021, 1, 1)) == (
            f"{INVOICE}:{old}"
        )
    # deleted: the 2023 text has no 保证人 rule and no 核对卡
    for old, words in ((18, "保证人"), (34, "核对卡")):
        assert words in real_book.by_versioned_id(f"{INVOICE}:{old}{v19}").text  # type: ignore[union-attr]
        assert not any(
            words in a.text for a in real_book.articles(date(2024, 1, 1)) if a.law == INVOICE
        )
        assert conc.translate(f"{INVOICE}:{old}", date(2021, 1, 1), date(2024, 1, 1)) is None


@requires_shared
def test_unchanged_law_maps_every_article_to_itself(real_book: StatuteBook, tmp_path: Path) -> None:
    conc = concordance_for(real_book)
    assert conc.translate("税收征收管理法:63", date(2016, 1, 1), date(2024, 1, 1)) == (
        "税收征收管理法:63"
    )
    folder = tmp_path / "statutes"
    folder.mkdir()
    source = SHARED_CORPORA / "statutes" / "税收征收管理法(2015-04-24).md"
    shutil.copy(source, folder / "税收征收管理法(2015-04-24).md")
    shutil.copy(source, folder / "税收征收管理法(2025-01-01).md")
    twice = Concordance(StatuteBook.load([tmp_path]))
    [step] = twice.steps("税收征收管理法")
    assert len(step.pairs) == step.unchanged > 90
    assert all(p.old_id == p.new_id and p.similarity == 1.0 for p in step.pairs)
    assert step.deleted == step.added == ()


@requires_shared
def test_real_case_votes_follow_the_renumbering(real_book: StatuteBook) -> None:
    case = _case(("发票管理办法:22", "发票管理办法:18"), date(2021, 5, 1))
    later = _votes(real_book, case, date(2024, 3, 1))
    assert set(later) == {"发票管理办法:21"}  # 第十八条 has no 2023 counterpart: dropped
    assert set(_votes(real_book, case, date(2020, 3, 1))) == {"发票管理办法:22", "发票管理办法:18"}

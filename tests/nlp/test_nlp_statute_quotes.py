"""Law quoted inside a decision's facts is not the case: passages quoted after a citation are
marked, and the persons, organisations, amounts, dates and taxes inside them are dropped while
the citations stay. The sentences are from the issued decisions in ../shared/corpora/decisions
(file named per sentence, whitespace of the PDF text kept)."""

from __future__ import annotations

import json

from assistant.legal.citations import statute_quotes
from assistant.nlp import extract_entities
from assistant.nlp.pipeline import build_pipeline
from tests.conftest import SHARED_CORPORA, requires_shared

# originals/0d5f1a60c7c880da63d7.pdf: a finding, then 发票管理办法 37 quoted with its thresholds
INVOICE_FACTS = (
    "“为他人”虚\n开增值税专用发票 97 份，金额 87,923,181.86 元，税额\n14,946,940.79 元。"
)
INVOICE_LAW = (
    "（二）依据《中华人民共和国发票管理办法》（中华人民共\n和国国务院令587号）第三十七条第一款："
    "“违反本办法第二十\n二条第二款的规定虚开发票的，由税务机关没收违法所得；虚开\n金额在1 万元"
    "以下的，可以并处5 万元以下的罚款；虚开金额超\n过1 万元的，并处 5 万元以上 50 万元以下的罚款；"
    "构成犯罪的，\n依法追究刑事责任。”"
)
# originals/906deae7e5864ff1aa6e.doc: 征管法 63 quoted before the finding
EVASION = (
    "根据《中华人民共和国税收征收管理法》第六十三条“纳税人伪造、变造、隐匿、擅自销毁账簿、记账凭证，"
    "或者在账簿上多列支出或者不列、少列收入，或者经税务机关通知申报而拒不申报或者进行虚假的纳税申报，"
    "不缴或者少缴应纳税款的，是偷税。对纳税人偷税的，由税务机关追缴其不缴或者少缴的税款、滞纳金，"
    "并处不缴或者少缴的税款百分之五十以上五倍以下的罚款；构成犯罪的，依法追究刑事责任。”的规定，"
    "你的上述行为已构成偷税。"
)
# originals/78ea0c2f117a55b86c4a.pdf: two provisions of one regulation quoted in a chain
STAMP_DUTY = (
    "根据《中华人民共和国印花税暂行条例》（1988 年中\n华人民共和国国务院令第 11 号）第一条“在中华"
    "人民共和国境\n内书立、领受本条例所列的单位和个人，都是印花税的纳税人，\n应当依照本条例规定缴纳"
    "印花税”、第三条“纳税人根据应纳税\n凭证的性质、分别按比例税率或者按件定额计算应纳税额。具体\n"
    "税率、税额的确定，依照本条例所附《印花税税目税率表》执行”\n之规定，你单位存在少缴 2009 年 11 "
    "月 26 日印花税 6,374.80 元\n的违法事实。"
)


def _inside(quotes: list[tuple[int, int]], position: int) -> bool:
    return any(a <= position < b for a, b in quotes)


def test_thresholds_quoted_from_the_law_are_no_case_amounts() -> None:
    text = INVOICE_FACTS + "\n" + INVOICE_LAW
    quotes = statute_quotes(text)
    assert len(quotes) == 1 and text[quotes[0][0] :].startswith("“违反本办法")
    entities = extract_entities(text)
    amounts = [e.value for e in entities.of("amount")]
    assert amounts == ["87923181.86", "14946940.79"]  # the finding's; not 1万, 5万, 50万
    assert "发票管理办法:37:1" in [e.value for e in entities.of("statute")]
    assert not [e for e in entities if e.kind != "statute" and _inside(quotes, e.span.start)]


def test_the_quoted_definition_of_evasion_yields_no_entities_but_its_citation() -> None:
    quotes = statute_quotes(EVASION)
    assert len(quotes) == 1 and EVASION[quotes[0][1] - 1] == "”"
    entities = extract_entities(EVASION)
    assert [e.value for e in entities.of("statute")] == ["税收征收管理法:63"]
    assert not [e for e in entities if e.kind != "statute" and _inside(quotes, e.span.start)]
    assert build_pipeline(use_model=True).pipe_names[-2:] == ["statute_quotes", "entity_resolver"]


def test_a_chain_of_quoted_provisions_is_marked_and_the_finding_after_it_read() -> None:
    quotes = statute_quotes(STAMP_DUTY)
    assert [STAMP_DUTY[a + 1 : a + 5] for a, _ in quotes] == ["在中华人", "纳税人根"]
    entities = extract_entities(STAMP_DUTY, use_model=False)
    assert [e.value for e in entities.of("amount")] == ["6374.80"]
    assert [e.value for e in entities.of("date")] == ["2009-11-26"]
    # 印花税 is named inside both quotes and in the finding: only the finding's counts
    taxes = entities.of("tax_type")
    assert taxes and all(not _inside(quotes, e.span.start) for e in taxes)
    # (第三条 after a quote has no title before it: the citation parser does not read it)
    assert "印花税暂行条例:1" in [e.value for e in entities.of("statute")]


def test_words_quoted_in_the_facts_are_not_law() -> None:
    assert statute_quotes(INVOICE_FACTS) == []
    finding = "你公司在无真实货物交易的情况下，“让他人为自己”虚开增值税专用发票。"
    assert statute_quotes(finding) == []


@requires_shared
def test_every_decision_quote_after_a_citation_is_marked_and_no_fact_quote() -> None:
    """Over the 11 issued decisions: the quotes the facts use for the kinds of 虚开 and the
    name of a relief policy stay unmarked; every quote opening right after an article of a
    titled law is marked."""
    import re

    path = SHARED_CORPORA / "decisions" / "fulltext.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    marked = 0
    after_article = re.compile(r"》[^。“]{0,40}?第[^。“”]{1,12}?[条款项][：:]?\s*$")
    for row in rows:
        text = row["text"]
        quotes = statute_quotes(text)
        marked += len(quotes)
        for m in re.finditer("“", text):
            inner = text[m.end() : text.find("”", m.end())]
            if inner.replace("\n", "") in ("让他人为自己", "为他人", "六税两费", "二年未被发现"):
                assert not _inside(quotes, m.start()), (row["file"], inner)
            if after_article.search(text[max(0, m.start() - 60) : m.start()]):
                assert _inside(quotes, m.start()), (row["file"], text[m.start() : m.start() + 30])
    assert marked >= 70

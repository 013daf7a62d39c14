"""Our decision against issued 税务行政处罚决定书 (../shared/corpora/decisions/fulltext.jsonl)."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from assistant.drafting import (
    DocumentType,
    LegalBasis,
    Party,
    PenaltyContext,
    chinese_date,
    render,
)
from assistant.legal import chinese_number

SHARED = (Path(__file__).resolve().parents[2] / ".." / "shared" / "corpora").resolve()
FULLTEXT = SHARED / "decisions" / "fulltext.jsonl"
HEADING = re.compile(r"^([一二三四五六七八九十]+、\S+)$")
YEAR_DIGITS = "〇一二三四五六七八九"

pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(not SHARED.exists(), reason="../shared/corpora absent"),
]


def real_penalty_decisions() -> list[dict[str, Any]]:
    with FULLTEXT.open(encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    return [r for r in records if r.get("doc_type_detected") == "税务行政处罚决定书"]


def headings(text: str) -> list[str]:
    return [m.group(1) for line in text.splitlines() if (m := HEADING.match(line.strip()))]


@pytest.fixture(scope="module")
def ours() -> str:
    ctx = PenaltyContext(
        authority="国家税务总局示例市税务局稽查局",
        doc_number="示税稽罚〔2026〕3号",
        party=Party("示例商贸有限公司", "organisation", "纳税人识别号", "91150100MA0N7Y2K37"),
        facts="你单位2025年3月增值税纳税申报逾期45日。",
        evidence=("纳税申报记录",),
        legal_basis=(LegalBasis("税收征收管理法:62", "中华人民共和国税收征收管理法"),),
        benchmark_citation=None,
        decision="penalty",
        amount=Decimal("2000"),
        decision_date=date(2026, 7, 16),
        statement_days=3,
        hearing_offered=False,
        hearing_request_days=5,
        payment_days=15,
        late_fine_rate_percent=Decimal("3"),
        reconsideration_days=60,
        lawsuit_months=6,
        reconsideration_body="国家税务总局示例市税务局",
    )
    return render(DocumentType.PENALTY_DECISION, ctx).text


def test_corpus_has_penalty_decisions() -> None:
    assert len(real_penalty_decisions()) >= 1


def test_section_headings_follow_a_real_decision(ours: str) -> None:
    real = real_penalty_decisions()[0]
    real_headings = headings(real["text"])
    our_headings = headings(ours)
    assert our_headings == ["一、违法事实及证据", "二、处罚决定"]
    positions = [real_headings.index(h) for h in our_headings]
    assert positions == sorted(positions), (real["doc_number_detected"], real_headings)


@pytest.mark.parametrize(
    "record", real_penalty_decisions() if FULLTEXT.exists() else [], ids=lambda r: r["file"]
)
def test_clause_order_matches_every_real_decision(record: dict[str, Any], ours: str) -> None:
    """Title, facts, decision, payment, additional fine, remedy, enforcement: same order."""
    markers = [
        "税务行政处罚决定书",
        "一、违法事实及证据",
        "二、处罚决定",
        "以上应缴款项共计",
        "每日按罚款数额的百分之三加处罚款",
        "申请行政复议",
        "向人民法院起诉",
        "强制执行",
    ]
    real = re.sub(r"\s+", "", record["text"])  # the .doc extraction breaks lines mid-word
    for text in (real, re.sub(r"\s+", "", ours)):
        positions = [text.find(m) for m in markers]
        assert -1 not in positions, [m for m, p in zip(markers, positions, strict=True) if p < 0]
        assert positions == sorted(positions)


def parse_chinese_date(text: str) -> date | None:
    m = re.fullmatch(r"([〇一二三四五六七八九]{4})年(\S{1,3})月(\S{1,3})日", text)
    if not m:
        return None
    year = int("".join(str(YEAR_DIGITS.index(ch)) for ch in m.group(1)))
    month = next((n for n in range(1, 13) if chinese_number(n) == m.group(2)), None)
    day = next((n for n in range(1, 32) if chinese_number(n) == m.group(3)), None)
    return date(year, month, day) if month and day else None


@pytest.mark.parametrize(
    "record", real_penalty_decisions() if FULLTEXT.exists() else [], ids=lambda r: r["file"]
)
def test_signature_date_is_printed_like_real_ones(record: dict[str, Any]) -> None:
    # Some issued documents type the zero as a full-width letter O; the standard character is 〇.
    last = [ln.strip() for ln in record["text"].splitlines() if ln.strip()][-1]
    last = last.replace("Ｏ", "〇").replace("O", "〇")
    parsed = parse_chinese_date(last)
    assert parsed is not None, last
    assert chinese_date(parsed) == last

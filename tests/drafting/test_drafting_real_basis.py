"""Cases built from issued decisions: our legal-basis paragraph cites the articles they cite.

The case goes the way the workflow takes it: the discretion engine's suggestion, the service's
`penalty_basis`, the statute book's full law titles, `render`, then the fact guard; only the
legal-basis sentence (the first 根据…的规定 of 二、处罚决定) of both documents is compared.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from assistant.config import PROJECT_ROOT
from assistant.discretion.engine import DiscretionInput, suggest
from assistant.documents.context import penalty_basis
from assistant.drafting import DocumentType, LegalBasis, Party, PenaltyContext, render
from assistant.drafting.guard import FactRecord, check_draft
from assistant.knowledge.citations import parse_citations
from assistant.knowledge.statutes import StatuteBook
from tests.conftest import SHARED_CORPORA, requires_shared

FULLTEXT = SHARED_CORPORA / "decisions" / "fulltext.jsonl"

pytestmark = [pytest.mark.shared, requires_shared]


@dataclass(frozen=True)
class RealCase:
    """What we read off one issued decision to open the same case in TaxAssist."""

    number: str
    violation: str
    kind: str  # organisation / individual
    violation_date: date
    decision_date: date
    amounts: dict[str, Decimal]


# Violation dates are the end of the period each decision examined: the law at the time of the
# act applies (行政处罚法第三十七条), which is why 虚开 in 2021 is 发票管理办法第三十七条 (2019
# text) and not 第三十五条 (2023 text).
CASES = [
    RealCase(
        "温税三稽罚〔2026〕65号",
        "tax_evasion",
        "individual",
        date(2022, 12, 31),
        date(2026, 5, 25),
        {"tax_unpaid": Decimal("473688.28")},
    ),
    RealCase(
        "南市税三稽罚〔2026〕9号",
        "invoice_false_issuing",
        "organisation",
        date(2021, 12, 31),  # 检查所属期间 2021年1月1日至2021年12月31日
        date(2026, 7, 16),
        {"invoice_amount": Decimal("600000")},
    ),
    RealCase(
        "南市税三稽罚〔2026〕10号",
        "invoice_false_issuing",
        "organisation",
        date(2022, 12, 31),  # the 虚开 invoices the facts list are dated 2021 and 2022
        date(2026, 7, 16),
        {"invoice_amount": Decimal("5000000")},
    ),
    RealCase(
        "铁税一稽罚〔2026〕17号",
        "tax_evasion",
        "organisation",
        date(2022, 12, 31),
        date(2026, 6, 9),
        {"tax_unpaid": Decimal("20000")},
    ),
]


def _record(number: str) -> dict[str, Any]:
    with FULLTEXT.open(encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            if record.get("doc_number_detected") == number:
                return record  # type: ignore[no-any-return]
    raise AssertionError(f"{number} not in {FULLTEXT}")


def _basis_sentence(text: str) -> str:
    """The first 根据…规定 of 二、处罚决定, whitespace removed and quoted article text dropped."""
    flat = re.sub(r"\s+", "", text)
    section = flat[flat.index("二、处罚决定") :]
    section = re.sub(r"“[^”]*”", "", section)
    start = section.index("根据")
    end = section.index("规定", start)
    return section[start : end + 2]


def _articles(sentence: str) -> set[str]:
    return {f"{c.law}:{c.article}" for c in parse_citations(sentence)}


def _facts(text: str) -> str:
    flat = re.sub(r"[ \t\u3000]+", "", text)
    start = flat.index("一、违法事实及证据") + len("一、违法事实及证据")
    ends = [flat.find(m, start) for m in ("上述违法事实", "二、处罚决定")]
    return flat[start : min(e for e in ends if e > 0)].replace("\n", "")


@pytest.mark.parametrize("case", CASES, ids=[c.number for c in CASES])
def test_our_legal_basis_cites_the_articles_of_the_real_decision(case: RealCase) -> None:
    real = _record(case.number)
    book = StatuteBook.load([PROJECT_ROOT / "corpora"])
    suggestion = suggest(
        DiscretionInput(
            violation=case.violation,
            taxpayer_type=case.kind,  # type: ignore[arg-type]
            violation_date=case.violation_date,
            decision_date=case.decision_date,
            **case.amounts,  # type: ignore[arg-type]
        )
    ).to_dict()
    basis = penalty_basis(suggestion)
    ctx = PenaltyContext(
        authority=real["issuing_authority"],
        doc_number=case.number,
        party=Party(real["party"], case.kind, "纳税人识别号", "91450108MA5P1DL467"),  # type: ignore[arg-type]
        facts=_facts(real["text"]),
        evidence=("检查取得的证据材料",),
        legal_basis=tuple(
            LegalBasis(b, book.full_title(b.split(":", 1)[0].split("@")[0])) for b in basis
        ),
        benchmark_citation=suggestion["benchmark_citation"],
        decision="penalty",
        amount=Decimal(suggestion["suggested_amount"]),
        decision_date=case.decision_date,
        statement_days=3,
        hearing_offered=bool(suggestion["hearing_required"]),
        hearing_request_days=5,
        payment_days=15,
        late_fine_rate_percent=Decimal("3"),
        reconsideration_days=60,
        lawsuit_months=6,
        reconsideration_body="国家税务总局示例市税务局",
    )
    ours = render(DocumentType.PENALTY_DECISION, ctx).text
    theirs = _basis_sentence(real["text"])
    mine = _basis_sentence(ours)
    assert _articles(mine) == _articles(theirs), (mine, theirs)
    # where the real one names the paragraph (款), ours names the same one
    real_full = {c.id for c in parse_citations(theirs) if c.paragraph is not None}
    assert real_full <= {c.id for c in parse_citations(mine)}, (mine, theirs)
    # and the draft built from the real facts passes the fact guard
    record = FactRecord.from_context(ctx, act_date=case.violation_date)
    report = check_draft(ours, record, book)
    assert report.ok, report.as_dicts()

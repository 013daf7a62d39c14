"""What a penalty document says, as typed data: the caller decides, drafting only writes it down.

Every period and rate printed in a document comes from here, so that a change of law or of a
bureau's practice is a change of data, never of template text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal


@dataclass(frozen=True)
class Party:
    """The party (当事人) as the party line prints it: 名称（证件类型：号码）."""

    name: str
    kind: Literal["organisation", "individual"]
    id_label: str  # "统一社会信用代码" / "纳税人识别号" / "身份证件号码"
    id_number: str
    address: str | None = None
    legal_representative: str | None = None


@dataclass(frozen=True)
class LegalBasis:
    """One cited provision: `税收征收管理法:63`, `…:63:1` (款) or `…:63:1:2` (款、项)."""

    statute_id: str
    law_title: str  # full title: "中华人民共和国税收征收管理法"


@dataclass(frozen=True)
class PenaltyContext:
    """Everything a 告知书 or 决定书 states; sentence keys in `provenance` name their sources."""

    authority: str  # "国家税务总局示例市税务局稽查局"
    doc_number: str  # "示税稽罚告〔2026〕3号" (allocated by the caller)
    party: Party
    facts: str  # 违法事实 paragraph(s), one per line
    evidence: tuple[str, ...]
    legal_basis: tuple[LegalBasis, ...]
    benchmark_citation: str | None  # "《示例税务行政处罚裁量基准（样本）》第3项'一般'阶次"
    decision: Literal["penalty", "no_penalty"]
    amount: Decimal  # fine in yuan (0 for no_penalty)
    decision_date: date  # the date printed on the document
    statement_days: int  # 陈述、申辩 period (notice)
    hearing_offered: bool
    hearing_request_days: int  # 5 (行政处罚法第六十四条第（一）项)
    payment_days: int  # 15 (行政处罚法第六十七条第三款)
    late_fine_rate_percent: Decimal  # Decimal("3") (行政处罚法第七十二条第一款第（一）项)
    reconsideration_days: int  # 60
    lawsuit_months: int  # 6 (行政诉讼法第四十六条)
    reconsideration_body: str  # "国家税务总局示例市税务局"
    provenance: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Optional details real decisions print in the inspection line and payment sentence.
    inspection_period: tuple[date, date] | None = None  # 检查起止日期
    tax_period: tuple[date, date] | None = None  # 检查所属期间
    payment_place: str | None = None  # "国家税务总局示例市示例区税务局"; None: bank / e-payment
    # 没收违法所得 imposed with the fine (the article, else 行政处罚法第二十八条第二款)
    confiscation: Decimal = Decimal("0.00")
    # A fine set as a multiple of an amount (征管法第六十三条 …): what it multiplies and by how
    # much, so the decision states the rate as issued decisions do (处…百分之七十五的罚款，计…元).
    fine_base: FineBase | None = None
    # The characterisation the facts end with (已构成偷税 / 违反了…的规定), from the record.
    finding: Finding | None = None
    # A benchmark that is a TaxAssist sample: the document carries a visible 样本 marking and
    # does not cite the sample as if it were published.
    benchmark_is_sample: bool = False


@dataclass(frozen=True)
class FineBase:
    """`label` (不缴或者少缴的税款) of `amount` yuan, multiplied by `rate` (Decimal("0.75"))."""

    label: str
    amount: Decimal
    rate: Decimal


@dataclass(frozen=True)
class Finding:
    """What the act is in law: `name` (偷税) and the provisions that define or forbid it.

    `defines` is true where the cited provision defines the act (征管法第六十三条: 是偷税), so the
    document reads 根据…的规定，…已构成偷税; otherwise it reads 违反了…的规定，构成….
    """

    name: str
    provisions: tuple[LegalBasis, ...]
    defines: bool = False

"""Procedure rules (hearing, periods, surcharges, limitation) as typed data with their sources.

The numbers live in `corpora/procedure.yaml` so a bureau can configure what is bureau practice
(statement period, legal-review amount) without touching code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml

from assistant.config import BUNDLED_CORPUS
from assistant.errors import InvalidInput
from assistant.money import to_yuan

DEFAULT_PROCEDURE = BUNDLED_CORPUS / "procedure.yaml"
TaxpayerType = Literal["organisation", "individual"]


@dataclass(frozen=True)
class LegalReviewTrigger:
    code: str
    text: str
    source: str


@dataclass(frozen=True)
class ProcedureRules:
    hearing_threshold_individual: Decimal
    hearing_threshold_organisation: Decimal
    hearing_request_days: int
    statement_defence_days: int
    fine_payment_days: int
    additional_fine_daily_rate: Decimal
    additional_fine_capped_at_fine: bool
    late_payment_surcharge_daily_rate: Decimal
    reconsideration_days: int
    lawsuit_months: int
    tax_dispute_pay_or_guarantee_first: bool
    limitation_years: int
    simple_procedure_max_individual: Decimal
    simple_procedure_max_organisation: Decimal
    legal_review_amount_threshold: Decimal
    legal_review_triggers: tuple[LegalReviewTrigger, ...]
    sources: dict[str, str] = field(default_factory=dict)
    confidence: dict[str, str] = field(default_factory=dict)
    confiscation_hearing_individual: Decimal | None = None
    confiscation_hearing_organisation: Decimal | None = None

    def confiscation_hearing_threshold(self, taxpayer_type: TaxpayerType) -> Decimal:
        """较大数额违法所得 (行政处罚法第六十三条第一款第（二）项) is set by each province;
        without a configured amount the fine thresholds are used."""
        own = (
            self.confiscation_hearing_individual
            if taxpayer_type == "individual"
            else self.confiscation_hearing_organisation
        )
        return self.hearing_threshold(taxpayer_type) if own is None else own

    def hearing_threshold(self, taxpayer_type: TaxpayerType) -> Decimal:
        if taxpayer_type == "individual":
            return self.hearing_threshold_individual
        return self.hearing_threshold_organisation

    def simple_procedure_max(self, taxpayer_type: TaxpayerType) -> Decimal:
        if taxpayer_type == "individual":
            return self.simple_procedure_max_individual
        return self.simple_procedure_max_organisation

    def hearing_required(self, taxpayer_type: TaxpayerType, fine: Decimal) -> bool:
        """Thresholds are inclusive (含本数), 国税发〔1996〕190号."""
        return fine >= self.hearing_threshold(taxpayer_type)

    def simple_procedure_allowed(self, taxpayer_type: TaxpayerType, fine: Decimal) -> bool:
        """行政处罚法第五十一条: “以下” includes the amount itself."""
        return fine <= self.simple_procedure_max(taxpayer_type)


def _bad(path: Path, key: str, reason: str) -> InvalidInput:
    return InvalidInput(
        "invalid_procedure",
        f"程序规则文件 {path} 的 {key} 有误：{reason}",
        details={"file": str(path), "key": key, "reason": reason},
    )


def _section(data: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise _bad(path, key, "缺少该项或格式不是映射")
    if not value.get("source"):
        raise _bad(path, key, "缺少 source（法律依据或文号）")
    return value


def _money(section: dict[str, Any], name: str, key: str, path: Path) -> Decimal:
    raw = section.get(name)
    if isinstance(raw, float) or raw is None:
        raise _bad(path, f"{key}.{name}", "金额须写成字符串或整数")
    try:
        return to_yuan(raw)
    except ValueError as exc:
        raise _bad(path, f"{key}.{name}", str(exc)) from exc


def _rate(section: dict[str, Any], key: str, path: Path) -> Decimal:
    raw = section.get("daily_rate")
    if not isinstance(raw, str | int):
        raise _bad(path, f"{key}.daily_rate", "比率须写成字符串")
    try:
        return Decimal(str(raw))
    except InvalidOperation as exc:
        raise _bad(path, f"{key}.daily_rate", "不是数字") from exc


def _int(section: dict[str, Any], key: str, path: Path) -> int:
    raw = section.get("value")
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
        raise _bad(path, key, "期限须为非负整数")
    return raw


def _parse(data: dict[str, Any], path: Path) -> ProcedureRules:
    keys = [
        "hearing",
        "hearing_request_days",
        "statement_defence_days",
        "fine_payment_days",
        "additional_fine",
        "late_payment_surcharge",
        "reconsideration_days",
        "lawsuit_months",
        "tax_dispute_pay_or_guarantee_first",
        "limitation_years",
        "simple_procedure",
        "legal_review",
    ]
    sections = {key: _section(data, key, path) for key in keys}
    sources = {key: str(sec["source"]) for key, sec in sections.items()}
    confidence = {
        key: str(sec["confidence"]) for key, sec in sections.items() if "confidence" in sec
    }
    confiscation = data.get("confiscation_hearing")
    if confiscation is not None:
        if not isinstance(confiscation, dict) or "source" not in confiscation:
            raise _bad(path, "confiscation_hearing", "应为含 source 的映射")
        sources["confiscation_hearing"] = str(confiscation["source"])
        if "confidence" in confiscation:
            confidence["confiscation_hearing"] = str(confiscation["confidence"])
    review = sections["legal_review"]
    sources["legal_review.amount_threshold"] = str(review.get("amount_threshold_source", ""))
    triggers = tuple(
        LegalReviewTrigger(code=str(t["code"]), text=str(t["text"]), source=str(t["source"]))
        for t in review.get("triggers") or ()
    )
    return ProcedureRules(
        hearing_threshold_individual=_money(
            sections["hearing"], "threshold_individual", "hearing", path
        ),
        hearing_threshold_organisation=_money(
            sections["hearing"], "threshold_organisation", "hearing", path
        ),
        hearing_request_days=_int(sections["hearing_request_days"], "hearing_request_days", path),
        statement_defence_days=_int(
            sections["statement_defence_days"], "statement_defence_days", path
        ),
        fine_payment_days=_int(sections["fine_payment_days"], "fine_payment_days", path),
        additional_fine_daily_rate=_rate(sections["additional_fine"], "additional_fine", path),
        additional_fine_capped_at_fine=bool(sections["additional_fine"].get("capped_at_fine")),
        late_payment_surcharge_daily_rate=_rate(
            sections["late_payment_surcharge"], "late_payment_surcharge", path
        ),
        reconsideration_days=_int(sections["reconsideration_days"], "reconsideration_days", path),
        lawsuit_months=_int(sections["lawsuit_months"], "lawsuit_months", path),
        tax_dispute_pay_or_guarantee_first=bool(
            sections["tax_dispute_pay_or_guarantee_first"].get("value")
        ),
        limitation_years=_int(sections["limitation_years"], "limitation_years", path),
        simple_procedure_max_individual=_money(
            sections["simple_procedure"], "max_individual", "simple_procedure", path
        ),
        simple_procedure_max_organisation=_money(
            sections["simple_procedure"], "max_organisation", "simple_procedure", path
        ),
        legal_review_amount_threshold=_money(review, "amount_threshold", "legal_review", path),
        legal_review_triggers=triggers,
        sources=sources,
        confidence=confidence,
        confiscation_hearing_individual=(
            None
            if confiscation is None
            else _money(confiscation, "threshold_individual", "confiscation_hearing", path)
        ),
        confiscation_hearing_organisation=(
            None
            if confiscation is None
            else _money(confiscation, "threshold_organisation", "confiscation_hearing", path)
        ),
    )


@lru_cache(maxsize=8)
def _load(path: Path) -> ProcedureRules:
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict):
        raise _bad(path, "<root>", "文件内容不是映射")
    return _parse(data, path)


def load_procedure(path: Path | None = None) -> ProcedureRules:
    """Procedure rules from `corpora/procedure.yaml` (or `path`), cached per file."""
    return _load((path or DEFAULT_PROCEDURE).resolve())

"""Validated inputs of the case workflow, shared by the API schemas and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from assistant.dates import today_in_china
from assistant.db.models import Case
from assistant.errors import InvalidInput
from assistant.limits import clean_text
from assistant.money import to_yuan
from assistant.nlp import uscc_problem, validate_resident_id, validate_uscc

TaxpayerKind = Literal["organisation", "individual"]
Harm = Literal["none", "minor", "serious"]
# What an update may change (the taxpayer is shared by the taxpayer's other cases).
EDITABLE_FIELDS = (
    "violation",
    "facts",
    "violation_date",
    "tax_unpaid",
    "invoice_amount",
    "illegal_gains",
    "days_overdue",
    "occurrences",
    "first_violation",
    "corrected_in_time",
    "harm",
    "factors",
    "evidence",
    "discovery_date",
    "invoice_tax_amount",
    "tax_payable",
    "party_role",
)
PartyRole = Literal["taxpayer", "withholding_agent"]


@dataclass(frozen=True)
class TaxpayerInput:
    name: str
    id_number: str  # 统一社会信用代码 (organisations, 个体户) or 居民身份证号码 (individuals)
    kind: TaxpayerKind
    address: str | None = None
    legal_representative: str | None = None

    def validated(self) -> TaxpayerInput:
        name = _text("taxpayer.name", self.name).strip()
        id_number = _text("taxpayer.id_number", self.id_number).strip().upper()
        address = _optional_text("taxpayer.address", self.address)
        representative = _optional_text("taxpayer.legal_representative", self.legal_representative)
        if not name:
            raise InvalidInput(
                "missing_party_data", "纳税人名称不能为空。", details={"missing": ["name"]}
            )
        if self.kind == "organisation":
            problem = uscc_problem(id_number)
            if problem is not None:
                raise InvalidInput(
                    "invalid_uscc",
                    f"统一社会信用代码“{id_number}”无效：{problem}",
                    details={"field": "taxpayer.id_number", "value": id_number},
                )
        elif not (validate_resident_id(id_number) or validate_uscc(id_number)):
            raise InvalidInput(
                "invalid_id_number",
                f"证件号码“{id_number}”既不是有效的居民身份证号码，也不是有效的统一社会信用代码。",
                details={"field": "taxpayer.id_number", "value": id_number},
            )
        return TaxpayerInput(name, id_number, self.kind, address, representative)


@dataclass(frozen=True)
class NewCase:
    taxpayer: TaxpayerInput
    violation: str
    facts: str
    violation_date: date
    tax_unpaid: Decimal = Decimal("0.00")
    invoice_amount: Decimal = Decimal("0.00")
    illegal_gains: Decimal = Decimal("0.00")
    days_overdue: int = 0
    occurrences: int = 1
    first_violation: bool = False
    corrected_in_time: bool = False
    harm: Harm = "minor"
    factors: tuple[str, ...] = ()
    evidence: tuple[str, ...] = field(default_factory=tuple)
    # Facts the articles turn on: 征管法第八十六条 counts to discovery; 刑法第二百零五条 and
    # 第二百零一条 measure the tax on the invoices and the share of the tax payable; 第六十三条
    # distinguishes the taxpayer (第一款) from the withholding agent (第二款).
    discovery_date: date | None = None
    invoice_tax_amount: Decimal = Decimal("0.00")
    tax_payable: Decimal | None = None
    party_role: PartyRole = "taxpayer"

    def validated(self) -> NewCase:
        """The case as it will be stored, or InvalidInput: the same rules for the API, the CLI
        and an update, so a stored case can always be edited and always gets a suggestion."""
        from assistant.taxonomy import get_violation

        get_violation(self.violation)
        facts = _text("facts", self.facts, multiline=True)
        evidence = tuple(_text("evidence", e).strip() for e in self.evidence)
        for name in ("first_violation", "corrected_in_time"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidInput(
                    "invalid_field", f"{name} 应为 true 或 false。", details={"field": name}
                )
        if not facts.strip():
            raise InvalidInput("missing_facts", "请填写违法事实。", details={"missing": ["facts"]})
        if self.violation_date > today_in_china():
            raise InvalidInput(
                "date_in_future",
                "违法行为发生日期不能晚于今天。",
                details={"field": "violation_date", "value": self.violation_date.isoformat()},
            )
        if self.discovery_date is not None and not (
            self.violation_date <= self.discovery_date <= today_in_china()
        ):
            raise InvalidInput(
                "dates_out_of_order",
                "发现日期应在违法行为发生日期之后、且不晚于今天。",
                details={"field": "discovery_date", "value": self.discovery_date.isoformat()},
            )
        if self.party_role not in ("taxpayer", "withholding_agent"):
            raise InvalidInput(
                "invalid_field",
                "当事人身份应为 taxpayer（纳税人）或 withholding_agent（扣缴义务人）。",
                details={"field": "party_role", "value": str(self.party_role)},
            )
        amounts: dict[str, Any] = {}
        for name in ("tax_unpaid", "invoice_amount", "illegal_gains", "invoice_tax_amount"):
            try:
                value = to_yuan(getattr(self, name))
            except (TypeError, ValueError):
                raise InvalidInput(
                    "invalid_field", f"{name} 不是有效金额。", details={"field": name}
                ) from None
            if value < 0:
                raise InvalidInput(
                    "negative_amount",
                    "金额不能为负数。",
                    details={"field": name, "value": str(value)},
                )
            amounts[name] = value
        for name in ("days_overdue", "occurrences"):
            if getattr(self, name) < 0:
                raise InvalidInput(
                    "negative_amount", "天数和次数不能为负数。", details={"field": name}
                )
        case = NewCase(
            taxpayer=self.taxpayer.validated(),
            violation=self.violation,
            facts=facts.strip(),
            violation_date=self.violation_date,
            days_overdue=self.days_overdue,
            occurrences=self.occurrences,
            first_violation=self.first_violation,
            corrected_in_time=self.corrected_in_time,
            harm=self.harm,
            factors=tuple(self.factors),
            evidence=tuple(e for e in evidence if e),
            discovery_date=self.discovery_date,
            tax_payable=None if self.tax_payable is None else _non_negative(self.tax_payable),
            party_role=self.party_role,
            **amounts,
        )
        case.discretion_input(today_in_china())  # what the suggestion refuses is refused here
        return case

    @classmethod
    def from_case(cls, case: Case) -> NewCase:
        """The stored case as input again: what an update starts from."""
        taxpayer = case.taxpayer
        return cls(
            taxpayer=TaxpayerInput(
                taxpayer.name,
                taxpayer.uscc,
                taxpayer.kind,  # type: ignore[arg-type]  # stored from a validated input
                taxpayer.address,
                taxpayer.legal_representative,
            ),
            violation=case.violation_code,
            facts=case.facts,
            violation_date=case.violation_date,
            tax_unpaid=case.tax_unpaid,
            invoice_amount=case.invoice_amount,
            illegal_gains=case.illegal_gains,
            days_overdue=case.days_overdue,
            occurrences=case.occurrences,
            first_violation=case.first_violation,
            corrected_in_time=case.corrected_in_time,
            harm=case.harm,  # type: ignore[arg-type]  # stored from a validated input
            factors=tuple(case.factors or ()),
            evidence=tuple(case.evidence or ()),
            discovery_date=case.discovered_date,
            invoice_tax_amount=case.invoice_tax_amount,
            tax_payable=case.tax_payable,
            party_role=case.party_role,  # type: ignore[arg-type]  # stored from a validated input
        )

    def discretion_input(self, decision_date: date) -> Any:
        """The discretion engine's input for this case (its checks: factors, counts, bounds)."""
        from assistant.discretion import DiscretionInput

        return DiscretionInput(
            violation=self.violation,
            taxpayer_type=self.taxpayer.kind,
            violation_date=self.violation_date,
            decision_date=decision_date,
            days_overdue=self.days_overdue,
            tax_unpaid=self.tax_unpaid,
            invoice_amount=self.invoice_amount,
            illegal_gains=self.illegal_gains,
            occurrences=self.occurrences,
            first_violation=self.first_violation,
            corrected_in_time=self.corrected_in_time,
            harm=self.harm,
            factors=tuple(self.factors),
            discovery_date=self.discovery_date,
            invoice_tax_amount=self.invoice_tax_amount,
            tax_payable=self.tax_payable,
            party_role=self.party_role,
        )


def _text(field_name: str, value: str, *, multiline: bool = False) -> str:
    """NFC text without control or invisible-only content (`assistant.limits`), else 422."""
    if not isinstance(value, str):
        raise InvalidInput(
            "invalid_field", f"{field_name} 应为文字。", details={"field": field_name}
        )
    try:
        return clean_text(value, multiline=multiline)
    except ValueError as exc:
        raise InvalidInput(
            "invalid_text",
            f"{field_name} {exc}，请删除后重新填写。",
            details={"field": field_name, "problem": str(exc)},
        ) from None


def _optional_text(field_name: str, value: str | None) -> str | None:
    return None if value is None else _text(field_name, value).strip() or None


def _non_negative(value: Decimal) -> Decimal:
    amount = to_yuan(value)
    if amount < 0:
        raise InvalidInput(
            "negative_amount",
            "金额不能为负数。",
            details={"field": "tax_payable", "value": str(amount)},
        )
    return amount

"""The facts that can be proposed: the discretion inputs an interview or a document states.

Names are the case's (`assistant.cases.inputs.EDITABLE_FIELDS`) and the discretion engine's
(`DiscretionInput`), so a confirmed value goes into the case unchanged. `invoice_count` (份数)
has no case column: the criminal thresholds and the completeness check read it, and a
confirmation keeps it in the signed record only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from assistant.errors import InvalidInput
from assistant.money import to_yuan

ValueKind = Literal["violation", "date", "days", "money", "count", "flag", "role"]
PARTY_ROLES = ("taxpayer", "withholding_agent")


@dataclass(frozen=True)
class FactField:
    """One proposable fact: its name, what kind of value it holds and where it goes."""

    name: str
    kind: ValueKind
    label_zh: str
    # The case column (NewCase field) a confirmation writes; None: kept in the record only.
    case_field: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "label_zh": self.label_zh,
            "case_field": self.case_field,
        }


FIELDS: dict[str, FactField] = {
    f.name: f
    for f in (
        FactField("violation", "violation", "违法行为类型", "violation"),
        FactField("violation_date", "date", "违法行为发生（终了）日期", "violation_date"),
        FactField("discovery_date", "date", "发现（检查）日期", "discovery_date"),
        FactField("days_overdue", "days", "逾期天数", "days_overdue"),
        FactField("tax_payable", "money", "应纳税额", "tax_payable"),
        FactField("tax_unpaid", "money", "不缴或者少缴的税款", "tax_unpaid"),
        FactField("invoice_count", "count", "发票份数", None),
        FactField("invoice_amount", "money", "发票金额（虚开金额）", "invoice_amount"),
        FactField("invoice_tax_amount", "money", "发票税额", "invoice_tax_amount"),
        FactField("illegal_gains", "money", "违法所得", "illegal_gains"),
        FactField("first_violation", "flag", "首次违法", "first_violation"),
        FactField("corrected_in_time", "flag", "及时改正", "corrected_in_time"),
        FactField("party_role", "role", "当事人身份（纳税人/扣缴义务人）", "party_role"),
    )
}


def get_field(name: str) -> FactField:
    try:
        return FIELDS[name]
    except (KeyError, TypeError):
        raise InvalidInput(
            "unknown_fact_field",
            f"未知的事实字段：{name}",
            details={"field": str(name), "allowed": list(FIELDS)},
        ) from None


def parse_value(name: str, raw: Any) -> Any:
    """The typed value of `raw` for field `name` (JSON in, Decimal/date/int/bool/str out);
    422 `invalid_fact_value` naming the field when it does not fit."""
    spec = get_field(name)
    try:
        value = _parse(spec.kind, raw)
    except (TypeError, ValueError, InvalidOperation):
        value = None
    if value is None:
        raise InvalidInput(
            "invalid_fact_value",
            f"“{spec.label_zh}”的取值不正确：{str(raw)[:50]}",
            details={"field": name, "kind": spec.kind, "value": str(raw)[:100]},
        )
    return value


def _parse(kind: ValueKind, raw: Any) -> Any:
    if kind == "violation":
        from assistant.taxonomy import get_violation

        return get_violation(raw).code if isinstance(raw, str) else None
    if kind == "date":
        return date.fromisoformat(raw) if isinstance(raw, str) else None
    if kind in ("days", "count"):
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            return None
        number = int(raw)
        return number if 0 <= number <= 1_000_000 else None
    if kind == "money":
        if isinstance(raw, bool) or not isinstance(raw, int | str | Decimal):
            return None
        amount = to_yuan(Decimal(str(raw)))
        return amount if Decimal(0) <= amount < Decimal("1e13") else None
    if kind == "flag":
        return raw if isinstance(raw, bool) else None
    return raw if raw in PARTY_ROLES else None


def to_json(value: Any) -> Any:
    """A typed value as JSON: dates ISO, money a string with 2 places."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value

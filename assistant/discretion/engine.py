"""The discretion engine: from case facts to a penalty suggestion an officer can check and paste.

Order of reasoning (each step leaves a Factor with its source): pick the benchmark item (statute
version by violation date, 行政处罚法第三十七条); limitation (征管法第八十六条); no-penalty grounds
(行政处罚法第三十三条, 首违不罚 lists); tier by measurable conditions; 第三十二条 mitigation;
clamp to the statutory range; procedure flags (hearing, simple procedure, legal review);
criminal referral.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml

from assistant.config import BUNDLED_CORPUS
from assistant.dates import today_in_china
from assistant.discretion.benchmark import (
    Benchmark,
    BenchmarkItem,
    PenaltyRange,
    Tier,
    conditions_match,
    load_benchmark,
)
from assistant.discretion.factors import FACTORS, MITIGATION
from assistant.discretion.procedure import ProcedureRules, load_procedure
from assistant.errors import InvalidInput, NotFound
from assistant.legal import PRC_PREFIX, StatuteId
from assistant.legal import cite as legal_cite
from assistant.limits import DAYS_MAX, OCCURRENCES_MAX, YUAN_MAX
from assistant.money import format_yuan, to_chinese_capitals, to_yuan
from assistant.taxonomy import PENALTY_KINDS, get_violation

FIRST_VIOLATION_FILE = BUNDLED_CORPUS / "discretion" / "first_violation.yaml"
INTERPRETATION_2024 = (
    "最高人民法院、最高人民检察院关于办理危害税收征管刑事案件适用法律若干问题的解释"
)
TaxpayerType = Literal["organisation", "individual"]
Harm = Literal["none", "minor", "serious"]
PartyRole = Literal["taxpayer", "withholding_agent"]
PARTY_ROLES: tuple[str, ...] = ("taxpayer", "withholding_agent")
_MONEY_FIELDS = ("tax_unpaid", "invoice_amount", "illegal_gains", "invoice_tax_amount")
_ZERO = Decimal("0.00")
_CRIMINAL_THRESHOLD = Decimal("100000")


# --------------------------------------------------------------------------- input


def _bad(code: str, message: str, **details: Any) -> InvalidInput:
    return InvalidInput(code, message, details=details)


def _money(name: str, value: Any) -> Decimal:
    if value is None:
        return _ZERO
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise _bad("invalid_field", f"{name} 应为金额", field=name)
    try:
        amount = to_yuan(str(value))  # JSON numbers arrive as float: via str() they stay exact
    except ValueError:
        raise _bad(
            "invalid_field", f"{name} 不是有效金额：{str(value)[:40]!r}", field=name
        ) from None
    if amount < 0:
        raise _bad("negative_amount", f"{name} 不能为负数", field=name, value=str(amount))
    return amount


def _count(name: str, value: Any, *, minimum: int) -> int:
    if value is None:
        return minimum
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _bad("invalid_field", f"{name} 应为整数", field=name)
    try:
        number = int(value)
    except ValueError:
        raise _bad("invalid_field", f"{name} 应为整数：{value!r}", field=name) from None
    if number < 0:
        raise _bad("negative_amount", f"{name} 不能为负数", field=name, value=number)
    if number < minimum:
        raise _bad("invalid_field", f"{name} 不能小于{minimum}", field=name, value=number)
    return number


def _date(name: str, value: Any, *, required: bool) -> date | None:
    if value is None:
        if required:
            raise _bad("missing_field", f"缺少必填字段 {name}", field=name)
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _bad(
            "invalid_field", f"{name} 应为日期（YYYY-MM-DD）：{value!r}", field=name
        ) from None


def _flag(name: str, value: Any) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _bad("invalid_field", f"{name} 应为 true 或 false", field=name)
    return value


@dataclass(frozen=True)
class DiscretionInput:
    """Case facts the benchmark conditions measure. `tax_unpaid` is the tax the article multiplies.

    `violation_date` is the day the act ended (行政处罚法第三十六条第二款 for continuing acts);
    `discovery_date` (optional) is when the tax authority found it, used for 征管法第八十六条.
    """

    violation: str
    taxpayer_type: TaxpayerType
    violation_date: date
    decision_date: date
    days_overdue: int = 0
    tax_unpaid: Decimal = _ZERO
    invoice_amount: Decimal = _ZERO
    illegal_gains: Decimal = _ZERO
    occurrences: int = 1
    first_violation: bool = False
    corrected_in_time: bool = False
    harm: Harm = "minor"
    factors: tuple[str, ...] = ()
    tax_payable: Decimal | None = None
    invoice_tax_amount: Decimal = _ZERO
    discovery_date: date | None = None
    also_violates: tuple[str, ...] = ()
    party_role: PartyRole = "taxpayer"

    def __post_init__(self) -> None:
        get_violation(self.violation)
        for code in self.also_violates:
            get_violation(code)
        if self.violation in self.also_violates:
            raise _bad(
                "invalid_field", "also_violates 不应包含 violation 本身", field="also_violates"
            )
        if self.taxpayer_type not in ("organisation", "individual"):
            raise _bad(
                "invalid_field",
                "taxpayer_type 应为 organisation（单位）或 individual（个人）",
                field="taxpayer_type",
            )
        if self.party_role not in PARTY_ROLES:
            raise _bad(
                "invalid_field",
                "party_role 应为 taxpayer（纳税人）或 withholding_agent（扣缴义务人）",
                field="party_role",
            )
        if self.harm not in ("none", "minor", "serious"):
            raise _bad("invalid_field", "harm 应为 none、minor 或 serious", field="harm")
        for name in (*_MONEY_FIELDS, "tax_payable"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, Decimal) or value < 0):
                raise _bad("negative_amount", f"{name} 应为非负金额", field=name)
        if self.days_overdue < 0 or self.occurrences < 0:
            raise _bad("negative_amount", "天数和次数不能为负数")
        if self.occurrences < 1:
            raise _bad("invalid_field", "occurrences 至少为1", field="occurrences")
        for name, limit in (("days_overdue", DAYS_MAX), ("occurrences", OCCURRENCES_MAX)):
            if getattr(self, name) > limit:
                raise _bad("value_too_large", f"{name} 不能大于{limit}", field=name, maximum=limit)
        for name in (*_MONEY_FIELDS, "tax_payable"):
            value = getattr(self, name)
            if value is not None and value > YUAN_MAX:
                raise _bad(
                    "value_too_large",
                    f"{name} 超过金额上限 {YUAN_MAX} 元",
                    field=name,
                    maximum=str(YUAN_MAX),
                )
        unknown = [code for code in self.factors if code not in FACTORS]
        if unknown:
            raise _bad(
                "unknown_factor",
                f"未知的情节代码：{'、'.join(unknown)}",
                unknown=unknown,
                valid_codes=sorted(FACTORS),
            )
        if self.decision_date < self.violation_date:
            raise _bad(
                "dates_out_of_order",
                "处罚决定日期早于违法行为发生日期",
                violation_date=self.violation_date.isoformat(),
                decision_date=self.decision_date.isoformat(),
            )
        if self.discovery_date is not None and not (
            self.violation_date <= self.discovery_date <= self.decision_date
        ):
            raise _bad("dates_out_of_order", "发现日期应在违法行为日期与决定日期之间")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, today: date | None = None) -> DiscretionInput:
        """Validate JSON-like input; absent numbers mean 0, dates in the future are refused."""
        known = {f.name for f in fields(cls)}
        extra = sorted(set(data) - known)
        if extra:
            raise _bad("unknown_field", f"不支持的字段：{'、'.join(extra)}", fields=extra)
        violation = data.get("violation")
        if not isinstance(violation, str):
            raise _bad("missing_field", "缺少违法行为代码 violation", field="violation")
        get_violation(violation)
        violation_date = _date("violation_date", data.get("violation_date"), required=True)
        decision_date = _date("decision_date", data.get("decision_date"), required=True)
        discovery_date = _date("discovery_date", data.get("discovery_date"), required=False)
        assert violation_date is not None and decision_date is not None
        limit = today or today_in_china()
        for name, day in (
            ("violation_date", violation_date),
            ("decision_date", decision_date),
            ("discovery_date", discovery_date),
        ):
            if day is not None and day > limit:
                raise _bad(
                    "date_in_future",
                    f"{name} 晚于今天（{limit.isoformat()}）",
                    field=name,
                    value=day.isoformat(),
                )
        raw_factors = data.get("factors") or ()
        if isinstance(raw_factors, str) or not all(isinstance(f, str) for f in raw_factors):
            raise _bad("invalid_field", "factors 应为情节代码列表", field="factors")
        also = data.get("also_violates") or ()
        if isinstance(also, str) or not all(isinstance(v, str) for v in also):
            raise _bad("invalid_field", "also_violates 应为违法行为代码列表", field="also_violates")
        payable = data.get("tax_payable")
        return cls(
            violation=violation,
            taxpayer_type=data.get("taxpayer_type"),  # type: ignore[arg-type]  # checked
            violation_date=violation_date,
            decision_date=decision_date,
            days_overdue=_count("days_overdue", data.get("days_overdue"), minimum=0),
            tax_unpaid=_money("tax_unpaid", data.get("tax_unpaid")),
            invoice_amount=_money("invoice_amount", data.get("invoice_amount")),
            illegal_gains=_money("illegal_gains", data.get("illegal_gains")),
            occurrences=_count("occurrences", data.get("occurrences"), minimum=1),
            first_violation=_flag("first_violation", data.get("first_violation")),
            corrected_in_time=_flag("corrected_in_time", data.get("corrected_in_time")),
            harm=data.get("harm") or "minor",
            factors=tuple(raw_factors),
            tax_payable=None if payable is None else _money("tax_payable", payable),
            invoice_tax_amount=_money("invoice_tax_amount", data.get("invoice_tax_amount")),
            discovery_date=discovery_date,
            also_violates=tuple(dict.fromkeys(also)),
            party_role=data.get("party_role") or "taxpayer",
        )


# --------------------------------------------------------------------------- output


@dataclass(frozen=True)
class Factor:
    code: str
    description: str
    effect: str
    source: str

    def to_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "description": self.description,
            "effect": self.effect,
            "source": self.source,
        }


@dataclass(frozen=True)
class ImposedPenalty:
    """One penalty kind of the suggestion: the fine, 没收违法所得 (with its amount), or a kind the
    article lets the authority add (`mandatory` False: 可以 …)."""

    kind: str
    amount: Decimal | None
    basis: tuple[str, ...]
    text: str
    mandatory: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name_zh": PENALTY_KINDS[self.kind],
            "amount": None if self.amount is None else _s(self.amount),
            "basis": list(self.basis),
            "text": self.text,
            "mandatory": self.mandatory,
        }


@dataclass(frozen=True)
class Suggestion:
    decision: Literal["penalty", "no_penalty"]
    legal_ground: tuple[str, ...]
    statutory_min: Decimal
    statutory_max: Decimal
    benchmark_item: str | None
    tier: str | None
    benchmark_min: Decimal | None
    benchmark_max: Decimal | None
    suggested_amount: Decimal
    formula: str
    citations: tuple[str, ...]
    factors: tuple[Factor, ...]
    hearing_required: bool
    legal_review_required: bool
    simple_procedure: bool
    criminal_referral: bool
    criminal_basis: tuple[str, ...]
    explanation: str
    benchmark_citation: str | None
    penalties: tuple[ImposedPenalty, ...] = ()

    @property
    def confiscated_amount(self) -> Decimal:
        """违法所得 to be confiscated (行政处罚法第二十八条第二款 and the article)."""
        return sum(
            (p.amount or _ZERO for p in self.penalties if p.kind == "confiscate_illegal_gains"),
            _ZERO,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; Decimals as strings with 2 places. Keys are the API contract."""
        bench_range = (
            None
            if self.benchmark_min is None or self.benchmark_max is None
            else {"min": _s(self.benchmark_min), "max": _s(self.benchmark_max)}
        )
        return {
            "decision": self.decision,
            "legal_ground": list(self.legal_ground),
            "statutory_range": {"min": _s(self.statutory_min), "max": _s(self.statutory_max)},
            "benchmark_item": self.benchmark_item,
            "tier": self.tier,
            "suggested_amount": _s(self.suggested_amount),
            "formula": self.formula,
            "citations": list(self.citations),
            "hearing_required": self.hearing_required,
            "legal_review_required": self.legal_review_required,
            "simple_procedure": self.simple_procedure,
            "criminal_referral": self.criminal_referral,
            "explanation": self.explanation,
            "factors": [f.to_dict() for f in self.factors],
            "benchmark_range": bench_range,
            "benchmark_citation": self.benchmark_citation,
            "penalties": [p.to_dict() for p in self.penalties],
            "confiscated_amount": _s(self.confiscated_amount),
        }


def _s(amount: Decimal) -> str:
    return str(to_yuan(amount))


# --------------------------------------------------------------------------- citations

_PRC_LAWS = ("税收征收管理法", "行政处罚法", "发票管理办法", "刑法", "行政复议法", "行政诉讼法")


def cite(statute_id: str) -> str:
    """`税收征收管理法:63:1` -> 《中华人民共和国税收征收管理法》第六十三条第一款; a version
    `@2023-07-20` is named by its official marker (（国务院令第764号修订）)."""
    law = StatuteId.parse(statute_id).law
    return legal_cite(statute_id, f"{PRC_PREFIX}{law}" if law in _PRC_LAWS else law)


# --------------------------------------------------------------------------- first violation


@dataclass(frozen=True)
class _FirstViolationItem:
    notice: str
    no: int
    text: str
    effective_from: date
    violations: tuple[str, ...]
    requires_factor: str | None
    no_illegal_gains: bool


@lru_cache(maxsize=4)
def _first_violation_items(path: Path = FIRST_VIOLATION_FILE) -> tuple[_FirstViolationItem, ...]:
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    out = []
    for lst in data["lists"]:
        start = date.fromisoformat(str(lst["effective_from"]))
        for it in lst["items"]:
            out.append(
                _FirstViolationItem(
                    notice=str(lst["notice"]),
                    no=int(it["number"]),
                    text=str(it["text"]),
                    effective_from=start,
                    violations=tuple(it.get("violations") or ()),
                    requires_factor=it.get("requires_factor"),
                    no_illegal_gains=bool(it.get("no_illegal_gains")),
                )
            )
    return tuple(out)


def _first_violation_match(case: DiscretionInput) -> _FirstViolationItem | None:
    if not (case.first_violation and case.corrected_in_time and case.harm in ("none", "minor")):
        return None
    # An item naming the conduct (requires_factor present in the case) beats a general item.
    items = sorted(_first_violation_items(), key=lambda it: it.requires_factor is None)
    for item in items:
        if case.violation not in item.violations or case.decision_date < item.effective_from:
            continue
        if item.requires_factor and item.requires_factor not in case.factors:
            continue
        if item.no_illegal_gains and case.illegal_gains > 0:
            continue
        return item
    return None


# --------------------------------------------------------------------------- engine


def _base(case: DiscretionInput, rng: PenaltyRange) -> Decimal:
    return Decimal(getattr(case, rng.base)) if rng.base else Decimal(0)


def _bounds(case: DiscretionInput, rng: PenaltyRange) -> tuple[Decimal, Decimal]:
    assert rng.min is not None and rng.max is not None
    if rng.kind == "multiple":
        base = _base(case, rng)
        return to_yuan(base * rng.min), to_yuan(base * rng.max)
    return to_yuan(rng.min), to_yuan(rng.max)


def _candidates(bench: Benchmark, case: DiscretionInput, day: date) -> list[BenchmarkItem]:
    return [
        item
        for item in bench.items_for(case.violation)
        if item.in_force_on(case.decision_date)
        and item.statute_in_force_on(day)
        and conditions_match(item.applies_when, case)
    ]


def _select_item(bench: Benchmark, case: DiscretionInput) -> tuple[BenchmarkItem, Factor | None]:
    """Law at the time of the act, unless the law at decision is lighter (行政处罚法第三十七条)."""
    at_act = _candidates(bench, case, case.violation_date)
    if not at_act:
        raise NotFound(
            "no_benchmark_item",
            f"裁量基准《{bench.name}》中没有适用于该违法行为和日期的条目，请人工确定处罚幅度。",
            details={
                "violation": case.violation,
                "violation_date": case.violation_date.isoformat(),
                "decision_date": case.decision_date.isoformat(),
            },
        )
    item = at_act[0]
    at_decision = _candidates(bench, case, case.decision_date)
    if at_decision and at_decision[0].id != item.id:
        newer = at_decision[0]
        if newer.statutory.kind == item.statutory.kind:
            old_lo, old_hi = _bounds(case, item.statutory)
            new_lo, new_hi = _bounds(case, newer.statutory)
            if (new_hi, new_lo) < (old_hi, old_lo):
                return newer, Factor(
                    "lighter_new_law",
                    f"违法行为发生后规定已修改，新规定处罚较轻，适用{'、'.join(newer.basis)}",
                    "适用新规定",
                    "行政处罚法第三十七条",
                )
    return item, None


def _midpoint(lo: Decimal, hi: Decimal) -> Decimal:
    return to_yuan((lo + hi) / 2)


def _tier_bounds(case: DiscretionInput, tier: Tier) -> tuple[Decimal, Decimal]:
    return _bounds(case, tier.penalty)


def _criminal(case: DiscretionInput) -> tuple[bool, tuple[str, ...], str]:
    """Narrow referral screen; the officer and the police decide, the engine only flags."""
    v = case.violation
    if (
        v == "tax_evasion"
        and case.party_role == "withholding_agent"
        and case.tax_unpaid >= _CRIMINAL_THRESHOLD
    ):
        return (
            True,
            ("刑法:201:2", f"{INTERPRETATION_2024}:2"),
            f"扣缴义务人不缴或者少缴已扣、已收税款{format_yuan(case.tax_unpaid)}，达到“数额较大”标准"
            "（10万元以上），依据刑法第二百零一条第二款不要求占应纳税额的比例，涉嫌逃税罪；"
            "第四款补缴后不予追究刑事责任的规定只适用于第一款（纳税人）。",
        )
    if v == "tax_evasion" and case.tax_unpaid >= _CRIMINAL_THRESHOLD:
        basis = ("刑法:201:1", f"{INTERPRETATION_2024}:2", f"{INTERPRETATION_2024}:4")
        caveat = (
            "另依刑法第二百零一条第四款及上述解释第三条，经税务机关依法下达追缴通知后补缴税款、缴纳滞纳金并"
            "全部履行行政处罚决定的，不予追究刑事责任（五年内因逃避缴纳税款受过刑事处罚或者被税务机关给予"
            "二次以上行政处罚的除外）。"
        )
        if case.tax_payable is None or case.tax_payable <= 0:
            return (
                True,
                basis,
                f"逃避缴纳税款{format_yuan(case.tax_unpaid)}，达到“数额较大”标准（10万元以上），"
                "但应纳税额未知、无法核实是否占应纳税额百分之十以上，提示移送审查，须核实占比。"
                + caveat,
            )
        share = case.tax_unpaid / case.tax_payable
        if share >= Decimal("0.10"):
            return (
                True,
                basis,
                f"逃避缴纳税款{format_yuan(case.tax_unpaid)}，占应纳税额{share:.2%}，达到刑法第二百零一条"
                "第一款“数额较大并且占应纳税额百分之十以上”的标准，涉嫌逃税罪。" + caveat,
            )
        return False, (), ""
    if v == "invoice_false_issuing":
        # 虚开税款数额 is stated only for 专用发票 and invoices used to claim refunds or credits
        # (刑法第二百零五条); entering it means the invoices are of that kind.
        if case.invoice_tax_amount >= _CRIMINAL_THRESHOLD:
            kind = (
                "虚开增值税专用发票"
                if "vat_special_invoice" in case.factors
                else "虚开增值税专用发票或者用于骗取出口退税、抵扣税款的其他发票"
            )
            return (
                True,
                ("刑法:205:1", f"{INTERPRETATION_2024}:11:1"),
                f"{kind}，虚开税款数额{format_yuan(case.invoice_tax_amount)}，达到10万元以上的定罪标准"
                "（上述解释第十一条第一款），涉嫌虚开增值税专用发票、用于骗取出口退税、抵扣税款发票罪"
                "（不以骗抵税款为目的、没有因抵扣造成税款被骗损失的，依上述解释第十条第二款不以本罪论处，"
                "须核实）。",
            )
        if "vat_special_invoice" not in case.factors and case.invoice_amount >= Decimal("500000"):
            return (
                True,
                ("刑法:205之一:1", f"{INTERPRETATION_2024}:13:1"),
                f"虚开普通发票票面金额{format_yuan(case.invoice_amount)}，达到50万元以上“情节严重”标准，"
                "涉嫌虚开发票罪。",
            )
        return False, (), ""
    if v == "export_refund_fraud" and case.tax_unpaid >= _CRIMINAL_THRESHOLD:
        return (
            True,
            ("刑法:204:1", f"{INTERPRETATION_2024}:8:1"),
            f"骗取出口退税款{format_yuan(case.tax_unpaid)}，达到10万元以上“数额较大”标准，涉嫌骗取出口退税罪。",
        )
    if v == "arrears_evasion" and case.tax_unpaid >= Decimal("10000"):
        return (
            True,
            ("刑法:203",),
            f"欠缴税款{format_yuan(case.tax_unpaid)}，达到刑法第二百零三条一万元以上的标准；"
            "是否“致使税务机关无法追缴”须核实，提示移送审查。",
        )
    if v == "tax_resistance" and case.harm == "serious":
        return (
            True,
            ("刑法:202", "税收征收管理法:67"),
            "抗税造成严重后果，不属于“情节轻微，未构成犯罪”，应依法追究刑事责任，提示移送审查。",
        )
    return False, (), ""


def _spec_factor(code: str, effect: str) -> Factor:
    spec = FACTORS[code]
    return Factor(code, spec.description, effect, spec.source)


def suggest(
    case: DiscretionInput,
    *,
    benchmark: Benchmark | None = None,
    procedure: ProcedureRules | None = None,
) -> Suggestion:
    """Suggest decision, tier and amount for `case`; every step is stated with its source.

    With `also_violates` (one act breaking several provisions), 行政处罚法第二十九条 applies: one
    fine, under the provision with the higher fine.
    """
    if case.also_violates:
        return _one_act_one_fine(case, benchmark=benchmark, procedure=procedure)
    return _suggest_one(case, benchmark=benchmark, procedure=procedure)


def _one_act_one_fine(
    case: DiscretionInput,
    *,
    benchmark: Benchmark | None,
    procedure: ProcedureRules | None,
) -> Suggestion:
    """行政处罚法第二十九条: 同一违法行为违反多个法律规范应当罚款的，按照罚款数额高的规定处罚."""
    bench = benchmark or load_benchmark()
    basis = {item.id: item.basis for item in bench.items}
    options: list[Suggestion] = []
    skipped: list[str] = []
    for code in (case.violation, *case.also_violates):
        try:
            options.append(
                _suggest_one(
                    replace(case, violation=code, also_violates=()),
                    benchmark=bench,
                    procedure=procedure,
                )
            )
        except (NotFound, InvalidInput) as exc:
            if exc.code not in ("no_benchmark_item", "missing_base"):
                raise
            skipped.append(f"{get_violation(code).name_zh}（{exc.message}）")
    if not options:
        raise InvalidInput(
            "missing_base",
            "所列违法行为均无法计算罚款幅度：" + "；".join(skipped),
            details={"violations": [case.violation, *case.also_violates]},
        )
    chosen = max(options, key=lambda r: (r.statutory_max, r.statutory_min, r.suggested_amount))
    compared = "；".join(
        f"{'、'.join(cite(b) for b in basis[r.benchmark_item or ''])}法定幅度"
        f"{format_yuan(r.statutory_min)}至{format_yuan(r.statutory_max)}"
        for r in options
    )
    note = (
        f"同一违法行为同时违反多个法律规范（{compared}），依据《中华人民共和国行政处罚法》"
        f"第二十九条，按照罚款数额高的规定处罚，适用"
        f"{'、'.join(cite(b) for b in basis[chosen.benchmark_item or ''])}，"
        "不得给予两次以上罚款。"
    )
    if skipped:
        note += "未比较：" + "；".join(skipped) + "。"
    factor = Factor("one_act_one_fine", note, "适用罚款数额高的规定", "行政处罚法第二十九条")
    tail = "本建议由系统生成，须经办案人员审核。"
    body = chosen.explanation.removesuffix(tail)
    return replace(
        chosen,
        factors=(*chosen.factors, factor),
        citations=tuple(dict.fromkeys((*chosen.citations, "行政处罚法:29"))),
        explanation=body + note + tail,
    )


def _suggest_one(
    case: DiscretionInput,
    *,
    benchmark: Benchmark | None = None,
    procedure: ProcedureRules | None = None,
) -> Suggestion:
    bench = benchmark or load_benchmark()
    rules = procedure or load_procedure()
    vtype = get_violation(case.violation)
    item, law_factor = _select_item(bench, case)
    factors: list[Factor] = [law_factor] if law_factor else []
    stat = item.statutory
    if stat.kind == "multiple" and _base(case, stat) <= 0:
        raise InvalidInput(
            "missing_base",
            f"{vtype.name_zh}按{item.base_label or stat.base}的倍数处罚，请填写该金额（大于0）。",
            details={"violation": case.violation, "base": stat.base},
        )
    stat_min, stat_max = _bounds(case, stat)
    referral, referral_basis, referral_text = _criminal(case)
    if referral:
        factors.append(
            Factor("criminal_referral", referral_text, "提示移送审查", "、".join(referral_basis))
        )
    review_factors = [t for t in rules.legal_review_triggers if t.code in case.factors]
    ctx = _Context(case, bench, rules, item, stat_min, stat_max, referral, referral_basis, factors)

    # 1. limitation: 征管法第八十六条 (five years, overriding 行政处罚法第三十六条's two)
    found = case.discovery_date or case.decision_date
    if found > _add_years(case.violation_date, rules.limitation_years):
        which = "发现日期" if case.discovery_date else "决定日期（未填发现日期）"
        factors.append(
            Factor(
                "limitation_expired",
                f"违法行为发生于{case.violation_date.isoformat()}，至{which}{found.isoformat()}已超过"
                f"{rules.limitation_years}年未被发现",
                "不再给予行政处罚",
                rules.sources["limitation_years"],
            )
        )
        return ctx.no_penalty(
            ("税收征收管理法:86",),
            f"该违法行为在{rules.limitation_years}年内未被发现，依据《中华人民共和国税收征收管理法》"
            "第八十六条，不再给予行政处罚。",
        )
    # 2. 行政处罚法第三十三条第二款: no subjective fault
    if "no_subjective_fault" in case.factors:
        factors.append(_spec_factor("no_subjective_fault", "不予行政处罚"))
        return ctx.no_penalty(
            ("行政处罚法:33:2",),
            "当事人有证据足以证明没有主观过错，依据《中华人民共和国行政处罚法》第三十三条第二款，"
            "不予行政处罚（法律、行政法规另有规定的，从其规定）。",
        )
    # 3. 行政处罚法第三十三条第一款前段: minor, corrected in time, no harm
    if "minor_violation" in case.factors and case.corrected_in_time and case.harm == "none":
        factors.append(_spec_factor("minor_violation", "不予行政处罚"))
        return ctx.no_penalty(
            ("行政处罚法:33:1",),
            "违法行为轻微并及时改正，没有造成危害后果，依据《中华人民共和国行政处罚法》第三十三条第一款，"
            "不予行政处罚。",
        )
    # 4. 首违不罚 lists (行政处罚法第三十三条第一款后段)
    fv = _first_violation_match(case)
    if fv is not None:
        factors.append(
            Factor(
                "first_violation_no_penalty",
                f"首次违法、危害后果轻微并及时改正，属于{fv.notice}所附清单第{fv.no}项：{fv.text}",
                "可以不予行政处罚",
                f"行政处罚法第三十三条第一款；{fv.notice}",
            )
        )
        return ctx.no_penalty(
            ("行政处罚法:33:1",),
            f"当事人初次违法且危害后果轻微，并及时改正，属于《税务行政处罚“首违不罚”事项清单》"
            f"（{fv.notice}）第{fv.no}项，依据《中华人民共和国行政处罚法》第三十三条第一款，"
            "可以不予行政处罚。",
            notice=fv.notice,
        )

    # 5. tier by measurable conditions
    tier_index = next(
        (i for i, tier in enumerate(item.tiers) if conditions_match(tier.when, case)), None
    )
    if tier_index is not None and item.tiers[tier_index].penalty.kind == "no_penalty":
        tier = item.tiers[tier_index]
        factors.append(Factor("benchmark_no_penalty", tier.standard, "不予行政处罚", item.source))
        return ctx.no_penalty(
            tier.penalty.ground,
            f"符合裁量基准第{item.number}项“{tier.name}”阶次：{tier.standard}。",
            tier=tier.name,
        )
    steps: list[str] = []
    if tier_index is None:
        tier_name: str | None = None
        lo, hi = stat_min, stat_max
        steps.append(f"未匹配到裁量阶次，按法定幅度{format_yuan(lo)}至{format_yuan(hi)}")
        amount = _midpoint(lo, hi)
        steps.append(f"建议取中值（{lo}+{hi}）÷2 = {amount}元")
    else:
        tier = item.tiers[tier_index]
        mitigations = [code for code in case.factors if code in MITIGATION]
        if mitigations:
            lower = _lower_tier(case, item, tier_index)
            for code in mitigations:
                factors.append(
                    _spec_factor(
                        code,
                        "应当从轻：降一个阶次" if lower is not None else "应当从轻：取阶次下限",
                    )
                )
            if lower is not None:
                steps.append(
                    f"依《中华人民共和国行政处罚法》第三十二条从轻，由“{tier.name}”阶次降为"
                    f"“{item.tiers[lower].name}”阶次"
                )
                tier = item.tiers[lower]
        tier_name = tier.name
        lo, hi = _tier_bounds(case, tier)
        steps.append(_describe_range(case, item, tier))
        if mitigations and tier is item.tiers[tier_index]:
            amount = lo
            steps.append(f"依第三十二条从轻，已是最低阶次，建议取阶次下限 {lo}元")
        else:
            amount = _midpoint(lo, hi)
            steps.append(_describe_mid(case, tier, amount))
    # 6. clamp to the statutory range — always the outer bound
    clamped_lo, clamped_hi = max(lo, stat_min), min(hi, stat_max)
    if clamped_lo > clamped_hi:
        clamped_lo, clamped_hi = stat_min, stat_max
    if (clamped_lo, clamped_hi) != (lo, hi) or not clamped_lo <= amount <= clamped_hi:
        new_amount = min(max(amount, clamped_lo), clamped_hi)
        factors.append(
            Factor(
                "clamped_to_statute",
                f"阶次幅度{lo}–{hi}元超出法定幅度{stat_min}–{stat_max}元，已限制在法定幅度内",
                f"建议金额由{amount}元调整为{new_amount}元",
                "、".join(item.basis),
            )
        )
        steps.append(f"限制在法定幅度{stat_min}–{stat_max}元内：{new_amount}元")
        lo, hi, amount = clamped_lo, clamped_hi, new_amount
    matched = None if tier_index is None else item.tiers[tier_index].name
    return ctx.penalty(tier_name, lo, hi, amount, "；".join(steps), review_factors, matched=matched)


def _lower_tier(case: DiscretionInput, item: BenchmarkItem, index: int) -> int | None:
    """Index of the next lighter penalty tier (by range), or None when already the lightest."""
    current = _tier_bounds(case, item.tiers[index])
    lighter = [
        (bounds, i)
        for i, t in enumerate(item.tiers)
        if t.penalty.kind != "no_penalty" and (bounds := _tier_bounds(case, t)) < current
    ]
    return max(lighter)[1] if lighter else None


def _describe_range(case: DiscretionInput, item: BenchmarkItem, tier: Tier) -> str:
    pen = tier.penalty
    lo, hi = _tier_bounds(case, tier)
    if pen.kind == "multiple":
        label = item.base_label or str(pen.base)
        base = format_yuan(_base(case, pen))
        return (
            f"“{tier.name}”阶次：{label}{base}×{pen.min}–{pen.max}倍 = "
            f"{format_yuan(lo)}–{format_yuan(hi)}"
        )
    return f"“{tier.name}”阶次：{format_yuan(lo)}–{format_yuan(hi)}"


def _describe_mid(case: DiscretionInput, tier: Tier, amount: Decimal) -> str:
    pen = tier.penalty
    if pen.kind == "multiple" and pen.min is not None and pen.max is not None:
        mid = (pen.min + pen.max) / 2
        return f"建议取阶次中值：{format_yuan(_base(case, pen))}×{mid.normalize()}倍 = {amount}元"
    lo, hi = _tier_bounds(case, tier)
    return f"建议取阶次中值：（{lo}+{hi}）÷2 = {amount}元"


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _imposed_penalties(
    case: DiscretionInput, item: BenchmarkItem, fine: Decimal
) -> tuple[ImposedPenalty, ...]:
    """Every penalty kind the article (version at the act) carries, with amounts where known.

    违法所得 is confiscated under the article where it says so, else under
    行政处罚法第二十八条第二款 (当事人有违法所得，除依法应当退赔的外，应当予以没收).
    """
    kinds = get_violation(case.violation).penalties_on(case.violation_date)
    out: list[ImposedPenalty] = []
    gains_listed = False
    for kind in kinds:
        if kind.kind == "fine":
            if item.statutory.max is not None and item.statutory.max > 0:
                out.append(ImposedPenalty("fine", fine, item.basis, kind.text, kind.mandatory))
        elif kind.kind == "confiscate_illegal_gains":
            gains_listed = True
            if case.illegal_gains > 0:
                out.append(
                    ImposedPenalty(
                        kind.kind, case.illegal_gains, item.basis, kind.text, kind.mandatory
                    )
                )
        else:
            out.append(
                ImposedPenalty(kind.kind, None, _kind_basis(case, item), kind.text, kind.mandatory)
            )
    if case.illegal_gains > 0 and not gains_listed:
        out.append(
            ImposedPenalty(
                "confiscate_illegal_gains",
                case.illegal_gains,
                ("行政处罚法:28:2",),
                "当事人有违法所得，除依法应当退赔的外，应当予以没收",
                True,
            )
        )
    return tuple(out)


def _kind_basis(case: DiscretionInput, item: BenchmarkItem) -> tuple[str, ...]:
    """A kind stated in a further 款 (停止出口退税: 征管法第六十六条第二款) cites it too."""
    law = StatuteId.parse(item.basis[0]).law
    also = get_violation(case.violation).also_cites
    extra = tuple(b for b in also if StatuteId.parse(b).law == law)
    return extra or item.basis


_HARM_ZH = {"none": "未造成危害后果", "minor": "危害后果轻微", "serious": "危害后果严重"}


def facts_sentence(case: DiscretionInput, base_label: str = "") -> str:
    """The facts the suggestion relies on, in the order an officer states them (据以认定的事实)."""
    party = "个人" if case.taxpayer_type == "individual" else "单位"
    parts = [f"当事人为{party}，违法行为发生于{case.violation_date.isoformat()}"]
    if case.discovery_date is not None:
        parts.append(f"于{case.discovery_date.isoformat()}被发现")
    if case.days_overdue:
        parts.append(f"逾期{case.days_overdue}日")
    if case.tax_unpaid > 0:
        parts.append(f"{base_label or '涉及税款'}{format_yuan(case.tax_unpaid)}")
    if case.tax_payable is not None and case.tax_payable > 0:
        parts.append(f"应纳税额{format_yuan(case.tax_payable)}")
    if case.invoice_amount > 0:
        parts.append(f"发票金额{format_yuan(case.invoice_amount)}")
    if case.invoice_tax_amount > 0:
        parts.append(f"发票税额{format_yuan(case.invoice_tax_amount)}")
    if case.illegal_gains > 0:
        parts.append(f"违法所得{format_yuan(case.illegal_gains)}")
    parts.append(f"发生{case.occurrences}次" + ("，系首次违法" if case.first_violation else ""))
    parts.append("已在责令限期内改正" if case.corrected_in_time else "未在责令限期内改正")
    parts.append(_HARM_ZH[case.harm])
    named = [FACTORS[c].description for c in case.factors if FACTORS[c].kind != "mitigation"]
    if named:
        parts.append("另有情节：" + "；".join(named))
    return "认定事实：" + "，".join(parts) + "。"


@dataclass
class _Context:
    """Builds the Suggestion once the decision is known, so both outcomes say the same things."""

    case: DiscretionInput
    bench: Benchmark
    rules: ProcedureRules
    item: BenchmarkItem
    stat_min: Decimal
    stat_max: Decimal
    referral: bool
    referral_basis: tuple[str, ...]
    factors: list[Factor]

    def _referral_text(self) -> str:
        if not self.referral:
            return ""
        note = next(f.description for f in self.factors if f.code == "criminal_referral")
        return f"【涉嫌犯罪】{note}依据：{'、'.join(cite(b) for b in self.referral_basis)}。"

    def _citation(self, tier: str | None) -> str | None:
        if tier is None:
            return None
        published = f"（{self.bench.publication}）" if self.bench.publication else ""
        return f"《{self.bench.name}》{published}第{self.item.number}项“{tier}”阶次"

    def no_penalty(
        self, ground: tuple[str, ...], reason: str, *, tier: str | None = None, notice: str = ""
    ) -> Suggestion:
        vtype = get_violation(self.case.violation)
        assert ground, "no-penalty outcomes always carry a legal ground"
        citations = [*ground, *self.item.basis, *self.referral_basis]
        if notice:
            citations.append(notice)
        review = any(t.code in self.case.factors for t in self.rules.legal_review_triggers)
        explanation = (
            facts_sentence(self.case, self.item.base_label)
            + f"当事人{vtype.name_zh}的行为，依据{'、'.join(cite(b) for b in self.item.basis)}，"
            f"法定罚款幅度为{format_yuan(self.stat_min)}至{format_yuan(self.stat_max)}。{reason}"
            "对不予行政处罚的当事人，应当进行教育（《中华人民共和国行政处罚法》第三十三条第三款），"
            "并责令限期改正。" + self._referral_text() + "本建议由系统生成，须经办案人员审核。"
        )
        return Suggestion(
            decision="no_penalty",
            legal_ground=ground,
            statutory_min=self.stat_min,
            statutory_max=self.stat_max,
            benchmark_item=self.item.id,
            tier=tier,
            benchmark_min=None,
            benchmark_max=None,
            suggested_amount=_ZERO,
            formula=f"不予行政处罚：{reason}",
            citations=tuple(dict.fromkeys(citations)),
            factors=tuple(self.factors),
            hearing_required=False,
            legal_review_required=review,
            simple_procedure=False,
            criminal_referral=self.referral,
            criminal_basis=self.referral_basis,
            explanation=explanation,
            benchmark_citation=self._citation(tier),
        )

    def penalty(
        self,
        tier: str | None,
        lo: Decimal,
        hi: Decimal,
        amount: Decimal,
        formula: str,
        review_factors: list[Any],
        *,
        matched: str | None = None,
    ) -> Suggestion:
        case, rules = self.case, self.rules
        vtype = get_violation(case.violation)
        imposed = _imposed_penalties(case, self.item, amount)
        confiscated = sum(
            (p.amount or _ZERO for p in imposed if p.kind == "confiscate_illegal_gains"), _ZERO
        )
        fine_hearing = rules.hearing_required(case.taxpayer_type, amount)
        gains_hearing = confiscated > 0 and confiscated >= rules.confiscation_hearing_threshold(
            case.taxpayer_type
        )
        hearing = fine_hearing or gains_hearing
        # 行政处罚法第五十一条: only 警告 or a small 罚款 on the spot — never with another kind.
        other_kinds = [p for p in imposed if p.kind != "fine" and p.mandatory]
        simple = (
            amount > 0
            and not other_kinds
            and rules.simple_procedure_allowed(case.taxpayer_type, amount)
        )
        review_reasons = [f"{t.text}（{t.source}）" for t in review_factors]
        if amount >= rules.legal_review_amount_threshold:
            review_reasons.append(
                f"罚款达到本局法制审核金额标准{format_yuan(rules.legal_review_amount_threshold)}"
            )
        citations = [*self.item.basis]
        for p in imposed:
            citations.extend(p.basis)
        if any(f.code in MITIGATION for f in self.factors):
            citations.append("行政处罚法:32")
        if hearing:
            citations += ["行政处罚法:63", "行政处罚法:64"]
        if simple:
            citations.append("行政处罚法:51")
        if review_reasons:
            citations.append("行政处罚法:58")
        citations += list(self.referral_basis)
        bench_cite = self._citation(tier)
        party = "个人" if case.taxpayer_type == "individual" else "单位"
        no_fine = self.stat_max <= 0
        parts = [
            facts_sentence(case, self.item.base_label),
            f"当事人{vtype.name_zh}的行为，依据{'、'.join(cite(b) for b in self.item.basis)}，"
            + (
                "该条不设罚款。"
                if no_fine
                else f"法定罚款幅度为{format_yuan(self.stat_min)}至{format_yuan(self.stat_max)}。"
            ),
        ]
        if bench_cite and not no_fine:
            fits = matched or tier
            standard = next((t.standard for t in self.item.tiers if t.name == fits), "")
            text = f"该行为符合{self._citation(fits)}的适用条件" + (
                f"（{standard.rstrip('。')}）" if standard else ""
            )
            if fits != tier:
                text += f"，依法从轻适用“{tier}”阶次"
            parts.append(text + f"，该阶次幅度为{format_yuan(lo)}至{format_yuan(hi)}。")
        for f in self.factors:
            if f.code in MITIGATION:
                parts.append(f"当事人{f.description}，依据{f.source}应当从轻处罚。")
            elif f.code in ("clamped_to_statute", "lighter_new_law"):
                parts.append(f"{f.description}（{f.source}）。")
        if not no_fine:
            parts.append(
                f"建议处罚款{format_yuan(amount)}（{to_chinese_capitals(amount)}）。计算：{formula}。"
            )
        for p in imposed:
            if p.kind == "fine":
                continue
            where = "、".join(cite(b) for b in p.basis)
            if p.kind == "confiscate_illegal_gains" and p.amount is not None:
                parts.append(
                    f"没收违法所得{format_yuan(p.amount)}（{to_chinese_capitals(p.amount)}），"
                    f"依据{where}。"
                )
            elif p.mandatory:
                parts.append(f"{PENALTY_KINDS[p.kind]}，依据{where}。")
            else:
                parts.append(f"另依{where}，{p.text}（可选，由办案人员决定）。")
        if hearing:
            reasons = []
            if fine_hearing:
                reasons.append(
                    f"拟罚款{format_yuan(amount)}达到听证标准"
                    f"（{format_yuan(rules.hearing_threshold(case.taxpayer_type))}以上，含本数）"
                )
            if gains_hearing:
                reasons.append(
                    f"拟没收违法所得{format_yuan(confiscated)}达到“较大数额”标准"
                    f"（{format_yuan(rules.confiscation_hearing_threshold(case.taxpayer_type))}"
                    "以上，行政处罚法第六十三条第一款第（二）项）"
                )
            parts.append(
                f"对{party}" + "；".join(reasons) + f"，应告知当事人有权在告知后"
                f"{rules.hearing_request_days}日内要求听证。"
            )
        if simple:
            parts.append(
                "罚款数额在行政处罚法第五十一条规定限额内，违法事实确凿的可以适用简易程序当场处罚。"
            )
        elif (
            amount > 0
            and other_kinds
            and rules.simple_procedure_allowed(case.taxpayer_type, amount)
        ):
            parts.append(
                "罚款虽在行政处罚法第五十一条限额内，但并处"
                + "、".join(PENALTY_KINDS[p.kind] for p in other_kinds)
                + "，不适用简易程序，应当适用普通程序。"
            )
        if review_reasons:
            parts.append("作出决定前应当进行法制审核：" + "；".join(review_reasons) + "。")
        parts.append(self._referral_text())
        parts.append("本建议由系统生成，须经办案人员审核。")
        return Suggestion(
            decision="penalty",
            legal_ground=self.item.basis,
            statutory_min=self.stat_min,
            statutory_max=self.stat_max,
            benchmark_item=self.item.id,
            tier=tier,
            benchmark_min=lo if tier is not None else None,
            benchmark_max=hi if tier is not None else None,
            suggested_amount=amount,
            formula=formula,
            citations=tuple(dict.fromkeys(citations)),
            factors=tuple(self.factors),
            hearing_required=hearing,
            legal_review_required=bool(review_reasons),
            simple_procedure=simple,
            criminal_referral=self.referral,
            criminal_basis=self.referral_basis,
            explanation="".join(parts),
            benchmark_citation=bench_cite,
            penalties=imposed,
        )

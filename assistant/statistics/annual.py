"""The annual enforcement statistics (行政执法统计年报): one registered counter per row.

Why a registry: the report grows (publication counts, new kinds of act as the system records
them), and every consumer — the CLI, the API, the workbench, the .xlsx/.csv exports and the
charts — reads the rows from `COUNTERS`. Adding a row is one decorated function here (or in
the module that owns the data, imported by `assistant.statistics`); nothing else changes.

A counter returns an int (件/次), a Decimal (元) or None: None means the system does not record
that kind of act yet, shown as 未记录 rather than a misleading 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.db.models import Case, Publication
from assistant.documents.registry import PUBLISHED_TYPES
from assistant.money import to_yuan
from assistant.outcomes.rules import load_outcome_rules
from assistant.publicity.rules import load_rules
from assistant.statistics.records import Period, check_year, china_midnight_utc

Value = int | Decimal | None
Unit = Literal["件", "次", "元"]

#: Row groups in report order, with their Chinese headings.
GROUPS: dict[str, str] = {
    "kinds": "执法行为",
    "amounts": "金额",
    "procedure": "程序",
    "remedies": "救济",
    "publicity": "公示",
}


@dataclass(frozen=True)
class Counter:
    """One row of the report: what it counts (`note`, with the record it reads) and how."""

    key: str
    label: str
    group: str
    unit: Unit
    note: str
    count: Callable[[Period], Value]


COUNTERS: list[Counter] = []


def counter(
    key: str, label: str, *, group: str, unit: Unit, note: str
) -> Callable[[Callable[[Period], Value]], Callable[[Period], Value]]:
    """Register the decorated function as the report row `key` (keys are unique)."""
    if group not in GROUPS:
        raise ValueError(f"unknown group {group!r}")

    def register(count: Callable[[Period], Value]) -> Callable[[Period], Value]:
        if any(c.key == key for c in COUNTERS):
            raise ValueError(f"counter {key!r} registered twice")
        COUNTERS.append(Counter(key, label, group, unit, note, count))
        return count

    return register


def decisions(period: Period, kind: str) -> list[Any]:
    """决定 acts of the period whose decision is `kind` (penalty | no_penalty)."""
    return [a for a in period.acts("decided") if a.details.get("decision", "penalty") == kind]


def amount_of(details: dict[str, Any]) -> Decimal:
    raw = details.get("amount")
    return Decimal("0.00") if raw in (None, "") else to_yuan(str(raw))


# -- 执法行为: the plan's 行政处罚、行政强制、行政检查、行政征收、行政许可 ---------------------
@counter(
    "penalty_decisions",
    "行政处罚决定",
    group="kinds",
    unit="件",
    note="作出决定（decided）且决定为给予处罚的案件，按决定日期",
)
def penalty_decisions(period: Period) -> Value:
    return len(decisions(period, "penalty"))


@counter(
    "no_penalty_decisions",
    "不予行政处罚决定",
    group="kinds",
    unit="件",
    note="作出决定且决定为不予处罚（含首违不罚）的案件，按决定日期",
)
def no_penalty_decisions(period: Period) -> Value:
    return len(decisions(period, "no_penalty"))


@counter(
    "inspections",
    "行政检查（立案检查）",
    group="kinds",
    unit="件",
    note="立案（case_created）的案件，按立案日期；每一案件即一次税务检查",
)
def inspections(period: Period) -> Value:
    return len(period.acts("case_created"))


@counter(
    "collections",
    "行政征收（税务处理决定）",
    group="kinds",
    unit="件",
    note="签发的税务处理决定书（追缴税款、加收滞纳金），按签发日期",
)
def collections(period: Period) -> Value:
    return len(period.issued("tax_handling_decision"))


def measures(period: Period, kind: str | None = None) -> list[Any]:
    """强制 measures (enforcement_measure) of the period, of one kind or all."""
    acts = period.acts("enforcement_measure")
    return [a for a in acts if kind is None or a.details.get("measure") == kind]


@counter(
    "enforcement",
    "行政强制",
    group="kinds",
    unit="件",
    note="采取的税收保全措施和强制执行措施（enforcement_measure），按采取日期",
)
def enforcement(period: Period) -> Value:
    return len(measures(period))


@counter(
    "enforcement_preservation",
    "其中：税收保全措施",
    group="kinds",
    unit="件",
    note="税收征收管理法第三十八条的税收保全措施（冻结存款，扣押、查封财产），按采取日期",
)
def enforcement_preservation(period: Period) -> Value:
    return len(measures(period, "preservation"))


@counter(
    "enforcement_execution",
    "其中：强制执行措施",
    group="kinds",
    unit="件",
    note="税收征收管理法第四十条的强制执行措施（扣缴存款，拍卖、变卖财产），按采取日期",
)
def enforcement_execution(period: Period) -> Value:
    return len(measures(period, "execution"))


@counter(
    "licensing",
    "行政许可",
    group="kinds",
    unit="件",
    note="未记录：系统只办理处罚案件，不受理行政许可",
)
def licensing(period: Period) -> Value:
    return None


@counter(
    "referrals",
    "移送司法机关",
    group="kinds",
    unit="件",
    note="经正职负责人批准移送（referred）的案件，按批准日期",
)
def referrals(period: Period) -> Value:
    return len(period.acts("referred"))


# -- 金额 ----------------------------------------------------------------------------------------
@counter(
    "fines_total",
    "罚款金额",
    group="amounts",
    unit="元",
    note="行政处罚决定所定罚款之和（决定记录的金额）",
)
def fines_total(period: Period) -> Value:
    return sum((amount_of(a.details) for a in decisions(period, "penalty")), Decimal("0.00"))


@counter(
    "tax_recovered_total",
    "追缴税款金额",
    group="amounts",
    unit="元",
    note="签发税务处理决定书的案件记录的少缴税款（tax_unpaid）之和；滞纳金未单列",
)
def tax_recovered_total(period: Period) -> Value:
    case_ids = {d.case_id for d in period.issued("tax_handling_decision")}
    if not case_ids:
        return Decimal("0.00")
    amounts = period.session.scalars(select(Case.tax_unpaid).where(Case.id.in_(sorted(case_ids))))
    return sum(amounts, Decimal("0.00"))


# -- 程序 ----------------------------------------------------------------------------------------
@counter(
    "hearings_requested",
    "听证申请",
    group="procedure",
    unit="件",
    note="当事人申请听证（hearing_requested），按申请日期",
)
def hearings_requested(period: Period) -> Value:
    return len(period.acts("hearing_requested"))


@counter(
    "hearings_held",
    "举行听证",
    group="procedure",
    unit="件",
    note="举行听证并制作笔录（hearing_held），按听证日期",
)
def hearings_held(period: Period) -> Value:
    return len(period.acts("hearing_held"))


@counter(
    "legal_reviews",
    "法制审核",
    group="procedure",
    unit="次",
    note="法制审核意见（legal_review），每一轮审核计一次",
)
def legal_reviews(period: Period) -> Value:
    return len(period.acts("legal_review"))


@counter(
    "legal_reviews_failed",
    "法制审核提出存在问题",
    group="procedure",
    unit="次",
    note="审核结论为“存在问题”、退回承办机构的审核",
)
def legal_reviews_failed(period: Period) -> Value:
    return sum(1 for a in period.acts("legal_review") if a.details.get("result") == "存在问题")


@counter(
    "committee_reviews",
    "重大税务案件审理",
    group="procedure",
    unit="件",
    note="重大税务案件审理委员会审理（committee_reviewed）",
)
def committee_reviews(period: Period) -> Value:
    return len(period.acts("committee_reviewed"))


# -- 救济 ----------------------------------------------------------------------------------------
def overturned(period: Period, action: str, remedy: str) -> int:
    """Results of the period (by their date) that revoke, change or confirm the decision
    unlawful or void: those the rules map to a withdrawal reason."""
    results = load_outcome_rules().remedies[remedy].results
    return sum(1 for a in period.acts(action) if results.get(str(a.details.get("result"))))


@counter(
    "reconsiderations",
    "行政复议",
    group="remedies",
    unit="件",
    note="当事人申请行政复议（reconsideration_applied），按申请日期",
)
def reconsiderations(period: Period) -> Value:
    return len(period.acts("reconsideration_applied"))


@counter(
    "reconsiderations_overturned",
    "复议撤销、变更或确认违法",
    group="remedies",
    unit="件",
    note="复议决定撤销、变更或确认违法（reconsideration_decided），按复议决定日期",
)
def reconsiderations_overturned(period: Period) -> Value:
    return overturned(period, "reconsideration_decided", "reconsideration")


@counter(
    "lawsuits",
    "行政诉讼",
    group="remedies",
    unit="件",
    note="当事人提起行政诉讼（lawsuit_filed），按起诉日期",
)
def lawsuits(period: Period) -> Value:
    return len(period.acts("lawsuit_filed"))


@counter(
    "lawsuits_overturned",
    "判决撤销、变更、确认违法或无效",
    group="remedies",
    unit="件",
    note="判决撤销、变更、确认违法或确认无效（lawsuit_judged），按判决日期",
)
def lawsuits_overturned(period: Period) -> Value:
    return overturned(period, "lawsuit_judged", "litigation")


def publications_between(period: Period, column: str) -> int:
    """Publications whose `column` instant (published_at | withdrawn_at) is in the period."""
    stamp = getattr(Publication, column)
    return int(
        period.session.scalar(
            select(func.count())
            .select_from(Publication)
            .where(
                stamp >= china_midnight_utc(period.start),
                stamp < china_midnight_utc(period.end + timedelta(days=1)),
                Publication.published_at.is_not(None),  # a draft withdrawn was never public
            )
        )
        or 0
    )


@counter(
    "publications_published",
    "公示的执法决定",
    group="publicity",
    unit="件",
    note="在公示栏发布（published）的执法决定信息（各类合计，含强制措施），按发布日期；其后撤下的也计入",
)
def publications_published(period: Period) -> Value:
    return publications_between(period, "published_at")


def published_of_kind(period: Period, kind: str) -> int:
    """Records of one kind (处罚, 强制 …) published in the period, by the day published."""
    return int(
        period.session.scalar(
            select(func.count())
            .select_from(Publication)
            .where(
                Publication.kind == kind,
                Publication.published_at >= china_midnight_utc(period.start),
                Publication.published_at < china_midnight_utc(period.end + timedelta(days=1)),
            )
        )
        or 0
    )


def _register_published_kinds() -> None:
    """One row per kind of public record the publicity rules name (`kinds`): a kind that no
    document type and no record type produces (行政许可: no licensing is handled) is 未记录."""
    rules = load_rules()
    produced = {p.kind for p in PUBLISHED_TYPES.values()}
    produced |= {r.kind for r in rules.records.values() if r.kind}
    for key, kind in rules.kinds.items():
        recorded = kind in produced

        def count(period: Period, kind: str = kind, recorded: bool = recorded) -> Value:
            return published_of_kind(period, kind) if recorded else None

        counter(
            f"publications_published_{key}",
            f"其中：公示的{kind}信息",
            group="publicity",
            unit="件",
            note=(
                f"公示栏发布的“{kind}”类执法信息（published），按发布日期；其后撤下的也计入"
                if recorded
                else f"未记录：系统没有产生“{kind}”类公示信息的文书或记录"
            ),
        )(count)


_register_published_kinds()


@counter(
    "publications_withdrawn",
    "撤下的公示信息",
    group="publicity",
    unit="件",
    note="因决定被撤销、确认违法或重新作出而撤下（withdrawn）的公示信息，按撤下日期（行政处罚法第四十八条第二款）",
)
def publications_withdrawn(period: Period) -> Value:
    return publications_between(period, "withdrawn_at")


# -- the report ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    key: str
    label: str
    group: str
    unit: str
    value: Value
    note: str

    @property
    def shown(self) -> str:
        """The value as the report prints it: 未记录, a count, or yuan with 2 places."""
        if self.value is None:
            return "未记录"
        if isinstance(self.value, Decimal):
            return f"{self.value:,.2f}"
        return str(self.value)

    def to_dict(self) -> dict[str, Any]:
        value = self.value
        return {
            "key": self.key,
            "label": self.label,
            "group": self.group,
            "group_label": GROUPS[self.group],
            "unit": self.unit,
            "value": f"{value:.2f}" if isinstance(value, Decimal) else value,
            "recorded": value is not None,
            "note": self.note,
        }


@dataclass(frozen=True)
class AnnualReport:
    year: int
    start: date
    end: date
    rows: tuple[Row, ...]

    def value(self, key: str) -> Value:
        return next(r.value for r in self.rows if r.key == key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "period": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "rows": [r.to_dict() for r in self.rows],
        }


def annual_report(session: Session, year: int, *, today: date | None = None) -> AnnualReport:
    """Every registered counter over the year, in group order (422 `invalid_year`)."""
    period = Period.year(session, check_year(year, today=today))
    order = list(GROUPS)
    rows = [
        Row(c.key, c.label, c.group, c.unit, c.count(period), c.note)
        for c in sorted(COUNTERS, key=lambda c: order.index(c.group))
    ]
    return AnnualReport(year, period.start, period.end, tuple(rows))

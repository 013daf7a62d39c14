"""The enforcement data platform (税务执法数据应用平台): where enforcement is uneven or late.

Why: the plan asks that the record be analysed to find weak links — penalties out of line with
the benchmark or with like cases, procedures past their deadlines, acts by people without a
valid 执法证件, and entities that meet the criteria of the 重大税收违法失信主体 list. Each check
reads the case record (decisions, acts, credentials) and the data files that state the rules
with their source (`corpora/statistics/`, the discretion benchmark); none changes anything.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.config import BUNDLED_CORPUS
from assistant.db.models import Case, CaseEvent, Document, OfficerCredential, User
from assistant.discretion import Benchmark
from assistant.discretion.consistency import HIGH_PCT, LOW_PCT, MANY_PEERS, MIN_PEERS, percentile_of
from assistant.errors import InvalidInput, TaxAssistError
from assistant.outcomes.rules import load_outcome_rules
from assistant.publicity.workdays import WorkingCalendar
from assistant.statistics.annual import amount_of
from assistant.statistics.annual import decisions as decided_acts
from assistant.statistics.records import Period, act_date, china_midnight_utc
from assistant.taxonomy import load_taxonomy

STATISTICS_DATA = BUNDLED_CORPUS / "statistics"
DEADLINES_FILE = STATISTICS_DATA / "deadlines.yaml"
MAJOR_VIOLATORS_FILE = STATISTICS_DATA / "major_violators.yaml"
DECISION_DOC_TYPES = ("penalty_decision", "simple_penalty_decision", "no_penalty_decision")
# "示税稽罚〔2026〕1号" -> the authority's 文号 prefix "示税稽"
_DOC_PREFIX = re.compile(r"^(.+?)(?:简罚|不罚|罚)〔")


def median(values: Sequence[Decimal]) -> Decimal:
    ordered = sorted(values)
    n, mid = len(ordered), len(ordered) // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


# -- decided penalty cases -----------------------------------------------------------------------
@dataclass(frozen=True)
class Decision:
    """A penalty decision as the platform compares it: the case's facts, the amount decided and,
    for penalties the law sets as a multiple of the tax, that multiple."""

    case_id: int
    number: str
    violation: str
    officer: str
    authority: str
    on: date
    amount: Decimal
    multiple: Decimal | None
    item: str | None
    tier: str | None
    statutory: tuple[Decimal, Decimal] | None
    tier_range: tuple[Decimal, Decimal] | None


def authority_of(number: str | None, names: dict[str, str]) -> str:
    """The authority that issued a decision, read from its 文号 prefix (named when known)."""
    if not number:
        return "（决定书未签发）"
    match = _DOC_PREFIX.match(number)
    prefix = match.group(1) if match else number
    return names.get(prefix, prefix)


def penalty_decisions(
    session: Session,
    period: Period,
    benchmark: Benchmark,
    *,
    authorities: dict[str, str] | None = None,
) -> list[Decision]:
    """The period's penalty decisions, each placed in the benchmark again from the case's facts
    as recorded (item, tier, statutory range): what the tables say the decision should be."""
    from assistant.cases.service import discretion_input
    from assistant.discretion import suggest

    acts = decided_acts(period, "penalty")
    cases = {
        c.id: c
        for c in session.scalars(select(Case).where(Case.id.in_(sorted({a.case_id for a in acts}))))
    }
    numbers = {
        case_id: number
        for case_id, number in session.execute(
            select(Document.case_id, Document.number)
            .where(
                Document.case_id.in_(sorted(cases)),
                Document.doc_type.in_(DECISION_DOC_TYPES),
                Document.issued_at.is_not(None),
            )
            .order_by(Document.id)
        )
    }
    items = {i.id: i for i in benchmark.items}
    out = []
    for act in acts:
        case = cases[act.case_id]
        amount = amount_of(act.details)
        item_id = tier = None
        statutory = tier_range = None
        multiple = None
        try:
            s = suggest(discretion_input(case, decision_date=act.on), benchmark=benchmark)
        except (TaxAssistError, ValueError):
            s = None  # facts the engine refuses today: compared with no range
        if s is not None and s.decision == "penalty":
            item_id, tier = s.benchmark_item, s.tier
            statutory = (s.statutory_min, s.statutory_max)
            if s.benchmark_min is not None and s.benchmark_max is not None:
                tier_range = (s.benchmark_min, s.benchmark_max)
            item = items.get(item_id or "")
            if item is not None and item.statutory.kind == "multiple" and item.statutory.base:
                base = Decimal(getattr(case, item.statutory.base) or 0)
                if base > 0:
                    multiple = (amount / base).quantize(Decimal("0.01"))
        out.append(
            Decision(
                case.id,
                case.number,
                case.violation_code,
                case.officer.display_name or case.officer.username,
                authority_of(numbers.get(case.id), authorities or {}),
                act.on,
                amount,
                multiple,
                item_id,
                tier,
                statutory,
                tier_range,
            )
        )
    return out


# -- distribution --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Spread:
    """Amounts and multiples of one group of decisions (min, median, max)."""

    group: str
    count: int
    amount_total: Decimal
    amount_min: Decimal
    amount_median: Decimal
    amount_max: Decimal
    multiples: int
    multiple_min: Decimal | None
    multiple_median: Decimal | None
    multiple_max: Decimal | None

    def to_dict(self) -> dict[str, Any]:
        def s(v: Decimal | None) -> str | None:
            return None if v is None else str(v)

        return {
            "group": self.group,
            "count": self.count,
            "amount": {
                "total": s(self.amount_total),
                "min": s(self.amount_min),
                "median": s(self.amount_median),
                "max": s(self.amount_max),
            },
            "multiples": self.multiples,
            "multiple": {
                "min": s(self.multiple_min),
                "median": s(self.multiple_median),
                "max": s(self.multiple_max),
            },
        }


def spread(decisions: Iterable[Decision], key: Callable[[Decision], str]) -> list[Spread]:
    """Decisions grouped by `key` (violation, authority, officer), largest group first."""
    groups: dict[str, list[Decision]] = defaultdict(list)
    for d in decisions:
        groups[key(d)].append(d)
    out = []
    for name, rows in groups.items():
        amounts = [d.amount for d in rows]
        multiples = [d.multiple for d in rows if d.multiple is not None]
        out.append(
            Spread(
                name,
                len(rows),
                sum(amounts, Decimal("0.00")),
                min(amounts),
                median(amounts).quantize(Decimal("0.01")),
                max(amounts),
                len(multiples),
                min(multiples) if multiples else None,
                median(multiples).quantize(Decimal("0.01")) if multiples else None,
                max(multiples) if multiples else None,
            )
        )
    return sorted(out, key=lambda s: (-s.count, s.group))


def violation_name(code: str) -> str:
    violation = load_taxonomy().get(code)
    return violation.name_zh if violation else code


# -- outliers ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outlier:
    case_id: int
    number: str
    violation: str
    officer: str
    amount: Decimal
    multiple: Decimal | None
    code: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "number": self.number,
            "violation": self.violation,
            "officer": self.officer,
            "amount": str(self.amount),
            "multiple": None if self.multiple is None else str(self.multiple),
            "code": self.code,
            "reason": self.reason,
        }


def benchmark_outliers(decisions: Iterable[Decision]) -> list[Outlier]:
    """Decisions outside the statutory range, or outside the benchmark tier the case's facts
    fall in (the codes of the consistency check, `assistant.discretion.consistency`)."""
    out = []
    for d in decisions:
        found: tuple[str, str] | None = None
        if d.statutory is not None and not d.statutory[0] <= d.amount <= d.statutory[1]:
            found = (
                "outside_statutory_range",
                f"罚款{d.amount}元超出法定幅度{d.statutory[0]}至{d.statutory[1]}元",
            )
        elif d.tier_range is not None and not d.tier_range[0] <= d.amount <= d.tier_range[1]:
            side = "below" if d.amount < d.tier_range[0] else "above"
            found = (
                f"{side}_benchmark_tier",
                f"罚款{d.amount}元{'低于' if side == 'below' else '高于'}裁量基准"
                f"{d.item}“{d.tier}”阶次幅度{d.tier_range[0]}至{d.tier_range[1]}元",
            )
        if found:
            out.append(
                Outlier(d.case_id, d.number, d.violation, d.officer, d.amount, d.multiple, *found)
            )
    return out


def peer_outliers(decisions: Sequence[Decision]) -> list[Outlier]:
    """Decisions out of line with like decisions: same violation and benchmark tier, compared on
    the multiple where the law sets one, else the amount. The rule is the consistency check's:
    with MANY_PEERS or more, below the LOW_PCT or above the HIGH_PCT percentile; with fewer (at
    least MIN_PEERS), outside the others' min–max."""
    groups: dict[tuple[str, str | None], list[Decision]] = defaultdict(list)
    for d in decisions:
        groups[(d.violation, d.tier)].append(d)
    out = []
    for rows in groups.values():
        for d in rows:
            on_multiple = d.multiple is not None
            value = d.multiple if d.multiple is not None else d.amount
            others = [
                (o.multiple if on_multiple else o.amount)
                for o in rows
                if o is not d and (o.multiple is not None) == on_multiple
            ]
            values = [v for v in others if v is not None]
            if len(values) < MIN_PEERS:
                continue
            pct = percentile_of(value, values)
            if len(values) >= MANY_PEERS:
                odd = pct < LOW_PCT or pct > HIGH_PCT
            else:
                odd = value < min(values) or value > max(values)
            if odd:
                unit = "倍" if on_multiple else "元"
                word = "低于" if pct < 50 else "高于"
                out.append(
                    Outlier(
                        d.case_id,
                        d.number,
                        d.violation,
                        d.officer,
                        d.amount,
                        d.multiple,
                        f"{'low' if pct < 50 else 'high'}_vs_similar_cases",
                        f"{value}{unit}{word}同类同阶次的{len(values)}个决定"
                        f"（中位数{median(values)}{unit}），位于第{pct:g}百分位",
                    )
                )
    return out


# -- deadlines -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Deadline:
    code: str
    name: str
    start: str
    end: tuple[str, ...]
    days: int
    unit: str
    source: str


@lru_cache(maxsize=4)
def load_deadlines(path: Path = DEADLINES_FILE) -> tuple[Deadline, ...]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = []
    for raw in data["deadlines"]:
        if raw["unit"] not in ("days", "working_days"):
            raise ValueError(f"{path}: unknown unit {raw['unit']!r} in {raw['code']}")
        out.append(
            Deadline(
                raw["code"],
                raw["name"],
                raw["start"],
                tuple(raw["end"]),
                int(raw["days"]),
                raw["unit"],
                raw["source"],
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class Overdue:
    case_id: int
    number: str
    officer: str
    deadline: str
    name: str
    started: date
    due: date
    ended: date | None
    days_late: int
    source: str
    # counted through a year the working-day calendar has no State Council notice for
    due_provisional: bool = False
    due_warning: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "number": self.number,
            "officer": self.officer,
            "deadline": self.deadline,
            "name": self.name,
            "started": self.started.isoformat(),
            "due": self.due.isoformat(),
            "ended": None if self.ended is None else self.ended.isoformat(),
            "open": self.ended is None,
            "days_late": self.days_late,
            "source": self.source,
            "due_provisional": self.due_provisional,
            "due_warning": self.due_warning,
        }


def overdue(
    session: Session,
    period: Period,
    as_of: date,
    *,
    calendar: WorkingCalendar,
    deadlines: Sequence[Deadline] | None = None,
) -> list[Overdue]:
    """Procedures started in the period that ended after their due date, or are still open
    past it on `as_of`. Working days are the State Council calendar's (holidays and adjusted
    working weekends, 行政处罚法第八十五条); a due date counted through a year the calendar
    lacks is marked provisional with the calendar's warning."""
    rules = list(deadlines if deadlines is not None else load_deadlines())
    out = []
    for rule in rules:
        starts = period.acts(rule.start)
        if not starts:
            continue
        ends: dict[int, date] = {}
        for case_id, details, created_at in session.execute(
            select(CaseEvent.case_id, CaseEvent.details, CaseEvent.created_at)
            .where(
                CaseEvent.action.in_(rule.end),
                CaseEvent.case_id.in_(sorted({a.case_id for a in starts})),
            )
            .order_by(CaseEvent.id)
        ):
            ends.setdefault(case_id, act_date(details or {}, created_at))
        cases = _case_labels(session, {a.case_id for a in starts})
        for act in starts:
            counted = (
                calendar.add_working_days(act.on, rule.days)
                if rule.unit == "working_days"
                else None
            )
            due = counted.due_on if counted else act.on + timedelta(days=rule.days)
            ended = ends.get(act.case_id)
            finish = ended if ended is not None else as_of
            if finish > due:
                number, officer = cases[act.case_id]
                out.append(
                    Overdue(
                        act.case_id,
                        number,
                        officer,
                        rule.code,
                        rule.name,
                        act.on,
                        due,
                        ended,
                        (finish - due).days,
                        rule.source,
                        due_provisional=bool(counted and counted.provisional),
                        due_warning=counted.warning if counted else None,
                    )
                )
    return out


def _case_labels(session: Session, ids: set[int]) -> dict[int, tuple[str, str]]:
    rows = session.execute(
        select(Case.id, Case.number, User.display_name, User.username)
        .join(User, User.id == Case.officer_id)
        .where(Case.id.in_(sorted(ids)))
    )
    return {cid: (number, name or username) for cid, number, name, username in rows}


# -- credentials ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class CredentialFinding:
    event_id: int
    case_id: int
    action: str
    on: date
    actor: str
    credential: str | None
    code: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "case_id": self.case_id,
            "action": self.action,
            "on": self.on.isoformat(),
            "actor": self.actor,
            "credential": self.credential,
            "code": self.code,
            "reason": self.reason,
        }


def credential_findings(session: Session, period: Period) -> list[CredentialFinding]:
    """Acts of the period recorded by someone without a valid 执法证件 on the act's date
    (行政处罚法第四十二条). The record stores the credential number each act was taken under;
    it is checked against the register: unknown, another person's, not valid on the date the act
    states (an act dated before issue or after expiry), or revoked since (the register keeps no
    revocation date, so such acts are listed for review)."""
    credentials = {c.number: c for c in session.scalars(select(OfficerCredential))}
    names = {
        uid: name or username
        for uid, name, username in session.execute(
            select(User.id, User.display_name, User.username)
        )
    }
    rows = session.execute(
        select(
            CaseEvent.id,
            CaseEvent.case_id,
            CaseEvent.action,
            CaseEvent.actor_id,
            CaseEvent.details,
            CaseEvent.created_at,
        )
        .where(CaseEvent.created_at >= china_midnight_utc(period.start))
        .order_by(CaseEvent.id)
    )
    out = []
    for event_id, case_id, action, actor_id, details, created_at in rows:
        details = details or {}
        on = act_date(details, created_at)
        if not period.contains(on):
            continue
        number = details.get("credential")
        credential = credentials.get(number) if isinstance(number, str) else None
        problem: tuple[str, str] | None = None
        if not number:
            problem = ("no_credential_recorded", "记录中没有执法证件号码")
        elif credential is None:
            problem = ("credential_not_registered", f"执法证件 {number} 未登记")
        elif credential.user_id != actor_id:
            problem = (
                "credential_of_another_person",
                f"执法证件 {number} 登记在{names.get(credential.user_id, '他人')}名下",
            )
        elif not credential.issued_on <= on <= credential.valid_until:
            problem = (
                "credential_not_valid_on_date",
                f"执法证件 {number} 有效期 {credential.issued_on} 至 {credential.valid_until}，"
                f"不含执法行为日期 {on}",
            )
        elif credential.revoked:
            problem = ("credential_revoked", f"执法证件 {number} 已注销（注销日期未登记，请核实）")
        if problem is not None:
            out.append(
                CredentialFinding(
                    event_id,
                    case_id,
                    action,
                    on,
                    names.get(actor_id, str(actor_id)),
                    number if isinstance(number, str) else None,
                    *problem,
                )
            )
    return out


# -- 重大税收违法失信主体 candidates ----------------------------------------------------
@dataclass(frozen=True)
class Criterion:
    id: str
    name: str
    violations: tuple[str, ...]
    party_roles: tuple[str, ...] = ()
    min_tax_unpaid: Decimal | None = None
    min_share_of_tax_payable: Decimal | None = None
    min_invoice_amount: Decimal | None = None
    facts_any: tuple[str, ...] = ()


@dataclass(frozen=True)
class RemedyEffect:
    """What a 复议 or 诉讼 result does to a candidate, by the withdrawal reason the outcome rules
    give the result: `exclude` (the decision no longer supports a listing) or `recheck` (kept,
    to be checked against the decision as changed); a result with no reason leaves it standing."""

    source: str
    confidence: str
    exclude: frozenset[str]
    recheck: frozenset[str]


@dataclass(frozen=True)
class Criteria:
    source: str
    confidence: str
    criteria: tuple[Criterion, ...]
    remedies: RemedyEffect


@lru_cache(maxsize=4)
def load_criteria(path: Path = MAJOR_VIOLATORS_FILE) -> Criteria:
    """The list's criteria (422 `invalid_criteria_file` naming the problem)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        known = set(load_taxonomy())
        criteria = []
        for raw in data["criteria"]:
            unknown = [v for v in raw["violations"] if v not in known]
            if unknown:
                raise ValueError(f"{raw['id']}: unknown violation codes {unknown}")

            def money(name: str, raw: dict[str, Any] = raw) -> Decimal | None:
                return None if raw.get(name) is None else Decimal(str(raw[name]))

            criteria.append(
                Criterion(
                    str(raw["id"]),
                    raw["name"],
                    tuple(raw["violations"]),
                    tuple(raw.get("party_roles") or ()),
                    money("min_tax_unpaid"),
                    money("min_share_of_tax_payable"),
                    money("min_invoice_amount"),
                    tuple(raw.get("facts_any") or ()),
                )
            )
        return Criteria(
            str(data["source"]),
            str(data.get("confidence", "")),
            tuple(criteria),
            remedy_effect(data.get("remedies")),
        )
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError, ArithmeticError) as exc:
        raise InvalidInput(
            "invalid_criteria_file",
            f"重大税收违法失信主体标准文件无法读取：{exc}",
            details={"path": str(path)},
        ) from exc


def remedy_effect(raw: Any) -> RemedyEffect:
    """The file's `remedies` block (required: the list depends on it); every reason a result can
    carry (corpora/outcomes/acts.yaml) must be classified, so a result kind added there cannot
    pass unnoticed."""
    if not isinstance(raw, dict) or not raw.get("source"):
        raise ValueError("remedies: missing, or without its source (复议、诉讼结果对候选的影响)")
    reasons = load_outcome_rules().withdrawal_reasons()
    exclude, recheck = frozenset(raw.get("exclude") or ()), frozenset(raw.get("recheck") or ())
    unknown = sorted((exclude | recheck) - reasons)
    if unknown:
        raise ValueError(f"remedies: unknown results {unknown} (known: {sorted(reasons)})")
    if exclude & recheck:
        raise ValueError(f"remedies: {sorted(exclude & recheck)} both excluded and re-checked")
    unclassified = sorted(reasons - exclude - recheck)
    if unclassified:
        raise ValueError(f"remedies: results {unclassified} neither excluded nor re-checked")
    return RemedyEffect(str(raw["source"]), str(raw.get("confidence", "")), exclude, recheck)


@dataclass(frozen=True)
class RemedyState:
    """The remedies recorded against a candidate's decision (as of the report's day): the
    events, the result that excludes it (if any), whether one changed it, whether one is
    still awaiting its result."""

    events: tuple[dict[str, Any], ...]
    excluded_by: dict[str, Any] | None
    changed: bool
    pending: tuple[str, ...]  # remedies applied for and not yet concluded
    upheld: bool

    @property
    def status(self) -> str | None:
        """excluded > pending > changed > upheld; None: no remedy recorded."""
        if self.excluded_by is not None:
            return "excluded"
        if self.pending:
            return "pending"
        if self.changed:
            return "changed"
        return "upheld" if self.upheld else None


@dataclass(frozen=True)
class Candidate:
    case_id: int
    number: str
    party: str
    party_kind: str
    violation: str
    decided_on: date
    criterion: str
    criterion_name: str
    tax_unpaid: Decimal
    unverified: tuple[str, ...] = field(default=())
    remedy: RemedyState | None = None

    def to_dict(self) -> dict[str, Any]:
        remedy = self.remedy
        return {
            "case_id": self.case_id,
            "number": self.number,
            "party": self.party,
            "party_kind": self.party_kind,
            "violation": self.violation,
            "decided_on": self.decided_on.isoformat(),
            "criterion": self.criterion,
            "criterion_name": self.criterion_name,
            "tax_unpaid": str(self.tax_unpaid),
            "unverified": list(self.unverified),
            "remedy_status": remedy.status if remedy else None,
            "remedy_pending": list(remedy.pending) if remedy else [],
            "excluded_by": remedy.excluded_by if remedy else None,
            "remedies": list(remedy.events) if remedy else [],
        }


def matches(criterion: Criterion, case: Case) -> tuple[bool, tuple[str, ...]]:
    """Whether the case meets the criterion, and what the record cannot confirm (a share of the
    tax payable when the payable tax is not recorded)."""
    if case.violation_code not in criterion.violations:
        return False, ()
    if criterion.party_roles and case.party_role not in criterion.party_roles:
        return False, ()
    if criterion.min_tax_unpaid is not None and case.tax_unpaid < criterion.min_tax_unpaid:
        return False, ()
    if (
        criterion.min_invoice_amount is not None
        and case.invoice_amount < criterion.min_invoice_amount
    ):
        return False, ()
    if criterion.facts_any and not any(w in case.facts for w in criterion.facts_any):
        return False, ()
    unverified: tuple[str, ...] = ()
    if criterion.min_share_of_tax_payable is not None:
        if case.tax_payable is None or case.tax_payable <= 0:
            unverified = ("min_share_of_tax_payable",)
        elif case.tax_unpaid < case.tax_payable * criterion.min_share_of_tax_payable:
            return False, ()
    return True, unverified


REMEDY_APPLIED = {"reconsideration_applied": "reconsideration", "lawsuit_filed": "litigation"}
REMEDY_CONCLUDED = {"reconsideration_decided": "reconsideration", "lawsuit_judged": "litigation"}


def remedy_states(
    session: Session, decided: dict[int, date], effect: RemedyEffect, as_of: date | None
) -> dict[int, RemedyState]:
    """Per case, the 复议 and 诉讼 recorded against its decision: applications dated on or after
    the decision (an earlier one concerned another decision) and not against a 强制 measure
    only, with their results, all dated up to `as_of` (a later act is not known on that day).
    A result concludes the latest application of its remedy (the order the service records)."""
    rules = load_outcome_rules()
    rows = session.execute(
        select(
            CaseEvent.id,
            CaseEvent.case_id,
            CaseEvent.action,
            CaseEvent.details,
            CaseEvent.created_at,
        )
        .where(
            CaseEvent.case_id.in_(sorted(decided)),
            CaseEvent.action.in_([*REMEDY_APPLIED, *REMEDY_CONCLUDED]),
        )
        .order_by(CaseEvent.case_id, CaseEvent.seq)
    )
    per_case: dict[int, list[tuple[int, str, dict[str, Any], date]]] = defaultdict(list)
    for event_id, case_id, action, details, created_at in rows:
        details = details or {}
        on = act_date(details, created_at)
        if as_of is None or on <= as_of:
            per_case[case_id].append((event_id, action, details, on))
    out: dict[int, RemedyState] = {}
    for case_id, events in per_case.items():
        awaiting: dict[str, tuple[int, dict[str, Any]] | None] = {}
        shown: list[dict[str, Any]] = []
        excluded_by: dict[str, Any] | None = None
        changed = upheld = False
        for event_id, action, details, on in events:
            if action in REMEDY_APPLIED:
                remedy = REMEDY_APPLIED[action]
                concerns = on >= decided[case_id] and details.get("measure_event_id") is None
                awaiting[remedy] = (event_id, details) if concerns else None
                if concerns:
                    shown.append(
                        {
                            "event_id": event_id,
                            "action": action,
                            "remedy": remedy,
                            "on": on.isoformat(),
                            "body": details.get("body"),
                        }
                    )
                continue
            remedy = REMEDY_CONCLUDED[action]
            if awaiting.get(remedy) is None:
                awaiting.pop(remedy, None)
                continue  # concludes an application that does not concern the decision
            result = str(details.get("result"))
            reason = rules.remedies[remedy].results.get(result)
            entry = {
                "event_id": event_id,
                "action": action,
                "remedy": remedy,
                "on": on.isoformat(),
                "result": result,
                "reason": reason,
            }
            shown.append(entry)
            awaiting[remedy] = None
            if reason in effect.exclude and excluded_by is None:
                excluded_by = entry
            elif reason in effect.recheck:
                changed = True
            elif reason is None:
                upheld = True
        pending = tuple(sorted(r for r, a in awaiting.items() if a is not None))
        if shown:
            out[case_id] = RemedyState(tuple(shown), excluded_by, changed, pending, upheld)
    return out


def major_violator_candidates(
    session: Session, period: Period, criteria: Criteria, *, as_of: date | None = None
) -> tuple[list[Candidate], list[Candidate]]:
    """Cases decided in the period (决定, or a 税务处理决定书 issued) that meet a criterion; the
    first criterion met is named. The recorded remedies against the decision (as of `as_of`)
    apply as the criteria file's `remedies` says: returns the candidates (pending and changed
    ones marked) and, apart, those a result excludes, with that result."""
    decided: dict[int, date] = {}
    for act in period.acts("decided"):
        decided.setdefault(act.case_id, act.on)
    for doc in period.issued("tax_handling_decision"):
        if doc.case_id not in decided and doc.issued_at is not None:
            decided[doc.case_id] = act_date({}, doc.issued_at)
    if not decided:
        return [], []
    remedies = remedy_states(session, decided, criteria.remedies, as_of)
    out: list[Candidate] = []
    excluded: list[Candidate] = []
    for case in session.scalars(select(Case).where(Case.id.in_(sorted(decided))).order_by(Case.id)):
        for criterion in criteria.criteria:
            ok, unverified = matches(criterion, case)
            if ok:
                remedy = remedies.get(case.id)
                if remedy is not None and remedy.changed:
                    unverified = (*unverified, "decision_changed")
                (excluded if remedy and remedy.excluded_by else out).append(
                    Candidate(
                        case.id,
                        case.number,
                        case.taxpayer.name,
                        case.taxpayer.kind,
                        case.violation_code,
                        decided[case.id],
                        criterion.id,
                        criterion.name,
                        case.tax_unpaid,
                        unverified,
                        remedy,
                    )
                )
                break
    return out, excluded


# -- the whole platform view ---------------------------------------------------------------------
def platform_report(
    session: Session,
    period: Period,
    benchmark: Benchmark,
    *,
    as_of: date,
    criteria: Criteria,
    authorities: dict[str, str] | None = None,
    calendar: WorkingCalendar,
) -> dict[str, Any]:
    """Every check over the period, JSON-ready (Decimals as strings)."""
    decisions = penalty_decisions(session, period, benchmark, authorities=authorities)
    candidates, excluded = major_violator_candidates(session, period, criteria, as_of=as_of)
    return {
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "as_of": as_of.isoformat(),
        "decisions": len(decisions),
        "distribution": {
            "violation": [
                {**s.to_dict(), "name": violation_name(s.group)}
                for s in spread(decisions, lambda d: d.violation)
            ],
            "authority": [s.to_dict() for s in spread(decisions, lambda d: d.authority)],
            "officer": [s.to_dict() for s in spread(decisions, lambda d: d.officer)],
        },
        "benchmark_outliers": [o.to_dict() for o in benchmark_outliers(decisions)],
        "peer_outliers": [o.to_dict() for o in peer_outliers(decisions)],
        "overdue": [o.to_dict() for o in overdue(session, period, as_of, calendar=calendar)],
        "credentials": [f.to_dict() for f in credential_findings(session, period)],
        "major_violator_candidates": {
            "source": criteria.source,
            "confidence": criteria.confidence,
            "remedies_source": criteria.remedies.source,
            "remedies_confidence": criteria.remedies.confidence,
            "cases": [c.to_dict() for c in candidates],
            "excluded": [c.to_dict() for c in excluded],
        },
    }

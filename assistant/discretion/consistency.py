"""Consistency check (like cases, like penalties): a proposed fine against the benchmark tier and
against what similar cases received.

The similar cases come from the knowledge base (demo cases, SAT bulletins, …). Their outcome text
is parsed for the penalty actually given: a multiple ("处少缴税款0.5倍罚款", "百分之五十的罚款")
for penalties the law sets as a multiple of the tax, otherwise the fine in yuan ("处罚款500元").
Multiples are compared for multiple-based penalties because the tax bases of two cases differ by
orders of magnitude; a percentile and an outlier flag with its reason are reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, Protocol

from assistant.discretion.benchmark import Benchmark, load_benchmark
from assistant.discretion.engine import DiscretionInput, Suggestion, suggest
from assistant.errors import InvalidInput
from assistant.legal import parse_numeral
from assistant.money import format_yuan, to_yuan
from assistant.nlp.numerals import parse_amount
from assistant.taxonomy import get_violation

#: Below this many comparable similar cases no percentile is reported (too few to mean anything).
MIN_PEERS = 2
#: With at least this many peers, a percentile outside [LOW_PCT, HIGH_PCT] is an outlier;
#: with fewer, only a value outside the peers' min–max is.
MANY_PEERS = 5
LOW_PCT = 5.0
HIGH_PCT = 95.0
DEFAULT_K = 20

_NUM = r"[0-9]+(?:\.[0-9]+)?|[零〇一二两三四五六七八九十百]+"
# 倍 directly before 罚款: "处0.5倍罚款", "处少缴税款1倍的罚款"; "五倍以下的罚款" (a statutory
# range) is not matched because 以下 stands between.
_MULTIPLE = re.compile(rf"({_NUM})倍(?:的)?罚款")
_PERCENT = re.compile(rf"百分之({_NUM})(?:的)?罚款")
# A fine in yuan: "处罚款500元", "罚款26万元", "罚款计1755.57万元", "罚款，计284212.97元",
# "处5000元罚款".
_FINE_AFTER = re.compile(rf"罚款(?:[，,]?(?:计|共计|合计))?(?:人民币)?((?:{_NUM})(?:万|亿)?)元")
_FINE_BEFORE = re.compile(rf"处(?:以)?(?:人民币)?((?:{_NUM})(?:万|亿)?)元(?:的)?罚款")
# "追缴税费款、加收滞纳金并处罚款共计3.69亿元" states the total of tax, surcharge and fine, not
# the fine: a 罚款 whose clause also names 滞纳金 or 追缴/补缴 is not read as a fine.
_TOTAL_CLAUSE = re.compile(r"滞纳金|追缴|补缴")
_THOUSANDS = re.compile(r"(?<=\d)[,，](?=\d{3}(?!\d))")


@dataclass(frozen=True)
class ParsedOutcome:
    """Penalties stated in one outcome text: multiples of the tax and fines in yuan."""

    multiples: tuple[Decimal, ...] = ()
    fines: tuple[Decimal, ...] = ()


def _numeral(text: str) -> Decimal | None:
    """3.5 or 三点五 as a Decimal; None for what reads as no number."""
    try:
        return parse_numeral(text)
    except (ValueError, ArithmeticError):
        return None


def parse_outcome(text: str) -> ParsedOutcome:
    """The penalty multiples and yuan fines an outcome text states (罚金 of a court is not 罚款)."""
    flat = _THOUSANDS.sub("", re.sub(r"\s+", "", text or ""))
    multiples = [m for m in (_numeral(x) for x in _MULTIPLE.findall(flat)) if m is not None]
    multiples += [m / 100 for m in (_numeral(x) for x in _PERCENT.findall(flat)) if m is not None]
    fines: list[Decimal] = []
    for rx in (_FINE_AFTER, _FINE_BEFORE):
        for match in rx.finditer(flat):
            clause = re.split(r"[，,。；;：:]", flat[: match.start()])[-1]
            if rx is _FINE_AFTER and _TOTAL_CLAUSE.search(clause):
                continue
            try:
                fines.append(parse_amount(match.group(1) + "元"))
            except ValueError:
                continue
    keep = [m for m in multiples if Decimal("0") < m <= Decimal("10")]
    return ParsedOutcome(tuple(keep), tuple(f for f in fines if f > 0))


class CaseLike(Protocol):
    """What the check needs of a similar case (CaseDoc and CaseHit both qualify)."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def outcome(self) -> str: ...
    @property
    def violation_type(self) -> str | None: ...


class CaseSearch(Protocol):
    """The part of assistant.knowledge.KnowledgeBase the check uses."""

    def search_cases(
        self, text: str, *, k: int = 10, violation_type: str | None = None
    ) -> Sequence[Any]: ...


@dataclass(frozen=True)
class Peer:
    case_id: str
    title: str
    outcome: str
    value: Decimal
    score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "title": self.title,
            "outcome": self.outcome,
            "value": str(self.value),
            "score": None if self.score is None else round(self.score, 6),
        }


@dataclass(frozen=True)
class Flag:
    code: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "reason": self.reason}


@dataclass(frozen=True)
class ConsistencyReport:
    proposed_amount: Decimal
    compared_on: Literal["multiple", "amount"]
    proposed_value: Decimal
    suggestion: Suggestion
    within_statutory_range: bool
    tier_position: Literal["below", "within", "above"] | None
    peers: tuple[Peer, ...]
    cases_searched: int
    percentile: float | None
    outlier: bool
    flags: tuple[Flag, ...] = field(default=())
    explanation: str = ""

    def to_dict(self) -> dict[str, Any]:
        s = self.suggestion
        values = sorted(p.value for p in self.peers)
        return {
            "proposed_amount": str(self.proposed_amount),
            "compared_on": self.compared_on,
            "proposed_value": str(self.proposed_value),
            "decision": s.decision,
            "benchmark_item": s.benchmark_item,
            "tier": s.tier,
            "statutory_range": {"min": str(s.statutory_min), "max": str(s.statutory_max)},
            "benchmark_range": (
                None
                if s.benchmark_min is None or s.benchmark_max is None
                else {"min": str(s.benchmark_min), "max": str(s.benchmark_max)}
            ),
            "suggested_amount": str(s.suggested_amount),
            "within_statutory_range": self.within_statutory_range,
            "tier_position": self.tier_position,
            "similar_cases": [p.to_dict() for p in self.peers],
            "cases_searched": self.cases_searched,
            "peer_stats": (
                None
                if not values
                else {
                    "count": len(values),
                    "min": str(values[0]),
                    "median": str(_median(values)),
                    "max": str(values[-1]),
                }
            ),
            "percentile": self.percentile,
            "outlier": self.outlier,
            "flags": [f.to_dict() for f in self.flags],
            "explanation": self.explanation,
        }


def _median(values: Sequence[Decimal]) -> Decimal:
    n = len(values)
    mid = n // 2
    return values[mid] if n % 2 else (values[mid - 1] + values[mid]) / 2


def percentile_of(value: Decimal, others: Sequence[Decimal]) -> float:
    """Mid-rank percentile: share of others below plus half of those equal, in percent."""
    below = sum(1 for o in others if o < value)
    equal = sum(1 for o in others if o == value)
    return round(100.0 * (below + 0.5 * equal) / len(others), 1)


def peers_from_cases(
    cases: Iterable[Any], *, compared_on: Literal["multiple", "amount"]
) -> list[Peer]:
    """One peer per stated penalty in each case's outcome (a case with 0.6倍 and 4倍 gives two)."""
    peers: list[Peer] = []
    for case in cases:
        parsed = parse_outcome(case.outcome)
        values = parsed.multiples if compared_on == "multiple" else parsed.fines
        score = getattr(case, "score", None)
        for value in dict.fromkeys(values):
            peers.append(Peer(case.id, case.title, case.outcome, value, score))
    return peers


def _multiple_of(
    case: DiscretionInput, suggestion: Suggestion, bench: Benchmark, amount: Decimal
) -> Decimal | None:
    """The proposed fine as a multiple of the base, for items the law sets as a multiple."""
    item = next((i for i in bench.items if i.id == suggestion.benchmark_item), None)
    if item is None or item.statutory.kind != "multiple" or item.statutory.base is None:
        return None
    base = Decimal(getattr(case, item.statutory.base))
    if base <= 0:
        return None
    return (amount / base).quantize(Decimal("0.0001")).normalize()


def compare(
    case: DiscretionInput,
    proposed_amount: Decimal,
    similar: Iterable[Any],
    *,
    benchmark: Benchmark | None = None,
) -> ConsistencyReport:
    """Compare `proposed_amount` with the suggestion's ranges and the `similar` cases' outcomes."""
    if not isinstance(proposed_amount, Decimal) or proposed_amount < 0:
        raise InvalidInput(
            "negative_amount", "拟处罚款金额应为非负金额", details={"field": "proposed_amount"}
        )
    amount = to_yuan(proposed_amount)
    bench = benchmark or load_benchmark()
    s = suggest(case, benchmark=bench)
    vname = get_violation(case.violation).name_zh
    multiple = _multiple_of(case, s, bench, amount) if amount > 0 else None
    compared_on: Literal["multiple", "amount"] = "multiple" if multiple is not None else "amount"
    value = multiple if multiple is not None else amount
    unit = "倍" if compared_on == "multiple" else "元"
    shown = f"{value}倍" if compared_on == "multiple" else format_yuan(amount)
    flags: list[Flag] = []

    within_stat = s.statutory_min <= amount <= s.statutory_max
    if s.decision == "no_penalty" and amount > 0:
        flags.append(
            Flag(
                "no_penalty_suggested",
                f"系统依据{'、'.join(s.legal_ground)}建议不予行政处罚，拟处罚款{format_yuan(amount)}"
                "须说明不适用该规定的理由",
            )
        )
    elif s.decision == "penalty" and amount == 0:
        flags.append(Flag("zero_amount", "系统建议给予罚款，拟处金额为0，须说明不予处罚的法律依据"))
    if amount > 0 and not within_stat:
        flags.append(
            Flag(
                "outside_statutory_range",
                f"拟处罚款{format_yuan(amount)}超出法定幅度{format_yuan(s.statutory_min)}至"
                f"{format_yuan(s.statutory_max)}（{'、'.join(s.legal_ground)}），不得作出",
            )
        )
    position: Literal["below", "within", "above"] | None = None
    if s.decision == "penalty" and s.benchmark_min is not None and s.benchmark_max is not None:
        position = (
            "below"
            if amount < s.benchmark_min
            else "above"
            if amount > s.benchmark_max
            else "within"
        )
        if position != "within":
            word = "低于" if position == "below" else "高于"
            flags.append(
                Flag(
                    f"{position}_benchmark_tier",
                    f"拟处罚款{format_yuan(amount)}{word}{s.benchmark_citation or '裁量基准阶次'}"
                    f"幅度{format_yuan(s.benchmark_min)}至{format_yuan(s.benchmark_max)}，"
                    "须在决定中说明理由（过罚相当，国家税务总局公告2016年第78号）",
                )
            )

    similar_list = [c for c in similar if c.violation_type in (None, case.violation)]
    peers = peers_from_cases(similar_list, compared_on=compared_on) if amount > 0 else []
    values = [p.value for p in peers]
    percentile: float | None = None
    peer_outlier = False
    if len(values) >= MIN_PEERS:
        percentile = percentile_of(value, values)
        lo, hi = min(values), max(values)
        if len(values) >= MANY_PEERS:
            peer_outlier = percentile < LOW_PCT or percentile > HIGH_PCT
        else:
            peer_outlier = value < lo or value > hi
        if peer_outlier:
            word = "低于" if percentile < 50 else "高于"
            flags.append(
                Flag(
                    f"{'low' if percentile < 50 else 'high'}_vs_similar_cases",
                    f"拟处{shown}{word}相似案例的处罚（{len(values)}个可比结果，"
                    f"{lo}–{hi}{unit}，中位数{_median(sorted(values))}{unit}），"
                    f"位于第{percentile:g}百分位",
                )
            )
    outlier = peer_outlier or any(
        f.code in ("outside_statutory_range", "below_benchmark_tier", "above_benchmark_tier")
        for f in flags
    )
    parts = [
        f"{vname}：拟处罚款{format_yuan(amount)}"
        + (f"（{shown}）" if compared_on == "multiple" else "")
        + "。"
    ]
    parts.append(
        f"法定幅度{format_yuan(s.statutory_min)}至{format_yuan(s.statutory_max)}，"
        + ("在法定幅度内。" if within_stat or amount == 0 else "超出法定幅度。")
    )
    if position is not None:
        parts.append(
            f"{s.benchmark_citation}幅度{format_yuan(s.benchmark_min or Decimal(0))}至"
            f"{format_yuan(s.benchmark_max or Decimal(0))}，拟处金额"
            + {"below": "低于", "within": "在", "above": "高于"}[position]
            + ("该幅度内。" if position == "within" else "该幅度。")
        )
    if percentile is not None:
        basis = "罚款倍数" if compared_on == "multiple" else "罚款金额"
        parts.append(
            f"与{len({p.case_id for p in peers})}个相似案例的{len(values)}个处罚结果相比"
            f"（按{basis}），位于第{percentile:g}百分位。"
        )
    else:
        parts.append(
            f"相似案例中可比的处罚结果不足{MIN_PEERS}个（找到{len(values)}个），不计算百分位。"
        )
    parts.append(
        "结论：" + ("存在异常，" + "；".join(f.reason for f in flags) if outlier else "未见异常")
    )
    return ConsistencyReport(
        proposed_amount=amount,
        compared_on=compared_on,
        proposed_value=value,
        suggestion=s,
        within_statutory_range=within_stat,
        tier_position=position,
        peers=tuple(peers),
        cases_searched=len(similar_list),
        percentile=percentile,
        outlier=outlier,
        flags=tuple(flags),
        explanation="".join(parts) + "。",
    )


def _query(case: DiscretionInput, facts: str | None) -> str:
    if facts and facts.strip():
        return facts.strip()
    vtype = get_violation(case.violation)
    return f"{vtype.name_zh}：{vtype.description}"


def check_consistency(
    case: DiscretionInput,
    proposed_amount: Decimal,
    knowledge: CaseSearch,
    *,
    facts: str | None = None,
    k: int = DEFAULT_K,
    benchmark: Benchmark | None = None,
) -> ConsistencyReport:
    """Search the `k` most similar cases of the same violation type and compare (see `compare`)."""
    hits = knowledge.search_cases(_query(case, facts), k=k, violation_type=case.violation)
    return compare(case, proposed_amount, hits, benchmark=benchmark)


def parse_proposed_amount(raw: object) -> Decimal:
    """The proposed fine as every caller reads it (API body, workbench form): yuan, two
    places, not negative; a clear 422 otherwise."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        raise InvalidInput(
            "invalid_field", "proposed_amount 应为金额", details={"field": "proposed_amount"}
        )
    try:
        amount = to_yuan(str(raw))
    except (ValueError, ArithmeticError):
        raise InvalidInput(
            "invalid_field",
            f"proposed_amount 不是有效金额：{raw!r}",
            details={"field": "proposed_amount"},
        ) from None
    if amount < 0:
        raise InvalidInput(
            "negative_amount",
            "proposed_amount 不能为负数",
            details={"field": "proposed_amount", "value": str(amount)},
        )
    return amount


def parse_check_request(
    data: Any, *, today: Any = None
) -> tuple[DiscretionInput, Decimal, str | None, int]:
    """`{"case": {...}, "proposed_amount": "...", "facts": "...", "k": 20}` → validated parts."""
    if not isinstance(data, dict):
        raise InvalidInput("invalid_field", "请求应为 JSON 对象", details={})
    extra = sorted(set(data) - {"case", "proposed_amount", "facts", "k"})
    if extra:
        raise InvalidInput(
            "unknown_field", f"不支持的字段：{'、'.join(extra)}", details={"fields": extra}
        )
    raw_case = data.get("case")
    if not isinstance(raw_case, dict):
        raise InvalidInput("missing_field", "缺少结构化案件 case", details={"field": "case"})
    case = DiscretionInput.from_dict(raw_case, today=today)
    raw_amount = data.get("proposed_amount")
    if raw_amount is None:
        raise InvalidInput(
            "missing_field",
            "缺少拟处罚款金额 proposed_amount",
            details={"field": "proposed_amount"},
        )
    amount = parse_proposed_amount(raw_amount)
    facts = data.get("facts")
    if facts is not None and not isinstance(facts, str):
        raise InvalidInput("invalid_field", "facts 应为文本", details={"field": "facts"})
    k = data.get("k", DEFAULT_K)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 100:
        raise InvalidInput("invalid_k", "k 应为1到100之间的整数", details={"k": k})
    return case, amount, facts, k

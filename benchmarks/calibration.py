"""The sample benchmark's 偷税 tiers against real outcomes: tier and multiple per real case.

For every 偷税 case of the shared corpus (issued decisions and SAT bulletins) whose tax and
multiple are stated (assistant.knowledge.case_fields), the sample benchmark is run on what the
text tells (tax evaded; 补缴 in time when the text says the tax was paid back; one offence
unless the text says 两次/多次) and its tier and multiple are set beside the multiple imposed.
Writes a markdown report (docs/calibration.md) so the comparison reproduces.

Usage: python benchmarks/calibration.py [--corpus ../shared/corpora] [--benchmark FILE]
       [--out docs/calibration.md]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.discretion import load_benchmark
from assistant.discretion.benchmark import Benchmark
from assistant.discretion.engine import DiscretionInput, suggest
from assistant.knowledge.cases_corpus import load_cases

PAID_BACK = re.compile(r"(?:已|均已|全部|依法)(?:补缴|缴纳|追缴入库|缴清|入库)|补缴(?:了)?税款")
REPEATED = re.compile(r"(?:两次|二次|多次|再次|屡次)(?:偷税|因偷税|被.{0,6}处罚)")
#: Kinds whose 罚款 is an administrative fine (a judgment's 罚金 is a criminal penalty).
KINDS = ("decision", "bulletin")
#: Decisions whose amounts the text parser cannot pick (several taxes), read by hand from
#: decisions/fulltext.jsonl: (number, tax evaded, co-operated and paid back, imposed, why).
NAMED = (
    (
        "温税三稽罚〔2026〕65号",
        Decimal("473688.28"),
        False,
        Decimal("0.6"),
        "少缴税款合计473688.28元；“鉴于你未配合检查，未预缴税款”，处以百分之六十的罚款",
    ),
    (
        "铁税一稽罚〔2026〕17号",
        Decimal("5710765.66"),
        False,
        Decimal("0.5"),
        "城镇土地使用税罚款2,855,382.83元＝50%；“五年内首次因偷税被税务机关处罚”，"
        "参照东北区域税务行政处罚裁量基准序号17",
    ),
)


def _input(tax: Decimal, *, repeated: bool, paid_back: bool, day: date) -> DiscretionInput:
    return DiscretionInput(
        violation="tax_evasion",
        taxpayer_type="organisation",
        violation_date=day,
        decision_date=day,
        tax_unpaid=tax,
        occurrences=2 if repeated else 1,
        corrected_in_time=paid_back,
    )


@dataclass(frozen=True)
class Row:
    """One case: the sample's tier, range and suggestion as multiples, beside the imposed one."""

    title: str
    kind: str
    tax: Decimal
    tier: str
    low: Decimal
    high: Decimal
    suggested: Decimal
    imposed: Decimal


def _row(
    bench: Benchmark, title: str, kind: str, tax: Decimal, imposed: Decimal, case: DiscretionInput
) -> Row:
    result = suggest(case, benchmark=bench)
    cent = Decimal("0.01")
    return Row(
        title,
        kind,
        tax,
        result.tier or "-",
        ((result.benchmark_min or Decimal(0)) / tax).quantize(cent),
        ((result.benchmark_max or Decimal(0)) / tax).quantize(cent),
        (result.suggested_amount / tax).quantize(cent),
        imposed,
    )


def named(benchmark: Path | None) -> list[Row]:
    """The decisions the review named, on their hand-read facts."""
    bench = load_benchmark(benchmark)
    day = date(2026, 6, 1)
    return [
        _row(bench, number, why, tax, imposed, _input(tax, repeated=False, paid_back=paid, day=day))
        for number, tax, paid, imposed, why in NAMED
    ]


def compare(corpus: Path, benchmark: Path | None) -> list[Row]:
    """One row per 偷税 case with a stated tax and multiple."""
    bench = load_benchmark(benchmark)
    rows = []
    for case in sorted(load_cases([corpus]), key=lambda c: c.id):
        text = case.title + case.text
        if case.doc_type not in KINDS:
            continue
        if case.violation_type != "tax_evasion" and "偷税" not in text:
            continue
        tax, imposed = case.amounts.tax_evaded, case.amounts.multiple
        if tax is None or imposed is None:
            continue
        facts = _input(
            tax,
            repeated=bool(REPEATED.search(case.text)),
            paid_back=bool(PAID_BACK.search(case.text)),
            day=case.date or date(2025, 1, 1),
        )
        rows.append(_row(bench, case.title[:40], case.doc_type, tax, imposed, facts))
    return rows


def _table(rows: list[Row], head: str) -> list[str]:
    out = [
        f"| {head} | 少缴税款（元） | 样本阶次 | 阶次幅度（倍） | 建议倍数 | 实际倍数 |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r.title}（{r.kind}） | {r.tax} | {r.tier} | {r.low}–{r.high} | "
            f"{r.suggested} | {r.imposed} |"
        )
    return out


def report(rows: list[Row], bench_name: str, named_rows: list[Row]) -> str:
    """The markdown comparison: summary, the named cases, then every case."""
    imposed: Counter[Decimal] = Counter(r.imposed for r in rows)
    inside = sum(1 for r in rows if r.low <= r.imposed <= r.high)
    exact = sum(1 for r in rows if r.suggested == r.imposed)
    gaps = [abs(r.suggested - r.imposed) for r in rows]
    mean_gap = (sum(gaps, Decimal(0)) / len(gaps)).quantize(Decimal("0.01")) if gaps else 0
    out = [
        f"基准：{bench_name}；偷税案件（税款与倍数均可读出）：{len(rows)}件",
        "",
        "| 实际倍数 | 件数 |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in sorted(imposed.items())),
        "",
        f"- 实际倍数落在样本阶次幅度内：{inside}/{len(rows)}",
        f"- 样本建议倍数与实际倍数相同：{exact}/{len(rows)}",
        f"- 建议倍数与实际倍数之差的平均绝对值：{mean_gap}倍",
        "",
    ]
    out += ["### 点名的决定书", "", *_table(named_rows, "决定书（实际处罚理由）"), ""]
    out += ["### 全部案件", "", *_table(rows, "案件")]
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=Path("../shared/corpora"))
    parser.add_argument("--benchmark", type=Path, default=None)
    args = parser.parse_args()
    bench = load_benchmark(args.benchmark)
    rows = compare(args.corpus, args.benchmark)
    print(report(rows, bench.name, named(args.benchmark)), end="")


if __name__ == "__main__":
    main()

"""The platform's analysis over the SAT's published case bulletins (税案通报): cases per year,
the penalty multiples imposed for 偷税 by year and province, the median multiple per violation.

Why: the bulletins are the public record of how penalties are set across the country; the same
questions the platform asks of the bureau's own decisions, asked of them, give the benchmark a
reference. The bulletins are split into their cases and read by the retrieval corpus's own
parsers (`assistant.knowledge.cases_corpus`: violation type, region, amounts), so the numbers
here are the ones similar-case search works with.

`python -m assistant.statistics.bulletins BULLETINS.jsonl docs/` writes the figures
(`bulletin-statistics.json` and `.md`); `notebooks/bulletin_statistics.ipynb` recomputes them in
CI and checks them against the raw file.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from assistant.statistics.platform import median

#: The figures' file names under docs/.
FIGURES_JSON = "bulletin-statistics.json"
FIGURES_MD = "bulletin-statistics.md"
UNKNOWN = "（未识别）"


@dataclass(frozen=True)
class BulletinCase:
    """One case of a bulletin: the bulletin's line and year, where and what, the multiple."""

    line: int
    year: int
    province: str
    violation: str
    multiple: Decimal | None
    stated: bool  # the multiple is written in the text (else derived as fine / tax)


def province_of(places: tuple[str, ...]) -> str:
    """The province of the first place that resolves to a division (UNKNOWN when none does):
    the case's region (authorities named 国家税务总局…税务局), then the acting authority as the
    bulletin names it (宁波市税务局第二稽查局), then the title."""
    from assistant.knowledge.regions import divisions

    table = divisions()
    for place in places:
        division = table.resolve(place)
        if division is not None:
            return division.province or division.name
    return UNKNOWN


def read_cases(path: Path) -> list[BulletinCase]:
    """Every case of every bulletin in the JSONL file, in file order."""
    from assistant.discretion.consistency import parse_outcome
    from assistant.knowledge.cases_corpus import case_docs

    out = []
    with path.open(encoding="utf-8") as fh:
        for line_no, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            obj = json.loads(raw)
            year = int(str(obj.get("publish_date") or "0")[:4] or 0)
            for doc in case_docs(obj, line_no=line_no, source=path.name):
                multiple = doc.amounts.multiple
                stated = multiple is not None and multiple in parse_outcome(doc.text).multiples
                out.append(
                    BulletinCase(
                        line_no,
                        year,
                        province_of((*doc.region, doc.authority, doc.title)),
                        doc.violation_type or "unclassified",
                        multiple,
                        stated,
                    )
                )
    return out


def _s(value: Decimal) -> str:
    return str(value.normalize()) if value == value.to_integral() else str(value)


def figures(path: Path, cases: list[BulletinCase] | None = None) -> dict[str, Any]:
    """The figures, JSON-ready: bulletins and cases per year, 偷税 multiples by year and
    province (count, median), median multiple per violation type (count, min, median, max).
    `cases`: those `read_cases(path)` returned, when the caller has them already."""
    from assistant.statistics.platform import violation_name

    cases = read_cases(path) if cases is None else cases
    bulletins = Counter({c.line: c.year for c in cases}.values())
    per_year = Counter(c.year for c in cases)
    evasion: dict[tuple[int, str], list[Decimal]] = defaultdict(list)
    by_violation: dict[str, list[Decimal]] = defaultdict(list)
    for c in cases:
        if c.multiple is None:
            continue
        by_violation[c.violation].append(c.multiple)
        if c.violation == "tax_evasion":
            evasion[(c.year, c.province)].append(c.multiple)
    return {
        "source": path.name,
        "bulletins_per_year": {str(y): n for y, n in sorted(bulletins.items())},
        "cases_per_year": {str(y): n for y, n in sorted(per_year.items())},
        "cases": len(cases),
        "cases_with_multiple": sum(1 for c in cases if c.multiple is not None),
        "stated_multiples": sum(1 for c in cases if c.stated),
        "tax_evasion_multiples": [
            {
                "year": year,
                "province": province,
                "count": len(values),
                "median": _s(median(values)),
                "values": dict(sorted(Counter(_s(v) for v in values).items())),
            }
            for (year, province), values in sorted(evasion.items())
        ],
        "median_multiple_by_violation": [
            {
                "violation": code,
                "name": violation_name(code) if code != "unclassified" else "未分类",
                "count": len(values),
                "min": _s(min(values)),
                "median": _s(median(values)),
                "max": _s(max(values)),
            }
            for code, values in sorted(by_violation.items(), key=lambda kv: -len(kv[1]))
        ],
    }


def markdown(data: dict[str, Any]) -> str:
    """The figures as the Markdown page in docs/."""
    lines = [
        "# SAT case bulletins: cases per year and penalty multiples",
        "",
        f"Computed from `{data['source']}` (../shared/corpora/cases) by "
        "`python -m assistant.statistics.bulletins`; checked against the raw file by "
        "`notebooks/bulletin_statistics.ipynb` in CI. A multiple is the 罚款倍数 a case states "
        "(\u201c处少缴税款0.5倍罚款\u201d) or, where it states the fine and the tax only, "
        "fine / tax when that is a tenth within 0.5–5 (`assistant.knowledge.case_fields`).",
        "",
        f"{data['cases']} cases in the bulletins; {data['cases_with_multiple']} with a multiple "
        f"({data['stated_multiples']} stated in the text).",
        "",
        "| year | bulletins | cases |",
        "|---|---|---|",
    ]
    for year, n in data["bulletins_per_year"].items():
        lines.append(f"| {year} | {n} | {data['cases_per_year'].get(year, 0)} |")
    lines += ["", "## Median multiple per violation type", ""]
    lines += ["| violation | cases | min | median | max |", "|---|---|---|---|---|"]
    for row in data["median_multiple_by_violation"]:
        lines.append(
            f"| {row['name']} (`{row['violation']}`) | {row['count']} | {row['min']} | "
            f"{row['median']} | {row['max']} |"
        )
    lines += ["", "## 偷税: multiples by year and province", ""]
    lines += ["| year | province | cases | median | multiples (count) |", "|---|---|---|---|---|"]
    for row in data["tax_evasion_multiples"]:
        values = "、".join(f"{v}×{n}" for v, n in row["values"].items())
        lines.append(
            f"| {row['year']} | {row['province']} | {row['count']} | {row['median']} | {values} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    """`python -m assistant.statistics.bulletins BULLETINS.jsonl OUT_DIR`: write the figures."""
    if len(argv) != 2:
        print(main.__doc__, file=sys.stderr)
        return 2
    source, out = Path(argv[0]), Path(argv[1])
    data = figures(source)
    out.mkdir(parents=True, exist_ok=True)
    (out / FIGURES_JSON).write_text(
        json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    (out / FIGURES_MD).write_text(markdown(data), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

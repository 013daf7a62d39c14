"""Entity extraction on real text: issued decisions and SAT bulletins against a written gold.

Units: the 11 full texts of `../shared/corpora/decisions/fulltext.jsonl` (whole document), and a
seeded sample of single-case SAT bulletins from `corpora/cases/chinatax_bulletins.jsonl` (the
lead paragraphs up to the one with 经查: the party, the facts and what was decided). Gold
(`benchmarks/data/extraction_gold.json`) lists per unit the values the text states as case values:

- amounts: money amounts of the case (tax, fines, 滞纳金, invoice sums, income), in yuan; not the
  thresholds inside quoted statute text (“…虚开金额超过1万元的，并处5万元以上…”);
- dates: full dates (YYYY-MM-DD) and stated months, years and spans of them (YYYY-MM, YYYY,
  YYYY-MM/YYYY-MM) outside quoted statute text;
- taxes: the tax types named outside quoted text (an invoice kind like 增值税专用发票 is no tax);
- parties: the persons and organisations the case is about (taxpayer, representatives,
  counterparties, people convicted), not the tax authorities, courts or police.

`--draft` writes the candidate gold from independent strict patterns and the corpus metadata
(never from the extractor); the gold file is that draft after every disagreement with either
extractor was read in the text and settled by hand (see `how` in the file).

Usage:
  python benchmarks/extraction_eval.py [--corpus ../shared/corpora] [--json]
  python benchmarks/extraction_eval.py --draft > /tmp/draft.json
  python benchmarks/extraction_eval.py --disagreements     # what to settle by hand
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import random
import re
import subprocess
import sys
import time
import types
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from assistant.knowledge.case_fields import announces_several_cases, split_bulletin
from assistant.legal import parse_integer
from assistant.nlp import extract_entities

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "benchmarks" / "data" / "extraction_gold.json"
BULLETINS = ROOT / "corpora" / "cases" / "chinatax_bulletins.jsonl"
FIELDS = ("amounts", "dates", "taxes", "parties")
FLAVOURS = {"previous extractor": None, "rules only": False, "rules + LAC": True}
# the regex-and-jieba extractor the spaCy pipeline replaced, read from git for the side-by-side
PREVIOUS = "26808ca"
BULLETIN_SAMPLE = 20
SEED = 14
# authorities are not parties: the same filter for every flavour
AUTHORITY = re.compile(
    r"税务|稽查|公安|法院|检察院|海关|政府|财政|监察|国务院|人民银行|外汇|资源局|管理局|委员会|办事处|常委会"
)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def bulletin_text(content: str) -> str:
    """The case summary of a bulletin: its paragraphs up to the one with 经查 (the facts and what
    was decided); the story paragraphs of long features after it are left out."""
    kept: list[str] = []
    for para in content.split("\n"):
        kept.append(para)
        if "经查" in para:
            break
    return "\n".join(kept[:3]).strip()


def units(corpus: Path) -> list[dict[str, Any]]:
    """Every evaluation unit: id, corpus, text."""
    out = [
        {"id": Path(d["file"]).stem, "corpus": "decisions", "text": d["text"], "party": d["party"]}
        for d in read_jsonl(corpus / "decisions" / "fulltext.jsonl")
    ]
    rows = sorted(read_jsonl(BULLETINS), key=lambda r: r["article_id"])
    single = [
        r
        for r in rows
        if "依法查处" in r["content_text"][:300]
        and len(split_bulletin(r["content_text"])) == 1
        and not announces_several_cases(r["title"])
    ]
    for r in random.Random(SEED).sample(single, BULLETIN_SAMPLE):
        text = bulletin_text(r["content_text"])
        out.append({"id": r["article_id"], "corpus": "bulletins", "text": text, "party": None})
    for u in out:
        u["sha256"] = hashlib.sha256(u["text"].encode()).hexdigest()[:16]
    return out


# --- the independent draft ---------------------------------------------------------------------
_QUOTE = re.compile(r"“[^”]*”")
_D_AMOUNT = re.compile(r"(?<![\d.])(\d[\d,]*(?:\.\d+)?)\s*(万|亿)?\s*元")
_D_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_D_MONTH = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月(?!\s*\d)")
_D_TAXES = [
    "增值税",
    "消费税",
    "企业所得税",
    "个人所得税",
    "城市维护建设税",
    "教育费附加",
    "地方教育附加",
    "印花税",
    "房产税",
    "城镇土地使用税",
    "土地增值税",
    "车船税",
    "车辆购置税",
    "契税",
    "耕地占用税",
    "资源税",
    "环境保护税",
]


_D_CN_DATE = re.compile(
    r"([〇零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,2})月([一二三四五六七八九十]{1,3})日"
)
_D_RANGE = re.compile(
    r"(\d{4})年(\d{1,2})月(?:份)?(?:\d{1,2}日)?[至到\-—](?:(\d{4})年)?(\d{1,2})月(?!\d{0,2}日)"
)
_D_YEARS = re.compile(r"(?<!\d)(\d{4})年?[至到\-—](\d{4})年(?!\d{1,2}月)")
_D_YEAR = re.compile(r"(?<!\d)(\d{4})年度")


def draft_dates(flat: str) -> set[str]:
    """Full dates, month and year spans, months and 年度 years in whitespace-free text; a month
    that only ends a span is not listed on its own."""
    out = {f"{int(y):04d}-{int(m):02d}-{int(d):02d}" for y, m, d in _D_DATE.findall(flat)}
    out |= {
        f"{parse_integer(y):04d}-{parse_integer(m):02d}-{parse_integer(d):02d}"
        for y, m, d in _D_CN_DATE.findall(flat)
    }
    rest = flat
    for m in _D_RANGE.finditer(flat):
        y2 = m[3] or m[1]
        out.add(f"{int(m[1]):04d}-{int(m[2]):02d}/{int(y2):04d}-{int(m[4]):02d}")
        rest = rest.replace(m.group(), " ")
    for m in _D_YEARS.finditer(rest):
        out.add(f"{m[1]}/{m[2]}")
    out |= {f"{int(y):04d}-{int(m):02d}" for y, m in _D_MONTH.findall(rest)}
    out |= set(_D_YEAR.findall(rest))
    return out


def _unquoted(text: str) -> str:
    return _QUOTE.sub(lambda m: "“" + " " * (len(m.group()) - 2) + "”", text)


def draft(unit: dict[str, Any], records: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Candidate gold from strict patterns outside quotes plus the corpus metadata."""
    text = re.sub(r"第 \d+ 页 共 \d+ 页", " ", _unquoted(unit["text"]))
    flat = re.sub(r"\s+", "", text)
    amounts = set()
    for m in _D_AMOUNT.finditer(flat):
        value = Decimal(m[1].replace(",", "")) * {"万": 10000, "亿": 100000000}.get(m[2] or "", 1)
        amounts.add(str(value.quantize(Decimal("0.01"))))
    dates = draft_dates(flat)
    taxes = {
        t for t in _D_TAXES if re.search(re.escape(t) + r"(?!专用|普通|发票|法|暂行|条例)", flat)
    }
    if "地方教育附加" in taxes and flat.count("教育费附加") == 0:
        taxes.discard("教育费附加")
    parties = {unit["party"]} if unit.get("party") else set()
    for record in records.values():
        if record.get("partyName") == unit.get("party") and record.get("legalRepresentative"):
            parties.add(record["legalRepresentative"])
    return {
        "amounts": sorted(amounts, key=Decimal),
        "dates": sorted(dates),
        "taxes": sorted(taxes),
        "parties": sorted(parties),
    }


# --- predictions and scores --------------------------------------------------------------------
@functools.cache
def previous_extractor() -> Any:
    """`extract_entities` of the rule-only module at commit PREVIOUS (jieba names included)."""
    source = subprocess.run(
        ["git", "show", f"{PREVIOUS}:assistant/nlp/entities.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    module = types.ModuleType("previous_entities")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{PREVIOUS}:entities.py", "exec"), module.__dict__)
    return module.extract_entities


def predict(text: str, use_model: bool | None) -> dict[str, set[str]]:
    if use_model is None:
        found = previous_extractor()(text)
        periods: set[str] = set()
    else:
        found = extract_entities(text, use_model=use_model)
        periods = {e.value for e in found.of("period")}
    compact = {e.value: re.sub(r"\s+", "", e.value) for e in found}
    return {
        "amounts": {e.value for e in found.of("amount")},
        "dates": {e.value for e in found.of("date") if e.valid} | periods,
        "taxes": {e.value for e in found.of("tax_type")},
        "parties": {
            compact[e.value]
            for e in [*found.of("organisation"), *found.of("person")]
            if not AUTHORITY.search(e.value)
        },
    }


def score(
    pairs: Iterable[tuple[set[str], set[str]]], *, recall_only: bool = False
) -> dict[str, Any]:
    """Micro-averaged over units; `recall_only` when the gold lists only some true values."""
    tp = fp = fn = 0
    for pred, gold in pairs:
        tp += len(pred & gold)
        fp += len(pred - gold)
        fn += len(gold - pred)
    if recall_only:
        r = tp / (tp + fn) if tp + fn else 1.0
        return {"precision": None, "recall": round(r, 3), "tp": tp, "fp": None, "fn": fn}
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return {"precision": round(p, 3), "recall": round(r, 3), "tp": tp, "fp": fp, "fn": fn}


def evaluate(corpus: Path, progress: bool) -> dict[str, Any]:
    gold = {g["id"]: g for g in json.loads(GOLD.read_text(encoding="utf-8"))["units"]}
    all_units = [u for u in units(corpus) if u["id"] in gold]
    stale = [u["id"] for u in all_units if u["sha256"] != gold[u["id"]]["sha256"]]
    if stale:
        raise SystemExit(f"text changed since the gold was written: {stale}")
    preds: dict[tuple[str, str], dict[str, set[str]]] = {}
    timing: Counter[str] = Counter()
    from assistant.progress import track

    work = [(f, u) for f in FLAVOURS for u in all_units]
    for flavour, unit in track(work, "extraction eval", enabled=progress):
        t0 = time.perf_counter()
        preds[(flavour, unit["id"])] = predict(unit["text"], FLAVOURS[flavour])
        timing[flavour] += time.perf_counter() - t0
    result: dict[str, Any] = {"units": Counter(u["corpus"] for u in all_units), "scores": {}}
    for flavour in FLAVOURS:
        for name in ("decisions", "bulletins"):
            chosen = [u for u in all_units if u["corpus"] == name]
            for field in FIELDS:
                pairs = [
                    (preds[(flavour, u["id"])][field], set(gold[u["id"]][field])) for u in chosen
                ]
                # a decision's gold names its party and representatives, not every counterparty
                partial = name == "decisions" and field == "parties"
                result["scores"][f"{flavour} | {name} | {field}"] = score(
                    pairs, recall_only=partial
                )
        result[f"seconds {flavour}"] = round(timing[flavour], 1)
    result["disagreements"] = {
        u["id"]: {
            field: {
                "missed": sorted(
                    set(gold[u["id"]][field]) - preds[("rules + LAC", u["id"])][field]
                ),
                "extra": sorted(preds[("rules + LAC", u["id"])][field] - set(gold[u["id"]][field])),
            }
            for field in FIELDS
        }
        for u in all_units
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpora")
    parser.add_argument("--draft", action="store_true", help="print the candidate gold")
    parser.add_argument("--disagreements", action="store_true", help="print what LAC misses/adds")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not (args.corpus / "decisions" / "fulltext.jsonl").is_file():
        raise SystemExit(f"real decisions not found under {args.corpus} (use --corpus)")
    if args.draft:
        records = {r["id"]: r for r in read_jsonl(args.corpus / "decisions" / "records.jsonl")}
        out = [
            {"id": u["id"], "corpus": u["corpus"], "sha256": u["sha256"], **draft(u, records)}
            for u in units(args.corpus)
        ]
        json.dump({"units": out}, sys.stdout, ensure_ascii=False, indent=1)
        return
    result = evaluate(args.corpus, progress=not args.json and sys.stderr.isatty())
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return
    if args.disagreements:
        for uid, fields in result["disagreements"].items():
            for field, diff in fields.items():
                if diff["missed"] or diff["extra"]:
                    print(uid, field, "missed:", diff["missed"], "extra:", diff["extra"])
    print(f"units: {dict(result['units'])}")
    print("| extractor | corpus | field | precision | recall | tp | fp | fn |")
    print("|---|---|---|---|---|---|---|---|")
    for key, s in result["scores"].items():
        counts = f"{s['tp']} | {'—' if s['fp'] is None else s['fp']} | {s['fn']}"
        precision = "—" if s["precision"] is None else f"{s['precision']:.3f}"
        print(f"| {key} | {precision} | {s['recall']:.3f} | {counts} |")
    for flavour in FLAVOURS:
        print(f"{flavour}: {result[f'seconds {flavour}']} s")


if __name__ == "__main__":
    main()

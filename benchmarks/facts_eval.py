"""Proposed facts against the values the issued decisions state (benchmarks/data/facts_gold.json).

Each decision's full text is one document source; the proposer's first candidate per field is
its answer. Per field: recall (gold values whose first candidate is right), recall among all
candidates, and precision over the judged (decision, field) pairs, i.e. the fields the gold
annotates for that decision; proposals for fields the gold leaves out are counted as unjudged.
The cue phrases were written while reading these same decisions: the scores are on tuning data.

    python benchmarks/facts_eval.py [--corpora ../shared/corpora] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from assistant.facts import FIELDS, SourceRef, SourceText, parse_value, propose
from assistant.facts.fields import to_json
from assistant.facts.propose import by_field

GOLD = Path(__file__).resolve().parent / "data" / "facts_gold.json"


def evaluate(corpora: Path, gold_file: Path = GOLD) -> dict[str, Any]:
    gold = json.loads(gold_file.read_text(encoding="utf-8"))["decisions"]
    texts = {}
    for line in (corpora / "decisions" / "fulltext.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        texts[row["file"]] = row["text"]
    per: dict[str, dict[str, int]] = defaultdict(
        lambda: {"gold": 0, "top_right": 0, "any_right": 0, "proposed_judged": 0, "unjudged": 0}
    )
    misses: list[dict[str, Any]] = []
    started = time.perf_counter()
    for entry in gold:
        text = texts[entry["file"]]
        fields = {
            f.field: f
            for f in by_field(propose([SourceText.of(SourceRef("document", text, document_id=1))]))
        }
        for name in FIELDS:
            expected = entry["fields"].get(name)
            got = fields.get(name)
            counts = per[name]
            if expected is None:
                counts["unjudged"] += got is not None
                continue
            want = to_json(parse_value(name, expected["value"]))
            counts["gold"] += 1
            if got is None:
                misses.append({"file": entry["file"], "field": name, "want": want, "got": None})
                continue
            counts["proposed_judged"] += 1
            values = [to_json(c.value) for c in got.candidates]
            counts["top_right"] += values[0] == want
            counts["any_right"] += want in values
            if values[0] != want:
                misses.append(
                    {"file": entry["file"], "field": name, "want": want, "got": values[0]}
                )
    seconds = time.perf_counter() - started
    rows = {}
    totals = {"gold": 0, "top_right": 0, "any_right": 0, "proposed_judged": 0, "unjudged": 0}
    for name, counts in per.items():
        if not counts["gold"] and not counts["unjudged"]:
            continue
        rows[name] = {
            **counts,
            "recall": _ratio(counts["top_right"], counts["gold"]),
            "recall_any_candidate": _ratio(counts["any_right"], counts["gold"]),
            "precision": _ratio(counts["top_right"], counts["proposed_judged"]),
        }
        for key in totals:
            totals[key] += counts[key]
    return {
        "decisions": len(gold),
        "fields": rows,
        "total": {
            **totals,
            "recall": _ratio(totals["top_right"], totals["gold"]),
            "precision": _ratio(totals["top_right"], totals["proposed_judged"]),
        },
        "misses": misses,
        "seconds": round(seconds, 2),
        "tuned_on_same_texts": True,
    }


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 3) if b else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=Path("../shared/corpora"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not (args.corpora / "decisions" / "fulltext.jsonl").is_file():
        print(f"no decisions at {args.corpora}/decisions (see README: Data)", file=sys.stderr)
        return 2
    result = evaluate(args.corpora)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    print(f"{'field':22} gold  recall  any    precision unjudged")
    for name, row in result["fields"].items():
        print(
            f"{name:22} {row['gold']:4}  {row['recall']!s:6}  {row['recall_any_candidate']!s:6}"
            f" {row['precision']!s:9} {row['unjudged']}"
        )
    total = result["total"]
    print(
        f"total: {total['top_right']}/{total['gold']} right (recall {total['recall']}), "
        f"precision {total['top_right']}/{total['proposed_judged']} ({total['precision']}), "
        f"{total['unjudged']} unjudged; {result['seconds']} s"
    )
    for miss in result["misses"]:
        print(f"  miss {miss['file']} {miss['field']}: want {miss['want']}, got {miss['got']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

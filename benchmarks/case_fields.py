"""How many cases of each kind get an authority and each amount (CaseDoc.authority/amounts),
and a deterministic sample of 20 extractions to check by hand.

Usage: python benchmarks/case_fields.py [--corpus ../shared/corpora] [--sample 20] [--seed 4]
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from pathlib import Path

from assistant.knowledge.case_fields import announces_several_cases, split_bulletin
from assistant.knowledge.cases_corpus import load_cases

FIELDS = ("authority", "tax_evaded", "fine", "multiple", "criminal_fine")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=Path("../shared/corpora"))
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--show", type=int, default=0, help="print this many chars of each text")
    args = parser.parse_args()
    cases = load_cases([args.corpus])
    total: Counter[str] = Counter()
    have: Counter[tuple[str, str]] = Counter()
    multi = 0
    for case in cases:
        total[case.doc_type] += 1
        several = len(split_bulletin(case.text)) > 1 or announces_several_cases(case.title)
        if case.doc_type == "bulletin" and several:
            multi += 1
        values = {"authority": case.authority or None, **case.amounts.to_dict()}
        for name in FIELDS:
            have[(case.doc_type, name)] += values[name] is not None
    print("| cases | n | " + " | ".join(FIELDS) + " |")
    print("|---|---|" + "---|" * len(FIELDS))
    for kind in sorted(total):
        row = " | ".join(str(have[(kind, f)]) for f in FIELDS)
        print(f"| {kind} | {total[kind]} | {row} |")
    print(f"multi-case bulletins (amounts left empty, authority only when shared): {multi}")
    # every case, with or without fields: the empty ones are checked too
    ordered = sorted(cases, key=lambda c: c.id)
    for case in random.Random(args.seed).sample(ordered, min(args.sample, len(ordered))):
        print("=" * 80)
        print(case.id, case.doc_type, case.title[:60])
        print("authority:", case.authority or "-", "| amounts:", case.amounts.to_dict())
        if args.show:
            print(case.text[: args.show])


if __name__ == "__main__":
    main()

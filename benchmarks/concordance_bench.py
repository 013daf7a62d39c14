"""Article concordance of every multi-version law: what was mapped, the similarity margin, and
how long building it takes (statute book loaded once, the concordance rebuilt `--repeat` times).

    python benchmarks/concordance_bench.py --corpus ../shared/corpora --repeat 20
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.config import BUNDLED_CORPUS
from assistant.knowledge import StatuteBook
from assistant.knowledge.concordance import Concordance, bigrams, dice


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, action="append", default=[])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    started = time.perf_counter()
    book = StatuteBook.load([BUNDLED_CORPUS, *args.corpus])
    load_s = time.perf_counter() - started
    multi = [law for law, versions in book.laws().items() if len(versions) > 1]
    times: list[float] = []
    conc = Concordance(book)
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        conc = Concordance(book)
        for law in multi:
            conc.steps(law)
        times.append(time.perf_counter() - t0)
    rows = conc.summary()
    for row in rows:
        # the best similarity of any pair the one-to-one assignment did NOT keep
        law = row["law"]
        step = next(s for s in conc.steps(law) if s.old_version.isoformat() == row["from"])
        kept = {(p.old_id, p.new_id) for p in step.pairs}
        old = [
            a for a in book.all_articles() if a.law == law and a.version_date == step.old_version
        ]
        new = [
            a for a in book.all_articles() if a.law == law and a.version_date == step.new_version
        ]
        row["best_rejected_similarity"] = round(
            max(
                dice(bigrams(a.text), bigrams(b.text))
                for a in old
                for b in new
                if (a.id, b.id) not in kept
            ),
            4,
        )
        # how close an unmatched article came to being paired (the threshold's margin)
        lonely = [(a, new) for a in old if a.id in step.deleted] + [
            (b, old) for b in new if b.id in step.added
        ]
        row["best_unmatched_similarity"] = max(
            (
                round(max(dice(bigrams(a.text), bigrams(o.text)) for o in others), 4)
                for a, others in lonely
            ),
            default=None,
        )
    # per-vote cost in the recommender: one translate() per cited article of a voting case
    per_call: dict[str, float] = {}
    cited, query = date(2021, 5, 1), date(2024, 3, 1)
    for sid in ("发票管理办法:22", "税收征收管理法:63"):
        t0 = time.perf_counter()
        for _ in range(10_000):
            conc.translate(sid, cited, query)
        per_call[sid] = round((time.perf_counter() - t0) / 10_000 * 1e6, 2)
    print(
        json.dumps(
            {
                "translate_us": per_call,
                "articles": len(book),
                "multi_version_laws": multi,
                "book_load_s": round(load_s, 3),
                "build_median_ms": round(statistics.median(times) * 1000, 2),
                "build_max_ms": round(max(times) * 1000, 2),
                "rows": rows,
            },
            ensure_ascii=False,
            indent=1,
        )
    )


if __name__ == "__main__":
    main()

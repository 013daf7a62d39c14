"""Drafting: time to render each document type (.docx), its PDF and HTML, the fact guard; and
the guard's catch rate on the planted wrong facts of tests/drafting/test_drafting_guard.py.

Usage: python benchmarks/drafting_bench.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.drafting import DocumentType, RenderedDocument, render  # noqa: E402
from assistant.drafting.guard import FactRecord, check_draft  # noqa: E402
from assistant.drafting.pdf import docx_to_html, docx_to_pdf, find_fonts  # noqa: E402
from assistant.knowledge.statutes import StatuteBook  # noqa: E402
from tests.drafting.test_drafting_documents import make_ctx  # noqa: E402
from tests.drafting.test_drafting_guard import PLANTS  # noqa: E402
from tests.drafting.test_drafting_other_documents import RENDER  # noqa: E402


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), max(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    fonts = find_fonts()
    print(f"fonts: {fonts.serif} / {fonts.sans}")
    docs: dict[str, Callable[[], RenderedDocument]] = {
        t.value: (lambda t=t: render(t, make_ctx())) for t in DocumentType
    }
    docs |= {k.value: v for k, v in RENDER.items()}
    docx_to_pdf(render(DocumentType.PENALTY_NOTICE, make_ctx()).docx)  # font cmaps loaded once
    print("| document | .docx median s | PDF median s | PDF max s | PDF kB | pages | HTML s |")
    print("|---|---|---|---|---|---|---|")
    for make in docs.values():
        d_med, _, rendered = timed(make, args.repeat)
        p_med, p_max, pdf = timed(lambda r=rendered: docx_to_pdf(r.docx), args.repeat)
        h_med, _, _ = timed(lambda r=rendered: docx_to_html(r.docx), args.repeat)
        pages = pdf.count(b"/Type /Page\n") or pdf.count(b"/Type /Page")
        print(
            f"| {rendered.title} | {d_med:.3f} | {p_med:.3f} | {p_max:.3f} | "
            f"{len(pdf) / 1024:.0f} | {pages} | {h_med:.3f} |"
        )
    book = StatuteBook.load([ROOT / "corpora"])
    ctx = make_ctx()
    text = render(DocumentType.PENALTY_DECISION, ctx).text
    record = FactRecord.from_context(ctx)
    g_med, g_max, report = timed(lambda: check_draft(text, record, book), args.repeat)
    print(f"\nguard on a correct decision: median {g_med:.4f} s, max {g_max:.4f} s, ok={report.ok}")
    caught = 0
    kinds: dict[str, list[int]] = {}
    for plant in PLANTS:
        from tests.drafting.test_drafting_documents import PERSON

        pctx = make_ctx(party=PERSON) if plant.person else make_ctx()
        clean = render(plant.doc_type, pctx).text
        planted = clean.replace(plant.old, plant.new, 1)
        found = check_draft(planted, FactRecord.from_context(pctx), book).findings
        hit = any(f.kind == plant.kind for f in found)
        caught += hit
        kinds.setdefault(plant.kind, [0, 0])
        kinds[plant.kind][0] += hit
        kinds[plant.kind][1] += 1
    print(f"planted wrong facts caught: {caught}/{len(PLANTS)}")
    for kind, (hit, total) in sorted(kinds.items()):
        print(f"  {kind}: {hit}/{total}")


if __name__ == "__main__":
    main()

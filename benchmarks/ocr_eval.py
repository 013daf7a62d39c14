"""OCR of scanned pages: real decisions rendered to images, turned and blurred, read back.

Every page of the text-layer PDFs in ../shared/corpora/decisions is rendered (200 dpi, grey),
rotated 2° and Gaussian-blurred (radius 1 px) like a flatbed scan, saved as an image-only PDF
and read through the product's path (inspect → render at `ocr_dpi` → RapidOCR). The reference
is the page's own text layer, lines in top-to-bottom order. CER = edit distance / reference
characters, summed over pages: `cer` keeps punctuation (NFKC, whitespace removed), `cer_chars`
drops punctuation as the ASR evaluation does. Seconds per page include rendering and OCR; the
load average is printed with them (the machine is shared).

    python benchmarks/ocr_eval.py [--pages 11] [--angle 2] [--blur 1.0] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.config import Settings
from assistant.evidence import inspect_evidence, read_text_layers
from assistant.evidence.reader import ocr_page_lines, pages_to_read
from assistant.registry import ModelRegistry
from assistant.transcription.evaluation import edit_distance, normalize_for_cer
from tests.evidence.scans import decision_pdfs, image_bytes, scanned_page


def compact(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if not ch.isspace())


def page_reference(pdf: Path, page: int) -> str:
    lines, _ = read_text_layers(pdf, "pdf")
    on_page = [line for line in lines if line.page == page and line.box]
    on_page.sort(key=lambda line: (round(line.box[0][1]), line.box[0][0]))  # type: ignore[index]
    return "\n".join(line.text for line in on_page)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=0, help="at most this many pages (0: all)")
    parser.add_argument("--angle", type=float, default=2.0)
    parser.add_argument("--blur", type=float, default=1.0)
    parser.add_argument("--scan-dpi", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    settings = Settings(_env_file=None, data_dir=Path(tempfile.mkdtemp()))  # type: ignore[call-arg]
    started = time.perf_counter()
    engine = ModelRegistry(settings).get("ocr")
    load_seconds = time.perf_counter() - started
    rows: list[dict[str, Any]] = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        for pdf in decision_pdfs():
            _, scans = read_text_layers(pdf, "pdf")
            found = inspect_evidence(pdf, max_pages=1000, max_pixels=10**9, render_dpi=200)
            for index in range(found.pages):
                if args.pages and len(rows) >= args.pages:
                    break
                if index + 1 in scans:
                    continue  # no text layer, no reference
                reference = page_reference(pdf, index + 1)
                scan = scanned_page(pdf, index, dpi=args.scan_dpi, angle=args.angle, blur=args.blur)
                path = Path(tmp) / f"{pdf.stem}-{index + 1}.pdf"
                path.write_bytes(image_bytes(scan, "PDF"))
                t0 = time.perf_counter()
                (page,) = pages_to_read(path, "pdf", [1], dpi=settings.ocr_dpi)
                lines = ocr_page_lines(page, engine.read(page.image))
                seconds = time.perf_counter() - t0
                hypothesis = "\n".join(line.text for line in lines)
                ref, hyp = compact(reference), compact(hypothesis)
                ref_c, hyp_c = normalize_for_cer(reference), normalize_for_cer(hypothesis)
                rows.append(
                    {
                        "file": pdf.name,
                        "page": index + 1,
                        "chars": len(ref),
                        "errors": edit_distance(ref, hyp),
                        "chars_nopunct": len(ref_c),
                        "errors_nopunct": edit_distance(ref_c, hyp_c),
                        "lines": len(lines),
                        "mean_confidence": round(
                            sum(line.confidence or 0 for line in lines) / max(len(lines), 1), 4
                        ),
                        "seconds": round(seconds, 2),
                    }
                )
                row = rows[-1]
                print(
                    f"{pdf.name} p{index + 1}: {row['chars']} chars, {row['errors']} errors "
                    f"(CER {row['errors'] / max(row['chars'], 1):.4f}), {row['seconds']} s",
                    flush=True,
                )
    load_after = os.getloadavg()
    chars = sum(r["chars"] for r in rows)
    summary = {
        "pages": len(rows),
        "files": len({r["file"] for r in rows}),
        "angle_degrees": args.angle,
        "blur_radius_px": args.blur,
        "scan_dpi": args.scan_dpi,
        "ocr_dpi": settings.ocr_dpi,
        "reference_chars": chars,
        "cer": round(sum(r["errors"] for r in rows) / max(chars, 1), 4),
        "cer_chars": round(
            sum(r["errors_nopunct"] for r in rows) / max(sum(r["chars_nopunct"] for r in rows), 1),
            4,
        ),
        "worst_page_cer": round(max(r["errors"] / max(r["chars"], 1) for r in rows), 4),
        "seconds_per_page": round(sum(r["seconds"] for r in rows) / max(len(rows), 1), 2),
        "model_load_seconds": round(load_seconds, 2),
        "engine": engine.settings_record,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "rows": rows,
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "rows"}, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()

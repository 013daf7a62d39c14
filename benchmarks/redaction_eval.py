"""Masking of personal data, measured on real text with planted personal data.

The set (`assistant.publicity.labelled.build_set`): real paragraphs of the SAT bulletins and
the issued decisions in ../shared/corpora, each with one planted sentence carrying a
公民身份号码 (valid check character), phones, bank cards (Luhn), a home address and a name.
A planted item counts as caught when its value no longer appears in the masked text (spaces
and dashes ignored; an address: the part below the county level). Precision: the share of
masked spans that overlap a planted item; spans elsewhere are counted against it even when
they are real personal data of the source text (the first few are printed to judge them).
Recall is reported apart for the held-out templates, written after the rules were tuned.

    python benchmarks/redaction_eval.py [--corpora ../shared/corpora] [--samples 600]
        [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.config import get_settings
from assistant.publicity.benchmark import evaluate


def shared_corpora(explicit: str | None) -> Path:
    """The real corpora: --corpora, else the configured corpus dirs holding cases/ and
    decisions/ (TAXASSIST_CORPORA), else TAXASSIST_SHARED_CORPORA."""
    if explicit:
        return Path(explicit).resolve()
    for path in get_settings().corpus_dirs:
        if (path / "cases" / "chinatax_bulletins.jsonl").is_file() and (
            path / "decisions"
        ).is_dir():
            return path
    env = os.environ.get("TAXASSIST_SHARED_CORPORA")
    if env:
        return Path(env).resolve()
    raise SystemExit("real corpora not found: pass --corpora or set TAXASSIST_CORPORA")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora")
    parser.add_argument("--samples", type=int, default=600)
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--json")
    args = parser.parse_args()
    report = evaluate(shared_corpora(args.corpora), args.samples, args.seed)
    text = json.dumps(report, ensure_ascii=False, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

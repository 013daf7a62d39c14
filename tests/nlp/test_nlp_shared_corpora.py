"""Extraction against real published decisions and SAT bulletins in ../shared/corpora."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from assistant.nlp import extract_entities, validate_uscc

SHARED = (Path(__file__).resolve().parents[2] / ".." / "shared" / "corpora").resolve()

pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(not SHARED.exists(), reason="../shared/corpora absent"),
]


def read_jsonl(relative: str) -> list[dict[str, Any]]:
    with (SHARED / relative).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def test_published_uscc_codes_validate() -> None:
    codes = {
        r["unifiedSocialCreditCode"]
        for r in read_jsonl("decisions/records.jsonl")
        if r["unifiedSocialCreditCode"]
    }
    assert len(codes) >= 20
    assert [c for c in codes if not validate_uscc(c)] == []


def test_full_texts_parties_codes_and_amounts() -> None:
    records = {r["id"]: r for r in read_jsonl("decisions/records.jsonl")}
    checked_amounts = 0
    for doc in read_jsonl("decisions/fulltext.jsonl"):
        text = doc["text"]
        found = extract_entities(text)
        for e in found:
            assert text[e.span.start : e.span.end] == e.text
        names = {e.value for e in found.of("organisation")} | {e.value for e in found.of("person")}
        if doc["party"]:
            assert doc["party"] in names, doc["file"]
        codes = {e.value for e in found.of("uscc") if e.valid}
        for code in re.findall(r"[0-9A-Y]{18}", text):
            if validate_uscc(code):
                assert code in codes, (doc["file"], code)
        amounts = {Decimal(e.value) for e in found.of("amount")}
        for doc_id in doc["doc_ids"]:
            record = records.get(doc_id, {})
            for field in ("recoveredTaxAmount", "lateFeeAmount", "fineAmount"):
                raw = record.get(field)
                if raw is None:
                    continue
                amount = Decimal(str(raw)).quantize(Decimal("0.01"))
                compact = re.sub(r"\s", "", text)
                if f"{amount:,.2f}" in compact or f"{amount:,}" in compact:
                    assert amount in amounts, (doc["file"], field, amount)
                    checked_amounts += 1
    assert checked_amounts >= 2


def test_bulletins_spans_and_values() -> None:
    rows = read_jsonl("cases/chinatax_bulletins.jsonl")
    amounts = 0
    for row in rows:
        text = row["content_text"]
        found = extract_entities(text, use_model=False)
        for e in found:
            assert text[e.span.start : e.span.end] == e.text
            if e.kind == "amount":
                assert Decimal(e.value) >= 0
                amounts += 1
    assert amounts > 1000

"""Dates as issued tax decisions print them (numerals and citations: `assistant.legal`).

Checked against the real decisions in ../shared/corpora/decisions/fulltext.jsonl:
- the body prints dates in Arabic figures ("2025年6月25日"), the signature date in Chinese
  numerals with 〇 for zero ("二〇二六年七月十六日").
"""

from __future__ import annotations

from datetime import date

from assistant.legal import chinese_digits, chinese_number


def chinese_date(d: date) -> str:
    """Signature date as real decisions print it: 2026-07-16 -> 二〇二六年七月十六日."""
    year = chinese_digits(f"{d.year:04d}")
    return f"{year}年{chinese_number(d.month)}月{chinese_number(d.day)}日"


def figure_date(d: date) -> str:
    """Body date as real decisions print it: 2025-06-05 -> 2025年6月5日 (no leading zeros)."""
    return f"{d.year}年{d.month}月{d.day}日"

"""Matched-passage highlighting: show the officer which paragraph (款) or sentence matched.

A result's text is cut into units (paragraphs of an article, sentences of a case), each unit is
scored by the query terms it contains (weighted by length, so 纳税申报 counts more than 申报),
and the best unit is returned with its character offsets in the result's text and the matched
terms marked 【like this】. Offsets are into the unmarked text, so a UI can mark them itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from assistant.knowledge.bm25 import tokenize

MARK_OPEN = "【"
MARK_CLOSE = "】"
#: Longer units are cut around their first match, so a result stays readable.
MAX_PASSAGE_CHARS = 240
_SENTENCE_END = re.compile(r"[^。；！？\n]*[。；！？\n]?")


@dataclass(frozen=True)
class Highlight:
    """The best-matching unit of a result's text."""

    start: int  # offset of the passage in the result's text
    end: int
    passage: str  # text[start:end]
    marked: str  # the passage with matched terms in 【】
    terms: tuple[tuple[int, int], ...]  # matched spans, offsets in the result's text

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "passage": self.passage,
            "marked": self.marked,
            "terms": [list(t) for t in self.terms],
        }


def query_terms(query: str) -> list[str]:
    """Distinct query tokens worth marking (single characters only when nothing longer)."""
    tokens = list(dict.fromkeys(tokenize(query)))
    longer = [t for t in tokens if len(t) > 1]
    return sorted(longer or tokens, key=len, reverse=True)


def _units(text: str, by: str) -> list[tuple[int, int]]:
    if by == "paragraph":
        spans, pos = [], 0
        for part in text.split("\n"):
            if part.strip():
                spans.append((pos, pos + len(part)))
            pos += len(part) + 1
        return spans
    return [(m.start(), m.end()) for m in _SENTENCE_END.finditer(text) if m.group().strip()]


def _matches(text: str, terms: Iterable[str], lo: int, hi: int) -> list[tuple[int, int]]:
    """Non-overlapping spans of `terms` in text[lo:hi], longest terms first, merged."""
    taken: list[tuple[int, int]] = []
    for term in terms:
        at = text.find(term, lo)
        while at != -1 and at + len(term) <= hi:
            span = (at, at + len(term))
            if all(span[1] <= a or span[0] >= b for a, b in taken):
                taken.append(span)
            at = text.find(term, at + len(term))
    taken.sort()
    merged: list[tuple[int, int]] = []
    for a, b in taken:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def highlight(text: str, terms: list[str], *, by: str = "sentence") -> Highlight | None:
    """The unit of `text` (by "paragraph" or "sentence") matching most of `terms`; None when
    no term occurs (a result found by meaning or by another signal alone)."""
    best: tuple[float, int, int, list[tuple[int, int]]] | None = None
    for lo, hi in _units(text, by):
        spans = _matches(text, terms, lo, hi)
        if not spans:
            continue
        distinct = {text[a:b] for a, b in spans}
        score = sum(len(t) for t in distinct) + 0.1 * len(spans)
        if best is None or score > best[0]:
            best = (score, lo, hi, spans)
    if best is None:
        return None
    _, lo, hi, spans = best
    if hi - lo > MAX_PASSAGE_CHARS:  # centre a long unit on its first match
        lo = max(lo, spans[0][0] - MAX_PASSAGE_CHARS // 4)
        hi = min(hi, lo + MAX_PASSAGE_CHARS)
        spans = [(a, b) for a, b in spans if a >= lo and b <= hi]
    pieces: list[str] = []
    pos = lo
    for a, b in spans:
        pieces += [text[pos:a], MARK_OPEN, text[a:b], MARK_CLOSE]
        pos = b
    pieces.append(text[pos:hi])
    return Highlight(
        start=lo, end=hi, passage=text[lo:hi], marked="".join(pieces), terms=tuple(spans)
    )

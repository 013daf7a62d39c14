"""Propose the discretion inputs from texts with sources: every value with the words it came from.

Numbers and dates are read by the entity extractor (`assistant.nlp.extract_entities`) and the
legal core's numerals (`assistant.legal.parse_integer`); which fact a number or date states is
decided by the cue phrases of `corpora/facts/cues.yaml` in the same clause. Nothing is decided
here: each field gets its candidates ranked, the officer picks or corrects.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from assistant import nlp
from assistant.facts.cues import Cues, load_cues, violation_phrases
from assistant.facts.fields import FIELDS, to_json
from assistant.facts.sources import OFFICER_SPEAKERS, PARTY_SPEAKERS, SourceRef, SourceText
from assistant.legal import CN_DIGITS, NUMERAL_CHARS, parse_integer

# A clause ends at these; commas do not end it (金额…，税额… stay one statement), nor does a
# line break (a PDF's text layer breaks lines inside sentences).
SENTENCE_END = "。；;！!？?"
_NUM = rf"[0-9{''.join(CN_DIGITS)}十]{{1,4}}"
_YEAR = rf"[0-9{''.join(CN_DIGITS)}]{{4}}"
_SEP = r"(?:至|到|—|–|-|～|~)"
# 2024年1月至12月, 2019年1月1日至2021年12月31日, 2025年3月（份）
_PERIOD = re.compile(
    rf"(?P<y1>{_YEAR})年(?P<m1>{_NUM})月(?:(?P<d1>{_NUM})[日号])?份?"
    rf"(?:{_SEP}(?:(?P<y2>{_YEAR})年)?(?P<m2>{_NUM})月(?:(?P<d2>{_NUM})[日号])?份?)?"
)
_COUNT = rf"[0-9,{NUMERAL_CHARS}]+"
PERIOD_END_NOTE = "期间终了日（行政处罚法第三十六条第二款：连续或继续状态从行为终了之日起计算）"


@dataclass(frozen=True)
class Proposal:
    """One candidate value for one field, and where it was read."""

    field: str
    value: Any
    source: SourceRef
    cue: str
    # higher first: a total, a document or the party's own words, then order of appearance
    weight: float = 1.0
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "value": to_json(self.value),
            "cue": self.cue,
            "note": self.note,
            "source": self.source.to_dict(),
        }


@dataclass
class Candidate:
    """One value of a field with every source that states it."""

    value: Any
    proposals: list[Proposal] = field(default_factory=list)

    @property
    def weight(self) -> float:
        return sum(p.weight for p in self.proposals)

    def to_dict(self) -> dict[str, Any]:
        notes = sorted({p.note for p in self.proposals if p.note})
        return {
            "value": to_json(self.value),
            "weight": round(self.weight, 3),
            "notes": notes,
            "sources": [p.source.to_dict() | {"cue": p.cue} for p in self.proposals],
        }


@dataclass(frozen=True)
class FieldProposal:
    """A field's candidates, best first; `value` is the first one's."""

    field: str
    candidates: tuple[Candidate, ...]

    @property
    def value(self) -> Any:
        return self.candidates[0].value

    def to_dict(self) -> dict[str, Any]:
        spec = FIELDS[self.field]
        return {
            "field": self.field,
            "label_zh": spec.label_zh,
            "case_field": spec.case_field,
            "value": to_json(self.value),
            "candidates": [c.to_dict() for c in self.candidates],
        }


# --- finding phrases ---------------------------------------------------------------------------
def find_phrases(
    text: str, phrases: Mapping[str, Iterable[str]]
) -> list[tuple[int, int, str, str]]:
    """Non-overlapping phrase matches (start, end, label, phrase), the longest winning an
    overlap (没有受过处罚 over 受过处罚), in text order."""
    found = []
    for label, group in phrases.items():
        for phrase in group:
            start = text.find(phrase)
            while start >= 0:
                found.append((start, start + len(phrase), label, phrase))
                start = text.find(phrase, start + 1)
    kept: list[tuple[int, int, str, str]] = []
    for match in sorted(found, key=lambda m: (m[0] - m[1], m[0])):
        if all(match[1] <= k[0] or k[1] <= match[0] for k in kept):
            kept.append(match)
    return sorted(kept)


def quoted(text: str) -> list[tuple[int, int]]:
    """Ranges inside “…”: in a decision these quote statutes ("虚开金额在1万元以下的"), which
    state the law, not the case's facts."""
    out = []
    start = text.find("“")
    while start >= 0:
        end = text.find("”", start + 1)
        if end < 0:
            break
        out.append((start, end + 1))
        start = text.find("“", end + 1)
    return out


def in_ranges(ranges: list[tuple[int, int]], position: int) -> bool:
    return any(a <= position < b for a, b in ranges)


def clauses(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each clause of `text`, ending punctuation included."""
    start = 0
    for i, ch in enumerate(text):
        if ch in SENTENCE_END:
            yield start, i + 1
            start = i + 1
    if start < len(text):
        yield start, len(text)


def officer_words(source: SourceRef, sentence: str, sentences_in_unit: int) -> bool:
    """Whether a sentence is the officer's: a question, or the whole turn of a 问 speaker.
    Whisper may put a question and its answer in one segment, so the text decides first."""
    from assistant.transcription.diarization import is_question

    if source.kind != "recording":
        return False
    if is_question(sentence):
        return True
    return source.speaker in OFFICER_SPEAKERS and sentences_in_unit == 1


def _weight(source: SourceRef, officer: bool) -> float:
    if officer:
        return 0.5
    if source.kind == "document" or source.speaker in PARTY_SPEAKERS or source.by_party:
        return 1.2
    return 1.0


# --- the readers ----------------------------------------------------------------------------------
def _money(
    st: SourceText, cues: Cues, entities: list[Any], officer: list[bool]
) -> Iterator[Proposal]:
    text = st.text
    spans = list(clauses(text))
    labels: dict[str, tuple[str, ...]] = {**cues.money.fields, "_stop": cues.money.stop}
    quotes = quoted(text)
    for entity in entities:
        if entity.kind != "amount" or not entity.valid or in_ranges(quotes, entity.span.start):
            continue
        start = entity.span.start
        index = next(i for i, (a, b) in enumerate(spans) if a <= start < b)
        clause_start = spans[index][0]
        look_from = max(clause_start, start - cues.money.window)
        matches = find_phrases(text[look_from:start], labels)
        if not matches:
            continue
        m_start, _, label, phrase = max(matches, key=lambda m: (m[1], m[1] - m[0]))
        if label == "_stop":
            continue
        context = cues.money.context.get(label)
        if context and not any(
            w in text[max(0, start - cues.money.context_window) : start] for w in context
        ):
            continue
        between = text[look_from + m_start : start]
        # 合计 between the cue and this amount, and no other amount between them: a total
        total = any(t in between for t in cues.money.total) and "元" not in between
        # a longer cue is a more specific one (虚开发票金额 over 金额); 其中 introduces a part
        weight = _weight(st.source, officer[index]) * (1 + 0.1 * len(phrase))
        weight = weight * (0.5 if "其中" in between else 1.0) + (2.0 if total else 0.0)
        yield Proposal(
            label,
            Decimal(entity.value),
            st.quote(look_from + m_start, entity.span.end),
            phrase,
            weight,
            "合计数" if total else None,
        )


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _dates_in(text: str, entities: list[Any], reference: date) -> list[tuple[int, int, date, date]]:
    """(start, end, first day, last day) of each full date or month period in text order."""
    out: list[tuple[int, int, date, date]] = []
    for m in _PERIOD.finditer(text):
        try:
            y1, m1 = parse_integer(m["y1"]), parse_integer(m["m1"])
            first = date(y1, m1, parse_integer(m["d1"]) if m["d1"] else 1)
            if m["m2"]:
                y2 = parse_integer(m["y2"]) if m["y2"] else y1
                m2 = parse_integer(m["m2"])
                last = date(y2, m2, parse_integer(m["d2"])) if m["d2"] else _month_end(y2, m2)
            else:
                last = first if m["d1"] else _month_end(y1, m1)
        except ValueError:
            continue
        if first <= last <= reference:
            out.append((m.start(), m.end(), first, last))
    for entity in entities:
        if entity.kind != "date" or not entity.valid:
            continue
        if any(a <= entity.span.start < b for a, b, _, _ in out):
            continue
        day = date.fromisoformat(entity.value)
        if day <= reference:
            out.append((entity.span.start, entity.span.end, day, day))
    return sorted(out)


def _dates(
    st: SourceText, cues: Cues, entities: list[Any], officer: list[bool], reference: date
) -> Iterator[Proposal]:
    text = st.text
    quotes = quoted(text)
    found = [d for d in _dates_in(text, entities, reference) if not in_ranges(quotes, d[0])]
    for index, (a, b) in enumerate(clauses(text)):
        inside = [d for d in found if a <= d[0] < b]
        if not inside:
            continue
        clause = text[a:b]
        for name in ("discovery_date", "violation_date"):  # 检查 outranks the act's words
            spec = cues.dates.get(name)
            hits = [c for c in spec.cues if c in clause] if spec else []
            if not spec or not hits:
                continue
            start, end, first, last = inside[0] if spec.first else inside[-1]
            value = first if spec.first else last
            note = None
            if not spec.first and first != last and end - start > 0:
                note = PERIOD_END_NOTE
            elif not spec.first and text[start:end].endswith(("月", "份")):
                note = "所属月份末日，请核对申报期限"
            yield Proposal(
                name,
                value,
                st.quote(start, end),
                max(hits, key=len),
                _weight(st.source, officer[index]),
                note,
            )
            break


def _days(st: SourceText, cues: Cues) -> Iterator[Proposal]:
    pattern = re.compile(
        "(?P<cue>"
        + "|".join(map(re.escape, sorted(cues.days_cues, key=len, reverse=True)))
        + rf")了?(?P<n>[0-9{NUMERAL_CHARS}]+)\s*(?:个)?(?:{'|'.join(cues.days_units)})"
    )
    for m in pattern.finditer(st.text):
        try:
            days = parse_integer(m["n"])
        except ValueError:
            continue
        yield Proposal("days_overdue", days, st.quote(m.start(), m.end()), m["cue"])


def _counts(st: SourceText, cues: Cues) -> Iterator[Proposal]:
    pattern = re.compile(rf"(?P<n>{_COUNT})\s*(?:{'|'.join(cues.count_units)})")
    quotes = quoted(st.text)
    for m in pattern.finditer(st.text):
        before = st.text[max(0, m.start() - cues.count_window) : m.start()]
        after = st.text[m.end() : m.end() + 8]  # 320份增值税专用发票
        near = [w for w in cues.count_near if w in before or w in after]
        if not near or in_ranges(quotes, m.start()):
            continue
        try:
            count = parse_integer(m["n"].replace(",", ""))
        except ValueError:
            continue
        clause_start = max(st.text.rfind(ch, 0, m.start()) for ch in SENTENCE_END) + 1
        clause_end = min(
            [i for i in (st.text.find(ch, m.end()) for ch in SENTENCE_END) if i >= 0]
            or [len(st.text)]
        )
        total = any(t in st.text[clause_start : m.start()] for t in cues.money.total)
        # the count the finding is about: 认定…320份…为虚开发票
        finding = any(w in st.text[clause_start:clause_end] for w in cues.count_finding)
        yield Proposal(
            "invoice_count",
            count,
            st.quote(m.start(), m.end()),
            near[0],
            1.0 + (1.0 if total else 0.0) + (1.0 if finding else 0.0),
            "合计数" if total else None,
        )


def _flags(st: SourceText, cues: Cues, officer: list[bool]) -> Iterator[Proposal]:
    spans = list(clauses(st.text))
    quotes = quoted(st.text)
    for name, by_value in cues.flags.items():
        labels = {str(v): phrases for v, phrases in by_value.items()}
        for start, end, label, phrase in find_phrases(st.text, labels):
            index = next(i for i, (a, b) in enumerate(spans) if a <= start < b)
            if officer[index] or in_ranges(quotes, start):
                continue  # "以前受过处罚吗？" asks, it does not state
            yield Proposal(name, label == "True", st.quote(start, end), phrase)
    for start, end, role, phrase in find_phrases(st.text, dict(cues.roles)):
        if in_ranges(quotes, start):
            continue
        index = next(i for i, (a, b) in enumerate(spans) if a <= start < b)
        yield Proposal(
            "party_role", role, st.quote(start, end), phrase, _weight(st.source, officer[index])
        )


def _violations(
    st: SourceText, phrases: dict[str, tuple[str, ...]], officer: list[bool]
) -> Iterator[Proposal]:
    spans = list(clauses(st.text))
    quotes = quoted(st.text)
    for start, end, code, phrase in find_phrases(st.text, phrases):
        if in_ranges(quotes, start):
            continue
        index = next(i for i, (a, b) in enumerate(spans) if a <= start < b)
        weight = len(phrase) * _weight(st.source, officer[index])
        yield Proposal("violation", code, st.quote(start, end), phrase, weight)


# --- the public entry points ----------------------------------------------------------------------
def propose(
    texts: Iterable[SourceText], *, reference_date: date | None = None, cues: Cues | None = None
) -> list[Proposal]:
    """Every candidate value the texts state, each with its source span."""
    from assistant.dates import today_in_china

    cues = cues or load_cues()
    reference = reference_date or today_in_china()
    phrases = violation_phrases(cues)
    out: list[Proposal] = []
    for st in texts:
        if not st.text.strip():
            continue
        spans = list(clauses(st.text))
        officer = [officer_words(st.source, st.text[a:b], len(spans)) for a, b in spans]
        entities = list(nlp.extract_entities(st.text, reference_date=reference))
        out.extend(_money(st, cues, entities, officer))
        out.extend(_dates(st, cues, entities, officer, reference))
        out.extend(_days(st, cues))
        out.extend(_counts(st, cues))
        out.extend(_flags(st, cues, officer))
        out.extend(_violations(st, phrases, officer))
    return out


def by_field(proposals: Iterable[Proposal]) -> list[FieldProposal]:
    """Candidates per field (same value from several sources: one candidate), best first:
    the highest summed weight, then the earliest stated. Fields in registry order."""
    grouped: dict[str, dict[Any, Candidate]] = {}
    order: dict[tuple[str, Any], int] = {}
    for i, proposal in enumerate(proposals):
        per_value = grouped.setdefault(proposal.field, {})
        per_value.setdefault(proposal.value, Candidate(proposal.value)).proposals.append(proposal)
        order.setdefault((proposal.field, proposal.value), i)
    out = []
    for name in FIELDS:
        if name not in grouped:
            continue
        ranked = sorted(grouped[name].values(), key=lambda c: (-c.weight, order[(name, c.value)]))
        out.append(FieldProposal(name, tuple(ranked)))
    return out

"""Entities in Chinese case facts and interview transcripts, read by the spaCy pipeline.

Identifiers, amounts, dates and invoice numbers are what the fact guard and the drafting step
must quote exactly, so rule components find them with exact (Decimal) values; persons,
organisations and places come from Baidu LAC as well as from rules, and say so in `source` and
`note`. The analysis itself is `assistant.nlp.pipeline`; this module is its plain-data contract.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from assistant.errors import InvalidInput
from assistant.nlp.pipeline import KINDS, EntityKind, analyse
from assistant.nlp.rules import TAX_TYPES

ENTITY_KINDS: tuple[str, ...] = KINDS
__all__ = ["ENTITY_KINDS", "TAX_TYPES", "Entities", "Entity", "EntityKind", "Span"]


@dataclass(frozen=True)
class Span:
    """Half-open character offsets into the text given to `extract_entities`."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"bad span {self.start}..{self.end}")

    def __len__(self) -> int:
        return self.end - self.start

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class Entity:
    """One mention: surface text, normalized value and where it sits in the input."""

    kind: EntityKind
    text: str
    value: str
    span: Span
    valid: bool = True
    note: str | None = None
    #: what found it: "rules", "lac", or both joined by "+"
    source: str = "rules"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "value": self.value,
            "span": {"start": self.span.start, "end": self.span.end},
            "valid": self.valid,
            "note": self.note,
            "source": self.source,
        }


@dataclass(frozen=True)
class Entities:
    """Non-overlapping entities in text order."""

    items: tuple[Entity, ...]

    def __iter__(self) -> Iterator[Entity]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def of(self, kind: str) -> list[Entity]:
        if kind not in ENTITY_KINDS:
            raise InvalidInput(
                "unknown_entity_kind",
                f"未知的实体类型“{kind}”，可用类型：{'、'.join(ENTITY_KINDS)}",
                details={"kind": kind, "allowed": list(ENTITY_KINDS)},
            )
        return [e for e in self.items if e.kind == kind]

    def to_dict(self) -> dict[str, Any]:
        counts = {kind: 0 for kind in ENTITY_KINDS}
        for e in self.items:
            counts[e.kind] += 1
        return {"items": [e.to_dict() for e in self.items], "counts": counts}


def extract_entities(
    text: str, *, reference_date: date | None = None, use_model: bool = True
) -> Entities:
    """Find identifiers, amounts, dates, periods, invoice numbers, tax types, statute citations,
    organisations, persons and places.

    `reference_date` (the case's or transcript's date) lets 3月15日 take a year and flags dates
    after it; `use_model=False` runs the rule components only (no LAC: faster, fewer guesses).
    """
    if not isinstance(text, str):
        raise InvalidInput(
            "invalid_text", "待识别的文本必须是字符串", details={"type": type(text).__name__}
        )
    doc = analyse(text, reference_date=reference_date, use_model=use_model)
    return Entities(
        items=tuple(
            Entity(
                kind=ent.label_,  # type: ignore[arg-type]
                text=ent.text,
                value=ent._.value,
                span=Span(ent.start_char, ent.end_char),
                valid=ent._.valid,
                note=ent._.note,
                source=ent._.source,
            )
            for ent in doc.ents
        )
    )

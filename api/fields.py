"""The API's constrained field types, in one place: every schema and route reuses these.

Bounds come from `assistant.limits`, so what the edge accepts the database stores and the
documents print: ids and offsets fit a signed 64-bit integer (larger: 422, never a driver
overflow), amounts have 2 places and 16 digits, counts and days are bounded, booleans are
JSON booleans, and text is NFC-normalised and free of control, invisible-only and
direction-overriding characters.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AfterValidator, Field, PlainSerializer, StrictBool

from assistant.limits import (
    DAYS_MAX,
    INDEX_MAX,
    INT64_MAX,
    OCCURRENCES_MAX,
    YUAN_MAX,
    clean_text,
)


def _line(value: str) -> str:
    return clean_text(value)


def _paragraph(value: str) -> str:
    return clean_text(value, multiline=True)


def _json_texts(value: Any) -> Any:
    """Every string inside free-form JSON (per-type inputs, findings) is clean text too."""
    if isinstance(value, str):
        return _paragraph(value)
    if isinstance(value, dict):
        return {_line(str(k)): _json_texts(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_texts(v) for v in value]
    return value


# Text: one line (names, codes, labels) or several (facts, opinions, document text).
Line = Annotated[str, AfterValidator(_line)]
Paragraph = Annotated[str, AfterValidator(_paragraph)]
# Free-form JSON objects whose strings end up in documents.
JsonObject = Annotated[dict[str, Any], AfterValidator(_json_texts)]

Money = Annotated[
    Decimal,
    Field(ge=0, le=YUAN_MAX, max_digits=16, decimal_places=2),
    PlainSerializer(lambda v: f"{v:.2f}", return_type=str),
]
Days = Annotated[int, Field(ge=0, le=DAYS_MAX)]
Occurrences = Annotated[int, Field(ge=1, le=OCCURRENCES_MAX)]
Flag = StrictBool

# Path and query parameters.
DbId = Annotated[int, Path(ge=1, le=INT64_MAX, description="database id")]
Position = Annotated[int, Path(ge=0, le=INDEX_MAX, description="segment index")]
Offset = Annotated[int, Query(ge=0, le=INT64_MAX)]

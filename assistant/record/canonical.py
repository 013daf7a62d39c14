"""Canonical JSON and its SHA-256: the one byte form every signed or committed value takes.

A hash is only comparable if the same value always gives the same bytes, so events, case
snapshots, step results, segments and documents are all hashed through these functions.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any


def canonical_json(payload: Any) -> bytes:
    """One byte string per value: sorted keys, no spaces, UTF-8 (the hash must be stable)."""
    return json.dumps(
        payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def canonical_sha256(payload: Any) -> str:
    """SHA-256 (hex) of a value as the database returns it (see `stored_form`)."""
    return hashlib.sha256(canonical_json(stored_form(payload))).hexdigest()


def text_sha256(text: str) -> str:
    """SHA-256 of a text's UTF-8 bytes: what "the same text, byte for byte" means."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stored_form(value: Any) -> Any:
    """The value as a JSON column reads it back: decimals as strings, dates in ISO form,
    tuples as lists, keys as strings, so a hash taken before a write equals the one taken
    when verifying later."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=_plain))


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not hashable as JSON: {type(value).__name__}")

"""What the system accepts, stated once: bounds of ids, counts and amounts, and clean text.

The API's field types (`api/fields.py`) and the domain checks (case inputs, discretion
inputs, money) read these, so a value one layer accepts the next never refuses or crashes on:
a database id fits a signed 64-bit integer, an amount fits integer fen, a name prints.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal

# Database ids, offsets and positions: SQLite and PostgreSQL BIGINT hold at most 2^63 - 1.
INT64_MAX = 2**63 - 1
# Positions inside one recording or document (segment index, line number).
INDEX_MAX = 2**31 - 1
# Days (overdue, periods): a century is more than any tax case spans.
DAYS_MAX = 36_500
# Occurrences of a violation in one case.
OCCURRENCES_MAX = 10_000
# Amounts in yuan: 16 significant digits with 2 places, stored as integer fen.
YUAN_MAX = Decimal("99999999999999.99")

# Bidirectional embeddings, overrides and isolates: they reorder what a reader sees (a name
# shown as 司公限有 in a document is not the name that was entered).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_BREAKS = frozenset("\n\r\t")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why `value` cannot be stored as text an officer reads and a document prints, or None.

    Refused: control characters (line breaks and tabs allowed in multi-line text), surrogates,
    noncharacters and unassigned code points (U+FFFF …), bidirectional overrides, and text
    that is only invisible characters (zero-width spaces and the like).
    """
    visible = False
    for ch in value:
        category = unicodedata.category(ch)
        if ch in _BIDI_CONTROLS:
            return f"含有改变文字显示方向的控制字符 U+{ord(ch):04X}"
        if category == "Cc" and not (multiline and ch in _LINE_BREAKS):
            return f"含有控制字符 U+{ord(ch):04X}"
        if category in ("Cs", "Cn"):
            return f"含有无效字符 U+{ord(ch):04X}"
        if not ch.isspace() and category != "Cf":
            visible = True
    if value and not visible and any(unicodedata.category(ch) == "Cf" for ch in value):
        return "只含有不可见字符"
    return None


def clean_text(value: str, *, multiline: bool = False) -> str:
    """NFC-normalised `value`; ValueError with the reason (in Chinese) if it is not clean."""
    normalised = unicodedata.normalize("NFC", value)
    problem = text_problem(normalised, multiline=multiline)
    if problem is not None:
        raise ValueError(problem)
    return normalised

"""The legal core every layer uses: statute ids, Chinese numerals, citation text.

It imports nothing from the rest of `assistant`, so the knowledge, discretion, drafting and
nlp layers can all build on it; its one error (`LegalValueError`, a ValueError with a code
and a Chinese message) is answered 422 by the API and the CLI.
"""

from assistant.legal.citation import (
    PRC_PREFIX,
    Provision,
    cite,
    cite_all,
    cited_title,
    short_law_name,
)
from assistant.legal.errors import LegalValueError
from assistant.legal.markers import bundled_markers, load_version_markers, version_marker
from assistant.legal.numerals import (
    ARTICLE_NUMERAL_CHARS,
    BIG_UNITS,
    CN_DIGITS,
    NUMERAL_CHARS,
    SMALL_UNITS,
    ZEROS,
    chinese_digits,
    chinese_number,
    chinese_percent,
    parse_integer,
    parse_numeral,
)
from assistant.legal.statute_id import StatuteId

__all__ = [
    "ARTICLE_NUMERAL_CHARS",
    "BIG_UNITS",
    "CN_DIGITS",
    "NUMERAL_CHARS",
    "PRC_PREFIX",
    "SMALL_UNITS",
    "ZEROS",
    "LegalValueError",
    "Provision",
    "StatuteId",
    "bundled_markers",
    "chinese_digits",
    "chinese_number",
    "chinese_percent",
    "cite",
    "cite_all",
    "cited_title",
    "load_version_markers",
    "parse_integer",
    "parse_numeral",
    "short_law_name",
    "version_marker",
]

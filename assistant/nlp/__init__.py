"""Text analysis of case facts and transcripts: a spaCy pipeline (jieba, Baidu LAC, rules).

spaCy (and through thinc, torch when installed) takes seconds to import, and most processes
(the CLI, API replicas, workers) never analyse text: the pipeline and the entity extractor
are imported on first use (PEP 562). Numerals and the identifier check digits stay eager.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from assistant.nlp.numerals import parse_amount
from assistant.nlp.uscc import (
    USCC_ALPHABET,
    resident_id_check_char,
    resident_id_problem,
    uscc_check_char,
    uscc_problem,
    validate_resident_id,
    validate_uscc,
)

if TYPE_CHECKING:
    from assistant.nlp.entities import (
        ENTITY_KINDS,
        TAX_TYPES,
        Entities,
        Entity,
        EntityKind,
        Span,
        extract_entities,
    )
    from assistant.nlp.pipeline import analyse, from_docbin, to_docbin

#: Names imported from their module when first asked for.
LAZY: dict[str, str] = {
    **dict.fromkeys(
        (
            "ENTITY_KINDS",
            "TAX_TYPES",
            "Entities",
            "Entity",
            "EntityKind",
            "Span",
            "extract_entities",
        ),
        "assistant.nlp.entities",
    ),
    **dict.fromkeys(("analyse", "from_docbin", "to_docbin"), "assistant.nlp.pipeline"),
}


def __getattr__(name: str) -> Any:
    module = LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ENTITY_KINDS",
    "TAX_TYPES",
    "USCC_ALPHABET",
    "Entities",
    "Entity",
    "EntityKind",
    "Span",
    "analyse",
    "extract_entities",
    "from_docbin",
    "parse_amount",
    "resident_id_check_char",
    "resident_id_problem",
    "to_docbin",
    "uscc_check_char",
    "uscc_problem",
    "validate_resident_id",
    "validate_uscc",
]

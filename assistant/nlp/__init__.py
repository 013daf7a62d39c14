"""Text analysis of case facts and transcripts: a spaCy pipeline (jieba, Baidu LAC, rules)."""

from assistant.nlp.entities import (
    ENTITY_KINDS,
    TAX_TYPES,
    Entities,
    Entity,
    EntityKind,
    Span,
    extract_entities,
)
from assistant.nlp.numerals import parse_amount
from assistant.nlp.pipeline import analyse, from_docbin, to_docbin
from assistant.nlp.uscc import (
    USCC_ALPHABET,
    resident_id_check_char,
    resident_id_problem,
    uscc_check_char,
    uscc_problem,
    validate_resident_id,
    validate_uscc,
)

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

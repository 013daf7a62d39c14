"""Entity extraction from case facts and transcripts: identifiers, amounts, dates, invoices."""

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
    "extract_entities",
    "parse_amount",
    "resident_id_check_char",
    "resident_id_problem",
    "uscc_check_char",
    "uscc_problem",
    "validate_resident_id",
    "validate_uscc",
]

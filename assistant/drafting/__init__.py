"""Drafting: penalty notices and decisions as official .docx documents."""

from assistant.drafting.context import LegalBasis, Party, PenaltyContext
from assistant.drafting.documents import DocumentType, RenderedDocument, docx_text, render
from assistant.drafting.numerals import (
    article_reference,
    chinese_date,
    chinese_number,
    chinese_percent,
    figure_date,
    legal_basis_sentence,
)

__all__ = [
    "DocumentType",
    "LegalBasis",
    "Party",
    "PenaltyContext",
    "RenderedDocument",
    "article_reference",
    "chinese_date",
    "chinese_number",
    "chinese_percent",
    "docx_text",
    "figure_date",
    "legal_basis_sentence",
    "render",
]

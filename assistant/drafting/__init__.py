"""Drafting: penalty notices and decisions as official .docx documents."""

from assistant.drafting.context import LegalBasis, Party, PenaltyContext
from assistant.drafting.documents import DocumentType, RenderedDocument, docx_text, render
from assistant.drafting.numerals import chinese_date, figure_date

__all__ = [
    "DocumentType",
    "LegalBasis",
    "Party",
    "PenaltyContext",
    "RenderedDocument",
    "chinese_date",
    "docx_text",
    "figure_date",
    "render",
]

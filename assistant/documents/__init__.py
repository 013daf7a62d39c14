"""Document types: one registry saying, per type, how a case's record becomes a document.

Layer: above drafting (renderers, fact guard), knowledge, discretion and db; below cases (the
workflow that stores and signs what is drafted here). Nothing here imports `assistant.cases`.
"""

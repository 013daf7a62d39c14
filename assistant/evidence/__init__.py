"""Documents as evidence: recognising the file type, reading its text layer or its image by OCR.

Lower layer: imports nothing above `assistant.errors`; the workflow (`assistant.cases.evidence`)
and the reading job (`assistant.jobs.evidence`) build on it.
"""

from assistant.evidence.formats import EvidenceFile, inspect_evidence
from assistant.evidence.reader import Line, PageImage, pages_to_read, read_text_layers

__all__ = [
    "EvidenceFile",
    "Line",
    "PageImage",
    "inspect_evidence",
    "pages_to_read",
    "read_text_layers",
]

"""Case understanding from what was said and written: proposed facts with their sources,
evidence completeness per violation type, and the party's points of dispute.

Everything here reads texts that carry a source (a transcript segment, later a document page
and box) and proposes; nothing is stored. The case layer (`assistant.cases.facts`) applies what
the officer confirms through the case's signed update path.
"""

from assistant.facts.completeness import EvidenceCheck, Requirement, check_evidence, requirements
from assistant.facts.disputes import Dispute, find_disputes
from assistant.facts.fields import FIELDS, FactField, get_field, parse_value
from assistant.facts.propose import Proposal, propose
from assistant.facts.sources import SourceRef, SourceText

__all__ = [
    "FIELDS",
    "Dispute",
    "EvidenceCheck",
    "FactField",
    "Proposal",
    "Requirement",
    "SourceRef",
    "SourceText",
    "check_evidence",
    "find_disputes",
    "get_field",
    "parse_value",
    "propose",
    "requirements",
]

"""Storage: SQLAlchemy 2 models, sessions, and the content-addressed file store."""

from assistant.db.models import (
    ApiToken,
    Base,
    Case,
    CaseEvent,
    CaseResult,
    DocNumberCounter,
    Document,
    Evidence,
    Job,
    OfficerCredential,
    Recording,
    SegmentRevision,
    SigningKey,
    Taxpayer,
    TranscriptSegment,
    User,
    Voiceprint,
)
from assistant.db.session import Database

__all__ = [
    "ApiToken",
    "Base",
    "Case",
    "CaseEvent",
    "CaseResult",
    "Database",
    "DocNumberCounter",
    "Document",
    "Evidence",
    "Job",
    "OfficerCredential",
    "Recording",
    "SegmentRevision",
    "SigningKey",
    "Taxpayer",
    "TranscriptSegment",
    "User",
    "Voiceprint",
]

"""The case record: taxpayers, cases, recordings, documents, step results, events."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from assistant.db.types import Money, UTCDateTime, utcnow


class Base(DeclarativeBase):
    # Ids (and the columns that reference them) are BIGINT on PostgreSQL, columns and bound
    # values alike (migration 0020): the API takes any int64 id, which must find nothing (a
    # 404), and a province outgrows 2^31 rows. SQLite keeps INTEGER, its 64-bit rowid.
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        int: BigInteger().with_variant(Integer(), "sqlite")
    }


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))  # officer | reviewer | approver | admin
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    """Opaque tokens; only their SHA-256 is stored so a database leak leaks no token.

    One sign-in is a family: its access tokens and the chain of refresh tokens that rotate; a
    revoked family (logout, reuse of a rotated refresh token, user disabled) admits nothing."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_family", "family"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8), default="access")  # access | refresh
    family: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # rotated | logout | reused | disabled
    revoked_reason: Mapped[str | None] = mapped_column(String(16))


class LoginThrottle(Base):
    """Failed sign-ins per username (known or not, so a lock reveals nothing) or per address."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(8))  # account | address
    key: Mapped[str] = mapped_column(String(128))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Taxpayer(Base):
    __tablename__ = "taxpayers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)  # 统一社会信用代码 or ID number
    kind: Mapped[str] = mapped_column(String(16))  # organisation | individual
    address: Mapped[str | None] = mapped_column(String(300))
    legal_representative: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    taxpayer_id: Mapped[int] = mapped_column(ForeignKey("taxpayers.id"))
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    violation_code: Mapped[str] = mapped_column(String(64))
    facts: Mapped[str] = mapped_column(Text)
    violation_date: Mapped[date] = mapped_column(Date)
    discovered_date: Mapped[date | None] = mapped_column(Date)
    tax_unpaid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    invoice_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    illegal_gains: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    invoice_tax_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    tax_payable: Mapped[Decimal | None] = mapped_column(Money)
    party_role: Mapped[str] = mapped_column(String(32), default="taxpayer")
    days_overdue: Mapped[int] = mapped_column(Integer, default=0)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    first_violation: Mapped[bool] = mapped_column(Boolean, default=False)
    corrected_in_time: Mapped[bool] = mapped_column(Boolean, default=False)
    harm: Mapped[str] = mapped_column(String(16), default="minor")
    factors: Mapped[list[str]] = mapped_column(JSON, default=list)
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(32), default="investigating")
    # Head of the case's signed event chain: count and hash of the last event.
    record_length: Mapped[int] = mapped_column(Integer, default=0)
    record_head: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    taxpayer: Mapped[Taxpayer] = relationship(lazy="joined")
    officer: Mapped[User] = relationship(lazy="joined")


class Recording(Base):
    """An interview recording; the original file is content-addressed and never modified."""

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    original_filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    duration_seconds: Mapped[float] = mapped_column(Float)
    language: Mapped[str | None] = mapped_column(String(8))
    model: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # name, version, settings
    processing_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Issue 3 jobs: transcribing | transcribed | failed | cancelled (the job holds the detail).
    status: Mapped[str] = mapped_column(String(16), default="transcribed")

    segments: Mapped[list[TranscriptSegment]] = relationship(
        order_by="TranscriptSegment.index", cascade="all, delete-orphan", lazy="selectin"
    )


class TranscriptSegment(Base):
    __tablename__ = "transcript_segments"
    __table_args__ = (UniqueConstraint("recording_id", "index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"))
    index: Mapped[int] = mapped_column(Integer)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    avg_logprob: Mapped[float] = mapped_column(Float)
    no_speech_prob: Mapped[float] = mapped_column(Float)
    speaker: Mapped[str | None] = mapped_column(String(32))
    # Word timestamps and probabilities: [{"start", "end", "word", "probability"}, ...].
    words: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)


class Evidence(Base):
    """A document submitted as evidence (PDF, DOCX, image, scan); the original is
    content-addressed and never modified, its reading (text layer or OCR) is kept line by line.

    `lines`: [{"page", "text", "box", "confidence", "source"}] in reading order; `box` is the
    line's four corners in page pixels (OCR) or PDF points (text layer), null for DOCX
    paragraphs, which have no page; `confidence` is the recogniser's (null for a text layer).
    """

    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_case_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    original_filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))  # detected from the bytes
    kind: Mapped[str] = mapped_column(String(8))  # pdf | docx | image
    size_bytes: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str | None] = mapped_column(String(200))  # the officer's description
    status: Mapped[str] = mapped_column(String(16), default="reading")  # reading | read | failed
    method: Mapped[str | None] = mapped_column(String(16))  # text_layer | ocr | mixed
    reader: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # engine, models, dpi
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Job(Base):
    """Issue 3: long work (transcription) as a job a worker claims, reports on and can resume.

    `progress` is the share of the audio processed (0..1); `resumed_from_seconds` is where the
    last (re)start began decoding, after the segments already stored.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # transcription | evidence_reading
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    recording_id: Mapped[int | None] = mapped_column(ForeignKey("recordings.id"))
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"), default=None)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    processed_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    duration_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    resumed_from_seconds: Mapped[float | None] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The distributed worker's task run ("host:pid:run") holding the job's lease, renewed through
    # `heartbeat_at`; None for the in-process queue and for a job waiting in the broker.
    worker: Mapped[str | None] = mapped_column(String(128), default=None)


class SegmentRevision(Base):
    """Issue 3: an officer's correction of one segment (text, speaker); the machine row stays."""

    __tablename__ = "segment_revisions"
    __table_args__ = (UniqueConstraint("recording_id", "segment_index", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"))
    segment_index: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)  # 1 = first correction; 0 is the machine's
    text: Mapped[str] = mapped_column(Text)
    speaker: Mapped[str | None] = mapped_column(String(32))
    edited_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseResult(Base):
    """The persisted output of one workflow step (entities, retrieval, discretion), kept per run."""

    __tablename__ = "case_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    step: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    doc_type: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(64))  # 文号
    version: Mapped[int] = mapped_column(Integer, default=1)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    provenance: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # an issued document is immutable (migration 0006)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, default=None)
    issued_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id"), nullable=True, default=None
    )


class DocumentRevision(Base):
    """One edit of a drafted document: its content, who made it and when."""

    __tablename__ = "document_revisions"
    __table_args__ = (UniqueConstraint("document_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    revision: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(String(500), default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DocNumberCounter(Base):
    """Next 文号 sequence per authority prefix, document kind and year: no gaps, no duplicates."""

    __tablename__ = "doc_number_counters"

    prefix: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class CaseEvent(Base):
    """Append-only trace of every action on a case (who, role, when, what, state before/after)."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case_seq", "case_id", "seq", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    state_before: Mapped[str | None] = mapped_column(String(32))
    state_after: Mapped[str | None] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Tamper evidence: position in the case's chain, the previous event's hash, the
    # SHA-256 of this event's canonical JSON, its Ed25519 signature and the signing key.
    seq: Mapped[int | None] = mapped_column(Integer)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    signature: Mapped[str | None] = mapped_column(String(128))
    key_id: Mapped[str | None] = mapped_column(String(32))
    files: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # The SHA-256 of the content the event records (case snapshot, results, segments,
    # documents), hashed with the event: `record verify` compares them with the rows. NULL on
    # events signed before content commitments existed (migration 0014).
    content: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class SigningKey(Base):
    """An authority public key with its validity period; kept so old records still verify."""

    __tablename__ = "signing_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64))  # raw Ed25519 public key, hex
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OfficerCredential(Base):
    """An enforcement credential (执法证件): number and validity; actions need a valid one."""

    __tablename__ = "officer_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    number: Mapped[str] = mapped_column(String(32), unique=True)
    issued_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Voiceprint(Base):
    """An officer's enrolled voice (GE2E embedding), so their turns in later mono recordings
    are labelled 问 by voice rather than guessed from the text; one per user and model."""

    __tablename__ = "voiceprints"
    __table_args__ = (UniqueConstraint("user_id", "model"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    model: Mapped[str] = mapped_column(String(64))  # encoder name@weights SHA-256 prefix
    embedding: Mapped[list[float]] = mapped_column(JSON)
    seconds: Mapped[float] = mapped_column(Float)  # speech it was computed from
    recording_id: Mapped[int | None] = mapped_column(ForeignKey("recordings.id"))
    speaker: Mapped[str] = mapped_column(String(32))  # the label enrolled from, e.g. 问
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Publication(Base):
    """The public record of one issued decision (行政执法公示): masked fields the officer
    reviewed, its deadline in working days, and — once the decision is revoked, confirmed
    unlawful or remade — its withdrawal with the reason (行政处罚法第四十八条第二款).

    status: draft (masked, not public) | published (in the public feed) | withdrawn (out of
    the feed; the withdrawal notice and reason stay public). Each change is also a signed
    event in the case record. A decision has at most one record that is not withdrawn; after a
    withdrawal as inaccurate (更正) a corrected one is drafted anew."""

    __tablename__ = "publications"
    __table_args__ = (
        Index("ix_publications_status", "status"),
        Index("ix_publications_case_id", "case_id"),
        Index("ix_publications_document_id", "document_id"),
        Index("ix_publications_event_id", "event_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    # what is published: an issued decision (document_id), or a 强制 measure, which is a signed
    # `enforcement_measure` event of the case (event_id; doc_type names the record type)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_events.id", name="fk_publications_event_id")
    )
    doc_type: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # 处罚 | 不予处罚 | 强制 | 许可 | 征收 …
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # masked public fields: party, document_number, facts, basis, result, authority, decided_on
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # what was masked, per field (kind, original span, replacement) — for the officer only
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    decided_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawal_reason: Mapped[str | None] = mapped_column(String(32))
    withdrawal_note: Mapped[str | None] = mapped_column(Text)
    revoked_on: Mapped[date | None] = mapped_column(Date)

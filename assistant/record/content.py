"""What a signed event commits to: the SHA-256 of each piece of case content it records.

An event's `content` maps a reference to a hash: `case.<field>` for every field of the case
snapshot (on every event), `result:<id>` for a step result's payload, `segment:<recording>:
<index>` for each machine transcript segment, `segment_revision:<recording>:<index>:<version>`
for an officer's correction, `document_text:<id>` / `document_file:<id>` for a document's text
and file, `document_revision:<id>:<n>` for each revision, `evidence_file:<id>` for an evidence
file (its SHA-256, name, type, pages) and `evidence_reading:<id>` for its reading (every line
with page, box and confidence). Verification recomputes the same
hashes from the rows and compares them with the latest commitment of each reference, so a
change made directly in the database is caught even though the events themselves are intact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from assistant.db.models import (
    Case,
    CaseResult,
    Document,
    DocumentRevision,
    Evidence,
    Recording,
    SegmentRevision,
    TranscriptSegment,
)
from assistant.money import to_yuan
from assistant.record.canonical import canonical_sha256, text_sha256

# Bookkeeping, not content: the status is checked against the events' states, the head
# against the chain, and the timestamps change on every write.
CASE_BOOKKEEPING = frozenset(
    {"id", "status", "record_length", "record_head", "created_at", "updated_at"}
)
# The taxpayer's identity as the case names it; address and representative may be updated
# by a later case of the same taxpayer, so they are not part of this case's snapshot.
TAXPAYER_FIELDS = ("uscc", "name", "kind")


def case_snapshot(case: Case) -> dict[str, Any]:
    """Reference -> value of every content field of the case (and the taxpayer it names)."""
    out: dict[str, Any] = {}
    for column in inspect(Case).columns:
        if column.key in CASE_BOOKKEEPING:
            continue
        value = getattr(case, column.key)
        out[f"case.{column.key}"] = to_yuan(value) if isinstance(value, Decimal) else value
    for name in TAXPAYER_FIELDS:
        out[f"case.taxpayer.{name}"] = getattr(case.taxpayer, name)
    return out


def row_hashes(row: object) -> dict[str, str]:
    """The references and hashes one recorded row contributes (a recording: its segments)."""
    if isinstance(row, CaseResult):
        return {f"result:{row.id}": canonical_sha256({"step": row.step, "payload": row.payload})}
    if isinstance(row, Recording):
        return {_segment_ref(row.id, s.index): _segment_hash(s) for s in row.segments}
    if isinstance(row, SegmentRevision):
        ref = f"segment_revision:{row.recording_id}:{row.segment_index}:{row.version}"
        return {ref: _segment_revision_hash(row)}
    if isinstance(row, Document):
        return {
            f"document_text:{row.id}": text_sha256(row.text),
            f"document_file:{row.id}": row.sha256,
        }
    if isinstance(row, DocumentRevision):
        ref = f"document_revision:{row.document_id}:{row.revision}"
        return {ref: canonical_sha256({"sha256": row.sha256, "text": text_sha256(row.text)})}
    if isinstance(row, Evidence):
        out = {f"evidence_file:{row.id}": evidence_file_hash(row)}
        if row.status == "read":
            out[f"evidence_reading:{row.id}"] = evidence_reading_hash(row)
        return out
    raise TypeError(f"no content hash for {type(row).__name__}")


def evidence_file_hash(evidence: Evidence) -> str:
    return canonical_sha256(
        {
            "sha256": evidence.sha256,
            "filename": evidence.original_filename,
            "media_type": evidence.media_type,
            "kind": evidence.kind,
            "pages": evidence.pages,
            "title": evidence.title,
        }
    )


def evidence_reading_hash(evidence: Evidence) -> str:
    """The reading as recorded: method, reader (engine, models) and every line."""
    return canonical_sha256(
        {"method": evidence.method, "reader": evidence.reader, "lines": evidence.lines}
    )


def commitments(case: Case, covers: Iterable[object] = ()) -> dict[str, str]:
    """What an event on `case` commits to: the case snapshot plus the rows it records."""
    hashes = {ref: canonical_sha256(value) for ref, value in case_snapshot(case).items()}
    for row in covers:
        hashes.update(row_hashes(row))
    return hashes


def current_content(session: Session, case: Case) -> tuple[dict[str, str], set[str]]:
    """The hashes of everything the case holds now, and the references the record need not
    hold yet (segments of a recording still being transcribed, committed when it finishes)."""
    current = {ref: canonical_sha256(value) for ref, value in case_snapshot(case).items()}
    pending: set[str] = set()
    for result in session.scalars(select(CaseResult).where(CaseResult.case_id == case.id)):
        current.update(row_hashes(result))
    recordings = list(session.scalars(select(Recording).where(Recording.case_id == case.id)))
    for recording in recordings:
        segments = row_hashes(recording)
        current.update(segments)
        if recording.status != "transcribed":
            pending.update(segments)
    if recordings:
        for revision in session.scalars(
            select(SegmentRevision).where(
                SegmentRevision.recording_id.in_([r.id for r in recordings])
            )
        ):
            current.update(row_hashes(revision))
    documents = list(session.scalars(select(Document).where(Document.case_id == case.id)))
    for document in documents:
        current.update(row_hashes(document))
    if documents:
        for doc_revision in session.scalars(
            select(DocumentRevision).where(
                DocumentRevision.document_id.in_([d.id for d in documents])
            )
        ):
            current.update(row_hashes(doc_revision))
    for evidence in session.scalars(select(Evidence).where(Evidence.case_id == case.id)):
        current.update(row_hashes(evidence))
    return current, pending


_LABELS = [
    (re.compile(r"case\.taxpayer\.(\w+)"), "案件记载的纳税人{0}"),
    (re.compile(r"case\.(\w+)"), "案件信息“{0}”"),
    (re.compile(r"result:(\d+)"), "分析结果 {0}"),
    (re.compile(r"segment:(\d+):(\d+)"), "录音 {0} 第 {1} 段转写文字"),
    (re.compile(r"segment_revision:(\d+):(\d+):(\d+)"), "录音 {0} 第 {1} 段的第 {2} 次更正"),
    (re.compile(r"document_text:(\d+)"), "文书 {0} 的文字"),
    (re.compile(r"document_file:(\d+)"), "文书 {0} 的文件"),
    (re.compile(r"document_revision:(\d+):(\d+)"), "文书 {0} 的第 {1} 版"),
    (re.compile(r"evidence_file:(\d+)"), "证据 {0} 的文件信息"),
    (re.compile(r"evidence_reading:(\d+)"), "证据 {0} 的识别文字"),
]


def describe(ref: str) -> str:
    """A reference in words, for the officer reading the verification report."""
    for pattern, label in _LABELS:
        match = pattern.fullmatch(ref)
        if match:
            return label.format(*match.groups())
    return ref


def _segment_ref(recording_id: int, index: int) -> str:
    return f"segment:{recording_id}:{index}"


def _segment_hash(segment: TranscriptSegment) -> str:
    return canonical_sha256(
        {
            "start": segment.start,
            "end": segment.end,
            "text": segment.text,
            "speaker": segment.speaker,
        }
    )


def _segment_revision_hash(revision: SegmentRevision) -> str:
    return canonical_sha256(
        {"text": revision.text, "speaker": revision.speaker, "edited_by": revision.edited_by}
    )

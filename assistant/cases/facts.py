"""Facts read from a case's evidence, proposed to the officer; only confirmed ones enter the case.

Why this split: a proposal is computed from the case's transcripts (as corrected), the lines
of its read evidence documents, recorded 陈述申辩 and its facts text each time it is asked
for, and stored nowhere, so nothing a machine read can reach a decision unseen. A
confirmation goes through the case's own update path (`CaseWorkflow.update_case`: the
creation rules, the editable stages, the handling officer), as one signed `case_updated`
event that carries the confirmed values and the sources they were read from, re-read from
the database rather than taken from the client.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.cases.access import load_case, require_reader
from assistant.cases.transcripts import current_segments
from assistant.db.models import Case, CaseEvent, Evidence, Recording, User
from assistant.errors import InvalidInput, NotFound
from assistant.facts import (
    FIELDS,
    SourceRef,
    SourceText,
    check_evidence,
    find_disputes,
    parse_value,
    propose,
)
from assistant.facts.completeness import Available
from assistant.facts.fields import to_json
from assistant.facts.propose import by_field
from assistant.facts.sources import DocumentPage, align_words, bounding_box

if TYPE_CHECKING:
    from assistant.cases.service import CaseWorkflow

MAX_CONFIRMATIONS = len(FIELDS)
MAX_SOURCES = 20


@dataclass(frozen=True)
class Confirmation:
    """The officer's word on one field: the value (as proposed or corrected) and its sources."""

    field: str
    value: Any
    sources: tuple[SourceRef, ...] = ()
    proposed: Any = None  # the value the machine proposed, when the officer corrected it


def recording_texts(session: Session, recording: Recording) -> list[SourceText]:
    """One text per segment as the officer last left it, with word times for narrow quotes."""
    out = []
    for segment in current_segments(session, recording):
        if not segment.text.strip():
            continue
        ref = SourceRef(
            kind="recording",
            text=segment.text,
            recording_id=recording.id,
            segment_index=segment.index,
            start=round(segment.start, 2),
            end=round(segment.end, 2),
            speaker=segment.speaker,
            version=segment.version,
        )
        words = [(w.word, w.start, w.end) for w in segment.words]
        out.append(SourceText.of(ref, align_words(segment.text, words)))
    return out


def evidence_texts(evidence: Evidence) -> list[DocumentPage]:
    """One text per page of a read evidence document (a DOCX, which has no pages: one), its
    lines in reading order, each keeping its box (PDF points or image pixels)."""
    pages: dict[int | None, list[tuple[str, Any]]] = {}
    for line in evidence.lines:
        text = str(line.get("text") or "")
        pages.setdefault(line.get("page"), []).append((text, bounding_box(line.get("box"))))
    return [DocumentPage.of_lines(evidence.id, page, lines) for page, lines in pages.items()]


def case_evidence(session: Session, case: Case) -> list[Evidence]:
    """The case's evidence documents whose reading has finished, in upload order."""
    return list(
        session.scalars(
            select(Evidence)
            .where(Evidence.case_id == case.id, Evidence.status == "read")
            .order_by(Evidence.id)
        )
    )


def case_texts(session: Session, case: Case) -> list[SourceText]:
    """Every text of the case a fact can be read from: transcribed recordings, the lines of
    read evidence documents (page by page), recorded 陈述申辩 and the facts the officer wrote."""
    texts: list[SourceText] = []
    for recording in session.scalars(
        select(Recording)
        .where(Recording.case_id == case.id, Recording.status == "transcribed")
        .order_by(Recording.id)
    ):
        texts.extend(recording_texts(session, recording))
    for evidence in case_evidence(session, case):
        texts.extend(evidence_texts(evidence))
    for event in session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.action == "statement_recorded")
        .order_by(CaseEvent.seq)
    ):
        statement = (event.details or {}).get("statement")
        if statement:
            ref = SourceRef(kind="statement", text=str(statement), event_seq=event.seq)
            texts.append(SourceText.of(ref))
    texts.append(SourceText.of(SourceRef(kind="case_facts", text=case.facts)))
    return texts


def confirmed_facts(session: Session, case_id: int) -> dict[str, dict[str, Any]]:
    """The latest confirmation of each field in the signed record (value and sources)."""
    out: dict[str, dict[str, Any]] = {}
    for event in session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case_id, CaseEvent.action == "case_updated")
        .order_by(CaseEvent.seq)
    ):
        for item in (event.details or {}).get("confirmed_facts") or ():
            out[item["field"]] = item
    return out


class CaseFacts:
    """Proposals, confirmations and the evidence check of one workflow."""

    def __init__(self, workflow: CaseWorkflow) -> None:
        self.workflow = workflow
        self.services = workflow.services

    def proposals(
        self, actor: User, case_id: int, extra: Sequence[SourceText] = ()
    ) -> dict[str, Any]:
        """What the case's texts (and `extra`: document text with its source) state, per field
        with every candidate and its sources, and the party's points of dispute. Stored
        nowhere; any reader of the case may ask."""
        with self.services.db.session() as session:
            case = load_case(session, case_id)
            require_reader(actor, case)
            texts = [*case_texts(session, case), *extra]
            violation, on = case.violation_code, case.violation_date
        fields = by_field(propose(texts))
        disputes = find_disputes(texts, violation=violation, on=on)
        return {
            "case_id": case_id,
            "stored": False,
            "sources_read": len(texts),
            "fields": [f.to_dict() for f in fields],
            "disputes": [d.to_dict() for d in disputes],
        }

    def _checked_source(self, session: Session, case: Case, source: SourceRef) -> SourceRef:
        """A source as the record will keep it: a segment or statement of this case, its text
        and times read again from the database (the quote must still be in it)."""
        if source.kind == "recording":
            recording = session.get(Recording, source.recording_id or 0)
            if recording is None or recording.case_id != case.id:
                raise NotFound(
                    "source_not_found",
                    f"本案没有录音 {source.recording_id}。",
                    details={"recording_id": source.recording_id},
                )
            for text in recording_texts(session, recording):
                if text.source.segment_index == source.segment_index:
                    return _with_quote(text, source)
            raise NotFound(
                "source_not_found",
                f"录音 {source.recording_id} 没有第 {source.segment_index} 段。",
                details={"recording_id": source.recording_id, "segment": source.segment_index},
            )
        if source.kind == "statement":
            for text in case_texts(session, case):
                if text.source.kind == "statement" and text.source.event_seq == source.event_seq:
                    return _with_quote(text, source)
            raise NotFound(
                "source_not_found",
                f"本案记录中没有第 {source.event_seq} 号陈述申辩。",
                details={"event_seq": source.event_seq},
            )
        if source.kind == "case_facts":
            return _with_quote(SourceText.of(SourceRef("case_facts", case.facts)), source)
        if source.document_id is not None:
            return _document_source(session, case, source)
        if not source.text.strip():
            raise InvalidInput(
                "invalid_source", "文书来源须包含所引用的文字。", details={"kind": source.kind}
            )
        return source  # a document text the client gave (not an uploaded evidence file)

    def confirm(self, actor: User, case_id: int, confirmations: Sequence[Confirmation]) -> Case:
        """Apply the confirmed values through the case update path as one signed event."""
        if not confirmations:
            raise InvalidInput("nothing_to_confirm", "请至少确认一项事实。")
        if len({c.field for c in confirmations}) != len(confirmations):
            raise InvalidInput("duplicate_fact_field", "同一事实字段只能确认一次。")
        changes: dict[str, Any] = {}
        confirmed: list[dict[str, Any]] = []
        with self.services.db.session() as session:
            case = load_case(session, case_id)
            for c in confirmations:
                value = parse_value(c.field, c.value)
                sources = [self._checked_source(session, case, s) for s in c.sources]
                spec = FIELDS[c.field]
                if spec.case_field is not None:
                    changes[spec.case_field] = value
                entry: dict[str, Any] = {
                    "field": c.field,
                    "value": to_json(value),
                    "sources": [s.to_dict() for s in sources],
                    "in_case": spec.case_field is not None,
                }
                if c.proposed is not None:
                    entry["proposed"] = c.proposed
                    entry["corrected"] = to_json(value) != c.proposed
                confirmed.append(entry)
        return self.workflow.update_case(actor, case_id, changes, confirmed=confirmed)

    def evidence_check(self, actor: User, case_id: int) -> dict[str, Any]:
        """The requirements of the case's violation type, met or missing, with the open points
        of dispute (a review must answer them)."""
        with self.services.db.session() as session:
            case = load_case(session, case_id)
            require_reader(actor, case)
            confirmed = confirmed_facts(session, case.id)
            facts = _known_facts(case)
            for name, item in confirmed.items():
                facts[name] = item["value"]
            recordings = {
                r.id: r.original_filename
                for r in session.scalars(
                    select(Recording)
                    .where(Recording.case_id == case.id, Recording.status == "transcribed")
                    .order_by(Recording.id)
                )
            }
            texts = case_texts(session, case)
            available = Available(
                facts=facts,
                evidence=tuple(case.evidence or ()),
                recordings=recordings,
                fact_sources={n: i.get("sources") or [] for n, i in confirmed.items()},
            )
            violation, on = case.violation_code, case.violation_date
        result = check_evidence(violation, on, available).to_dict()
        disputes = find_disputes(texts, violation=violation, on=on)
        result["case_id"] = case_id
        result["disputes"] = [d.to_dict() for d in disputes]
        return result


def _with_quote(text: SourceText, asked: SourceRef) -> SourceRef:
    """The stored unit, narrowed to the quote the client named when it is still there."""
    if asked.span is not None:
        start, end = asked.span
        quote = asked.text[start:end] if asked.text else ""
        if 0 <= start <= end <= len(text.text) and text.text[start:end] == quote:
            return text.quote(start, end)
        raise InvalidInput(
            "source_changed",
            "所引用的文字与当前记录不一致（转写可能已更正），请重新获取建议后再确认。",
            details={"quote": quote[:100]},
        )
    return text.source


def _document_source(session: Session, case: Case, asked: SourceRef) -> SourceRef:
    """A line (or lines) of an evidence document of this case, text and box re-read from the
    stored reading; the quote must sit where the client says it does."""
    evidence = session.get(Evidence, asked.document_id or 0)
    if evidence is None or evidence.case_id != case.id or evidence.status != "read":
        raise NotFound(
            "source_not_found",
            f"本案没有已识别的证据文件 {asked.document_id}。",
            details={"document_id": asked.document_id},
        )
    for page in evidence_texts(evidence):
        if page.source.page != asked.page:
            continue
        at = page.find(asked.text, asked.box)
        if at is None:
            continue
        start, end = asked.span or (0, len(asked.text))
        if 0 <= start <= end <= len(asked.text):
            return page.quote(at + start, at + end)
    raise NotFound(
        "source_not_found",
        f"证据文件 {asked.document_id} 第 {asked.page} 页没有所引用的文字。",
        details={"document_id": asked.document_id, "page": asked.page, "quote": asked.quote[:100]},
    )


def _known_facts(case: Case) -> dict[str, Any]:
    """Case columns that hold a value (a zero amount or count is not a finding)."""
    values: dict[str, Any] = {
        "violation": case.violation_code,
        "violation_date": case.violation_date,
        "discovery_date": case.discovered_date,
        "days_overdue": case.days_overdue or None,
        "tax_payable": case.tax_payable,
        "tax_unpaid": case.tax_unpaid or None,
        "invoice_amount": case.invoice_amount or None,
        "invoice_tax_amount": case.invoice_tax_amount or None,
        "illegal_gains": case.illegal_gains or None,
        "party_role": case.party_role,
    }
    return {name: value for name, value in values.items() if value is not None}

"""Publication records of issued decisions and of recorded 强制 measures: draft (masked),
officer review, publish, withdraw.

Why here and not in the documents: the public record is its own thing — the fields the
publication requires (party, 文号, facts, basis, result, authority, date) taken from the case
record and the issued text, with natural persons' data masked — and its life (published within
a period of working days, withdrawn within three when the decision is revoked, 行政处罚法第四十
八条) is recorded as signed events of the case, so `record verify` covers it. A measure has no
document: its record is built from its signed `enforcement_measure` event, with the fields of its
own record type (corpora/publicity/rules.yaml, records).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.auth.security import Role
from assistant.cases.access import lock_case, require_role
from assistant.cases.events import record_action
from assistant.cases.revisions import DocumentRevisions
from assistant.config import Settings
from assistant.dates import to_china_time, today_in_china
from assistant.db.models import Case, CaseEvent, Document, Publication, User
from assistant.db.types import utcnow
from assistant.documents.kind import Publicity
from assistant.documents.registry import PUBLISHED_TYPES
from assistant.drafting.documents import SEAL_PLACEHOLDER
from assistant.drafting.numerals import chinese_date
from assistant.errors import Conflict, InvalidInput, NotFound
from assistant.publicity.redaction import IDENTIFIER_KINDS, Redactor, redact_fields
from assistant.publicity.rules import load_rules
from assistant.publicity.workdays import Deadline, load_calendar, year_missing_warning
from assistant.record import canonical_sha256
from assistant.services import Services

# The public fields, in the order a published decision shows them (corpora/publicity/rules.yaml,
# records.decision); officers may correct facts, basis and result during review, the party,
# 文号, authority and date come from the record.
FIELDS = tuple(load_rules().records["decision"].fields)
EDITABLE = load_rules().records["decision"].editable
# The record type of a 强制 measure's publication (its row's doc_type; it has no document).
MEASURE_RECORD = "enforcement_measure"
MEASURE_EVENT = "enforcement_measure"  # the signed event that records a measure
PUBLISHERS = (Role.OFFICER, Role.APPROVER, Role.ADMIN)
# the withdrawal reason after which the decision is published again, corrected (更正)
CORRECTION = "inaccurate"

_HEADING = re.compile(r"^[一二三四五六七八九十]+、")
_CITATION = re.compile(
    r"《[^》]{2,40}》(?:第[零一二三四五六七八九十百]+条(?:第[一二三四五六七八九十]+款)?"
    r"(?:第[（(][一二三四五六七八九十]+[)）]项)?[、和及]?)*"
)
_TRAILER = ("以上应缴", "限你", "限该", "如对本决定不服", "如对处罚决定", "如你", "到期不缴纳")


@dataclass(frozen=True)
class SourceFields:
    """The public fields before masking, and what the masking must leave alone."""

    fields: dict[str, str]
    persons: tuple[str, ...]  # names of natural persons the record holds (masked everywhere)
    keep: tuple[str, ...]  # organisation data shown as it is


def record_type(row: Publication) -> str:
    """`decision` for an issued decision's record, `enforcement_measure` for a measure's."""
    return MEASURE_RECORD if row.event_id is not None else "decision"


def record_fields(row: Publication) -> tuple[str, ...]:
    return tuple(load_rules().records[record_type(row)].fields)


def measure_publicity() -> Publicity:
    """How a 强制 measure is published: kind and period from the rules (records)."""
    record = load_rules().records[MEASURE_RECORD]
    period: Any = record.period or "other"
    return Publicity(kind=record.kind, period=period)


def decision_date(document: Document) -> date:
    assert document.issued_at is not None
    return to_china_time(document.issued_at).date()


def period_days(settings: Settings, publicity: Publicity) -> int:
    if publicity.period == "decision":
        return settings.publication_working_days
    return settings.publication_other_working_days


def publication_deadline(settings: Settings, publicity: Publicity, decided_on: date) -> Deadline:
    return load_calendar().add_working_days(decided_on, period_days(settings, publicity))


def _sections(text: str) -> list[list[str]]:
    """Paragraphs grouped under their 一、二、… headings (group 0: before the first)."""
    groups: list[list[str]] = [[]]
    for line in (ln.strip() for ln in text.splitlines()):
        if not line:
            continue
        if _HEADING.match(line) and len(line) <= 30:
            groups.append([])
            continue
        groups[-1].append(line)
    return groups


def _citations(text: str) -> str:
    seen: list[str] = []
    for m in _CITATION.finditer(text):
        cite = m.group().rstrip("、和及")
        if cite not in seen and "第" in cite:
            seen.append(cite)
    return "；".join(seen)


def source_fields(case: Case, document: Document, settings: Settings) -> SourceFields:
    """The fields the publication requires, from the issued text and the case record."""
    decided_on = decision_date(document)
    # the signature block (authority, seal, the date in words) is not part of the result
    signature = {settings.authority_name, SEAL_PLACEHOLDER, chinese_date(decided_on)}
    groups = _sections(document.text)
    if len(groups) >= 3:
        facts_lines = []
        for line in groups[1]:
            if line.startswith("上述违法事实"):
                break
            facts_lines.append(line)
        facts = "\n".join(facts_lines) or case.facts
        result_lines = [
            ln for ln in groups[2] if not ln.startswith(_TRAILER) and ln not in signature
        ]
    else:  # one-block documents (当场处罚): the facts from the record, the decision lines
        facts = case.facts
        result_lines = [
            ln
            for ln in document.text.splitlines()
            if ("罚款" in ln or "决定" in ln) and not ln.startswith(_TRAILER) and "依据" in ln
        ]
    result = "\n".join(result_lines).strip()
    party, persons, keep = party_line(case)
    fields = {
        "party": party,
        "document_number": document.number,
        "facts": facts.strip(),
        "basis": _citations(result) or _citations(document.text),
        "result": result or "见决定书",
        "authority": settings.authority_name,
        "decided_on": decided_on.isoformat(),
    }
    return SourceFields(fields, tuple(persons), tuple(keep))


def party_line(case: Case) -> tuple[str, list[str], list[str]]:
    """The party as published, the persons to mask and the organisation data to keep."""
    taxpayer = case.taxpayer
    if taxpayer.kind == "individual":
        return taxpayer.name, [taxpayer.name], []
    keep = [x for x in (taxpayer.name, taxpayer.uscc, taxpayer.legal_representative) if x]
    party = f"{taxpayer.name}（统一社会信用代码：{taxpayer.uscc}）"
    if taxpayer.legal_representative:
        party += f"，法定代表人：{taxpayer.legal_representative}"
    return party, [], keep


def measure_fields(case: Case, event: CaseEvent, settings: Settings) -> SourceFields:
    """A 强制 measure's public record, from its signed event (measure, method, article, the
    文书 and its 文号 as recorded) and the case's party: no officer's note, no amount."""
    details = event.details or {}
    party, persons, keep = party_line(case)
    document = str(details.get("document") or "")
    number = str(details.get("document_number") or "")
    fields = {
        "party": party,
        "document_number": f"{document}（{number}）" if number else document,
        "measure": str(details.get("measure_name") or ""),
        "method": str(details.get("method_name") or ""),
        "basis": str(details.get("source") or ""),
        "authority": settings.authority_name,
        "decided_on": str(details.get("on") or ""),
    }
    return SourceFields(fields, tuple(persons), tuple(keep))


def redactor_for(source: SourceFields) -> Redactor:
    """Masks the persons the record names (the individual party too, unless the rules show
    it) and leaves the organisation's own data alone."""
    persons = source.persons if load_rules().party_person == "mask" else ()
    return Redactor(persons, keep=source.keep)


def mask(source: SourceFields) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Mask every text field (the date is no personal data)."""
    text_fields = {k: v for k, v in source.fields.items() if k != "decided_on"}
    masked, findings = redact_fields(text_fields, redactor_for(source))
    return {**source.fields, **masked}, findings


def due_warning(row: Publication) -> dict[str, Any] | None:
    """The calendar's warning for a deadline counted through a year it has no notice for."""
    if not row.due_provisional:
        return None
    years = load_calendar().missing_years(row.decided_on, row.due_on)
    return year_missing_warning(years, row.due_on)


def to_dict(row: Publication, *, internal: bool) -> dict[str, Any]:
    """The publication as the officer (internal: findings, status, deadline) or the public
    sees it."""
    out: dict[str, Any] = {
        "id": row.id,
        "kind": row.kind,
        "doc_type": row.doc_type,
        "record_type": record_type(row),
        "fields": {k: row.fields.get(k, "") for k in record_fields(row)},
        "published_at": row.published_at.isoformat() if row.published_at else None,
    }
    if internal:
        out.update(
            case_id=row.case_id,
            document_id=row.document_id,
            event_id=row.event_id,
            status=row.status,
            decided_on=row.decided_on.isoformat(),
            due_on=row.due_on.isoformat(),
            due_provisional=row.due_provisional,
            due_warning=due_warning(row),
            overdue=row.status == "draft" and today_in_china() > row.due_on,
            findings=row.findings,
            withdrawn_at=row.withdrawn_at.isoformat() if row.withdrawn_at else None,
            withdrawal_reason=row.withdrawal_reason,
            withdrawal_note=row.withdrawal_note,
            revoked_on=row.revoked_on.isoformat() if row.revoked_on else None,
        )
    return out


def _publication(session: Session, publication_id: int) -> Publication:
    row = session.get(Publication, publication_id)
    if row is None:
        raise NotFound(
            "publication_not_found",
            f"公示记录 {publication_id} 不存在。",
            details={"publication_id": publication_id},
        )
    return row


def _locked(
    session: Session, publication_id: int, status: str, code: str, message: str
) -> tuple[Publication, Case]:
    """The publication and its case under the case's lock, re-read, in `status` (else 409
    `code`): two requests on one publication cannot both pass the status check."""
    row = _publication(session, publication_id)
    case = lock_case(session, row.case_id)
    session.refresh(row)
    if row.status != status:
        raise Conflict(code, message, details={"status": row.status})
    return row, case


def _enabled(settings: Settings, publicity: Publicity) -> bool:
    enabled = {k.strip() for k in settings.publication_optional_kinds.split(",") if k.strip()}
    return not publicity.optional or publicity.kind in enabled


def _record(
    services: Services,
    session: Session,
    case: Case,
    actor: User,
    action: str,
    row: Publication,
    **extra: Any,
) -> None:
    record_action(
        services,
        session,
        case,
        actor,
        action,
        case.status,
        case.status,
        {
            "publication_id": row.id,
            "document_id": row.document_id,
            **({"measure_event_id": row.event_id} if row.event_id is not None else {}),
            "document_number": row.fields.get("document_number"),
            "status": row.status,
            "fields_sha256": canonical_sha256(row.fields),
            **extra,
        },
    )


def redraft_refusal(rows: list[Publication], what: str) -> Conflict | None:
    """Why a decision's or a measure's record (`rows`: all it ever had) cannot be drafted now,
    or None: one that is a draft or published already (409 `publication_exists`), or one
    withdrawn for good — its decision or measure revoked, changed, confirmed unlawful or void,
    or remade — (409 `publication_withdrawn_for_good`). Only a withdrawal as inaccurate (更正)
    asks for a new draft; the withdrawn record stays on record beside it."""
    for row in rows:
        if row.status != "withdrawn":
            return Conflict(
                "publication_exists",
                f"该{what}已有公示记录（{'草稿' if row.status == 'draft' else '已公开'}）。",
                details={"publication_id": row.id, "status": row.status},
            )
    for row in rows:
        reason = row.withdrawal_reason or ""
        if reason != CORRECTION:
            return Conflict(
                "publication_withdrawn_for_good",
                f"该{what}的公示已撤回（{load_rules().withdrawal_reasons.get(reason, reason)}），"
                "不能再次公示；只有因公示内容不准确而撤回的，才重新生成公示稿。",
                details={"publication_id": row.id, "reason": row.withdrawal_reason},
            )
    return None


def records_of(
    session: Session, *, document_id: int | None = None, event_id: int | None = None
) -> list[Publication]:
    """Every record a decision (`document_id`) or a 强制 measure (`event_id`) ever had."""
    column = Publication.event_id if event_id is not None else Publication.document_id
    key = event_id if event_id is not None else document_id
    return list(session.scalars(select(Publication).where(column == key).order_by(Publication.id)))


def draft_publication(
    services: Services,
    actor: User,
    document_id: int | None = None,
    *,
    measure_event_id: int | None = None,
    case_id: int | None = None,
) -> dict[str, Any]:
    """The masked draft of an issued decision's public record, or of a recorded 强制 measure's
    (`measure_event_id`: its `enforcement_measure` event), for the officer to review: the one
    way to draft again after a withdrawal as inaccurate (`redraft_refusal`). `case_id`, where
    the caller names the case, must be the decision's or measure's (else 404)."""
    require_role(actor, *PUBLISHERS)
    if (document_id is None) == (measure_event_id is None):
        raise InvalidInput(
            "invalid_publication_source",
            "请指明一份已签发的决定书（document_id）或一项已登记的强制措施（measure_event_id），"
            "二者只能选一。",
            details={"document_id": document_id, "measure_event_id": measure_event_id},
        )
    with services.db.session() as session:
        if measure_event_id is not None:
            event = session.get(CaseEvent, measure_event_id)
            if (
                event is None
                or event.action != MEASURE_EVENT
                or case_id not in (None, event.case_id)
            ):
                raise NotFound(
                    "measure_not_found",
                    f"强制措施 {measure_event_id} 不存在（应为本案已登记的强制措施）。",
                    details={"measure_event_id": measure_event_id, "case_id": case_id},
                )
            case = lock_case(session, event.case_id)  # two drafts of one measure queue up here
            refusal = redraft_refusal(records_of(session, event_id=event.id), "强制措施")
            if refusal is not None:
                raise refusal
            row = draft_measure_in(services, session, actor, case, event, automatic=False)
            return to_dict(row, internal=True)
        document = session.get(Document, document_id)
        if document is None or case_id not in (None, document.case_id):
            raise NotFound(
                "document_not_found",
                f"文书 {document_id} 不存在。",
                details={"document_id": document_id},
            )
        publicity = PUBLISHED_TYPES.get(document.doc_type)
        if publicity is None:
            raise Conflict(
                "not_publishable",
                "该类文书不属于需要公示的执法决定。",
                details={"document_id": document_id, "doc_type": document.doc_type},
            )
        if not _enabled(services.settings, publicity):
            raise Conflict(
                "publication_kind_not_enabled",
                f"本局未公示“{publicity.kind}”类决定（设置 publication_optional_kinds）。",
                details={"kind": publicity.kind},
            )
        if document.issued_at is None:
            raise Conflict(
                "document_not_issued",
                "文书尚未签发，不能公示。",
                details={"document_id": document_id},
            )
        case = lock_case(session, document.case_id)  # two drafts of one decision queue up here
        refusal = redraft_refusal(records_of(session, document_id=document.id), "文书")
        if refusal is not None:
            raise refusal
        row = draft_in(services, session, actor, case, document, publicity)
        return to_dict(row, internal=True)


def draft_in(
    services: Services,
    session: Session,
    actor: User,
    case: Case,
    document: Document,
    publicity: Publicity,
    *,
    automatic: bool = False,
) -> Publication:
    """Build, mask and store the draft inside the caller's transaction (the case locked), and
    sign `publication_drafted`; the deadline runs from the decision's date, not the draft's."""
    return _store_draft(
        services,
        session,
        actor,
        case,
        source_fields(case, document, services.settings),
        publicity,
        decision_date(document),
        automatic=automatic,
        doc_type=document.doc_type,
        document_id=document.id,
    )


def draft_measure_in(
    services: Services,
    session: Session,
    actor: User,
    case: Case,
    event: CaseEvent,
    *,
    automatic: bool = True,
) -> Publication:
    """The masked draft of a 强制 measure's public record, inside the caller's transaction (the
    case locked): the one that records the measure (`automatic`), or the officer's new draft
    after a withdrawal as inaccurate. Signed `publication_drafted`; its deadline from the
    measure's date by the rules' period for 强制 records."""
    source = measure_fields(case, event, services.settings)
    return _store_draft(
        services,
        session,
        actor,
        case,
        source,
        measure_publicity(),
        date.fromisoformat(source.fields["decided_on"]),
        automatic=automatic,
        doc_type=MEASURE_RECORD,
        event_id=event.id,
    )


def _store_draft(
    services: Services,
    session: Session,
    actor: User,
    case: Case,
    source: SourceFields,
    publicity: Publicity,
    decided_on: date,
    *,
    automatic: bool,
    doc_type: str,
    document_id: int | None = None,
    event_id: int | None = None,
) -> Publication:
    """Mask `source`, store it as a draft due the rules' period after `decided_on`, and sign
    `publication_drafted`: one way for a decision's record and a measure's alike."""
    fields, findings = mask(source)
    deadline = publication_deadline(services.settings, publicity, decided_on)
    row = Publication(
        case_id=case.id,
        document_id=document_id,
        event_id=event_id,
        doc_type=doc_type,
        kind=publicity.kind,
        status="draft",
        fields=fields,
        findings=findings,
        decided_on=decided_on,
        due_on=deadline.due_on,
        due_provisional=deadline.provisional,
        created_by=actor.id,
    )
    session.add(row)
    session.flush()
    extra = {"automatic": True} if automatic else {}
    _record(services, session, case, actor, "publication_drafted", row, **extra)
    return row


def issue_decision(
    services: Services, actor: User, document_id: int
) -> tuple[Document, dict[str, Any] | None]:
    """签发, and for a decision that is published (its registry type has `publicity`, the kind
    enabled here) its masked draft made in the same transaction: the issue and the draft are
    committed together or not at all, and the officer only reviews and publishes. Returns the
    issued document and the draft (None for a document that is not published)."""
    views: list[dict[str, Any]] = []

    def then(session: Session, case: Case, document: Document) -> None:
        publicity = PUBLISHED_TYPES.get(document.doc_type)
        if publicity is None or not _enabled(services.settings, publicity):
            return
        row = draft_in(services, session, actor, case, document, publicity, automatic=True)
        views.append(to_dict(row, internal=True))

    document = DocumentRevisions(services).issue(actor, document_id, then=then)
    return document, (views[0] if views else None)


def revise_publication(
    services: Services, actor: User, publication_id: int, changes: dict[str, str]
) -> dict[str, Any]:
    """The officer's review: corrected facts, basis or result, masked again before saving."""
    require_role(actor, *PUBLISHERS)
    with services.db.session() as session:
        row, case = _locked(
            session, publication_id, "draft", "publication_not_draft", "只能修改未公开的草稿。"
        )
        editable = load_rules().records[record_type(row)].editable
        unknown = sorted(set(changes) - editable)
        if unknown:
            allowed = "、".join(load_rules().records[record_type(row)].fields[f] for f in editable)
            raise InvalidInput(
                "field_not_editable",
                (f"只能修改{allowed}" if allowed else "强制措施的公示内容均取自签名记录，不能修改")
                + "："
                + "、".join(unknown)
                + " 取自案件记录。",
                details={"fields": unknown, "editable": sorted(editable)},
            )
        source = _source_of(session, case, row, services.settings)
        masked, found = redact_fields(
            {k: v.strip() for k, v in changes.items()}, redactor_for(source)
        )
        row.fields = {**row.fields, **masked}
        # earlier findings of the fields not changed now stay, for the review
        row.findings = [f for f in row.findings if f.get("field") not in changes] + found
        session.flush()
        return to_dict(row, internal=True)


def _source_of(session: Session, case: Case, row: Publication, settings: Settings) -> SourceFields:
    """The unmasked fields the row was drafted from (its decision's text, or its measure)."""
    if row.event_id is not None:
        event = session.get(CaseEvent, row.event_id)
        assert event is not None
        return measure_fields(case, event, settings)
    document = session.get(Document, row.document_id)
    assert document is not None
    return source_fields(case, document, settings)


def remaining_identifiers(fields: dict[str, Any]) -> list[dict[str, Any]]:
    """Identifiers the masking still finds in the (already masked) fields: must be none. The
    party line is the record's own (an organisation's code is shown), so it is not re-read."""
    found = []
    redactor = Redactor(keep=(str(fields.get("party", "")),))
    for key, value in fields.items():
        for f in redactor.find(str(value)):
            if f.kind in IDENTIFIER_KINDS:
                found.append({"field": key, "kind": f.kind})
    return found


def publish(services: Services, actor: User, publication_id: int) -> dict[str, Any]:
    """Put the reviewed draft in the public feed (and sign the act in the case record)."""
    require_role(actor, *PUBLISHERS)
    with services.db.session() as session:
        row, case = _locked(
            session, publication_id, "draft", "publication_not_draft", "该公示记录不是草稿。"
        )
        remaining = remaining_identifiers(row.fields)
        if remaining:
            raise Conflict(
                "personal_data_remaining",
                "公示内容中仍有未遮蔽的个人信息，请先审核修改。",
                details={"found": remaining},
            )
        row.status = "published"
        row.published_at = utcnow()
        row.published_by = actor.id
        session.flush()
        late = today_in_china() > row.due_on
        _record(services, session, case, actor, "publication_published", row, late=late)
        return to_dict(row, internal=True)


def check_withdrawal(reason: str, revoked_on: date | None) -> None:
    """The reason must be one the rules list; the revocation cannot lie in the future."""
    rules = load_rules()
    if reason not in rules.withdrawal_reasons:
        raise InvalidInput(
            "invalid_withdrawal_reason",
            "撤回理由不在规定范围内。",
            details={"reason": reason, "allowed": sorted(rules.withdrawal_reasons)},
        )
    if revoked_on is not None and revoked_on > today_in_china():
        raise InvalidInput(
            "invalid_revoked_on",
            "原决定被撤销（变更、确认违法）的日期不能晚于今天。",
            details={"revoked_on": revoked_on.isoformat()},
        )


def withdraw(
    services: Services,
    actor: User,
    publication_id: int,
    *,
    reason: str,
    note: str,
    revoked_on: date | None,
) -> dict[str, Any]:
    """Take a published decision out of the feed: revoked, changed, confirmed unlawful or void,
    remade, or inaccurate; the reason is published with the withdrawal (第四十八条第二款)."""
    require_role(actor, *PUBLISHERS)
    check_withdrawal(reason, revoked_on)
    with services.db.session() as session:
        row, case = _locked(
            session,
            publication_id,
            "published",
            "publication_not_published",
            "只能撤回已公开的记录。",
        )
        withdraw_in(
            services, session, actor, case, row, reason=reason, note=note, revoked_on=revoked_on
        )
        return to_dict(row, internal=True)


def withdraw_in(
    services: Services,
    session: Session,
    actor: User,
    case: Case,
    row: Publication,
    *,
    reason: str,
    note: str,
    revoked_on: date | None,
    **extra: Any,
) -> None:
    """Withdraw a published record (or a draft whose decision was revoked) inside the caller's
    transaction (the case locked, the reason checked) and sign `publication_withdrawn` with the
    3-working-day deadline."""
    rules = load_rules()
    row.status = "withdrawn"
    row.withdrawn_at = utcnow()
    row.withdrawn_by = actor.id
    row.withdrawal_reason = reason
    row.withdrawal_note = note.strip() or None
    row.revoked_on = revoked_on
    session.flush()
    due = None
    if revoked_on is not None:
        due = load_calendar().add_working_days(
            revoked_on, services.settings.withdrawal_working_days
        )
    _record(
        services,
        session,
        case,
        actor,
        "publication_withdrawn",
        row,
        reason=reason,
        note=row.withdrawal_note,
        revoked_on=revoked_on.isoformat() if revoked_on else None,
        withdraw_due_on=due.due_on.isoformat() if due else None,
        late=bool(due and today_in_china() > due.due_on),
        source=rules.withdraw_source,
        **extra,
    )


def get_publication(services: Services, actor: User, publication_id: int) -> dict[str, Any]:
    with services.db.session() as session:
        return to_dict(_publication(session, publication_id), internal=True)


def list_publications(services: Services, status: str | None = None) -> list[dict[str, Any]]:
    with services.db.session() as session:
        query = select(Publication).order_by(Publication.id)
        if status is not None:
            query = query.where(Publication.status == status)
        return [to_dict(row, internal=True) for row in session.scalars(query)]


def latest_of_case(services: Services, case_id: int) -> dict[int, dict[str, Any]]:
    """Each decision's latest public record in a case, by document id: what the case page links
    to its document lines (a measure's line has its own, `outcomes.service.form_state`)."""
    with services.db.session() as session:
        rows = session.scalars(
            select(Publication).where(Publication.case_id == case_id).order_by(Publication.id)
        )
        return {
            row.document_id: {"id": row.id, "status": row.status}
            for row in rows
            if row.document_id is not None
        }


def alerts(services: Services, on: date | None = None) -> list[dict[str, Any]]:
    """Issued decisions and recorded 强制 measures still to publish (no record, or a draft),
    with their deadline in working days and whether it has passed; the nearest first."""
    today = on or today_in_china()
    calendar = load_calendar()
    out: list[dict[str, Any]] = []
    with services.db.session() as session:
        rows = list(session.scalars(select(Publication).order_by(Publication.id)))
        # done: published, or withdrawn for good (an inaccurate one is to be published again)
        settled = [
            p
            for p in rows
            if p.status == "published"
            or (p.status == "withdrawn" and p.withdrawal_reason != CORRECTION)
        ]
        done = {p.document_id for p in settled if p.document_id is not None}
        drafts = {p.document_id: p for p in rows if p.status == "draft"}
        documents = session.scalars(
            select(Document).where(
                Document.doc_type.in_(list(PUBLISHED_TYPES)), Document.issued_at.is_not(None)
            )
        )

        def alert(
            publicity: Publicity, decided_on: date, draft: Publication | None, **what: Any
        ) -> None:
            deadline = publication_deadline(services.settings, publicity, decided_on)
            left = calendar.working_days_between(today, deadline.due_on)
            out.append(
                {
                    **what,
                    "kind": publicity.kind,
                    "decided_on": decided_on.isoformat(),
                    "due_on": deadline.due_on.isoformat(),
                    "due_provisional": deadline.provisional,
                    "due_warning": deadline.warning,
                    "working_days_left": left if today <= deadline.due_on else 0,
                    "overdue": today > deadline.due_on,
                    "publication_id": draft.id if draft else None,
                }
            )

        for document in documents:
            publicity = PUBLISHED_TYPES[document.doc_type]
            if document.id in done or not _enabled(services.settings, publicity):
                continue
            alert(
                publicity,
                decision_date(document),
                drafts.get(document.id),
                document_id=document.id,
                event_id=None,
                case_id=document.case_id,
                document_number=document.number,
            )
        # 强制 measures: each is drafted when recorded; those not yet published (again, after a
        # withdrawal as inaccurate)
        measure_done = {p.event_id for p in settled if p.event_id is not None}
        measure_drafts = {
            p.event_id: p for p in rows if p.event_id is not None and p.status == "draft"
        }
        measures = session.scalars(
            select(CaseEvent).where(CaseEvent.action == MEASURE_EVENT).order_by(CaseEvent.id)
        )
        for event in measures:
            if event.id in measure_done:
                continue
            draft = measure_drafts.get(event.id)
            details = event.details or {}
            alert(
                measure_publicity(),
                date.fromisoformat(str(details["on"])),
                draft,
                document_id=None,
                event_id=event.id,
                case_id=event.case_id,
                document_number=(
                    draft.fields.get("document_number")
                    if draft
                    else str(details.get("document_number") or details.get("measure_name"))
                ),
            )
    return sorted(out, key=lambda a: (a["due_on"], a["document_id"] or 0, a["event_id"] or 0))

"""The case workflow: each step is a plain call that persists its result and leaves a trace."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, raiseload

from assistant.auth.security import Role
from assistant.cases.access import (
    READER_ROLES,
    latest_result,
    load_case,
    lock_case,
    require_handler,
    require_reader,
    require_role,
)
from assistant.cases.drafts import draft_in, prerender
from assistant.cases.events import record_action
from assistant.cases.inputs import EDITABLE_FIELDS, NewCase
from assistant.cases.lifecycle import INITIAL_STAGE, CaseLifecycle
from assistant.cases.queries import CaseFilter, QueueSection, find_cases, work_queue
from assistant.config import Settings
from assistant.dates import today_in_china
from assistant.db.models import (
    Case,
    CaseEvent,
    CaseResult,
    Document,
    Job,
    Recording,
    Taxpayer,
    User,
)
from assistant.db.types import utcnow
from assistant.documents.registry import STATUTE_DOCUMENTS, document_kind
from assistant.errors import Conflict, InvalidInput, NotFound
from assistant.services import Services
from assistant.transcription import probe_audio

STEPS = ("entities", "retrieval", "discretion")
# Input fields stored under another column name.
CASE_COLUMNS = {"violation": "violation_code", "discovery_date": "discovered_date"}
# Case facts can be corrected until the case goes to review, and again when review sends it back.
EDITABLE_STATUSES = ("investigating", "review_failed")


@dataclass(frozen=True)
class Upload:
    """An accepted upload: the stored recording and the job that transcribes it."""

    recording: Recording
    job: Job


def statute_facts(case: Case, doc_type: str | None = None) -> dict[str, Any]:
    """The case record's structured facts for statute push (knowledge.facts.CaseFacts): when
    the acts began and were found (limitation), a withholding agent's role, and the decision
    kind of `doc_type` from the document registry; what they leave open is read from the
    facts text."""
    facts: dict[str, Any] = {"act_date": case.violation_date.isoformat()}
    if case.discovered_date is not None:
        facts["found_date"] = case.discovered_date.isoformat()
    if case.party_role == "withholding_agent":
        facts["role"] = "withholding_agent"
    if doc_type is not None and doc_type in STATUTE_DOCUMENTS:
        facts["document"] = STATUTE_DOCUMENTS[doc_type]
    return facts


class CaseWorkflow:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.settings = services.settings
        self.lifecycle = CaseLifecycle(services)

    # -- reading -----------------------------------------------------------------------------
    def get_case(self, case_id: int, actor: User | None = None) -> Case:
        with self.services.db.session() as session:
            if actor is not None:
                return self.readable_case(session, actor, case_id)
            return load_case(session, case_id)

    def list_cases(self, *, limit: int = 50, offset: int = 0) -> list[Case]:
        with self.services.db.session() as session:
            rows = session.scalars(
                select(Case).order_by(Case.id.desc()).limit(limit).offset(offset)
            )
            return list(rows.unique())

    def find_cases(self, actor: User, filters: CaseFilter) -> list[Case]:
        """The case list narrowed by `filters` (text, stage, violation, dates, officer)."""
        require_role(actor, *READER_ROLES)
        with self.services.db.session() as session:
            return find_cases(session, filters)

    def work_queue(self, actor: User) -> list[QueueSection]:
        """What waits for `actor`, by role (assistant.cases.queries.work_queue)."""
        with self.services.db.session() as session:
            return work_queue(session, actor)

    def latest_result(self, case_id: int, step: str) -> CaseResult | None:
        with self.services.db.session() as session:
            load_case(session, case_id)
            return latest_result(session, case_id, step)

    def recordings(
        self, case_id: int, actor: User | None = None, *, segments: bool = True
    ) -> list[Recording]:
        """The case's recordings; `segments=False` leaves their segments unloaded (touching
        them raises) for a caller that reads the current transcript another way."""
        with self.services.db.session() as session:
            if actor is not None:
                self.readable_case(session, actor, case_id)
            else:
                load_case(session, case_id)
            query = select(Recording).where(Recording.case_id == case_id)
            if not segments:
                query = query.options(raiseload(Recording.segments))
            return list(session.scalars(query))

    def recording_jobs(self, case_id: int) -> dict[int, Job]:
        """The latest job of each recording of the case (its progress while transcribing)."""
        with self.services.db.session() as session:
            jobs = session.scalars(
                select(Job).where(Job.case_id == case_id, Job.recording_id.is_not(None))
            )
            latest: dict[int, Job] = {}
            for job in jobs:
                if job.recording_id is not None and (
                    job.recording_id not in latest or job.id > latest[job.recording_id].id
                ):
                    latest[job.recording_id] = job
            return latest

    def get_recording(self, recording_id: int) -> Recording:
        with self.services.db.session() as session:
            recording = session.get(Recording, recording_id)
            if recording is None:
                raise NotFound("recording_not_found", f"录音 {recording_id} 不存在。")
            return recording

    def documents(self, case_id: int) -> list[Document]:
        with self.services.db.session() as session:
            load_case(session, case_id)
            return list(
                session.scalars(
                    select(Document).where(Document.case_id == case_id).order_by(Document.id)
                )
            )

    def get_document(self, document_id: int) -> Document:
        with self.services.db.session() as session:
            document = session.get(Document, document_id)
            if document is None:
                raise NotFound("document_not_found", f"文书 {document_id} 不存在。")
            return document

    def events(self, case_id: int) -> list[CaseEvent]:
        with self.services.db.session() as session:
            load_case(session, case_id)
            rows = session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
            )
            return list(rows)

    # -- 立案 ----------------------------------------------------------------------------------
    def create_case(self, actor: User, new_case: NewCase) -> Case:
        require_role(actor, Role.OFFICER, Role.ADMIN)
        new_case = new_case.validated()
        with self.services.db.session() as session:
            taxpayer = _upsert_taxpayer(session, new_case)
            case = Case(
                number="pending",
                taxpayer=taxpayer,
                officer_id=actor.id,
                violation_code=new_case.violation,
                facts=new_case.facts,
                violation_date=new_case.violation_date,
                tax_unpaid=new_case.tax_unpaid,
                invoice_amount=new_case.invoice_amount,
                illegal_gains=new_case.illegal_gains,
                discovered_date=new_case.discovery_date,
                invoice_tax_amount=new_case.invoice_tax_amount,
                tax_payable=new_case.tax_payable,
                party_role=new_case.party_role,
                days_overdue=new_case.days_overdue,
                occurrences=new_case.occurrences,
                first_violation=new_case.first_violation,
                corrected_in_time=new_case.corrected_in_time,
                harm=new_case.harm,
                factors=list(new_case.factors),
                evidence=list(new_case.evidence),
                status=INITIAL_STAGE,
            )
            session.add(case)
            session.flush()
            case.number = f"TA-{new_case.violation_date.year}-{case.id:06d}"
            record_action(
                self.services,
                session,
                case,
                actor,
                "case_created",
                None,
                case.status,
                {"number": case.number},
            )
            session.flush()
            return load_case(session, case.id)

    def update_case(
        self,
        actor: User,
        case_id: int,
        changes: dict[str, Any],
        *,
        confirmed: list[dict[str, Any]] | None = None,
    ) -> Case:
        """Correct the case's facts while it is investigated or sent back by review: the
        result passes the creation rules again, and the changes (from → to) are a signed
        `case_updated` event. `confirmed`: facts the officer confirmed from proposals, with
        their sources (`assistant.cases.facts`), recorded in the same event even where the
        value was already the case's. Nothing changes and nothing confirmed: no event."""
        unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
        if unknown:
            raise InvalidInput(
                "unknown_field",
                f"不能修改的字段：{'、'.join(unknown)}",
                details={"fields": unknown, "editable": list(EDITABLE_FIELDS)},
            )
        with self.services.db.session() as session:
            case = load_case(session, case_id)
            require_handler(actor, case)
            if case.status not in EDITABLE_STATUSES:
                raise Conflict(
                    "case_not_editable",
                    "案件已进入审核或决定程序，不能再修改案件信息。",
                    details={"status": case.status, "editable_in": list(EDITABLE_STATUSES)},
                )
            current = NewCase.from_case(case)
            updated = replace(current, **changes).validated()
            diff = {
                name: {
                    "from": _jsonable(getattr(current, name)),
                    "to": _jsonable(getattr(updated, name)),
                }
                for name in EDITABLE_FIELDS
                if getattr(current, name) != getattr(updated, name)
            }
            if not diff and not confirmed:
                return case
            for name in diff:
                value = getattr(updated, name)
                column = CASE_COLUMNS.get(name, name)
                setattr(case, column, list(value) if isinstance(value, tuple) else value)
            record_action(
                self.services,
                session,
                case,
                actor,
                "case_updated",
                case.status,
                case.status,
                {"changes": diff} | ({"confirmed_facts": confirmed} if confirmed else {}),
            )
            session.flush()
            return load_case(session, case.id)

    # -- 录音 → 转写 --------------------------------------------------------------------------
    def add_recording(
        self,
        actor: User,
        case_id: int,
        source: BinaryIO,
        *,
        filename: str,
        content_type: str | None,
    ) -> Upload:
        """Stage and probe the upload (bad input: 4xx, nothing kept), then store the original,
        its Recording row, a queued transcription job and the signed `recording_uploaded`
        event in one transaction. The caller hands the job to a queue (or runs it)."""
        with self.services.db.session() as session:
            case = load_case(session, case_id)
            require_handler(actor, case)
        files = self.services.files
        staged = files.stage(source, max_bytes=self.settings.max_upload_bytes)
        created_blob = False
        try:
            info = probe_audio(staged.path, max_seconds=self.settings.max_audio_seconds)
            with self.services.db.session() as session:
                case = load_case(session, case_id)
                recording = Recording(
                    case_id=case.id,
                    sha256=staged.sha256,
                    original_filename=_safe_filename(filename),
                    content_type=content_type,
                    size_bytes=staged.size,
                    duration_seconds=info.duration_seconds,
                    language=None,
                    model={},
                    processing_seconds=0.0,
                    uploaded_by=actor.id,
                    status="transcribing",
                    segments=[],
                )
                session.add(recording)
                session.flush()
                job = Job(
                    kind="transcription",
                    case_id=case.id,
                    recording_id=recording.id,
                    status="queued",
                    duration_seconds=info.duration_seconds,
                    created_by=actor.id,
                    details={"codec": info.codec, "channels": info.channels},
                )
                session.add(job)
                session.flush()
                record_action(
                    self.services,
                    session,
                    case,
                    actor,
                    "recording_uploaded",
                    case.status,
                    case.status,
                    {
                        "recording_id": recording.id,
                        "job_id": job.id,
                        "sha256": staged.sha256,
                        "duration_seconds": info.duration_seconds,
                        "filename": recording.original_filename,
                    },
                )
                _, created_blob = files.commit(staged)
                session.flush()
                return Upload(recording=recording, job=job)
        except BaseException:
            staged.path.unlink(missing_ok=True)
            if created_blob:
                files.discard(staged.sha256)
            raise

    def readable_case(self, session: Session, actor: User, case_id: int) -> Case:
        """The case, if `actor` may read it: the one rule for case, recording and job reads."""
        case = load_case(session, case_id)
        require_reader(actor, case)
        return case

    def recording_for(self, actor: User, recording_id: int, *, write: bool = False) -> Recording:
        """A recording through its case's access rule (reading; `write`: the handling officer)."""
        with self.services.db.session() as session:
            recording = session.get(Recording, recording_id)
            if recording is None:
                raise NotFound("recording_not_found", f"录音 {recording_id} 不存在。")
            case = self.readable_case(session, actor, recording.case_id)
            if write:
                require_handler(actor, case)
            return recording

    def job_for(self, actor: User, job_id: int, *, write: bool = False) -> Job:
        """A job through its case's access rule; cancel and retry are the handling officer's."""
        from assistant.jobs.store import load_job

        with self.services.db.session() as session:
            job = load_job(session, job_id)
            case = self.readable_case(session, actor, job.case_id)
            if write:
                require_handler(actor, case)
            return job

    # -- analysis steps -------------------------------------------------------------------------
    def extract_entities(self, actor: User, case_id: int) -> CaseResult:
        from assistant.nlp import extract_entities

        def run(session: Session, case: Case) -> dict[str, Any]:
            sources = {"facts": case.facts}
            for recording in session.scalars(
                select(Recording)
                .where(Recording.case_id == case.id, Recording.status == "transcribed")
                .order_by(Recording.id)
            ):
                sources[f"recording:{recording.id}"] = "\n".join(s.text for s in recording.segments)
            return {
                "sources": {
                    name: extract_entities(text, reference_date=case.violation_date).to_dict()
                    for name, text in sources.items()
                }
            }

        return self._run_step(actor, case_id, "entities", run)

    def retrieve(
        self, actor: User, case_id: int, *, k: int = 8, doc_type: str | None = None
    ) -> CaseResult:
        """Statutes and similar cases for the case's facts. The case's structured facts steer
        the statute push (`statute_facts`); `doc_type`, the decision being drafted (a registry
        code), tells it which articles that document must cite."""
        knowledge = self.services.knowledge()
        if doc_type is not None:
            document_kind(doc_type, via_api=True)  # 409 retired / 422 unknown, before any work

        def run(session: Session, case: Case) -> dict[str, Any]:
            query = case.facts
            facts = statute_facts(case, doc_type)
            statutes = knowledge.search_statutes(
                query,
                k=k,
                on=case.violation_date,
                violation_type=case.violation_code,
                facts=facts,
            )
            cases = knowledge.search_cases(query, k=k, violation_type=None)
            return {
                "query": query,
                "on": case.violation_date.isoformat(),
                "facts": facts,
                "statutes": [_jsonable(asdict(hit)) for hit in statutes],
                "cases": [_jsonable(asdict(hit)) for hit in cases],
            }

        return self._run_step(actor, case_id, "retrieval", run)

    def suggest(self, actor: User, case_id: int) -> CaseResult:
        from assistant.discretion import load_benchmark, suggest

        def run(session: Session, case: Case) -> dict[str, Any]:
            suggestion = suggest(
                discretion_input(case, decision_date=today_in_china()),
                benchmark=load_benchmark(self.settings.benchmark_file),
            )
            return suggestion.to_dict()

        return self._run_step(actor, case_id, "discretion", run)

    def _run_step(
        self,
        actor: User,
        case_id: int,
        step: str,
        compute: Callable[[Session, Case], dict[str, Any]],
    ) -> CaseResult:
        with self.services.db.session() as session:
            case = load_case(session, case_id)
            require_handler(actor, case)
            payload = compute(session, case)
            result = CaseResult(case_id=case.id, step=step, payload=payload, created_by=actor.id)
            session.add(result)
            session.flush()
            record_action(
                self.services,
                session,
                case,
                actor,
                f"{step}_completed",
                case.status,
                case.status,
                {"result_id": result.id},
                covers=[result],
            )
            return result

    # -- drafting ---------------------------------------------------------------------------------
    def draft(
        self, actor: User, case_id: int, doc_type: str, inputs: dict[str, Any] | None = None
    ) -> Document:
        """Any registered type (assistant.documents.registry); a handler's new document after a
        passed review reopens the review."""
        kind = document_kind(doc_type, via_api=True)
        parsed = kind.parse_inputs(inputs)
        # rendered with reads only, outside the write lock that every writer queues on
        with self.services.db.session() as session:
            case = load_case(session, case_id)
            early = prerender(self.services, session, actor, case, kind, parsed)
        with self.services.db.session() as session:
            case = lock_case(session, case_id)
            # stored as rendered when nothing changed meanwhile, else rendered again here
            document = draft_in(self.services, session, actor, case, kind, parsed, early)
            if kind.drafter == "handler":
                self.lifecycle.reopen_review(session, case, actor, document, "审核后起草了新的文书")
            session.flush()
            return document

    # -- legal review and approval (the lifecycle's) ---------------------------------------------
    def review(
        self,
        actor: User,
        case_id: int,
        *,
        passed: bool,
        opinion: str,
        checklist: dict[str, Any] | None = None,
    ) -> Case:
        return self.lifecycle.review(
            actor, case_id, passed=passed, opinion=opinion, checklist=checklist
        )

    def approve(self, actor: User, case_id: int, *, opinion: str = "") -> Case:
        return self.lifecycle.approve(actor, case_id, opinion=opinion)


def discretion_input(case: Case, *, decision_date: date) -> Any:
    return NewCase.from_case(case).discretion_input(decision_date)


def case_prompt(settings: Settings, case: Case) -> str | None:
    """The tax glossary prompt with this case's taxpayer and representative names."""
    if not settings.asr_domain_prompt:
        return None
    from assistant.transcription.vocabulary import build_prompt

    taxpayer = case.taxpayer
    return build_prompt([taxpayer.name, taxpayer.legal_representative or ""]) or None


def _upsert_taxpayer(session: Session, new_case: NewCase) -> Taxpayer:
    """The taxpayer of that id number, created if new: an INSERT … ON CONFLICT DO NOTHING then
    a read, so concurrent first cases of one taxpayer share one row instead of one winning and
    the others failing on the unique id number."""
    data = new_case.taxpayer
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
        session.execute(
            insert(Taxpayer)
            .values(uscc=data.id_number, name=data.name, kind=data.kind, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["uscc"])
        )
    taxpayer = session.scalar(select(Taxpayer).where(Taxpayer.uscc == data.id_number))
    if taxpayer is None:
        taxpayer = Taxpayer(uscc=data.id_number, name=data.name, kind=data.kind)
        session.add(taxpayer)
    elif taxpayer.name != data.name:
        raise Conflict(
            "taxpayer_name_mismatch",
            f"证件号码 {data.id_number} 已登记为“{taxpayer.name}”，与“{data.name}”不一致。",
            details={"id_number": data.id_number, "registered_name": taxpayer.name},
        )
    taxpayer.address = data.address or taxpayer.address
    taxpayer.legal_representative = data.legal_representative or taxpayer.legal_representative
    return taxpayer


def _safe_filename(name: str) -> str:
    cleaned = re.sub(r"[\\/\x00-\x1f]", "_", name).strip() or "recording"
    return cleaned[-200:]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value

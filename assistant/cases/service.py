"""The case workflow: each step is a plain call that persists its result and leaves a trace."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any, BinaryIO, Literal

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from assistant.auth.security import Role
from assistant.cases.document_drafts import DOC_KINDS as _DOC_KINDS
from assistant.cases.duties import REVIEW_DOC_TYPES, duty_of, require_separate_duty
from assistant.cases.inputs import EDITABLE_FIELDS, NewCase
from assistant.cases.numbering import format_doc_number, next_sequence
from assistant.config import Settings
from assistant.dates import today_in_china
from assistant.db.models import (
    Case,
    CaseEvent,
    CaseResult,
    Document,
    DocumentRevision,
    Job,
    Recording,
    Taxpayer,
    TranscriptSegment,
    User,
)
from assistant.db.types import utcnow
from assistant.errors import Conflict, Forbidden, InvalidInput, NotFound
from assistant.legal import StatuteId
from assistant.nlp import validate_uscc
from assistant.record import Signer, append_event, commitments, text_sha256
from assistant.services import Services
from assistant.transcription import probe_audio

STEPS = ("entities", "retrieval", "discretion")
# Input fields stored under another column name.
CASE_COLUMNS = {"violation": "violation_code", "discovery_date": "discovered_date"}
# Case facts can be corrected until the case goes to review, and again when review sends it back.
EDITABLE_STATUSES = ("investigating", "review_failed")
# 文号 kind per document type (罚告 = 处罚事项告知书, 罚 = 处罚决定书 …): see document_drafts.
DOC_KINDS = _DOC_KINDS


@dataclass(frozen=True)
class Upload:
    """An accepted upload: the stored recording and the job that transcribes it."""

    recording: Recording
    job: Job


class CaseWorkflow:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.settings = services.settings

    def _record(
        self,
        session: Session,
        case: Case,
        actor: User,
        action: str,
        before: str | None,
        after: str | None,
        details: dict[str, Any],
        covers: Sequence[object] = (),
    ) -> None:
        """Every action goes through here: the actor needs a valid credential and must not
        hold another duty on the case (whatever the role), and the action becomes a signed
        event with the active authority key, committing to the case snapshot and the hashes
        of the rows in `covers` (results, recordings' segments, documents, revisions) so that
        `record verify` catches a later change to them."""
        from assistant.cases.credentials import require_credential

        duty = duty_of(action, details)
        if duty is not None:
            require_separate_duty(session, case, actor, duty)
        details = {**details, "credential": require_credential(session, actor)}
        _record(
            session,
            self.services.keystore().signer(session),
            case,
            actor,
            action,
            before,
            after,
            details,
            covers,
        )

    # -- reading -----------------------------------------------------------------------------
    def get_case(self, case_id: int, actor: User | None = None) -> Case:
        with self.services.db.session() as session:
            if actor is not None:
                return self.readable_case(session, actor, case_id)
            return _load_case(session, case_id)

    def list_cases(self, *, limit: int = 50, offset: int = 0) -> list[Case]:
        with self.services.db.session() as session:
            rows = session.scalars(
                select(Case).order_by(Case.id.desc()).limit(limit).offset(offset)
            )
            return list(rows.unique())

    def latest_result(self, case_id: int, step: str) -> CaseResult | None:
        with self.services.db.session() as session:
            _load_case(session, case_id)
            return _latest_result(session, case_id, step)

    def recordings(self, case_id: int, actor: User | None = None) -> list[Recording]:
        with self.services.db.session() as session:
            if actor is not None:
                self.readable_case(session, actor, case_id)
            else:
                _load_case(session, case_id)
            rows = session.scalars(select(Recording).where(Recording.case_id == case_id))
            return list(rows)

    def get_recording(self, recording_id: int) -> Recording:
        with self.services.db.session() as session:
            recording = session.get(Recording, recording_id)
            if recording is None:
                raise NotFound("recording_not_found", f"录音 {recording_id} 不存在。")
            return recording

    def documents(self, case_id: int) -> list[Document]:
        with self.services.db.session() as session:
            _load_case(session, case_id)
            return list(session.scalars(select(Document).where(Document.case_id == case_id)))

    def get_document(self, document_id: int) -> Document:
        with self.services.db.session() as session:
            document = session.get(Document, document_id)
            if document is None:
                raise NotFound("document_not_found", f"文书 {document_id} 不存在。")
            return document

    def events(self, case_id: int) -> list[CaseEvent]:
        with self.services.db.session() as session:
            _load_case(session, case_id)
            rows = session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
            )
            return list(rows)

    # -- 立案 ----------------------------------------------------------------------------------
    def create_case(self, actor: User, new_case: NewCase) -> Case:
        _require_role(actor, Role.OFFICER, Role.ADMIN)
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
                status="investigating",
            )
            session.add(case)
            session.flush()
            case.number = f"TA-{new_case.violation_date.year}-{case.id:06d}"
            self._record(
                session, case, actor, "case_created", None, case.status, {"number": case.number}
            )
            session.flush()
            return _load_case(session, case.id)

    def update_case(self, actor: User, case_id: int, changes: dict[str, Any]) -> Case:
        """Correct the case's facts while it is investigated or sent back by review: the
        result passes the creation rules again, and the changes (from → to) are a signed
        `case_updated` event. Nothing changes: no event."""
        unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
        if unknown:
            raise InvalidInput(
                "unknown_field",
                f"不能修改的字段：{'、'.join(unknown)}",
                details={"fields": unknown, "editable": list(EDITABLE_FIELDS)},
            )
        with self.services.db.session() as session:
            case = _load_case(session, case_id)
            _require_handler(actor, case)
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
            if not diff:
                return case
            for name in diff:
                value = getattr(updated, name)
                column = CASE_COLUMNS.get(name, name)
                setattr(case, column, list(value) if isinstance(value, tuple) else value)
            self._record(
                session, case, actor, "case_updated", case.status, case.status, {"changes": diff}
            )
            session.flush()
            return _load_case(session, case.id)

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
            case = _load_case(session, case_id)
            _require_handler(actor, case)
        files = self.services.files
        staged = files.stage(source, max_bytes=self.settings.max_upload_bytes)
        created_blob = False
        try:
            info = probe_audio(staged.path, max_seconds=self.settings.max_audio_seconds)
            with self.services.db.session() as session:
                case = _load_case(session, case_id)
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
                self._record(
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
        case = _load_case(session, case_id)
        _require_reader(actor, case)
        return case

    def recording_for(self, actor: User, recording_id: int, *, write: bool = False) -> Recording:
        """A recording through its case's access rule (reading; `write`: the handling officer)."""
        with self.services.db.session() as session:
            recording = session.get(Recording, recording_id)
            if recording is None:
                raise NotFound("recording_not_found", f"录音 {recording_id} 不存在。")
            case = self.readable_case(session, actor, recording.case_id)
            if write:
                _require_handler(actor, case)
            return recording

    def job_for(self, actor: User, job_id: int, *, write: bool = False) -> Job:
        """A job through its case's access rule; cancel and retry are the handling officer's."""
        from assistant.jobs.store import load_job

        with self.services.db.session() as session:
            job = load_job(session, job_id)
            case = self.readable_case(session, actor, job.case_id)
            if write:
                _require_handler(actor, case)
            return job

    # -- analysis steps -------------------------------------------------------------------------
    def extract_entities(self, actor: User, case_id: int) -> CaseResult:
        from assistant.nlp import extract_entities

        def run(session: Session, case: Case) -> dict[str, Any]:
            sources = {"facts": case.facts}
            for recording in session.scalars(
                select(Recording).where(
                    Recording.case_id == case.id, Recording.status == "transcribed"
                )
            ):
                sources[f"recording:{recording.id}"] = "\n".join(s.text for s in recording.segments)
            return {
                "sources": {
                    name: extract_entities(text, reference_date=case.violation_date).to_dict()
                    for name, text in sources.items()
                }
            }

        return self._run_step(actor, case_id, "entities", run)

    def retrieve(self, actor: User, case_id: int, *, k: int = 8) -> CaseResult:
        knowledge = self.services.knowledge()

        def run(session: Session, case: Case) -> dict[str, Any]:
            query = case.facts
            statutes = knowledge.search_statutes(
                query, k=k, on=case.violation_date, violation_type=case.violation_code
            )
            cases = knowledge.search_cases(query, k=k, violation_type=None)
            return {
                "query": query,
                "on": case.violation_date.isoformat(),
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
            case = _load_case(session, case_id)
            _require_handler(actor, case)
            payload = compute(session, case)
            result = CaseResult(case_id=case.id, step=step, payload=payload, created_by=actor.id)
            session.add(result)
            session.flush()
            self._record(
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
        from assistant.cases import document_drafts as other
        from assistant.drafting import render

        if doc_type not in DOC_KINDS:
            raise InvalidInput(
                "unknown_document_type",
                f"不支持的文书类型：{doc_type}",
                details={"allowed": sorted(DOC_KINDS)},
            )
        parsed = other.parse_inputs(doc_type, inputs)
        with self.services.db.session() as session:
            case = _load_case(session, case_id)
            if doc_type in other.REVIEWER_TYPES:
                _require_role(actor, Role.REVIEWER, Role.ADMIN)
                require_separate_duty(session, case, actor, "review")
            else:
                _require_handler(actor, case)
            discretion = _latest_result(session, case.id, "discretion")
            if discretion is None and doc_type not in other.NO_DISCRETION_NEEDED:
                raise Conflict(
                    "discretion_required",
                    "请先生成裁量建议，再起草处罚文书。",
                    details={"missing_step": "discretion"},
                )
            year = today_in_china().year
            prefix = self.settings.authority_doc_prefix
            kind = DOC_KINDS[doc_type]
            sequence = next_sequence(session, prefix=prefix, kind=kind, year=year)
            number = format_doc_number(prefix, kind, year, sequence)
            suggestion = discretion.payload if discretion is not None else {}
            context = self._penalty_context(session, case, suggestion, number)
            provenance = {k: list(v) for k, v in context.provenance.items()}
            if doc_type == "no_penalty_decision":
                rendered = self._draft_no_penalty(case, suggestion, context)
            elif doc_type in other.OTHER_TYPES:
                rendered, provenance = other.draft_other(
                    doc_type,
                    session=session,
                    case=case,
                    actor=actor,
                    suggestion=suggestion,
                    ctx=context,
                    inputs=parsed,
                    book=self.services.knowledge().statutes,
                )
            else:
                narrated, provenance["narrative"] = self._narrative(session, case, context)
                rendered = render(doc_type, narrated)
                transcript = (
                    self._transcript(session, case) if narrated.facts != context.facts else ""
                )
                self._fact_check(case, suggestion, context, rendered.text, transcript)
            sha256, _, created = self.services.files.put_bytes(rendered.docx)
            try:
                version = 1 + (
                    session.scalar(
                        select(func.count(Document.id)).where(
                            Document.case_id == case.id, Document.doc_type == doc_type
                        )
                    )
                    or 0
                )
                document = Document(
                    case_id=case.id,
                    doc_type=doc_type,
                    number=number,
                    version=version,
                    sha256=sha256,
                    filename=f"{case.number}-{rendered.title}-v{version}.docx",
                    text=rendered.text,
                    provenance=provenance,
                    created_by=actor.id,
                )
                session.add(document)
                session.flush()
                self._record(
                    session,
                    case,
                    actor,
                    "document_drafted",
                    case.status,
                    case.status,
                    {
                        "document_id": document.id,
                        "doc_type": doc_type,
                        "number": number,
                        "sha256": sha256,
                    },
                    covers=[document],
                )
                if doc_type not in other.REVIEWER_TYPES:
                    self.reopen_review(session, case, actor, document, "审核后起草了新的文书")
                session.flush()
            except BaseException:
                if created:
                    self.services.files.discard(sha256)
                raise
            return document

    def _penalty_context(
        self, session: Session, case: Case, suggestion: dict[str, Any], number: str
    ) -> Any:
        from assistant.discretion import load_benchmark, load_procedure
        from assistant.drafting import LegalBasis, PenaltyContext
        from assistant.drafting import Party as DraftParty
        from assistant.drafting.findings import finding_for
        from assistant.taxonomy import get_violation

        procedure = load_procedure()
        statutes = self.services.knowledge().statutes
        taxpayer = case.taxpayer
        kind: Literal["organisation", "individual"] = (
            "organisation" if taxpayer.kind == "organisation" else "individual"
        )
        id_label = "统一社会信用代码" if validate_uscc(taxpayer.uscc) else "身份证件号码"
        citations = penalty_basis(suggestion)
        legal_basis = tuple(
            LegalBasis(statute_id=c, law_title=statutes.full_title(c.split(":", 1)[0]))
            for c in citations
        )
        evidence = list(case.evidence)
        for recording in session.scalars(select(Recording).where(Recording.case_id == case.id)):
            evidence.append(
                f"询问录音《{recording.original_filename}》（时长{recording.duration_seconds:.0f}秒，"
                f"SHA-256：{recording.sha256[:16]}…）及其文字记录"
            )
        amount = Decimal(str(suggestion.get("suggested_amount", "0")))
        hearing = bool(suggestion.get("hearing_required"))
        bench = load_benchmark(self.settings.benchmark_file)
        fine_base = _fine_base(bench, case, suggestion, amount)
        finding = finding_for(
            case.violation_code,
            fallback_name=get_violation(case.violation_code).name_zh,
            full_title=statutes.full_title,
            party_role=str(getattr(case, "party_role", None) or "taxpayer"),
        )
        return PenaltyContext(
            authority=self.settings.authority_name,
            doc_number=number,
            party=DraftParty(
                name=taxpayer.name,
                kind=kind,
                id_label=id_label,
                id_number=taxpayer.uscc,
                address=taxpayer.address,
                legal_representative=taxpayer.legal_representative,
            ),
            facts=case.facts,
            evidence=tuple(evidence),
            legal_basis=legal_basis,
            benchmark_citation=suggestion.get("benchmark_citation"),
            decision=suggestion.get("decision", "penalty"),
            amount=amount,
            decision_date=today_in_china(),
            statement_days=procedure.statement_defence_days,
            hearing_offered=hearing,
            hearing_request_days=procedure.hearing_request_days,
            payment_days=procedure.fine_payment_days,
            late_fine_rate_percent=(procedure.additional_fine_daily_rate * 100).normalize(),
            reconsideration_days=procedure.reconsideration_days,
            lawsuit_months=procedure.lawsuit_months,
            reconsideration_body=self.settings.reconsideration_body,
            confiscation=Decimal(str(suggestion.get("confiscated_amount") or "0")),
            provenance={
                "legal_basis": tuple(citations),
                "amount": (f"discretion:{suggestion.get('benchmark_item')}",),
                "periods": tuple(f"procedure:{k}" for k in sorted(procedure.sources)),
                "finding": ("corpora/drafting/findings.yaml",),
            },
            fine_base=fine_base,
            finding=finding,
            benchmark_is_sample=bench.sample,
        )

    def _fact_check(
        self,
        case: Case,
        suggestion: dict[str, Any],
        context: Any,
        text: str,
        transcript: str = "",
    ) -> None:
        """The fact guard (issue 6): a draft stating anything the record lacks is not stored.

        `context` is the record's (the officer's facts); an accepted LLM narrative passed the
        guard against the record plus the `transcript`, which is then a source here too.
        """
        from assistant.drafting.guard import FactRecord, check_draft, require_clean

        sources = [transcript] if transcript else []
        record = FactRecord.from_context(
            context,
            hearing_required=bool(suggestion.get("hearing_required")),
            act_date=case.violation_date,
            amounts=[case.tax_unpaid],
            sources=sources,
        )
        require_clean(check_draft(text, record, self.services.knowledge().statutes))

    def _transcript(self, session: Session, case: Case) -> str:
        """All transcript text of the case's recordings, in order (a source of the narrative)."""
        rows = session.scalars(
            select(TranscriptSegment)
            .join(Recording, TranscriptSegment.recording_id == Recording.id)
            .where(Recording.case_id == case.id, Recording.status == "transcribed")
            .order_by(Recording.id, TranscriptSegment.index)
        )
        return "".join(s.text for s in rows)

    def _narrative(self, session: Session, case: Case, context: Any) -> tuple[Any, list[str]]:
        """The 违法事实 text by settings (issue 6): template by default, an LLM's if it passes the
        guard. Returns the context to render and the provenance: which narrative and why."""
        import dataclasses

        from assistant.drafting.generators import generator_from_settings
        from assistant.drafting.guard import FactRecord
        from assistant.drafting.narrative import NarrativeRequest, narrate

        generator, why = generator_from_settings(self.settings)
        if generator is None:
            return context, ["template", "template", why]
        request = NarrativeRequest(
            facts=context.facts,
            evidence=tuple(context.evidence),
            transcript=self._transcript(session, case),
            party_name=context.party.name,
        )
        record = FactRecord.from_context(
            context, act_date=case.violation_date, amounts=[case.tax_unpaid]
        )
        result = narrate(request, record, self.services.knowledge().statutes, generator)
        if result.source == "llm":
            return dataclasses.replace(context, facts=result.text), ["llm", result.generator, why]
        if result.error:
            reason = f"模型调用失败（{result.error}），使用模板叙述"
        else:
            spans = "、".join(f.text for f in result.rejected[:5])
            reason = f"模型叙述含记录中没有的内容（{spans}），未采用，使用模板叙述"
        return context, ["template", result.generator, reason]

    def _draft_no_penalty(self, case: Case, suggestion: dict[str, Any], context: Any) -> Any:
        """不予税务行政处罚决定书 (issue 6) for a no-penalty suggestion, fact-checked too."""
        from assistant.drafting import LegalBasis
        from assistant.drafting.guard import FactRecord, check_draft, require_clean
        from assistant.drafting.other_documents import NoPenaltyContext, Remedy, render_no_penalty

        if suggestion.get("decision") != "no_penalty":
            raise Conflict(
                "not_a_no_penalty_case",
                "裁量建议为给予处罚，不能制作不予税务行政处罚决定书。",
                details={"decision": suggestion.get("decision")},
            )
        statutes = self.services.knowledge().statutes
        citations = [c for c in suggestion.get("citations", []) if isinstance(c, str)]
        ground = [c for c in suggestion.get("legal_ground", []) if isinstance(c, str)]
        violated = [c for c in citations if c not in ground and ":" in c and "公告" not in c]

        def basis(ids: list[str]) -> tuple[LegalBasis, ...]:
            return tuple(LegalBasis(c, statutes.full_title(StatuteId.parse(c).law)) for c in ids)

        notices = [c for c in citations if "公告" in c]
        reason = "鉴于" + ("你单位" if context.party.kind == "organisation" else "你")
        reason += "系初次违法且危害后果轻微，并已及时改正"
        if notices:
            reason += f"，属于税务行政处罚“首违不罚”事项清单（{'、'.join(notices)}）所列事项"
        ctx = NoPenaltyContext(
            authority=context.authority,
            doc_number=context.doc_number,
            party=context.party,
            facts=context.facts,
            evidence=context.evidence,
            violated=basis(violated) or basis(ground),
            reason=reason,
            remedy=Remedy(
                context.reconsideration_body,
                context.reconsideration_days,
                context.lawsuit_months,
            ),
            decision_date=context.decision_date,
            legal_basis=basis(ground),
        )
        rendered = render_no_penalty(ctx)
        record = FactRecord(
            party_name=context.party.name,
            party_id=context.party.id_number,
            authority=context.authority,
            reconsideration_body=context.reconsideration_body,
            decision_date=context.decision_date,
            fine=Decimal("0.00"),
            hearing_required=False,
            periods={
                "reconsideration_days": context.reconsideration_days,
                "lawsuit_months": context.lawsuit_months,
            },
            late_fine_rate_percent=context.late_fine_rate_percent,
            legal_basis=tuple(c.split("@", 1)[0] for c in [*violated, *ground]),
            address=context.party.address,
            legal_representative=context.party.legal_representative,
            act_date=case.violation_date,
            doc_number=context.doc_number,
            sources=(context.facts, *context.evidence, reason),
            amounts=(case.tax_unpaid,),
        )
        require_clean(check_draft(rendered.text, record, statutes))
        return rendered

    # -- legal review and approval (separation of duties) ------------------------------------------
    def review(
        self,
        actor: User,
        case_id: int,
        *,
        passed: bool,
        opinion: str,
        checklist: dict[str, Any] | None = None,
    ) -> Case:
        with self.services.db.session() as session:
            case = self.review_in(
                session, actor, case_id, passed=passed, opinion=opinion, checklist=checklist
            )
            return _load_case(session, case.id)

    def review_in(
        self,
        session: Session,
        actor: User,
        case_id: int,
        *,
        passed: bool,
        opinion: str,
        checklist: dict[str, Any] | None = None,
    ) -> Case:
        """The review inside the caller's transaction (issue 7: the 意见书 joins it)."""
        _require_role(actor, Role.REVIEWER, Role.ADMIN)
        case = _load_case(session, case_id)
        require_separate_duty(session, case, actor, "review")
        from assistant.cases.lifecycle import check_transition, needs_penalty_documents

        check_transition(case, "review")  # issue 7: only from 调查取证 or after a hearing
        if needs_penalty_documents(session, case) and not session.scalar(
            select(func.count(Document.id)).where(Document.case_id == case.id)
        ):
            raise Conflict("documents_required", "案件尚无处罚文书草稿，不能提交法制审核。")
        before = case.status
        case.status = "review_passed" if passed else "review_failed"
        documents = reviewed_documents(session, case.id)
        self._record(
            session,
            case,
            actor,
            "legal_review",
            before,
            case.status,
            {
                "result": "同意" if passed else "存在问题",
                "opinion": opinion,
                "documents": document_versions(session, documents),
                **({"checklist": checklist} if checklist is not None else {}),
            },
            covers=documents,
        )
        session.flush()
        return case

    def approve(self, actor: User, case_id: int, *, opinion: str = "") -> Case:
        _require_role(actor, Role.APPROVER, Role.ADMIN)
        with self.services.db.session() as session:
            case = _load_case(session, case_id)
            require_separate_duty(session, case, actor, "approval")
            if case.status != "review_passed":
                raise Conflict(
                    "review_not_passed",
                    "法制审核未通过或尚未审核，不得作出决定。",
                    details={"status": case.status},
                )
            before = case.status
            case.status = "approved"
            documents = reviewed_documents(session, case.id)
            self._record(
                session,
                case,
                actor,
                "approved",
                before,
                case.status,
                {"opinion": opinion, "documents": document_versions(session, documents)},
                covers=documents,
            )
            session.flush()
            return _load_case(session, case.id)

    def reopen_review(
        self, session: Session, case: Case, actor: User, document: Document, why: str
    ) -> None:
        """A document changed after the review passed: the review and any approval no longer
        cover it, so the case goes back to 调查取证 and must be reviewed and approved again."""
        if case.status not in REVIEWED_STAGES:
            return
        before = case.status
        case.status = "investigating"
        self._record(
            session,
            case,
            actor,
            "review_reopened",
            before,
            case.status,
            {"document_id": document.id, "number": document.number, "reason": why},
            covers=[document],
        )


# Stages in which a passed legal review stands: a document changed here reopens the review.
REVIEWED_STAGES = frozenset({"review_passed", "approved", "notified", "hearing_requested"})


def reviewed_documents(session: Session, case_id: int) -> list[Document]:
    """The case's documents a review or approval passes on (not the review's own opinions)."""
    return list(
        session.scalars(
            select(Document)
            .where(Document.case_id == case_id, Document.doc_type.not_in(REVIEW_DOC_TYPES))
            .order_by(Document.id)
        )
    )


def document_versions(session: Session, documents: list[Document]) -> list[dict[str, Any]]:
    """Which version of each document was seen: revision number and the text's and file's
    SHA-256, so that issuing can insist on exactly the approved text."""
    revisions: dict[int, int] = {
        document_id: revision
        for document_id, revision in session.execute(
            select(DocumentRevision.document_id, func.max(DocumentRevision.revision))
            .where(DocumentRevision.document_id.in_([d.id for d in documents]))
            .group_by(DocumentRevision.document_id)
        )
    }
    return [
        {
            "document_id": d.id,
            "doc_type": d.doc_type,
            "number": d.number,
            "revision": revisions.get(d.id, 1),
            "text_sha256": text_sha256(d.text),
            "sha256": d.sha256,
        }
        for d in documents
    ]


def discretion_input(case: Case, *, decision_date: date) -> Any:
    return NewCase.from_case(case).discretion_input(decision_date)


def _load_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("case_not_found", f"案件 {case_id} 不存在。", details={"case_id": case_id})
    return case


def _latest_result(session: Session, case_id: int, step: str) -> CaseResult | None:
    return session.scalar(
        select(CaseResult)
        .where(CaseResult.case_id == case_id, CaseResult.step == step)
        .order_by(CaseResult.id.desc())
        .limit(1)
    )


def _case_prompt(settings: Settings, case: Case) -> str | None:
    """Issue 3: the tax glossary prompt with this case's taxpayer and representative names."""
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


def _require_role(actor: User, *roles: Role) -> None:
    if actor.role not in {r.value for r in roles}:
        raise Forbidden(
            "role_not_allowed",
            "当前用户角色无权执行此操作。",
            details={"role": actor.role, "allowed": [r.value for r in roles]},
        )


READER_ROLES = (Role.OFFICER, Role.REVIEWER, Role.APPROVER, Role.ADMIN)


def _require_reader(actor: User, case: Case) -> None:
    """Reading a case and what hangs off it (recordings, jobs, documents): today every
    enforcement role of the authority reads every case, as the case routes always allowed;
    a narrower rule goes here and applies to all of them at once."""
    _require_role(actor, *READER_ROLES)


def _require_handler(actor: User, case: Case) -> None:
    """Only the handling officer (or an admin) works on a case's investigation steps."""
    _require_role(actor, Role.OFFICER, Role.ADMIN)
    if actor.role == Role.OFFICER and actor.id != case.officer_id:
        raise Forbidden("not_case_officer", "只有本案承办人可以办理此案件。")


def _record(
    session: Session,
    signer: Signer,
    case: Case,
    actor: User,
    action: str,
    before: str | None,
    after: str | None,
    details: dict[str, Any],
    covers: Sequence[object],
) -> None:
    """Append the action to the case's signed hash chain (assistant.record)."""
    session.flush()  # ids and defaults exist, so the commitments hash what is stored
    append_event(
        session,
        signer,
        case,
        actor_id=actor.id,
        actor_role=actor.role,
        action=action,
        before=before,
        after=after,
        details=details,
        content=commitments(case, covers),
    )


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


def _fine_base(bench: Any, case: Case, suggestion: dict[str, Any], amount: Decimal) -> Any:
    """What a multiple-of fine multiplies (不缴或者少缴的税款 50,000元 × 0.75), when the item is
    one and the fine is exactly base × rate; otherwise None and the fine is stated as a sum."""
    from assistant.drafting.context import FineBase

    item = next((i for i in bench.items if i.id == suggestion.get("benchmark_item")), None)
    if item is None or item.statutory.kind != "multiple" or item.statutory.base is None:
        return None
    base = getattr(case, str(item.statutory.base), None)
    if not isinstance(base, Decimal) or base <= 0 or amount <= 0:
        return None
    rate = (amount / base).quantize(Decimal("0.0001"))
    if (base * rate).quantize(Decimal("0.01")) != amount.quantize(Decimal("0.01")):
        return None
    return FineBase(item.base_label or "涉案金额", base, rate)


def penalty_basis(suggestion: dict[str, Any]) -> list[str]:
    """The provisions a penalty rests on (issue 6): the legal ground, plus 行政处罚法第三十二条
    when the suggestion mitigated. Hearing, legal-review and criminal-referral provisions are in
    the suggestion's citations too, but a decision does not cite them as its basis.
    """
    citations = [c for c in suggestion.get("citations", []) if isinstance(c, str)]
    ground = [c for c in suggestion.get("legal_ground", []) if isinstance(c, str)]
    if not ground:
        return citations
    return ground + [c for c in citations if c == "行政处罚法:32" and c not in ground]

"""Edits, versions, diffs and issuing of drafted documents.

Why a separate history: a document's 文号 is unique and stays the same through edits, so each
edit is a `DocumentRevision` (content hash, text, author, time) and the `Document` row shows the
latest one. Revision 1 is the generated draft; it is written to the history on the first edit.
Every edit passes the fact guard against the case record before it is stored, and an issued
document (issued by an approver after the case is approved) can no longer change.
"""

from __future__ import annotations

import difflib
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from docx import Document as DocxFactory
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.auth.security import Role
from assistant.cases.access import (
    load_case,
    lock_case,
    require_handler,
    require_role,
)
from assistant.cases.drafts import stored_record
from assistant.cases.duties import duty_of, require_separate_duty
from assistant.cases.events import record_action
from assistant.cases.lifecycle import CaseLifecycle, check_issue
from assistant.db.models import Case, CaseEvent, Document, DocumentRevision, User
from assistant.db.types import utcnow
from assistant.errors import Conflict, InvalidInput, NotFound
from assistant.record import text_sha256
from assistant.services import Services

MAX_TEXT_CHARS = 100_000


@dataclass(frozen=True)
class RevisionView:
    revision: int
    sha256: str
    text: str
    note: str
    author_id: int
    created_at: datetime


def _document(session: Session, document_id: int) -> Document:
    document = session.get(Document, document_id)
    if document is None:
        raise NotFound(
            "document_not_found",
            f"文书 {document_id} 不存在。",
            details={"document_id": document_id},
        )
    return document


def _history(session: Session, document: Document) -> list[RevisionView]:
    rows = list(
        session.scalars(
            select(DocumentRevision)
            .where(DocumentRevision.document_id == document.id)
            .order_by(DocumentRevision.revision)
        )
    )
    if not rows:  # never edited: the draft itself is revision 1
        return [
            RevisionView(
                1, document.sha256, document.text, "起草", document.created_by, document.created_at
            )
        ]
    return [
        RevisionView(r.revision, r.sha256, r.text, r.note, r.author_id, r.created_at) for r in rows
    ]


def _docx_from_text(previous: bytes, text: str) -> bytes:
    """The edited lines as a .docx; a line equal to an earlier paragraph keeps its layout."""
    from assistant.drafting.layout import Role as TypeRole
    from assistant.drafting.layout import add_paragraph, setup_page
    from assistant.drafting.pdf import docx_paragraphs

    old = {p.text: p for p in docx_paragraphs(previous)}
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    align = {"C": WD_ALIGN_PARAGRAPH.CENTER, "R": WD_ALIGN_PARAGRAPH.RIGHT}
    doc = DocxFactory()
    setup_page(doc)
    for line in text.split("\n"):
        para = old.get(line)
        if para is None:
            add_paragraph(doc, line, role=TypeRole.BODY, indent=bool(line))
            continue
        add_paragraph(
            doc,
            line,
            role=para.role,
            align=align.get(para.align, WD_ALIGN_PARAGRAPH.JUSTIFY),
            indent=para.first_indent_pt > 0,
            right_indent_chars=round(para.right_indent_pt / para.size_pt) if para.size_pt else 0,
        )
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _require_approved_text(session: Session, document: Document) -> None:
    """409 unless the text (and file) to issue is, byte for byte, the version the leader
    approved, as the latest approval event recorded it. An approval recorded before versions
    were pinned counts only if the record shows no edit of the document since."""
    approval = session.scalar(
        select(CaseEvent)
        .where(CaseEvent.case_id == document.case_id, CaseEvent.action == "approved")
        .order_by(CaseEvent.id.desc())
        .limit(1)
    )
    if approval is None:
        raise Conflict("case_not_approved", "案件尚未经负责人批准，不能签发文书。", details={})
    details = {"document_id": document.id, "approval_seq": approval.seq}
    pinned = approval.details.get("documents")
    if pinned is None:
        edited_since = session.scalar(
            select(CaseEvent.id).where(
                CaseEvent.case_id == document.case_id,
                CaseEvent.id > approval.id,
                CaseEvent.action == "document_edited",
                CaseEvent.details["document_id"].as_integer() == document.id,
            )
        )
        if edited_since is None:
            return
        raise Conflict(
            "document_changed_after_approval",
            "文书在负责人批准后被修改，与批准的版本不一致，不能签发；请重新提交法制审核和批准。",
            details=details,
        )
    seen = next((d for d in pinned if d.get("document_id") == document.id), None)
    if seen is None:
        raise Conflict(
            "document_not_approved",
            "该文书不在负责人批准时审阅的文书之中，不能签发；请重新提交法制审核和批准。",
            details=details,
        )
    if seen.get("text_sha256") != text_sha256(document.text) or seen.get("sha256") != (
        document.sha256
    ):
        raise Conflict(
            "document_changed_after_approval",
            f"文书与负责人批准的第{seen.get('revision')}版不一致（批准后被修改），不能签发；"
            "请重新提交法制审核和批准。",
            details={**details, "approved_revision": seen.get("revision")},
        )


class DocumentRevisions:
    """Edit, list, diff and issue a case's drafted documents."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.lifecycle = CaseLifecycle(services)

    def history(self, document_id: int) -> list[RevisionView]:
        with self.services.db.session() as session:
            return _history(session, _document(session, document_id))

    def diff(self, document_id: int, old: int, new: int) -> list[str]:
        """Unified diff of two revisions, paragraph per line."""
        by_number = {r.revision: r for r in self.history(document_id)}
        missing = [n for n in (old, new) if n not in by_number]
        if missing:
            raise NotFound(
                "revision_not_found",
                f"文书 {document_id} 没有第{missing[0]}版。",
                details={"document_id": document_id, "revisions": sorted(by_number)},
            )
        return list(
            difflib.unified_diff(
                by_number[old].text.split("\n"),
                by_number[new].text.split("\n"),
                fromfile=f"v{old}",
                tofile=f"v{new}",
                lineterm="",
            )
        )

    def _guard(self, session: Session, actor: User, document: Document, text: str) -> None:
        """The fact guard with the document's own type's record (what its draft was checked
        against), so an edit or the issue of any type is checked as its draft was."""
        from assistant.drafting.guard import check_draft, require_clean

        case = load_case(session, document.case_id)
        record = stored_record(self.services, session, actor, case, document)
        require_clean(check_draft(text, record, self.services.knowledge().statutes))

    def edit(self, actor: User, document_id: int, text: str, note: str = "") -> Document:
        """A new revision by the handling officer; refused when issued or when facts are wrong."""
        text = text.replace("\r\n", "\n").strip("\n")
        if not text.strip() or len(text) > MAX_TEXT_CHARS:
            raise InvalidInput(
                "invalid_text", "文书内容不能为空，且不超过十万字。", details={"chars": len(text)}
            )
        with self.services.db.session() as session:
            document = _document(session, document_id)
            case = lock_case(session, document.case_id)
            require_handler(actor, case)
            # a review opinion is the reviewer's: the handler editing it would be reviewing
            duty = duty_of("document_edited", {"doc_type": document.doc_type})
            if duty is not None:
                require_separate_duty(session, case, actor, duty)
            if document.issued_at is not None:
                raise Conflict(
                    "document_issued",
                    "文书已签发，不能再修改；如需更正请重新起草。",
                    details={"document_id": document.id},
                )
            if text == document.text:
                raise Conflict("no_change", "文书内容没有变化。", details={})
            from assistant.drafting.guard import GuardReport, remedy_changes, require_clean

            require_clean(GuardReport(remedy_changes(document.text, text)))
            self._guard(session, actor, document, text)
            history = _history(session, document)
            added: list[DocumentRevision] = []
            if not session.scalar(
                select(DocumentRevision.id).where(DocumentRevision.document_id == document.id)
            ):
                first = history[0]
                added.append(
                    DocumentRevision(
                        document_id=document.id,
                        revision=1,
                        sha256=first.sha256,
                        text=first.text,
                        note=first.note,
                        author_id=first.author_id,
                        created_at=first.created_at,
                    )
                )
            previous = self.services.files.path_for(document.sha256).read_bytes()
            data = _docx_from_text(previous, text)
            sha256, _, created = self.services.files.put_bytes(data)
            try:
                number = history[-1].revision + 1
                added.append(
                    DocumentRevision(
                        document_id=document.id,
                        revision=number,
                        sha256=sha256,
                        text=text,
                        note=note[:500],
                        author_id=actor.id,
                    )
                )
                session.add_all(added)
                document.sha256 = sha256
                document.text = text
                record_action(
                    self.services,
                    session,
                    case,
                    actor,
                    "document_edited",
                    case.status,
                    case.status,
                    {
                        "document_id": document.id,
                        "doc_type": document.doc_type,
                        "revision": number,
                        "sha256": sha256,
                    },
                    covers=[document, *added],
                )
                self.lifecycle.reopen_review(
                    session, case, actor, document, f"审核后修改了文书（第{number}版）"
                )
                session.flush()
            except BaseException:
                if created:
                    self.services.files.discard(sha256)
                raise
            return document

    def issue(
        self,
        actor: User,
        document_id: int,
        *,
        then: Callable[[Session, Case, Document], None] | None = None,
    ) -> Document:
        """签发: by an approver or admin, only for an approved case and a clean draft; final.
        `then` runs in the same transaction after the issue is recorded (the publication draft
        of a published decision): a failure there undoes the issue too."""
        require_role(actor, Role.APPROVER, Role.ADMIN)
        with self.services.db.session() as session:
            document = _document(session, document_id)
            case = lock_case(session, document.case_id)
            require_separate_duty(session, case, actor, "approval")
            if document.issued_at is not None:
                raise Conflict(
                    "document_issued", "文书已签发。", details={"document_id": document.id}
                )
            check_issue(case, document.doc_type)
            self._guard(session, actor, document, document.text)
            _require_approved_text(session, document)
            document.issued_at = utcnow()
            document.issued_by = actor.id
            record_action(
                self.services,
                session,
                case,
                actor,
                "document_issued",
                case.status,
                case.status,
                {"document_id": document.id, "sha256": document.sha256},
                covers=[document],
            )
            session.flush()
            if then is not None:
                then(session, case, document)
                session.flush()
            return document

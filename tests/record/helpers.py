"""A real case record on a real migrated database and file store, for tamper tests."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from assistant.auth import create_user
from assistant.cases import CaseWorkflow, NewCase, TaxpayerInput
from assistant.cases.credentials import add_credential
from assistant.config import Settings
from assistant.db.models import Case, CaseEvent, Document, User
from assistant.record import append_event
from assistant.services import Services, build_services
from tests.conftest import DEMO_USCC, clone_database, make_settings

EVENTS = 10
FILE_EVENTS = {3: "recording_transcribed", 6: "document_drafted"}


@dataclass
class Record:
    services: Services
    settings: Settings
    case_id: int
    files: dict[int, str]  # seq -> sha256 of the file linked there
    document_id: int


def migrated_template(root: Path) -> Path:
    """A data dir with a migrated database, made once per module; each record copies its
    database (clone_database) as migrations take ~1 s."""
    template = root / "template"
    if not (template / "migrated").exists():
        services = build_services(make_settings(template, seed_demo_users=False))
        services.db.migrate()
        services.db.engine.dispose()
        (template / "migrated").touch()
    return template


def credentialed_officer(services: Services) -> User:
    """The handling officer `officer` with a valid 执法证件: every recorded act needs one."""
    with services.db.session() as session:
        officer = create_user(
            session, username="officer", password="vanilla-kite-58-river", role="officer"
        )
        session.flush()
        add_credential(
            session,
            "officer",
            number="TEST-0001",
            issued_on=date(2024, 1, 1),
            valid_until=date(2099, 12, 31),
        )
        session.expunge(officer)
    return officer


def build_record(data_dir: Path, template: Path, *, events: int = EVENTS) -> Record:
    """A late-filing case with `events` signed events; events 3 and 6 link a file each."""
    clone_database(template, data_dir)
    settings = make_settings(data_dir, seed_demo_users=False)
    services = build_services(settings)
    officer = credentialed_officer(services)
    case = CaseWorkflow(services).create_case(officer, _new_case())
    files: dict[int, str] = {}
    document_id = 0
    with services.db.session() as session:
        signer = services.keystore().signer(session)
        case_row = session.get(Case, case.id)
        assert case_row is not None
        actor = session.get(User, officer.id)
        assert actor is not None
        for seq in range(2, events + 1):
            details: dict[str, object] = {"step": seq, "note": f"第{seq}步", "amount": "12.50"}
            action = FILE_EVENTS.get(seq, f"step_{seq}")
            if seq in FILE_EVENTS:
                sha, _, _ = services.files.put_bytes(os.urandom(4096) + f"{seq}".encode())
                details["sha256"] = sha
                files[seq] = sha
                if action == "document_drafted":
                    document = Document(
                        case_id=case.id,
                        doc_type="penalty_decision",
                        number=f"示税稽罚〔2026〕{seq}号",
                        sha256=sha,
                        filename="decision.docx",
                        text="决定书",
                        created_by=actor.id,
                    )
                    session.add(document)
                    session.flush()
                    document_id = document.id
            append_event(
                session,
                signer,
                case_row,
                actor_id=actor.id,
                actor_role=actor.role,
                action=action,
                before="investigating",
                after="investigating",
                details=details,
            )
    return Record(services, settings, case.id, files, document_id)


def _new_case() -> NewCase:
    return NewCase(
        taxpayer=TaxpayerInput(name="示例商贸有限公司", id_number=DEMO_USCC, kind="organisation"),
        violation="late_filing",
        facts="该公司增值税纳税申报逾期45日。",
        violation_date=date(2025, 4, 15),
        days_overdue=45,
        tax_unpaid=Decimal("12000.00"),
        corrected_in_time=True,
    )


def resign_as_pre_upgrade(services: Services, case_id: int, *, drop: tuple[str, ...] = ()) -> None:
    """Rewrite a case's record as a database from before content hashes and pinned versions
    holds it: the same events, signed with the real key, without `content` (and without the
    `drop` keys of their details)."""
    with services.db.session() as session:
        signer = services.keystore().signer(session)
        events = list(
            session.query(CaseEvent).filter_by(case_id=case_id).order_by(CaseEvent.id).all()
        )
        rows = [
            (e.actor_id, e.actor_role, e.action, e.state_before, e.state_after, e.details)
            for e in events
        ]
        for event in events:
            session.delete(event)
        case = session.get(Case, case_id)
        assert case is not None
        case.record_length, case.record_head = 0, None
        session.flush()
        for actor_id, role, action, before, after, details in rows:
            append_event(
                session,
                signer,
                case,
                actor_id=actor_id,
                actor_role=role,
                action=action,
                before=before,
                after=after,
                details={k: v for k, v in details.items() if k not in drop},
            )
    services.db.engine.dispose()

"""Record operations the API and CLI share: verify a case, its timeline, key management."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from assistant.db.models import Case, CaseEvent, User
from assistant.errors import NotFound
from assistant.record.chain import RecordReport, verify_case
from assistant.record.event_kinds import event_name
from assistant.record.keys import (
    PublicKeyInfo,
    keyring_from_db,
    keyring_from_json,
    keyring_to_json,
)
from assistant.services import Services


def verify_record(
    services: Services, case_id: int, *, keyring_file: Path | None = None
) -> RecordReport:
    """Verify one case; with a keyring file, trust only the keys published in it."""
    keyring: list[PublicKeyInfo] | None = None
    if keyring_file is not None:
        keyring = keyring_from_json(keyring_file.read_text(encoding="utf-8"))
    with services.db.session() as session:
        return verify_case(session, services.files, case_id, keyring=keyring)


def timeline(services: Services, case_id: int) -> dict[str, Any]:
    """The whole record in order, with who acted and each event's own check, for the UI."""
    with services.db.session() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound(
                "case_not_found", f"案件 {case_id} 不存在。", details={"case_id": case_id}
            )
        report = verify_case(session, services.files, case_id)
        bad: dict[int, list[str]] = {}
        for problem in report.problems:
            if problem.event_id is not None:
                bad.setdefault(problem.event_id, []).append(problem.kind)
        users = {u.id: u for u in session.scalars(select(User))}
        events = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        )
        entries = []
        for event in events:
            actor = users.get(event.actor_id)
            entries.append(
                {
                    "seq": event.seq,
                    "id": event.id,
                    "at": event.created_at.isoformat(),
                    "action": event.action,
                    "name": event_name(event.action),
                    "actor": {
                        "id": event.actor_id,
                        "username": actor.username if actor else None,
                        "display_name": actor.display_name if actor else None,
                        "role": event.actor_role,
                    },
                    "state_before": event.state_before,
                    "state_after": event.state_after,
                    "details": event.details,
                    "files": event.files or [],
                    "hash": event.hash,
                    "key_id": event.key_id,
                    "verified": event.id not in bad,
                    "problems": bad.get(event.id, []),
                }
            )
        return {
            "case_id": case.id,
            "number": case.number,
            "status": case.status,
            "verified": report.ok,
            "content_covered": report.content_covered,
            "problems": report.to_dict()["problems"],
            "notes": report.to_dict()["notes"],
            "events": entries,
        }


def generate_key(services: Services, *, rotate: bool) -> dict[str, Any]:
    keystore = services.keystore()
    with services.db.session() as session:
        row = keystore.rotate(session) if rotate else keystore.generate(session)
        return {
            "key_id": row.key_id,
            "public_key": row.public_key,
            "valid_from": row.valid_from.isoformat(),
            "private_key_file": str(keystore.private_path(row.key_id)),
        }


def list_keys(services: Services) -> list[dict[str, Any]]:
    with services.db.session() as session:
        return [k.to_dict() for k in keyring_from_db(session)]


def export_keyring(services: Services) -> str:
    with services.db.session() as session:
        return keyring_to_json(keyring_from_db(session))

"""Who may touch a case, and loading it: the rules every case module shares.

Why a module of its own: the workflow, the lifecycle, the review checklist, revisions and
escalation all load cases and check roles; living here (importing no other case module) lets
them share one rule without importing each other.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from assistant.auth.security import Role
from assistant.db.models import Case, CaseResult, User
from assistant.errors import Forbidden, NotFound

READER_ROLES = (Role.OFFICER, Role.REVIEWER, Role.APPROVER, Role.ADMIN)


def load_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("case_not_found", f"案件 {case_id} 不存在。", details={"case_id": case_id})
    return case


def lock_case(session: Session, case_id: int) -> Case:
    """The case under its row lock, re-read: a stage change checks the status it changes.

    A no-op UPDATE takes the lock first (PostgreSQL: the row; SQLite: the database write lock,
    waiting out the busy timeout), then the row is read again, so two requests racing on one
    case cannot both pass a check on a status the first of them is about to change.
    """
    session.execute(
        update(Case)
        .where(Case.id == case_id)
        .values(status=Case.status)
        .execution_options(synchronize_session=False)
    )
    # OF cases: PostgreSQL refuses FOR UPDATE on the outer-joined taxpayer the case loads
    case = session.get(Case, case_id, populate_existing=True, with_for_update={"of": Case})
    if case is None:
        raise NotFound("case_not_found", f"案件 {case_id} 不存在。", details={"case_id": case_id})
    return case


def latest_result(session: Session, case_id: int, step: str) -> CaseResult | None:
    return session.scalar(
        select(CaseResult)
        .where(CaseResult.case_id == case_id, CaseResult.step == step)
        .order_by(CaseResult.id.desc())
        .limit(1)
    )


def require_role(actor: User, *roles: Role) -> None:
    if actor.role not in {r.value for r in roles}:
        raise Forbidden(
            "role_not_allowed",
            "当前用户角色无权执行此操作。",
            details={"role": actor.role, "allowed": [r.value for r in roles]},
        )


def require_reader(actor: User, case: Case) -> None:
    """Reading a case and what hangs off it (recordings, jobs, documents): today every
    enforcement role of the authority reads every case, as the case routes always allowed;
    a narrower rule goes here and applies to all of them at once."""
    require_role(actor, *READER_ROLES)


def require_handler(actor: User, case: Case) -> None:
    """Only the handling officer (or an admin) works on a case's investigation steps."""
    require_role(actor, Role.OFFICER, Role.ADMIN)
    if actor.role == Role.OFFICER and actor.id != case.officer_id:
        raise Forbidden("not_case_officer", "只有本案承办人可以办理此案件。")

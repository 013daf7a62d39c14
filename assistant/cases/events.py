"""Recording an action on a case: the one path every signed event takes.

Why: every action needs a credential valid that day and must not break the separation of
duties, and becomes a signed event committing to the case snapshot and the rows it covers.
The workflow, the lifecycle, revisions, transcript corrections and jobs all record through
here, so none of them reaches into another's internals.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from assistant.cases.credentials import require_credential
from assistant.cases.duties import duty_of, require_separate_duty
from assistant.db.models import Case, User
from assistant.record import append_event, commitments
from assistant.record.event_kinds import require_known
from assistant.services import Services


def record_action(
    services: Services,
    session: Session,
    case: Case,
    actor: User,
    action: str,
    before: str | None,
    after: str | None,
    details: dict[str, Any],
    covers: Sequence[object] = (),
) -> None:
    """Check the actor's credential and duty, then append the signed event; `covers` are the
    rows (results, segments, documents, revisions) whose hashes the event commits to, so
    `record verify` catches a later change to them. `action` must be a kind registered in
    assistant/record/event_kinds.py, so every signed event has its Chinese name."""
    require_known(action)
    duty = duty_of(action, details)
    if duty is not None:
        require_separate_duty(session, case, actor, duty)
    details = {**details, "credential": require_credential(session, actor)}
    session.flush()  # ids and defaults exist, so the commitments hash what is stored
    append_event(
        session,
        services.keystore().signer(session),
        case,
        actor_id=actor.id,
        actor_role=actor.role,
        action=action,
        before=before,
        after=after,
        details=details,
        content=commitments(case, covers),
    )

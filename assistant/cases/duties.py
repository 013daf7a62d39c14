"""Separation of duties (行政处罚法第五十八条): on one case, whoever handles it, whoever
reviews it (法制审核) and whoever approves or decides it are three different people, whatever
their role, admin included.

Who held which duty is read from the case's signed record (plus the case's handling officer),
never from a role: an admin who opened a case is its handler and cannot then review or
approve it, and a reviewer who later approves would be caught the same way.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.db.models import Case, CaseEvent, User
from assistant.documents.registry import REVIEWER_TYPES
from assistant.errors import Forbidden

Duty = Literal["handling", "review", "approval"]
DUTY_NAMES: dict[str, str] = {"handling": "承办", "review": "法制审核", "approval": "批准/决定"}
SOURCE = "行政处罚法第五十八条（法制审核人员与承办人员分离）；承办、审核、批准由不同人员担任"

REVIEW_ACTIONS = frozenset({"legal_review"})
# The leader's acts: approval, the decision, issuing a document, deciding a review dispute,
# scheduling a hearing (naming its chair), recording the review committee's opinion, and the
# bureau head's decision on a referral to the police.
APPROVAL_ACTIONS = frozenset(
    {
        "approved",
        "decided",
        "document_issued",
        "escalation_decided",
        "hearing_scheduled",
        "committee_reviewed",
        "referred",
        "referral_rejected",
    }
)
# Chairing the hearing is no duty of the three: 行政处罚法第六十四条第（四）项 bars only the
# case's investigators from it (a guard of its own), so a reviewer or leader may chair.
# Publishing an issued decision (行政执法公示) and withdrawing it follow the decision and are
# none of the three duties either, nor is recording what the party's 复议 or lawsuit brought
# (assistant/outcomes): whoever learns of it records it.
NEUTRAL_ACTIONS = frozenset(
    {
        "hearing_held",
        "publication_drafted",
        "publication_published",
        "publication_withdrawn",
        "reconsideration_applied",
        "reconsideration_decided",
        "lawsuit_filed",
        "lawsuit_judged",
    }
)


def duty_of(action: str, details: dict[str, Any]) -> Duty | None:
    """The duty a recorded action belongs to (None: no duty); anything not review, approval or
    neutral is handling. Drafting or editing a reviewer's document type (the registry's
    `drafter`) is review."""
    if action in NEUTRAL_ACTIONS:
        return None
    if action in REVIEW_ACTIONS:
        return "review"
    if action in APPROVAL_ACTIONS:
        return "approval"
    if action in {"document_drafted", "document_edited"} and (
        details.get("doc_type") in REVIEWER_TYPES
    ):
        return "review"
    return "handling"


def duties_held(session: Session, case: Case, user_id: int) -> set[str]:
    """The duties `user_id` has performed on the case, according to its record."""
    held: set[str] = {"handling"} if user_id == case.officer_id else set()
    for action, details in session.execute(
        select(CaseEvent.action, CaseEvent.details).where(
            CaseEvent.case_id == case.id, CaseEvent.actor_id == user_id
        )
    ):
        duty = duty_of(action, details or {})
        if duty is not None:
            held.add(duty)
    return held


def require_separate_duty(session: Session, case: Case, actor: User, duty: Duty) -> None:
    """403 `separation_of_duties` when the actor already holds another duty on this case."""
    others = sorted(duties_held(session, case, actor.id) - {duty})
    if others:
        held = "、".join(DUTY_NAMES[d] for d in others)
        raise Forbidden(
            "separation_of_duties",
            f"您已在本案担任{held}，不得再担任{DUTY_NAMES[duty]}：同一案件的承办、法制审核与"
            "批准须由不同人员担任。",
            details={
                "rule": "separation_of_duties",
                "source": SOURCE,
                "case_id": case.id,
                "duty": duty,
                "held": others,
            },
        )

"""Finding cases: the filtered case list and each role's work queue.

Why a module of its own: the workbench (and any other client) asks "which cases" in the same
terms the lifecycle decides "which stage", so a queue is defined by the lifecycle's own
transition table (a case awaits review when the review may start from its stage), not by a
second list of stages that could drift from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from assistant.auth.security import Role
from assistant.cases.lifecycle import TRANSITIONS
from assistant.db.models import Case, Document, Taxpayer, User
from assistant.documents.registry import REVIEWER_TYPES

# Stages in which a case is still being worked on (a closed or referred case is done).
FINISHED_STAGES = frozenset({"closed", "referred"})
# The lifecycle's sources of a review (调查取证, or after a hearing) and of an approval.
REVIEW_FROM = TRANSITIONS["review"][0]
APPROVE_FROM = TRANSITIONS["approve"][0]
# After approval the leader decides (决定), then issues (签发) the decision.
DECIDE_FROM = TRANSITIONS["decide"][0] | {"decided"}


@dataclass(frozen=True)
class CaseFilter:
    """What the case list is narrowed by; None or empty: not filtered on it."""

    text: str = ""  # 案件编号, 纳税人名称 or 统一社会信用代码 (part of it), or words of the facts
    status: str | None = None
    violation: str | None = None
    date_from: date | None = None  # violation date, inclusive
    date_to: date | None = None
    officer: str | None = None  # username of the handling officer
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True)
class QueueSection:
    """One heading of a work queue and its cases, newest first."""

    title: str
    why: str
    cases: list[Case]


def find_cases(session: Session, filters: CaseFilter) -> list[Case]:
    query: Select[Case] = select(Case).join(Case.taxpayer)
    text = filters.text.strip()
    if text:
        like = f"%{_escape_like(text)}%"
        query = query.where(
            or_(
                Case.number.ilike(like, escape="\\"),
                Taxpayer.name.ilike(like, escape="\\"),
                Taxpayer.uscc.ilike(like, escape="\\"),
                Case.facts.ilike(like, escape="\\"),
            )
        )
    if filters.status:
        query = query.where(Case.status == filters.status)
    if filters.violation:
        query = query.where(Case.violation_code == filters.violation)
    if filters.date_from is not None:
        query = query.where(Case.violation_date >= filters.date_from)
    if filters.date_to is not None:
        query = query.where(Case.violation_date <= filters.date_to)
    if filters.officer:
        query = query.join(User, User.id == Case.officer_id).where(User.username == filters.officer)
    query = query.order_by(Case.id.desc()).limit(filters.limit).offset(filters.offset)
    return list(session.scalars(query).unique())


def work_queue(session: Session, actor: User) -> list[QueueSection]:
    """What waits for `actor`: 承办人 their open cases; 法制审核 the cases with drafts whose stage
    lets the review start; 负责人 the reviewed cases awaiting approval, then those awaiting the
    decision or the issue of a document. An admin sees the three queues."""
    role = actor.role
    sections: list[QueueSection] = []
    if role in (Role.OFFICER, Role.ADMIN):
        mine = select(Case).where(Case.status.not_in(FINISHED_STAGES))
        if role == Role.OFFICER:
            mine = mine.where(Case.officer_id == actor.id)
        sections.append(
            QueueSection("我承办的案件", "本人承办、尚未结案的案件", _run(session, mine))
        )
    if role in (Role.REVIEWER, Role.ADMIN):
        drafted = exists().where(
            Document.case_id == Case.id, Document.doc_type.not_in(REVIEWER_TYPES)
        )
        awaiting = select(Case).where(Case.status.in_(REVIEW_FROM), drafted)
        sections.append(
            QueueSection(
                "待法制审核", "已起草处罚文书、处于可提交审核阶段的案件", _run(session, awaiting)
            )
        )
    if role in (Role.APPROVER, Role.ADMIN):
        approval = select(Case).where(Case.status.in_(APPROVE_FROM))
        sections.append(
            QueueSection("待负责人批准", "法制审核已通过的案件", _run(session, approval))
        )
        deciding = select(Case).where(Case.status.in_(DECIDE_FROM))
        sections.append(
            QueueSection("待决定或签发", "已批准、已告知或已决定的案件", _run(session, deciding))
        )
    return sections


def _run(session: Session, query: Select[Case]) -> list[Case]:
    return list(session.scalars(query.order_by(Case.id.desc()).limit(200)).unique())


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

"""The case lifecycle as an explicit state machine with the guards the law sets.

立案 → 调查取证 (investigating) → 审理/法制审核 (review_passed | review_failed → resubmit) →
负责人批准 (approved) → 告知 (notified) → 陈述申辩 and its 复核 / 听证 (hearing_requested →
hearing_scheduled → heard → review again) → 重大税务案件审理 where the amount requires it →
决定 (decided) → 送达 (served) → 执行 (executing) → 结案归档 (closed); a case whose facts reach a
criminal threshold goes to 移送 (referral_proposed → referred, approved by the bureau head)
instead of an administrative decision, and back to investigating when the head refuses or the
police decline to open a criminal case.

The facts the guards need (when the notice was served, whether a hearing was requested and
held, the last review's result) are read from the case's signed event record, never from a
mutable column: the record is the source of truth. Every refusal is a 409 whose details name
the rule (`rule`) and its legal source (`source`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.auth.security import Role
from assistant.cases.access import (
    latest_result,
    load_case,
    lock_case,
    require_handler,
    require_role,
)
from assistant.cases.drafts import draft_in
from assistant.cases.duties import require_separate_duty
from assistant.cases.events import record_action
from assistant.cases.guard_rules import load_guard_rules
from assistant.cases.review_checklist import POINTS, conclude, evaluate
from assistant.dates import to_china_time, today_in_china
from assistant.db.models import Case, CaseEvent, Document, DocumentRevision, Job, User
from assistant.documents.registry import DECISION_TYPES, NOTICES, REGISTRY, REVIEWER_TYPES
from assistant.errors import Conflict, Forbidden, InvalidInput, TaxAssistError
from assistant.jobs.store import INDEX_CLOSED_CASES
from assistant.record import text_sha256
from assistant.services import Services

# Chinese names of the stages, for messages and the UI.
STAGES = {
    "investigating": "调查取证",
    "review_passed": "法制审核通过",
    "review_failed": "法制审核存在问题（退回补正）",
    "escalated": "审核意见分歧（已提请负责人协调/决定）",
    "approved": "负责人已批准",
    "notified": "已告知（陈述申辩期）",
    "hearing_requested": "已申请听证",
    "hearing_scheduled": "已通知听证",
    "heard": "已听证",
    "decided": "已作出决定",
    "served": "已送达",
    "executing": "执行中",
    "closed": "结案归档",
    "referral_proposed": "已提出移送（待负责人审批）",
    "referred": "已移送司法机关",
}

# The target of an action that records a step without moving the case to another stage.
STAY = "="

# 陈述申辩 and its 复核 may come at any point after the notice and before the decision.
STATEMENT_STAGES = frozenset(
    {"notified", "hearing_requested", "hearing_scheduled", "heard", "review_passed", "approved"}
)
# Stages in which a passed legal review stands: a document changed here reopens the review.
REVIEWED_STAGES = frozenset({"review_passed", "approved", "notified", "hearing_requested"})
# The stage a new case starts in (立案 → 调查取证).
INITIAL_STAGE = "investigating"
# action -> (stages it may start from, stage(s) it leads to: "a|b" when the act decides which).
# Every change of a case's stage goes through `enter`, which checks this table.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "review": (frozenset({"investigating", "heard"}), "review_passed|review_failed"),
    "resubmit": (frozenset({"review_failed"}), "investigating"),
    # disagreement with 存在问题 (assistant/cases/escalation.py)
    "escalate": (frozenset({"review_failed"}), "escalated"),
    "decide_escalation": (frozenset({"escalated"}), "review_failed|review_passed|escalated"),
    "approve": (frozenset({"review_passed"}), "approved"),
    "notify": (frozenset({"approved"}), "notified"),
    "request_hearing": (frozenset({"notified"}), "hearing_requested"),
    "schedule_hearing": (
        frozenset({"hearing_requested", "hearing_scheduled"}),
        "hearing_scheduled",
    ),
    "hold_hearing": (frozenset({"hearing_scheduled"}), "heard"),
    "record_statement": (STATEMENT_STAGES, STAY),
    "review_statement": (STATEMENT_STAGES, STAY),
    "committee_review": (frozenset({"approved", "notified"}), STAY),
    "decide": (frozenset({"approved", "notified"}), "decided"),
    "serve": (frozenset({"decided"}), "served"),
    "execute": (frozenset({"served"}), "executing"),
    "close": (frozenset({"served", "executing", "referred"}), "closed"),
    "refer": (frozenset({"investigating", "review_passed", "approved"}), "referral_proposed"),
    "approve_referral": (frozenset({"referral_proposed"}), "referred"),
    "reject_referral": (frozenset({"referral_proposed"}), "investigating"),
    "police_declined": (frozenset({"referred"}), "investigating"),
    # a document changed after the review passed: reviewed and approved again
    "reopen_review": (REVIEWED_STAGES, "investigating"),
}

ACTION_NAMES = {
    "review": "法制审核",
    "resubmit": "补正后重新提交审核",
    "escalate": "对审核意见提请协调",
    "decide_escalation": "协调/决定审核意见分歧",
    "approve": "负责人批准",
    "notify": "告知",
    "request_hearing": "申请听证",
    "schedule_hearing": "通知听证（指定主持人）",
    "hold_hearing": "举行听证",
    "record_statement": "记录陈述申辩",
    "review_statement": "复核陈述申辩",
    "committee_review": "重大税务案件审理委员会审理",
    "decide": "作出决定",
    "serve": "送达",
    "execute": "执行",
    "close": "结案归档",
    "refer": "提出移送（移送涉嫌犯罪案件的书面报告）",
    "approve_referral": "批准移送司法机关",
    "reject_referral": "不批准移送",
    "police_declined": "公安机关不予立案，转回行政处理",
    "reopen_review": "重新提交法制审核",
}

# action -> the kind of signed event it writes (named in assistant/record/event_kinds.py).
ACTION_EVENTS = {
    "review": "legal_review",
    "resubmit": "resubmitted",
    "escalate": "review_escalated",
    "decide_escalation": "escalation_decided",
    "approve": "approved",
    "notify": "notified",
    "request_hearing": "hearing_requested",
    "schedule_hearing": "hearing_scheduled",
    "hold_hearing": "hearing_held",
    "record_statement": "statement_recorded",
    "review_statement": "statement_reviewed",
    "committee_review": "committee_reviewed",
    "decide": "decided",
    "serve": "served",
    "execute": "executed",
    "close": "closed",
    "refer": "referral_proposed",
    "approve_referral": "referred",
    "reject_referral": "referral_rejected",
    "police_declined": "referral_declined_by_police",
    "reopen_review": "review_reopened",
}

# Every rule a refusal can name, with its legal source: data, in corpora/procedure_guards.yaml.
RULES = load_guard_rules().rules
# Rules about the date of an act answer 422 (a bad input), the others 409.
DATE_RULES = frozenset({"act_date"})


@dataclass(frozen=True)
class RecordFacts:
    """What the signed record says happened, as the guards need it."""

    notice_date: date | None
    hearing_requested: date | None
    hearing_held: date | None
    reviews: list[tuple[int, bool]]  # (event seq, passed)
    hearing_seq: int | None
    last_act: date | None
    escalation_overrules: int = 0  # reviews resolved by the principal (escalation.py)
    notice_seq: int | None = None
    notice_amount: Decimal | None = None  # the fine the notice announced
    # what else the latest notice announced (violation, legal ground, facts): a decision on
    # other facts or another basis needs a new notice (行政处罚法第四十四条); None: not recorded
    notice_substance: dict[str, Any] | None = None
    hearing_on: date | None = None  # the hearing date of the latest 听证通知
    hearing_chair: int | None = None
    statements: int = 0
    statement_reviews: int = 0
    statement_waived: bool = False
    hearing_waived: bool = False
    committee_seq: int | None = None
    referral_returned: bool = False  # the latest referral ended in administrative handling


class ProbePassed(Exception):
    """Raised by a probing lifecycle once every check of an action passed: nothing written."""


@dataclass(frozen=True)
class ActionCheck:
    """Whether `actor` may take `action` now, and if not, the refusal the act would get."""

    action: str
    name: str
    allowed: bool
    code: str = ""
    message: str = ""
    source: str = ""  # the article (or procedure) the refusal rests on, where it names one


def refuse(rule: str, message: str, **details: Any) -> Conflict | InvalidInput:
    """The refusal for `rule`: its message names the article the rule comes from."""
    error = InvalidInput if rule in DATE_RULES else Conflict
    return error(
        f"rule_{rule}",
        f"{message}（依据：{RULES[rule]}）",
        details={"rule": rule, "source": RULES[rule], **details},
    )


def check_transition(case: Case, action: str) -> str:
    """Refuse an action the case's stage does not allow; returns the stage it leads to."""
    allowed, target = TRANSITIONS[action]
    if case.status not in allowed:
        raise refuse(
            "lifecycle_order",
            f"案件处于“{STAGES.get(case.status, case.status)}”阶段，不能{ACTION_NAMES[action]}。",
            action=action,
            status=case.status,
            allowed_from=sorted(allowed),
        )
    return target


def enter(case: Case, action: str, target: str | None = None) -> tuple[str, str]:
    """Move the case by `action` after the transition check: (stage before, stage after).

    `target` picks one of the action's declared stages where the act decides (a review passes
    or fails); a target the table does not declare is a programming error, not a user's.
    """
    declared = check_transition(case, action)
    after = target or declared
    if after not in declared.split("|") or "|" in after:
        raise ValueError(f"{action} cannot lead to {after} (declared: {declared})")
    before = case.status
    if after != STAY:
        case.status = after
    return before, case.status


def check_issue(case: Case, doc_type: str) -> None:
    """签发 only at the stages the lifecycle allows for the type: a 决定书 once the decision is
    made (after the notice and the statement or hearing), other documents once approved."""
    stages = load_guard_rules().stages_for(doc_type)
    if case.status in stages:
        return
    if case.status in {"investigating", "review_passed", "review_failed", "escalated"}:
        raise Conflict(
            "case_not_approved",
            "案件尚未经负责人批准，不能签发文书。",
            details={"status": case.status},
        )
    raise refuse(
        "document_issue_stage",
        f"案件处于“{STAGES.get(case.status, case.status)}”阶段，该文书尚不能签发"
        "（处罚决定书须在告知、听取陈述申辩并作出决定后签发）。",
        status=case.status,
        doc_type=doc_type,
        allowed_stages=sorted(stages),
    )


def needs_penalty_documents(session: Session, case: Case) -> bool:
    """Penalty drafts are reviewed with the case; a 不予处罚 case or one to be referred (移送)
    has none: no administrative penalty document is made for it."""
    result = latest_result(session, case.id, "discretion")
    if result is None:
        return True
    if result.payload.get("decision") == "no_penalty":
        return False
    # Back from a refused or declined referral, the case is handled as a penalty case again.
    return (
        not result.payload.get("criminal_referral")
        or record_facts(session, case.id).referral_returned
    )


def record_facts(session: Session, case_id: int) -> RecordFacts:
    """Read the guards' facts from the signed record. `last_act` is the latest date any earlier
    event happened: its stated date (`on`) or, for an event without one, the China date it was
    recorded, so no act can be dated before the case was opened or before an earlier step."""
    notice = requested = held = last = None
    hearing_seq = None
    overrules = 0
    reviews: list[tuple[int, bool]] = []
    more: dict[str, Any] = {"statements": 0, "statement_reviews": 0}
    events = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
    )
    for event in events:
        on = event.details.get("on")
        when = (
            date.fromisoformat(on)
            if isinstance(on, str)
            else to_china_time(event.created_at).date()
            if event.created_at is not None
            else None
        )
        if when is not None and (last is None or when > last):
            last = when
        if event.action == "notified":
            notice = when
            # A new notice tells the party of a new proposal: a waiver of 陈述申辩 or of the
            # hearing answered the earlier one and does not carry over (行政处罚法第四十四条、
            # 第六十三条: the rights are the party's for each notice).
            more["statement_waived"] = more["hearing_waived"] = False
            more["notice_seq"] = event.seq
            amount = event.details.get("amount")
            more["notice_amount"] = Decimal(str(amount)) if amount is not None else None
            more["notice_substance"] = event.details.get("substance")
        elif event.action == "hearing_requested":
            requested = when
        elif event.action == "hearing_scheduled":
            more["hearing_on"] = date.fromisoformat(event.details["hearing_on"])
            more["hearing_chair"] = event.details.get("chair_id")
        elif event.action == "hearing_held":
            held, hearing_seq = when, event.seq
        elif event.action == "statement_recorded":
            if event.details.get("waives_hearing"):
                more["hearing_waived"] = True
            if event.details.get("waived"):
                more["statement_waived"] = True
            if event.details.get("statement"):
                more["statements"] += 1
        elif event.action == "statement_reviewed":
            more["statement_reviews"] += 1
        elif event.action == "committee_reviewed":
            more["committee_seq"] = event.seq
        elif event.action in {"referral_rejected", "referral_declined_by_police"}:
            more["referral_returned"] = True
        elif event.action == "referral_proposed":
            more["referral_returned"] = False
        elif event.action == "legal_review":
            reviews.append((event.seq or 0, event.details.get("result") == "同意"))
        elif event.action == "escalation_decided" and event.details.get("outcome") == "overrule":
            # The principal adopted the unit's view: the disputed review counts as resolved.
            reviews.append((event.seq or 0, True))
            overrules += 1
    return RecordFacts(notice, requested, held, reviews, hearing_seq, last, overrules, **more)


CHANGE_NAMES = {"violation": "违法行为", "legal_ground": "处罚依据", "facts_sha256": "违法事实"}


def substance(case: Case, suggestion: dict[str, Any]) -> dict[str, Any]:
    """What a notice tells the party besides the fine (行政处罚法第四十四条: 事实、理由、依据)."""
    return {
        "violation": case.violation_code,
        "legal_ground": [c for c in suggestion.get("legal_ground", []) if isinstance(c, str)],
        "facts_sha256": text_sha256(case.facts),
    }


def substance_changed(facts: RecordFacts, case: Case, suggestion: dict[str, Any]) -> list[str]:
    """What differs between the latest notice and the decision now proposed (empty: nothing,
    or a notice recorded before its substance was). A lower fine is no change that needs a new
    notice: 第四十五条 lets the authority adopt the party's statement."""
    if facts.notice_substance is None:
        return []
    now = substance(case, suggestion)
    return [
        key
        for key in now
        if key in facts.notice_substance and facts.notice_substance[key] != now[key]
    ]


def is_major(suggestion: dict[str, Any], facts: RecordFacts, flags: list[str]) -> list[str]:
    """Why a decision is major (empty: not major): 行政处罚法第五十八条 + the bureau's amount."""
    from assistant.discretion import load_procedure

    procedure = load_procedure()
    reasons = [f for f in flags if f in {t.code for t in procedure.legal_review_triggers}]
    if facts.hearing_held is not None:
        reasons.append("hearing_held")
    amount = Decimal(str(suggestion.get("suggested_amount") or "0"))
    if amount >= procedure.legal_review_amount_threshold:
        reasons.append("amount_threshold")
    return reasons


class CaseLifecycle:
    """Every action that moves a case from stage to stage, each through `enter`."""

    def __init__(self, services: Services, *, probe: bool = False) -> None:
        self.services = services
        # A probing lifecycle runs every check of an act on the case as read (no row lock) and
        # stops with ProbePassed before anything changes: what the act would answer, no act.
        self.probe = probe

    def load(self, session: Session, case_id: int) -> Case:
        """The case to act on: under its row lock, or as read when probing (no write lock)."""
        return load_case(session, case_id) if self.probe else lock_case(session, case_id)

    def check_actions(self, actor: User, case_id: int) -> list[ActionCheck]:
        """Each action the workbench offers, probed for `actor`: allowed now, or the guard's
        refusal (its message and article), so the page says why a button is not there. Actions
        that need the party's or the chair's input are probed with neutral inputs: a refusal of
        the input itself (InvalidInput that names no rule) means the act is open to a form."""
        probe = CaseLifecycle(self.services, probe=True)
        attempts: dict[str, Any] = {
            "review": lambda: probe.review(actor, case_id, passed=True, opinion=""),
            "resubmit": lambda: probe.resubmit(actor, case_id, note=""),
            "approve": lambda: probe.approve(actor, case_id),
            "notify": lambda: probe.notify(actor, case_id),
            "record_statement": lambda: probe.record_statement(actor, case_id, waived=True),
            "review_statement": lambda: probe.review_statement(
                actor, case_id, opinion="-", adopted=False
            ),
            "request_hearing": lambda: probe.request_hearing(actor, case_id),
            "schedule_hearing": lambda: probe.schedule_hearing(
                actor, case_id, hearing_on=today_in_china(), chair="", place=""
            ),
            # recorded as held on the notified day (the chair's form proposes it)
            "hold_hearing": lambda: probe.hold_hearing(
                actor, case_id, record="-", on=self.hearing_day(case_id)
            ),
            "committee_review": lambda: probe.committee_review(actor, case_id, opinion="-"),
            "decide": lambda: probe.decide(actor, case_id),
            "serve": lambda: probe.serve(actor, case_id),
            "execute": lambda: probe.execute(actor, case_id),
            "close": lambda: probe.close(actor, case_id),
            "refer": lambda: probe.refer(actor, case_id),
            "approve_referral": lambda: probe.decide_referral(
                actor, case_id, approve=True, reason=""
            ),
            "reject_referral": lambda: probe.decide_referral(
                actor, case_id, approve=False, reason="-"
            ),
            "police_declined": lambda: probe.police_declined(actor, case_id, notice="-"),
        }
        checks = []
        for action, attempt in attempts.items():
            name = ACTION_NAMES[action]
            try:
                attempt()
            except ProbePassed:
                checks.append(ActionCheck(action, name, True))
            except TaxAssistError as exc:
                if isinstance(exc, InvalidInput) and "rule" not in exc.details:
                    checks.append(ActionCheck(action, name, True))
                else:
                    source = str(exc.details.get("source", ""))
                    checks.append(ActionCheck(action, name, False, exc.code, exc.message, source))
        return checks

    def hearing_day(self, case_id: int) -> date | None:
        """The hearing date of the latest 听证通知 (None before one), while a hearing is
        scheduled: the day the hearing is to be recorded as held."""
        with self.services.db.session() as session:
            case = load_case(session, case_id)
            if case.status != "hearing_scheduled":
                return None
            return record_facts(session, case_id).hearing_on

    # -- legal review and approval (separation of duties) --------------------------------------
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
            return load_case(session, case.id)

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
        """The review inside the caller's transaction (its 意见书 joins it)."""
        require_role(actor, Role.REVIEWER, Role.ADMIN)
        case = self.load(session, case_id)
        require_separate_duty(session, case, actor, "review")
        check_transition(case, "review")  # only from 调查取证 or after a hearing
        if needs_penalty_documents(session, case) and not session.scalar(
            select(func.count(Document.id)).where(Document.case_id == case.id)
        ):
            raise Conflict("documents_required", "案件尚无处罚文书草稿，不能提交法制审核。")
        if self.probe:
            raise ProbePassed(case.id)
        before, after = enter(case, "review", "review_passed" if passed else "review_failed")
        documents = reviewed_documents(session, case.id)
        record_action(
            self.services,
            session,
            case,
            actor,
            ACTION_EVENTS["review"],
            before,
            after,
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
        require_role(actor, Role.APPROVER, Role.ADMIN)
        with self.services.db.session() as session:
            case = self.load(session, case_id)
            require_separate_duty(session, case, actor, "approval")
            if case.status != "review_passed":
                raise Conflict(
                    "review_not_passed",
                    "法制审核未通过或尚未审核，不得作出决定。",
                    details={"status": case.status},
                )
            if self.probe:
                raise ProbePassed(case.id)
            before, after = enter(case, "approve")
            documents = reviewed_documents(session, case.id)
            record_action(
                self.services,
                session,
                case,
                actor,
                ACTION_EVENTS["approve"],
                before,
                after,
                {"opinion": opinion, "documents": document_versions(session, documents)},
                covers=documents,
            )
            session.flush()
            return load_case(session, case.id)

    def reopen_review(
        self, session: Session, case: Case, actor: User, document: Document, why: str
    ) -> None:
        """A document changed after the review passed: the review and any approval no longer
        cover it, so the case goes back to 调查取证 and must be reviewed and approved again."""
        if case.status not in REVIEWED_STAGES:
            return
        before, after = enter(case, "reopen_review")
        record_action(
            self.services,
            session,
            case,
            actor,
            ACTION_EVENTS["reopen_review"],
            before,
            after,
            {"document_id": document.id, "number": document.number, "reason": why},
            covers=[document],
        )

    def notify(self, actor: User, case_id: int, *, on: date | None = None) -> Case:
        """告知: the penalty notice is served; the statement period and hearing window start."""

        def guard(session: Session, case: Case, facts: RecordFacts) -> dict[str, Any]:
            suggestion = self._suggestion(session, case)
            if suggestion.get("decision") != "penalty":
                raise refuse(
                    "lifecycle_order",
                    "不予处罚的案件无需告知拟处罚内容，请直接作出不予处罚决定。",
                    action="notify",
                    status=case.status,
                )
            notice = session.scalar(
                select(Document)
                .where(Document.case_id == case.id, Document.doc_type.in_(NOTICES))
                .order_by(Document.id.desc())
                .limit(1)
            )
            if notice is None:
                raise refuse(
                    "penalty_notice_document", "尚未制作税务行政处罚事项告知书，不能告知。"
                )
            if facts.notice_date is not None and not substance_changed(facts, case, suggestion):
                raise refuse("lifecycle_order", "已告知当事人，不能重复告知。", status=case.status)
            return {
                "document_id": notice.id,
                "number": notice.number,
                "amount": suggestion.get("suggested_amount"),
                "substance": substance(case, suggestion),
            }

        return self._act(actor, case_id, "notify", on, guard, handler=True)

    def request_hearing(self, actor: User, case_id: int, *, on: date | None = None) -> Case:
        """The party asks for a hearing; only within the statutory days after the notice."""

        def guard(session: Session, case: Case, facts: RecordFacts) -> dict[str, Any]:
            from assistant.discretion import load_procedure

            days = load_procedure().hearing_request_days
            when = on or today_in_china()
            assert facts.notice_date is not None
            if when > facts.notice_date + timedelta(days=days):
                raise refuse(
                    "hearing_request_period",
                    f"听证申请超过告知后{days}日的期限（告知日 {facts.notice_date}）。",
                    notice_date=facts.notice_date.isoformat(),
                    requested_on=when.isoformat(),
                )
            return {}

        return self._act(actor, case_id, "request_hearing", on, guard)

    def schedule_hearing(
        self,
        actor: User,
        case_id: int,
        *,
        hearing_on: date,
        chair: str,
        place: str,
        on: date | None = None,
    ) -> Case:
        """听证通知: the authority designates a chair who did not investigate and notifies the
        party of the time and place at least the statutory days before the hearing."""

        def guard(session: Session, case: Case, facts: RecordFacts) -> dict[str, Any]:
            require_role(actor, Role.APPROVER, Role.ADMIN)
            if not place.strip():
                raise InvalidInput("missing_hearing_place", "请填写听证地点。")
            days = load_guard_rules().hearing_notice_days
            notified = on or today_in_china()
            if hearing_on < notified + timedelta(days=days):
                raise refuse(
                    "hearing_notice_period",
                    f"听证通知须在举行听证的{days}日前送达当事人"
                    f"（通知日 {notified}，听证日最早为 {notified + timedelta(days=days)}）。",
                    notified_on=notified.isoformat(),
                    hearing_on=hearing_on.isoformat(),
                    earliest=(notified + timedelta(days=days)).isoformat(),
                )
            person = session.scalar(select(User).where(User.username == chair))
            if person is None or not person.active:
                raise InvalidInput("unknown_hearing_chair", f"听证主持人 {chair} 不存在或已停用。")
            if person.id in investigators(session, case):
                raise refuse(
                    "hearing_chair",
                    "听证主持人不得由本案调查人员担任，请指定非本案调查人员主持。",
                    chair=chair,
                )
            return {
                "hearing_on": hearing_on.isoformat(),
                "chair_id": person.id,
                "chair": person.display_name,
                "place": place,
            }

        return self._act(actor, case_id, "schedule_hearing", on, guard, handler=False)

    def hold_hearing(
        self, actor: User, case_id: int, *, record: str, on: date | None = None
    ) -> Case:
        """听证: held on the notified day by the designated chair, with its 听证笔录."""

        def guard(session: Session, case: Case, facts: RecordFacts) -> dict[str, Any]:
            if actor.id != facts.hearing_chair:
                raise refuse(
                    "hearing_chair",
                    "只有被指定的听证主持人可以记录听证。",
                    chair=facts.hearing_chair,
                )
            when = on or today_in_china()
            if facts.hearing_on is not None and when != facts.hearing_on:
                raise refuse(
                    "hearing_notice_period",
                    f"听证日期与听证通知不一致（通知的听证日 {facts.hearing_on}）；"
                    "改期须重新通知当事人。",
                    hearing_on=facts.hearing_on.isoformat(),
                    on=when.isoformat(),
                )
            if not record.strip():
                raise refuse("hearing_record", "听证应当制作笔录，请填写听证笔录。")
            return {"record": record}

        return self._act(actor, case_id, "hold_hearing", on, guard, handler=False)

    def record_statement(
        self,
        actor: User,
        case_id: int,
        *,
        statement: str = "",
        waived: bool = False,
        waives_hearing: bool = False,
        on: date | None = None,
    ) -> Case:
        """陈述申辩: what the party stated, or that they expressly waived the right; the party may
        also expressly waive the hearing offered (otherwise the decision waits out its period)."""

        def guard(session: Session, case: Case, facts: RecordFacts) -> dict[str, Any]:
            if facts.notice_date is None:
                raise refuse("notice_before_decision", "尚未告知当事人，不能记录陈述申辩。")
            said = bool(statement.strip())
            if (waived and said) or not (waived or said or waives_hearing):
                raise InvalidInput(
                    "invalid_statement",
                    "请填写当事人陈述申辩的内容，或注明当事人明确放弃陈述申辩（二者选一），"
                    "或注明当事人明确放弃听证。",
                )
            details: dict[str, Any] = {"waived": True} if waived else {}
            if said:
                details["statement"] = statement
            return {**details, "waives_hearing": True} if waives_hearing else details

        return self._act(actor, case_id, "record_statement", on, guard, handler=True)

    def review_statement(
        self, actor: User, case_id: int, *, opinion: str, adopted: bool, on: date | None = None
    ) -> Case:
        """复核: the facts, reasons and evidence the party gave are checked and answered."""

        def guard(session: Session, case: Case, facts: RecordFacts) -> dict[str, Any]:
            if facts.statement_reviews >= facts.statements:
                raise refuse("statement_review", "没有待复核的陈述申辩。")
            if not opinion.strip():
                raise InvalidInput("missing_review_opinion", "请填写复核意见。")
            return {"opinion": opinion, "adopted": adopted}

        return self._act(actor, case_id, "review_statement", on, guard, handler=True)

    def committee_review(
        self, actor: User, case_id: int, *, opinion: str, on: date | None = None
    ) -> Case:
        """重大税务案件审理委员会的审理意见, recorded by a leader, never the handling officer."""

        def guard(session: Session, case: Case, facts: RecordFacts) -> dict[str, Any]:
            require_role(actor, Role.APPROVER, Role.ADMIN)
            require_separate_duty(session, case, actor, "approval")
            if not opinion.strip():
                raise InvalidInput("missing_committee_opinion", "请填写审理委员会的审理意见。")
            return {"opinion": opinion}

        return self._act(actor, case_id, "committee_review", on, guard, handler=False)

    def decide(self, actor: User, case_id: int, *, on: date | None = None) -> Case:
        """决定: by the leader, only when every procedural guard holds."""
        from assistant.discretion import load_procedure

        def guard(session: Session, case: Case, facts: RecordFacts) -> dict[str, Any]:
            require_role(actor, Role.APPROVER, Role.ADMIN)
            require_separate_duty(session, case, actor, "approval")
            suggestion = self._suggestion(session, case)
            if suggestion.get("criminal_referral") and not facts.referral_returned:
                raise refuse(
                    "criminal_referral",
                    "案件事实达到涉嫌犯罪标准，应移送司法机关，不得以行政处罚决定代替移送。",
                )
            when = on or today_in_china()
            decision = suggestion.get("decision", "penalty")
            if decision == "penalty":
                if facts.notice_date is None:
                    raise refuse(
                        "notice_before_decision", "尚未告知当事人拟作出的处罚，不得作出处罚决定。"
                    )
                if facts.hearing_requested is not None and facts.hearing_held is None:
                    raise refuse(
                        "hearing_before_decision", "当事人已申请听证，听证前不得作出决定。"
                    )
                if facts.statement_reviews < facts.statements:
                    raise refuse(
                        "statement_review",
                        "当事人的陈述申辩尚未复核，不得作出决定。",
                        statements=facts.statements,
                        reviewed=facts.statement_reviews,
                    )
                days = load_procedure().statement_defence_days
                ends = facts.notice_date + timedelta(days=days)
                heard = facts.hearing_held is not None or facts.statement_waived
                if not heard and not facts.statements and when <= ends:
                    raise refuse(
                        "statement_period",
                        f"陈述申辩期（告知后{days}日，至 {ends}）尚未届满，当事人既未陈述申辩"
                        "也未明确放弃，不得作出决定。",
                        statement_period_ends=ends.isoformat(),
                    )
                request_days = load_procedure().hearing_request_days
                request_ends = facts.notice_date + timedelta(days=request_days)
                if (
                    suggestion.get("hearing_required")
                    and facts.hearing_requested is None
                    and not facts.hearing_waived
                    and when <= request_ends
                ):
                    raise refuse(
                        "hearing_request_period",
                        f"当事人享有听证权利，告知后{request_days}日（至 {request_ends}）内可以"
                        "要求听证；期限届满或当事人明确放弃前不得作出决定。",
                        hearing_request_ends=request_ends.isoformat(),
                    )
                changed = substance_changed(facts, case, suggestion)
                if changed:
                    raise refuse(
                        "renotice_required",
                        "告知后案件的"
                        + "、".join(CHANGE_NAMES[c] for c in changed)
                        + "发生变化，须重新告知当事人拟作出的处罚内容及事实、理由、依据后"
                        "方可作出决定。",
                        changed=changed,
                    )
                amount = Decimal(str(suggestion.get("suggested_amount") or "0"))
                if facts.notice_amount is not None and amount > facts.notice_amount:
                    raise refuse(
                        "no_heavier_penalty",
                        f"拟决定的罚款（{amount}元）高于告知书告知的罚款（{facts.notice_amount}元），"
                        "不得因陈述申辩加重处罚；处罚内容变化的，须重新告知。",
                        amount=str(amount),
                        notice_amount=str(facts.notice_amount),
                    )
                committee = load_guard_rules()
                if amount >= committee.committee_threshold:
                    after = max(facts.notice_seq or 0, facts.hearing_seq or 0)
                    if facts.committee_seq is None or facts.committee_seq < after:
                        raise refuse(
                            "major_case_committee",
                            f"罚款{amount}元达到重大税务案件标准（{committee.committee_threshold}元），"
                            "须经重大税务案件审理委员会审理（告知、听证之后）后作出决定。",
                            amount=str(amount),
                            threshold=str(committee.committee_threshold),
                        )
            major = is_major(suggestion, facts, list(case.factors or []))
            if major:
                after = facts.hearing_seq or 0
                passed = [ok for seq, ok in facts.reviews if seq > after]
                if not passed or not passed[-1]:
                    raise refuse(
                        "legal_review_before_decision",
                        "重大执法决定未经法制审核或审核未通过（听证后须重新审核），不得作出决定。",
                        major_because=major,
                    )
            return {
                "decision": decision,
                "amount": suggestion.get("suggested_amount"),
                "major": major,
            }

        return self._act(actor, case_id, "decide", on, guard, handler=False)

    def serve(self, actor: User, case_id: int, *, on: date | None = None) -> Case:
        """送达 delivers the 决定书, so it must have been issued (签发) first."""

        def guard(session: Session, case: Case, facts: RecordFacts) -> dict[str, Any]:
            issued = session.scalar(
                select(Document)
                .where(
                    Document.case_id == case.id,
                    Document.doc_type.in_(DECISION_TYPES),
                    Document.issued_at.is_not(None),
                )
                .order_by(Document.id.desc())
                .limit(1)
            )
            if issued is None:
                raise refuse(
                    "decision_issued_before_service",
                    "决定书尚未签发，不能送达；请先由负责人签发决定书。",
                    status=case.status,
                )
            return {"document_id": issued.id, "number": issued.number}

        return self._act(actor, case_id, "serve", on, guard, handler=True)

    def execute(self, actor: User, case_id: int, *, on: date | None = None) -> Case:
        def guard(session: Session, case: Case, facts: RecordFacts) -> dict[str, Any]:
            if self._suggestion(session, case).get("decision") != "penalty":
                raise refuse(
                    "lifecycle_order", "不予处罚决定无需执行，送达后直接结案。", status=case.status
                )
            return {}

        return self._act(actor, case_id, "execute", on, guard, handler=True)

    def close(self, actor: User, case_id: int, *, on: date | None = None) -> Case:
        def guard(session: Session, case: Case, facts: RecordFacts) -> dict[str, Any]:
            if (
                case.status == "served"
                and self._suggestion(session, case).get("decision") == "penalty"
            ):
                raise refuse("lifecycle_order", "处罚决定尚未执行，不能结案。", status=case.status)
            return {}

        jobs: list[int] = []

        def index_job(session: Session, case: Case) -> None:
            # Issue 4: a closed case becomes a similar case for later ones, embedded by a job
            # (a worker in a deployment) committed with the closure; the closure stands even
            # if the job fails (`taxassist index check --rebuild` adds the case later).
            job = Job(
                kind=INDEX_CLOSED_CASES, case_id=case.id, status="queued", created_by=actor.id
            )
            session.add(job)
            session.flush()
            jobs.append(job.id)

        case = self._act(actor, case_id, "close", on, guard, handler=True, effects=index_job)
        for job_id in jobs:
            self.services.submit_job(job_id)
        return case

    def refer(self, actor: User, case_id: int, *, report: str = "", on: date | None = None) -> Case:
        """移送报告: the officer proposes the referral; the bureau head decides on it."""

        def guard(session: Session, case: Case, facts: RecordFacts) -> dict[str, Any]:
            suggestion = self._suggestion(session, case)
            if not suggestion.get("criminal_referral"):
                raise refuse("no_criminal_threshold", "案件事实未达到涉嫌犯罪标准，不能移送。")
            return {
                "basis": suggestion.get("explanation", "")[:500],
                "report": report or suggestion.get("explanation", "")[:500],
            }

        return self._act(actor, case_id, "refer", on, guard, handler=True)

    def decide_referral(
        self, actor: User, case_id: int, *, approve: bool, reason: str, on: date | None = None
    ) -> Case:
        """The bureau head (正职负责人或主持工作的负责人) approves the referral, or refuses it with
        the reasons on record; a refused referral goes back to administrative handling."""

        def guard(session: Session, case: Case, facts: RecordFacts) -> dict[str, Any]:
            heads = principals(self.services.settings.principal_usernames)
            if not heads:
                raise refuse(
                    "referral_approval",
                    "本局未配置正职负责人（TAXASSIST_PRINCIPAL_USERNAMES），不能审批移送。",
                )
            if actor.username not in heads:
                raise Forbidden(
                    "not_principal",
                    "移送涉嫌犯罪案件须报经本机关正职负责人或者主持工作的负责人审批。",
                    details={"rule": "referral_approval", "source": RULES["referral_approval"]},
                )
            require_separate_duty(session, case, actor, "approval")
            if not approve and not reason.strip():
                raise refuse("referral_approval", "不批准移送的，应当将不予批准的理由记录在案。")
            return {"reason": reason}

        if approve:
            return self._act(actor, case_id, "approve_referral", on, guard, handler=False)
        return self._act(actor, case_id, "reject_referral", on, guard, handler=False)

    def police_declined(
        self, actor: User, case_id: int, *, notice: str, on: date | None = None
    ) -> Case:
        """公安机关不予立案: the notice is recorded and the case returns to administrative handling
        (an administrative penalty where the law gives one)."""

        def guard(session: Session, case: Case, facts: RecordFacts) -> dict[str, Any]:
            if not notice.strip():
                raise refuse("referral_declined", "请填写公安机关不予立案通知书的文号及理由。")
            return {"notice": notice}

        return self._act(actor, case_id, "police_declined", on, guard)

    def resubmit(self, actor: User, case_id: int, *, note: str) -> Case:
        """After a failed review: the officer corrects and resubmits; the count is tracked."""

        def guard(session: Session, case: Case, facts: RecordFacts) -> dict[str, Any]:
            failed = sum(1 for _, ok in facts.reviews if not ok)
            return {"resubmission": failed, "note": note}

        return self._act(actor, case_id, "resubmit", None, guard, handler=True)

    # -- 法制审核 as a checklist ----------------------------------------------------------------
    def checklist(self, case_id: int) -> list[dict[str, Any]]:
        """The automatic findings on every point, before the reviewer records theirs."""
        from dataclasses import asdict

        statutes = self.services.knowledge().statutes
        with self.services.db.session() as session:
            case = load_case(session, case_id)
            points = evaluate(
                session, self.services.files, statutes, case, self.services.settings.authority_name
            )
            return [asdict(p) for p in points]

    def legal_review(
        self,
        actor: User,
        case_id: int,
        *,
        result: str,
        opinion: str,
        findings: dict[str, dict[str, Any]],
    ) -> Case:
        """Checklist review: 同意 only when every point passes; 存在问题 needs an opinion."""
        if result not in {"同意", "存在问题"}:
            raise InvalidInput("invalid_review_result", "审核结论只能是“同意”或“存在问题”。")
        unknown = sorted(set(findings) - set(POINTS))
        if unknown:
            raise InvalidInput(
                "unknown_checklist_point", "审核要点不存在。", details={"unknown": unknown}
            )
        if result == "存在问题" and not opinion.strip():
            raise InvalidInput("missing_review_opinion", "审核存在问题时必须填写书面意见。")
        statutes = self.services.knowledge().statutes
        with self.services.db.session() as session:
            case = load_case(session, case_id)
            automatic = evaluate(
                session, self.services.files, statutes, case, self.services.settings.authority_name
            )
            facts = record_facts(session, case.id)
        all_pass, merged = conclude(automatic, findings)
        if result == "同意" and not all_pass:
            raise refuse(
                "review_checklist",
                "审核要点未全部通过（自动检查未通过或人工要点未确认），不能作出“同意”结论。",
                points=[p for p in merged if p["status"] != "pass"],
            )
        # Rounds count the reviewer's reviews, not a principal's decision on a disagreement.
        round_ = len(facts.reviews) - facts.escalation_overrules + 1
        # One transaction: the review event and its 法制审核意见书 are recorded together or not
        # at all (a rendering failure leaves no review without its written opinion).
        with self.services.db.session() as session:
            case = self.review_in(
                session,
                actor,
                case_id,
                passed=result == "同意",
                opinion=opinion,
                checklist={"round": round_, "points": merged},
            )
            kind = REGISTRY["legal_review_opinion"]
            draft_in(self.services, session, actor, case, kind, kind.parse_inputs(None))
            session.flush()
            return load_case(session, case.id)

    # -- the one path every action takes ----------------------------------------------------------
    def _act(
        self,
        actor: User,
        case_id: int,
        action: str,
        on: date | None,
        guard: Any,
        *,
        handler: bool = True,
        effects: Callable[[Session, Case], None] | None = None,
    ) -> Case:
        """Check and record one act; `effects(session, case)` adds what commits with it."""
        with self.services.db.session() as session:
            case = self.load(session, case_id)
            if handler:
                require_handler(actor, case)
            check_transition(case, action)
            facts = record_facts(session, case.id)
            today = today_in_china()
            when = on or today
            if when > today:
                raise refuse(
                    "act_date",
                    f"执法行为日期（{when}）晚于今天（{today}），不能预先记录。",
                    on=when.isoformat(),
                    today=today.isoformat(),
                )
            if facts.last_act is not None and when < facts.last_act:
                raise refuse(
                    "act_date",
                    f"执法行为日期（{when}）早于立案或前一程序的日期（{facts.last_act}），"
                    "不能倒签。",
                    on=when.isoformat(),
                    last=facts.last_act.isoformat(),
                )
            details = {"on": when.isoformat(), **guard(session, case, facts)}
            if self.probe:
                raise ProbePassed(case.id)
            before, after = enter(case, action)
            event = ACTION_EVENTS[action]
            record_action(self.services, session, case, actor, event, before, after, details)
            if effects is not None:
                effects(session, case)
            session.flush()
            return load_case(session, case.id)

    def _suggestion(self, session: Session, case: Case) -> dict[str, Any]:
        result = latest_result(session, case.id, "discretion")
        if result is None:
            raise refuse("lifecycle_order", "尚无裁量建议，无法判断处理决定。", status=case.status)
        return result.payload


def principals(setting: str) -> set[str]:
    """The usernames of the bureau's principal (主要负责人), from the comma-separated setting."""
    return {name.strip() for name in setting.split(",") if name.strip()}


# Events whose actor took part in the investigation (64(四) bars them from chairing a hearing).
INVESTIGATION_EVENTS = frozenset(
    {
        "case_created",
        "recording_uploaded",
        "entities_completed",
        "retrieval_completed",
        "discretion_completed",
        "document_drafted",
        "document_edited",
    }
)


def investigators(session: Session, case: Case) -> set[int]:
    """The handling officer and everyone the record shows investigating (not the reviewer's
    法制审核意见书, which is review, not investigation)."""
    ids = {case.officer_id}
    for event in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)):
        if (
            event.action in INVESTIGATION_EVENTS
            and event.details.get("doc_type") not in REVIEWER_TYPES
        ):
            ids.add(event.actor_id)
    return ids


def reviewed_documents(session: Session, case_id: int) -> list[Document]:
    """The case's documents a review or approval passes on (not the review's own opinions)."""
    return list(
        session.scalars(
            select(Document)
            .where(Document.case_id == case_id, Document.doc_type.not_in(REVIEWER_TYPES))
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

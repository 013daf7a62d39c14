"""The case lifecycle as an explicit state machine with the guards the law sets.

立案 → 调查取证 (investigating) → 审理/法制审核 (review_passed | review_failed → resubmit) →
负责人批准 (approved) → 告知 (notified) → 陈述申辩 / 听证 (hearing_requested → heard → review again)
→ 决定 (decided) → 送达 (served) → 执行 (executing) → 结案归档 (closed); a case whose facts reach a
criminal threshold goes to 移送 (referred) instead of an administrative decision.

The facts the guards need (when the notice was served, whether a hearing was requested and
held, the last review's result) are read from the case's signed event record, never from a
mutable column: the record is the source of truth. Every refusal is a 409 whose details name
the rule (`rule`) and its legal source (`source`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.auth.security import Role
from assistant.cases.duties import require_separate_duty
from assistant.cases.service import (
    CaseWorkflow,
    _latest_result,
    _load_case,
    _require_handler,
    _require_role,
)
from assistant.dates import today_in_china
from assistant.db.models import Case, CaseEvent, Document, User
from assistant.errors import Conflict, InvalidInput, TaxAssistError

# Chinese names of the stages, for messages and the UI.
STAGES = {
    "investigating": "调查取证",
    "review_passed": "法制审核通过",
    "review_failed": "法制审核存在问题（退回补正）",
    "escalated": "审核意见分歧（已提请负责人协调/决定）",
    "approved": "负责人已批准",
    "notified": "已告知（陈述申辩期）",
    "hearing_requested": "已申请听证",
    "heard": "已听证",
    "decided": "已作出决定",
    "served": "已送达",
    "executing": "执行中",
    "closed": "结案归档",
    "referred": "已移送司法机关",
}

# action -> (stages it may start from, stage it leads to). Review and approval live in
# CaseWorkflow (review → review_passed/review_failed, approve → approved).
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "review": (frozenset({"investigating", "heard"}), "review_passed|review_failed"),
    "resubmit": (frozenset({"review_failed"}), "investigating"),
    # issue 7: disagreement with 存在问题 (assistant/cases/escalation.py)
    "escalate": (frozenset({"review_failed"}), "escalated"),
    "decide_escalation": (frozenset({"escalated"}), "review_failed|review_passed|escalated"),
    "approve": (frozenset({"review_passed"}), "approved"),
    "notify": (frozenset({"approved"}), "notified"),
    "request_hearing": (frozenset({"notified"}), "hearing_requested"),
    "hold_hearing": (frozenset({"hearing_requested"}), "heard"),
    "decide": (frozenset({"approved", "notified"}), "decided"),
    "serve": (frozenset({"decided"}), "served"),
    "execute": (frozenset({"served"}), "executing"),
    "close": (frozenset({"served", "executing", "referred"}), "closed"),
    "refer": (frozenset({"investigating", "review_passed", "approved"}), "referred"),
}

ACTION_NAMES = {
    "review": "法制审核",
    "resubmit": "补正后重新提交审核",
    "escalate": "对审核意见提请协调",
    "decide_escalation": "协调/决定审核意见分歧",
    "approve": "负责人批准",
    "notify": "告知",
    "request_hearing": "申请听证",
    "hold_hearing": "举行听证",
    "decide": "作出决定",
    "serve": "送达",
    "execute": "执行",
    "close": "结案归档",
    "refer": "移送司法机关",
}

# Every rule a refusal can name, with its legal source (checked against 行政处罚法(2021)).
RULES = {
    "lifecycle_order": "办案程序顺序（行政处罚法第五章第三节 普通程序）",
    "notice_before_decision": "行政处罚法第四十四条、第六十二条（作出处罚决定前应当告知）",
    "statement_period": "行政处罚法第四十五条（听取陈述申辩；期限为本局惯例，见 procedure.yaml）",
    "hearing_request_period": "行政处罚法第六十四条第（一）项（告知后五日内提出听证要求）",
    "hearing_before_decision": "行政处罚法第六十四条（当事人要求听证的，应当组织听证）",
    "legal_review_before_decision": "行政处罚法第五十八条（未经法制审核或审核未通过，不得决定）",
    "criminal_referral": "行政处罚法第二十七条、第五十七条第一款第（四）项（涉嫌犯罪的移送）",
    "no_criminal_threshold": "行政处罚法第二十七条（仅涉嫌犯罪的案件移送）",
    "penalty_notice_document": "行政处罚法第四十四条（告知须以告知书载明拟处罚内容）",
    "separation_of_duties": "行政处罚法第五十八条（法制审核人员与承办人分离）",
    "act_date": "执法行为日期不得早于前一程序、不得晚于今天",
    "review_checklist": "行政处罚法第五十八条（法制审核要点；未通过的不得作出决定）",
    # The escalation path is the bureau's procedure as the plan describes it (承办机构 → 承办机构
    # 负责人 → 主要负责人); no statute in the corpus sets it, so the source says so.
    "escalation_order": "本局法制审核意见分歧处理程序（承办机构→其负责人→主要负责人；计划书）",
    "escalation_separation": "行政处罚法第五十八条（审核与承办分离）；本局意见分歧处理程序",
    "escalation_level": "本局意见分歧处理程序（各级由相应负责人协调或决定）",
}


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


def refuse(rule: str, message: str, **details: Any) -> Conflict:
    return Conflict(
        f"rule_{rule}", message, details={"rule": rule, "source": RULES[rule], **details}
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


def needs_penalty_documents(session: Session, case: Case) -> bool:
    """Penalty drafts are reviewed with the case; a 不予处罚 case or one to be referred (移送)
    has none: no administrative penalty document is made for it."""
    result = _latest_result(session, case.id, "discretion")
    if result is None:
        return True
    return result.payload.get("decision") != "no_penalty" and not result.payload.get(
        "criminal_referral"
    )


def record_facts(session: Session, case_id: int) -> RecordFacts:
    notice = requested = held = last = None
    hearing_seq = None
    overrules = 0
    reviews: list[tuple[int, bool]] = []
    events = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
    )
    for event in events:
        on = event.details.get("on")
        if isinstance(on, str):
            last = date.fromisoformat(on)
        if event.action == "notified":
            notice = last
        elif event.action == "hearing_requested":
            requested = last
        elif event.action == "hearing_held":
            held, hearing_seq = last, event.seq
        elif event.action == "legal_review":
            reviews.append((event.seq or 0, event.details.get("result") == "同意"))
        elif event.action == "escalation_decided" and event.details.get("outcome") == "overrule":
            # The principal adopted the unit's view: the disputed review counts as resolved.
            reviews.append((event.seq or 0, True))
            overrules += 1
    return RecordFacts(notice, requested, held, reviews, hearing_seq, last, overrules)


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
    """The lifecycle actions after legal review and approval (which live in CaseWorkflow)."""

    def __init__(self, workflow: CaseWorkflow) -> None:
        self.workflow = workflow
        self.services = workflow.services

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
                .where(Document.case_id == case.id, Document.doc_type == "penalty_notice")
                .order_by(Document.id.desc())
                .limit(1)
            )
            if notice is None:
                raise refuse(
                    "penalty_notice_document", "尚未制作税务行政处罚事项告知书，不能告知。"
                )
            if facts.notice_date is not None:
                raise refuse("lifecycle_order", "已告知当事人，不能重复告知。", status=case.status)
            return {"document_id": notice.id, "number": notice.number}

        return self._act(actor, case_id, "notify", "notified", on, guard, handler=True)

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

        return self._act(actor, case_id, "request_hearing", "hearing_requested", on, guard)

    def hold_hearing(
        self, actor: User, case_id: int, *, summary: str, on: date | None = None
    ) -> Case:
        def guard(session: Session, case: Case, facts: RecordFacts) -> dict[str, Any]:
            if not summary.strip():
                raise InvalidInput("missing_hearing_summary", "请填写听证笔录摘要。")
            return {"summary": summary}

        return self._act(actor, case_id, "hold_hearing", "hearing_held", on, guard, handler=True)

    def decide(self, actor: User, case_id: int, *, on: date | None = None) -> Case:
        """决定: by the leader, only when every procedural guard holds."""
        from assistant.discretion import load_procedure

        def guard(session: Session, case: Case, facts: RecordFacts) -> dict[str, Any]:
            _require_role(actor, Role.APPROVER, Role.ADMIN)
            require_separate_duty(session, case, actor, "approval")
            suggestion = self._suggestion(session, case)
            if suggestion.get("criminal_referral"):
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
                days = load_procedure().statement_defence_days
                ends = facts.notice_date + timedelta(days=days)
                if facts.hearing_held is None and when <= ends:
                    raise refuse(
                        "statement_period",
                        f"陈述申辩期（告知后{days}日，至 {ends}）尚未届满，不得作出决定。",
                        statement_period_ends=ends.isoformat(),
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

        return self._act(actor, case_id, "decide", "decided", on, guard, handler=False)

    def serve(self, actor: User, case_id: int, *, on: date | None = None) -> Case:
        return self._act(actor, case_id, "serve", "served", on, _no_guard, handler=True)

    def execute(self, actor: User, case_id: int, *, on: date | None = None) -> Case:
        def guard(session: Session, case: Case, facts: RecordFacts) -> dict[str, Any]:
            if self._suggestion(session, case).get("decision") != "penalty":
                raise refuse(
                    "lifecycle_order", "不予处罚决定无需执行，送达后直接结案。", status=case.status
                )
            return {}

        return self._act(actor, case_id, "execute", "executed", on, guard, handler=True)

    def close(self, actor: User, case_id: int, *, on: date | None = None) -> Case:
        def guard(session: Session, case: Case, facts: RecordFacts) -> dict[str, Any]:
            if (
                case.status == "served"
                and self._suggestion(session, case).get("decision") == "penalty"
            ):
                raise refuse("lifecycle_order", "处罚决定尚未执行，不能结案。", status=case.status)
            return {}

        case = self._act(actor, case_id, "close", "closed", on, guard, handler=True)
        # Issue 4: a closed case becomes a similar case for later ones. Best effort: the closure
        # stands even if indexing fails; `taxassist index check --rebuild` adds it later.
        with contextlib.suppress(TaxAssistError):
            self.services.index_closed_cases()
        return case

    def refer(self, actor: User, case_id: int, *, on: date | None = None) -> Case:
        def guard(session: Session, case: Case, facts: RecordFacts) -> dict[str, Any]:
            suggestion = self._suggestion(session, case)
            if not suggestion.get("criminal_referral"):
                raise refuse("no_criminal_threshold", "案件事实未达到涉嫌犯罪标准，不能移送。")
            return {"basis": suggestion.get("explanation", "")[:500]}

        return self._act(actor, case_id, "refer", "referred", on, guard, handler=True)

    def resubmit(self, actor: User, case_id: int, *, note: str) -> Case:
        """After a failed review: the officer corrects and resubmits; the count is tracked."""

        def guard(session: Session, case: Case, facts: RecordFacts) -> dict[str, Any]:
            failed = sum(1 for _, ok in facts.reviews if not ok)
            return {"resubmission": failed, "note": note}

        return self._act(actor, case_id, "resubmit", "resubmitted", None, guard, handler=True)

    # -- 法制审核 as a checklist ----------------------------------------------------------------
    def checklist(self, case_id: int) -> list[dict[str, Any]]:
        """The automatic findings on every point, before the reviewer records theirs."""
        from dataclasses import asdict

        from assistant.cases.review_checklist import evaluate

        statutes = self.services.knowledge().statutes
        with self.services.db.session() as session:
            case = _load_case(session, case_id)
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
        from assistant.cases.review_checklist import POINTS, conclude, evaluate

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
            case = _load_case(session, case_id)
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
            case = self.workflow.review_in(
                session,
                actor,
                case_id,
                passed=result == "同意",
                opinion=opinion,
                checklist={"round": round_, "points": merged},
            )
            self._draft_review_opinion(session, actor, case, round_, result, opinion, merged)
            session.flush()
            return _load_case(session, case.id)

    def _draft_review_opinion(
        self,
        session: Session,
        actor: User,
        case: Case,
        round_: int,
        result: str,
        opinion: str,
        points: list[dict[str, Any]],
    ) -> None:
        """The 法制审核意见书 for this round, stored by hash and linked from the record."""
        from assistant.drafting.review_opinion import ReviewOpinion, render_review_opinion

        data, text = render_review_opinion(
            ReviewOpinion(
                authority=self.services.settings.authority_name,
                case_number=case.number,
                party_name=case.taxpayer.name,
                round=round_,
                result=result,
                opinion=opinion,
                points=points,
                reviewer=actor.display_name,
                reviewed_on=today_in_china(),
            )
        )
        sha256, _, created = self.services.files.put_bytes(data)
        try:
            document = Document(
                case_id=case.id,
                doc_type="review_opinion",
                number=f"{case.number}-法审-{round_}",
                version=round_,
                sha256=sha256,
                filename=f"{case.number}-法制审核意见书-{round_}.docx",
                text=text,
                provenance={},
                created_by=actor.id,
            )
            session.add(document)
            session.flush()
            self.workflow._record(
                session,
                case,
                actor,
                "document_drafted",
                case.status,
                case.status,
                {
                    "document_id": document.id,
                    "doc_type": "review_opinion",
                    "number": document.number,
                    "sha256": sha256,
                },
                covers=[document],
            )
        except BaseException:
            if created:
                self.services.files.discard(sha256)
            raise

    # -- the one path every action takes ----------------------------------------------------------
    def _act(
        self,
        actor: User,
        case_id: int,
        action: str,
        event: str,
        on: date | None,
        guard: Any,
        *,
        handler: bool = True,
    ) -> Case:
        with self.services.db.session() as session:
            case = _load_case(session, case_id)
            if handler:
                _require_handler(actor, case)
            target = check_transition(case, action)
            facts = record_facts(session, case.id)
            when = on or today_in_china()
            if when > today_in_china() or (facts.last_act is not None and when < facts.last_act):
                raise refuse(
                    "act_date",
                    "执法行为日期不合理（晚于今天或早于前一程序）。",
                    on=when.isoformat(),
                    last=facts.last_act.isoformat() if facts.last_act else None,
                )
            details = {"on": when.isoformat(), **guard(session, case, facts)}
            before = case.status
            case.status = target
            self.workflow._record(session, case, actor, event, before, case.status, details)
            session.flush()
            return _load_case(session, case.id)

    def _suggestion(self, session: Session, case: Case) -> dict[str, Any]:
        result = _latest_result(session, case.id, "discretion")
        if result is None:
            raise refuse("lifecycle_order", "尚无裁量建议，无法判断处理决定。", status=case.status)
        return result.payload


def _no_guard(session: Session, case: Case, facts: RecordFacts) -> dict[str, Any]:
    return {}

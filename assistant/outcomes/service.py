"""Recording 强制 measures, 行政复议 and 行政诉讼 on a case, as signed events.

Why here, above the cases and the publicity: each act is a signed event of the case record
(`record_action`, so `record verify` and the 一户式 archive cover it), and a 复议 decision or a
judgment that revokes, changes or confirms the decision unlawful or void withdraws its
published record in the same transaction (行政处罚法第四十八条第二款): the result and the
withdrawal are committed together or not at all. The events change no stage of the case: a
remedy may come after the case is closed, a preservation measure before the decision.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.auth.security import Role
from assistant.cases.access import lock_case, require_role
from assistant.cases.events import record_action
from assistant.dates import to_china_time, today_in_china
from assistant.db.models import Case, CaseEvent, Document, Publication, User
from assistant.documents.registry import DECISION_TYPES, PUBLISHED_TYPES
from assistant.errors import Conflict, InvalidInput, NotFound
from assistant.money import to_yuan
from assistant.outcomes.rules import load_outcome_rules
from assistant.publicity.rules import load_rules
from assistant.publicity.service import (
    MEASURE_EVENT,
    check_withdrawal,
    draft_measure_in,
    records_of,
    redraft_refusal,
    to_dict,
    withdraw_in,
)
from assistant.services import Services

RemedyKind = Literal["reconsideration", "litigation"]
RECORDERS = (Role.OFFICER, Role.APPROVER, Role.ADMIN)
# event actions: applied/filed, decided/judged
APPLIED = {"reconsideration": "reconsideration_applied", "litigation": "lawsuit_filed"}
CONCLUDED = {"reconsideration": "reconsideration_decided", "litigation": "lawsuit_judged"}
MEASURE = MEASURE_EVENT
OUTCOME_ACTIONS = frozenset({MEASURE, *APPLIED.values(), *CONCLUDED.values()})


def _check_date(case: Case, on: date, after: date | None = None, what: str = "") -> None:
    """Not in the future, not before the case was opened (nor before `after`, the application
    a result concludes): 422 `invalid_act_date`."""
    today = today_in_china()
    first = max(to_china_time(case.created_at).date(), after or date.min)
    if on > today or on < first:
        raise InvalidInput(
            "invalid_act_date",
            f"日期 {on} 应在 {first}（{what or '立案'}）至今天（{today}）之间。",
            details={"on": on.isoformat(), "first": first.isoformat(), "last": today.isoformat()},
        )


def _case(session: Session, case_id: int) -> Case:
    if session.get(Case, case_id) is None:
        raise NotFound("case_not_found", f"案件 {case_id} 不存在。", details={"case_id": case_id})
    return lock_case(session, case_id)


def _record(
    services: Services, session: Session, case: Case, actor: User, action: str, details: Any
) -> dict[str, Any]:
    record_action(services, session, case, actor, action, case.status, case.status, details)
    session.flush()
    event = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq.desc())
    ).first()
    assert event is not None
    return {"event_id": event.id, "seq": event.seq, "action": action, "details": event.details}


def record_measure(
    services: Services,
    actor: User,
    case_id: int,
    *,
    measure: str,
    method: str,
    on: date,
    amount: Decimal | None = None,
    note: str = "",
    document_number: str = "",
) -> dict[str, Any]:
    """税收保全措施 (第三十八条) or 强制执行措施 (第四十条), by the method the article lists,
    taken by its 税务文书 (`document_number`: its 文号, as issued). Its public record (强制,
    行政执法公示) is drafted, masked, in the same transaction: the officer reviews and
    publishes it as a decision's."""
    require_role(actor, *RECORDERS)
    rules = load_outcome_rules()
    kind = rules.measures.get(measure)
    if kind is None:
        raise InvalidInput(
            "invalid_measure",
            "强制措施只能是税收保全措施（preservation）或强制执行措施（execution）。",
            details={"measure": measure, "allowed": sorted(rules.measures)},
        )
    if method not in kind.methods:
        raise InvalidInput(
            "invalid_measure_method",
            f"{kind.name}的方式不在{kind.citation}所列范围内。",
            details={"method": method, "allowed": sorted(kind.methods)},
        )
    if amount is not None and to_yuan(amount) <= 0:
        raise InvalidInput(
            "invalid_amount", "强制措施涉及金额应大于零。", details={"amount": str(amount)}
        )
    with services.db.session() as session:
        case = _case(session, case_id)
        _check_date(case, on)
        details = {
            "on": on.isoformat(),
            "measure": measure,
            "measure_name": kind.name,
            "method": method,
            "method_name": kind.methods[method],
            "amount": str(to_yuan(amount)) if amount is not None else None,
            "statute": kind.statute,
            "source": kind.citation,
            "document": kind.document,
            "document_number": document_number.strip() or None,
            "note": note.strip() or None,
        }
        recorded = _record(services, session, case, actor, MEASURE, details)
        event = session.get(CaseEvent, recorded["event_id"])
        assert event is not None
        publication = draft_measure_in(services, session, actor, case, event)
        return {**recorded, "publication": to_dict(publication, internal=True)}


def _events(session: Session, case_id: int, *actions: str) -> list[CaseEvent]:
    return list(
        session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case_id, CaseEvent.action.in_(actions))
            .order_by(CaseEvent.seq)
        )
    )


def _pending(session: Session, case_id: int, remedy: RemedyKind) -> CaseEvent | None:
    """The latest application of this remedy not yet concluded."""
    events = _events(session, case_id, APPLIED[remedy], CONCLUDED[remedy])
    return events[-1] if events and events[-1].action == APPLIED[remedy] else None


def apply_remedy(
    services: Services,
    actor: User,
    case_id: int,
    *,
    remedy: RemedyKind,
    on: date,
    body: str,
    document_id: int | None = None,
    note: str = "",
    measure_event_id: int | None = None,
) -> dict[str, Any]:
    """The party applied for 行政复议 (to `body`, the 复议机关) or sued (`body`: the court),
    against the case's issued decision `document_id`, or a 强制 measure it recorded
    (`measure_event_id`), or (neither) the case's decision as a whole."""
    require_role(actor, *RECORDERS)
    rules = load_outcome_rules()
    with services.db.session() as session:
        case = _case(session, case_id)
        _check_date(case, on)
        if _pending(session, case_id, remedy) is not None:
            raise Conflict(
                "remedy_pending",
                f"本案已登记的{rules.remedies[remedy].name}尚未登记结果。",
                details={"remedy": remedy},
            )
        number = None
        if document_id is not None:
            document = session.get(Document, document_id)
            if (
                document is None
                or document.case_id != case_id
                or document.doc_type not in DECISION_TYPES
                or document.issued_at is None
            ):
                raise InvalidInput(
                    "invalid_challenged_decision",
                    "所针对的决定应为本案已签发的决定书。",
                    details={"document_id": document_id, "case_id": case_id},
                )
            number = document.number
        if measure_event_id is not None:
            measure = session.get(CaseEvent, measure_event_id)
            if (
                document_id is not None
                or measure is None
                or measure.case_id != case_id
                or measure.action != MEASURE
            ):
                raise InvalidInput(
                    "invalid_challenged_measure",
                    "所针对的强制措施应为本案已登记的强制措施（且不能同时针对决定书）。",
                    details={"measure_event_id": measure_event_id, "case_id": case_id},
                )
        details = {
            "on": on.isoformat(),
            "remedy": remedy,
            "remedy_name": rules.remedies[remedy].name,
            "body": body.strip(),
            "document_id": document_id,
            "document_number": number,
            "measure_event_id": measure_event_id,
            "statute": rules.remedy_statute,
            "source": rules.remedy_citation,
            "note": note.strip() or None,
        }
        return _record(services, session, case, actor, APPLIED[remedy], details)


def conclude_remedy(
    services: Services,
    actor: User,
    case_id: int,
    *,
    remedy: RemedyKind,
    on: date,
    result: str,
    note: str = "",
) -> dict[str, Any]:
    """The 复议决定 or the judgment: 维持/驳回 leaves the decision standing; 撤销、变更、确认违法、
    确认无效 withdraw its published record (or its draft) now, in this transaction, with the
    reason."""
    require_role(actor, *RECORDERS)
    rules = load_outcome_rules()
    kind = rules.remedies[remedy]
    if result not in kind.results:
        raise InvalidInput(
            "invalid_remedy_result",
            f"{kind.name}结果只能是：" + "、".join(kind.results) + "。",
            details={"result": result, "allowed": list(kind.results)},
        )
    reason = kind.results[result]
    if reason is not None:
        check_withdrawal(reason, on)
    with services.db.session() as session:
        case = _case(session, case_id)
        applied = _pending(session, case_id, remedy)
        if applied is None:
            raise Conflict(
                "remedy_not_applied",
                f"本案没有尚未登记结果的{kind.name}，请先登记申请（起诉）。",
                details={"remedy": remedy},
            )
        applied_on = date.fromisoformat(str(applied.details["on"]))
        _check_date(case, on, applied_on, f"{kind.name}申请日期")
        targets = _current(
            session,
            case_id,
            applied.details.get("document_id"),
            applied.details.get("measure_event_id"),
        )
        withdrawn: list[dict[str, Any]] = []
        details = {
            "on": on.isoformat(),
            "remedy": remedy,
            "result": result,
            "applied_event_id": applied.id,
            "document_id": applied.details.get("document_id"),
            "measure_event_id": applied.details.get("measure_event_id"),
            "withdraws": reason is not None,
            "statute": rules.withdrawal_statute if reason else rules.remedy_statute,
            "source": rules.withdrawal_citation if reason else rules.remedy_citation,
            "publications": [p.id for p in targets] if reason else [],
            "note": note.strip() or None,
        }
        event = _record(services, session, case, actor, CONCLUDED[remedy], details)
        if reason is not None:
            for row in targets:
                withdraw_in(
                    services,
                    session,
                    actor,
                    case,
                    row,
                    reason=reason,
                    note=f"{kind.name}{result}（{applied.details.get('body') or ''}，{on}）",
                    revoked_on=on,
                    trigger_event_id=event["event_id"],
                )
                withdrawn.append(to_dict(row, internal=True))
        return {**event, "withdrawn": withdrawn}


def _current(
    session: Session, case_id: int, document_id: Any, measure_event_id: Any = None
) -> list[Publication]:
    """The case's published records and drafts of the challenged decision or measure (of every
    decision of the case when the application named neither): a draft of a revoked decision is
    withdrawn too, so it can no longer be published (it never was public, so the feed does not
    list it)."""
    query = select(Publication).where(
        Publication.case_id == case_id, Publication.status.in_(("published", "draft"))
    )
    if measure_event_id is not None:
        query = query.where(Publication.event_id == int(measure_event_id))
        return list(session.scalars(query.order_by(Publication.id)))
    query = query.where(Publication.doc_type.in_(list(PUBLISHED_TYPES)))
    if document_id is not None:
        query = query.where(Publication.document_id == int(document_id))
    return list(session.scalars(query.order_by(Publication.id)))


def case_outcomes(services: Services, case_id: int) -> list[dict[str, Any]]:
    """The case's 强制, 复议 and 诉讼 events in record order."""
    with services.db.session() as session:
        if session.get(Case, case_id) is None:
            raise NotFound(
                "case_not_found", f"案件 {case_id} 不存在。", details={"case_id": case_id}
            )
        return [
            {"event_id": e.id, "seq": e.seq, "action": e.action, "details": e.details}
            for e in _events(session, case_id, *sorted(OUTCOME_ACTIONS))
        ]


def _taken(session: Session, event: CaseEvent, may: bool) -> dict[str, Any]:
    """A recorded measure as the case page lists it: its label, its public record's state and
    whether a new draft may be made now (only after a withdrawal as inaccurate; the refusal's
    message otherwise, the same the API gives)."""
    rows = records_of(session, event_id=event.id)
    refusal = redraft_refusal(rows, "强制措施")
    latest = rows[-1] if rows else None
    reasons = load_rules().withdrawal_reasons
    shown = {"draft": "公示稿待审核", "published": "已公示"}
    return {
        "event_id": event.id,
        "label": f"{event.details.get('on')} {event.details.get('measure_name')}"
        f"（{event.details.get('document_number') or event.details.get('method_name')}）",
        "publication_id": latest.id if latest else None,
        "publication": (
            "无公示记录"
            if latest is None
            else shown.get(latest.status)
            or f"公示已撤回（{reasons.get(latest.withdrawal_reason or '', '')}）"
        ),
        "withdrawn": latest is not None and latest.status == "withdrawn",
        "may_redraft": may and refusal is None,
        "why_not_redraft": refusal.message if refusal else None,
    }


def form_state(services: Services, actor: User, case_id: int) -> dict[str, Any]:
    """What the case page's 强制/救济 forms may offer the actor now, and why not: recording at
    all (the role), each remedy's pending application (a result may be recorded) or none (an
    application may), the case's measures and issued decisions to name as challenged."""
    rules = load_outcome_rules()
    may = actor.role in RECORDERS
    with services.db.session() as session:
        measures = _events(session, case_id, MEASURE)
        decisions = list(
            session.scalars(
                select(Document)
                .where(
                    Document.case_id == case_id,
                    Document.doc_type.in_(DECISION_TYPES),
                    Document.issued_at.is_not(None),
                )
                .order_by(Document.id)
            )
        )
        remedies: dict[str, dict[str, Any]] = {}
        for key, remedy in rules.remedies.items():
            pending = _pending(session, case_id, key)  # type: ignore[arg-type]
            remedies[key] = {
                "name": remedy.name,
                "results": list(remedy.results),
                "pending": dict(pending.details) if pending else None,
                "why_not_apply": (f"本案已登记的{remedy.name}尚未登记结果。" if pending else None),
                "why_not_result": (
                    None if pending else f"本案没有尚未登记结果的{remedy.name}，请先登记申请。"
                ),
            }
        return {
            "may_record": may,
            "why_not": None if may else "只有承办人、负责人或管理员可以登记强制措施和救济。",
            "measures": {
                key: {"name": m.name, "citation": m.citation, "methods": m.methods}
                for key, m in rules.measures.items()
            },
            "taken": [_taken(session, e, may) for e in measures],
            "decisions": [{"id": d.id, "number": d.number} for d in decisions],
            "remedies": remedies,
        }

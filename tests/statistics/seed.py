"""A generated enforcement year, written in bulk through the DB layer (no API, no signing).

1,000 cases of fictional taxpayers: most opened in 2025 (some in the last days of 2024, and
acts recorded around China midnight so that the UTC/China date boundary matters), taken to a
penalty decision, a 不予处罚 decision, a referral, or left open. Fines are the discretion
engine's suggestion for the case's facts, except for planted outliers; planted late
procedures, acts without a valid credential and list candidates are returned so the tests know
exactly what the platform must find.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from assistant.cases.credentials import add_credential
from assistant.dates import CHINA
from assistant.db.models import (
    Case,
    CaseEvent,
    Document,
    OfficerCredential,
    Publication,
    Taxpayer,
    User,
)
from assistant.discretion import DiscretionInput, load_benchmark, suggest
from assistant.publicity.workdays import load_calendar

YEAR = 2025
CASES = 1000
OFFICERS = ("officer", "officer2", "stat_officer3")
# a credential that expired mid-year: this officer's acts after it are planted findings
EXPIRED_OFFICER = "stat_officer3"
EXPIRED_ON = date(2025, 6, 30)
# the day open procedures are judged on
AS_OF = date(2026, 1, 1)


@dataclass
class Planted:
    """What the generator planted, by case id, for the platform tests."""

    benchmark_outliers: set[int] = field(default_factory=set)
    late_decisions: set[int] = field(default_factory=set)
    open_overdue: set[int] = field(default_factory=set)
    late_service: set[int] = field(default_factory=set)
    no_credential_events: set[int] = field(default_factory=set)
    candidates: dict[int, str] = field(default_factory=dict)
    unverified_candidates: set[int] = field(default_factory=set)


def at_china(day: date, hour: int, minute: int = 0) -> datetime:
    """A recording instant: `day` at hour:minute China time, as a UTC timestamp."""
    return datetime.combine(day, time(hour, minute), tzinfo=CHINA).astimezone(UTC)


def _users(session: Session) -> dict[str, User]:
    extra = session.scalar(select(User).where(User.username == EXPIRED_OFFICER))
    if extra is None:
        session.add(
            User(
                username=EXPIRED_OFFICER,
                display_name="统计测试承办人",
                role="officer",
                password_hash="not-a-login",
            )
        )
        session.flush()
        add_credential(
            session,
            EXPIRED_OFFICER,
            number="STAT-EXPIRED-1",
            issued_on=date(2024, 1, 1),
            valid_until=EXPIRED_ON,
        )
    return {u.username: u for u in session.scalars(select(User))}


def seed_year(session: Session, *, cases: int = CASES, seed: int = 16) -> Planted:
    """Insert the year; returns what was planted. Needs the demo users and their credentials."""
    rng = random.Random(seed)
    users = _users(session)
    credential = {
        c.user_id: c.number
        for c in session.scalars(select(OfficerCredential).order_by(OfficerCredential.id))
    }
    reviewer, approver = users["reviewer"], users["approver"]
    bench = load_benchmark()
    planted = Planted()
    taxpayers: list[dict[str, Any]] = []
    case_rows: list[dict[str, Any]] = []
    for i in range(cases):
        kind = "individual" if i % 5 == 0 else "organisation"
        taxpayers.append(
            {
                "id": 100000 + i,
                "name": f"统计示例{i:04d}{'（个人）' if kind == 'individual' else '有限公司'}",
                "uscc": f"9115TEST{i:010d}",
                "kind": kind,
                "created_at": at_china(date(2024, 12, 1), 9),
            }
        )
    session.execute(insert(Taxpayer), taxpayers)

    events: list[dict[str, Any]] = []
    documents: list[dict[str, Any]] = []
    publications: list[dict[str, Any]] = []
    violations = [
        ("late_filing", 30),
        ("tax_evasion", 30),
        ("bookkeeping_failure", 10),
        ("invoice_false_issuing", 10),
        ("export_refund_fraud", 5),
        ("arrears_evasion", 5),
    ]
    codes = [c for c, _ in violations]
    weights = [w for _, w in violations]
    for i in range(cases):
        case_id = 100000 + i
        officer = users[OFFICERS[i % len(OFFICERS)]]
        violation = rng.choices(codes, weights)[0]
        # opened between 2024-12-20 and 2025-12-31; a few on the very first/last minutes
        opened = date(2024, 12, 20) + timedelta(days=rng.randrange(0, 377))
        hour = rng.choice((0, 1, 9, 15, 23))  # 00:xx China is the previous day in UTC
        if i == 1:  # opened in the first hour of the year: still 2024 by the UTC date
            opened, hour = date(YEAR, 1, 1), 0
        tax = Decimal(rng.choice((8000, 26000, 150000, 480000, 1500000, 3200000)))
        payable = None if i % 7 == 0 else tax * Decimal(rng.choice((3, 5, 20)))
        facts = f"经查，该户存在{violation}行为，涉及税款{tax}元。"
        if violation == "invoice_false_issuing" and i % 2:
            facts += "虚开增值税专用发票。"
        first = violation == "late_filing" and i % 10 == 3
        case_rows.append(
            {
                "id": case_id,
                "number": f"TA-STAT-{i:06d}",
                "taxpayer_id": case_id,
                "officer_id": officer.id,
                "violation_code": violation,
                "facts": facts,
                "violation_date": opened - timedelta(days=60),
                "tax_unpaid": tax if violation != "late_filing" else Decimal("0.00"),
                "tax_payable": payable,
                "invoice_amount": tax * 10 if violation == "invoice_false_issuing" else Decimal(0),
                "days_overdue": rng.choice((10, 45)) if violation == "late_filing" else 0,
                "first_violation": first,
                "corrected_in_time": first or rng.random() < 0.5,
                "harm": "minor",
                "party_role": "taxpayer",
                "illegal_gains": Decimal(0),
                "invoice_tax_amount": Decimal(0),
                "occurrences": 1,
                "factors": [],
                "evidence": [],
                "status": "investigating",
                "created_at": at_china(opened, hour),
            }
        )
        seq = iter(range(1, 100))

        def act(
            action: str,
            day: date,
            actor: User,
            details: dict[str, Any] | None = None,
            *,
            stated: bool = True,
            hour: int = 10,
            credential_of: User | None = None,
            case_id: int = case_id,
            seq: Any = seq,
        ) -> dict[str, Any]:
            who = credential_of or actor
            row = {
                "case_id": case_id,
                "actor_id": actor.id,
                "actor_role": actor.role,
                "action": action,
                "details": {
                    **({"on": day.isoformat()} if stated else {}),
                    **(details or {}),
                    "credential": credential[who.id],
                },
                "created_at": at_china(day, hour),
                "seq": next(seq),
            }
            events.append(row)
            return row

        act(
            "case_created", opened, officer, {"number": f"TA-STAT-{i:06d}"}, stated=False, hour=hour
        )
        outcome = rng.random()
        if outcome < 0.12:  # still open
            if opened.year == YEAR and opened + timedelta(days=90) < AS_OF:
                planted.open_overdue.add(case_id)
            case_rows[-1]["status"] = "investigating"
            continue
        if outcome < 0.16 and violation in ("tax_evasion", "export_refund_fraud"):
            act("referral_proposed", opened + timedelta(days=20), officer)
            act("referred", opened + timedelta(days=25), approver)
            case_rows[-1]["status"] = "referred"
            continue
        decided_on = opened + timedelta(days=rng.choice((20, 40, 60, 85, 100)))
        if decided_on > date(2026, 11, 30):
            decided_on = date(2026, 11, 30)
        if (decided_on - opened).days > 90 and opened.year == YEAR:
            planted.late_decisions.add(case_id)
        reviews = 2 if i % 9 == 0 else 1
        for r in range(reviews):
            act(
                "legal_review",
                opened + timedelta(days=5 + r),
                reviewer,
                {"result": "存在问题" if r + 1 < reviews else "同意"},
                stated=False,
            )
        act("approved", opened + timedelta(days=8), approver, stated=False)
        act("notified", opened + timedelta(days=10), officer)
        if i % 13 == 0:
            act("hearing_requested", opened + timedelta(days=12), officer)
            act(
                "hearing_scheduled",
                opened + timedelta(days=13),
                approver,
                {"hearing_on": (opened + timedelta(days=19)).isoformat()},
            )
            act("hearing_held", opened + timedelta(days=19), approver)
        if i % 17 == 0:
            act("committee_reviewed", opened + timedelta(days=19), approver, {"opinion": "同意"})
        s = suggest(_discretion_input(case_rows[-1], kind, decided_on), benchmark=bench)
        if s.decision == "no_penalty":
            act("decided", decided_on, approver, {"decision": "no_penalty", "amount": "0.00"})
            act("served", decided_on + timedelta(days=2), officer)  # 不予处罚决定书 is served too
            if i % 3 != 2:  # where the bureau publishes 不予处罚 too: most of them, published
                documents.append(
                    {
                        "id": 500000 + i * 2,
                        "case_id": case_id,
                        "doc_type": "no_penalty_decision",
                        "number": f"示税稽不罚〔{decided_on.year}〕{i + 1}号",
                        "sha256": f"{i + 7000:064d}",
                        "filename": f"no-penalty-{i}.docx",
                        "text": "不予税务行政处罚决定书",
                        "created_by": officer.id,
                        "issued_at": at_china(decided_on, 16),
                        "issued_by": approver.id,
                    }
                )
                publications.append(
                    _published(
                        case_id,
                        "no_penalty_decision",
                        "不予处罚",
                        decided_on,
                        officer,
                        document_id=500000 + i * 2,
                    )
                )
            continue
        amount = s.suggested_amount
        if i % 50 == 7 and s.benchmark_max is not None and s.benchmark_max * 2 <= s.statutory_max:
            amount = s.benchmark_max * 2  # planted: above the tier the facts fall in
            if decided_on.year == YEAR:
                planted.benchmark_outliers.add(case_id)
        decider = approver
        act(
            "decided",
            decided_on,
            decider,
            {"decision": "penalty", "amount": str(amount), "major": []},
        )
        served_on = decided_on + timedelta(days=rng.choice((0, 2, 3, 15)))
        # 7 working days on the State Council calendar (a 15-day wait across the Spring
        # Festival or National Day holidays is not late)
        due = load_calendar().add_working_days(decided_on, 7).due_on
        if served_on > due and decided_on.year == YEAR:
            planted.late_service.add(case_id)
        act("served", served_on, officer)
        _plant_outcomes(act, i, served_on, officer)
        doc_id = 500000 + i * 2
        documents.append(
            {
                "id": doc_id,
                "case_id": case_id,
                "doc_type": "penalty_decision",
                "number": f"示税稽罚〔{decided_on.year}〕{i + 1}号",
                "sha256": f"{i:064d}",
                "filename": f"decision-{i}.docx",
                "text": "税务行政处罚决定书",
                "created_by": officer.id,
                "issued_at": at_china(decided_on, 16),
                "issued_by": approver.id,
            }
        )
        if i % 2 == 0:  # half the decisions published, every tenth of those later withdrawn
            published_at = at_china(decided_on + timedelta(days=rng.choice((1, 5, 9))), 10)
            withdrawn = i % 20 == 0
            publications.append(
                {
                    "case_id": case_id,
                    "document_id": doc_id,
                    "doc_type": "penalty_decision",
                    "kind": "处罚",
                    "status": "withdrawn" if withdrawn else "published",
                    "fields": {},
                    "findings": [],
                    "decided_on": decided_on,
                    "due_on": decided_on + timedelta(days=10),
                    "due_provisional": False,
                    "created_by": officer.id,
                    "created_at": published_at,
                    "published_by": officer.id,
                    "published_at": published_at,
                    "withdrawn_by": officer.id if withdrawn else None,
                    "withdrawn_at": published_at + timedelta(days=30) if withdrawn else None,
                    "withdrawal_reason": "revoked" if withdrawn else None,
                }
            )
        if violation != "late_filing" and i % 3 == 0:
            documents.append(
                {
                    "id": doc_id + 1,
                    "case_id": case_id,
                    "doc_type": "tax_handling_decision",
                    "number": f"示税稽处〔{decided_on.year}〕{i + 1}号",
                    "sha256": f"{i + 5000:064d}",
                    "filename": f"handling-{i}.docx",
                    "text": "税务处理决定书",
                    "created_by": officer.id,
                    "issued_at": at_china(decided_on, 0, 30),  # 00:30 China: the day before in UTC
                    "issued_by": approver.id,
                }
            )
            if i % 6 == 0:  # some 税务处理决定 published (征收)
                publications.append(
                    _published(
                        case_id,
                        "tax_handling_decision",
                        "征收",
                        decided_on,
                        officer,
                        document_id=doc_id + 1,
                    )
                )
        if decided_on.year == YEAR:
            _plant_candidate(planted, case_rows[-1], violation, tax, payable)
    session.execute(insert(Case), case_rows)
    # acts without any credential number: recorded before credentials were required
    for row in events[:: max(1, len(events) // 5)][:5]:
        row["details"].pop("credential")
    session.execute(insert(CaseEvent), events)
    planted.no_credential_events = {
        e.id
        for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id >= 100000))
        if "credential" not in (e.details or {})
    }
    session.execute(insert(Document), documents)
    _point_remedies_at_measures(session)
    # 强制 measures: every other one's public record published (强制, the measure's event)
    measures = session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id >= 100000, CaseEvent.action == "enforcement_measure")
        .order_by(CaseEvent.id)
    )
    for event in list(measures)[::2]:
        taken_on = date.fromisoformat(event.details["on"])
        officer_id = event.actor_id
        publications.append(
            {
                **_published(event.case_id, "enforcement_measure", "强制", taken_on, None),
                "event_id": event.id,
                "created_by": officer_id,
                "published_by": officer_id,
            }
        )
    session.execute(insert(Publication), publications)
    session.flush()
    return planted


def _published(
    case_id: int,
    doc_type: str,
    kind: str,
    decided_on: date,
    officer: User | None,
    *,
    document_id: int | None = None,
) -> dict[str, Any]:
    """A publication row published two days after the decision (or measure)."""
    published_at = at_china(decided_on + timedelta(days=2), 11)
    return {
        "case_id": case_id,
        "document_id": document_id,
        "doc_type": doc_type,
        "kind": kind,
        "status": "published",
        "fields": {},
        "findings": [],
        "decided_on": decided_on,
        "due_on": decided_on + timedelta(days=10),
        "due_provisional": False,
        "created_by": officer.id if officer else None,
        "created_at": published_at,
        "published_by": officer.id if officer else None,
        "published_at": published_at,
    }


LAST_ACT = date(2026, 11, 30)
RECONSIDERATION_RESULTS = ("维持", "撤销", "变更", "确认违法")
JUDGMENTS = ("驳回诉讼请求", "撤销", "确认违法", "确认无效", "变更")


def _plant_outcomes(act: Any, i: int, served_on: date, officer: User) -> None:
    """强制 measures, 复议 and 诉讼 on some decided cases, every result kind present (drawn
    from `i`, not the generator, so the other planted findings stay as they were)."""

    def on(days: int) -> date:
        return min(served_on + timedelta(days=days), LAST_ACT)

    if i % 7 == 0:
        execution = i % 14 == 0
        act(
            "enforcement_measure",
            on(20),
            officer,
            {
                "measure": "execution" if execution else "preservation",
                "method": "deduct_deposit" if execution else "freeze_deposit",
            },
        )
    if i % 19 == 0:
        # where a measure was taken, the 复议 is against the measure (its event id set once the
        # events are inserted), not the decision
        against = {"against_measure": True} if i % 7 == 0 else {}
        act("reconsideration_applied", on(30), officer, {"remedy": "reconsideration", **against})
        result = RECONSIDERATION_RESULTS[(i // 19) % len(RECONSIDERATION_RESULTS)]
        act("reconsideration_decided", on(90), officer, {"result": result})
    elif i % 21 == 0:  # a 复议 that revokes the measure alone: the decision stands
        act(
            "reconsideration_applied",
            on(30),
            officer,
            {"remedy": "reconsideration", "against_measure": True},
        )
        act("reconsideration_decided", on(60), officer, {"result": "撤销"})
    if i % 23 == 0:
        act("lawsuit_filed", on(40), officer, {"remedy": "litigation"})
        act("lawsuit_judged", on(160), officer, {"result": JUDGMENTS[(i // 23) % len(JUDGMENTS)]})
    elif i % 29 == 0:  # a lawsuit with no judgment recorded: pending
        act("lawsuit_filed", on(45), officer, {"remedy": "litigation"})


def _point_remedies_at_measures(session: Session) -> None:
    """The 复议 planted against a measure names that measure's event, as the service records it."""
    measures = {
        e.case_id: e.id
        for e in session.scalars(
            select(CaseEvent).where(
                CaseEvent.case_id >= 100000, CaseEvent.action == "enforcement_measure"
            )
        )
    }
    applied = session.scalars(
        select(CaseEvent).where(
            CaseEvent.case_id.in_(sorted(measures)), CaseEvent.action == "reconsideration_applied"
        )
    )
    for event in applied:
        details = dict(event.details)
        if details.pop("against_measure", False):
            event.details = {**details, "measure_event_id": measures[event.case_id]}
    session.flush()


def _plant_candidate(
    planted: Planted, row: dict[str, Any], violation: str, tax: Decimal, payable: Decimal | None
) -> None:
    case_id = row["id"]
    if violation == "tax_evasion" and tax >= 1000000:
        if payable is None:
            planted.candidates[case_id] = "6(1)"
            planted.unverified_candidates.add(case_id)
        elif tax >= payable * Decimal("0.10"):
            planted.candidates[case_id] = "6(1)"
    elif violation == "arrears_evasion" and tax >= 1000000:
        planted.candidates[case_id] = "6(2)"
    elif violation == "export_refund_fraud":
        planted.candidates[case_id] = "6(3)"
    elif violation == "invoice_false_issuing" and "专用发票" in row["facts"]:
        planted.candidates[case_id] = "6(5)"
    elif violation == "invoice_false_issuing" and row["invoice_amount"] >= 4000000:
        planted.candidates[case_id] = "6(6)"


def _discretion_input(row: dict[str, Any], kind: str, decided_on: date) -> DiscretionInput:
    """The engine's input for a generated case, field for field as the workflow builds it."""
    return DiscretionInput(
        violation=row["violation_code"],
        taxpayer_type=kind,  # type: ignore[arg-type]
        violation_date=row["violation_date"],
        decision_date=decided_on,
        days_overdue=row["days_overdue"],
        tax_unpaid=row["tax_unpaid"],
        invoice_amount=row["invoice_amount"],
        first_violation=row["first_violation"],
        corrected_in_time=row["corrected_in_time"],
        harm=row["harm"],
        tax_payable=row["tax_payable"],
    )

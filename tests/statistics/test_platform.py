"""The data platform over the generated year: it finds exactly what was planted — fines above
the benchmark tier, late decisions and services, open cases past 90 days, acts without a valid
credential, candidates for the 重大税收违法失信主体 list — and the distributions add up."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from assistant.discretion import load_benchmark
from assistant.errors import InvalidInput
from assistant.publicity.workdays import CALENDAR_YEAR_MISSING, load_calendar
from assistant.statistics.platform import (
    load_criteria,
    load_deadlines,
    overdue,
    platform_report,
)
from assistant.statistics.records import Period
from tests.conftest import make_settings
from tests.statistics.conftest import Seeded, in_dialect
from tests.statistics.seed import AS_OF, EXPIRED_OFFICER, EXPIRED_ON, YEAR, at_china


@pytest.fixture(scope="module")
def report(seeded: Seeded) -> dict:  # type: ignore[type-arg]
    with seeded.services.db.session() as session:
        return platform_report(
            session,
            Period.year(session, YEAR),
            load_benchmark(),
            as_of=AS_OF,
            criteria=load_criteria(),
            authorities={"示税稽": "示例局"},
            calendar=load_calendar(),
        )


def ids(rows: list[dict], code: str | None = None, key: str = "case_id") -> set[int]:  # type: ignore[type-arg]
    return {r[key] for r in rows if code is None or r.get("code", r.get("deadline")) == code}


def test_outliers_are_the_planted_ones(seeded: Seeded, report: dict) -> None:  # type: ignore[type-arg]
    planted = seeded.planted.benchmark_outliers
    assert len(planted) >= 5
    assert ids(report["benchmark_outliers"]) == planted
    assert {r["code"] for r in report["benchmark_outliers"]} == {"above_benchmark_tier"}
    # 2x the tier's top is far above every like decision (same violation and tier)
    assert ids(report["peer_outliers"], "high_vs_similar_cases") == planted
    assert ids(report["peer_outliers"]) == planted


def test_distribution_adds_up(seeded: Seeded, report: dict) -> None:  # type: ignore[type-arg]
    with seeded.services.db.session() as session:
        decided = session.execute(
            text(
                in_dialect(
                    "SELECT COUNT(*) FROM case_events WHERE action = 'decided'"
                    " AND json_extract(details, '$.decision') = 'penalty'"
                    f" AND json_extract(details, '$.on') BETWEEN '{YEAR}-01-01' AND '{YEAR}-12-31'",
                    session.get_bind().dialect.name,
                )
            )
        ).scalar_one()
    assert report["decisions"] == decided
    for dimension in ("violation", "authority", "officer"):
        groups = report["distribution"][dimension]
        assert sum(g["count"] for g in groups) == decided
    assert {g["group"] for g in report["distribution"]["authority"]} == {"示例局"}
    evasion = next(g for g in report["distribution"]["violation"] if g["group"] == "tax_evasion")
    assert evasion["name"] == "偷税" and evasion["multiples"] == evasion["count"]
    assert Decimal("0.5") <= Decimal(evasion["multiple"]["median"]) <= Decimal("5")


def test_overdue_procedures(seeded: Seeded, report: dict) -> None:  # type: ignore[type-arg]
    planted = seeded.planted
    decisions = [r for r in report["overdue"] if r["deadline"] == "decision_within_90_days"]
    assert {r["case_id"] for r in decisions if r["open"]} == planted.open_overdue
    assert {r["case_id"] for r in decisions if not r["open"]} == planted.late_decisions
    service = [r for r in report["overdue"] if r["deadline"] == "service_within_7_working_days"]
    assert {r["case_id"] for r in service} == planted.late_service
    assert all(r["days_late"] > 0 and "行政处罚法" in r["source"] for r in report["overdue"])


def test_service_deadline_counts_the_state_council_calendar(tmp_path: Path) -> None:
    """Decided on 2025-01-27, the working day before the Spring Festival (01-28 … 02-04 off,
    Saturday 02-08 worked): 7 working days end on 02-12, not on 02-05 as Monday–Friday
    counting would have it. Served on 02-10: on time; on 02-13: one day late. A deadline
    counted through a year the calendar lacks is marked provisional with its warning."""
    from sqlalchemy import insert, select

    from assistant.db.models import Case, CaseEvent, Taxpayer, User
    from assistant.services import build_services, seed_demo_users

    services = build_services(make_settings(tmp_path / "data"))
    services.db.migrate()
    seed_demo_users(services)
    served = {1: date(2025, 2, 10), 2: date(2025, 2, 13), 3: date(2031, 3, 20)}
    decided = {1: date(2025, 1, 27), 2: date(2025, 1, 27), 3: date(2031, 3, 3)}
    with services.db.session() as session:
        officer = session.scalars(select(User).where(User.username == "officer")).one()
        session.add(
            Taxpayer(
                id=900, name="春节示例有限公司", uscc="9115TEST0000009000", kind="organisation"
            )
        )
        session.flush()
        for n in served:
            session.add(
                Case(
                    id=900 + n,
                    number=f"TA-SF-{n}",
                    taxpayer_id=900,
                    officer_id=officer.id,
                    violation_code="late_filing",
                    facts="逾期申报。",
                    violation_date=date(2024, 12, 2),
                    status="served",
                )
            )
        session.flush()
        session.execute(
            insert(CaseEvent),
            [
                {
                    "case_id": 900 + n,
                    "actor_id": officer.id,
                    "actor_role": "officer",
                    "action": action,
                    "details": {"on": day.isoformat()},
                    "created_at": at_china(day, 10),
                    "seq": seq,
                }
                for n in served
                for seq, (action, day) in enumerate(
                    (("decided", decided[n]), ("served", served[n])), start=1
                )
            ],
        )
        rules = [d for d in load_deadlines() if d.code == "service_within_7_working_days"]
        late = overdue(
            session,
            Period(session, date(2025, 1, 1), date(2025, 12, 31)),
            date(2026, 1, 1),
            calendar=load_calendar(),
            deadlines=rules,
        )
        assert [(o.case_id, o.due, o.days_late, o.due_provisional) for o in late] == [
            (902, date(2025, 2, 12), 1, False)
        ]
        [future] = overdue(
            session,
            Period(session, date(2031, 1, 1), date(2031, 12, 31)),
            date(2032, 1, 1),
            calendar=load_calendar(),
            deadlines=rules,
        )
        assert future.case_id == 903 and future.due_provisional
        assert future.to_dict()["due_warning"]["code"] == CALENDAR_YEAR_MISSING
    services.db.engine.dispose()


def test_deadline_data() -> None:
    assert {d.code for d in load_deadlines()} == {
        "decision_within_90_days",
        "service_within_7_working_days",
    }


def test_acts_without_a_valid_credential(seeded: Seeded, report: dict) -> None:  # type: ignore[type-arg]
    found = Counter(r["code"] for r in report["credentials"])
    with seeded.services.db.session() as session:
        dialect = session.get_bind().dialect.name
        expired = set(
            session.execute(
                text(
                    in_dialect(
                        "SELECT e.id FROM case_events e JOIN users u ON u.id = e.actor_id"
                        " WHERE u.username = :name"
                        " AND json_extract(e.details, '$.credential') IS NOT NULL"
                        " AND COALESCE(json_extract(e.details, '$.on'),"
                        " date(e.created_at, '+8 hours')) BETWEEN :after AND :end",
                        dialect,
                    )
                ),
                {"name": EXPIRED_OFFICER, "after": "2025-07-01", "end": f"{YEAR}-12-31"},
            ).scalars()
        )
        in_year = set(
            session.execute(
                text(
                    in_dialect(
                        "SELECT id FROM case_events WHERE COALESCE(json_extract(details, '$.on'),"
                        f" date(created_at, '+8 hours')) BETWEEN '{YEAR}-01-01' AND '{YEAR}-12-31'",
                        dialect,
                    )
                )
            ).scalars()
        )
    assert date(2025, 7, 1) > EXPIRED_ON and len(expired) > 20
    assert ids(report["credentials"], "credential_not_valid_on_date", "event_id") == expired
    missing = seeded.planted.no_credential_events & in_year
    assert missing and ids(report["credentials"], "no_credential_recorded", "event_id") == missing
    assert set(found) == {"credential_not_valid_on_date", "no_credential_recorded"}


# 复议 and 诉讼 against a case's decision (not against a measure only), dated up to the report's
# day, in the SQL the test checks the platform against; `{outcome}` is the result's condition.
REMEDY_SQL = (
    "SELECT DISTINCT a.case_id FROM case_events a"
    " WHERE a.action IN ('reconsideration_applied', 'lawsuit_filed')"
    " AND json_extract(a.details, '$.measure_event_id') IS NULL"
    " AND json_extract(a.details, '$.on') <= :as_of AND {outcome}"
)
CONCLUSION = (
    "EXISTS (SELECT 1 FROM case_events d WHERE d.case_id = a.case_id AND d.seq > a.seq"
    " AND d.action = CASE a.action WHEN 'reconsideration_applied' THEN 'reconsideration_decided'"
    " ELSE 'lawsuit_judged' END AND json_extract(d.details, '$.on') <= :as_of{result})"
)


def remedied(seeded: Seeded, outcome: str) -> set[int]:
    with seeded.services.db.session() as session:
        sql = in_dialect(REMEDY_SQL.format(outcome=outcome), session.get_bind().dialect.name)
        return set(session.execute(text(sql), {"as_of": AS_OF.isoformat()}).scalars())


def test_major_violator_candidates(seeded: Seeded, report: dict) -> None:  # type: ignore[type-arg]
    """The planted candidates, less those a 复议 or judgment revoked, confirmed unlawful or void
    by the report's day (listed apart with that result); a changed decision is kept to re-check,
    one under a remedy with no result yet is marked pending; a 复议 against a measure only, or a
    result after the day, changes nothing."""
    block = report["major_violator_candidates"]
    assert "国家税务总局令第54号" in block["source"] and "verify" in block["confidence"]
    assert "verify" in block["remedies_confidence"]
    planted = seeded.planted.candidates
    overturned = remedied(
        seeded, CONCLUSION.format(result=" AND json_extract(d.details, '$.result')"
                                  " IN ('撤销', '确认违法', '确认无效')")
    ) & set(planted)  # fmt: skip
    changed = remedied(
        seeded, CONCLUSION.format(result=" AND json_extract(d.details, '$.result') = '变更'")
    ) & set(planted)
    pending = remedied(seeded, "NOT " + CONCLUSION.format(result="")) & set(planted)
    against_decision = remedied(seeded, "1 = 1")  # any remedy against the decision
    assert overturned and changed - overturned and pending - overturned, "seed plants each"

    found = {c["case_id"]: c["criterion"] for c in block["cases"]}
    assert found == {k: v for k, v in planted.items() if k not in overturned}
    excluded = {c["case_id"]: c for c in block["excluded"]}
    assert set(excluded) == overturned
    assert all(
        c["excluded_by"]["reason"] in ("revoked", "confirmed_unlawful", "confirmed_void")
        for c in excluded.values()
    )
    assert {c["case_id"] for c in block["cases"] if c["remedy_pending"]} == pending - overturned
    assert {c["case_id"] for c in block["cases"] if c["remedy_status"] == "pending"} == (
        pending - overturned
    )
    rechecked = {c["case_id"] for c in block["cases"] if "decision_changed" in c["unverified"]}
    assert rechecked == changed - overturned
    unverified = {c["case_id"] for c in block["cases"] if c["unverified"]}
    assert unverified == (seeded.planted.unverified_candidates - overturned) | rechecked
    # a 复议 against the 强制 measure alone leaves the decision's candidate as it was
    with seeded.services.db.session() as session:
        measure_only = set(
            session.execute(
                text(
                    in_dialect(
                        "SELECT case_id FROM case_events WHERE action = 'reconsideration_applied'"
                        " AND json_extract(details, '$.measure_event_id') IS NOT NULL",
                        session.get_bind().dialect.name,
                    )
                )
            ).scalars()
        )
    untouched = measure_only & (set(found) - against_decision)
    assert untouched, "the seed plants a 复议 against a measure alone on a candidate"
    assert all(not c["remedies"] for c in block["cases"] if c["case_id"] in untouched)


def test_a_broken_criteria_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "criteria.yaml"
    bad.write_text("criteria:\n  - id: x\n    name: y\n    violations: [no_such_code]\n", "utf-8")
    with pytest.raises(InvalidInput) as caught:
        load_criteria(bad)
    assert caught.value.code == "invalid_criteria_file"
    # a remedy result the outcome rules know, left out of the file's `remedies`, is refused
    partial = tmp_path / "partial.yaml"
    partial.write_text(
        "source: x\ncriteria:\n  - id: a\n    name: b\n    violations: [tax_evasion]\n"
        "remedies:\n  source: y\n  exclude: [revoked, confirmed_unlawful, confirmed_void]\n",
        "utf-8",
    )
    with pytest.raises(InvalidInput) as caught:
        load_criteria(partial)
    assert caught.value.code == "invalid_criteria_file" and "changed" in caught.value.message

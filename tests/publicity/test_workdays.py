"""Working-day deadlines on the State Council calendar: Spring Festival and National Day with
their adjusted working days (调休上班), 2024–2026."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from assistant.errors import InvalidInput
from assistant.publicity.workdays import load_calendar, parse_calendar

CAL = load_calendar()


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        # 2024 春节: 2/10–2/17 off, Sunday 2/4 and Sunday 2/18 worked
        (date(2024, 2, 8), 1, date(2024, 2, 9)),
        (date(2024, 2, 8), 2, date(2024, 2, 18)),  # the adjusted Sunday counts
        (date(2024, 2, 2), 1, date(2024, 2, 4)),  # Sunday 2/4 is a working day
        (date(2024, 2, 8), 7, date(2024, 2, 23)),
        # 2024 国庆: 10/1–10/7 off, Sunday 9/29 and Saturday 10/12 worked
        (date(2024, 9, 27), 1, date(2024, 9, 29)),
        (date(2024, 9, 29), 1, date(2024, 9, 30)),
        (date(2024, 9, 30), 1, date(2024, 10, 8)),
        (date(2024, 9, 30), 5, date(2024, 10, 12)),  # Saturday 10/12 worked
        (date(2024, 9, 30), 7, date(2024, 10, 15)),
        # 2025 春节: 1/28–2/4 off, Sunday 1/26 and Saturday 2/8 worked
        (date(2025, 1, 24), 1, date(2025, 1, 26)),
        (date(2025, 1, 27), 1, date(2025, 2, 5)),
        (date(2025, 1, 27), 4, date(2025, 2, 8)),
        (date(2025, 1, 27), 7, date(2025, 2, 12)),
        # 2025 国庆中秋: 10/1–10/8 off, Sunday 9/28 and Saturday 10/11 worked
        (date(2025, 9, 26), 1, date(2025, 9, 28)),
        (date(2025, 9, 30), 1, date(2025, 10, 9)),
        (date(2025, 9, 30), 3, date(2025, 10, 11)),
        (date(2025, 9, 30), 7, date(2025, 10, 16)),
        # 2026 春节: 2/15–2/23 off, Saturdays 2/14 and 2/28 worked
        (date(2026, 2, 13), 1, date(2026, 2, 14)),
        (date(2026, 2, 14), 1, date(2026, 2, 24)),
        (date(2026, 2, 24), 4, date(2026, 2, 28)),
        (date(2026, 2, 13), 7, date(2026, 3, 2)),
        # 2026 国庆: 10/1–10/7 off, Sunday 9/20 and Saturday 10/10 worked
        (date(2026, 9, 18), 1, date(2026, 9, 20)),
        (date(2026, 9, 30), 1, date(2026, 10, 8)),
        (date(2026, 9, 30), 3, date(2026, 10, 10)),
        (date(2026, 9, 30), 20, date(2026, 11, 3)),
    ],
)
def test_deadlines_across_holidays_and_adjusted_days(start: date, days: int, due: date) -> None:
    deadline = CAL.add_working_days(start, days)
    assert deadline.due_on == due
    assert not deadline.provisional
    assert all("国办发明电" in s for s in deadline.sources)


def test_every_year_cites_its_notice_and_weekends_worked_are_working_days() -> None:
    assert {2024, 2025, 2026} <= set(CAL.years)
    for notice in CAL.years.values():
        assert "国办发明电" in notice.notice
        for day in notice.workdays:
            assert CAL.is_working_day(day)
        for day in notice.holidays:
            assert not CAL.is_working_day(day)
    assert not CAL.is_working_day(date(2026, 2, 16))  # Monday in the Spring Festival
    assert CAL.is_working_day(date(2026, 10, 10))  # Saturday worked


def test_a_year_without_its_notice_is_provisional() -> None:
    deadline = CAL.add_working_days(date(2026, 12, 28), 7)
    assert deadline.provisional and deadline.missing_years == (2027,)
    # weekdays less 元旦 (fixed by law) until the 2027 notice is added
    assert deadline.due_on == date(2027, 1, 7)
    warning = deadline.warning
    assert warning is not None and warning["code"] == "calendar_year_missing"
    assert "2027年" in warning["message"] and "国务院办公厅" in warning["message"]
    assert warning["details"] == {"missing_years": [2027], "due_on": "2027-01-07"}
    assert CAL.add_working_days(date(2026, 12, 1), 7).warning is None
    # where a guessed date must not be used, it is refused with the same code and message
    with pytest.raises(InvalidInput) as refused:
        CAL.require(date(2026, 12, 28), 7)
    assert refused.value.code == "calendar_year_missing"
    assert refused.value.message == warning["message"]
    assert CAL.require(date(2026, 9, 30), 7).due_on == date(2026, 10, 15)


def test_the_cli_refuses_a_guessed_date_unless_asked_and_drafts_carry_the_warning() -> None:
    from typer.testing import CliRunner

    from assistant.cli import app
    from assistant.db.models import Publication
    from assistant.publicity.service import due_warning

    runner = CliRunner()
    refused = runner.invoke(app, ["publicity", "due", "2026-12-28", "--json"])
    assert isinstance(refused.exception, InvalidInput)
    assert refused.exception.code == "calendar_year_missing"
    given = runner.invoke(app, ["publicity", "due", "2026-12-28", "--provisional", "--json"])
    assert given.exit_code == 0, given.output
    out = json.loads(given.output)
    assert out["due_on"] == "2027-01-07" and out["warning"]["code"] == "calendar_year_missing"
    row = Publication(decided_on=date(2026, 12, 28), due_on=date(2027, 1, 7), due_provisional=True)
    warning = due_warning(row)
    assert warning is not None and warning["details"]["missing_years"] == [2027]


def test_counting_between_days() -> None:
    assert CAL.working_days_between(date(2025, 9, 30), date(2025, 10, 11)) == 3
    assert CAL.working_days_between(date(2025, 10, 11), date(2025, 9, 30)) == 0


def test_a_malformed_calendar_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_calendar({"years": {2026: {"holidays": {}}}}, tmp_path / "c.yaml")
    assert exc.value.code == "invalid_calendar"
    bad = {"years": {2026: {"notice": "x", "holidays": {"春节": [date(2026, 2, 16)]},
                            "workdays": [date(2026, 2, 16)]}}}  # fmt: skip
    with pytest.raises(InvalidInput):
        parse_calendar(bad, tmp_path / "c.yaml")

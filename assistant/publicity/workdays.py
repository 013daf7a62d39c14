"""Working days (工作日) on the Chinese calendar, from the State Council's yearly notices.

Why data: the holidays and the weekend days worked in exchange (调休上班) change every year by
notice (国办发明电), so they live in `corpora/calendar/cn_working_days.yaml`, one entry per year
citing its notice; publication deadlines are counted here. A year the file lacks is counted
on Monday–Friday less the fixed-date holidays and every date computed through it is marked
provisional, with a warning (`calendar_year_missing`) that names the year whose State Council
notice must be added: the date is never given as if it were certain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from assistant.config import BUNDLED_CORPUS
from assistant.errors import InvalidInput

DEFAULT_CALENDAR = BUNDLED_CORPUS / "calendar" / "cn_working_days.yaml"


@dataclass(frozen=True)
class YearNotice:
    """One year's holidays and adjusted working days, with the notice that set them."""

    year: int
    notice: str
    holidays: dict[date, str]  # day -> holiday name
    workdays: frozenset[date]


@dataclass(frozen=True)
class Deadline:
    """The last day of a period of working days; provisional when a year it crosses has no
    notice in the calendar (counted on weekdays only)."""

    due_on: date
    provisional: bool
    sources: tuple[str, ...] = field(default_factory=tuple)
    missing_years: tuple[int, ...] = field(default_factory=tuple)

    @property
    def warning(self) -> dict[str, Any] | None:
        """What the officer must know about a provisional date (None when it is certain)."""
        return year_missing_warning(self.missing_years, self.due_on)


CALENDAR_YEAR_MISSING = "calendar_year_missing"


def year_missing_warning(years: tuple[int, ...], due_on: date) -> dict[str, Any] | None:
    """The machine-readable code and the officer's message for a date counted through years the
    calendar lacks (weekdays only: the lunar holidays and the 调休 days are unknown)."""
    if not years:
        return None
    named = "、".join(f"{y}年" for y in years)
    return {
        "code": CALENDAR_YEAR_MISSING,
        "message": (
            f"工作日历缺少{named}的放假安排，截止日 {due_on} 仅按周一至周五和固定日期节假日推算，"
            f"可能有误：请在 {DEFAULT_CALENDAR.name} 中补充"
            f"国务院办公厅关于{named}部分节假日安排的通知后重新计算。"
        ),
        "details": {"missing_years": list(years), "due_on": due_on.isoformat()},
    }


@dataclass(frozen=True)
class WorkingCalendar:
    years: dict[int, YearNotice]
    # (month, day) holidays fixed by law, used for a year without its notice
    fixed_holidays: frozenset[tuple[int, int]] = frozenset()

    def is_working_day(self, day: date) -> bool:
        notice = self.years.get(day.year)
        if notice is not None:
            if day in notice.workdays:
                return True
            if day in notice.holidays:
                return False
        elif (day.month, day.day) in self.fixed_holidays:
            return False
        return day.weekday() < 5

    def known(self, day: date) -> bool:
        return day.year in self.years

    def add_working_days(self, start: date, days: int) -> Deadline:
        """The `days`-th working day after `start` (the day of the act itself not counted,
        as periods run from the next day: 行政处罚法第八十五条)."""
        if days < 0:
            raise InvalidInput("invalid_period", "工作日数不能为负数。", details={"days": days})
        day, left = start, days
        missing = {start.year} - set(self.years)
        sources: set[str] = set()
        while left > 0:
            day += timedelta(days=1)
            if not self.known(day):
                missing.add(day.year)
            else:
                sources.add(self.years[day.year].notice)
            if self.is_working_day(day):
                left -= 1
        return Deadline(
            due_on=day,
            provisional=bool(missing),
            sources=tuple(sorted(sources)),
            missing_years=tuple(sorted(missing)),
        )

    def missing_years(self, start: date, end: date) -> tuple[int, ...]:
        """The years from `start` to `end` the calendar has no notice for."""
        return tuple(y for y in range(start.year, end.year + 1) if y not in self.years)

    def require(self, start: date, days: int) -> Deadline:
        """`add_working_days`, refused (422 `calendar_year_missing`) where the calendar lacks a
        year the period crosses: for callers that must not act on a guessed date."""
        deadline = self.add_working_days(start, days)
        warning = deadline.warning
        if warning is not None:
            raise InvalidInput(warning["code"], warning["message"], details=warning["details"])
        return deadline

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 when end <= start)."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count


def _bad(path: Path, key: str, reason: str) -> InvalidInput:
    return InvalidInput(
        "invalid_calendar",
        f"工作日历文件 {path} 的 {key} 有误：{reason}",
        details={"file": str(path), "key": key, "reason": reason},
    )


def parse_calendar(data: dict[str, Any], path: Path) -> WorkingCalendar:
    """Check every year: a notice cited, dates inside the year, no day both off and worked."""
    years: dict[int, YearNotice] = {}
    for year, entry in (data.get("years") or {}).items():
        key = f"years.{year}"
        if not isinstance(entry, dict) or not entry.get("notice"):
            raise _bad(path, key, "缺少 notice（国务院办公厅通知及文号）")
        holidays: dict[date, str] = {}
        for name, days in (entry.get("holidays") or {}).items():
            for day in days:
                if not isinstance(day, date) or day.year != int(year):
                    raise _bad(path, f"{key}.holidays.{name}", f"{day} 不是该年的日期")
                holidays[day] = str(name)
        workdays = frozenset(entry.get("workdays") or [])
        for day in workdays:
            if not isinstance(day, date) or day.year != int(year):
                raise _bad(path, f"{key}.workdays", f"{day} 不是该年的日期")
            if day in holidays:
                raise _bad(path, f"{key}.workdays", f"{day} 同时列为假日和调休上班日")
        years[int(year)] = YearNotice(int(year), str(entry["notice"]), holidays, workdays)
    if not years:
        raise _bad(path, "years", "没有任何年度")
    fixed: set[tuple[int, int]] = set()
    for item in data.get("fixed_holidays") or []:
        try:
            month, day = (int(x) for x in str(item).split("-"))
            date(2000, month, day)
        except ValueError as exc:
            raise _bad(path, "fixed_holidays", f"{item} 不是 MM-DD 日期") from exc
        fixed.add((month, day))
    return WorkingCalendar(years, frozenset(fixed))


@lru_cache(maxsize=4)
def load_calendar(path: Path = DEFAULT_CALENDAR) -> WorkingCalendar:
    return parse_calendar(yaml.safe_load(path.read_text(encoding="utf-8")) or {}, path)

"""What the statistics read from the case record: acts with their legal date, per period.

Why one module: every counter and every platform check asks "which acts of this kind happened
in this period", and the answer must be the same everywhere. An act's date is the date it
states (`details.on`, the date of the act the officer recorded) or, for an event without one,
the China date it was recorded, as the lifecycle's guards read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.dates import CHINA, to_china_time, today_in_china
from assistant.db.models import CaseEvent, Document
from assistant.errors import InvalidInput

#: The first year a report may be asked for; the last is the current China year.
FIRST_YEAR = 2000


def check_year(year: int, *, today: date | None = None) -> int:
    """The year, or 422 `invalid_year`: before FIRST_YEAR or after the current year."""
    last = (today or today_in_china()).year
    if isinstance(year, bool) or not isinstance(year, int) or not FIRST_YEAR <= year <= last:
        raise InvalidInput(
            "invalid_year",
            f"统计年度应为 {FIRST_YEAR} 至 {last} 年之间的整数。",
            details={"year": year, "min": FIRST_YEAR, "max": last},
        )
    return year


@dataclass(frozen=True)
class Act:
    """One recorded act on a case: who, what, on which legal date, with the event's details."""

    event_id: int
    case_id: int
    action: str
    on: date
    actor_id: int
    details: dict[str, Any]
    created_at: datetime


def act_date(details: dict[str, Any], created_at: datetime) -> date:
    """The date the act states (`on`), else the China date it was recorded."""
    on = details.get("on")
    if isinstance(on, str):
        try:
            return date.fromisoformat(on)
        except ValueError:
            pass
    return to_china_time(created_at).date()


def china_midnight_utc(day: date) -> datetime:
    """00:00 China time of `day`, as the UTC instant timestamps are stored in."""
    return datetime.combine(day, time(), tzinfo=CHINA).astimezone(UTC)


@dataclass
class Period:
    """The acts of one period [start, end] (China dates), read once and shared by every counter.

    An act is never dated after the day it is recorded (the lifecycle refuses it), so only
    events recorded from the period's first day on can fall in it: the query is bounded below
    by that instant, and the act date decides the rest.
    """

    session: Session
    start: date
    end: date
    cache: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def year(cls, session: Session, year: int) -> Period:
        return cls(session, date(year, 1, 1), date(year, 12, 31))

    @property
    def label(self) -> str:
        if (
            self.start.month == 1
            and self.start.day == 1
            and self.end == date(self.start.year, 12, 31)
        ):
            return f"{self.start.year}年度"
        return f"{self.start.isoformat()} 至 {self.end.isoformat()}"

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def acts(self, *actions: str) -> list[Act]:
        """The acts of these kinds dated in the period, in record order."""
        key = "acts:" + ",".join(sorted(actions))
        if key not in self.cache:
            rows = self.session.execute(
                select(
                    CaseEvent.id,
                    CaseEvent.case_id,
                    CaseEvent.action,
                    CaseEvent.actor_id,
                    CaseEvent.details,
                    CaseEvent.created_at,
                )
                .where(
                    CaseEvent.action.in_(actions),
                    CaseEvent.created_at >= china_midnight_utc(self.start),
                )
                .order_by(CaseEvent.id)
            )
            acts = []
            for event_id, case_id, action, actor_id, details, created_at in rows:
                details = details or {}
                on = act_date(details, created_at)
                if self.contains(on):
                    acts.append(Act(event_id, case_id, action, on, actor_id, details, created_at))
            self.cache[key] = acts
        return list(self.cache[key])

    def issued(self, *doc_types: str) -> list[Document]:
        """Documents of these types issued (签发) in the period, by the China date of issue."""
        key = "issued:" + ",".join(sorted(doc_types))
        if key not in self.cache:
            rows = self.session.scalars(
                select(Document)
                .where(
                    Document.doc_type.in_(doc_types),
                    Document.issued_at >= china_midnight_utc(self.start),
                    Document.issued_at < china_midnight_utc(self.end + timedelta(days=1)),
                )
                .order_by(Document.id)
            )
            self.cache[key] = list(rows)
        return list(self.cache[key])

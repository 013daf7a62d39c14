"""Legal dates are China dates; timestamps are UTC and shown in Asia/Shanghai."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def today_in_china() -> date:
    return datetime.now(CHINA).date()


def to_china_time(moment: datetime) -> datetime:
    return moment.astimezone(CHINA)

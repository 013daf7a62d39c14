"""The statistics bound to one deployment's settings: its database, benchmark, authority and
criteria file. The CLI, the API and the workbench call these, so they answer alike."""

from __future__ import annotations

from datetime import date
from typing import Any

from assistant.dates import today_in_china
from assistant.services import Services
from assistant.statistics.annual import AnnualReport, annual_report
from assistant.statistics.records import Period, check_year


def annual(services: Services, year: int) -> AnnualReport:
    with services.db.session() as session:
        return annual_report(session, year)


def authority_names(services: Services) -> dict[str, str]:
    """文号 prefix -> authority name, for the authorities this deployment knows."""
    settings = services.settings
    return {settings.authority_doc_prefix: settings.authority_name}


def platform(services: Services, year: int, *, as_of: date | None = None) -> dict[str, Any]:
    """The data platform's checks over `year`, as of `as_of` (default today, China date)."""
    from assistant.discretion import load_benchmark
    from assistant.publicity.workdays import load_calendar
    from assistant.statistics.platform import MAJOR_VIOLATORS_FILE, load_criteria, platform_report

    settings = services.settings
    check_year(year)
    benchmark = load_benchmark(settings.benchmark_file)
    criteria = load_criteria(settings.major_violator_criteria_file or MAJOR_VIOLATORS_FILE)
    with services.db.session() as session:
        report = platform_report(
            session,
            Period.year(session, year),
            benchmark,
            as_of=as_of or today_in_china(),
            criteria=criteria,
            authorities=authority_names(services),
            calendar=load_calendar(),
        )
    return {"year": year, **report}

"""Annual enforcement statistics and the enforcement data platform, read from the case record.

`annual.py` holds the report's rows as a registry of counters; `export.py` writes .xlsx, .csv
and the charts; `platform.py` the checks that find weak links; `bulletins.py` the same kind of
analysis over the SAT's published case bulletins. `service.py` binds them to the settings.
"""

from assistant.statistics.annual import COUNTERS, GROUPS, AnnualReport, Counter, counter
from assistant.statistics.records import Period, check_year

__all__ = [
    "COUNTERS",
    "GROUPS",
    "AnnualReport",
    "Counter",
    "Period",
    "check_year",
    "counter",
]

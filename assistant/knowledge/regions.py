"""Region normalisation for the case `region` filter: place names -> administrative divisions.

A case's places are free strings (decision province/city fields, the place in a tax authority's
name: 温州市, 重庆市荣昌区, 苏州工业园区). They are resolved against `corpora/regions/divisions.csv`
(民政部 division codes), so a filter on a province (浙江省 or 浙江) matches every case in its
cities and counties, a prefecture (温州市 or 温州) only that prefecture and its counties, and a
county only that county. A filter value that names no division (a development zone, a typo)
keeps the plain substring match on the case's place strings.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from assistant.config import BUNDLED_CORPUS

DIVISIONS_FILE = BUNDLED_CORPUS / "regions" / "divisions.csv"
_LEVELS = ("province", "prefecture", "county")


@dataclass(frozen=True)
class Division:
    """One administrative division; `prefecture` is "" for provinces and for counties governed
    directly by a province or municipality (济源市, 重庆市荣昌区)."""

    code: str
    name: str
    level: str  # province | prefecture | county
    province: str
    prefecture: str

    def contains(self, other: Division) -> bool:
        """True when `other` lies in this division (or is it)."""
        if self.level == "province":
            return other.province == self.name
        if self.level == "prefecture":
            return other.prefecture == self.name
        return other.code == self.code


class Divisions:
    """Division names: full (浙江省, 温州市, 荣昌区) and short (浙江, 温州)."""

    def __init__(self, rows: Iterable[Division], shorts: dict[str, str]) -> None:
        self.by_name: dict[str, list[Division]] = {}
        for row in rows:
            self.by_name.setdefault(row.name, []).append(row)
        self.by_short: dict[str, Division] = {}
        # provinces first so 吉林 / 海南 mean the province, not 吉林市 / 海南藏族自治州
        for level in _LEVELS[:2]:
            for name, short in shorts.items():
                found = self.by_name[name][0]
                if found.level == level:
                    self.by_short.setdefault(short, found)
        # longest first: 内蒙古自治区 before 内蒙古, 重庆市 before 重庆
        # names searched inside a place string: not county names used twice (朝阳区) or of two
        # characters (东区 would hit 广东区域), which count only as the whole string
        self._names = sorted(
            (
                n
                for n, rows in self.by_name.items()
                if rows[0].level != "county" or (len(rows) == 1 and len(n) > 2)
            ),
            key=len,
            reverse=True,
        )
        self._shorts = sorted(self.by_short, key=len, reverse=True)

    @classmethod
    def load(cls, path: Path = DIVISIONS_FILE) -> Divisions:
        """Read the CSV (comment lines starting with # skipped)."""
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(line for line in fh if not line.startswith("#"))
            rows: list[Division] = []
            shorts: dict[str, str] = {}
            for rec in reader:
                rows.append(
                    Division(
                        code=rec["code"],
                        name=rec["name"],
                        level=rec["level"],
                        province=rec["province"],
                        prefecture=rec["prefecture"],
                    )
                )
                if rec["short"]:
                    shorts[rec["name"]] = rec["short"]
        return cls(rows, shorts)

    def lookup(self, value: str) -> tuple[Division, ...]:
        """Divisions a filter value names exactly (full or short name); () when none.

        A county name used in several provinces (朝阳区) gives all of them.
        """
        value = value.strip()
        if value in self.by_short:
            return (self.by_short[value],)
        return tuple(self.by_name.get(value, ()))

    @lru_cache(maxsize=65_536)  # noqa: B019 - one instance per process (divisions())
    def resolve(self, place: str) -> Division | None:
        """The most specific division a case's place string names, or None.

        Exact names first; then full names inside the string (重庆市荣昌区 -> 荣昌区 of 重庆市,
        坚决支持辽宁省 -> 辽宁省), the deepest level consistent with the others found; then a
        short name at its start (苏州工业园区 -> 苏州市). A county name used in several
        provinces counts only when its province or prefecture is named too.
        """
        place = place.strip()
        exact = self.lookup(place)
        if len(exact) == 1:
            return exact[0]
        found: list[Division] = []
        rest = place
        for name in self._names:
            if name in rest:
                found.extend(self.by_name[name])
                rest = rest.replace(name, "\0")
        for name, rows in self.by_name.items():
            if len(rows) > 1 and rows[0].level == "county" and name in place:
                found.extend(r for r in rows if _named_in(place, r.province, r.prefecture))
        if found:
            deepest = max(found, key=lambda d: (_LEVELS.index(d.level), len(d.name)))
            if all(d.contains(deepest) for d in found if d.level != deepest.level):
                return deepest
            return min(found, key=lambda d: _LEVELS.index(d.level))
        if exact:  # a county name of several provinces, alone: unknown, not 朝阳区 -> 朝阳市
            return None
        for short in self._shorts:
            if place.startswith(short):
                return self.by_short[short]
        return None


def _named_in(place: str, *names: str) -> bool:
    return any(name and name in place for name in names)


@lru_cache(maxsize=1)
def divisions() -> Divisions:
    """The bundled division table, read once per process."""
    return Divisions.load()


def region_matches(value: str, places: Iterable[str], table: Divisions | None = None) -> bool:
    """True when a case with these place strings lies in the region `value` names.

    `value` naming a division: a place matches when it resolves inside that division.
    Otherwise (苏州工业园区, a typo): the former substring match either way (云南 ~ 云南省).
    """
    value = value.strip()
    places = tuple(places)
    table = table or divisions()
    wanted = table.lookup(value)
    if not wanted:
        return any(value in place or place in value for place in places)
    for place in places:
        got = table.resolve(place)
        if got is not None and any(w.contains(got) for w in wanted):
            return True
    return False

"""The violation taxonomy: one list of violation codes shared by discretion, retrieval, drafting.

Loaded from `corpora/taxonomy/violations.yaml`; every entry names its penalty provision as
statute ids so downstream facts keep their provenance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from assistant.config import BUNDLED_CORPUS
from assistant.errors import InvalidInput

DEFAULT_TAXONOMY = BUNDLED_CORPUS / "taxonomy" / "violations.yaml"


@dataclass(frozen=True)
class StatuteVersion:
    """One version of the penalty provision (e.g. 发票管理办法 2019 vs 2023 numbering)."""

    version: str
    effective_from: date
    effective_to: date | None
    legal_basis: tuple[str, ...]
    source: str
    prohibition: str | None = None

    def in_force_on(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )


@dataclass(frozen=True)
class ViolationType:
    code: str
    name_zh: str
    description: str
    legal_basis: tuple[str, ...]
    keywords: tuple[str, ...]
    source: str
    item: int | None = None
    versions: tuple[StatuteVersion, ...] = ()

    def legal_basis_on(self, day: date) -> tuple[str, ...]:
        """Penalty provision in force on `day`; unversioned entries always return legal_basis."""
        if not self.versions:
            return self.legal_basis
        for version in self.versions:
            if version.in_force_on(day):
                return version.legal_basis
        raise InvalidInput(
            "no_statute_version",
            f"{day.isoformat()}时没有可适用的{self.name_zh}处罚条款版本，请人工确定适用的法规版本。",
            details={"violation": self.code, "date": day.isoformat()},
        )


def _as_date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidInput(
            "invalid_taxonomy", f"违法行为分类文件日期格式错误：{where}", details={"at": where}
        ) from exc


def _parse_entry(raw: dict[str, Any]) -> ViolationType:
    code = str(raw["code"])
    versions = tuple(
        StatuteVersion(
            version=str(v["version"]),
            effective_from=_as_date(v["effective_from"], f"{code}.versions"),
            effective_to=(
                None
                if v.get("effective_to") is None
                else _as_date(v["effective_to"], f"{code}.versions")
            ),
            legal_basis=tuple(str(x) for x in v["legal_basis"]),
            source=str(v["source"]),
            prohibition=None if v.get("prohibition") is None else str(v["prohibition"]),
        )
        for v in raw.get("versions") or ()
    )
    item = raw.get("item")
    return ViolationType(
        code=code,
        name_zh=str(raw["name_zh"]),
        description=str(raw["description"]),
        legal_basis=tuple(str(x) for x in raw["legal_basis"]),
        keywords=tuple(str(x) for x in raw.get("keywords") or ()),
        source=str(raw["source"]),
        item=None if item is None else int(item),
        versions=versions,
    )


@lru_cache(maxsize=8)
def _load(path: Path) -> dict[str, ViolationType]:
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    entries = data.get("violations") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise InvalidInput(
            "invalid_taxonomy",
            f"违法行为分类文件缺少 violations 列表：{path}",
            details={"file": str(path)},
        )
    out: dict[str, ViolationType] = {}
    for raw in entries:
        try:
            entry = _parse_entry(raw)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(
                "invalid_taxonomy",
                f"违法行为分类文件条目不完整：{path}（{exc}）",
                details={"file": str(path), "entry": str(raw)[:200]},
            ) from exc
        if entry.code in out:
            raise InvalidInput(
                "invalid_taxonomy",
                f"违法行为代码重复：{entry.code}",
                details={"file": str(path), "code": entry.code},
            )
        out[entry.code] = entry
    return out


def load_taxonomy(path: Path | None = None) -> dict[str, ViolationType]:
    """All violation types by code (cached per path); a fresh dict so callers cannot poison it."""
    return dict(_load((path or DEFAULT_TAXONOMY).resolve()))


def get_violation(code: str, *, path: Path | None = None) -> ViolationType:
    """The violation type for `code`, or InvalidInput(unknown_violation) listing the valid codes."""
    taxonomy = load_taxonomy(path)
    try:
        return taxonomy[code]
    except (KeyError, TypeError):
        raise InvalidInput(
            "unknown_violation",
            f"未知的违法行为代码：{code}",
            details={"violation": code, "valid_codes": sorted(taxonomy)},
        ) from None

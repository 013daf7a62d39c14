"""The violation taxonomy: one list of violation codes shared by discretion, retrieval, drafting.

Loaded from `corpora/taxonomy/violations.yaml`; every entry names its penalty provision as
statute ids so downstream facts keep their provenance.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from assistant.config import BUNDLED_CORPUS
from assistant.errors import InvalidInput
from assistant.legal import StatuteId

DEFAULT_TAXONOMY = BUNDLED_CORPUS / "taxonomy" / "violations.yaml"


PENALTY_KINDS: dict[str, str] = {
    "fine": "罚款",
    "confiscate_illegal_gains": "没收违法所得",
    "confiscate_tools": "没收（销毁）作案工具和非法物品",
    "destroy_illegal_invoices": "销毁非法印制的发票",
    "stop_export_refund": "停止为其办理出口退税",
    "withhold_invoices": "收缴发票或者停止向其发售发票",
    "revoke_printing_permit": "吊销发票准印证",
    "fine_responsible_persons": "对直接负责的主管人员和其他直接责任人员处以罚款",
}
"""Penalty kinds an article may impose (行政处罚法第九条 lists the kinds in general)."""


@dataclass(frozen=True)
class PenaltyKind:
    """One penalty an article imposes: `when` is the article's condition (有违法所得的 …), if any.

    `mandatory` separates 并处/予以没收 from 可以 (the authority may impose it).
    """

    kind: str
    text: str
    mandatory: bool = True
    when: str = ""

    @property
    def name_zh(self) -> str:
        return PENALTY_KINDS[self.kind]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name_zh": self.name_zh,
            "text": self.text,
            "mandatory": self.mandatory,
            "when": self.when,
        }


@dataclass(frozen=True)
class StatuteVersion:
    """One version of the penalty provision (e.g. 发票管理办法 2019 vs 2023 numbering)."""

    version: str
    effective_from: date
    effective_to: date | None
    legal_basis: tuple[str, ...]
    source: str
    prohibition: str | None = None
    penalties: tuple[PenaltyKind, ...] | None = None

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
    penalties: tuple[PenaltyKind, ...] = ()
    also_cites: tuple[str, ...] = ()

    def all_provisions(self) -> tuple[str, ...]:
        """Every provision this code is decided under, across versions (for coverage checks)."""
        out = [*self.legal_basis, *self.also_cites]
        for version in self.versions:
            out.extend(version.legal_basis)
        return tuple(dict.fromkeys(out))

    def articles(self) -> tuple[str, ...]:
        """The penalty provisions down to the 项 (`item`), per version where numbering differs."""
        bases = [b for v in self.versions for b in v.legal_basis] or list(self.legal_basis)
        out = []
        for basis in bases:
            sid = StatuteId.parse(basis)
            if self.item is not None and sid.paragraph is not None and sid.item is None:
                sid = replace(sid, item=self.item)
            out.append(str(sid))
        return tuple(dict.fromkeys(out))

    def penalties_on(self, day: date) -> tuple[PenaltyKind, ...]:
        """Penalty kinds of the version in force on `day` (a revision may drop one)."""
        for version in self.versions:
            if version.in_force_on(day) and version.penalties is not None:
                return version.penalties
        return self.penalties

    def to_dict(self) -> dict[str, Any]:
        """The CLI/API listing: code, name, articles (per version) and penalty kinds."""
        return {
            "code": self.code,
            "name_zh": self.name_zh,
            "legal_basis": list(self.legal_basis),
            "item": self.item,
            "articles": list(self.articles()),
            "also_cites": list(self.also_cites),
            "versions": [
                {
                    "version": v.version,
                    "effective_from": v.effective_from.isoformat(),
                    "effective_to": None if v.effective_to is None else v.effective_to.isoformat(),
                    "legal_basis": list(v.legal_basis),
                    "penalties": [p.to_dict() for p in (v.penalties or self.penalties)],
                    "source": v.source,
                }
                for v in self.versions
            ],
            "penalties": [p.to_dict() for p in self.penalties],
            "source": self.source,
        }

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


def _parse_penalties(raw: Any, where: str) -> tuple[PenaltyKind, ...]:
    out = []
    for p in raw or ():
        kind = str(p["kind"])
        if kind not in PENALTY_KINDS:
            raise InvalidInput(
                "invalid_taxonomy",
                f"违法行为分类文件中处罚种类未知：{kind}（{where}）",
                details={"at": where, "kind": kind, "valid_kinds": sorted(PENALTY_KINDS)},
            )
        out.append(
            PenaltyKind(
                kind=kind,
                text=str(p["text"]),
                mandatory=bool(p.get("mandatory", True)),
                when=str(p.get("when") or ""),
            )
        )
    return tuple(out)


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
            penalties=(
                None
                if v.get("penalties") is None
                else _parse_penalties(v["penalties"], f"{code}.versions")
            ),
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
        penalties=_parse_penalties(raw.get("penalties"), code),
        also_cites=tuple(str(x) for x in raw.get("also_cites") or ()),
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

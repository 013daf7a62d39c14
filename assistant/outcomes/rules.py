"""The kinds of enforcement measure and of remedy result, with their legal sources (data).

Why data: the measures and their articles (税收征收管理法第三十八条、第四十条), the results a
复议 or a judgment may have and which of them withdraw a publication live in
`corpora/outcomes/acts.yaml`; every citation an event carries is made from the statute ids
there through the one legal core (`assistant.legal.citation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from assistant.config import BUNDLED_CORPUS
from assistant.errors import InvalidInput
from assistant.legal.citation import PRC_PREFIX, cite
from assistant.legal.errors import LegalValueError
from assistant.legal.statute_id import StatuteId

DEFAULT_ACTS = BUNDLED_CORPUS / "outcomes" / "acts.yaml"


@dataclass(frozen=True)
class Measure:
    """税收保全措施 or 强制执行措施: its name, article and the methods the article lists."""

    key: str
    name: str
    statute: str
    citation: str
    note: str
    methods: dict[str, str]
    document: str  # the 税务文书 it is taken by (实施细则第一百零七条)


@dataclass(frozen=True)
class Remedy:
    """行政复议 or 行政诉讼: result -> withdrawal reason (None: the decision stands)."""

    key: str
    name: str
    results: dict[str, str | None]


@dataclass(frozen=True)
class OutcomeRules:
    measures: dict[str, Measure]
    remedies: dict[str, Remedy]
    remedy_statute: str
    remedy_citation: str
    withdrawal_statute: str
    withdrawal_citation: str
    documents_statute: str

    def withdrawal_reasons(self) -> set[str]:
        """Every withdrawal reason a remedy result names (each must be a publicity reason)."""
        return {r for remedy in self.remedies.values() for r in remedy.results.values() if r}


def _bad(path: Path, key: str, reason: str) -> InvalidInput:
    return InvalidInput(
        "invalid_outcome_rules",
        f"强制与救济规则文件 {path} 的 {key} 有误：{reason}",
        details={"file": str(path), "key": key, "reason": reason},
    )


def _citation(path: Path, key: str, raw: Any) -> tuple[str, str]:
    try:
        sid = StatuteId.parse(str(raw))
    except LegalValueError as exc:
        raise _bad(path, key, f"法条编号 {raw} 无效") from exc
    return str(sid), cite(sid, PRC_PREFIX + sid.law)


def parse_rules(data: dict[str, Any], path: Path) -> OutcomeRules:
    measures: dict[str, Measure] = {}
    for key, entry in (data.get("enforcement") or {}).items():
        where = f"enforcement.{key}"
        if not isinstance(entry, dict) or not entry.get("name") or not entry.get("methods"):
            raise _bad(path, where, "缺少 name 或 methods")
        statute, citation = _citation(path, f"{where}.statute", entry.get("statute"))
        methods = {str(k): str(v) for k, v in entry["methods"].items()}
        if not entry.get("document"):
            raise _bad(path, where, "缺少 document（采取措施的税务文书）")
        measures[str(key)] = Measure(
            str(key),
            str(entry["name"]),
            statute,
            citation,
            str(entry.get("note", "")),
            methods,
            str(entry["document"]),
        )
    remedies_data = data.get("remedies") or {}
    remedy_statute, remedy_citation = _citation(
        path, "remedies.statute", remedies_data.get("statute")
    )
    remedies: dict[str, Remedy] = {}
    for key in ("reconsideration", "litigation"):
        entry = remedies_data.get(key)
        if not isinstance(entry, dict) or not entry.get("results"):
            raise _bad(path, f"remedies.{key}", "缺少 results")
        results = {str(k): (None if v is None else str(v)) for k, v in entry["results"].items()}
        remedies[key] = Remedy(key, str(entry.get("name", key)), results)
    withdrawal = data.get("withdrawal") or {}
    w_statute, w_citation = _citation(path, "withdrawal.statute", withdrawal.get("statute"))
    if not measures:
        raise _bad(path, "enforcement", "没有任何强制措施")
    documents_statute, _ = _citation(path, "documents_statute", data.get("documents_statute"))
    return OutcomeRules(
        measures,
        remedies,
        remedy_statute,
        remedy_citation,
        w_statute,
        w_citation,
        documents_statute,
    )


@lru_cache(maxsize=4)
def load_outcome_rules(path: Path = DEFAULT_ACTS) -> OutcomeRules:
    return parse_rules(yaml.safe_load(path.read_text(encoding="utf-8")) or {}, path)

"""The lifecycle's guard rules as data (`corpora/procedure_guards.yaml`).

Why data: every refusal names its rule and the article it comes from, and the periods and
thresholds (hearing notice days, the 重大税务案件 amount) are sourced and partly provincial, so a
bureau configures them without touching code.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from assistant.config import BUNDLED_CORPUS
from assistant.errors import InvalidInput
from assistant.money import to_yuan

DEFAULT_GUARDS = BUNDLED_CORPUS / "procedure_guards.yaml"


@dataclass(frozen=True)
class GuardRules:
    rules: dict[str, str]  # rule code -> legal source
    confidence: dict[str, str]
    hearing_notice_days: int
    committee_threshold: Decimal
    committee_source: str
    issue_stages: dict[str, frozenset[str]]  # doc type (or "default") -> stages

    def stages_for(self, doc_type: str) -> frozenset[str]:
        return self.issue_stages.get(doc_type, self.issue_stages["default"])


def _bad(path: Path, key: str, reason: str) -> InvalidInput:
    return InvalidInput(
        "invalid_procedure",
        f"程序规则文件 {path} 的 {key} 有误：{reason}",
        details={"file": str(path), "key": key, "reason": reason},
    )


def _parse(data: dict[str, Any], path: Path) -> GuardRules:
    rules: dict[str, str] = {}
    confidence: dict[str, str] = {}
    for code, rule in (data.get("rules") or {}).items():
        if not isinstance(rule, dict) or not rule.get("source"):
            raise _bad(path, f"rules.{code}", "缺少 source（法律依据）")
        rules[str(code)] = str(rule["source"])
        if rule.get("confidence"):
            confidence[str(code)] = str(rule["confidence"])
    notice = data.get("hearing_notice_days") or {}
    days = notice.get("value")
    if not isinstance(days, int) or isinstance(days, bool) or days < 0 or not notice.get("source"):
        raise _bad(path, "hearing_notice_days", "须为非负整数并注明 source")
    committee = data.get("major_case_committee") or {}
    raw = committee.get("amount_threshold")
    if not isinstance(raw, str | int) or isinstance(raw, bool) or not committee.get("source"):
        raise _bad(path, "major_case_committee", "金额须写成字符串并注明 source")
    stages = data.get("issue_stages") or {}
    if "default" not in stages or not stages.get("source"):
        raise _bad(path, "issue_stages", "须有 default 并注明 source")
    return GuardRules(
        rules=rules,
        confidence=confidence,
        hearing_notice_days=days,
        committee_threshold=to_yuan(raw),
        committee_source=str(committee["source"]),
        issue_stages={
            str(k): frozenset(str(s) for s in v) for k, v in stages.items() if k != "source"
        },
    )


@lru_cache(maxsize=4)
def _load(path: Path) -> GuardRules:
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict):
        raise _bad(path, "<root>", "文件内容不是映射")
    return _parse(data, path)


def load_guard_rules(path: Path | None = None) -> GuardRules:
    """The guard rules from `corpora/procedure_guards.yaml` (or `path`), cached per file."""
    return _load((path or DEFAULT_GUARDS).resolve())

"""The publicity rules as data (`corpora/publicity/rules.yaml`): sources, withdrawal reasons,
the powers and remedies shown before enforcement (事前公示)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from assistant.config import BUNDLED_CORPUS
from assistant.errors import InvalidInput

DEFAULT_RULES = BUNDLED_CORPUS / "publicity" / "rules.yaml"


@dataclass(frozen=True)
class RecordType:
    """One type of public record: its fields (in order, with their labels), what the officer
    may correct, and for a record that is not a document type's the kind, period and source."""

    key: str
    fields: dict[str, str]  # field -> 中文 label
    editable: frozenset[str]
    kind: str = ""
    period: str = ""  # decision | other (the publication settings)
    source: str = ""
    confidence: str = ""


@dataclass(frozen=True)
class PublicityRules:
    publish_source: str
    withdraw_source: str
    redaction_source: str
    withdrawal_reasons: dict[str, str]  # code -> 中文说明
    party_person: str  # mask | show
    powers: tuple[dict[str, str], ...]
    remedies: tuple[dict[str, str], ...]
    records: dict[str, RecordType]
    kinds: dict[str, str]  # key -> kind (处罚, 强制 …)


def _need(data: dict[str, Any], path: Path, *keys: str) -> Any:
    value: Any = data
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    if not value:
        raise InvalidInput(
            "invalid_publicity_rules",
            f"公示规则文件 {path} 缺少 {'.'.join(keys)}。",
            details={"file": str(path), "key": ".".join(keys)},
        )
    return value


@lru_cache(maxsize=4)
def load_rules(path: Path = DEFAULT_RULES) -> PublicityRules:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    party_person = str(_need(data, path, "redaction", "person_name", "party_person"))
    if party_person not in {"mask", "show"}:
        raise InvalidInput(
            "invalid_publicity_rules",
            f"公示规则文件 {path} 的 redaction.person_name.party_person 只能是 mask 或 show。",
            details={"file": str(path), "key": "redaction.person_name.party_person"},
        )
    records: dict[str, RecordType] = {}
    for key, entry in _need(data, path, "records").items():
        fields = {str(k): str(v) for k, v in _need(data, path, "records", key, "fields").items()}
        editable = frozenset(str(f) for f in entry.get("editable") or ())
        period = str(entry.get("period", ""))
        if not editable <= set(fields) or period not in {"", "decision", "other"}:
            raise InvalidInput(
                "invalid_publicity_rules",
                f"公示规则文件 {path} 的 records.{key} 有误（editable 或 period）。",
                details={"file": str(path), "key": f"records.{key}"},
            )
        records[str(key)] = RecordType(
            str(key),
            fields,
            editable,
            str(entry.get("kind", "")),
            period,
            str(entry.get("source", "")).strip(),
            str(entry.get("confidence", "")).strip(),
        )
    if "decision" not in records:
        _need(data, path, "records", "decision")
    return PublicityRules(
        publish_source=str(_need(data, path, "publish", "source")),
        withdraw_source=str(_need(data, path, "withdraw", "source")),
        redaction_source=str(_need(data, path, "redaction", "source")),
        withdrawal_reasons={
            str(k): str(v) for k, v in _need(data, path, "withdraw", "reasons").items()
        },
        party_person=party_person,
        powers=tuple({str(k): str(v) for k, v in p.items()} for p in _need(data, path, "powers")),
        remedies=tuple(
            {str(k): str(v) for k, v in r.items()} for r in _need(data, path, "remedies")
        ),
        records=records,
        kinds={str(k): str(v) for k, v in _need(data, path, "kinds").items()},
    )

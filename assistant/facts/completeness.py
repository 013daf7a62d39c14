"""Is the case ready for legal review? The facts and evidence each violation type needs.

The requirements are data (`corpora/facts/requirements.yaml`), each with the provision that
makes it necessary (行政处罚法第四十条: no penalty where the facts are unclear or the evidence
insufficient), so the check says not only what is missing but why it is needed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml

from assistant.config import BUNDLED_CORPUS
from assistant.errors import InvalidInput
from assistant.facts.disputes import violation_basis
from assistant.facts.fields import FIELDS, to_json
from assistant.legal import StatuteId

DEFAULT_REQUIREMENTS = BUNDLED_CORPUS / "facts" / "requirements.yaml"


@dataclass(frozen=True)
class Requirement:
    """One thing the case must hold: a fact (a field) or an item of the 证据清单."""

    kind: Literal["fact", "evidence"]
    key: str
    label_zh: str
    why: str
    source: tuple[str, ...]
    basis_note: str | None = None
    violation_basis: bool = False
    keywords: tuple[str, ...] = ()
    recording: bool = False

    def sources_for(self, violation: str, on: date | None) -> tuple[str, ...]:
        extra = violation_basis(violation, on) if self.violation_basis else ()
        return tuple(dict.fromkeys((*self.source, *extra)))


@dataclass(frozen=True)
class Available:
    """What the case holds: known facts (field → value), its evidence list, transcribed
    recordings (id → filename) and, once documents are uploaded, their titles (id → title)."""

    facts: Mapping[str, Any]
    evidence: Sequence[str] = ()
    recordings: Mapping[int, str] = field(default_factory=dict)
    documents: Mapping[int, str] = field(default_factory=dict)
    # field → the sources a confirmation recorded for it (from the signed record)
    fact_sources: Mapping[str, Sequence[dict[str, Any]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    requirement: Requirement
    met: bool
    by: tuple[dict[str, Any], ...]
    sources: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        r = self.requirement
        return {
            "kind": r.kind,
            "key": r.key,
            "label_zh": r.label_zh,
            "why": r.why,
            "legal_source": list(self.sources),
            "basis_note": r.basis_note,
            "met": self.met,
            "by": list(self.by),
        }


@dataclass(frozen=True)
class EvidenceCheck:
    violation: str
    findings: tuple[Finding, ...]

    @property
    def complete(self) -> bool:
        return all(f.met for f in self.findings)

    @property
    def missing(self) -> list[str]:
        return [f.requirement.key for f in self.findings if not f.met]

    def to_dict(self) -> dict[str, Any]:
        return {
            "violation": self.violation,
            "complete": self.complete,
            "missing": self.missing,
            "facts": [f.to_dict() for f in self.findings if f.requirement.kind == "fact"],
            "evidence": [f.to_dict() for f in self.findings if f.requirement.kind == "evidence"],
        }


def _requirement(kind: Literal["fact", "evidence"], raw: dict[str, Any]) -> Requirement:
    for sid in raw.get("source") or ():
        StatuteId.parse(sid)
    if kind == "fact":
        key = str(raw["field"])
        if key not in FIELDS:
            raise ValueError(f"unknown field {key}")
        label = FIELDS[key].label_zh
    else:
        key, label = str(raw["item"]), str(raw["label_zh"])
    return Requirement(
        kind=kind,
        key=key,
        label_zh=label,
        why=str(raw.get("why") or label),
        source=tuple(raw.get("source") or ()),
        basis_note=raw.get("basis_note"),
        violation_basis=bool(raw.get("violation_basis", False)),
        keywords=tuple(raw.get("keywords") or ()),
        recording=bool(raw.get("recording", False)),
    )


def _group(raw: dict[str, Any] | None) -> tuple[Requirement, ...]:
    raw = raw or {}
    return tuple(
        [_requirement("fact", r) for r in raw.get("facts") or ()]
        + [_requirement("evidence", r) for r in raw.get("evidence") or ()]
    )


@lru_cache(maxsize=4)
def _load(path: Path) -> tuple[tuple[Requirement, ...], dict[str, tuple[Requirement, ...]]]:
    from assistant.taxonomy import load_taxonomy

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        taxonomy = load_taxonomy()
        per: dict[str, tuple[Requirement, ...]] = {}
        for code, raw in (data.get("violations") or {}).items():
            if code not in taxonomy:
                raise ValueError(f"unknown violation code {code}")
            per[code] = _group(raw)
        return _group(data["common"]), per
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidInput(
            "invalid_requirements",
            f"证据要件文件无效：{path}（{exc}）",
            details={"file": str(path), "problem": str(exc)[:300]},
        ) from None


def requirements(violation: str, path: Path | None = None) -> tuple[Requirement, ...]:
    """The common requirements, then the violation type's own (none listed: common only)."""
    from assistant.taxonomy import get_violation

    get_violation(violation)
    common, per = _load((path or DEFAULT_REQUIREMENTS).resolve())
    return common + per.get(violation, ())


def check_evidence(
    violation: str, on: date | None, available: Available, path: Path | None = None
) -> EvidenceCheck:
    """Each requirement met or not, and by what (the value and its sources, the evidence
    entry, the recording)."""
    findings = []
    for req in requirements(violation, path):
        by: list[dict[str, Any]] = []
        if req.kind == "fact":
            if req.key in available.facts:
                by.append(
                    {
                        "value": to_json(available.facts[req.key]),
                        "sources": list(available.fact_sources.get(req.key, ())),
                    }
                )
        else:
            for entry in available.evidence:
                hit = [k for k in req.keywords if k in entry]
                if hit:
                    by.append({"evidence": entry, "matched": hit[0]})
            for document_id, title in available.documents.items():
                hit = [k for k in req.keywords if k in title]
                if hit:
                    by.append({"document_id": document_id, "title": title, "matched": hit[0]})
            if req.recording:
                by.extend(
                    {"recording_id": rid, "filename": name}
                    for rid, name in available.recordings.items()
                )
        findings.append(Finding(req, bool(by), tuple(by), req.sources_for(violation, on)))
    return EvidenceCheck(violation, tuple(findings))

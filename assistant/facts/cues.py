"""The phrases that signal each fact, loaded from `corpora/facts/cues.yaml`.

Why data: the wording of decisions, bulletins and interviews varies by region and officer; a
bureau adds its phrasing to the file, not to the code. Loading checks every field, violation
code and dispute link against the registries they name, so a typo fails at load, not silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from assistant.config import BUNDLED_CORPUS
from assistant.errors import InvalidInput
from assistant.facts.fields import FIELDS
from assistant.legal import StatuteId

DEFAULT_CUES = BUNDLED_CORPUS / "facts" / "cues.yaml"


@dataclass(frozen=True)
class MoneyCues:
    window: int
    fields: dict[str, tuple[str, ...]]
    stop: tuple[str, ...]
    total: tuple[str, ...]
    context: dict[str, tuple[str, ...]]
    context_window: int


@dataclass(frozen=True)
class DateCues:
    cues: tuple[str, ...]
    first: bool


@dataclass(frozen=True)
class DisputeTopic:
    """One kind of defence, the phrases that show it, and what it contests."""

    topic: str
    label_zh: str
    cues: tuple[str, ...]
    fields: tuple[str, ...]
    articles: tuple[str, ...]
    violation_basis: bool


@dataclass(frozen=True)
class Cues:
    money: MoneyCues
    dates: dict[str, DateCues]
    days_cues: tuple[str, ...]
    days_units: tuple[str, ...]
    count_units: tuple[str, ...]
    count_near: tuple[str, ...]
    count_window: int
    count_finding: tuple[str, ...]
    flags: dict[str, dict[bool, tuple[str, ...]]]
    roles: dict[str, tuple[str, ...]]
    violations: dict[str, tuple[str, ...]]
    disputes: tuple[DisputeTopic, ...]


def _phrases(raw: Any, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(p, str) and p for p in raw):
        raise ValueError(f"{where}: a list of phrases")
    return tuple(raw)


def _known_field(name: str, where: str) -> str:
    if name not in FIELDS:
        raise ValueError(f"{where}: unknown field {name}")
    return name


def _parse(data: dict[str, Any]) -> Cues:
    from assistant.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    money = data["money"]
    dates = data["dates"]
    flags = data["flags"]
    violations: dict[str, tuple[str, ...]] = {}
    for code, phrases in data["violations"].items():
        if code not in taxonomy:
            raise ValueError(f"violations: unknown violation code {code}")
        violations[code] = _phrases(phrases, f"violations.{code}")
    disputes = []
    for raw in data["disputes"]:
        for article in raw["articles"]:
            StatuteId.parse(article)
        disputes.append(
            DisputeTopic(
                topic=str(raw["topic"]),
                label_zh=str(raw["label_zh"]),
                cues=_phrases(raw["cues"], f"disputes.{raw['topic']}"),
                fields=tuple(_known_field(f, "disputes") for f in raw["fields"]),
                articles=tuple(raw["articles"]),
                violation_basis=bool(raw["violation_basis"]),
            )
        )
    return Cues(
        money=MoneyCues(
            window=int(money["window"]),
            fields={
                _known_field(name, "money"): _phrases(p, f"money.{name}")
                for name, p in money["fields"].items()
            },
            stop=_phrases(money["stop"], "money.stop"),
            total=_phrases(money["total"], "money.total"),
            context={
                _known_field(name, "money.context"): _phrases(p, "money.context")
                for name, p in money["context"].items()
            },
            context_window=int(money["context_window"]),
        ),
        dates={
            _known_field(name, "dates"): DateCues(
                _phrases(spec["cues"], f"dates.{name}"), bool(spec.get("first", False))
            )
            for name, spec in dates.items()
        },
        days_cues=_phrases(data["days_overdue"]["cues"], "days_overdue.cues"),
        days_units=_phrases(data["days_overdue"]["units"], "days_overdue.units"),
        count_units=_phrases(data["invoice_count"]["units"], "invoice_count.units"),
        count_near=_phrases(data["invoice_count"]["near"], "invoice_count.near"),
        count_window=int(data["invoice_count"]["window"]),
        count_finding=_phrases(data["invoice_count"]["finding"], "invoice_count.finding"),
        flags={
            _known_field(name, "flags"): {
                value == "true": _phrases(p, f"flags.{name}.{value}") for value, p in spec.items()
            }
            for name, spec in flags.items()
        },
        roles={
            role: _phrases(p, f"role.{role}")
            for role, p in data["role"].items()
            if role in ("taxpayer", "withholding_agent")
        },
        violations=violations,
        disputes=tuple(disputes),
    )


@lru_cache(maxsize=4)
def _load(path: Path) -> Cues:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return _parse(data)
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidInput(
            "invalid_cues",
            f"事实线索文件无效：{path}（{exc}）",
            details={"file": str(path), "problem": str(exc)[:300]},
        ) from None


def load_cues(path: Path | None = None) -> Cues:
    """The cue phrases (cached per file)."""
    return _load((path or DEFAULT_CUES).resolve())


def violation_phrases(cues: Cues) -> dict[str, tuple[str, ...]]:
    """Per violation code: the taxonomy's keywords and this file's phrases, longest first."""
    from assistant.taxonomy import load_taxonomy

    out: dict[str, tuple[str, ...]] = {}
    for code, violation in load_taxonomy().items():
        phrases = {*violation.keywords, *cues.violations.get(code, ())}
        # a bare 发票 or 申报 says nothing about which violation it is
        phrases = {p for p in phrases if len(p) >= 3}
        out[code] = tuple(sorted(phrases, key=lambda p: (-len(p), p)))
    return out

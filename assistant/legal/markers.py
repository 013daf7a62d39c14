"""Official version markers of statutes (国务院令第764号修订), read from version_markers.yaml.

Issued decisions name a version of an administrative regulation by the State Council order
that revised it, not by a date; the table's rows carry their sources.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml

from assistant.legal.errors import LegalValueError

VERSION_MARKERS_FILE = "version_markers.yaml"
#: The bundled table (`corpora/statutes/` of the project; the core knows no settings).
DEFAULT_MARKERS = (
    Path(__file__).resolve().parents[2] / "corpora" / "statutes" / VERSION_MARKERS_FILE
)


def load_version_markers(path: Path) -> dict[str, dict[int, date]]:
    """`version_markers.yaml`: law -> {国务院令 number: date of that revision}."""
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rows = data.get("markers") if isinstance(data, dict) else None
    out: dict[str, dict[int, date]] = {}
    for row in rows or []:
        try:
            if not str(row["source"]).strip():
                raise ValueError("source is empty")
            out.setdefault(str(row["law"]), {})[int(row["order"])] = date.fromisoformat(
                str(row["version_date"])
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise LegalValueError(
                "invalid_version_markers",
                f"法规版本标记表条目不完整或格式错误：{path}（{exc}）",
                details={"path": str(path)},
            ) from exc
    return out


@lru_cache(maxsize=1)
def bundled_markers() -> dict[str, dict[int, date]]:
    """The bundled table, read once."""
    return load_version_markers(DEFAULT_MARKERS)


def version_marker(law: str, version_date: date) -> str:
    """How a citation names a version: 国务院令第764号修订, else the year (2019年修订)."""
    for order, day in bundled_markers().get(law, {}).items():
        if day == version_date:
            return f"国务院令第{order}号修订"
    return f"{version_date.year}年修订"

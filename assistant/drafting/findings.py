"""The characterisation (定性) a penalty document states, from corpora/drafting/findings.yaml.

Issued decisions end the facts with what the act is in law — 根据…第六十三条…的规定，你的上述行为
已构成偷税 — or with the duty it breached. The provisions come from a sourced data file, per
party role; a code without an entry gets its taxonomy name only, never an invented article.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from assistant.config import BUNDLED_CORPUS
from assistant.drafting.context import Finding, LegalBasis

FINDINGS_FILE = BUNDLED_CORPUS / "drafting" / "findings.yaml"


@lru_cache(maxsize=2)
def _rows(path: Path) -> dict[str, dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(row["code"]): row for row in data.get("findings", [])}


def finding_for(
    code: str,
    *,
    fallback_name: str,
    full_title: Any,
    party_role: str = "taxpayer",
    path: Path = FINDINGS_FILE,
) -> Finding:
    """The finding for a code; `full_title(short)` names a law as the statute book does."""
    row = _rows(path).get(code)
    if row is None:
        return Finding(name=fallback_name, provisions=())
    by_role = row.get("provisions") or {}
    ids = by_role.get(party_role) or by_role.get("taxpayer") or []
    provisions = tuple(LegalBasis(str(i), full_title(str(i).split(":", 1)[0])) for i in ids)
    return Finding(name=str(row["name"]), provisions=provisions, defines=bool(row.get("defines")))

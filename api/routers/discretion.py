from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from api.deps import CurrentUser
from assistant.dates import today_in_china

router = APIRouter(tags=["discretion"])


@router.post("/discretion/suggest")
def suggest(user: CurrentUser, case: dict[str, Any] = Body(...)) -> dict[str, Any]:
    """A discretion suggestion for a structured case (the issue-5 contract, keys kept stable)."""
    from assistant.discretion import DiscretionInput, suggest

    return suggest(DiscretionInput.from_dict(case, today=today_in_china())).to_dict()

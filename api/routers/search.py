from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from fastapi import APIRouter, Query

from api.deps import CurrentUser, ServicesDep
from api.schemas import SearchRequest
from assistant.errors import InvalidInput

router = APIRouter(tags=["search"])


def _check_violation_type(code: str | None) -> None:
    if code is not None:
        from assistant.taxonomy import get_violation

        get_violation(code)


@router.post("/search/statutes")
def search_statutes(
    body: SearchRequest, user: CurrentUser, services: ServicesDep
) -> list[dict[str, Any]]:
    _check_violation_type(body.violation_type)
    hits = services.knowledge().search_statutes(
        body.text, k=body.k, on=body.on, violation_type=body.violation_type
    )
    return [
        {
            "id": h.id,
            "law": h.law,
            "article": h.article,
            "title": h.title,
            "text": h.text,
            "score": h.score,
            "version_date": h.version_date.isoformat(),
        }
        for h in hits
    ]


@router.post("/search/cases")
def search_cases(
    body: SearchRequest, user: CurrentUser, services: ServicesDep
) -> list[dict[str, Any]]:
    _check_violation_type(body.violation_type)
    if body.on is not None:
        raise InvalidInput(
            "unknown_filter", "案例检索不支持按日期过滤。", details={"filter": "date"}
        )
    hits = services.knowledge().search_cases(
        body.text, k=body.k, violation_type=body.violation_type
    )
    return [
        {
            "id": h.id,
            "title": h.title,
            "violation_type": h.violation_type,
            "outcome": h.outcome,
            "score": h.score,
            "statutes": list(h.statutes),
        }
        for h in hits
    ]


@router.get("/statutes/{statute_id}")
def get_statute(
    statute_id: str,
    user: CurrentUser,
    services: ServicesDep,
    on: date | None = Query(default=None, alias="date"),
) -> dict[str, Any]:
    article = services.knowledge().statutes.get(statute_id, on=on)
    data = asdict(article)
    data["version_date"] = article.version_date.isoformat()
    data["text"] = article.text
    return data

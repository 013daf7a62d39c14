from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from fastapi import APIRouter, Query

from api.deps import CurrentUser, ServicesDep
from api.schemas import SearchRequest
from assistant.knowledge.search import CASE_FILTERS, STATUTE_FILTERS, check_filters

router = APIRouter(tags=["search"])


def _check_violation_type(code: str | None) -> None:
    if code is not None:
        from assistant.taxonomy import get_violation

        get_violation(code)


@router.post("/search/statutes")
def search_statutes(
    body: SearchRequest, user: CurrentUser, services: ServicesDep
) -> list[dict[str, Any]]:
    """Recommended articles in force on `date`, each with provenance, the matched 款, the route
    (criminal facts: 刑法 and the 2024 两高解释 only) and why (each signal and what it rests on)."""
    check_filters(body.filters(), STATUTE_FILTERS, "法条检索")
    _check_violation_type(body.violation_type)
    hits = services.knowledge().search_statutes(
        body.text,
        k=body.k,
        on=body.on,
        violation_type=body.violation_type,
        law=body.law,
        facts=body.facts,
        kind=body.kind,
    )
    return [h.to_dict() for h in hits]


@router.post("/search/cases")
def search_cases(
    body: SearchRequest, user: CurrentUser, services: ServicesDep
) -> list[dict[str, Any]]:
    """Similar cases, optionally of one violation type, region and document type."""
    check_filters(body.filters(), CASE_FILTERS, "案例检索")
    _check_violation_type(body.violation_type)
    hits = services.knowledge().search_cases(
        body.text,
        k=body.k,
        violation_type=body.violation_type,
        region=body.region,
        doc_type=body.doc_type,
    )
    return [h.to_dict() for h in hits]


@router.get("/statutes/{statute_id}")
def get_statute(
    statute_id: str,
    user: CurrentUser,
    services: ServicesDep,
    on: date | None = Query(default=None, alias="date"),
) -> dict[str, Any]:
    article = services.statute_book().get(statute_id, on=on)
    data = asdict(article)
    data["version_date"] = article.version_date.isoformat()
    data["text"] = article.text
    return data

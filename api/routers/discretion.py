from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from api.deps import CurrentUser, ServicesDep
from assistant.dates import today_in_china

router = APIRouter(tags=["discretion"])


@router.post("/discretion/suggest")
def suggest(
    user: CurrentUser, services: ServicesDep, case: dict[str, Any] = Body(...)
) -> dict[str, Any]:
    """A discretion suggestion for a structured case (the issue-5 contract, keys kept stable)."""
    from assistant.discretion import DiscretionInput, load_benchmark, suggest

    bench = load_benchmark(services.settings.benchmark_file)
    return suggest(
        DiscretionInput.from_dict(case, today=today_in_china()), benchmark=bench
    ).to_dict()


@router.post("/discretion/check")
def check(
    user: CurrentUser, services: ServicesDep, body: dict[str, Any] = Body(...)
) -> dict[str, Any]:
    """Consistency of a proposed fine: benchmark tier, statutory range, similar cases' outcomes.

    Body: `{"case": {<the /discretion/suggest input>}, "proposed_amount": "1500", "facts": "…",
    "k": 20}`; `facts` (optional) is the text the similar cases are searched with.
    """
    from assistant.discretion import load_benchmark
    from assistant.discretion.consistency import check_consistency, parse_check_request

    case, amount, facts, k = parse_check_request(body, today=today_in_china())
    bench = load_benchmark(services.settings.benchmark_file)
    report = check_consistency(
        case, amount, services.knowledge(), facts=facts, k=k, benchmark=bench
    )
    return report.to_dict()

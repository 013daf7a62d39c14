"""The case page's analysis panels, each loaded on its own by htmx after the page is shown.

Why separate, lazily loaded panels: the case page must stay fast (p95 ≤ 200 ms with 500
transcript segments and 20 documents) while the panels read the stored step results, mark
entities in every segment and run the consistency check (a similar-case search). Each panel is
a read: it shows what the entities, retrieval and discretion steps stored (their provenance:
what the officer ran), and the consistency chart compares the proposed fine with the similar
cases' penalties through the same function `POST /discretion/check` calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.deps import WorkflowDep
from api.fields import DbId
from api.web.pages import violation_name
from api.web.render import error_page, render
from api.web.session import WebUser
from assistant.cases import CaseWorkflow
from assistant.db import User
from assistant.errors import TaxAssistError

router = APIRouter(include_in_schema=False)

ENTITY_NAMES = {
    "uscc": "统一社会信用代码",
    "resident_id": "身份证号码",
    "amount": "金额",
    "date": "日期",
    "period": "期间",
    "invoice_number": "发票号码",
    "tax_type": "税种",
    "statute": "法律条文",
    "organisation": "单位",
    "person": "人名",
    "location": "地点",
    "time": "时间",
}
SIGNAL_NAMES = {
    "text": "条文内容",
    "taxonomy": "违法行为类型",
    "similar_cases": "相似案例",
    "decisions": "已作出的决定",
    "tax_type": "税种",
    "violation_type": "指定的违法类型",
    "facts": "案件要素",
    "document": "同类文书",
}
PANELS = ("entities", "statutes", "similar", "discretion")


# -- entities marked in the text -------------------------------------------------------------
@dataclass(frozen=True)
class Piece:
    """A run of text, marked as an entity (`kind` set) or plain."""

    text: str
    kind: str | None = None
    value: str = ""
    valid: bool = True
    note: str | None = None


def mark_text(text: str, entities: Iterable[dict[str, Any]]) -> tuple[list[Piece], int]:
    """`text` cut into plain and entity pieces; entities whose span no longer holds their
    text (the text was corrected after extraction) are left out and counted."""
    pieces: list[Piece] = []
    pos = stale = 0
    for e in sorted(entities, key=lambda e: int(e["span"]["start"])):
        start, end = int(e["span"]["start"]), int(e["span"]["end"])
        if start < pos or end > len(text) or text[start:end] != e.get("text"):
            stale += 1
            continue
        if start > pos:
            pieces.append(Piece(text[pos:start]))
        pieces.append(
            Piece(
                text[start:end],
                str(e.get("kind")),
                str(e.get("value") or ""),
                bool(e.get("valid", True)),
                e.get("note"),
            )
        )
        pos = end
    if pos < len(text):
        pieces.append(Piece(text[pos:]))
    return pieces, stale


def split_lines(pieces: Sequence[Piece], lines: Sequence[str]) -> list[list[Piece]]:
    """Pieces of a "\\n"-joined text regrouped per line (one transcript segment per line); an
    entity never spans a line break, since the joined text was analysed as it stands."""
    out: list[list[Piece]] = [[] for _ in lines]
    row = 0
    for piece in pieces:
        parts = piece.text.split("\n")
        for i, part in enumerate(parts):
            if i:
                row += 1
            if part and row < len(out):
                out[row].append(Piece(part, piece.kind, piece.value, piece.valid, piece.note))
    return out


def entities_context(workflow: CaseWorkflow, user: User, case_id: int) -> dict[str, Any]:
    case = workflow.get_case(case_id, user)
    result = workflow.latest_result(case_id, "entities")
    sources: dict[str, Any] = result.payload.get("sources", {}) if result else {}
    blocks: list[dict[str, Any]] = []
    stale = 0
    counts: dict[str, int] = {}
    facts = sources.get("facts")
    if facts is not None:
        pieces, lost = mark_text(case.facts, facts.get("items", []))
        stale += lost
        blocks.append({"title": "案件事实", "lines": [pieces]})
    for recording in workflow.recordings(case_id, user):
        found = sources.get(f"recording:{recording.id}")
        if found is None or not recording.segments:
            continue
        texts = [s.text for s in recording.segments]
        pieces, lost = mark_text("\n".join(texts), found.get("items", []))
        stale += lost
        rows = split_lines(pieces, texts)
        blocks.append(
            {
                "title": f"询问录音：{recording.original_filename}",
                "segments": list(zip(recording.segments, rows, strict=True)),
            }
        )
    for source in sources.values():
        for e in source.get("items", []):
            counts[e["kind"]] = counts.get(e["kind"], 0) + 1
    return {
        "case": case,
        "result": result,
        "blocks": blocks,
        "stale": stale,
        "counts": counts,
        "entity_names": ENTITY_NAMES,
    }


# -- pushed articles and similar cases -------------------------------------------------------
def marked_passage(text: str, highlight: dict[str, Any] | None) -> list[tuple[str, bool]]:
    """The highlighted passage with its matched terms marked: (piece, is_term)."""
    if not highlight:
        return [(text[:200], False)] if text else []
    start, end = int(highlight["start"]), int(highlight["end"])
    terms = sorted(
        (max(start, int(a)), min(end, int(b)))
        for a, b in highlight.get("terms", [])
        if int(a) < end and int(b) > start
    )
    out: list[tuple[str, bool]] = []
    pos = start
    for a, b in terms:
        if a < pos:
            continue
        if a > pos:
            out.append((text[pos:a], False))
        out.append((text[a:b], True))
        pos = b
    if pos < end:
        out.append((text[pos:end], False))
    return out


def retrieval_context(workflow: CaseWorkflow, user: User, case_id: int) -> dict[str, Any]:
    case = workflow.get_case(case_id, user)
    result = workflow.latest_result(case_id, "retrieval")
    payload = result.payload if result else {}
    return {
        "case": case,
        "result": result,
        "on": payload.get("on"),
        "statutes": payload.get("statutes", []),
        "cases": payload.get("cases", []),
        "marked_passage": marked_passage,
        "signal_names": SIGNAL_NAMES,
        "violation_name": violation_name,
    }


# -- discretion and the consistency chart ----------------------------------------------------
@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    """Geometry of the consistency chart (an inline SVG: no script, no inline style)."""

    width: int
    height: int
    left: int
    right: int
    axis_y: int
    unit: str
    ticks: tuple[tuple[float, str], ...]
    band: tuple[float, float] | None  # the benchmark tier's range
    dots: tuple[Dot, ...]
    proposed: float
    proposed_label: str


def scale(value: Decimal, low: Decimal, high: Decimal, left: int, right: int) -> float:
    if high <= low:
        return float(left + right) / 2
    return round(left + float((value - low) / (high - low)) * (right - left), 1)


def nice(value: Decimal) -> str:
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text or "0"


def consistency_chart(report: Any) -> Chart:
    """Similar cases' penalties as dots on one axis (stacked where equal), the benchmark tier
    as a band and the proposal as a line: where the proposal stands among like cases."""
    multiple = report.compared_on == "multiple"
    unit = "倍" if multiple else "元"
    values = [p.value for p in report.peers]
    band: tuple[Decimal, Decimal] | None = None
    s = report.suggestion
    if s.benchmark_min is not None and s.benchmark_max is not None:
        if multiple and report.proposed_amount > 0 and report.proposed_value > 0:
            base = report.proposed_amount / report.proposed_value
            band = (s.benchmark_min / base, s.benchmark_max / base)
        elif not multiple:
            band = (s.benchmark_min, s.benchmark_max)
    points = [*values, report.proposed_value, *(band or ())]
    low, high = min(points), max(points)
    if high == low:
        low, high = low - 1 if low >= 1 else Decimal(0), high + 1
    width, height, left, right, axis_y = 640, 200, 40, 600, 150
    steps = [low + (high - low) * i / 4 for i in range(5)]
    ticks = tuple((scale(v, low, high, left, right), nice(v)) for v in steps)
    stacked: dict[Decimal, int] = {}
    dots: list[Dot] = []
    for peer in report.peers:
        level = stacked.get(peer.value, 0)
        stacked[peer.value] = level + 1
        dots.append(
            Dot(
                scale(peer.value, low, high, left, right),
                axis_y - 14 - 12 * min(level, 8),
                f"{peer.title}：{nice(peer.value)}{unit}",
            )
        )
    return Chart(
        width=width,
        height=height,
        left=left,
        right=right,
        axis_y=axis_y,
        unit=unit,
        ticks=ticks,
        band=(
            None
            if band is None
            else (scale(band[0], low, high, left, right), scale(band[1], low, high, left, right))
        ),
        dots=tuple(dots),
        proposed=scale(report.proposed_value, low, high, left, right),
        proposed_label=f"拟处 {nice(report.proposed_value)}{unit}",
    )


def proposed_amount(raw: str, suggested: str | None) -> Decimal:
    """The amount typed in the panel (the suggestion's by default), read as the API reads
    `proposed_amount`; thousands separators are allowed in the form."""
    from assistant.discretion.consistency import parse_proposed_amount

    return parse_proposed_amount(
        raw.strip().replace(",", "").replace("，", "") or (suggested or "0")
    )


def discretion_context(
    workflow: CaseWorkflow, user: User, case_id: int, amount_text: str
) -> dict[str, Any]:
    from assistant.cases.service import discretion_input
    from assistant.dates import today_in_china
    from assistant.discretion import load_benchmark
    from assistant.discretion.consistency import check_consistency

    case = workflow.get_case(case_id, user)
    result = workflow.latest_result(case_id, "discretion")
    context: dict[str, Any] = {
        "case": case,
        "result": result,
        "amount": amount_text,
        "errors": {},
    }
    if result is None:
        return context
    suggestion = result.payload
    try:
        amount = proposed_amount(amount_text, suggestion.get("suggested_amount"))
    except TaxAssistError as exc:
        context["errors"] = {"amount": exc.message}
        context["error"] = exc
        return context
    services = workflow.services
    report = check_consistency(
        discretion_input(case, decision_date=today_in_china()),
        amount,
        services.knowledge(),
        facts=case.facts,
        benchmark=load_benchmark(services.settings.benchmark_file),
    )
    context.update(
        report=report,
        report_dict=report.to_dict(),
        chart=consistency_chart(report) if amount > 0 else None,
        amount=amount_text or str(amount),
    )
    return context


# -- the routes ------------------------------------------------------------------------------
def panel(request: Request, user: User, template: str, build: Any) -> Response:
    try:
        context = build()
    except TaxAssistError as exc:
        return error_page(request, user, exc, fragment=True)
    status = context.get("error").status_code if context.get("error") else 200
    return render(request, template, {"user": user, **context}, status_code=status)


@router.get("/workbench/cases/{case_id}/analysis/entities")
async def entities_panel(
    case_id: DbId, request: Request, user: WebUser, workflow: WorkflowDep
) -> Response:
    """Entities of the facts and transcripts marked where they stand in the text."""
    return await run_in_threadpool(
        panel,
        request,
        user,
        "_analysis_entities.html",
        lambda: entities_context(workflow, user, case_id),
    )


@router.get("/workbench/cases/{case_id}/analysis/statutes")
async def statutes_panel(
    case_id: DbId, request: Request, user: WebUser, workflow: WorkflowDep
) -> Response:
    """Pushed articles: the passage that matched, the version in force, why each was pushed."""
    return await run_in_threadpool(
        panel,
        request,
        user,
        "_analysis_statutes.html",
        lambda: retrieval_context(workflow, user, case_id),
    )


@router.get("/workbench/cases/{case_id}/analysis/similar")
async def similar_panel(
    case_id: DbId, request: Request, user: WebUser, workflow: WorkflowDep
) -> Response:
    """Similar cases with their outcomes (as the retrieval step found them)."""
    return await run_in_threadpool(
        panel,
        request,
        user,
        "_analysis_similar.html",
        lambda: retrieval_context(workflow, user, case_id),
    )


@router.get("/workbench/cases/{case_id}/analysis/discretion")
async def discretion_panel(
    case_id: DbId,
    request: Request,
    user: WebUser,
    workflow: WorkflowDep,
    amount: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    """The suggestion (formula, factors, tier) and the proposal among similar cases."""
    return await run_in_threadpool(
        panel,
        request,
        user,
        "_analysis_discretion.html",
        lambda: discretion_context(workflow, user, case_id, amount),
    )


@router.get("/workbench/cases/{case_id}/analysis/consistency")
async def consistency_page(
    case_id: DbId,
    request: Request,
    user: WebUser,
    workflow: WorkflowDep,
    amount: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    """The discretion panel as a page, for another proposed amount (the panel's form): a bad
    amount is answered 422 with the API's message beside the field, the typed text kept."""

    def build() -> Response:
        try:
            context = discretion_context(workflow, user, case_id, amount)
        except TaxAssistError as exc:
            return error_page(request, user, exc)
        error = context.get("error")
        return render(
            request,
            "analysis_consistency.html",
            {"user": user, **context},
            status_code=error.status_code if error else 200,
        )

    return await run_in_threadpool(build)

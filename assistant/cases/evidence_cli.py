"""`taxassist case evidence …`: upload a document to a case, read it, list the 证据清单.

The same calls as `POST /cases/{id}/evidence`, `GET /cases/{id}/evidence` and
`GET /evidence/{id}`; the reading job runs here (a bar of OCR pages on a terminal) unless
`--no-wait` leaves it queued for the server or `taxassist jobs run`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

evidence_app = typer.Typer(
    help="Evidence documents (PDF, DOCX, PNG/JPEG, scans): add, list, show.",
    no_args_is_help=True,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON")]
Actor = Annotated[str, typer.Option("--as", help="username acting (承办人 to add)")]


def _ocr_pages(job: Any) -> tuple[float, float | None]:
    details = job.details or {}
    return float(details.get("ocr_pages_done") or 0), details.get("ocr_pages") or None


def _evidence_json(evidence: Any, *, lines: bool) -> dict[str, Any]:
    from api.schemas import EvidenceOut

    data = EvidenceOut.model_validate(evidence).model_dump(mode="json")
    if not lines:
        data["lines"] = len(data["lines"])
    return data


def _print_evidence(data: dict[str, Any]) -> None:
    name = data["title"] or data["original_filename"]
    typer.echo(
        f"证据 {data['id']}（案件 {data['case_id']}）{name}：{data['kind']}，{data['pages']} 页，"
        f"{data['status']}，{data['method'] or '-'}，SHA-256 {data['sha256'][:16]}…"
    )
    for line in data["lines"] if isinstance(data["lines"], list) else ():
        box = line["box"]
        where = f"p{line['page']}" if line["page"] is not None else "-"
        if box:
            where += f" ({box[0][0]:.0f},{box[0][1]:.0f})-({box[2][0]:.0f},{box[2][1]:.0f})"
        score = f" {line['confidence']:.2f}" if line["confidence"] is not None else ""
        typer.echo(f"  [{where}{score}] {line['text']}")


@evidence_app.command("add")
def add(
    case_id: int,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    actor: Actor,
    title: Annotated[str | None, typer.Option(help="what it is, e.g. 发票清单")] = None,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="leave the reading job queued and return")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Upload a file to the case (stored by SHA-256, a signed event) and read it: text layer
    at once, images and scanned pages by OCR; prints the evidence with its lines."""
    from assistant.cases.evidence import add_evidence, evidence_for
    from assistant.cli_common import (
        cli_services,
        print_json,
        require_job_succeeded,
        run_job_with_bar,
        user_named,
    )

    services = cli_services()
    user = user_named(services, actor)
    with file.open("rb") as handle:
        upload = add_evidence(services, user, case_id, handle, filename=file.name, title=title)
    job_id = upload.job.id
    if not no_wait:
        status = run_job_with_bar(services, job_id, "OCR（页）", _ocr_pages, quiet=as_json)
        require_job_succeeded(services, job_id, status)
    data = _evidence_json(evidence_for(services, user, upload.evidence.id), lines=True)
    data["job_id"] = job_id
    if as_json:
        print_json(data)
    else:
        _print_evidence(data)
        if no_wait:
            typer.echo(f"识别任务 {job_id} 已排队（taxassist jobs run {job_id}）。")


@evidence_app.command("list")
def list_(case_id: int, actor: Actor, as_json: JsonFlag = False) -> None:
    """The 证据清单: numbered, with type, pages, SHA-256, how it was read and its signed
    events (who submitted it when, the event hashes)."""
    from assistant.cases.evidence import evidence_list
    from assistant.cli_common import cli_services, print_json, user_named

    services = cli_services()
    listing = evidence_list(services, user_named(services, actor), case_id)
    if as_json:
        print_json(listing)
        return
    typer.echo(f"证据清单 {listing['case_number']}（{listing['count']} 件）")
    for item in listing["items"]:
        events = "、".join(f"#{e['seq']} {e['action']}" for e in item["provenance"])
        typer.echo(
            f"{item['number']}. [{item['id']}] {item['name']} {item['kind_zh']} "
            f"{item['pages']} 页 {item['method_zh'] or item['status']} "
            f"{item['lines']} 行 提交人 {item['submitted_by']} {item['submitted_at']} "
            f"SHA-256 {item['sha256'][:16]}… 记录 {events}"
        )


@evidence_app.command("show")
def show(evidence_id: int, actor: Actor, as_json: JsonFlag = False) -> None:
    """One evidence file's record and every line read, with page, box and confidence."""
    from assistant.cases.evidence import evidence_for
    from assistant.cli_common import cli_services, print_json, user_named

    services = cli_services()
    evidence = evidence_for(services, user_named(services, actor), evidence_id)
    data = _evidence_json(evidence, lines=True)
    if as_json:
        print_json(data)
    else:
        _print_evidence(data)

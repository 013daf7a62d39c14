"""`taxassist case facts …`: proposed facts with their sources, confirmation, evidence check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

facts_app = typer.Typer(
    help="Facts read from the case's recordings and statements: propose, show, confirm, check.",
    no_args_is_help=True,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON")]
Actor = Annotated[str, typer.Option("--as", help="username acting (承办人 to confirm)")]


def _facts() -> tuple[Any, Any]:
    from assistant.cases.facts import CaseFacts
    from assistant.cases.service import CaseWorkflow
    from assistant.cli_common import cli_services

    services = cli_services()
    return services, CaseFacts(CaseWorkflow(services))


@facts_app.command("propose")
def propose(
    case_id: int,
    actor: Actor,
    document: Annotated[
        list[Path] | None,
        typer.Option(help="a text file of a document to read too (repeatable)", exists=True),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Facts proposed from the case's transcripts, statements, facts text (and the documents
    given), each with its source; the party's points of dispute. Nothing is stored."""
    from assistant.cli_common import print_json, user_named
    from assistant.facts import SourceRef, SourceText

    services, facts = _facts()
    extra = [
        SourceText.of(SourceRef(kind="document", text=path.read_text(encoding="utf-8")))
        for path in document or ()
    ]
    print_json(facts.proposals(user_named(services, actor), case_id, extra))


@facts_app.command("show")
def show(case_id: int, actor: Actor, as_json: JsonFlag = False) -> None:
    """The facts confirmed so far, as the signed record holds them (value and sources)."""
    from assistant.cases.access import load_case, require_reader
    from assistant.cases.facts import confirmed_facts
    from assistant.cli_common import print_json, user_named

    services, _ = _facts()
    user = user_named(services, actor)
    with services.db.session() as session:
        require_reader(user, load_case(session, case_id))
        print_json(
            {"case_id": case_id, "confirmed": list(confirmed_facts(session, case_id).values())}
        )


@facts_app.command("confirm")
def confirm(
    case_id: int,
    actor: Actor,
    file: Annotated[Path, typer.Option("--file", exists=True, help="JSON: the API's body")],
    as_json: JsonFlag = False,
) -> None:
    """Confirm (or correct) facts from a JSON file shaped like POST /cases/{id}/facts/confirm:
    {"facts": [{"field", "value", "sources": [...], "proposed"}]}."""
    from assistant.cases.facts import Confirmation
    from assistant.cli_common import print_json, user_named
    from assistant.errors import InvalidInput
    from assistant.facts import SourceRef

    try:
        body = json.loads(file.read_text(encoding="utf-8"))
        items = body["facts"]
        confirmations = [
            Confirmation(
                str(item["field"]),
                item["value"],
                tuple(SourceRef.from_dict(s) for s in item.get("sources") or ()),
                item.get("proposed"),
            )
            for item in items
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(
            "invalid_confirmation_file",
            f"确认文件格式不正确：{exc}",
            details={"file": str(file)},
        ) from None
    services, facts = _facts()
    case = facts.confirm(user_named(services, actor), case_id, confirmations)
    print_json({"case_id": case.id, "confirmed": [c.field for c in confirmations]})


@facts_app.command("check")
def check(case_id: int, actor: Actor, as_json: JsonFlag = False) -> None:
    """What the case's violation type needs before review, met or missing, and why."""
    from assistant.cli_common import print_json, user_named

    services, facts = _facts()
    print_json(facts.evidence_check(user_named(services, actor), case_id))

"""`taxassist escalation …`: disagreement with a legal review, level by level."""

from __future__ import annotations

from typing import Annotated, Any

import typer

escalation_app = typer.Typer(
    help="审核意见分歧: handling unit → its leader → the principal.", no_args_is_help=True
)

JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON")]
Actor = Annotated[str, typer.Option("--actor", help="username of the person acting")]


def _escalation() -> tuple[Any, Any]:
    from assistant.cases.escalation import Escalation
    from assistant.cases.lifecycle import CaseLifecycle
    from assistant.cli_common import cli_services

    services = cli_services()
    return services, Escalation(CaseLifecycle(services))


@escalation_app.command("show")
def show(case_id: int, as_json: JsonFlag = False) -> None:
    """Where the disagreement over the latest failed review stands."""
    from assistant.cli_common import print_json

    print_json(_escalation()[1].state(case_id))


@escalation_app.command("escalate")
def escalate(
    case_id: int,
    actor: Actor,
    reason: Annotated[str, typer.Option(help="the unit's written reasons")],
    as_json: JsonFlag = False,
) -> None:
    """The handling officer refers 存在问题 to the next level."""
    from assistant.cli_common import print_json, user_named

    services, escalation = _escalation()
    case = escalation.escalate(user_named(services, actor), case_id, reason=reason)
    print_json({"case_id": case.id, "status": case.status, **escalation.state(case_id)})


@escalation_app.command("decide")
def decide(
    case_id: int,
    actor: Actor,
    outcome: Annotated[str, typer.Option(help="uphold | support (leader) | overrule (principal)")],
    opinion: Annotated[str, typer.Option(help="written opinion")],
    as_json: JsonFlag = False,
) -> None:
    """The pending level's leader coordinates, or the principal decides."""
    from assistant.cli_common import print_json, user_named

    services, escalation = _escalation()
    case = escalation.decide(user_named(services, actor), case_id, outcome=outcome, opinion=opinion)
    print_json({"case_id": case.id, "status": case.status, **escalation.state(case_id)})

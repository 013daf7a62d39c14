"""`taxassist case measure …` and `taxassist case remedy …`: 强制 measures, 行政复议 and 行政诉讼
recorded from the command line, through the same service (checks, signed events, the measure's
public record, the withdrawal a revoking result makes) as the API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer

from assistant.errors import InvalidInput

remedy_app = typer.Typer(
    help="行政复议 (reconsideration) and 行政诉讼 (litigation): the application, then the result.",
    no_args_is_help=True,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON")]
Actor = Annotated[str, typer.Option("--as", help="username acting (承办人, 负责人 or admin)")]
On = Annotated[str, typer.Option("--on", help="the date (YYYY-MM-DD, China); default today")]
Remedy = Annotated[str, typer.Argument(help="reconsideration | litigation")]


def _day(raw: str) -> date:
    from assistant.dates import today_in_china

    if not raw.strip():
        return today_in_china()
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(
            "invalid_act_date", f"日期“{raw}”格式应为 YYYY-MM-DD。", details={"on": raw}
        ) from None


def _remedy(raw: str) -> Any:
    if raw not in ("reconsideration", "litigation"):
        raise InvalidInput(
            "invalid_remedy",
            "救济只能是行政复议（reconsideration）或行政诉讼（litigation）。",
            details={"remedy": raw, "allowed": ["reconsideration", "litigation"]},
        )
    return raw


def _services_and(actor: str) -> tuple[Any, Any]:
    from assistant.cli_common import cli_services, user_named

    services = cli_services()
    return services, user_named(services, actor)


def measure(
    case_id: int,
    actor: Actor,
    kind: Annotated[
        str,
        typer.Option("--measure", help="preservation (税收保全措施) | execution (强制执行措施)"),
    ],
    method: Annotated[
        str,
        typer.Option(
            help="freeze_deposit | seize_property (保全); deduct_deposit | auction_property (执行)"
        ),
    ],
    on: On = "",
    amount: Annotated[str, typer.Option(help="amount concerned, yuan")] = "",
    document_number: Annotated[
        str, typer.Option(help="文号 of the 税收保全措施决定书 / 税收强制执行决定书")
    ] = "",
    note: Annotated[str, typer.Option(help="the officer's note (not published)")] = "",
    as_json: JsonFlag = False,
) -> None:
    """A 税收强制 measure taken (征管法第三十八条、第四十条); prints the signed event and its
    public record's masked draft (强制), to review and publish."""
    from assistant.cli_common import print_json
    from assistant.outcomes.service import record_measure

    money = None
    if amount.strip():
        try:
            money = Decimal(amount.strip())
        except InvalidOperation:
            raise InvalidInput(
                "invalid_amount", f"金额“{amount}”不是数字。", details={"amount": amount}
            ) from None
    services, user = _services_and(actor)
    print_json(
        record_measure(
            services,
            user,
            case_id,
            measure=kind,
            method=method,
            on=_day(on),
            amount=money,
            note=note,
            document_number=document_number,
        )
    )


@remedy_app.command("apply")
def apply(
    case_id: int,
    remedy: Remedy,
    actor: Actor,
    body: Annotated[str, typer.Option(help="复议机关 or the court")],
    on: On = "",
    document_id: Annotated[
        int | None, typer.Option(help="the issued decision challenged (document id)")
    ] = None,
    measure_event_id: Annotated[
        int | None, typer.Option(help="the 强制 measure challenged (its event id)")
    ] = None,
    note: Annotated[str, typer.Option(help="note")] = "",
    as_json: JsonFlag = False,
) -> None:
    """The party applied for 行政复议 or sued, against a decision, a measure or the case's
    decision as a whole."""
    from assistant.cli_common import print_json
    from assistant.outcomes.service import apply_remedy

    services, user = _services_and(actor)
    print_json(
        apply_remedy(
            services,
            user,
            case_id,
            remedy=_remedy(remedy),
            on=_day(on),
            body=body,
            document_id=document_id,
            note=note,
            measure_event_id=measure_event_id,
        )
    )


@remedy_app.command("result")
def result(
    case_id: int,
    remedy: Remedy,
    actor: Actor,
    outcome: Annotated[
        str,
        typer.Option(
            "--result", help="复议: 维持 撤销 变更 确认违法; 诉讼: 驳回诉讼请求 撤销 变更 …"
        ),
    ],
    on: On = "",
    note: Annotated[str, typer.Option(help="note")] = "",
    as_json: JsonFlag = False,
) -> None:
    """The 复议决定 or the judgment; one that revokes, changes or confirms the act unlawful or
    void withdraws its public record at once (行政处罚法第四十八条第二款)."""
    from assistant.cli_common import print_json
    from assistant.outcomes.service import conclude_remedy

    services, user = _services_and(actor)
    print_json(
        conclude_remedy(
            services,
            user,
            case_id,
            remedy=_remedy(remedy),
            on=_day(on),
            result=outcome,
            note=note,
        )
    )


@remedy_app.command("list")
def outcomes(case_id: int, as_json: JsonFlag = False) -> None:
    """The case's 强制, 复议 and 诉讼 events in record order."""
    from assistant.cli_common import cli_services, print_json
    from assistant.outcomes.service import case_outcomes

    print_json(case_outcomes(cli_services(), case_id))

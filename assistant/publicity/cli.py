"""`taxassist publicity …`: publication deadlines and the decisions still to publish."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

publicity_app = typer.Typer(
    help="行政执法公示: deadlines in working days, decisions to publish, the public feed.",
    no_args_is_help=True,
)
JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON")]


@publicity_app.command("due")
def due(
    start: Annotated[str, typer.Argument(help="the decision date, YYYY-MM-DD")],
    days: Annotated[int, typer.Option("--days", min=0, help="working days")] = 7,
    provisional: Annotated[
        bool,
        typer.Option(
            "--provisional",
            help="accept a date counted on weekdays only through a year the calendar lacks",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """The last day of `days` working days after `start` on the State Council calendar; refused
    (`calendar_year_missing`) through a year without its notice unless --provisional."""
    from assistant.cli_common import print_json
    from assistant.errors import InvalidInput
    from assistant.publicity.workdays import load_calendar

    try:
        day = date.fromisoformat(start)
    except ValueError as exc:
        raise InvalidInput(
            "invalid_date", f"日期格式错误：{start}（应为 YYYY-MM-DD）。", details={"date": start}
        ) from exc
    calendar = load_calendar()
    deadline = calendar.add_working_days(day, days) if provisional else calendar.require(day, days)
    out = {
        "start": day.isoformat(),
        "working_days": days,
        "due_on": deadline.due_on.isoformat(),
        "provisional": deadline.provisional,
        "sources": list(deadline.sources),
        "warning": deadline.warning,
    }
    if as_json:
        print_json(out)
    else:
        note = "（暂定：缺少该年度放假安排通知）" if deadline.provisional else ""
        typer.echo(f"{day} 起 {days} 个工作日，截止 {deadline.due_on}{note}")
        if deadline.warning:
            typer.echo(deadline.warning["message"], err=True)


@publicity_app.command("alerts")
def alerts(as_json: JsonFlag = False) -> None:
    """Issued decisions still to publish, nearest deadline first; exit 2 when one is overdue."""
    from assistant.cli_common import cli_services, print_json
    from assistant.publicity.service import alerts as pending

    rows = pending(cli_services())
    if as_json:
        print_json(rows)
    else:
        for row in rows:
            flag = "【已逾期】" if row["overdue"] else f"剩余 {row['working_days_left']} 个工作日"
            typer.echo(f"{row['document_number']}（{row['kind']}）公示期限 {row['due_on']} {flag}")
    if any(row["overdue"] for row in rows):
        raise SystemExit(2)

"""`taxassist stats annual|platform`: the annual report and its files, the data platform."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

stats_app = typer.Typer(
    help="Annual statistics and the enforcement data platform.", no_args_is_help=True
)

JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON")]
Year = Annotated[int, typer.Option("--year", help="the year (China dates)")]


@stats_app.command("annual")
def annual(
    year: Year,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="write annual-YEAR.xlsx, .csv, .png and .svg into this dir"),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """The year's counts by kind of act, amounts, hearings, reviews and remedies."""
    from assistant.cli_common import cli_services, print_json
    from assistant.statistics.export import write_report
    from assistant.statistics.service import annual as annual_report

    services = cli_services()
    report = annual_report(services, year)
    files = {}
    if out is not None:
        paths = write_report(
            report, out.expanduser().resolve(), authority=services.settings.authority_name
        )
        files = {fmt: str(path) for fmt, path in paths.items()}
    if as_json:
        print_json({**report.to_dict(), "files": files})
        return
    typer.echo(f"{year}年度行政执法统计（{report.start} 至 {report.end}）")
    for row in report.rows:
        unit = "" if row.value is None else row.unit
        typer.echo(f"  {row.label}\t{row.shown}{unit}")
    for fmt, path in files.items():
        typer.echo(f"{fmt}: {path}")


@stats_app.command("platform")
def platform(
    year: Year,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="YYYY-MM-DD for open deadlines; default today")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Outliers, overdue procedures, acts without a valid credential, list candidates."""
    from assistant.cli_common import cli_services, print_json
    from assistant.errors import InvalidInput
    from assistant.statistics.service import platform as platform_report

    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise InvalidInput(
            "invalid_date", f"--as-of 应为 YYYY-MM-DD：{as_of}", details={"as_of": as_of}
        ) from None
    report = platform_report(cli_services(), year, as_of=day)
    if as_json:
        print_json(report)
        return
    typer.echo(f"{year}年度：处罚决定 {report['decisions']} 件")
    for key, name in (
        ("benchmark_outliers", "偏离裁量基准"),
        ("peer_outliers", "偏离同类案件"),
        ("overdue", "程序超期"),
        ("credentials", "无有效执法证件的执法行为"),
    ):
        typer.echo(f"  {name}：{len(report[key])}")
    provisional = sum(1 for o in report["overdue"] if o["due_provisional"])
    if provisional:
        typer.echo(f"  （程序超期中 {provisional} 项的届满日暂定：工作日历缺少该年度的国务院通知）")
    block = report["major_violator_candidates"]
    candidates = block["cases"]
    pending = sum(1 for c in candidates if c["remedy_pending"])
    typer.echo(
        f"  重大税收违法失信主体候选：{len(candidates)}（其中复议、诉讼未结 {pending}；"
        f"因复议、诉讼结果排除 {len(block['excluded'])}）"
    )

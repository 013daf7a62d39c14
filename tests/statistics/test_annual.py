"""The annual report over a generated year of 1,000 cases: every row against a direct SQL count,
the registry, the exports (openpyxl reads the .xlsx back), the charts, the CLI."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import text
from typer.testing import CliRunner

from assistant.errors import InvalidInput
from assistant.money import to_fen
from assistant.statistics import COUNTERS, counter
from assistant.statistics.annual import annual_report
from assistant.statistics.export import chart_font, write_report
from assistant.statistics.records import check_year
from tests.conftest import database_env
from tests.statistics.conftest import Seeded, in_dialect
from tests.statistics.seed import YEAR

# The legal date of an event, in SQLite: the date it states, else the China date it was
# recorded (in_dialect spells these statements for PostgreSQL).
ACT_DATE = "COALESCE(json_extract(details, '$.on'), date(created_at, '+8 hours'))"
IN_YEAR = f"{ACT_DATE} BETWEEN '{YEAR}-01-01' AND '{YEAR}-12-31'"
EVENTS = f"SELECT COUNT(*) FROM case_events WHERE {IN_YEAR} AND "
ISSUED = (
    "FROM documents WHERE doc_type = 'tax_handling_decision' "
    f"AND date(issued_at, '+8 hours') BETWEEN '{YEAR}-01-01' AND '{YEAR}-12-31'"
)
# Each recorded row's value straight from the tables (amounts in fen).
SQL = {
    "penalty_decisions": EVENTS
    + "action = 'decided' AND json_extract(details, '$.decision') = 'penalty'",
    "no_penalty_decisions": EVENTS
    + "action = 'decided' AND json_extract(details, '$.decision') = 'no_penalty'",
    "inspections": EVENTS + "action = 'case_created'",
    "collections": f"SELECT COUNT(*) {ISSUED}",
    "referrals": EVENTS + "action = 'referred'",
    "fines_total": "SELECT SUM(CAST(ROUND(CAST(json_extract(details, '$.amount') AS REAL) * 100)"
    f" AS INTEGER)) FROM case_events WHERE {IN_YEAR} AND action = 'decided'"
    " AND json_extract(details, '$.decision') = 'penalty'",
    "tax_recovered_total": "SELECT SUM(tax_unpaid) FROM cases WHERE id IN"
    f" (SELECT case_id {ISSUED})",
    "hearings_requested": EVENTS + "action = 'hearing_requested'",
    "hearings_held": EVENTS + "action = 'hearing_held'",
    "legal_reviews": EVENTS + "action = 'legal_review'",
    "legal_reviews_failed": EVENTS
    + "action = 'legal_review' AND json_extract(details, '$.result') = '存在问题'",
    "committee_reviews": EVENTS + "action = 'committee_reviewed'",
    "publications_published": "SELECT COUNT(*) FROM publications WHERE date(published_at,"
    f" '+8 hours') BETWEEN '{YEAR}-01-01' AND '{YEAR}-12-31'",
    "publications_withdrawn": "SELECT COUNT(*) FROM publications WHERE date(withdrawn_at,"
    f" '+8 hours') BETWEEN '{YEAR}-01-01' AND '{YEAR}-12-31' AND published_at IS NOT NULL",
}
PUBLISHED_KIND = (
    "SELECT COUNT(*) FROM publications WHERE date(published_at, '+8 hours')"
    f" BETWEEN '{YEAR}-01-01' AND '{YEAR}-12-31' AND kind = "
)
SQL |= {
    f"publications_published_{key}": PUBLISHED_KIND + f"'{kind}'"
    for key, kind in (
        ("penalty", "处罚"),
        ("no_penalty", "不予处罚"),
        ("collection", "征收"),
        ("enforcement", "强制"),
    )
}
MEASURE = EVENTS + "action = 'enforcement_measure'"
SQL |= {
    "enforcement": MEASURE,
    "enforcement_preservation": MEASURE
    + " AND json_extract(details, '$.measure') = 'preservation'",
    "enforcement_execution": MEASURE + " AND json_extract(details, '$.measure') = 'execution'",
    "reconsiderations": EVENTS + "action = 'reconsideration_applied'",
    "reconsiderations_overturned": EVENTS + "action = 'reconsideration_decided'"
    " AND json_extract(details, '$.result') IN ('撤销', '变更', '确认违法')",
    "lawsuits": EVENTS + "action = 'lawsuit_filed'",
    "lawsuits_overturned": EVENTS + "action = 'lawsuit_judged'"
    " AND json_extract(details, '$.result') IN ('撤销', '变更', '确认违法', '确认无效')",
}
# 行政许可: the system handles penalty cases only, so it never records one
NOT_RECORDED = {"licensing", "publications_published_licensing"}


def test_every_row_equals_a_direct_sql_count(seeded: Seeded) -> None:
    with seeded.services.db.session() as session:
        report = annual_report(session, YEAR)
        dialect = session.get_bind().dialect.name
        expected = {
            key: session.execute(text(in_dialect(sql, dialect))).scalar_one()
            for key, sql in SQL.items()
        }
        # the China date matters: counted by the UTC date, the openings differ
        utc_sql = (
            "SELECT COUNT(*) FROM case_events WHERE action = 'case_created'"
            f" AND date(created_at) BETWEEN '{YEAR}-01-01' AND '{YEAR}-12-31'"
        )
        utc = session.execute(text(in_dialect(utc_sql, dialect))).scalar_one()
    rows = {row.key: row for row in report.rows}
    assert set(rows) == set(SQL) | NOT_RECORDED == {c.key for c in COUNTERS}
    for key, value in expected.items():
        got = rows[key].value
        assert got is not None and expected[key], (key, got, value)
        assert (to_fen(got) if rows[key].unit == "元" else got) == value, key
    assert all(rows[key].value is None and rows[key].shown == "未记录" for key in NOT_RECORDED)
    assert isinstance(rows["fines_total"].value, Decimal)
    assert utc != rows["inspections"].value
    assert report.value("penalty_decisions") > 500  # most of the 1,000 cases were decided


def test_a_new_counter_is_one_registered_function(seeded: Seeded) -> None:
    @counter("test_closed", "结案（测试）", group="procedure", unit="件", note="测试")
    def closed(period):  # type: ignore[no-untyped-def]
        return len(period.acts("decided"))

    try:
        with seeded.services.db.session() as session:
            report = annual_report(session, YEAR)
        assert report.value("test_closed") == report.value("penalty_decisions") + report.value(
            "no_penalty_decisions"
        )
        with pytest.raises(ValueError, match="twice"):
            counter("test_closed", "x", group="procedure", unit="件", note="")(closed)
    finally:
        COUNTERS[:] = [c for c in COUNTERS if c.key != "test_closed"]


def test_exports_open_and_the_charts_render(seeded: Seeded, tmp_path: Path) -> None:
    with seeded.services.db.session() as session:
        report = annual_report(session, YEAR)
    files = write_report(report, tmp_path / "out", authority="示例局")
    assert sorted(files) == ["csv", "png", "svg", "xlsx"]
    sheet = load_workbook(files["xlsx"]).active
    assert sheet is not None
    assert sheet["A1"].value == f"示例局{YEAR}年度行政执法统计"
    body = list(sheet.iter_rows(min_row=4, values_only=True))
    assert [r[1] for r in body] == [r.label for r in report.rows]
    for line, row in zip(body, report.rows, strict=True):
        value = line[2]
        if row.value is None:
            assert value == "未记录"
        elif row.unit == "元":
            assert Decimal(str(value)).quantize(Decimal("0.01")) == row.value
        else:
            assert value == row.value
    lines = list(csv.reader(io.StringIO(files["csv"].read_bytes().decode("utf-8-sig"))))
    assert lines[0][:3] == ["类别", "项目", "数值"] and len(lines) == len(report.rows) + 1
    assert ["执法行为", "行政处罚决定", str(report.value("penalty_decisions"))] in [
        line[:3] for line in lines
    ]
    assert chart_font() is not None, "no CJK font: install fonts-wqy-zenhei (make system-deps)"
    with Image.open(files["png"]) as image:
        image.verify()
        assert image.format == "PNG" and image.size[0] > 1000
    svg = files["svg"].read_bytes()
    assert ET.fromstring(svg).tag.endswith("svg") and len(svg) > 10_000


def test_years_outside_the_range_are_refused() -> None:
    today = date(2026, 12, 4)
    assert check_year(2000, today=today) == 2000 and check_year(2026, today=today) == 2026
    for bad in (1999, 2027, -1):
        with pytest.raises(InvalidInput) as caught:
            check_year(bad, today=today)
        assert caught.value.code == "invalid_year"


def test_cli_prints_the_report(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.cli import app
    from assistant.config import get_settings

    monkeypatch.setenv("TAXASSIST_DATA_DIR", str(seeded.data_dir))
    for name, value in database_env(seeded.data_dir).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TAXASSIST_CORPORA", "")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["stats", "annual", "--year", str(YEAR), "--json"])
        bad = CliRunner().invoke(app, ["stats", "annual", "--year", "1999", "--json"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["year"] == YEAR and len(data["rows"]) == len(COUNTERS)
    assert data["rows"][0] == {**data["rows"][0], "key": "penalty_decisions", "recorded": True}
    assert isinstance(bad.exception, InvalidInput)

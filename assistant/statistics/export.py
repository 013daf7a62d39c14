"""The annual report as files: .xlsx (openpyxl), .csv (UTF-8 with BOM, opens in Excel), and
the charts (PNG and SVG, matplotlib with a CJK font found on the machine).

Why these formats: the plan asks for the data to be published each January and reported to the
government and the tax authority above; those offices take spreadsheets, and the charts go into
the written report.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

from assistant.statistics.annual import GROUPS, AnnualReport

HEADER = ("类别", "项目", "数值", "单位", "口径说明")
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def report_table(report: AnnualReport) -> list[tuple[str, str, str, str, str]]:
    """One line per row: group, label, value as printed (未记录 when not recorded), unit, note."""
    return [
        (GROUPS[r.group], r.label, r.shown.replace(",", ""), r.unit, r.note) for r in report.rows
    ]


def to_csv(report: AnnualReport) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(report_table(report))
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(report: AnnualReport, *, authority: str = "") -> bytes:
    """A workbook with one sheet: title, period, header, one row per counter. Counts are
    integers, amounts numbers with 2 places (the exact Decimal, no float arithmetic before it)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = f"{report.year}年度"
    sheet.append([f"{authority}{report.year}年度行政执法统计"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([f"统计期间：{report.start.isoformat()} 至 {report.end.isoformat()}"])
    sheet.append(list(HEADER))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for row in report.rows:
        value: object = "未记录" if row.value is None else row.value
        if isinstance(value, Decimal):
            value = float(value)  # openpyxl writes numbers; shown with 2 places below
        sheet.append([GROUPS[row.group], row.label, value, row.unit, row.note])
        if isinstance(row.value, Decimal):
            sheet.cell(sheet.max_row, 3).number_format = "#,##0.00"
    for column, width in zip("ABCDE", (10, 24, 18, 6, 70), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- charts --------------------------------------------------------------------------------------
#: CJK fonts looked for when neither the PDF sans font nor TAXASSIST_CHART_FONT is set.
FONT_NAME_HINTS = ("WenQuanYi", "Noto Sans CJK", "Noto Serif CJK", "AR PL", "Source Han", "SimHei")


def chart_font() -> Path | None:
    """A font file with Chinese glyphs: TAXASSIST_CHART_FONT, else the sans face the PDFs use
    (TAXASSIST_PDF_FONT_SANS or the Debian packages `make system-deps` installs), else any
    installed font matplotlib's font manager names as CJK. None: labels would be boxes."""
    override = os.environ.get("TAXASSIST_CHART_FONT")
    if override and Path(override).is_file():
        return Path(override)
    from assistant.drafting.pdf import SANS_CANDIDATES, SERIF_CANDIDATES

    sans = os.environ.get("TAXASSIST_PDF_FONT_SANS")
    for name in ([sans] if sans else []) + [*SANS_CANDIDATES, *SERIF_CANDIDATES]:
        if Path(name).is_file():
            return Path(name)
    from matplotlib import font_manager

    for entry in font_manager.fontManager.ttflist:
        if any(hint in entry.name for hint in FONT_NAME_HINTS):
            return Path(entry.fname)
    return None


#: matplotlib's settings are process-wide: one chart is drawn at a time (the API draws them in
#: its threadpool).
CHART_LOCK = threading.Lock()


def render_charts(report: AnnualReport, *, authority: str = "") -> dict[str, bytes]:
    """The report's figure as {"png": …, "svg": …}: counts by kind of act, the procedure
    counts, and the amounts in 万元; rows not recorded are named under the bars."""
    from matplotlib import font_manager, rc_context

    with CHART_LOCK:
        # the Debian CJK faces register as weight 500: matplotlib's "normal" lookup logs misses
        logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
        font = chart_font()
        family = None
        if font is not None:
            font_manager.fontManager.addfont(str(font))
            family = font_manager.FontProperties(fname=str(font)).get_name()
        rc: dict[Any, Any] = {
            "font.family": [family, "DejaVu Sans"] if family else ["DejaVu Sans"],
            "svg.hashsalt": "ta",
        }
        with rc_context(rc):
            return _draw(report, authority)


def _draw(report: AnnualReport, authority: str) -> dict[str, bytes]:
    from matplotlib.figure import Figure

    panels = [
        ("执法行为（件）", [r for r in report.rows if r.group == "kinds"]),
        ("程序与救济（件/次）", [r for r in report.rows if r.group in ("procedure", "remedies")]),
        ("金额（万元）", [r for r in report.rows if r.unit == "元"]),
    ]
    # a Figure of its own (not pyplot's global figure registry), drawn on the Agg canvas
    fig = Figure(figsize=(14, 4.8), layout="constrained")
    axes = fig.subplots(1, len(panels))
    fig.suptitle(f"{authority}{report.year}年度行政执法统计")
    for ax, (title, rows) in zip(axes, panels, strict=True):
        recorded = [r for r in rows if r.value is not None]
        values = [
            float(r.value) / 10000 if isinstance(r.value, Decimal) else float(r.value or 0)
            for r in recorded
        ]
        bars = ax.bar(range(len(recorded)), values, color="#3b6ea5")
        shown = [
            f"{v:,.2f}" if r.unit == "元" else r.shown
            for r, v in zip(recorded, values, strict=True)
        ]
        ax.bar_label(bars, labels=shown, fontsize=8)
        ax.set_xticks(range(len(recorded)), [r.label for r in recorded], rotation=30, ha="right")
        ax.set_title(title)
        missing = [r.label for r in rows if r.value is None]
        if missing:
            ax.set_xlabel("未记录：" + "、".join(missing), fontsize=8)
    out: dict[str, bytes] = {}
    for fmt in ("png", "svg"):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, dpi=120, metadata={"Date": None} if fmt == "svg" else None)
        out[fmt] = buffer.getvalue()
    return out


def write_report(report: AnnualReport, out_dir: Path, *, authority: str = "") -> dict[str, Path]:
    """Write annual-YYYY.{xlsx,csv,png,svg} into `out_dir` (created); the paths by format."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "xlsx": to_xlsx(report, authority=authority),
        "csv": to_csv(report),
        **render_charts(report, authority=authority),
    }
    paths = {}
    for fmt, data in files.items():
        path = out_dir / f"annual-{report.year}.{fmt}"
        path.write_bytes(data)
        paths[fmt] = path
    return paths

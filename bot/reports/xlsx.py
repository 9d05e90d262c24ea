"""Write tables to an XLSX workbook that opens cleanly in Excel, WPS and LibreOffice.

Start-up speed: openpyxl (which pulls numpy in) is imported only when a workbook is
written (``_openpyxl``); tests/reports/test_fonts.py checks it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO
from typing import TYPE_CHECKING, Any

from bot.reports.fonts import display_width

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet.worksheet import Worksheet

MAX_TITLE_CHARS = 31  # Excel's limit on sheet names
MIN_COLUMN_WIDTH = 8.0
MAX_COLUMN_WIDTH = 60.0
DEFAULT_DATE_FORMAT = "yyyy-mm-dd"
DEFAULT_DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
INTEGER_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.00"
# Excel's own fonts for CJK; WPS and LibreOffice substitute sensibly when absent.
CJK_FONT_NAME = "等线"
_FORBIDDEN_TITLE_CHARS = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Sheet:
    """One worksheet: a header row, data rows, optional formats and notes.

    ``number_formats`` maps a 0-based column index to an Excel number format (e.g.
    ``"0.0%"``); columns without one get thousands separators for numbers and ISO dates.
    ``notes`` are written below the table, after one empty row, in the first column, so
    the table itself stays a clean rectangle for sorting and filtering.
    """

    title: str
    headers: list[str]
    rows: list[list[object]]
    number_formats: dict[int, str] | None = None
    notes: list[str] | None = None


def sanitize_sheet_title(title: str, taken: set[str] | None = None) -> str:
    """Return a valid, unique sheet title: no []:*?/\\, at most 31 characters."""
    clean = _FORBIDDEN_TITLE_CHARS.sub("_", title).strip().strip("'") or "Sheet"
    clean = clean[:MAX_TITLE_CHARS]
    taken_lower = {t.lower() for t in taken or set()}
    candidate, n = clean, 1
    while candidate.lower() in taken_lower:  # Excel compares sheet names case-insensitively
        n += 1
        suffix = f" ({n})"
        candidate = clean[: MAX_TITLE_CHARS - len(suffix)] + suffix
    return candidate


def _openpyxl() -> Any:
    """Return openpyxl, imported on first use.

    The one lazy import of this module: openpyxl pulls numpy in, about 150 ms at every start
    of the bot and the CLI, and most runs write no spreadsheet.
    """
    import openpyxl.cell.cell
    import openpyxl.styles
    import openpyxl.utils

    return openpyxl


def write_table_xlsx(sheets: list[Sheet]) -> bytes:
    """Write the sheets to an XLSX workbook and return its bytes."""
    workbook = _openpyxl().Workbook()
    default = workbook.active
    if default is not None:
        workbook.remove(default)
    taken: set[str] = set()
    for sheet in sheets or [Sheet(title="Sheet", headers=[], rows=[])]:
        title = sanitize_sheet_title(sheet.title, taken)
        taken.add(title)
        _fill(workbook.create_sheet(title), sheet)
    buf = BytesIO()
    workbook.save(buf)
    return buf.getvalue()


def _put(ws: Worksheet, row: int, column: int, value: object) -> Cell:
    """Write value into a cell; text is always stored as text, never as a formula."""
    cell = ws.cell(row=row, column=column, value=value)
    # Station names and notes come from users: "=HYPERLINK(...)" must stay inert text.
    if isinstance(value, str) and cell.data_type == "f":
        cell.data_type = "s"
    return cell


def _cell_value(value: object) -> object:
    """Convert a value to something openpyxl stores with its proper type."""
    if isinstance(value, str):
        return _clean_text(value)
    if value is None or isinstance(value, bool | int | float | dt.date | dt.time):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            # Excel has no time zones: keep the wall-clock time the caller chose.
            return value.replace(tzinfo=None)
        return value
    if isinstance(value, Decimal):
        return float(value)
    return _clean_text(str(value))


def _clean_text(text: str) -> str:
    """Drop the control characters XML (and so XLSX) cannot hold."""
    pattern: re.Pattern[str] = _openpyxl().cell.cell.ILLEGAL_CHARACTERS_RE
    return pattern.sub("", text)


def _default_format(value: object) -> str | None:
    """Return the number format a cell gets when its column has none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, dt.datetime):
        return DEFAULT_DATETIME_FORMAT
    if isinstance(value, dt.date):
        return DEFAULT_DATE_FORMAT
    if isinstance(value, int):
        return INTEGER_FORMAT
    if isinstance(value, float):
        return INTEGER_FORMAT if value.is_integer() else DECIMAL_FORMAT
    return None


def _shown_text(value: object) -> str:
    """Return roughly what a cell displays, for width estimation."""
    if isinstance(value, dt.datetime):
        return "2026-01-01 00:00"
    if isinstance(value, dt.date):
        return "2026-01-01"
    if isinstance(value, bool):
        return "FALSE"
    if isinstance(value, int | float):
        return f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"
    return "" if value is None else str(value)


def _fill(ws: Worksheet, sheet: Sheet) -> None:
    """Write headers, rows, formats, widths, freeze pane, filter and notes into ws."""
    xl = _openpyxl()
    Alignment, Font, PatternFill = xl.styles.Alignment, xl.styles.Font, xl.styles.PatternFill
    get_column_letter = xl.utils.get_column_letter
    formats = sheet.number_formats or {}
    header_font = Font(name=CJK_FONT_NAME, bold=True)
    body_font = Font(name=CJK_FONT_NAME)
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    n_cols = max([len(sheet.headers), *(len(row) for row in sheet.rows)], default=0)
    widths = [float(MIN_COLUMN_WIDTH)] * n_cols

    for col, header in enumerate(sheet.headers, start=1):
        cell = _put(ws, 1, col, _clean_text(header))
        cell.font = header_font
        cell.fill = header_fill
        cell.alignment = Alignment(vertical="center", wrap_text=False)
        widths[col - 1] = max(widths[col - 1], display_width(header) * 1.1 + 4)
    for r, row in enumerate(sheet.rows, start=2):
        for c, raw in enumerate(row):
            value = _cell_value(raw)
            cell = _put(ws, r, c + 1, value)
            cell.font = body_font
            fmt = formats.get(c) or _default_format(value)
            if fmt:
                cell.number_format = fmt
            text = _shown_text(value)
            longest = max((display_width(line) for line in text.splitlines()), default=0)
            widths[c] = max(widths[c], longest * 1.1 + 2)

    for index, width in enumerate(widths, start=1):
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = round(min(width, MAX_COLUMN_WIDTH), 1)
    if sheet.headers:
        ws.freeze_panes = "A2"
        last_row = max(1 + len(sheet.rows), 1)
        ws.auto_filter.ref = f"A1:{get_column_letter(n_cols)}{last_row}"
    if sheet.notes:
        start = len(sheet.rows) + 3  # one empty row between the table and the notes
        for offset, note in enumerate(sheet.notes):
            cell = _put(ws, start + offset, 1, _clean_text(note))
            cell.font = Font(name=CJK_FONT_NAME, italic=True, color="666666")

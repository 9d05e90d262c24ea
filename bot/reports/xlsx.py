"""Write tables to XLSX workbooks an official can print and sign: Excel, WPS, LibreOffice.

Every sheet has the same shape: row 1 the title (what and which window), then note rows
(how the rows are ordered, definitions), then the header row and the data. Printing is set
up (A4 landscape, fit to the page width, header row repeated on every page), the header and
the name column stay in view when scrolling, and each column has one number format.

Start-up speed: openpyxl (which pulls numpy in) is imported only when a workbook is
written (``_openpyxl``); tests/reports/test_fonts.py checks it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
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
# One number format per column; the written forms officials expect.
INTEGER_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.00"
VOLUME_FORMAT = "#,##0.0"  # propagation volume: reported reach may weigh 0.5
SCORE_FORMAT = "0.00"
CHANGE_FORMAT = "+0.0%;-0.0%;0.0%"
DATE_FORMAT = 'yyyy"年"m"月"d"日"'
DATETIME_FORMAT = 'yyyy"年"m"月"d"日" hh:mm'
TEXT_FORMAT = "General"
# Excel's own fonts for CJK; WPS and LibreOffice substitute sensibly when absent.
CJK_FONT_NAME = "等线"
HEADING_SIZE = 14
MAX_HEADER_CHARS = 250  # Excel refuses page headers longer than 255 characters
_FORBIDDEN_TITLE_CHARS = re.compile(r"[\[\]:*?/\\]")
# What a cell of each format shows at its widest, for the column width.
_SHOWN_SAMPLES = {DATE_FORMAT: "2026年12月31日", DATETIME_FORMAT: "2026年12月31日 00:00"}


@dataclass(frozen=True)
class Column:
    """One column: its header and its number format (inferred from the values if None)."""

    header: str
    number_format: str | None = None


@dataclass(frozen=True)
class Sheet:
    """One worksheet: a title row, note rows, a header row and data rows.

    ``title`` names the tab; ``heading`` is row 1 and says what the table is and which
    window its figures cover; ``notes`` follow it, one per row (the order of the rows,
    definitions). ``frozen_columns`` leading columns (up to the name) stay in view when
    scrolling right. Rows are written in the order given: callers sort them and say how.
    """

    title: str
    columns: Sequence[Column]
    rows: list[list[object]]
    heading: str = ""
    notes: list[str] = field(default_factory=list)
    frozen_columns: int = 0

    @property
    def header_row(self) -> int:
        """Return the 1-based row of the headers."""
        return 1 + (1 if self.heading else 0) + len(self.notes)


def make_columns(headers: Sequence[str], formats: dict[int, str] | None = None) -> list[Column]:
    """Return columns from headers and formats by 0-based index (the others inferred)."""
    return [Column(h, (formats or {}).get(i)) for i, h in enumerate(headers)]


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
    import openpyxl.worksheet.properties

    return openpyxl


def write_table_xlsx(sheets: list[Sheet]) -> bytes:
    """Write the sheets to an XLSX workbook and return its bytes."""
    workbook = _openpyxl().Workbook()
    default = workbook.active
    if default is not None:
        workbook.remove(default)
    taken: set[str] = set()
    for sheet in sheets or [Sheet(title="Sheet", columns=[], rows=[])]:
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


def infer_format(values: Sequence[object]) -> str:
    """Return the one number format of a column from its values."""
    typed = [v for v in values if v is not None and not isinstance(v, str | bool)]
    if not typed:
        return TEXT_FORMAT
    if all(isinstance(v, dt.datetime) for v in typed):
        return DATETIME_FORMAT
    if all(isinstance(v, dt.date) and not isinstance(v, dt.datetime) for v in typed):
        return DATE_FORMAT
    numbers = [v for v in typed if isinstance(v, int | float)]
    if len(numbers) == len(typed):
        integral = all(isinstance(v, int) or float(v).is_integer() for v in numbers)
        return INTEGER_FORMAT if integral else DECIMAL_FORMAT
    return TEXT_FORMAT


def _shown_text(value: object, fmt: str) -> str:
    """Return roughly what a cell displays, for width estimation."""
    if fmt in _SHOWN_SAMPLES and isinstance(value, dt.date):
        return _SHOWN_SAMPLES[fmt]
    if isinstance(value, bool):
        return "FALSE"
    if isinstance(value, int | float):
        if fmt in (DECIMAL_FORMAT, SCORE_FORMAT):
            return f"{value:,.2f}"
        if fmt == VOLUME_FORMAT:
            return f"{value:,.1f}"
        if fmt == CHANGE_FORMAT:
            return f"{value:+.1%}"
        return f"{value:,.0f}"
    return "" if value is None else str(value)


def _header_footer_text(text: str) -> str:
    """Escape text for an Excel page header (``&`` starts a code there; 255 characters)."""
    escaped = text.replace("&", "&&")
    return escaped if len(escaped) <= MAX_HEADER_CHARS else escaped[: MAX_HEADER_CHARS - 1] + "…"


def _fill(ws: Worksheet, sheet: Sheet) -> None:
    """Write title, notes, headers, rows, formats, widths, panes, filter and print setup."""
    xl = _openpyxl()
    Alignment, Font, PatternFill = xl.styles.Alignment, xl.styles.Font, xl.styles.PatternFill
    get_column_letter = xl.utils.get_column_letter
    n_cols = max([len(sheet.columns), *(len(row) for row in sheet.rows)], default=0)
    widths = [float(MIN_COLUMN_WIDTH)] * n_cols
    row_no = 1
    if sheet.heading:
        _put(ws, row_no, 1, _clean_text(sheet.heading)).font = Font(
            name=CJK_FONT_NAME, bold=True, size=HEADING_SIZE
        )
        row_no += 1
    for note in sheet.notes:
        # Title and notes overflow into the empty cells to their right: they do not widen A.
        _put(ws, row_no, 1, _clean_text(note)).font = Font(name=CJK_FONT_NAME, color="666666")
        row_no += 1
    header_row = sheet.header_row
    header_font = Font(name=CJK_FONT_NAME, bold=True)
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    for col, column in enumerate(sheet.columns, start=1):
        cell = _put(ws, header_row, col, _clean_text(column.header))
        cell.font = header_font
        cell.fill = header_fill
        cell.alignment = Alignment(vertical="center", wrap_text=False)
        widths[col - 1] = max(widths[col - 1], display_width(column.header) * 1.1 + 4)

    body_font = Font(name=CJK_FONT_NAME)
    values = [[_cell_value(raw) for raw in row] for row in sheet.rows]
    for c in range(n_cols):
        given = sheet.columns[c].number_format if c < len(sheet.columns) else None
        fmt = given or infer_format([row[c] for row in values if c < len(row)])
        for r, row in enumerate(values, start=header_row + 1):
            if c >= len(row):
                continue
            cell = _put(ws, r, c + 1, row[c])
            cell.font = body_font
            cell.number_format = fmt
            text = _shown_text(row[c], fmt)
            longest = max((display_width(line) for line in text.splitlines()), default=0)
            widths[c] = max(widths[c], longest * 1.1 + 2)

    for index, width in enumerate(widths, start=1):
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = round(min(width, MAX_COLUMN_WIDTH), 1)
    if sheet.columns:
        # Scrolling keeps the header row and the name column (and what is left of it) in view.
        ws.freeze_panes = ws.cell(row=header_row + 1, column=sheet.frozen_columns + 1).coordinate
        last_row = header_row + len(sheet.rows)
        ws.auto_filter.ref = f"A{header_row}:{get_column_letter(n_cols)}{last_row}"
        ws.print_title_rows = f"{header_row}:{header_row}"
    _print_setup(ws, sheet)


def _print_setup(ws: Worksheet, sheet: Sheet) -> None:
    """Print on A4 landscape, all columns on one page width, the title on every page."""
    xl = _openpyxl()
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as the rows need
    ws.sheet_properties.pageSetUpPr = xl.worksheet.properties.PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    if sheet.heading:
        ws.oddHeader.center.text = _header_footer_text(sheet.heading)
    ws.oddFooter.center.text = "&P / &N"  # page numbers: the same in every language

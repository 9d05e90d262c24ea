"""The XLSX sheets print on A4 landscape at page width, keep header and names in view, open
with their title and window in row 1, keep one number format per column, and stay safe."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from bot.reports.xlsx import (
    DATE_FORMAT,
    DATETIME_FORMAT,
    DECIMAL_FORMAT,
    INTEGER_FORMAT,
    MAX_COLUMN_WIDTH,
    TEXT_FORMAT,
    Column,
    Sheet,
    infer_format,
    make_columns,
    sanitize_sheet_title,
    write_table_xlsx,
)

from . import samples

EXCEL_DEFAULT_WIDTH = 8.43
HEADING = "城关镇科普e站周报 · 2026年第51周（12月14日—12月20日）"
ORDER = "按传播量从高到低排列。"


def _rows() -> list[list[object]]:
    return [
        [name, 12 + i, 1000 * (i + 1) + 0.5 * i, 0.125 * i, dt.date(2026, 12, 20 - i), None]
        for i, name in enumerate(samples.STATIONS)
    ]


def _open(data: bytes) -> list[Worksheet]:
    return list(load_workbook(io.BytesIO(data)).worksheets)


def _sheet(**kwargs: object) -> Sheet:
    defaults: dict[str, object] = {
        "title": "站点周报",
        "columns": make_columns(samples.HEADERS, {3: "0.0%"}),
        "rows": _rows(),
        "heading": HEADING,
        "notes": [ORDER, *samples.NOTES],
        "frozen_columns": 1,
    }
    return Sheet(**{**defaults, **kwargs})  # type: ignore[arg-type]


def test_title_notes_header_and_rows_in_that_order() -> None:
    (ws,) = _open(write_table_xlsx([_sheet()]))
    assert ws.title == "站点周报"
    assert ws["A1"].value == HEADING and ws["A1"].font.b
    assert [ws.cell(row=r, column=1).value for r in (2, 3, 4)] == [ORDER, *samples.NOTES]
    assert [c.value for c in ws[5]] == samples.HEADERS
    assert all(c.font.b for c in ws[5])
    assert ws["A6"].value == samples.STATIONS[0]
    # Nothing is written below the table: no footnote.
    assert ws.max_row == 5 + len(samples.STATIONS)


def test_print_setup_landscape_page_width_repeated_header() -> None:
    (ws,) = _open(write_table_xlsx([_sheet()]))
    assert ws.page_setup.orientation == "landscape"
    assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert ws.print_title_rows == "$5:$5"  # the header row repeats on every printed page
    assert ws.oddHeader.center.text == HEADING  # and the title heads every page


def test_header_and_name_column_frozen_filter_over_the_table() -> None:
    (ws,) = _open(write_table_xlsx([_sheet()]))
    assert ws.freeze_panes == "B6"  # first data cell right of the name
    assert ws.auto_filter.ref == f"A5:F{5 + len(samples.STATIONS)}"
    (ws,) = _open(write_table_xlsx([_sheet(frozen_columns=2, heading="", notes=[])]))
    assert ws.freeze_panes == "C2" and ws.print_title_rows == "$1:$1"


def test_one_number_format_per_column() -> None:
    (ws,) = _open(write_table_xlsx([_sheet()]))
    body = list(ws.iter_rows(min_row=6))
    formats = [{row[c].number_format for row in body} for c in range(6)]
    assert formats == [
        {TEXT_FORMAT},
        {INTEGER_FORMAT},
        {DECIMAL_FORMAT},  # 1000.0 and 2000.5 alike: the column is not integral
        {"0.0%"},
        {DATE_FORMAT},
        {TEXT_FORMAT},
    ]
    assert ws["C6"].value == 1000 and ws["C7"].value == 2000.5
    assert ws["E6"].is_date and ws["E6"].value.date() == dt.date(2026, 12, 20)


def test_inferred_formats() -> None:
    assert infer_format([1, 2, None, "—"]) == INTEGER_FORMAT
    assert infer_format([1.0, 2.0]) == INTEGER_FORMAT
    assert infer_format([1, 2.5]) == DECIMAL_FORMAT
    assert infer_format([dt.date(2026, 1, 1), None]) == DATE_FORMAT
    assert infer_format([dt.datetime(2026, 1, 1, 9)]) == DATETIME_FORMAT
    assert infer_format(["a", None]) == TEXT_FORMAT
    assert DATE_FORMAT == 'yyyy"年"m"月"d"日"'


def test_widths_count_cjk_characters_double() -> None:
    rows: list[list[object]] = [["城关镇科普服务站综合楼", "abcdefghijk", 1]]
    (ws,) = _open(write_table_xlsx([Sheet("w", make_columns(["站点", "code", "n"]), rows)]))
    cjk, ascii_, narrow = (ws.column_dimensions[c].width for c in "ABC")
    assert cjk > EXCEL_DEFAULT_WIDTH
    assert cjk > 1.8 * ascii_ > EXCEL_DEFAULT_WIDTH  # same character count, double width
    assert narrow >= EXCEL_DEFAULT_WIDTH - 0.5


def test_width_is_capped_and_the_title_does_not_widen_column_a() -> None:
    (ws,) = _open(write_table_xlsx([Sheet("w", [Column("备注")], [["很长的说明" * 40]])]))
    assert ws.column_dimensions["A"].width == MAX_COLUMN_WIDTH
    (ws,) = _open(write_table_xlsx([Sheet("w", [Column("n")], [[1]], heading=HEADING * 3)]))
    assert ws.column_dimensions["A"].width < 12


def test_datetimes_decimals_and_aware_times_are_stored_as_values() -> None:
    aware = dt.datetime(2026, 12, 20, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    rows: list[list[object]] = [[aware, Decimal("12.50"), True]]
    (ws,) = _open(write_table_xlsx([Sheet("t", make_columns(["时间", "金额", "有效"]), rows)]))
    assert ws["A2"].is_date and ws["A2"].value == dt.datetime(2026, 12, 20, 9, 30)
    assert ws["A2"].number_format == DATETIME_FORMAT
    assert ws["B2"].value == 12.5
    assert ws["C2"].value is True


def test_user_text_starting_with_equals_stays_text() -> None:
    rows: list[list[object]] = [['=HYPERLINK("http://evil.example","点我")', "a\x00b"]]
    (ws,) = _open(
        write_table_xlsx([Sheet("t", make_columns(["站点", "x"]), rows, heading="=1+1")])
    )
    assert ws["A1"].data_type == "s" and ws["A1"].value == "=1+1"
    assert ws["A3"].data_type == "s"
    assert ws["A3"].value == '=HYPERLINK("http://evil.example","点我")'
    assert ws["B3"].value == "ab"  # control characters XML cannot hold are dropped


def test_sheet_titles_are_sanitised_and_unique() -> None:
    title = "2026/12 [城关镇]: 信息员*排名? \\ 加长标题用来超过三十一个字符的限制"
    data = write_table_xlsx([Sheet(title, [Column("a")], []), Sheet(title, [Column("a")], [])])
    first, second = (ws.title for ws in _open(data))
    for name in (first, second):
        assert len(name) <= 31
        assert not set(name) & set("[]:*?/\\")
    assert first != second
    assert sanitize_sheet_title("") == "Sheet"
    assert sanitize_sheet_title("Sheet", {"sheet"}) == "Sheet (2)"


def test_a_long_or_ampersand_title_still_makes_a_valid_page_header() -> None:
    long = "科普&健康" * 80
    (ws,) = _open(write_table_xlsx([Sheet("t", [Column("n")], [[1]], heading=long)]))
    assert ws["A1"].value == long  # the cell keeps it whole
    assert len(ws.oddHeader.center.text) <= 250 and "&&" in ws.oddHeader.center.text

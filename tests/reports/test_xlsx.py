"""The XLSX export re-opens with typed cells, a frozen bold header and sensible widths."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from bot.reports.xlsx import MAX_COLUMN_WIDTH, Sheet, sanitize_sheet_title, write_table_xlsx

from . import samples

EXCEL_DEFAULT_WIDTH = 8.43


def _rows() -> list[list[object]]:
    return [
        [name, 12 + i, 1000 * (i + 1) + 0.5 * i, 0.125 * i, dt.date(2026, 12, 20 - i), None]
        for i, name in enumerate(samples.STATIONS)
    ]


def _open(data: bytes) -> list[Worksheet]:
    return list(load_workbook(io.BytesIO(data)).worksheets)


def test_table_round_trips_with_types_header_freeze_and_filter() -> None:
    sheet = Sheet(
        title="站点周报",
        headers=samples.HEADERS,
        rows=_rows(),
        number_formats={3: "0.0%"},
        notes=samples.NOTES,
    )
    (ws,) = _open(write_table_xlsx([sheet]))

    assert ws.title == "站点周报"
    assert [c.value for c in ws[1]] == samples.HEADERS
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:F{1 + len(samples.STATIONS)}"

    first = ws[2]
    assert first[0].value == samples.STATIONS[0]
    assert isinstance(first[1].value, int) and first[1].data_type == "n"
    assert isinstance(first[2].value, int | float) and first[2].number_format == "#,##0"
    assert ws["C3"].value == 2000.5 and ws["C3"].number_format == "#,##0.00"
    assert ws["D3"].value == 0.125 and ws["D3"].number_format == "0.0%"
    assert first[4].is_date and first[4].value.date() == dt.date(2026, 12, 20)
    assert first[4].number_format == "yyyy-mm-dd"

    # Notes sit below the table after one empty row, outside the filter range.
    notes_row = len(samples.STATIONS) + 3
    assert ws.cell(row=notes_row - 1, column=1).value is None
    assert [ws.cell(row=notes_row + i, column=1).value for i in range(2)] == samples.NOTES


def test_widths_count_cjk_characters_double() -> None:
    rows = [["城关镇科普服务站综合楼", "abcdefghijk", 1]]
    (ws,) = _open(write_table_xlsx([Sheet("w", ["站点", "code", "n"], rows)]))
    cjk, ascii_, narrow = (ws.column_dimensions[c].width for c in "ABC")
    assert cjk > EXCEL_DEFAULT_WIDTH
    assert cjk > 1.8 * ascii_ > EXCEL_DEFAULT_WIDTH  # same character count, double width
    assert narrow >= EXCEL_DEFAULT_WIDTH - 0.5


def test_width_is_capped() -> None:
    (ws,) = _open(write_table_xlsx([Sheet("w", ["备注"], [["很长的说明" * 40]])]))
    assert ws.column_dimensions["A"].width == MAX_COLUMN_WIDTH


def test_datetimes_decimals_and_aware_times_are_stored_as_values() -> None:
    aware = dt.datetime(2026, 12, 20, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    rows: list[list[object]] = [[aware, Decimal("12.50"), True]]
    (ws,) = _open(write_table_xlsx([Sheet("t", ["时间", "金额", "有效"], rows)]))
    assert ws["A2"].is_date and ws["A2"].value == dt.datetime(2026, 12, 20, 9, 30)
    assert ws["B2"].value == 12.5
    assert ws["C2"].value is True


def test_user_text_starting_with_equals_stays_text() -> None:
    rows: list[list[object]] = [['=HYPERLINK("http://evil.example","点我")', "a\x00b"]]
    (ws,) = _open(write_table_xlsx([Sheet("t", ["站点", "x"], rows)]))
    assert ws["A2"].data_type == "s"
    assert ws["A2"].value == '=HYPERLINK("http://evil.example","点我")'
    assert ws["B2"].value == "ab"  # control characters XML cannot hold are dropped


def test_sheet_titles_are_sanitised_and_unique() -> None:
    title = "2026/12 [城关镇]: 信息员*排名? \\ 加长标题用来超过三十一个字符的限制"
    data = write_table_xlsx([Sheet(title, ["a"], []), Sheet(title, ["a"], [])])
    first, second = (ws.title for ws in _open(data))
    for name in (first, second):
        assert len(name) <= 31
        assert not set(name) & set("[]:*?/\\")
    assert first != second
    assert sanitize_sheet_title("") == "Sheet"
    assert sanitize_sheet_title("Sheet", {"sheet"}) == "Sheet (2)"

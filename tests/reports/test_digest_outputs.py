"""The digest's sheets, chart and text as an official gets them: every sheet printable,
titled with its window, frozen at the names, one format per column, rows in the stated
order; the glossary's words; no "top 0"; one table of figure labels."""

from __future__ import annotations

import dataclasses
import io
import re

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from bot.i18n import get_translator
from bot.reports.chart import draw_weekly_chart
from bot.reports.digest import (
    FIGURE_LABELS,
    STATION_COLUMNS,
    TOTALS,
    chart_data,
    render_text,
    render_xlsx,
)
from bot.reports.xlsx import DATE_FORMAT, INTEGER_FORMAT, VOLUME_FORMAT
from bot.services.digest import FlagLine
from bot.services.finding_text import KIND_NAMES as FINDING_KINDS

from .digest_sample import digest_data

T = get_translator("zh_CN")
WINDOW = "2026年第48周（11月23日—11月29日）"
# Words a sheet for officials must not use (docs/glossary.md / GLOSSARY.md).
FORBIDDEN = ("Telegram 内联", "转发次数", "覆盖", "Telegram 触达", "核实访问", "前 0 名")


def _book(children: bool = True) -> dict[str, Worksheet]:
    data = digest_data(children=children)
    book = load_workbook(io.BytesIO(render_xlsx(T, data, "1×分享次数")))
    return {ws.title: ws for ws in book.worksheets}


def _header_row(ws: Worksheet) -> int:
    """Return the header row: the last row frozen above the data."""
    assert ws.freeze_panes is not None
    match = re.fullmatch(r"([A-Z]+)(\d+)", ws.freeze_panes)
    assert match
    return int(match.group(2)) - 1


def test_every_sheet_prints_landscape_at_page_width_with_its_header_repeated() -> None:
    for title, ws in _book().items():
        header = _header_row(ws)
        assert ws.page_setup.orientation == "landscape", title
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0, title
        assert ws.sheet_properties.pageSetUpPr.fitToPage is True, title
        assert ws.print_title_rows == f"${header}:${header}", title


def test_every_sheet_opens_with_its_title_and_window() -> None:
    book = _book()
    assert list(book) == ["站点明细", "合计", "下级地区"]
    for title, ws in book.items():
        assert ws["A1"].value == f"杭州市科普e站周报 · {title} · {WINDOW}"
        assert ws.oddHeader.center.text == ws["A1"].value  # and every printed page says so
        below = [ws.cell(row=r, column=1).value for r in range(ws.max_row - 1, ws.max_row + 3)]
        assert not any(isinstance(v, str) and "传播量＝" in v for v in below)  # no footnote


def test_names_stay_in_view_and_columns_keep_one_format() -> None:
    book = _book()
    stations = book["站点明细"]
    header = _header_row(stations)
    assert stations.freeze_panes == f"C{header + 1}"  # right of 排名 and 站点
    headers = [c.value for c in stations[header]]
    assert headers[:4] == ["排名", "站点", "县（市、区）", "传播量"]
    for col, name in enumerate(headers, start=1):
        formats = {
            stations.cell(row=r, column=col).number_format
            for r in range(header + 1, stations.max_row + 1)
        }
        assert len(formats) == 1, name
    assert stations.cell(row=header + 1, column=4).number_format == VOLUME_FORMAT
    assert stations.cell(row=header + 1, column=5).number_format == INTEGER_FORMAT
    totals = book["合计"]
    th = _header_row(totals)
    assert [c.value for c in totals[th]][1:3] == [
        "本周（2026年11月23日—11月29日）",
        "上周（2026年11月16日—11月22日）",
    ]
    # 5,726.5 is not integral: the whole week column shows one decimal, counts too.
    assert {
        totals.cell(row=r, column=2).number_format for r in range(th + 1, totals.max_row + 1)
    } == {VOLUME_FORMAT}
    assert book["下级地区"].freeze_panes == f"B{_header_row(book['下级地区']) + 1}"
    assert DATE_FORMAT == 'yyyy"年"m"月"d"日"'


def test_rows_follow_the_stated_order() -> None:
    book = _book()
    stations = book["站点明细"]
    header = _header_row(stations)
    assert "按本周传播量从高到低排列" in stations["A2"].value
    volumes = [
        stations.cell(row=r, column=4).value for r in range(header + 1, stations.max_row + 1)
    ]
    assert volumes == sorted(volumes, reverse=True) and len(volumes) == 5
    ranks = [stations.cell(row=r, column=1).value for r in range(header + 1, stations.max_row + 1)]
    assert ranks == [1, 2, 3, 4, 5]
    subs = book["下级地区"]
    sh = _header_row(subs)
    # Given 滨江区 (0) before 西湖区: sorted by volume, and named, never a bare code.
    assert [subs.cell(row=r, column=1).value for r in (sh + 1, sh + 2)] == ["西湖区", "滨江区"]


def test_glossary_words_in_sheets_chart_and_text() -> None:
    data = digest_data(children=True)
    cells = [
        str(c.value) for ws in _book().values() for row in ws.iter_rows() for c in row if c.value
    ]
    chart = chart_data(T, data)
    words = [*cells, render_text(T, data), chart.title, *(s.label for s in chart.series)]
    for text in words:
        for bad in FORBIDDEN:
            assert bad not in text, (bad, text)
    headers = [c.value for c in _book()["站点明细"][4]]
    assert "其中：分享按钮（Telegram）" in headers and "其中：转发到 Telegram 群" in headers
    assert "分享次数" in headers and "群成员触达" in headers


def test_digest_text_uses_full_width_colons() -> None:
    text = render_text(T, digest_data())
    assert "传播量：<b>5,726.5</b>" in text
    assert "文三路小学科普e站：照片重复" in text
    assert not re.search(r"[\u4e00-\u9fff]: ", re.sub(r"<[^>]+>", "", text))


def test_no_top_zero_when_no_station_had_any_volume() -> None:
    data = digest_data(top=False)
    assert data.top == []
    text = render_text(T, data)
    assert "前 0 名" not in text and "本周没有站点产生传播量。" in text
    chart = chart_data(T, data)
    _png, fig = draw_weekly_chart(chart)
    assert "top" not in [ax.get_label() for ax in fig.axes]
    assert "本周没有站点产生传播量。" in [t.get_text() for t in fig.texts]


def test_chart_title_states_the_window_and_activities_have_their_own_panel() -> None:
    chart = chart_data(T, digest_data())
    assert chart.title == f"西湖区科普e站周报 · {WINDOW}"
    assert chart.trend_title == "近 12 周（2026年9月7日—11月29日）"
    _png, fig = draw_weekly_chart(chart)
    activities = next(ax for ax in fig.axes if ax.get_label() == "trend:活动")
    low, high = activities.get_ylim()
    assert low == 0 and 4 <= high <= 6  # activities of 2–4 on an axis made for them
    assert len(activities.patches) == 12


@pytest.mark.parametrize("names", [TOTALS, STATION_COLUMNS])
def test_figure_labels_are_defined_once(names: tuple[str, ...]) -> None:
    # The message, the totals and the station sheet take their labels from one table.
    assert set(names) <= set(FIGURE_LABELS)
    assert set(FIGURE_LABELS) == set(TOTALS) | set(STATION_COLUMNS)


def test_digest_names_every_kind_of_finding() -> None:
    # The one table of kinds (finding_text.KIND_NAMES): no raw kind code in the message.
    flags = [FlagLine(kind=kind, station="翠苑社区科普e站", detail={}) for kind in FINDING_KINDS]
    text = render_text(T, dataclasses.replace(digest_data(), flags=flags))
    for kind in FINDING_KINDS:
        assert T(FINDING_KINDS[kind]) in text and kind not in text
    assert "疑似商业活动" in text and "活动重复登记" in text and "纸面站点" in text

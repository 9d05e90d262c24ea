"""Digest content: totals and change, top list, silent stations, pending reviews, flags;
the chart's glyph coverage and the XLSX cells."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import get_translator
from bot.reports.digest import (
    change_text,
    chart_labels,
    formula_text,
    render,
    render_text,
    render_xlsx,
)
from bot.reports.fonts import missing_glyphs
from bot.runtime.context import Runtime
from bot.services import digest as digest_service
from bot.services import tally as tally_service
from tests.tally.fixtures import WEEK, add_flags_and_people, build_week

NOW = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)


async def _prepared(session: AsyncSession, runtime: Runtime) -> None:
    w = await build_week(session)
    await add_flags_and_people(session, w)
    for week in ("2026-W47", WEEK):
        await tally_service.tally_week(
            session=session, week=week, settings=runtime.settings, now=NOW
        )


async def test_city_digest_figures(session: AsyncSession, runtime: Runtime) -> None:
    await _prepared(session, runtime)
    data = await digest_service.build_digest(
        session=session, region_code="330100", week=WEEK, settings=runtime.settings
    )
    assert data.level == "city" and data.region_name == "杭州市"
    assert data.this["volume"] == 335.0 and data.this.stations_counted == 3
    # Week 47 in Hangzhou: c1's WeChat share (80) and b1's "other" share (10).
    assert data.last["shares_total"] == 2 and data.last["volume"] == 47.0
    assert [s.name for s in data.top] == ["西湖一站", "西湖二站", "滨江站"]
    assert [s.name for s in data.silent] == ["滨江站"]
    assert data.pending == {"county_approved": 1}  # 待复核站
    assert data.flag_counts == {
        "photo_reuse": 1,
        "participants_high": 1,
        "application_burst": 1,
    }  # Ningbo's and next week's excluded
    assert [c.code for c in data.children] == ["330106", "330108"]
    assert data.trend_weeks[-2:] == ["2026-W47", WEEK] and len(data.trend_weeks) == 12
    assert data.trend["volume"][-2:] == [47.0, 335.0] and data.trend["volume"][0] == 0.0


async def test_county_digest_counts_its_own_pending(
    session: AsyncSession, runtime: Runtime
) -> None:
    await _prepared(session, runtime)
    data = await digest_service.build_digest(
        session=session, region_code="330106", week=WEEK, settings=runtime.settings
    )
    assert data.pending == {"submitted": 1}  # 草稿站 waits for county review
    assert [s.name for s in data.stations] == ["西湖一站", "西湖二站"]
    assert data.silent == [] and data.children == []
    province = await digest_service.build_digest(
        session=session, region_code="330000", week=WEEK, settings=runtime.settings
    )
    assert province.pending == {"submitted": 1, "county_approved": 1}
    assert len(province.flags) == 4


async def test_unknown_region_is_refused(session: AsyncSession, runtime: Runtime) -> None:
    await _prepared(session, runtime)
    with pytest.raises(digest_service.DigestError) as exc:
        await digest_service.build_digest(
            session=session, region_code="999999", week=WEEK, settings=runtime.settings
        )
    assert exc.value.code == "unknown_region"


def test_change_text() -> None:
    t = get_translator("zh_CN")
    assert change_text(t, 335, 47) == "▲ 612.8%"
    assert change_text(t, 40, 50) == "▼ 20.0%"
    assert change_text(t, 5, 5) == "→ 0%"
    assert change_text(t, 5, 0) == "—" and change_text(t, 0, 0) == "—"


async def test_message_text_chart_and_spreadsheet(session: AsyncSession, runtime: Runtime) -> None:
    await _prepared(session, runtime)
    data = await digest_service.build_digest(
        session=session, region_code="330100", week=WEEK, settings=runtime.settings
    )
    t = get_translator("zh_CN")
    text = render_text(t, data)
    assert "杭州市" in text and "2026年第48周" in text
    assert "传播量：<b>335</b>  ▲ 612.8%" in text  # a full-width colon
    assert "1. 西湖一站 — 282" in text and "3. 滨江站 — 2" in text
    assert "本周无动态的站点（1）" in text
    assert "1 个申请等待市级复核" in text
    assert "照片重复" in text and len(text) < 4096
    en = render_text(get_translator("en"), data)
    assert "Top 3 stations by propagation volume" in en
    # Every label the chart draws is covered by the bundled CJK face.
    for label in chart_labels(t, data):
        assert missing_glyphs(label) == set(), label
    rendered = await render(t, data, runtime.settings.propagation)
    assert rendered.png.startswith(b"\x89PNG") and rendered.xlsx_name.endswith(".xlsx")
    book = load_workbook(
        io.BytesIO(render_xlsx(t, data, formula_text(t, runtime.settings.propagation)))
    )
    assert book.sheetnames == ["站点明细", "合计", "下级地区"]
    sheet = book["站点明细"]
    assert sheet["A1"].value == "杭州市科普e站周报 · 站点明细 · 2026年第48周（11月23日—11月29日）"
    header = 4  # title, the order of the rows, the definitions
    headers = [c.value for c in sheet[header]]
    assert headers[:5] == ["排名", "站点", "县（市、区）", "传播量", "分享次数"]
    assert sheet.freeze_panes == f"C{header + 1}"
    first = [c.value for c in sheet[header + 1]]
    assert first[:5] == [1, "西湖一站", "西湖区", 282, 4]
    assert sheet.cell(row=header + 3, column=2).value == "滨江站"
    assert sheet.cell(row=header + 3, column=len(headers)).value == "是"
    notes = [r[0] for r in sheet.iter_rows(values_only=True) if "日期按" in str(r[0])]
    assert len(notes) == 1 and "Asia/Shanghai" in notes[0]  # the configured zone, named
    totals = book["合计"]
    assert [c.value for c in totals[3]][1:3] == [
        "本周（2026年11月23日—11月29日）",
        "上周（2026年11月16日—11月22日）",
    ]
    assert [c.value for c in totals[4]][:3] == ["传播量", 335, 47]
    assert abs(totals.cell(row=4, column=4).value - (335 - 47) / 47) < 1e-9
    subs = book["下级地区"]
    assert [c.value for c in subs[5]][:3] == ["西湖区", 2, 0]  # a name, not a code

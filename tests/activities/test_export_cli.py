"""`kepubot export activities`: CSV and XLSX re-opened, and argument errors (exit 2)."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.__main__ import main
from bot.config import ActivitiesSettings
from bot.sandbox.factories import make_region_tree, make_station
from bot.services import activities as service
from bot.services.activities import ActivityInput
from storage.activities import PhotoRef
from storage.db import create_nullpool_engine, session_factory
from storage.models import RoleGrant

NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 23)


async def _fill(url: str) -> None:
    engine = create_nullpool_engine(url)
    async with session_factory(engine)() as session, session.begin():
        await make_region_tree(session)
        west = await make_station(session)
        ningbo = await make_station(session, name="海曙科普站", county="330203")
        for station, title, n, campaign in (
            (west, "防范电信诈骗", 45, "science_day"),
            (west, "大讲堂", 900, None),
            (ningbo, "垃圾分类", 30, None),
        ):
            assert station.id is not None
            grants = [RoleGrant(person_id=1, role="station_admin", station_id=station.id)]
            await service.register_activity(
                session=session,
                station_id=station.id,
                grants=grants,
                actor_id=None,
                data=ActivityInput(
                    type="lecture",
                    title=title,
                    held_on=TODAY,
                    participants=n,
                    campaign=campaign,
                    place="社区活动室",
                    photos=(PhotoRef("F", f"U{title}"),),
                ),
                now=NOW,
                today=TODAY,
                rules=ActivitiesSettings(),
            )
    await engine.dispose()


@pytest.fixture
def db(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = tmp_path / "export.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    asyncio.run(_fill(url))
    monkeypatch.setenv("KEPUBOT_DATABASE__URL", url)
    return url


def test_export_csv_has_bom_and_chinese_headers(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "acts.csv"
    code = main(
        [
            "export",
            "activities",
            "--region",
            "330100",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--format",
            "csv",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert "2" in capsys.readouterr().out
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["活动编号", "站点", "县（市、区）"]
    body = {r[5]: r for r in rows[1:]}
    assert set(body) == {"防范电信诈骗", "大讲堂"}  # Ningbo is outside Hangzhou
    lecture = body["防范电信诈骗"]
    assert lecture[1:7] == [
        "西湖区文化站",
        "西湖区",
        "330106",
        "讲座/培训",
        "防范电信诈骗",
        "2026-11-23",
    ]
    assert lecture[9:12] == ["45", "全国科普日", "1"]
    assert body["大讲堂"][12] == "参与人数异常偏高"


def test_export_xlsx_reopens(db: str, tmp_path: Path) -> None:
    out = tmp_path / "acts.xlsx"
    assert (
        main(
            [
                "export",
                "activities",
                "--region",
                "330000",
                "--from",
                "2026-11-23",
                "--to",
                "2026-11-23",
                "--format",
                "xlsx",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    sheet = load_workbook(out).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    # Row 1: what and which window; row 2: the order of the rows; row 3: the header.
    assert values[0][0] == "浙江省科普e站活动明细 · 2026年11月23日"
    assert "按区县、站点、活动日期排列" in values[1][0] and "仅含已认定站点" in values[1][0]
    assert values[2][1] == "站点" and values[2][4] == "类型"
    titles = {row[5] for row in values[3:6]}
    assert titles == {"防范电信诈骗", "大讲堂", "垃圾分类"}
    assert sheet.max_row == 6  # no footnote under the table
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToWidth == 1
    assert sheet.print_title_rows == "$3:$3" and sheet.freeze_panes == "C4"
    assert {sheet.cell(row=r, column=7).number_format for r in (4, 5, 6)} == {'yyyy"年"m"月"d"日"'}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--region", "33", "--from", "2026-11-01", "--to", "2026-11-30"], "6 位代码"),
        (
            ["--region", "999999", "--from", "2026-11-01", "--to", "2026-11-30"],
            "没有代码为 999999",
        ),
        (["--region", "330100", "--from", "2026-11-30", "--to", "2026-11-01"], "--from"),
    ],
)
def test_export_argument_errors(
    db: str, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "activities", *args, "--format", "csv"]) == 2
    assert message in capsys.readouterr().err


def test_export_bad_date_and_format_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for bad in (
        ["--from", "11/01/2026", "--to", "2026-11-30", "--format", "csv"],
        ["--from", "2026-11-01", "--to", "2026-11-30", "--format", "pdf"],
    ):
        with pytest.raises(SystemExit) as exc:
            main(["export", "activities", "--region", "330100", *bad])
        assert exc.value.code == 2

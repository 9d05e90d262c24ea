"""`kepubot export shares|uses|stations|roster`: the desk's definitions on the command line."""

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
from bot.sandbox.factories import (
    make_content,
    make_informant,
    make_region_tree,
    make_share,
    make_station,
)
from storage.db import create_nullpool_engine, session_factory


async def _fill(url: str) -> None:
    engine = create_nullpool_engine(url)
    async with session_factory(engine)() as session, session.begin():
        await make_region_tree(session)
        west = await make_station(session)
        assert west.id is not None
        content = await make_content(session)
        assert content.id is not None
        informant = await make_informant(
            session, station_id=west.id, telegram_id=4242, real_name="王秀英", phone="+86138"
        )
        assert informant.id is not None
        await make_share(
            session,
            informant_id=informant.id,
            station_id=west.id,
            content_id=content.id,
            day=dt.date(2026, 11, 20),
            channel="qq_group",
            audience=12,
        )
    await engine.dispose()


@pytest.fixture
def db(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = tmp_path / "kinds.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    asyncio.run(_fill(url))
    monkeypatch.setenv("KEPUBOT_DATABASE__URL", url)
    return url


def _run(kind: str, fmt: str, out: Path) -> int:
    return main(
        [
            "export", kind, "--region", "330100", "--from", "2026-11-01", "--to", "2026-11-30",
            "--format", fmt, "--out", str(out),
        ]
    )  # fmt: skip


def test_shares_csv_and_stations_xlsx(db: str, tmp_path: Path) -> None:
    shares = tmp_path / "shares.csv"
    assert _run("shares", "csv", shares) == 0
    rows = list(csv.reader(io.StringIO(shares.read_bytes().decode("utf-8-sig"))))
    assert rows[0][:2] == ["日期", "站点"]
    assert rows[1][0] == "2026-11-20" and rows[1][5] == "QQ群" and rows[1][6] == "12"
    stations = tmp_path / "stations.xlsx"
    assert _run("stations", "xlsx", stations) == 0
    sheet = load_workbook(stations).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert "杭州市" in str(values[0][0]) and "2026年11月1日" in str(values[0][0])
    west = next(r for r in values[3:] if r[1] == "西湖区文化站")
    assert west[5] == 1  # one share in the window


def test_roster_from_the_command_line_has_no_personal_data(db: str, tmp_path: Path) -> None:
    out = tmp_path / "roster.csv"
    assert _run("roster", "csv", out) == 0
    text = out.read_bytes().decode("utf-8-sig")
    assert "王秀英" not in text and "+86138" not in text
    assert len(list(csv.reader(io.StringIO(text)))) == 2

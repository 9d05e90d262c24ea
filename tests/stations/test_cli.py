"""`kepubot regions …`, `station add`, `stations import`, `audit` on a real database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.__main__ import build_parser
from bot.cli import CliError
from bot.services.regions import SAMPLE_CSV
from bot.services.stations_csv import parse_stations_csv
from storage.db import create_nullpool_engine, session_factory
from storage.models import AuditLog, Region, RoleGrant, Station
from tests.conftest import make_settings


async def run(db_url: str, *argv: str) -> int:
    args = build_parser().parse_args(["--lang", "en", *argv])
    return int(await args.func(args, make_settings(db_url)))


async def count(db_url: str, table: type) -> int:
    engine = create_nullpool_engine(db_url)
    async with session_factory(engine)() as session:
        value = (await session.execute(select(func.count()).select_from(table))).scalar_one()
    await engine.dispose()
    return int(value)


async def test_regions_import_is_idempotent(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run(db_url, "regions", "import", str(SAMPLE_CSV)) == 0
    assert "60 new, 0 updated, 0 unchanged" in capsys.readouterr().out
    assert await run(db_url, "regions", "import", str(SAMPLE_CSV)) == 0
    assert "0 new, 0 updated, 60 unchanged" in capsys.readouterr().out
    assert await count(db_url, Region) == 60
    assert await run(db_url, "regions", "list") == 0
    assert "330000\t浙江省\tprovince\t(6)" in capsys.readouterr().out
    assert await run(db_url, "regions", "list", "--parent", "330100") == 0
    assert "330106\t西湖区\tcounty" in capsys.readouterr().out


async def test_regions_import_reports_line_numbers(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,name,level,parent_code\n330000,浙江省,province,\n"
        "3301,杭州市,city,330000\n330106,西湖区,county,330100\n",
        encoding="utf-8",
    )
    with pytest.raises(CliError):
        await run(db_url, "regions", "import", str(bad))
    out = capsys.readouterr().out
    assert "line 3, column code" in out and "line 4, column parent_code" in out
    assert await count(db_url, Region) == 0  # all or nothing


async def test_station_add_and_stations_import(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await run(db_url, "regions", "import", str(SAMPLE_CSV))
    assert (
        await run(
            db_url,
            "station",
            "add",
            "--name",
            "西湖区文化站",
            "--region",
            "330106",
            "--venue-type",
            "cultural_centre",
            "--admin-telegram-id",
            "555",
        )
        == 0
    )
    assert "added as recognised" in capsys.readouterr().out
    with pytest.raises(CliError, match="not a county-level"):
        await run(
            db_url,
            "station",
            "add",
            "--name",
            "杭州站",
            "--region",
            "330100",
            "--venue-type",
            "school",
        )
    csv_file = tmp_path / "stations.csv"
    csv_file.write_text(
        "name,region_code,venue_type,address,external_ref,admin_telegram_id,recognised_on\n"
        "滨江e站,330108,学校,江南大道1号,ZJ-001,777,2025-06-01\n"
        "海曙e站,330203,hospital,,,,\n"
        "西湖区文化站,330106,cultural_centre,,,,\n",
        encoding="utf-8",
    )
    assert await run(db_url, "stations", "import", str(csv_file)) == 0
    assert "2 new, 0 updated, 1 unchanged" in capsys.readouterr().out
    assert await run(db_url, "stations", "import", str(csv_file)) == 0
    assert "0 new, 0 updated, 3 unchanged" in capsys.readouterr().out
    assert await count(db_url, Station) == 3
    assert await count(db_url, RoleGrant) == 2
    assert await run(db_url, "audit", "--region", "330100") == 0
    out = capsys.readouterr().out
    assert "added a station" in out and "Haishu" not in out and "330203" not in out
    assert await run(db_url, "audit", "--station", "1", "--limit", "5") == 0
    assert "added a station\tallowed\tstation #1" in capsys.readouterr().out
    assert await count(db_url, AuditLog) >= 5


async def test_stations_import_errors_with_line_numbers(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await run(db_url, "regions", "import", str(SAMPLE_CSV))
    csv_file = tmp_path / "stations.csv"
    csv_file.write_text(
        "name,region_code,venue_type\n"
        "好站,330106,school\n"
        "X,330106,school\n"
        "坏区,999999,school\n"
        "坏类型,330106,bar\n"
        "\n"
        "好站,330106,school\n"
        "市级,330100,school\n",
        encoding="utf-8",
    )
    with pytest.raises(CliError, match="5 problems"):
        await run(db_url, "stations", "import", str(csv_file))
    out = capsys.readouterr().out
    for expected in (
        "line 3, column name",
        "line 4, column region_code",
        "line 5, column venue_type",
        "line 7, column name",
        "line 8, column region_code",
    ):
        assert expected in out
    assert await count(db_url, Station) == 0


def test_stations_csv_parser_needs_columns() -> None:
    rows, errors = parse_stations_csv("name,venue_type\n站,school\n")
    assert rows == [] and [(e.line, e.column, e.code) for e in errors] == [
        (1, "region_code", "missing_column")
    ]
    assert parse_stations_csv("")[1][0].code == "empty_file"

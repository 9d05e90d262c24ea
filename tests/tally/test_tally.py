"""Tally figures on a hand-computed week, roll-ups, idempotence, both backends."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime.context import Runtime
from bot.services import tally as tally_service
from storage.models import WeeklyRegionTally, WeeklyStationTally
from tests.tally.fixtures import EXPECTED_REGIONS, EXPECTED_STATIONS, WEEK, build_week

NOW = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)


def _row_dict(row: object, keys: list[str]) -> dict[str, object]:
    return {key: getattr(row, key) for key in keys}


async def _snapshot(session: AsyncSession) -> tuple[list[tuple], list[tuple]]:  # type: ignore[type-arg]
    stations = (await session.execute(select(WeeklyStationTally))).scalars().all()
    regions = (await session.execute(select(WeeklyRegionTally))).scalars().all()
    skip = {"id", "computed_at"}
    s = sorted(tuple(v for k, v in r.model_dump().items() if k not in skip) for r in stations)
    g = sorted(tuple(v for k, v in r.model_dump().items() if k not in skip) for r in regions)
    return s, g


async def test_station_figures_match_the_hand_computed_week(
    session: AsyncSession, runtime: Runtime
) -> None:
    w = await build_week(session)
    result = await tally_service.tally_week(
        session=session, week=WEEK, settings=runtime.settings, now=NOW
    )
    assert (result.stations, result.regions) == (4, 6)
    rows = {r.station_id: r for r in (await session.execute(select(WeeklyStationTally))).scalars()}
    assert set(rows) == {w.stations[k] for k in "ABCD"}  # E (submitted), F not counted
    for key, expected in EXPECTED_STATIONS.items():
        row = rows[w.stations[key]]
        assert _row_dict(row, list(expected)) == expected, key
        assert row.week == WEEK and row.week_start == dt.date(2026, 11, 23)
    a = rows[w.stations["A"]]
    assert (a.county_code, a.city_code, a.province_code) == ("330106", "330100", "330000")


async def test_regions_roll_up_county_city_province(
    session: AsyncSession, runtime: Runtime
) -> None:
    await build_week(session)
    await tally_service.tally_week(session=session, week=WEEK, settings=runtime.settings, now=NOW)
    rows = {r.region_code: r for r in (await session.execute(select(WeeklyRegionTally))).scalars()}
    assert set(rows) == set(EXPECTED_REGIONS)
    for code, expected in EXPECTED_REGIONS.items():
        assert _row_dict(rows[code], list(expected)) == expected, code


async def test_recomputing_a_week_yields_the_same_rows(
    session: AsyncSession, runtime: Runtime
) -> None:
    await build_week(session)
    await tally_service.tally_week(session=session, week=WEEK, settings=runtime.settings, now=NOW)
    first = await _snapshot(session)
    again = await tally_service.tally_week(
        session=session, week=WEEK, settings=runtime.settings, now=NOW + dt.timedelta(hours=5)
    )
    assert (again.stations, again.regions) == (4, 6)
    assert await _snapshot(session) == first
    # Another week is independent and leaves W48 alone.
    other = await tally_service.tally_week(
        session=session, week="2026-W47", settings=runtime.settings, now=NOW
    )
    assert other.stations == 4
    b47 = (
        await session.execute(
            select(WeeklyStationTally).where(
                WeeklyStationTally.week == "2026-W47", WeeklyStationTally.shares_total > 0
            )
        )
    ).scalars()
    assert sorted(r.shares_total for r in b47) == [1, 1]  # c1 on 16 Nov, b1 on 22 Nov
    assert len((await _snapshot(session))[0]) == 8


async def test_weights_come_from_settings(session: AsyncSession, runtime: Runtime) -> None:
    w = await build_week(session)
    settings = runtime.settings.model_copy(
        update={
            "propagation": runtime.settings.propagation.model_copy(
                update={"w_reported_reach": 0.0, "w_visits": 2.0}
            )
        }
    )
    await tally_service.tally_week(session=session, week=WEEK, settings=settings, now=NOW)
    row = (
        await session.execute(
            select(WeeklyStationTally).where(WeeklyStationTally.station_id == w.stations["A"])
        )
    ).scalar_one()
    assert row.volume == 4 + 150 + 0 + 2 * 3


def test_week_helpers() -> None:
    assert tally_service.last_full_week(dt.date(2026, 11, 30)) == "2026-W48"
    assert tally_service.last_full_week(dt.date(2026, 11, 29)) == "2026-W47"
    assert tally_service.shift_week("2026-W01", -1) == "2025-W52"
    assert tally_service.shift_week("2026-W53", 1) == "2027-W01"
    from zoneinfo import ZoneInfo

    bounds = tally_service.week_bounds("2026-W48", ZoneInfo("Asia/Shanghai"))
    assert bounds.start_ts == dt.datetime(2026, 11, 22, 16, 0, tzinfo=dt.UTC)
    assert bounds.end_ts == dt.datetime(2026, 11, 29, 16, 0, tzinfo=dt.UTC)

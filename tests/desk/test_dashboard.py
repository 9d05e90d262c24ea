"""The dashboard: a region's week from the one definition, its trend, sub-regions, queues."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.core.propagation import volume_over
from bot.services import desk as desk_service
from bot.services.tally import tally_week
from storage.figures import Window, region_of, station_figures
from storage.models import AuditLog
from tests.conftest import FIXED_NOW
from tests.desk import world as w
from tests.desk.conftest import DeskClient


async def test_city_dashboard_shows_its_week_from_the_one_definition(
    desk: DeskClient, seeded: w.World
) -> None:
    page = await desk.get("dashboard", user=w.CITY)
    assert page.status == 200, page.text
    text = page.text
    assert "杭州市" in text
    # The window is said: this week, Monday 23 – Sunday 29 November 2026.
    assert "本周（2026年11月23日—11月29日）" in text
    settings: Settings = desk.runtime.settings
    async with desk.runtime.sessions() as s:
        stations = await station_figures(
            session=s,
            window=Window.week_of(FIXED_NOW.date()),
            volume=volume_over(settings.propagation),
            prefixes=["3301"],
        )
    city = region_of("3301", stations)
    assert city.shares == 3 and city.activities == 1 and city.content_uses == 1
    assert f'<div class="value">{city.volume:g}</div>' in text
    # Sub-regions: the city's counties, with links to their dashboards.
    assert "西湖区" in text and "滨江区" in text and "海曙区" not in text
    assert "region=330106" in text
    # Top and idle stations, open findings, pending reviews.
    assert "西湖区文化站" in text
    assert "西湖区老年大学" in text and "从未活跃" in text
    assert "1 个疑点待核查" in text
    assert "/desk/p/queues/findings" in text
    assert "<svg" in text and "近12周" in text


async def test_trend_reads_the_weekly_tally(desk: DeskClient, seeded: w.World) -> None:
    async with desk.runtime.sessions() as s, s.begin():
        await tally_week(session=s, week="2026-W46", settings=desk.runtime.settings, now=FIXED_NOW)
    page = await desk.get("dashboard", user=w.CITY)
    assert "上周" not in page.text or "上周 0" in page.text  # W47 was not tallied
    assert page.status == 200


async def test_county_sees_its_county_only(desk: DeskClient, seeded: w.World) -> None:
    page = await desk.get("dashboard", user=w.COUNTY)
    assert page.status == 200
    assert "西湖区" in page.text and "滨江区图书馆" not in page.text
    refused = await desk.get("dashboard", user=w.COUNTY, params={"region": "330100"})
    assert refused.status == 403
    async with desk.runtime.sessions() as s:
        entry = (
            (await s.execute(select(AuditLog).where(AuditLog.action == "desk:dashboard")))
            .scalars()
            .one()
        )
    assert entry.allowed is False and entry.region_code == "330100"


async def test_province_and_admin_choose_regions(desk: DeskClient, seeded: w.World) -> None:
    province = await desk.get("dashboard", user=w.PROVINCE)
    assert "浙江省" in province.text and "宁波市" in province.text
    ningbo = await desk.get("dashboard", user=w.PROVINCE, params={"region": "330200"})
    assert ningbo.status == 200 and "海曙区" in ningbo.text
    admin = await desk.get("dashboard", user=w.ADMIN, params={"region": "330106"})
    assert admin.status == 200
    bad = await desk.get("dashboard", user=w.ADMIN, params={"region": "33"})
    assert bad.status == 400 and "不是地区代码" in bad.text


@pytest.mark.parametrize("user", [w.STATION_ADMIN, w.CURATOR])
async def test_dashboard_is_for_coordinators(desk: DeskClient, seeded: w.World, user: int) -> None:
    assert (await desk.get("dashboard", user=user)).status == 403


async def test_english_dashboard(desk: DeskClient, seeded: w.World) -> None:
    async with desk.runtime.sessions() as s, s.begin():
        await desk.person(s, 999, role="coordinator", region_code="330100", language="en")
    page = await desk.get("dashboard", user=999)
    assert page.status == 200
    assert "Propagation volume" in page.text and "this week (Nov 23" in page.text


async def test_one_station_narrowed_query_equals_the_full_one(
    desk: DeskClient, seeded: w.World
) -> None:
    settings: Settings = desk.runtime.settings
    window = Window.week_of(FIXED_NOW.date())
    async with desk.runtime.sessions() as s:
        every = await station_figures(
            session=s, window=window, volume=volume_over(settings.propagation), states=None
        )
        for figures in every:
            (alone,) = await station_figures(
                session=s,
                window=window,
                volume=volume_over(settings.propagation),
                states=None,
                station_ids=[figures.station_id],
            )
            assert alone == figures
    assert any(f.shares for f in every) and any(f.last_active_on for f in every)


async def test_live_week_is_refreshed_in_the_background(
    desk: DeskClient, seeded: w.World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = iter([0.0, 0.0, 100.0, 100.0, 100.0, 100.0, 200.0, 200.0, 200.0])
    monkeypatch.setattr(desk_service, "monotonic", lambda: next(ticks, 5_000.0))
    cache: dict[object, object] = {}
    settings = desk.runtime.settings
    window = Window.week_of(FIXED_NOW.date())

    async def week() -> desk_service.LiveWeek:
        async with desk.runtime.sessions() as s:
            return await desk_service.live_week(
                session=s,
                settings=settings,
                window=window,
                prefixes=["33"],
                now=desk.runtime.now(),
                cache=cache,
                sessions=desk.runtime.sessions,
                clock=desk.runtime.now,
            )

    first = await week()  # computed (t=0), fresh until 60
    async with desk.runtime.sessions() as s, s.begin():
        await w.make_share(
            s,
            informant_id=1,
            station_id=seeded.haishu,
            content_id=1,
            day=FIXED_NOW.date(),
            target="later",
        )
    stale = await week()  # t=100: stale, answered at once, refreshed in the background
    assert stale is first
    tasks = cache["refresh_tasks"]
    assert isinstance(tasks, set) and tasks
    await asyncio.gather(*tasks)
    fresh = await week()
    assert fresh is not first
    assert sum(f.shares for f in fresh.stations) == sum(f.shares for f in first.stations) + 1

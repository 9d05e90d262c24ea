"""Small factories for tests: regions, stations, people."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Person, Region, Station

NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)


async def make_regions(session: AsyncSession) -> None:
    """Add Zhejiang > Hangzhou > Xihu/Binjiang, and Ningbo > Haishu."""
    session.add_all(
        [
            Region(code="330000", name="浙江省", level="province"),
            Region(code="330100", name="杭州市", level="city", parent_code="330000"),
            Region(code="330200", name="宁波市", level="city", parent_code="330000"),
        ]
    )
    await session.flush()
    session.add_all(
        [
            Region(code="330106", name="西湖区", level="county", parent_code="330100"),
            Region(code="330108", name="滨江区", level="county", parent_code="330100"),
            Region(code="330203", name="海曙区", level="county", parent_code="330200"),
        ]
    )
    await session.flush()


async def make_station(
    session: AsyncSession,
    *,
    name: str = "西湖区文化站",
    region: str = "330106",
    status: str = "recognised",
) -> Station:
    station = Station(
        name=name, venue_type="cultural_centre", region_code=region, status=status, created_at=NOW
    )
    session.add(station)
    await session.flush()
    return station


async def make_person(session: AsyncSession, telegram_id: int, name: str = "测试") -> Person:
    person = Person(telegram_id=telegram_id, first_name=name, created_at=NOW)
    session.add(person)
    await session.flush()
    return person

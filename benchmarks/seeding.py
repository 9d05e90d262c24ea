"""Bulk seeding shared by the benchmarks: one recognised station and its informants."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Informant, Person, Region, Station


async def seed_station_with_informants(
    session: AsyncSession, telegram_ids: Sequence[int], now: dt.datetime
) -> int:
    """Insert Zhejiang > Hangzhou > Xihu, one recognised station in Xihu and an informant
    per Telegram id (rows bulk-inserted, no services run); return the station id."""
    await session.execute(
        insert(Region),
        [
            {"code": "330000", "name": "浙江省", "level": "province", "parent_code": None},
            {"code": "330100", "name": "杭州市", "level": "city", "parent_code": "330000"},
            {"code": "330106", "name": "西湖区", "level": "county", "parent_code": "330100"},
        ],
    )
    station = Station(
        name="西湖区文化站",
        venue_type="cultural_centre",
        region_code="330106",
        status="recognised",
        created_at=now,
    )
    session.add(station)
    await session.flush()
    assert station.id is not None
    await session.execute(
        insert(Person),
        [
            {
                "telegram_id": uid,
                "first_name": f"信息员{uid % 100_000}",
                "unreachable": False,
                "created_at": now,
            }
            for uid in telegram_ids
        ],
    )
    people = dict((await session.execute(select(Person.telegram_id, Person.id))).all())
    await session.execute(
        insert(Informant),
        [
            {
                "person_id": people[uid],
                "station_id": station.id,
                "real_name": f"信息员{uid % 100_000}",
                "interests": [],
                "paused": False,
                "joined_at": now,
            }
            for uid in telegram_ids
        ],
    )
    return station.id

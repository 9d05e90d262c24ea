"""Bulk seeding shared by the benchmarks: one recognised station and its informants."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bot.sandbox.factories import bulk_informants, make_region_tree, make_station


async def seed_station_with_informants(
    session: AsyncSession, telegram_ids: Sequence[int], now: dt.datetime
) -> int:
    """Insert Zhejiang > Hangzhou > Xihu, one recognised station in Xihu and an informant
    per Telegram id (rows bulk-inserted, no services run); return the station id."""
    await make_region_tree(session, ("330106",))
    station = await make_station(session, created_at=now)
    assert station.id is not None
    await bulk_informants(session, station_id=station.id, telegram_ids=telegram_ids, now=now)
    return station.id

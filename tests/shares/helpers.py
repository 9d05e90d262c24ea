"""Helpers for the shares tests: a station, informants for simulated users, content."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.sandbox.factories import (
    make_content,
    make_informant,
    make_region_tree,
    make_station,
    person_of,
)
from bot.sandbox.harness import RunningBot
from bot.sandbox.world import SimUser
from bot.services.shares import InformantRef
from storage.models import ShareEvent

PUBLISHED = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


async def add_items(session: AsyncSession, n: int = 2, **kw: Any) -> list[int]:
    """Add ``n`` published articles; return their ids."""
    ids = []
    for i in range(1, n + 1):
        values: dict[str, Any] = {
            "guid": f"test-{i}",
            "title": f"防范电信诈骗{i}",
            "summary": f"第{i}条科普摘要",
            "title_en": f"Fraud {i}",
            "category": "anti_fraud",
            "url": f"https://www.kepuchina.cn/item/{i}",
            "publish_at": PUBLISHED,
            "created_at": PUBLISHED,
        }
        item = await make_content(session, **{**values, **kw})
        assert item.id is not None
        ids.append(item.id)
    return ids


async def add_informant(
    session: AsyncSession, station_id: int, telegram_id: int, name: str = "王秀英"
) -> int:
    """Register a person (the one of ``telegram_id`` if known) as an informant directly."""
    informant = await make_informant(
        session,
        station_id=station_id,
        person=await person_of(session, telegram_id),
        telegram_id=telegram_id,
        real_name=name,
        phone="+8613800000000",
        consent_at=PUBLISHED,
        joined_at=PUBLISHED,
    )
    assert informant.id is not None
    return informant.id


@dataclass
class World:
    """A station with content and informant users."""

    station_id: int
    content_ids: list[int]
    informants: dict[int, int]  # telegram id -> informant id


async def setup_world(bot_env: RunningBot, users: list[SimUser], items: int = 2) -> World:
    """Create regions, a recognised station, items and informants for ``users``."""
    async with bot_env.runtime.sessions() as s, s.begin():
        await make_region_tree(s)
        station = await make_station(s)
        assert station.id is not None
        ids = await add_items(s, items)
        informants = {u.id: await add_informant(s, station.id, u.id, u.first_name) for u in users}
    return World(station.id, ids, informants)


async def shares(bot_env: RunningBot) -> list[ShareEvent]:
    """Return every share event."""
    async with bot_env.runtime.sessions() as s:
        return list((await s.execute(select(ShareEvent).order_by(ShareEvent.id))).scalars())


def ref(informant_id: int, station_id: int, region: str | None = "330106") -> InformantRef:
    """Return an InformantRef."""
    return InformantRef(informant_id, station_id, region, "recognised")

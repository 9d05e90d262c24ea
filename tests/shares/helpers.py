"""Helpers for the shares tests: a station, informants for simulated users, content."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.sandbox.factories import make_region_tree, make_station
from bot.sandbox.harness import RunningBot
from bot.sandbox.world import SimUser
from bot.services.shares import InformantRef
from storage.models import ContentItem, Informant, Person, ShareEvent

PUBLISHED = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def content_item(n: int, **kw: object) -> ContentItem:
    """Return a published article."""
    values: dict[str, object] = {
        "guid": f"test-{n}",
        "title": f"防范电信诈骗{n}",
        "summary": f"第{n}条科普摘要",
        "title_en": f"Fraud {n}",
        "category": "anti_fraud",
        "kind": "article",
        "url": f"https://www.kepuchina.cn/item/{n}",
        "publish_at": PUBLISHED,
        "created_at": PUBLISHED,
    }
    values.update(kw)
    return ContentItem(**values)  # type: ignore[arg-type]


async def add_items(session: AsyncSession, n: int = 2, **kw: object) -> list[int]:
    """Add ``n`` published items; return their ids."""
    items = [content_item(i, **kw) for i in range(1, n + 1)]
    session.add_all(items)
    await session.flush()
    return [int(item.id) for item in items if item.id is not None]


async def add_informant(
    session: AsyncSession, station_id: int, telegram_id: int, name: str = "王秀英"
) -> int:
    """Register a person as an informant directly; return the informant id."""
    person = (
        await session.execute(select(Person).where(Person.telegram_id == telegram_id))
    ).scalar_one_or_none()
    if person is None:
        person = Person(telegram_id=telegram_id, first_name=name, created_at=PUBLISHED)
        session.add(person)
        await session.flush()
    informant = Informant(
        person_id=person.id,
        station_id=station_id,
        real_name=name,
        phone="+8613800000000",
        consent_at=PUBLISHED,
        joined_at=PUBLISHED,
    )
    session.add(informant)
    await session.flush()
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

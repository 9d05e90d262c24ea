"""Subscribed feeds and the entries they carried (which catalogue item each became)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from storage.models import ContentItem, FeedEntry, FeedSource, Person, RoleGrant


@dataclass(frozen=True)
class FeedConfig:
    """A feed as the configuration file declares it."""

    url: str
    name: str
    category: str
    kind: str
    auto_publish: bool
    regions: tuple[str, ...]


async def list_feeds(*, session: AsyncSession, active_only: bool = False) -> list[FeedSource]:
    """Return the feeds, oldest first."""
    stmt = select(FeedSource).order_by(col(FeedSource.id))
    if active_only:
        stmt = stmt.where(col(FeedSource.active).is_(True))
    result = await session.execute(stmt.execution_options(populate_existing=True))
    return list(result.scalars())


async def get_feed(*, session: AsyncSession, feed_id: int) -> FeedSource | None:
    """Return a feed by id."""
    result = await session.execute(
        select(FeedSource)
        .where(col(FeedSource.id) == feed_id)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def get_feed_by_url(*, session: AsyncSession, url: str) -> FeedSource | None:
    """Return the feed subscribed at ``url``, if any."""
    result = await session.execute(select(FeedSource).where(col(FeedSource.url) == url))
    return result.scalar_one_or_none()


async def add_feed(*, session: AsyncSession, feed: FeedSource) -> FeedSource:
    """Store a new feed and return it with its id."""
    session.add(feed)
    await session.flush()
    return feed


async def update_feed(*, session: AsyncSession, feed_id: int, **values: Any) -> None:
    """Change fields of a feed."""
    await session.execute(update(FeedSource).where(col(FeedSource.id) == feed_id).values(**values))


async def sync_config_feeds(
    *, session: AsyncSession, configs: Sequence[FeedConfig], now: dt.datetime
) -> None:
    """Make the stored feeds of origin ``config`` what the configuration says.

    A configured URL a curator added earlier becomes a config feed; a config feed no longer
    configured stops being polled (its entries stay). Validators and status are kept.
    """
    stored = {f.url: f for f in await list_feeds(session=session)}
    wanted = {c.url: c for c in configs}
    for url, config in wanted.items():
        values: dict[str, Any] = {
            "name": config.name,
            "category": config.category,
            "kind": config.kind,
            "auto_publish": config.auto_publish,
            "regions": list(config.regions),
            "origin": "config",
            "active": True,
        }
        feed = stored.get(url)
        if feed is None:
            session.add(FeedSource(url=url, created_at=now, **values))
        elif any(getattr(feed, key) != value for key, value in values.items()):
            assert feed.id is not None
            await update_feed(session=session, feed_id=feed.id, **values)
    for url, feed in stored.items():
        if feed.origin == "config" and feed.active and url not in wanted:
            assert feed.id is not None
            await update_feed(session=session, feed_id=feed.id, active=False)
    await session.flush()


async def known_keys(*, session: AsyncSession, feed_id: int, keys: Iterable[str]) -> set[str]:
    """Return which entry keys this feed has carried before."""
    wanted = list(set(keys))
    if not wanted:
        return set()
    result = await session.execute(
        select(col(FeedEntry.entry_key)).where(
            col(FeedEntry.feed_id) == feed_id, col(FeedEntry.entry_key).in_(wanted)
        )
    )
    return set(result.scalars())


async def carried_item(
    *, session: AsyncSession, keys: Sequence[str], fingerprint: str
) -> int | None:
    """Return the catalogue item another feed brought under one of ``keys`` or the print."""
    wanted = [k for k in keys if k]
    conditions: list[ColumnElement[bool]] = [
        col(FeedEntry.entry_key).in_(wanted),
        col(FeedEntry.link_key).in_(wanted),
    ]
    if fingerprint:
        conditions.append(col(FeedEntry.fingerprint) == fingerprint)
    result = await session.execute(
        select(col(FeedEntry.content_id))
        .where(or_(*conditions), col(FeedEntry.content_id).is_not(None))
        .order_by(col(FeedEntry.id))
        .limit(1)
    )
    return result.scalar_one_or_none()


async def catalogue_item(*, session: AsyncSession, guid: str, url: str) -> int | None:
    """Return the catalogue item with this guid or link (from a pack, a curator, a feed)."""
    result = await session.execute(
        select(col(ContentItem.id))
        .where(or_(col(ContentItem.guid) == guid, col(ContentItem.url) == url))
        .order_by(col(ContentItem.id))
        .limit(1)
    )
    return result.scalar_one_or_none()


async def add_entry(*, session: AsyncSession, entry: FeedEntry) -> None:
    """Record that a feed carried an entry."""
    session.add(entry)
    await session.flush()


async def carriers(*, session: AsyncSession, content_ids: Iterable[int]) -> dict[int, list[str]]:
    """Return, per item, the names of the feeds that carried it, first carrier first."""
    wanted = list(set(content_ids))
    if not wanted:
        return {}
    result = await session.execute(
        select(col(FeedEntry.content_id), col(FeedSource.name))
        .join(FeedSource, col(FeedSource.id) == FeedEntry.feed_id)
        .where(col(FeedEntry.content_id).in_(wanted))
        .order_by(col(FeedEntry.id))
    )
    found: dict[int, list[str]] = {}
    for content_id, name in result.all():
        names = found.setdefault(int(content_id), [])
        if name not in names:
            names.append(name)
    return found


async def entries_of(*, session: AsyncSession, feed_id: int) -> list[FeedEntry]:
    """Return the entries a feed carried, oldest first."""
    result = await session.execute(
        select(FeedEntry).where(col(FeedEntry.feed_id) == feed_id).order_by(col(FeedEntry.id))
    )
    return list(result.scalars())


async def curator_chats(*, session: AsyncSession) -> list[tuple[int, str | None]]:
    """Return each curator's Telegram id and language, once each."""
    result = await session.execute(
        select(col(Person.telegram_id), col(Person.language))
        .join(RoleGrant, col(RoleGrant.person_id) == Person.id)
        .where(col(RoleGrant.role) == "curator", col(Person.unreachable).is_(False))
        .distinct()
        .order_by(col(Person.telegram_id))
    )
    return [(int(tid), language) for tid, language in result.all()]


def counts_by_status(feeds: Iterable[FeedSource]) -> Mapping[str, int]:
    """Return how many feeds are in each status."""
    counts: dict[str, int] = {}
    for feed in feeds:
        counts[feed.status] = counts.get(feed.status, 0) + 1
    return counts

"""Channels linked to regions, and the posts pushed to them with their subscriber counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.db import rowcount
from storage.models import (
    ChannelLink,
    ChannelLinkVisit,
    ChannelPost,
    ContentItem,
    ReachChannel,
    table_of,
)
from storage.upsert import insert_for, insert_ignoring


async def get_channel(*, session: AsyncSession, chat_id: int) -> ReachChannel | None:
    """Return the linked channel with this chat id."""
    result = await session.execute(
        select(ReachChannel)
        .where(col(ReachChannel.chat_id) == chat_id)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def get_channel_by_id(*, session: AsyncSession, channel_id: int) -> ReachChannel | None:
    """Return a linked channel by its row id."""
    return await session.get(ReachChannel, channel_id, populate_existing=True)


async def link_channel(
    *,
    session: AsyncSession,
    chat_id: int,
    region_code: str,
    title: str | None,
    username: str | None,
    invite_link: str | None,
    linked_by: int | None,
    now: dt.datetime,
) -> ReachChannel:
    """Link a channel to a region (a channel already linked moves to the new region)."""
    values = {
        "region_code": region_code,
        "title": title,
        "username": username,
        "invite_link": invite_link,
        "linked_by": linked_by,
        "linked_at": now,
    }
    stmt = insert_for(session, table_of(ReachChannel)).values(chat_id=chat_id, **values)
    stmt = stmt.on_conflict_do_update(index_elements=["chat_id"], set_=values)
    await session.execute(stmt)
    channel = await get_channel(session=session, chat_id=chat_id)
    assert channel is not None
    return channel


async def unlink_channel(*, session: AsyncSession, channel_id: int) -> bool:
    """Remove a channel's link; its posts and their reach stay (they happened)."""
    result = await session.execute(delete(ReachChannel).where(col(ReachChannel.id) == channel_id))
    return bool(rowcount(result))


async def set_invite_link(*, session: AsyncSession, chat_id: int, invite_link: str) -> None:
    """Remember a private channel's invite link."""
    await session.execute(
        update(ReachChannel)
        .where(col(ReachChannel.chat_id) == chat_id)
        .values(invite_link=invite_link)
    )


async def channels_within(
    *, session: AsyncSession, prefixes: Sequence[str] | None
) -> list[ReachChannel]:
    """Return channels whose region starts with one of ``prefixes`` (None: every channel)."""
    stmt = select(ReachChannel).order_by(col(ReachChannel.region_code), col(ReachChannel.id))
    if prefixes is not None:
        if not prefixes:
            return []
        stmt = stmt.where(or_(*(col(ReachChannel.region_code).startswith(p) for p in prefixes)))
    return list((await session.execute(stmt)).scalars())


async def channels_over(
    *, session: AsyncSession, region_codes: Sequence[str]
) -> list[ReachChannel]:
    """Return channels linked to any of ``region_codes`` (a region and its parents)."""
    if not region_codes:
        return []
    result = await session.execute(
        select(ReachChannel)
        .where(col(ReachChannel.region_code).in_(list(region_codes)))
        .order_by(col(ReachChannel.id))
    )
    return list(result.scalars())


async def record_post(
    *,
    session: AsyncSession,
    channel_chat_id: int,
    region_code: str,
    content_id: int,
    push_id: int | None,
    message_id: int,
    subscribers: int | None,
    now: dt.datetime,
) -> bool:
    """Record a sent channel post and its subscriber count once; return whether it was new."""
    stmt = insert_ignoring(
        session, table_of(ChannelPost), ["channel_chat_id", "message_id"]
    ).values(
        channel_chat_id=channel_chat_id,
        region_code=region_code,
        content_id=content_id,
        push_id=push_id,
        message_id=message_id,
        posted_at=now,
        subscribers=subscribers,
        subscribers_at=now if subscribers is not None else None,
    )
    return bool(rowcount(await session.execute(stmt)))


async def post_of(
    *, session: AsyncSession, channel_chat_id: int, message_id: int
) -> ChannelPost | None:
    """Return the post a forward from a channel shows, if the bot posted it."""
    result = await session.execute(
        select(ChannelPost).where(
            col(ChannelPost.channel_chat_id) == channel_chat_id,
            col(ChannelPost.message_id) == message_id,
        )
    )
    return result.scalar_one_or_none()


async def posts_of_push(*, session: AsyncSession, push_id: int) -> list[ChannelPost]:
    """Return the channel posts of one push."""
    result = await session.execute(
        select(ChannelPost)
        .where(col(ChannelPost.push_id) == push_id)
        .order_by(col(ChannelPost.id))
    )
    return list(result.scalars())


MAX_CODE_ATTEMPTS = 5


async def channel_link(
    *,
    session: AsyncSession,
    channel_chat_id: int,
    region_code: str,
    content_id: int,
    new_code: Callable[[], str],
    now: dt.datetime,
) -> str:
    """Return the code of an item's link in a channel, made on first use."""
    for _ in range(MAX_CODE_ATTEMPTS):
        existing = await session.execute(
            select(col(ChannelLink.code)).where(
                col(ChannelLink.channel_chat_id) == channel_chat_id,
                col(ChannelLink.content_id) == content_id,
            )
        )
        code = existing.scalar_one_or_none()
        if code is not None:
            return code
        stmt = (
            insert_for(session, table_of(ChannelLink))
            .values(
                code=new_code(),
                channel_chat_id=channel_chat_id,
                region_code=region_code,
                content_id=content_id,
                created_at=now,
            )
            .on_conflict_do_nothing()
        )
        await session.execute(stmt)  # a code collision inserts nothing: try again
    raise RuntimeError("no free channel link code")


async def channel_link_target(*, session: AsyncSession, code: str) -> tuple[int, str] | None:
    """Return (link id, the item's stored URL) of a channel link code."""
    result = await session.execute(
        select(col(ChannelLink.id), col(ContentItem.url))
        .join(ContentItem, col(ContentItem.id) == col(ChannelLink.content_id))
        .where(col(ChannelLink.code) == code)
    )
    row = result.one_or_none()
    return (int(row[0]), str(row[1])) if row is not None else None


async def record_channel_visit(
    *, session: AsyncSession, link_id: int, day: dt.date, visitor_hash: str, now: dt.datetime
) -> bool:
    """Record a visit once per visitor per link per day; return whether it was new."""
    stmt = insert_ignoring(
        session, table_of(ChannelLinkVisit), ["link_id", "day", "visitor_hash"]
    ).values(link_id=link_id, day=day, visitor_hash=visitor_hash, created_at=now)
    return bool(rowcount(await session.execute(stmt)))

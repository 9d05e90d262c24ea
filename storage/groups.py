"""Telegram groups the bot is in, and who added it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.db import rowcount
from storage.models import GroupChat, table_of
from storage.upsert import insert_for


async def get_group(*, session: AsyncSession, chat_id: int) -> GroupChat | None:
    """Return a group by chat id."""
    result = await session.execute(
        select(GroupChat)
        .where(col(GroupChat.chat_id) == chat_id)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def bot_added(
    *,
    session: AsyncSession,
    chat_id: int,
    title: str | None,
    informant_id: int | None,
    now: dt.datetime,
) -> None:
    """Record that the bot joined a group (again), linked to the informant who added it."""
    values = {"title": title, "informant_id": informant_id, "added_at": now, "removed_at": None}
    stmt = insert_for(session, table_of(GroupChat)).values(chat_id=chat_id, **values)
    stmt = stmt.on_conflict_do_update(index_elements=["chat_id"], set_=values)
    await session.execute(stmt)


async def bot_removed(*, session: AsyncSession, chat_id: int, now: dt.datetime) -> bool:
    """Record that the bot left or was removed from a group; return whether it was known."""
    result = await session.execute(
        update(GroupChat).where(col(GroupChat.chat_id) == chat_id).values(removed_at=now)
    )
    return bool(rowcount(result))


async def set_member_count(
    *, session: AsyncSession, chat_id: int, count: int, now: dt.datetime
) -> None:
    """Cache a group's member count."""
    await session.execute(
        update(GroupChat)
        .where(col(GroupChat.chat_id) == chat_id)
        .values(member_count=count, member_count_at=now)
    )

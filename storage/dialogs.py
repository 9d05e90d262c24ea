"""Conversation state per (chat, user), read and written in the update's transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.db import rowcount
from storage.models import DialogState, table_of
from storage.upsert import insert_for


async def get_dialog(*, session: AsyncSession, chat_id: int, user_id: int) -> DialogState | None:
    """Return the active dialog of a user in a chat."""
    result = await session.execute(
        select(DialogState)
        .where(col(DialogState.chat_id) == chat_id, col(DialogState.user_id) == user_id)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def set_dialog(
    *,
    session: AsyncSession,
    chat_id: int,
    user_id: int,
    flow: str,
    step: str,
    data: dict[str, Any],
    now: dt.datetime,
) -> None:
    """Create or replace the dialog state."""
    values = {"flow": flow, "step": step, "data": data, "updated_at": now}
    stmt = insert_for(session, table_of(DialogState)).values(
        chat_id=chat_id, user_id=user_id, **values
    )
    await session.execute(
        stmt.on_conflict_do_update(index_elements=["chat_id", "user_id"], set_=values)
    )


async def clear_dialog(*, session: AsyncSession, chat_id: int, user_id: int) -> bool:
    """End the dialog; return whether there was one."""
    result = await session.execute(
        delete(DialogState).where(
            col(DialogState.chat_id) == chat_id, col(DialogState.user_id) == user_id
        )
    )
    return bool(rowcount(result))


async def purge_idle(*, session: AsyncSession, before: dt.datetime) -> int:
    """Delete dialogs last touched before ``before`` (long timed out); return how many."""
    result = await session.execute(delete(DialogState).where(col(DialogState.updated_at) < before))
    return rowcount(result) or 0


async def clear_user_dialogs(*, session: AsyncSession, user_id: int) -> int:
    """End every dialog of a user (used when erasing personal data)."""
    result = await session.execute(delete(DialogState).where(col(DialogState.user_id) == user_id))
    return rowcount(result) or 0

"""The durable update inbox: store before acknowledging, process exactly once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboxUpdate
from storage.upsert import insert_for


async def store_updates(
    *, session: AsyncSession, payloads: Iterable[dict[str, Any]], now: dt.datetime
) -> int:
    """Store raw updates, ignoring ones already stored; return how many were new."""
    rows = [
        {"update_id": int(p["update_id"]), "payload": p, "status": "pending", "attempts": 0,
         "received_at": now}
        for p in payloads
    ]
    if not rows:
        return 0
    stmt = (
        insert_for(session, InboxUpdate.__table__)
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(InboxUpdate.__table__.c.update_id)
    )
    # RETURNING, not rowcount: drivers disagree on rowcount for executemany.
    result = await session.execute(stmt, rows)
    return len(result.all())


async def claim_pending(
    *, session: AsyncSession, now: dt.datetime, limit: int
) -> Sequence[InboxUpdate]:
    """Lock and return due pending updates in order; other processes skip locked rows."""
    stmt = (
        select(InboxUpdate)
        .where(
            InboxUpdate.status == "pending",
            or_(InboxUpdate.next_attempt_at.is_(None), InboxUpdate.next_attempt_at <= now),  # type: ignore[union-attr]
        )
        .order_by(InboxUpdate.update_id)
        .limit(limit)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    result = await session.execute(stmt)
    return result.scalars().all()


async def count_by_status(*, session: AsyncSession) -> dict[str, int]:
    """Return how many updates are in each state."""
    result = await session.execute(
        select(InboxUpdate.status, func.count()).group_by(InboxUpdate.status)
    )
    return {status: count for status, count in result.all()}


async def get_update(*, session: AsyncSession, update_id: int) -> InboxUpdate | None:
    """Return one stored update."""
    return await session.get(InboxUpdate, update_id)


async def next_due_at(*, session: AsyncSession) -> dt.datetime | None:
    """Return when the earliest postponed pending update becomes due."""
    result = await session.execute(
        select(func.min(InboxUpdate.next_attempt_at)).where(InboxUpdate.status == "pending")
    )
    return result.scalar_one_or_none()


async def purge_done(*, session: AsyncSession, before: dt.datetime) -> int:
    """Delete processed updates older than ``before``; parked ones stay for inspection."""
    result = await session.execute(
        delete(InboxUpdate).where(
            InboxUpdate.status == "done", InboxUpdate.processed_at < before  # type: ignore[operator]
        )
    )
    return result.rowcount or 0

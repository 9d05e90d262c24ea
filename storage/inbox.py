"""The durable update inbox: store before acknowledging, process exactly once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.db import rowcount
from storage.models import InboxUpdate, table_of
from storage.upsert import insert_for


async def store_updates(
    *, session: AsyncSession, payloads: Iterable[dict[str, Any]], now: dt.datetime
) -> int:
    """Store raw updates, ignoring ones already stored; return how many were new."""
    rows = [
        {
            "update_id": int(p["update_id"]),
            "payload": p,
            "status": "pending",
            "attempts": 0,
            "received_at": now,
        }
        for p in payloads
    ]
    if not rows:
        return 0
    stmt = (
        insert_for(session, table_of(InboxUpdate))
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(table_of(InboxUpdate).c.update_id)
    )
    # RETURNING, not rowcount: drivers disagree on rowcount for executemany.
    result = await session.execute(stmt, rows)
    return len(result.all())


@dataclass(frozen=True)
class ClaimedUpdate:
    """A pending update taken for processing (plain values, no ORM object to track)."""

    update_id: int
    payload: dict[str, Any]
    attempts: int


_table = table_of(InboxUpdate)


async def claim_pending(
    *, session: AsyncSession, now: dt.datetime, limit: int
) -> list[ClaimedUpdate]:
    """Lock and return due pending updates in order; other processes skip locked rows."""
    c = _table.c
    stmt = (
        select(c.update_id, c.payload, c.attempts)
        .where(
            c.status == "pending",
            or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now),
        )
        .order_by(c.update_id)
        .limit(limit)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    result = await session.execute(stmt)
    return [ClaimedUpdate(int(u), p, int(a)) for u, p, a in result.all()]


async def mark_done(*, session: AsyncSession, update_ids: Sequence[int], now: dt.datetime) -> None:
    """Mark processed updates done in one statement."""
    if not update_ids:
        return
    c = _table.c
    await session.execute(
        update(_table)
        .where(c.update_id.in_(list(update_ids)))
        .values(status="done", processed_at=now, last_error=None)
    )


async def mark_failed(
    *,
    session: AsyncSession,
    update_id: int,
    attempts: int,
    error: str,
    now: dt.datetime,
    retry_at: dt.datetime | None,
) -> None:
    """Record a failed try: due again at ``retry_at``, or parked when it is None."""
    values: dict[str, Any] = {"attempts": attempts, "last_error": error[:2000]}
    if retry_at is None:
        values.update(status="parked", processed_at=now)
    else:
        values.update(next_attempt_at=retry_at)
    await session.execute(update(_table).where(_table.c.update_id == update_id).values(**values))


async def count_by_status(*, session: AsyncSession) -> dict[str, int]:
    """Return how many updates are in each state."""
    result = await session.execute(
        select(col(InboxUpdate.status), func.count()).group_by(col(InboxUpdate.status))
    )
    return {status: count for status, count in result.all()}


async def get_update(*, session: AsyncSession, update_id: int) -> InboxUpdate | None:
    """Return one stored update."""
    return await session.get(InboxUpdate, update_id)


async def next_due_at(*, session: AsyncSession) -> dt.datetime | None:
    """Return when the earliest postponed pending update becomes due."""
    result = await session.execute(
        select(func.min(col(InboxUpdate.next_attempt_at))).where(
            col(InboxUpdate.status) == "pending"
        )
    )
    return result.scalar_one_or_none()


async def purge_done(*, session: AsyncSession, before: dt.datetime) -> int:
    """Delete processed updates older than ``before``; parked ones stay for inspection."""
    result = await session.execute(
        delete(InboxUpdate).where(
            col(InboxUpdate.status) == "done", col(InboxUpdate.processed_at) < before
        )
    )
    return rowcount(result) or 0

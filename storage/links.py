"""Tracked short links and their verified visits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import ContentItem, LinkVisit, TrackedLink, table_of
from storage.upsert import insert_for, insert_ignoring

MAX_CODE_ATTEMPTS = 5
VISITOR_CHUNK = 500  # visitor hashes per lookup (SQLite's bound-parameter limit)


class CodeSpaceExhausted(RuntimeError):
    """Several random codes in a row collided: the code length is too short."""


async def get_link(
    *, session: AsyncSession, informant_id: int, content_id: int, channel: str
) -> TrackedLink | None:
    """Return the link of an informant, item and channel, if it exists."""
    result = await session.execute(
        select(TrackedLink).where(
            col(TrackedLink.informant_id) == informant_id,
            col(TrackedLink.content_id) == content_id,
            col(TrackedLink.channel) == channel,
        )
    )
    return result.scalar_one_or_none()


async def get_or_create_link(
    *,
    session: AsyncSession,
    informant_id: int,
    content_id: int,
    channel: str,
    new_code: Callable[[], str],
    now: dt.datetime,
) -> TrackedLink:
    """Return the link of an informant, item and channel, creating it with a fresh code."""
    existing = await get_link(
        session=session, informant_id=informant_id, content_id=content_id, channel=channel
    )
    if existing is not None:
        return existing
    table = table_of(TrackedLink)
    for _ in range(MAX_CODE_ATTEMPTS):
        # Insert-or-ignore covers both races: another process creating the same owner's
        # link (then we read theirs) and a random code collision (then we try again).
        stmt = (
            insert_for(session, table)
            .values(
                code=new_code(),
                informant_id=informant_id,
                content_id=content_id,
                channel=channel,
                created_at=now,
            )
            .on_conflict_do_nothing()
        )
        await session.execute(stmt)
        link = await get_link(
            session=session, informant_id=informant_id, content_id=content_id, channel=channel
        )
        if link is not None:
            return link
    raise CodeSpaceExhausted("could not find a free tracked-link code")


async def target_of(*, session: AsyncSession, code: str) -> tuple[int, str] | None:
    """Return (link id, the item's catalogue URL) for a code, or None when unknown."""
    result = await session.execute(
        select(col(TrackedLink.id), col(ContentItem.url))
        .join(ContentItem, col(ContentItem.id) == TrackedLink.content_id)
        .where(col(TrackedLink.code) == code)
    )
    row = result.first()
    return (int(row[0]), str(row[1])) if row is not None else None


async def record_visit(
    *, session: AsyncSession, link_id: int, day: dt.date, visitor_hash: str, now: dt.datetime
) -> bool:
    """Count a visit unless this visitor already visited the link that day."""
    stmt = (
        insert_ignoring(session, table_of(LinkVisit), ["link_id", "day", "visitor_hash"])
        .values(link_id=link_id, day=day, visitor_hash=visitor_hash, created_at=now)
        .returning(table_of(LinkVisit).c.id)
    )
    result = await session.execute(stmt)
    return result.first() is not None


async def _visited(
    *, session: AsyncSession, keys: set[tuple[object, object]]
) -> set[tuple[object, object, object]]:
    """Return the (link_id, day, visitor_hash) already stored for the (day, visitor) keys."""
    found: set[tuple[object, object, object]] = set()
    days = {day for day, _ in keys}
    hashes = sorted({str(visitor) for _, visitor in keys})
    for start in range(0, len(hashes), VISITOR_CHUNK):
        result = await session.execute(
            select(col(LinkVisit.link_id), col(LinkVisit.day), col(LinkVisit.visitor_hash)).where(
                col(LinkVisit.day).in_(days),
                col(LinkVisit.visitor_hash).in_(hashes[start : start + VISITOR_CHUNK]),
            )
        )
        found.update((row[0], row[1], row[2]) for row in result.all())
    return found


def _within_cap(
    rows: list[dict[str, object]], stored: set[tuple[object, object, object]], cap: int
) -> list[dict[str, object]]:
    """Keep the rows that are new and leave each visitor at most ``cap`` links a day."""
    used: dict[tuple[object, object], int] = {}
    for _, day, visitor in stored:
        used[(day, visitor)] = used.get((day, visitor), 0) + 1
    kept = []
    for row in rows:
        key = (row["day"], row["visitor_hash"])
        if (row["link_id"], *key) in stored or used.get(key, 0) >= cap:
            continue
        used[key] = used.get(key, 0) + 1
        stored.add((row["link_id"], *key))
        kept.append(row)
    return kept


async def record_visits(
    *, session: AsyncSession, rows: list[dict[str, object]], daily_cap: int | None = None
) -> int:
    """Insert visits (link_id, day, visitor_hash, created_at), ignoring repeats; return new.

    With ``daily_cap``, a visitor counts on at most that many links a day (across links).
    """
    if rows and daily_cap is not None:
        keys = {(row["day"], row["visitor_hash"]) for row in rows}
        rows = _within_cap(rows, await _visited(session=session, keys=keys), daily_cap)
    if not rows:
        return 0
    stmt = insert_ignoring(
        session, table_of(LinkVisit), ["link_id", "day", "visitor_hash"]
    ).returning(table_of(LinkVisit).c.id)
    result = await session.execute(stmt, rows)
    return len(result.all())


async def visit_count(*, session: AsyncSession, informant_id: int) -> int:
    """Return how many visits to an informant's tracked links are held (for /mydata)."""
    stmt = (
        select(func.count())
        .select_from(LinkVisit)
        .join(TrackedLink, col(TrackedLink.id) == LinkVisit.link_id)
        .where(col(TrackedLink.informant_id) == informant_id)
    )
    return int((await session.execute(stmt)).scalar_one())

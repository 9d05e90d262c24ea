"""Announcements and their recipients: station admins and informants of a region."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import Announcement, Informant, Person, Push, RoleGrant, Station


@dataclass(frozen=True)
class Recipient:
    """One person an announcement reaches, with their language and quiet hours."""

    telegram_id: int
    language: str | None
    quiet_start: dt.time | None
    quiet_end: dt.time | None


def _in_regions(prefixes: Sequence[str]) -> list[object]:
    if not prefixes:
        return []
    return [or_(*(col(Station.region_code).startswith(p) for p in prefixes))]


async def station_admins(
    *, session: AsyncSession, region_prefixes: Sequence[str] = ()
) -> list[Recipient]:
    """Return reachable admins of stations under the prefixes (their informant quiet hours)."""
    stmt = (
        select(
            col(Person.telegram_id),
            col(Person.language),
            col(Informant.quiet_start),
            col(Informant.quiet_end),
        )
        .select_from(RoleGrant)
        .join(Person, col(Person.id) == RoleGrant.person_id)
        .join(Station, col(Station.id) == RoleGrant.station_id)
        .outerjoin(
            Informant,
            and_(col(Informant.person_id) == Person.id, col(Informant.removed_at).is_(None)),
        )
        .where(
            col(RoleGrant.role) == "station_admin",
            col(Person.unreachable).is_(False),
            *_in_regions(region_prefixes),  # type: ignore[arg-type]
        )
        .order_by(col(Person.telegram_id))
    )
    seen: dict[int, Recipient] = {}
    for telegram_id, language, quiet_start, quiet_end in (await session.execute(stmt)).all():
        seen.setdefault(
            int(telegram_id), Recipient(int(telegram_id), language, quiet_start, quiet_end)
        )
    return list(seen.values())


async def add(*, session: AsyncSession, announcement: Announcement) -> Announcement:
    """Store an announcement and return it with its id."""
    session.add(announcement)
    await session.flush()
    return announcement


async def get(*, session: AsyncSession, announcement_id: int) -> Announcement | None:
    """Return an announcement by id."""
    return await session.get(Announcement, announcement_id)


async def by_push(*, session: AsyncSession, push_id: int) -> Announcement | None:
    """Return the announcement a push delivers."""
    result = await session.execute(
        select(Announcement).where(col(Announcement.push_id) == push_id)
    )
    return result.scalar_one_or_none()


async def due_pushes(*, session: AsyncSession, since: dt.datetime, now: dt.datetime) -> list[Push]:
    """Return the pushes of announcements created since ``since`` and due by ``now``."""
    result = await session.execute(
        select(Push)
        .join(Announcement, col(Announcement.push_id) == Push.id)
        .where(col(Announcement.created_at) >= since, col(Announcement.send_at) <= now)
        .order_by(col(Push.id))
        .execution_options(populate_existing=True)
    )
    return list(result.scalars())

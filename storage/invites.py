"""Invite links of stations: create, find, count uses, revoke."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.db import rowcount
from storage.models import InviteLink


async def create_invite(
    *,
    session: AsyncSession,
    station_id: int,
    payload: str,
    created_by: int | None,
    now: dt.datetime,
    expires_at: dt.datetime | None = None,
    max_uses: int | None = None,
    purpose: str = "informant",
) -> InviteLink:
    """Store a new invite link (``purpose``: informant or coadmin)."""
    invite = InviteLink(
        purpose=purpose,
        station_id=station_id,
        payload=payload,
        created_by=created_by,
        created_at=now,
        expires_at=expires_at,
        max_uses=max_uses,
    )
    session.add(invite)
    await session.flush()
    return invite


async def get_by_payload(*, session: AsyncSession, payload: str) -> InviteLink | None:
    """Return the invite with this payload, if any."""
    result = await session.execute(
        select(InviteLink)
        .where(col(InviteLink.payload) == payload)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def list_for_station(
    *, session: AsyncSession, station_id: int, purpose: str = "informant"
) -> Sequence[InviteLink]:
    """Return every invite of a station with this purpose, newest first."""
    result = await session.execute(
        select(InviteLink)
        .where(col(InviteLink.station_id) == station_id, col(InviteLink.purpose) == purpose)
        .order_by(col(InviteLink.id).desc())
    )
    return result.scalars().all()


async def usable_invite(
    *, session: AsyncSession, station_id: int, now: dt.datetime, purpose: str = "informant"
) -> InviteLink | None:
    """Return the newest invite of a station with this purpose that still works, if any."""
    result = await session.execute(
        select(InviteLink)
        .where(
            col(InviteLink.station_id) == station_id,
            col(InviteLink.purpose) == purpose,
            col(InviteLink.revoked_at).is_(None),
            or_(col(InviteLink.expires_at).is_(None), col(InviteLink.expires_at) > now),
            or_(col(InviteLink.max_uses).is_(None), col(InviteLink.uses) < InviteLink.max_uses),
        )
        .order_by(col(InviteLink.id).desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def count_use(*, session: AsyncSession, invite_id: int) -> bool:
    """Add one use unless the limit is reached; return whether it was counted."""
    result = await session.execute(
        update(InviteLink)
        .where(
            col(InviteLink.id) == invite_id,
            or_(col(InviteLink.max_uses).is_(None), col(InviteLink.uses) < InviteLink.max_uses),
        )
        .values(uses=col(InviteLink.uses) + 1)
    )
    return bool(rowcount(result))


async def revoke(*, session: AsyncSession, invite_id: int, now: dt.datetime) -> bool:
    """Revoke one invite; return whether it was still active."""
    result = await session.execute(
        update(InviteLink)
        .where(col(InviteLink.id) == invite_id, col(InviteLink.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    return bool(rowcount(result))


async def revoke_station_invites(
    *, session: AsyncSession, station_id: int, now: dt.datetime, purpose: str = "informant"
) -> int:
    """Revoke every active invite of a station with this purpose; return how many."""
    result = await session.execute(
        update(InviteLink)
        .where(
            col(InviteLink.station_id) == station_id,
            col(InviteLink.purpose) == purpose,
            col(InviteLink.revoked_at).is_(None),
        )
        .values(revoked_at=now)
    )
    return rowcount(result) or 0


async def active_for_stations(
    *, session: AsyncSession, station_ids: Sequence[int], now: dt.datetime, purpose: str
) -> Sequence[InviteLink]:
    """Return the working invites of ``purpose`` of these stations, newest first."""
    if not station_ids:
        return []
    result = await session.execute(
        select(InviteLink)
        .where(
            col(InviteLink.station_id).in_(station_ids),
            col(InviteLink.purpose) == purpose,
            col(InviteLink.revoked_at).is_(None),
            or_(col(InviteLink.expires_at).is_(None), col(InviteLink.expires_at) > now),
            or_(col(InviteLink.max_uses).is_(None), col(InviteLink.uses) < InviteLink.max_uses),
        )
        .order_by(col(InviteLink.id).desc())
    )
    return result.scalars().all()

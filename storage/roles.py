"""Role grants scoped to a region or a station."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.db import rowcount
from storage.models import Person, RoleGrant


def scope_key(region_code: str | None, station_id: int | None) -> str:
    """Return the unique-constraint key of a grant's scope."""
    if station_id is not None:
        return f"s:{station_id}"
    if region_code is not None:
        return f"r:{region_code}"
    return ""


async def grant_role(
    *,
    session: AsyncSession,
    person_id: int,
    role: str,
    region_code: str | None = None,
    station_id: int | None = None,
    granted_by: int | None = None,
    now: dt.datetime,
) -> tuple[RoleGrant, bool]:
    """Grant a role; return the grant and whether it was new."""
    key = scope_key(region_code, station_id)
    existing = (
        await session.execute(
            select(RoleGrant).where(
                col(RoleGrant.person_id) == person_id,
                col(RoleGrant.role) == role,
                col(RoleGrant.scope_key) == key,
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing, False
    grant = RoleGrant(
        person_id=person_id,
        role=role,
        region_code=region_code,
        station_id=station_id,
        scope_key=key,
        granted_by=granted_by,
        granted_at=now,
    )
    session.add(grant)
    await session.flush()
    return grant, True


async def revoke_role(
    *,
    session: AsyncSession,
    person_id: int,
    role: str,
    region_code: str | None = None,
    station_id: int | None = None,
) -> int:
    """Revoke a role; return how many grants were removed (0 or 1)."""
    result = await session.execute(
        delete(RoleGrant).where(
            col(RoleGrant.person_id) == person_id,
            col(RoleGrant.role) == role,
            col(RoleGrant.scope_key) == scope_key(region_code, station_id),
        )
    )
    return rowcount(result) or 0


async def roles_of(*, session: AsyncSession, person_id: int) -> Sequence[RoleGrant]:
    """Return every grant the person holds."""
    result = await session.execute(
        select(RoleGrant).where(col(RoleGrant.person_id) == person_id).order_by(col(RoleGrant.id))
    )
    return result.scalars().all()


async def list_grants(
    *, session: AsyncSession, role: str | None = None
) -> Sequence[tuple[RoleGrant, Person]]:
    """Return all grants with their holders, optionally of one role."""
    stmt = select(RoleGrant, Person).join(Person, col(Person.id) == RoleGrant.person_id)
    if role is not None:
        stmt = stmt.where(col(RoleGrant.role) == role)
    result = await session.execute(stmt.order_by(col(RoleGrant.role), col(Person.telegram_id)))
    return [(grant, person) for grant, person in result.all()]


async def holders_of(
    *, session: AsyncSession, role: str, region_codes: Sequence[str]
) -> Sequence[Person]:
    """Return people holding ``role`` in any of ``region_codes``."""
    result = await session.execute(
        select(Person)
        .join(RoleGrant, col(RoleGrant.person_id) == Person.id)
        .where(col(RoleGrant.role) == role, col(RoleGrant.region_code).in_(region_codes))
    )
    return result.scalars().unique().all()


async def revoke_all(*, session: AsyncSession, person_id: int) -> int:
    """Remove every grant the person holds; return how many."""
    result = await session.execute(delete(RoleGrant).where(col(RoleGrant.person_id) == person_id))
    return rowcount(result) or 0

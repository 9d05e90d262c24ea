"""Regions (GB/T 2260): province > city > county."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import Region


@dataclass(frozen=True)
class RegionValues:
    """The columns of one region to store."""

    code: str
    name: str
    name_en: str | None
    level: str
    parent_code: str | None


async def get_region(*, session: AsyncSession, code: str) -> Region | None:
    """Return the region with ``code``."""
    return await session.get(Region, code)


async def get_regions(*, session: AsyncSession, codes: Sequence[str]) -> dict[str, Region]:
    """Return the regions with ``codes``, by code."""
    if not codes:
        return {}
    result = await session.execute(select(Region).where(col(Region.code).in_(codes)))
    return {region.code: region for region in result.scalars()}


async def children(*, session: AsyncSession, parent_code: str | None) -> Sequence[Region]:
    """Return the regions directly under ``parent_code`` (provinces when None), by code."""
    stmt = select(Region)
    if parent_code is None:
        stmt = stmt.where(col(Region.parent_code).is_(None))
    else:
        stmt = stmt.where(col(Region.parent_code) == parent_code)
    result = await session.execute(stmt.order_by(col(Region.code)))
    return result.scalars().all()


async def child_counts(*, session: AsyncSession, parent_codes: Sequence[str]) -> dict[str, int]:
    """Return how many regions lie directly under each of ``parent_codes``."""
    if not parent_codes:
        return {}
    result = await session.execute(
        select(col(Region.parent_code), func.count())
        .where(col(Region.parent_code).in_(parent_codes))
        .group_by(col(Region.parent_code))
    )
    return {str(code): int(n) for code, n in result.all()}


async def any_region(*, session: AsyncSession) -> bool:
    """Tell whether any region has been imported."""
    return (await session.execute(select(col(Region.code)).limit(1))).first() is not None


async def known_levels(*, session: AsyncSession) -> dict[str, str]:
    """Return every stored code with its level."""
    result = await session.execute(select(col(Region.code), col(Region.level)))
    return {code: level for code, level in result.all()}


async def ancestors(*, session: AsyncSession, code: str) -> list[Region]:
    """Return the region and its ancestors, the region first."""
    chain: list[Region] = []
    current: str | None = code
    while current is not None and len(chain) < 4:
        region = await session.get(Region, current)
        if region is None:
            break
        chain.append(region)
        current = region.parent_code
    return chain


async def upsert_regions(
    *, session: AsyncSession, rows: Sequence[RegionValues]
) -> tuple[int, int, int]:
    """Insert new regions and update changed ones, parents first; return (new, changed, same)."""
    existing = await get_regions(session=session, codes=[row.code for row in rows])
    new = changed = same = 0
    # One flush per level: parents are stored before the children that point at them.
    for level in Region.LEVELS:
        for row in (r for r in rows if r.level == level):
            region = existing.get(row.code)
            if region is None:
                session.add(
                    Region(
                        code=row.code,
                        name=row.name,
                        name_en=row.name_en or None,
                        level=row.level,
                        parent_code=row.parent_code,
                    )
                )
                new += 1
                continue
            values = (row.name, row.name_en or None, row.level, row.parent_code)
            if (region.name, region.name_en, region.level, region.parent_code) == values:
                same += 1
                continue
            region.name, region.name_en, region.level, region.parent_code = values
            changed += 1
        await session.flush()
    return new, changed, same


async def named(*, session: AsyncSession, names: Sequence[str]) -> Sequence[Region]:
    """Return the regions whose Chinese or English name is one of ``names`` (exact)."""
    if not names:
        return []
    result = await session.execute(
        select(Region)
        .where(col(Region.name).in_(names) | func.lower(col(Region.name_en)).in_(names))
        .order_by(col(Region.code))
    )
    return result.scalars().all()

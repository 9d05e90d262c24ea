"""Stations, their five-haves evidence, review records and integrity flags."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.db import rowcount
from storage.models import (
    IntegrityFlag,
    Person,
    RoleGrant,
    Station,
    StationEvidence,
    StationReview,
)

OPEN_APPLICATION_STATES = ("draft", "rejected", "submitted", "county_approved")


async def get_station(*, session: AsyncSession, station_id: int) -> Station | None:
    """Return the station with ``station_id``."""
    return await session.get(Station, station_id)


async def add_station(*, session: AsyncSession, station: Station) -> Station:
    """Store a new station and return it with its id."""
    session.add(station)
    await session.flush()
    return station


async def open_application(*, session: AsyncSession, applicant_id: int) -> Station | None:
    """Return the applicant's newest application that is not decided yet."""
    result = await session.execute(
        select(Station)
        .where(
            col(Station.applicant_id) == applicant_id,
            col(Station.status).in_(OPEN_APPLICATION_STATES),
        )
        .order_by(col(Station.id).desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def find_station(
    *, session: AsyncSession, external_ref: str | None, name: str, region_code: str
) -> Station | None:
    """Find a station by external reference, else by name within its region."""
    if external_ref:
        result = await session.execute(
            select(Station).where(col(Station.external_ref) == external_ref).limit(1)
        )
        found = result.scalar_one_or_none()
        if found is not None:
            return found
    result = await session.execute(
        select(Station)
        .where(col(Station.name) == name, col(Station.region_code) == region_code)
        .order_by(col(Station.id))
        .limit(1)
    )
    return result.scalar_one_or_none()


async def list_stations(
    *,
    session: AsyncSession,
    statuses: Sequence[str] | None = None,
    region_prefixes: Sequence[str] | None = None,
    region_codes: Sequence[str] | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Sequence[Station]:
    """Return stations filtered by status and region (prefixes or exact codes), oldest first.

    The order (submission time, then id) is total, so ``offset`` pages never overlap.
    """
    stmt = select(Station)
    if statuses is not None:
        stmt = stmt.where(col(Station.status).in_(statuses))
    conditions: list[Any] = []
    for prefix in region_prefixes or ():
        conditions.append(col(Station.region_code).startswith(prefix))
    if region_codes:
        conditions.append(col(Station.region_code).in_(region_codes))
    if region_prefixes is not None or region_codes is not None:
        if not conditions:
            return []
        stmt = stmt.where(or_(*conditions))
    result = await session.execute(
        stmt.order_by(col(Station.submitted_at), col(Station.id))
        .offset(max(offset, 0))
        .limit(limit)
    )
    return result.scalars().all()


async def status_counts(
    *, session: AsyncSession, region_prefixes: Sequence[str] | None = None
) -> dict[str, int]:
    """Return how many stations are in each status (inside the regions, when given)."""
    stmt = select(col(Station.status), func.count()).group_by(col(Station.status))
    if region_prefixes is not None:
        if not region_prefixes:
            return {}
        stmt = stmt.where(or_(*(col(Station.region_code).startswith(p) for p in region_prefixes)))
    result = await session.execute(stmt)
    return {status: int(n) for status, n in result.all()}


async def evidence_of(*, session: AsyncSession, station_id: int) -> Sequence[StationEvidence]:
    """Return a station's evidence in the order it was given."""
    result = await session.execute(
        select(StationEvidence)
        .where(col(StationEvidence.station_id) == station_id)
        .order_by(col(StationEvidence.id))
    )
    return result.scalars().all()


async def add_evidence(
    *,
    session: AsyncSession,
    station_id: int,
    have: str,
    text: str | None,
    file_id: str | None,
    file_unique_id: str | None,
    now: dt.datetime,
) -> StationEvidence:
    """Store one piece of evidence."""
    row = StationEvidence(
        station_id=station_id,
        have=have,
        text=text,
        file_id=file_id,
        file_unique_id=file_unique_id,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def clear_evidence(*, session: AsyncSession, station_id: int, have: str) -> int:
    """Delete the evidence of one have; return how many rows went."""
    result = await session.execute(
        delete(StationEvidence).where(
            col(StationEvidence.station_id) == station_id, col(StationEvidence.have) == have
        )
    )
    return rowcount(result) or 0


async def add_review(*, session: AsyncSession, review: StationReview) -> StationReview:
    """Store a review decision."""
    session.add(review)
    await session.flush()
    return review


async def reviews_of(*, session: AsyncSession, station_id: int) -> Sequence[StationReview]:
    """Return a station's review records, oldest first."""
    result = await session.execute(
        select(StationReview)
        .where(col(StationReview.station_id) == station_id)
        .order_by(col(StationReview.id))
    )
    return result.scalars().all()


async def submissions_since(
    *, session: AsyncSession, region_code: str, since: dt.datetime
) -> Sequence[int]:
    """Return ids of stations of a region submitted at or after ``since``."""
    result = await session.execute(
        select(col(Station.id))
        .where(
            col(Station.region_code) == region_code,
            col(Station.submitted_at) >= since,
            col(Station.status) != "draft",
        )
        .order_by(col(Station.id))
    )
    return [int(cast(int, i)) for i in result.scalars()]


async def recent_flag(
    *, session: AsyncSession, kind: str, region_code: str, since: dt.datetime
) -> IntegrityFlag | None:
    """Return an unresolved flag of ``kind`` for the region raised at or after ``since``."""
    result = await session.execute(
        select(IntegrityFlag)
        .where(
            col(IntegrityFlag.kind) == kind,
            col(IntegrityFlag.region_code) == region_code,
            col(IntegrityFlag.created_at) >= since,
            col(IntegrityFlag.resolved_at).is_(None),
        )
        .limit(1)
    )
    return result.scalar_one_or_none()


async def add_flag(*, session: AsyncSession, flag: IntegrityFlag) -> IntegrityFlag:
    """Store an integrity flag."""
    session.add(flag)
    await session.flush()
    return flag


async def rectifications_due(*, session: AsyncSession, until: dt.date) -> Sequence[Station]:
    """Return stations in rectification whose deadline is on or before ``until``."""
    result = await session.execute(
        select(Station)
        .where(
            col(Station.status) == "rectifying",
            col(Station.rectify_deadline) <= until,
        )
        .order_by(col(Station.rectify_deadline), col(Station.id))
    )
    return result.scalars().all()


async def station_admins(*, session: AsyncSession, station_id: int) -> Sequence[Person]:
    """Return the people who administer a station."""
    result = await session.execute(
        select(Person)
        .join(RoleGrant, col(RoleGrant.person_id) == Person.id)
        .where(col(RoleGrant.role) == "station_admin", col(RoleGrant.station_id) == station_id)
        .order_by(col(Person.id))
    )
    return result.scalars().unique().all()


async def get_evidence(*, session: AsyncSession, evidence_id: int) -> StationEvidence | None:
    """Return one piece of evidence (the desk's evidence thumbnails)."""
    return await session.get(StationEvidence, evidence_id)

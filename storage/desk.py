"""Reads for the coordinator's desk (docs/desk.md): lists and a station's history.

Figures come from ``storage.figures`` (the one definition: ``station_figures`` for a live
window, the weekly tally for past weeks); this module fetches the rows around them,
set-based (no query per row).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.figures import Window, region_filter
from storage.models import (
    Activity,
    ActivityPhoto,
    AuditLog,
    ContentItem,
    ContentUse,
    EvaluationProposal,
    Informant,
    IntegrityFlag,
    Person,
    Region,
    Station,
    StationReview,
    WeeklyStationTally,
)


@dataclass(frozen=True)
class StationEntry:
    """A station as the desk lists it: who it is and its marks (no figures)."""

    station_id: int
    name: str
    region_code: str
    status: str
    open_findings: int


async def informant_counts(*, session: AsyncSession, station_ids: Sequence[int]) -> dict[int, int]:
    """Return station id → its current (consented, not removed) informants."""
    if not station_ids:
        return {}
    stmt = (
        select(col(Informant.station_id), func.count())
        .where(
            col(Informant.station_id).in_(list(station_ids)),
            col(Informant.removed_at).is_(None),
            col(Informant.consent_at).is_not(None),
        )
        .group_by(col(Informant.station_id))
    )
    return {int(k): int(n) for k, n in (await session.execute(stmt)).all()}


def _open_finding_counts() -> Any:
    return (
        select(col(IntegrityFlag.station_id).label("k"), func.count().label("n"))
        .where(col(IntegrityFlag.status) == "open", col(IntegrityFlag.station_id).is_not(None))
        .group_by(col(IntegrityFlag.station_id))
        .subquery("opn")
    )


async def stations_in_scope(
    *,
    session: AsyncSession,
    prefixes: Sequence[str] | None,
    station_ids: Sequence[int] | None = None,
) -> list[StationEntry]:
    """Return every station (any status) in the regions / among the ids, by name and id."""
    opn = _open_finding_counts()
    stmt = (
        select(
            col(Station.id),
            col(Station.name),
            col(Station.region_code),
            col(Station.status),
            func.coalesce(opn.c.n, 0),
        )
        .outerjoin(opn, opn.c.k == Station.id)
        .order_by(col(Station.name), col(Station.id))
    )
    region = region_filter(col(Station.region_code), prefixes)
    if region is not None:
        stmt = stmt.where(region)
    if station_ids is not None:
        stmt = stmt.where(col(Station.id).in_(list(station_ids)))
    return [
        StationEntry(int(i), name, code or "", status, int(n_open))
        for i, name, code, status, n_open in (await session.execute(stmt)).all()
    ]


async def station_counts_by_status(
    *, session: AsyncSession, prefixes: Sequence[str] | None
) -> dict[str, int]:
    """Return how many stations of each status lie in the regions."""
    stmt = select(col(Station.status), func.count()).group_by(col(Station.status))
    region = region_filter(col(Station.region_code), prefixes)
    if region is not None:
        stmt = stmt.where(region)
    return {status: int(n) for status, n in (await session.execute(stmt)).all()}


async def content_use_top(
    *,
    session: AsyncSession,
    window: Window,
    prefixes: Sequence[str] | None,
    limit: int = 5,
) -> list[tuple[int, str, str | None, int, int]]:
    """Return the items most used offline in the window: (id, title, title_en, uses, audience)."""
    stmt = (
        select(
            col(ContentItem.id),
            col(ContentItem.title),
            col(ContentItem.title_en),
            func.count().label("uses"),
            func.sum(col(ContentUse.audience)).label("audience"),
        )
        .select_from(ContentUse)
        .join(ContentItem, col(ContentItem.id) == ContentUse.content_id)
        .join(Station, col(Station.id) == ContentUse.station_id)
        .where(col(ContentUse.used_on) >= window.start, col(ContentUse.used_on) <= window.end)
        .group_by(col(ContentItem.id), col(ContentItem.title), col(ContentItem.title_en))
        .order_by(literal_column("uses").desc(), col(ContentItem.id))
        .limit(limit)
    )
    region = region_filter(col(Station.region_code), prefixes)
    if region is not None:
        stmt = stmt.where(region)
    return [
        (int(i), title, title_en, int(uses), int(audience or 0))
        for i, title, title_en, uses, audience in (await session.execute(stmt)).all()
    ]


async def regions_named(*, session: AsyncSession, codes: Sequence[str]) -> dict[str, Region]:
    """Return the regions among ``codes``, by code."""
    if not codes:
        return {}
    rows = await session.execute(select(Region).where(col(Region.code).in_(sorted(set(codes)))))
    return {r.code: r for r in rows.scalars()}


async def child_regions(*, session: AsyncSession, parent: str) -> list[Region]:
    """Return the regions directly under ``parent``, by code."""
    rows = await session.execute(
        select(Region).where(col(Region.parent_code) == parent).order_by(col(Region.code))
    )
    return list(rows.scalars())


# --- one station ---------------------------------------------------------------------------


async def station_history(
    *, session: AsyncSession, station_id: int, since: dt.date
) -> list[WeeklyStationTally]:
    """Return the station's weekly tally rows from the week starting ``since`` on."""
    rows = await session.execute(
        select(WeeklyStationTally)
        .where(
            col(WeeklyStationTally.station_id) == station_id,
            col(WeeklyStationTally.week_start) >= since,
        )
        .order_by(col(WeeklyStationTally.week_start))
    )
    return list(rows.scalars())


async def station_activities(
    *, session: AsyncSession, station_id: int, limit: int = 20
) -> tuple[list[Activity], dict[int, list[ActivityPhoto]]]:
    """Return the station's latest live activities and their photos."""
    acts = list(
        (
            await session.execute(
                select(Activity)
                .where(col(Activity.station_id) == station_id, col(Activity.deleted_at).is_(None))
                .order_by(col(Activity.held_on).desc(), col(Activity.id).desc())
                .limit(limit)
            )
        ).scalars()
    )
    photos: dict[int, list[ActivityPhoto]] = {}
    ids = [a.id for a in acts if a.id is not None]
    if ids:
        for photo in (
            await session.execute(
                select(ActivityPhoto)
                .where(col(ActivityPhoto.activity_id).in_(ids))
                .order_by(col(ActivityPhoto.id))
            )
        ).scalars():
            photos.setdefault(photo.activity_id, []).append(photo)
    return acts, photos


async def photo_with_station(
    *, session: AsyncSession, photo_id: int
) -> tuple[ActivityPhoto, Station] | None:
    """Return an activity photo and its station (None if there is none)."""
    row = (
        await session.execute(
            select(ActivityPhoto, Station)
            .join(Activity, col(Activity.id) == ActivityPhoto.activity_id)
            .join(Station, col(Station.id) == Activity.station_id)
            .where(col(ActivityPhoto.id) == photo_id)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def station_uses(
    *, session: AsyncSession, station_id: int, limit: int = 20
) -> list[tuple[ContentUse, str, str | None]]:
    """Return the station's latest content uses with the item's title."""
    rows = await session.execute(
        select(ContentUse, col(ContentItem.title), col(ContentItem.title_en))
        .join(ContentItem, col(ContentItem.id) == ContentUse.content_id)
        .where(col(ContentUse.station_id) == station_id)
        .order_by(col(ContentUse.used_on).desc(), col(ContentUse.id).desc())
        .limit(limit)
    )
    return [(u, t, te) for u, t, te in rows.all()]


async def informant_count(*, session: AsyncSession, station_id: int) -> int:
    """Return the station's current (consented, not removed) informants."""
    stmt = select(func.count()).where(
        col(Informant.station_id) == station_id,
        col(Informant.removed_at).is_(None),
        col(Informant.consent_at).is_not(None),
    )
    return int((await session.execute(stmt)).scalar_one())


async def station_reviews(*, session: AsyncSession, station_id: int) -> list[StationReview]:
    """Return the station's review decisions, oldest first."""
    rows = await session.execute(
        select(StationReview)
        .where(col(StationReview.station_id) == station_id)
        .order_by(col(StationReview.created_at), col(StationReview.id))
    )
    return list(rows.scalars())


async def station_findings(*, session: AsyncSession, station_id: int) -> list[IntegrityFlag]:
    """Return the station's findings, newest first."""
    rows = await session.execute(
        select(IntegrityFlag)
        .where(col(IntegrityFlag.station_id) == station_id)
        .order_by(col(IntegrityFlag.created_at).desc(), col(IntegrityFlag.id).desc())
    )
    return list(rows.scalars())


async def station_decisions(
    *, session: AsyncSession, station_id: int, limit: int = 100
) -> list[tuple[AuditLog, str | None]]:
    """Return the audit log's decisions about the station (allowed entries), newest first.

    The station's own entries, and those about its findings, activities, content uses and
    evaluation proposals; with the actor's first name.
    """
    flags = select(col(IntegrityFlag.id)).where(col(IntegrityFlag.station_id) == station_id)
    acts = select(col(Activity.id)).where(col(Activity.station_id) == station_id)
    props = select(col(EvaluationProposal.id)).where(
        col(EvaluationProposal.station_id) == station_id
    )
    subject = or_(
        and_(col(AuditLog.subject_type) == "station", col(AuditLog.subject_id) == station_id),
        and_(col(AuditLog.subject_type) == "integrity_flag", col(AuditLog.subject_id).in_(flags)),
        and_(col(AuditLog.subject_type) == "activity", col(AuditLog.subject_id).in_(acts)),
        and_(
            col(AuditLog.subject_type) == "evaluation_proposal",
            col(AuditLog.subject_id).in_(props),
        ),
    )
    rows = await session.execute(
        select(AuditLog, col(Person.first_name))
        .outerjoin(Person, col(Person.id) == AuditLog.actor_id)
        .where(col(AuditLog.allowed).is_(True), subject)
        .order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc())
        .limit(limit)
    )
    return [(entry, name) for entry, name in rows.all()]


async def child_regions_of_root(*, session: AsyncSession) -> list[Region]:
    """Return the top-level regions (provinces), by code."""
    rows = await session.execute(
        select(Region).where(col(Region.parent_code).is_(None)).order_by(col(Region.code))
    )
    return list(rows.scalars())


async def regions_under(
    *, session: AsyncSession, prefixes: Sequence[str] | None, limit: int = 300
) -> list[Region]:
    """Return the cities and counties under the prefixes (None: all), by code, up to ``limit``."""
    stmt = select(Region).where(col(Region.level).in_(["city", "county"]))
    region = region_filter(col(Region.code), prefixes)
    if region is not None:
        stmt = stmt.where(region)
    rows = await session.execute(stmt.order_by(col(Region.code)).limit(limit))
    return list(rows.scalars())

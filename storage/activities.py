"""Activities, their photo evidence, offline content use and their integrity flags."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Activity,
    ActivityPhoto,
    ContentItem,
    ContentUse,
    IntegrityFlag,
    Region,
    Station,
    StationEvidence,
)

_LIKE_ESCAPE = re.compile(r"[\\%_]")


@dataclass(frozen=True)
class PhotoRef:
    """A Telegram photo: ``file_id`` to show it again, ``file_unique_id`` to recognise it."""

    file_id: str
    file_unique_id: str


@dataclass(frozen=True)
class PhotoMatch:
    """Where a photo was already used as evidence."""

    file_unique_id: str
    subject_type: str  # "activity" | "station_evidence"
    subject_id: int
    station_id: int


@dataclass(frozen=True)
class ExportRow:
    """One activity with what an export shows about it."""

    activity: Activity
    station_name: str
    region_code: str | None
    county_name: str | None
    photo_count: int
    flag_kinds: tuple[str, ...]


# --- activities ---------------------------------------------------------------------------
async def add_activity(
    *, session: AsyncSession, activity: Activity, photos: Sequence[PhotoRef]
) -> Activity:
    """Store a new activity and its photos; return it with its id."""
    session.add(activity)
    await session.flush()
    assert activity.id is not None
    await replace_photos(session=session, activity_id=activity.id, photos=photos)
    return activity


async def get_activity(*, session: AsyncSession, activity_id: int) -> Activity | None:
    """Return the activity with ``activity_id`` (deleted ones too)."""
    return await session.get(Activity, activity_id)


async def photos_of(*, session: AsyncSession, activity_id: int) -> Sequence[ActivityPhoto]:
    """Return an activity's photos in the order they were sent."""
    result = await session.execute(
        select(ActivityPhoto)
        .where(ActivityPhoto.activity_id == activity_id)
        .order_by(ActivityPhoto.id)  # type: ignore[arg-type]
    )
    return result.scalars().all()


async def replace_photos(
    *, session: AsyncSession, activity_id: int, photos: Sequence[PhotoRef]
) -> None:
    """Set an activity's photos (a photo sent twice is stored once)."""
    await session.execute(delete(ActivityPhoto).where(ActivityPhoto.activity_id == activity_id))
    seen: set[str] = set()
    for photo in photos:
        if photo.file_unique_id in seen:
            continue
        seen.add(photo.file_unique_id)
        session.add(
            ActivityPhoto(
                activity_id=activity_id, file_id=photo.file_id, file_unique_id=photo.file_unique_id
            )
        )
    await session.flush()


async def station_activities(
    *, session: AsyncSession, station_id: int, offset: int = 0, limit: int = 5
) -> tuple[Sequence[Activity], int]:
    """Return one page of a station's activities (newest first) and the total count."""
    where = (Activity.station_id == station_id, Activity.deleted_at.is_(None))  # type: ignore[union-attr]
    total = await session.execute(select(func.count()).select_from(Activity).where(*where))
    result = await session.execute(
        select(Activity)
        .where(*where)
        .order_by(Activity.held_on.desc(), Activity.id.desc())  # type: ignore[attr-defined,union-attr]
        .offset(offset)
        .limit(limit)
    )
    return result.scalars().all(), int(total.scalar_one())


async def photo_matches(
    *, session: AsyncSession, file_unique_ids: Sequence[str], exclude_activity_id: int
) -> list[PhotoMatch]:
    """Find the photos already used for another (live) activity or as station evidence."""
    ids = sorted(set(file_unique_ids))
    if not ids:
        return []
    matches: list[PhotoMatch] = []
    used = await session.execute(
        select(ActivityPhoto.file_unique_id, Activity.id, Activity.station_id)
        .join(Activity, Activity.id == ActivityPhoto.activity_id)  # type: ignore[arg-type]
        .where(
            ActivityPhoto.file_unique_id.in_(ids),  # type: ignore[attr-defined]
            Activity.id != exclude_activity_id,
            Activity.deleted_at.is_(None),  # type: ignore[union-attr]
        )
        .order_by(Activity.id)  # type: ignore[arg-type]
    )
    for unique_id, activity_id, station_id in used.all():
        matches.append(PhotoMatch(unique_id, "activity", activity_id, station_id))
    evidence = await session.execute(
        select(StationEvidence.file_unique_id, StationEvidence.id, StationEvidence.station_id)
        .where(StationEvidence.file_unique_id.in_(ids))  # type: ignore[union-attr]
        .order_by(StationEvidence.id)  # type: ignore[arg-type]
    )
    for unique_id, evidence_id, station_id in evidence.all():
        matches.append(PhotoMatch(unique_id, "station_evidence", evidence_id, station_id))
    return matches


# --- flags -----------------------------------------------------------------------------
async def add_flag(*, session: AsyncSession, flag: IntegrityFlag) -> IntegrityFlag:
    """Store an integrity flag."""
    session.add(flag)
    await session.flush()
    return flag


async def flags_of(
    *, session: AsyncSession, subject_type: str, subject_id: int, kind: str | None = None
) -> Sequence[IntegrityFlag]:
    """Return the flags raised about one subject."""
    stmt = select(IntegrityFlag).where(
        IntegrityFlag.subject_type == subject_type, IntegrityFlag.subject_id == subject_id
    )
    if kind is not None:
        stmt = stmt.where(IntegrityFlag.kind == kind)
    result = await session.execute(stmt.order_by(IntegrityFlag.id))  # type: ignore[arg-type]
    return result.scalars().all()


# --- export ----------------------------------------------------------------------------
async def export_rows(
    *,
    session: AsyncSession,
    region_prefix: str,
    date_from: dt.date,
    date_to: dt.date,
    station_statuses: Sequence[str] = ("recognised",),
) -> list[ExportRow]:
    """Return the live activities of stations in a region held between two dates."""
    photo_counts = (
        select(ActivityPhoto.activity_id, func.count().label("n"))
        .group_by(ActivityPhoto.activity_id)  # type: ignore[arg-type]
        .subquery()
    )
    result = await session.execute(
        select(
            Activity,
            Station.name,
            Station.region_code,
            Region.name,
            func.coalesce(photo_counts.c.n, 0),
        )
        .join(Station, Station.id == Activity.station_id)  # type: ignore[arg-type]
        .outerjoin(Region, Region.code == Station.region_code)  # type: ignore[arg-type]
        .outerjoin(photo_counts, photo_counts.c.activity_id == Activity.id)
        .where(
            Station.region_code.startswith(region_prefix),  # type: ignore[union-attr]
            Station.status.in_(station_statuses),  # type: ignore[attr-defined]
            Activity.held_on >= date_from,
            Activity.held_on <= date_to,
            Activity.deleted_at.is_(None),  # type: ignore[union-attr]
        )
        .order_by(Station.region_code, Station.name, Activity.held_on, Activity.id)  # type: ignore[arg-type]
    )
    rows = result.all()
    ids = [row[0].id for row in rows]
    kinds: dict[int, set[str]] = {}
    if ids:
        flags = await session.execute(
            select(IntegrityFlag.subject_id, IntegrityFlag.kind).where(
                IntegrityFlag.subject_type == "activity",
                IntegrityFlag.subject_id.in_(ids),  # type: ignore[union-attr]
                IntegrityFlag.resolved_at.is_(None),  # type: ignore[union-attr]
            )
        )
        for subject_id, kind in flags.all():
            kinds.setdefault(subject_id, set()).add(kind)
    return [
        ExportRow(
            activity=act,
            station_name=name,
            region_code=code,
            county_name=county,
            photo_count=int(count),
            flag_kinds=tuple(sorted(kinds.get(act.id or 0, ()))),
        )
        for act, name, code, county, count in rows
    ]


# --- stations and content (read only) -----------------------------------------------------
async def stations_by_id(
    *, session: AsyncSession, station_ids: Sequence[int]
) -> dict[int, Station]:
    """Return stations by id."""
    if not station_ids:
        return {}
    result = await session.execute(
        select(Station).where(Station.id.in_(station_ids))  # type: ignore[union-attr]
    )
    return {s.id: s for s in result.scalars().all() if s.id is not None}


async def recent_content(
    *, session: AsyncSession, now: dt.datetime, words: Sequence[str] = (), limit: int = 8
) -> Sequence[ContentItem]:
    """Return live catalogue items, newest first, optionally matching every word."""
    stmt = select(ContentItem).where(
        ContentItem.retired_at.is_(None),  # type: ignore[union-attr]
        or_(ContentItem.publish_at.is_(None), ContentItem.publish_at <= now),  # type: ignore[union-attr,operator]
    )
    for word in words:
        pattern = "%" + _LIKE_ESCAPE.sub(r"\\\g<0>", word) + "%"
        stmt = stmt.where(
            or_(
                ContentItem.title.ilike(pattern, escape="\\"),  # type: ignore[attr-defined]
                ContentItem.title_en.ilike(pattern, escape="\\"),  # type: ignore[union-attr]
                ContentItem.summary.ilike(pattern, escape="\\"),  # type: ignore[attr-defined]
            )
        )
    order = func.coalesce(ContentItem.publish_at, ContentItem.created_at)
    result = await session.execute(
        stmt.order_by(order.desc(), ContentItem.id.desc()).limit(limit)  # type: ignore[union-attr]
    )
    return result.scalars().all()


async def get_content(*, session: AsyncSession, content_id: int) -> ContentItem | None:
    """Return a catalogue item."""
    return await session.get(ContentItem, content_id)


# --- content use ---------------------------------------------------------------------------
async def add_content_use(*, session: AsyncSession, use: ContentUse) -> ContentUse:
    """Store one offline use of content."""
    session.add(use)
    await session.flush()
    return use


async def content_uses(
    *, session: AsyncSession, station_id: int, limit: int = 50
) -> Sequence[ContentUse]:
    """Return a station's recorded content uses, newest first."""
    result = await session.execute(
        select(ContentUse)
        .where(ContentUse.station_id == station_id)
        .order_by(ContentUse.used_on.desc(), ContentUse.id.desc())  # type: ignore[attr-defined,union-attr]
        .limit(limit)
    )
    return result.scalars().all()

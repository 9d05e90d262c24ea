"""Activities, their photo evidence, offline content use and their integrity flags."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.figures import region_filter
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
        .where(col(ActivityPhoto.activity_id) == activity_id)
        .order_by(col(ActivityPhoto.id))
    )
    return result.scalars().all()


async def replace_photos(
    *, session: AsyncSession, activity_id: int, photos: Sequence[PhotoRef]
) -> None:
    """Set an activity's photos (a photo sent twice is stored once; kept ones keep their hash)."""
    kept = await session.execute(
        select(col(ActivityPhoto.file_unique_id), col(ActivityPhoto.phash)).where(
            col(ActivityPhoto.activity_id) == activity_id
        )
    )
    hashes = dict(kept.tuples().all())
    await session.execute(
        delete(ActivityPhoto).where(col(ActivityPhoto.activity_id) == activity_id)
    )
    seen: set[str] = set()
    for photo in photos:
        if photo.file_unique_id in seen:
            continue
        seen.add(photo.file_unique_id)
        session.add(
            ActivityPhoto(
                activity_id=activity_id,
                file_id=photo.file_id,
                file_unique_id=photo.file_unique_id,
                phash=hashes.get(photo.file_unique_id),
            )
        )
    await session.flush()


async def station_activities(
    *, session: AsyncSession, station_id: int, offset: int = 0, limit: int = 5
) -> tuple[Sequence[Activity], int]:
    """Return one page of a station's activities (newest first) and the total count."""
    where = (col(Activity.station_id) == station_id, col(Activity.deleted_at).is_(None))
    total = await session.execute(select(func.count()).select_from(Activity).where(*where))
    result = await session.execute(
        select(Activity)
        .where(*where)
        .order_by(col(Activity.held_on).desc(), col(Activity.id).desc())
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
        select(col(ActivityPhoto.file_unique_id), col(Activity.id), col(Activity.station_id))
        .join(Activity, col(Activity.id) == ActivityPhoto.activity_id)
        .where(
            col(ActivityPhoto.file_unique_id).in_(ids),
            col(Activity.id) != exclude_activity_id,
            col(Activity.deleted_at).is_(None),
        )
        .order_by(col(Activity.id))
    )
    for unique_id, activity_id, station_id in used.all():
        matches.append(PhotoMatch(unique_id, "activity", activity_id, station_id))
    evidence = await session.execute(
        select(
            col(StationEvidence.file_unique_id),
            col(StationEvidence.id),
            col(StationEvidence.station_id),
        )
        .where(col(StationEvidence.file_unique_id).in_(ids))
        .order_by(col(StationEvidence.id))
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
        col(IntegrityFlag.subject_type) == subject_type,
        col(IntegrityFlag.subject_id) == subject_id,
    )
    if kind is not None:
        stmt = stmt.where(col(IntegrityFlag.kind) == kind)
    result = await session.execute(stmt.order_by(col(IntegrityFlag.id)))
    return result.scalars().all()


# --- export ----------------------------------------------------------------------------
async def export_rows(
    *,
    session: AsyncSession,
    region_prefix: str,
    date_from: dt.date,
    date_to: dt.date,
    station_statuses: Sequence[str] | None = ("recognised",),
    prefixes: Sequence[str] | None = None,
    station_ids: Sequence[int] | None = None,
) -> list[ExportRow]:
    """Return the live activities of stations in a region held between two dates.

    ``prefixes`` and ``station_ids`` narrow it further to the desk's scope: stations under
    any of the prefixes OR among the ids; ``station_statuses`` None keeps every state.
    """
    scope: list[Any] = []
    if prefixes is not None or station_ids is not None:
        inside: list[Any] = []
        if prefixes:
            inside.append(region_filter(col(Station.region_code), prefixes))
        if station_ids:
            inside.append(col(Station.id).in_(list(station_ids)))
        scope.append(or_(*inside) if inside else col(Station.id).is_(None))
    if station_statuses is not None:
        scope.append(col(Station.status).in_(list(station_statuses)))
    photo_counts = (
        select(col(ActivityPhoto.activity_id), func.count().label("n"))
        .group_by(col(ActivityPhoto.activity_id))
        .subquery()
    )
    result = await session.execute(
        select(
            Activity,
            col(Station.name),
            col(Station.region_code),
            col(Region.name),
            func.coalesce(photo_counts.c.n, 0),
        )
        .join(Station, col(Station.id) == Activity.station_id)
        .outerjoin(Region, col(Region.code) == Station.region_code)
        .outerjoin(photo_counts, photo_counts.c.activity_id == Activity.id)
        .where(
            col(Station.region_code).startswith(region_prefix),
            *scope,
            col(Activity.held_on) >= date_from,
            col(Activity.held_on) <= date_to,
            col(Activity.deleted_at).is_(None),
        )
        .order_by(
            col(Station.region_code), col(Station.name), col(Activity.held_on), col(Activity.id)
        )
    )
    rows = result.all()
    ids = [row[0].id for row in rows]
    kinds: dict[int, set[str]] = {}
    if ids:
        flags = await session.execute(
            select(col(IntegrityFlag.subject_id), col(IntegrityFlag.kind)).where(
                col(IntegrityFlag.subject_type) == "activity",
                col(IntegrityFlag.subject_id).in_(ids),
                col(IntegrityFlag.resolved_at).is_(None),
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
    result = await session.execute(select(Station).where(col(Station.id).in_(station_ids)))
    return {s.id: s for s in result.scalars().all() if s.id is not None}


async def recent_content(
    *, session: AsyncSession, now: dt.datetime, words: Sequence[str] = (), limit: int = 8
) -> Sequence[ContentItem]:
    """Return live catalogue items, newest first, optionally matching every word."""
    stmt = select(ContentItem).where(
        col(ContentItem.retired_at).is_(None),
        or_(col(ContentItem.publish_at).is_(None), col(ContentItem.publish_at) <= now),
    )
    for word in words:
        pattern = "%" + _LIKE_ESCAPE.sub(r"\\\g<0>", word) + "%"
        stmt = stmt.where(
            or_(
                col(ContentItem.title).ilike(pattern, escape="\\"),
                col(ContentItem.title_en).ilike(pattern, escape="\\"),
                col(ContentItem.summary).ilike(pattern, escape="\\"),
            )
        )
    order = func.coalesce(col(ContentItem.publish_at), col(ContentItem.created_at))
    result = await session.execute(
        stmt.order_by(order.desc(), col(ContentItem.id).desc()).limit(limit)
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
        .where(col(ContentUse.station_id) == station_id)
        .order_by(col(ContentUse.used_on).desc(), col(ContentUse.id).desc())
        .limit(limit)
    )
    return result.scalars().all()

"""Data access of automatic findings: candidates to compare, photos to hash, open findings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import (
    Activity,
    ActivityPhoto,
    ContentUse,
    IntegrityFlag,
    Station,
    StationEvidence,
)

SUBJECT_ACTIVITY = "activity"
SUBJECT_EVIDENCE = "station_evidence"
SUBJECT_USE = "content_use"
SUBJECT_STATION = "station"
SUBJECT_REGION = "region"


@dataclass(frozen=True)
class HashedPhoto:
    """A photo with its perceptual hash: an activity photo or an evidence photo."""

    subject_type: str  # activity | station_evidence
    subject_id: int  # the activity or the evidence row
    photo_id: int  # ActivityPhoto.id or StationEvidence.id
    station_id: int
    file_unique_id: str
    phash: str


@dataclass(frozen=True)
class PhotoToHash:
    """A photo not hashed yet: where it is stored and how to download it."""

    table: str  # activity_photo | station_evidence
    row_id: int
    file_id: str


# --- findings -------------------------------------------------------------------------------
async def findings_of(
    *,
    session: AsyncSession,
    subject_type: str,
    subject_ids: Sequence[int],
    kinds: Sequence[str] | None = None,
) -> Sequence[IntegrityFlag]:
    """Return the findings about these subjects (every status), oldest first."""
    if not subject_ids:
        return []
    stmt = select(IntegrityFlag).where(
        col(IntegrityFlag.subject_type) == subject_type,
        col(IntegrityFlag.subject_id).in_(sorted(set(subject_ids))),
    )
    if kinds is not None:
        stmt = stmt.where(col(IntegrityFlag.kind).in_(kinds))
    result = await session.execute(stmt.order_by(col(IntegrityFlag.id)))
    return result.scalars().all()


async def add_finding(*, session: AsyncSession, flag: IntegrityFlag) -> IntegrityFlag:
    """Store a new (open) finding."""
    session.add(flag)
    await session.flush()
    return flag


def close_finding(flag: IntegrityFlag, *, now: dt.datetime, reason: str, why: str) -> None:
    """Mark an open finding closed by a re-check: no person decided it."""
    flag.status = "closed"
    flag.resolved_at = now
    flag.decided_at = now
    flag.decided_by = None
    flag.decision_reason = reason[:1000]
    flag.detail = {**(flag.detail or {}), "closed_why": why}


async def refresh_activity_marks(*, session: AsyncSession, activity_ids: Sequence[int]) -> None:
    """Set ``Activity.flagged`` to whether an open finding is about the activity."""
    if not activity_ids:
        return
    open_flag = exists().where(
        col(IntegrityFlag.subject_type) == SUBJECT_ACTIVITY,
        col(IntegrityFlag.subject_id) == Activity.id,
        col(IntegrityFlag.status) == "open",
    )
    await session.execute(
        update(Activity)
        .where(col(Activity.id).in_(sorted(set(activity_ids))))
        .values(flagged=open_flag)
        .execution_options(synchronize_session="fetch")
    )


async def station_day_activities(
    *, session: AsyncSession, station_id: int, days: Sequence[dt.date]
) -> Sequence[Activity]:
    """Return a station's live activities held on any of ``days``."""
    result = await session.execute(
        select(Activity)
        .where(
            col(Activity.station_id) == station_id,
            col(Activity.held_on).in_(sorted(set(days))),
            col(Activity.deleted_at).is_(None),
        )
        .order_by(col(Activity.id))
    )
    return result.scalars().all()


async def same_day_uses(
    *, session: AsyncSession, station_id: int, content_id: int, used_on: dt.date
) -> Sequence[ContentUse]:
    """Return a station's uses of one item on one day."""
    result = await session.execute(
        select(ContentUse)
        .where(
            col(ContentUse.station_id) == station_id,
            col(ContentUse.content_id) == content_id,
            col(ContentUse.used_on) == used_on,
        )
        .order_by(col(ContentUse.id))
    )
    return result.scalars().all()


async def region_photo_hashes(*, session: AsyncSession, region_code: str) -> list[HashedPhoto]:
    """Return the hashed photos of live activities and of evidence of a region's stations."""
    found: list[HashedPhoto] = []
    acts = await session.execute(
        select(
            col(Activity.id),
            col(ActivityPhoto.id),
            col(Activity.station_id),
            col(ActivityPhoto.file_unique_id),
            col(ActivityPhoto.phash),
        )
        .join(Activity, col(Activity.id) == ActivityPhoto.activity_id)
        .join(Station, col(Station.id) == Activity.station_id)
        .where(
            col(Station.region_code) == region_code,
            col(Activity.deleted_at).is_(None),
            col(ActivityPhoto.phash).is_not(None),
            col(ActivityPhoto.phash) != "",
        )
    )
    for act_id, photo_id, station_id, unique_id, phash in acts.all():
        found.append(HashedPhoto(SUBJECT_ACTIVITY, act_id, photo_id, station_id, unique_id, phash))
    evidence = await session.execute(
        select(
            col(StationEvidence.id),
            col(StationEvidence.station_id),
            col(StationEvidence.file_unique_id),
            col(StationEvidence.phash),
        )
        .join(Station, col(Station.id) == StationEvidence.station_id)
        .where(
            col(Station.region_code) == region_code,
            col(StationEvidence.phash).is_not(None),
            col(StationEvidence.phash) != "",
        )
    )
    for ev_id, station_id, unique_id, phash in evidence.all():
        found.append(
            HashedPhoto(SUBJECT_EVIDENCE, ev_id, ev_id, station_id, unique_id or "", phash)
        )
    return found


async def photos_to_hash(*, session: AsyncSession, limit: int) -> list[PhotoToHash]:
    """Return photos not hashed yet (activity photos first, then evidence), oldest first."""
    result = await session.execute(
        select(col(ActivityPhoto.id), col(ActivityPhoto.file_id))
        .where(col(ActivityPhoto.phash).is_(None))
        .order_by(col(ActivityPhoto.id))
        .limit(limit)
    )
    todo = [PhotoToHash("activity_photo", row_id, file_id) for row_id, file_id in result.all()]
    if len(todo) < limit:
        result = await session.execute(
            select(col(StationEvidence.id), col(StationEvidence.file_id))
            .where(col(StationEvidence.phash).is_(None), col(StationEvidence.file_id).is_not(None))
            .order_by(col(StationEvidence.id))
            .limit(limit - len(todo))
        )
        todo += [PhotoToHash("station_evidence", i, f) for i, f in result.all()]
    return todo


async def set_photo_hashes(*, session: AsyncSession, table: str, hashes: dict[int, str]) -> None:
    """Store hashes ('' = could not be hashed: compared by file_unique_id only)."""
    model: Any = ActivityPhoto if table == "activity_photo" else StationEvidence
    for row_id, phash in hashes.items():
        await session.execute(update(model).where(col(model.id) == row_id).values(phash=phash))


async def photo_rows(
    *, session: AsyncSession, table: str, row_ids: Sequence[int]
) -> list[HashedPhoto]:
    """Return the given photo rows (hashed or not) with their subject and station."""
    if not row_ids:
        return []
    if table == "activity_photo":
        result = await session.execute(
            select(
                col(Activity.id),
                col(ActivityPhoto.id),
                col(Activity.station_id),
                col(ActivityPhoto.file_unique_id),
                col(ActivityPhoto.phash),
            )
            .join(Activity, col(Activity.id) == ActivityPhoto.activity_id)
            .where(col(ActivityPhoto.id).in_(row_ids), col(Activity.deleted_at).is_(None))
        )
        return [
            HashedPhoto(SUBJECT_ACTIVITY, a, p, s, u, h or "") for a, p, s, u, h in result.all()
        ]
    result = await session.execute(
        select(
            col(StationEvidence.id),
            col(StationEvidence.station_id),
            col(StationEvidence.file_unique_id),
            col(StationEvidence.phash),
        ).where(col(StationEvidence.id).in_(row_ids))
    )
    return [
        HashedPhoto(SUBJECT_EVIDENCE, e, e, s, u or "", h or "") for e, s, u, h in result.all()
    ]


async def findings_by_kind(*, session: AsyncSession, kind: str) -> Sequence[IntegrityFlag]:
    """Return every finding of one kind (the sweep's kinds are few per region)."""
    result = await session.execute(
        select(IntegrityFlag)
        .where(col(IntegrityFlag.kind) == kind)
        .order_by(col(IntegrityFlag.id))
    )
    return result.scalars().all()


async def open_photo_findings_matching(
    *, session: AsyncSession, other_type: str, other_id: int
) -> list[IntegrityFlag]:
    """Return open photo findings whose matched photo belongs to ``other_type``/``other_id``."""
    result = await session.execute(
        select(IntegrityFlag).where(
            col(IntegrityFlag.kind) == "photo_reuse", col(IntegrityFlag.status) == "open"
        )
    )
    return [
        f
        for f in result.scalars().all()
        if (f.detail or {}).get("other_type") == other_type
        and (f.detail or {}).get("other_id") == other_id
    ]


async def orphan_evidence_findings(*, session: AsyncSession) -> list[IntegrityFlag]:
    """Return open photo findings about, or matching, evidence rows that were replaced."""
    result = await session.execute(
        select(IntegrityFlag).where(
            col(IntegrityFlag.kind) == "photo_reuse", col(IntegrityFlag.status) == "open"
        )
    )
    flags = result.scalars().all()
    ids: set[int] = set()
    for f in flags:
        if f.subject_type == SUBJECT_EVIDENCE and f.subject_id is not None:
            ids.add(f.subject_id)
        if (f.detail or {}).get("other_type") == SUBJECT_EVIDENCE:
            ids.add(int(f.detail["other_id"]))
    if not ids:
        return []
    alive = set(
        (
            await session.execute(
                select(col(StationEvidence.id)).where(col(StationEvidence.id).in_(sorted(ids)))
            )
        ).scalars()
    )
    return [
        f
        for f in flags
        if (f.subject_type == SUBJECT_EVIDENCE and f.subject_id not in alive)
        or (
            (f.detail or {}).get("other_type") == SUBJECT_EVIDENCE
            and int(f.detail["other_id"]) not in alive
        )
    ]


async def submissions_by_region(
    *, session: AsyncSession, since: dt.datetime
) -> dict[str, list[tuple[int, dt.datetime]]]:
    """Return (station id, submitted at) of applications submitted since ``since``, by county."""
    result = await session.execute(
        select(col(Station.region_code), col(Station.id), col(Station.submitted_at)).where(
            col(Station.submitted_at) >= since, col(Station.status) != "draft"
        )
    )
    out: dict[str, list[tuple[int, dt.datetime]]] = {}
    for code, sid, at in result.all():
        if code is not None and at is not None:
            out.setdefault(code, []).append((sid, at))
    return out

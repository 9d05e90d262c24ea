"""Integrity findings (``IntegrityFlag``) and their life: open → confirmed | dismissed | closed.

Shared by the human decisions (``bot.services.findings``) and the automatic re-checks that
close what no longer holds (evidence replaced, a report corrected).  Each change of status
also refreshes ``Activity.flagged`` for the activities concerned: an activity is held out of
the figures while a finding on it is open or confirmed, and counts again once every finding
on it is dismissed or closed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage import audit, detection
from storage.models import IntegrityFlag, Station

OPEN = "open"
DECISIONS = ("confirmed", "dismissed")  # what a coordinator may decide
REASON_MAX = 1000

FindingRow = tuple[IntegrityFlag, Station | None]


def _in_regions(prefixes: Sequence[str] | None) -> object | None:
    if prefixes is None:
        return None
    if not prefixes:
        return col(IntegrityFlag.id).is_(None)  # matches nothing
    region = func.coalesce(col(IntegrityFlag.region_code), col(Station.region_code))
    return or_(*(region.startswith(p) for p in prefixes))


async def get_finding(*, session: AsyncSession, finding_id: int) -> FindingRow | None:
    """Return one finding with its station (None if there is no such finding)."""
    stmt = (
        select(IntegrityFlag, Station)
        .outerjoin(Station, col(Station.id) == col(IntegrityFlag.station_id))
        .where(col(IntegrityFlag.id) == finding_id)
    )
    row = (await session.execute(stmt)).tuples().first()
    return (row[0], row[1]) if row else None


async def open_findings(
    *,
    session: AsyncSession,
    prefixes: Sequence[str] | None,
    offset: int = 0,
    limit: int = 10,
) -> tuple[list[FindingRow], int]:
    """Return one page of open findings in the regions (oldest first) and how many there are.

    ``prefixes`` are region-code prefixes (None = everywhere, [] = nowhere).
    """
    where = [col(IntegrityFlag.status) == OPEN]
    region = _in_regions(prefixes)
    if region is not None:
        where.append(region)  # type: ignore[arg-type]
    count = (
        select(func.count())
        .select_from(IntegrityFlag)
        .outerjoin(Station, col(Station.id) == col(IntegrityFlag.station_id))
        .where(*where)
    )
    total = int((await session.execute(count)).scalar_one())
    stmt = (
        select(IntegrityFlag, Station)
        .outerjoin(Station, col(Station.id) == col(IntegrityFlag.station_id))
        .where(*where)
        .order_by(col(IntegrityFlag.created_at), col(IntegrityFlag.id))
        .offset(max(offset, 0))
        .limit(limit)
    )
    return [(f, s) for f, s in (await session.execute(stmt)).tuples()], total


async def count_open(*, session: AsyncSession, prefixes: Sequence[str] | None) -> int:
    """Return how many findings in the regions wait for a decision."""
    _rows, total = await open_findings(session=session, prefixes=prefixes, limit=0)
    return total


async def findings_of_stations(
    *,
    session: AsyncSession,
    station_ids: Sequence[int],
    statuses: Sequence[str] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> dict[int, list[IntegrityFlag]]:
    """Return station id → its findings (oldest first), optionally by status and raise time."""
    out: dict[int, list[IntegrityFlag]] = defaultdict(list)
    ids = sorted(set(station_ids))
    for start in range(0, len(ids), 500):
        stmt = select(IntegrityFlag).where(
            col(IntegrityFlag.station_id).in_(ids[start : start + 500])
        )
        if statuses is not None:
            stmt = stmt.where(col(IntegrityFlag.status).in_(list(statuses)))
        if since is not None:
            stmt = stmt.where(col(IntegrityFlag.created_at) >= since)
        if until is not None:
            stmt = stmt.where(col(IntegrityFlag.created_at) < until)
        for flag in (
            await session.execute(
                stmt.order_by(col(IntegrityFlag.created_at), col(IntegrityFlag.id))
            )
        ).scalars():
            assert flag.station_id is not None
            out[flag.station_id].append(flag)
    return dict(out)


async def raised_between(
    *,
    session: AsyncSession,
    since: dt.datetime,
    until: dt.datetime,
    statuses: Sequence[str] = (OPEN,),
) -> list[tuple[IntegrityFlag, str | None]]:
    """Return findings raised in [since, until) still in ``statuses``, with their region."""
    stmt = (
        select(
            IntegrityFlag, func.coalesce(col(IntegrityFlag.region_code), col(Station.region_code))
        )
        .outerjoin(Station, col(Station.id) == col(IntegrityFlag.station_id))
        .where(
            col(IntegrityFlag.created_at) >= since,
            col(IntegrityFlag.created_at) < until,
            col(IntegrityFlag.status).in_(list(statuses)),
        )
        .order_by(col(IntegrityFlag.id))
    )
    return [(f, r) for f, r in (await session.execute(stmt)).tuples()]


async def decide(
    *,
    session: AsyncSession,
    finding: IntegrityFlag,
    status: str,
    decided_by: int | None,
    reason: str,
    now: dt.datetime,
) -> IntegrityFlag:
    """Record a coordinator's decision on an open finding (the caller checks and audits)."""
    if status not in DECISIONS:
        raise ValueError(f"not a decision: {status!r}")
    finding.status = status
    finding.decided_by = decided_by
    finding.decided_at = now
    finding.resolved_at = now
    finding.decision_reason = reason[:REASON_MAX]
    await session.flush()
    if finding.subject_type == "activity" and finding.subject_id is not None:
        await detection.refresh_activity_marks(session=session, activity_ids=[finding.subject_id])
    return finding


async def close(
    *,
    session: AsyncSession,
    flag_ids: Sequence[int],
    reason: str,
    now: dt.datetime,
    statuses: Sequence[str] = (OPEN,),
) -> list[int]:
    """Close findings a re-check found no longer hold; return the ids actually closed.

    Only findings in ``statuses`` (by default open ones: a coordinator's confirmation or
    dismissal stands) are closed.  Each is audited as ``finding.close`` (no actor, the
    re-check's ``reason``), and the activities concerned are refreshed.  Idempotent.
    """
    ids = sorted(set(flag_ids))
    if not ids:
        return []
    rows = (
        (
            await session.execute(
                select(IntegrityFlag).where(
                    col(IntegrityFlag.id).in_(ids), col(IntegrityFlag.status).in_(list(statuses))
                )
            )
        )
        .scalars()
        .all()
    )
    closed: list[int] = []
    activities: list[int] = []
    for flag in rows:
        assert flag.id is not None
        before = flag.status
        flag.status = "closed"
        flag.resolved_at = now
        flag.decided_at = now
        flag.decided_by = None
        flag.decision_reason = reason[:REASON_MAX]
        closed.append(flag.id)
        if flag.subject_type == "activity" and flag.subject_id is not None:
            activities.append(flag.subject_id)
        await audit.record(
            session=session,
            actor_id=None,
            action="finding.close",
            now=now,
            subject_type="integrity_flag",
            subject_id=flag.id,
            region_code=flag.region_code,
            reason=reason[:REASON_MAX],
            detail={"kind": flag.kind, "station_id": flag.station_id, "from": before},
        )
    await session.flush()
    await detection.refresh_activity_marks(session=session, activity_ids=activities)
    return closed

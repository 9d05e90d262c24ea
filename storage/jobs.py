"""Job runs per (job, period) and named leases, so a period never runs twice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import JobRun, Lease, table_of
from storage.upsert import insert_for


async def claim_run(
    *,
    session: AsyncSession,
    job: str,
    period: str,
    now: dt.datetime,
    stale_after: dt.timedelta,
    force: bool = False,
) -> JobRun | None:
    """Claim (job, period) for this process; None if it is done or running elsewhere."""
    try:
        async with session.begin_nested():
            run = JobRun(job=job, period=period, status="running", started_at=now)
            session.add(run)
            await session.flush()
            return run
    except IntegrityError:
        pass
    existing = (
        await session.execute(
            select(JobRun)
            .where(col(JobRun.job) == job, col(JobRun.period) == period)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    retake = (
        force
        or existing.status == "failed"
        or (existing.status == "running" and now - existing.started_at > stale_after)
    )
    if not retake:
        return None
    existing.status, existing.started_at, existing.error = "running", now, None
    existing.finished_at = None
    await session.flush()
    return existing


async def finish_run(
    *,
    session: AsyncSession,
    run_id: int,
    now: dt.datetime,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    """Mark a run done (with its result) or failed (with the error)."""
    await session.execute(
        update(JobRun)
        .where(col(JobRun.id) == run_id)
        .values(
            status="failed" if error else "done",
            finished_at=now,
            result=result or {},
            error=error,
        )
    )


async def get_run(*, session: AsyncSession, job: str, period: str) -> JobRun | None:
    """Return the run of (job, period), if any."""
    result = await session.execute(
        select(JobRun)
        .where(col(JobRun.job) == job, col(JobRun.period) == period)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def last_runs(*, session: AsyncSession) -> dict[str, JobRun]:
    """Return the latest run of each job."""
    result = await session.execute(select(JobRun).order_by(col(JobRun.started_at)))
    latest: dict[str, JobRun] = {}
    for run in result.scalars():
        latest[run.job] = run
    return latest


async def runs_of(*, session: AsyncSession, job: str) -> Sequence[JobRun]:
    """Return every run of a job, oldest first."""
    result = await session.execute(
        select(JobRun).where(col(JobRun.job) == job).order_by(col(JobRun.started_at))
    )
    return result.scalars().all()


async def acquire_lease(
    *, session: AsyncSession, name: str, holder: str, now: dt.datetime, ttl: dt.timedelta
) -> bool:
    """Take or renew the lease ``name`` unless another holder's is still valid."""
    expires = now + ttl
    stmt = insert_for(session, table_of(Lease)).values(
        name=name, holder=holder, expires_at=expires
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["name"],
        set_={"holder": holder, "expires_at": expires},
        where=(table_of(Lease).c.holder == holder) | (table_of(Lease).c.expires_at < now),
    )
    await session.execute(stmt)
    current = (
        await session.execute(select(col(Lease.holder)).where(col(Lease.name) == name))
    ).scalar_one()
    return bool(current == holder)

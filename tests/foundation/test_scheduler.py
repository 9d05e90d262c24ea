"""Jobs: once per period, catch-up after downtime, one runner across processes."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.periods import is_week, parse_week, previous_week_period
from bot.jobs import weekly_at
from bot.runtime.context import Runtime
from bot.runtime.scheduler import JobContext, JobSpec, Scheduler, last_fire_time, run_job
from storage import jobs as job_store
from storage.db import create_engine, session_factory
from tests.conftest import FixedClock, make_settings

SH = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def calls() -> list[tuple[str, dt.datetime]]:
    return []


@pytest.fixture
def jobs(calls: list[tuple[str, dt.datetime]]) -> dict[str, JobSpec]:
    """The jobs these tests schedule: one weekly job that records its calls."""

    async def tally(ctx: JobContext) -> dict[str, Any]:
        calls.append((ctx.period, ctx.now))
        await asyncio.sleep(0.05)  # long enough for a concurrent runner to collide
        if ctx.period == "2026-W40":
            raise RuntimeError("bad week")
        return {"stations": 3}

    spec = JobSpec(
        name="test_tally",
        description="test",
        trigger=weekly_at(lambda s: s.tally_day, lambda s: s.tally_time),
        period=previous_week_period,
        func=tally,
        validate_period=is_week,
    )
    return {spec.name: spec}


def test_periods_and_last_fire_time() -> None:
    settings = make_settings("sqlite+aiosqlite:///x.db")
    spec = JobSpec(
        name="x",
        description="",
        trigger=weekly_at(lambda s: s.tally_day, lambda s: s.tally_time),
        period=previous_week_period,
        func=None,
    )  # type: ignore[arg-type]
    # Wednesday 25 Nov 2026: the last Monday 01:00 was 23 Nov, covering week 47.
    now = dt.datetime(2026, 11, 25, 12, 0, tzinfo=SH)
    fired = last_fire_time(spec, settings, now)
    assert fired == dt.datetime(2026, 11, 23, 1, 0, tzinfo=SH)
    assert previous_week_period(fired) == "2026-W47"
    assert parse_week("2026-W48") == (dt.date(2026, 11, 23), dt.date(2026, 11, 29))
    assert not is_week("2026-W54") and not is_week("26-W1")


async def test_run_once_per_period_even_after_restart(
    jobs: dict[str, JobSpec], runtime: Runtime, calls: list[tuple[str, dt.datetime]]
) -> None:
    spec = jobs["test_tally"]
    first = await run_job(runtime, spec, period="2026-W47")
    again = await run_job(runtime, spec, period="2026-W47")  # a restarted process
    assert (first.status, again.status) == ("done", "skipped")
    assert first.result == {"stations": 3}
    forced = await run_job(runtime, spec, period="2026-W47", force=True)
    assert forced.status == "done"
    assert [p for p, _ in calls] == ["2026-W47", "2026-W47"]


async def test_failed_period_is_recorded_and_retried(
    jobs: dict[str, JobSpec], runtime: Runtime, calls: list[tuple[str, dt.datetime]]
) -> None:
    spec = jobs["test_tally"]
    failed = await run_job(runtime, spec, period="2026-W40")
    assert failed.status == "failed" and "bad week" in (failed.error or "")
    async with runtime.sessions() as session:
        run = await job_store.get_run(session=session, job="test_tally", period="2026-W40")
    assert run is not None and run.status == "failed"
    assert (await run_job(runtime, spec, period="2026-W40")).status == "failed"
    assert len(calls) == 2  # a failed period may run again; a done one may not


async def test_catch_up_runs_the_missed_period_once(
    jobs: dict[str, JobSpec],
    runtime: Runtime,
    clock: FixedClock,
    calls: list[tuple[str, dt.datetime]],
) -> None:
    # The bot was down over Monday 01:00; it starts on Tuesday.
    clock.set(dt.datetime(2026, 11, 24, 8, 0, tzinfo=SH))
    scheduler = Scheduler(runtime, jobs)
    outcomes = await scheduler.catch_up()
    assert [(o.period, o.status) for o in outcomes] == [("2026-W47", "done")]
    # Restarted again the same day: nothing to catch up.
    assert await Scheduler(runtime, jobs).catch_up() == []
    # A week later, down again over Monday: next period caught up.
    clock.advance(days=7)
    assert [o.period for o in await Scheduler(runtime, jobs).catch_up()] == ["2026-W48"]
    assert [p for p, _ in calls] == ["2026-W47", "2026-W48"]


async def test_stale_running_period_is_taken_over(runtime: Runtime, clock: FixedClock) -> None:
    async with runtime.sessions() as session, session.begin():
        run = await job_store.claim_run(
            session=session, job="j", period="p", now=clock(), stale_after=dt.timedelta(hours=2)
        )
        assert run is not None
    async with runtime.sessions() as session, session.begin():
        busy = await job_store.claim_run(
            session=session, job="j", period="p", now=clock(), stale_after=dt.timedelta(hours=2)
        )
        assert busy is None  # still running elsewhere
    clock.advance(hours=3)  # that process died
    async with runtime.sessions() as session, session.begin():
        retaken = await job_store.claim_run(
            session=session, job="j", period="p", now=clock(), stale_after=dt.timedelta(hours=2)
        )
        assert retaken is not None


async def test_lease_has_one_holder_at_a_time(runtime: Runtime, clock: FixedClock) -> None:
    ttl = dt.timedelta(seconds=30)
    async with runtime.sessions() as session, session.begin():
        assert await job_store.acquire_lease(
            session=session, name="sender", holder="a", now=clock(), ttl=ttl
        )
        assert not await job_store.acquire_lease(
            session=session, name="sender", holder="b", now=clock(), ttl=ttl
        )
        assert await job_store.acquire_lease(
            session=session, name="sender", holder="a", now=clock(), ttl=ttl
        )
    clock.advance(seconds=31)
    async with runtime.sessions() as session, session.begin():
        assert await job_store.acquire_lease(
            session=session, name="sender", holder="b", now=clock(), ttl=ttl
        )


@pytest.mark.postgres
async def test_two_schedulers_on_postgres_run_a_period_once(
    jobs: dict[str, JobSpec],
    db_url: str,
    runtime: Runtime,
    clock: FixedClock,
    calls: list[tuple[str, dt.datetime]],
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("two processes sharing one database is the PostgreSQL deployment")
    other_engine: AsyncEngine = create_engine(db_url)
    try:
        other = Runtime(
            settings=make_settings(db_url),
            engine=other_engine,
            sessions=session_factory(other_engine),
            clock=clock,
        )
        clock.set(dt.datetime(2026, 11, 24, 8, 0, tzinfo=SH))
        results = await asyncio.gather(
            Scheduler(runtime, jobs).catch_up(), Scheduler(other, jobs).catch_up()
        )
    finally:
        await other_engine.dispose()
    statuses = sorted(o.status for outcomes in results for o in outcomes)
    assert statuses in (["done"], ["done", "skipped"])
    assert [p for p, _ in calls] == ["2026-W47"]

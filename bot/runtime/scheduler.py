"""APScheduler 3 on asyncio, made safe: each (job, period) runs once, missed periods catch up.

APScheduler only says *when*.  Whether a period has run is recorded in ``job_run`` (unique
on job + period), claimed in the database before the job starts, so a restart never runs a
period twice and several processes on PostgreSQL never run the same period together.  Job
stores stay in memory (never shared between schedulers); jobs are re-added with fixed ids
on every start, so nothing doubles.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger

from bot.config import Settings
from bot.runtime.context import Runtime, runtime_of
from storage import jobs as job_store

log = logging.getLogger(__name__)

STALE_AFTER = dt.timedelta(hours=2)  # a "running" row older than this died with its process


@dataclass(frozen=True)
class JobContext:
    """What a job gets: the runtime, the bot (to send), its period and the time."""

    runtime: Runtime
    bot: Any
    period: str
    now: dt.datetime


@dataclass(frozen=True)
class JobSpec:
    """A scheduled job: when it fires, which period a firing stands for, what it does."""

    name: str
    description: str
    trigger: Callable[[Settings], BaseTrigger]
    period: Callable[[dt.datetime], str]  # local fire time -> period key
    func: Callable[[JobContext], Awaitable[dict[str, Any]]]
    lookback: dt.timedelta = dt.timedelta(days=8)
    catch_up: bool = True
    validate_period: Callable[[str], bool] = field(default=lambda _p: True)


@dataclass(frozen=True)
class JobOutcome:
    """What one attempt to run a job did."""

    job: str
    period: str
    status: str  # done | skipped | failed
    result: dict[str, Any]
    error: str | None = None


def last_fire_time(spec: JobSpec, settings: Settings, now: dt.datetime) -> dt.datetime | None:
    """Return the latest time ≤ ``now`` the job was due (local tz), within its lookback."""
    trigger = spec.trigger(settings)
    tz = settings.scheduler.tz
    now_local = now.astimezone(tz)
    fire = trigger.get_next_fire_time(None, now_local - spec.lookback)
    last = None
    while fire is not None and fire <= now_local:
        last = fire
        fire = trigger.get_next_fire_time(fire, fire + dt.timedelta(seconds=1))
    return last


async def run_job(
    runtime: Runtime,
    spec: JobSpec,
    *,
    bot: Any = None,
    period: str | None = None,
    now: dt.datetime | None = None,
    force: bool = False,
) -> JobOutcome:
    """Run ``spec`` for ``period`` (default: its latest due period) unless already done."""
    now = now or runtime.now()
    if period is None:
        fired = last_fire_time(spec, runtime.settings, now)
        period = spec.period((fired or now).astimezone(runtime.settings.scheduler.tz))
    async with runtime.sessions() as session, session.begin():
        run = await job_store.claim_run(
            session=session,
            job=spec.name,
            period=period,
            now=now,
            stale_after=STALE_AFTER,
            force=force,
        )
        run_id = run.id if run is not None else None
    if run_id is None:
        log.info("job period already done or running", extra={"job": spec.name, "period": period})
        return JobOutcome(spec.name, period, "skipped", {})
    log.info("job started", extra={"job": spec.name, "period": period})
    try:
        result = await spec.func(JobContext(runtime=runtime, bot=bot, period=period, now=now))
    except Exception as exc:
        log.exception("job failed", extra={"job": spec.name, "period": period})
        error = f"{type(exc).__name__}: {exc}"[:2000]
        async with runtime.sessions() as session, session.begin():
            await job_store.finish_run(
                session=session, run_id=run_id, now=runtime.now(), error=error
            )
        return JobOutcome(spec.name, period, "failed", {}, error)
    async with runtime.sessions() as session, session.begin():
        await job_store.finish_run(
            session=session, run_id=run_id, now=runtime.now(), result=result
        )
    log.info("job done", extra={"job": spec.name, "period": period, "result": result})
    return JobOutcome(spec.name, period, "done", result)


class Scheduler:
    """Fire the given jobs on time and catch up the latest missed period on start."""

    def __init__(self, runtime: Runtime, jobs: Mapping[str, JobSpec], bot: Any = None) -> None:
        self.runtime = runtime
        self.jobs = dict(jobs)
        self.bot = bot
        self._aps = AsyncIOScheduler(
            timezone=runtime.settings.scheduler.tz,
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                # A late firing still runs (the default grace of 1 s skips it);
                # job_run makes sure it runs only once per period.
                "misfire_grace_time": 6 * 3600,
            },
        )

    async def catch_up(self, now: dt.datetime | None = None) -> list[JobOutcome]:
        """Run each job's latest due period if it has not run (e.g. the bot was down)."""
        now = now or self.runtime.now()
        outcomes = []
        for spec in self.jobs.values():
            if not spec.catch_up:
                continue
            fired = last_fire_time(spec, self.runtime.settings, now)
            if fired is None:
                continue
            period = spec.period(fired)
            async with self.runtime.sessions() as session:
                existing = await job_store.get_run(session=session, job=spec.name, period=period)
            if existing is not None and existing.status == "done":
                continue
            outcomes.append(
                await run_job(self.runtime, spec, bot=self.bot, period=period, now=now)
            )
        return outcomes

    async def _fire(self, name: str) -> None:
        await run_job(self.runtime, self.jobs[name], bot=self.bot)

    def start(self) -> None:
        """Add every job with its fixed id and start firing."""
        for spec in self.jobs.values():
            self._aps.add_job(
                self._fire,
                trigger=spec.trigger(self.runtime.settings),
                id=spec.name,
                name=spec.name,
                args=[spec.name],
                replace_existing=True,
            )
        self._aps.start()

    def shutdown(self) -> None:
        """Stop firing; running jobs finish on their own."""
        if self._aps.running:
            self._aps.shutdown(wait=False)


def scheduler_service(
    jobs: Mapping[str, JobSpec],
) -> Callable[[Any, asyncio.Event], Coroutine[Any, Any, None]]:
    """Return the service that runs the scheduler inside `kepubot run` until ``stop``."""

    async def run_scheduler(app: Any, stop: asyncio.Event) -> None:
        runtime = runtime_of(app)
        if not runtime.settings.scheduler.enabled:
            return
        scheduler = Scheduler(runtime, jobs, app.bot)
        runtime.extras["scheduler"] = scheduler
        delay = 1.0
        while not stop.is_set():
            try:
                await scheduler.catch_up()
                break
            except Exception:  # the database is unreachable or locked: retry, never die
                log.exception("scheduler catch-up failed")
                try:
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                except TimeoutError:
                    delay = min(delay * 2, 60.0)
        scheduler.start()
        try:
            await stop.wait()
        finally:
            scheduler.shutdown()

    return run_scheduler

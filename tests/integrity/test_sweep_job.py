"""The daily integrity sweep as a scheduled job: runs once per day, raises findings once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.jobs import INTEGRITY_SWEEP
from bot.runtime.context import Runtime
from bot.runtime.scheduler import run_job
from bot.sandbox.factories import make_region_tree, make_station
from storage.models import IntegrityFlag

NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)


async def test_sweep_job_raises_paper_stations_once(runtime: Runtime) -> None:
    async with runtime.sessions() as s, s.begin():
        await make_region_tree(s)
        station = await make_station(s)  # recognised, no informant, nothing done
    first = await run_job(runtime, INTEGRITY_SWEEP, period="2026-11-23", now=NOW)
    assert first.status == "done" and first.result["raised"] == {"paper_station": 1}
    again = await run_job(runtime, INTEGRITY_SWEEP, period="2026-11-23", now=NOW)
    assert again.status == "skipped"  # the day's period ran already
    forced = await run_job(runtime, INTEGRITY_SWEEP, period="2026-11-23", now=NOW, force=True)
    assert forced.status == "done" and forced.result["raised"] == {}  # idempotent anyway
    async with runtime.sessions() as s:
        flags = (await s.execute(select(IntegrityFlag))).scalars().all()
    assert [(f.kind, f.subject_id, f.status) for f in flags] == [
        ("paper_station", station.id, "open")
    ]

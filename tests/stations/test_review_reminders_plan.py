"""Late reviews on both databases (the job without the sandbox): days counted in the local
timezone, once per waiting period, a resubmission waits anew, unreachable people skipped."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot import jobs
from bot.runtime.context import Runtime
from bot.runtime.scheduler import run_job
from bot.sandbox.factories import make_grant, make_person, make_region_tree, make_station
from storage.models import AuditLog, OutboxMessage, Station
from tests.conftest import FixedClock

# 23 Nov 20:00 UTC is already 24 Nov in Beijing: the waiting starts on the 24th.
SUBMITTED = dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.UTC)


async def _setup(runtime: Runtime) -> tuple[int, int, int]:
    async with runtime.sessions() as s, s.begin():
        await make_region_tree(s)
        county = await make_person(s, telegram_id=11, first_name="县")
        gone = await make_person(s, telegram_id=12, first_name="已屏蔽", unreachable=True)
        city = await make_person(s, telegram_id=13, first_name="市", language="en")
        for person, code in ((county, "330106"), (gone, "330106"), (city, "330100")):
            assert person.id is not None
            await make_grant(s, person_id=person.id, role="coordinator", region_code=code)
        station = await make_station(s, name="文三路e站", status="submitted", created_at=SUBMITTED)
        station.submitted_at = SUBMITTED
        assert station.id is not None and county.id is not None and city.id is not None
        return station.id, county.id, city.id


async def _day(runtime: Runtime, clock: FixedClock, day: str) -> dict[str, object]:
    clock.set(dt.datetime.fromisoformat(f"{day}T02:00:00+00:00"))
    outcome = await run_job(runtime, jobs.REMINDERS, period=day)
    assert outcome.status == "done", outcome.error
    return dict(outcome.result)


async def _outbox(runtime: Runtime) -> list[OutboxMessage]:
    async with runtime.sessions() as s:
        rows = await s.execute(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith("review:"))
        )
        return sorted(rows.scalars(), key=lambda m: m.id or 0)


async def test_days_once_each_and_a_resubmission_waits_anew(
    runtime: Runtime, clock: FixedClock
) -> None:
    station_id, county_id, city_id = await _setup(runtime)
    # Defaults: reminder after 5 days, escalation after 10. 28 Nov is day 4 in Beijing.
    assert "review_remind" not in await _day(runtime, clock, "2026-11-28")
    assert (await _day(runtime, clock, "2026-11-29"))["review_remind"] == 1
    [reminder] = await _outbox(runtime)
    assert reminder.chat_id == 11  # the unreachable county coordinator is skipped
    assert "已等待县级审核 5 天" in reminder.payload["text"]
    assert reminder.payload["rows"][-1] == [
        {"text": "📄 在机器人中打开申报", "callback_data": f"REV:open:{station_id}"}
    ]
    assert len(reminder.payload["rows"]) == 1  # http: no Mini App button
    assert "review_remind" not in await _day(runtime, clock, "2026-11-30")
    assert (await _day(runtime, clock, "2026-12-04"))["review_escalate"] == 1
    told = (await _outbox(runtime))[-1]
    assert told.chat_id == 13 and told.payload["text"].startswith("⚠ Overdue review: 文三路e站")
    assert "waited 10 days for county review" in told.payload["text"]
    assert "reminded after 5 days" in told.payload["text"]
    assert "review_escalate" not in await _day(runtime, clock, "2026-12-05")

    # Rejected, then resubmitted on 6 Dec: it waits anew and is reminded anew.
    async with runtime.sessions() as s, s.begin():
        station = await s.get(Station, station_id)
        assert station is not None
        station.submitted_at = dt.datetime(2026, 12, 6, 2, tzinfo=dt.UTC)
    assert "review_remind" not in await _day(runtime, clock, "2026-12-10")
    assert (await _day(runtime, clock, "2026-12-11"))["review_remind"] == 1
    async with runtime.sessions() as s:
        entries = list(
            (
                await s.execute(select(AuditLog).where(AuditLog.action.startswith("review.")))
            ).scalars()
        )
    assert [(e.action, e.detail["days"], e.detail["to"]) for e in entries] == [
        ("review.remind", 5, [county_id]),
        ("review.escalate", 10, [city_id]),
        ("review.remind", 5, [county_id]),
    ]
    assert entries[0].detail["since"] != entries[2].detail["since"]

"""Daily reminders: idle informants (once per 14 days), idle stations, rectification."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot import jobs
from bot.runtime.context import Runtime
from bot.runtime.scheduler import run_job
from storage.models import (
    ContentItem,
    Informant,
    OutboxMessage,
    Person,
    RoleGrant,
    ShareEvent,
    Station,
)
from tests.conftest import FixedClock
from tests.factories import make_regions

LONG_AGO = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)


async def _setup(runtime: Runtime) -> dict[str, int]:
    ids: dict[str, int] = {}
    async with runtime.sessions() as s, s.begin():
        await make_regions(s)
        people = {}
        for key, tg in (("idle", 1), ("busy", 2), ("admin", 3), ("county", 4), ("admin2", 5)):
            p = Person(telegram_id=tg, first_name=key, created_at=LONG_AGO)
            s.add(p)
            await s.flush()
            people[key] = p.id
        quiet = Station(
            name="安静站",
            venue_type="school",
            region_code="330106",
            status="recognised",
            created_at=LONG_AGO,
        )
        fixing = Station(
            name="整改站",
            venue_type="school",
            region_code="330106",
            status="rectifying",
            created_at=LONG_AGO,
            rectify_deadline=dt.date(2026, 11, 28),
        )
        s.add_all([quiet, fixing])
        await s.flush()
        ids["quiet"], ids["fixing"] = quiet.id, fixing.id  # type: ignore[assignment]
        item = ContentItem(
            guid="g",
            title="x",
            category="health",
            kind="video",
            url="https://e.org",
            created_at=LONG_AGO,
        )
        s.add(item)
        await s.flush()
        for key in ("idle", "busy"):
            inf = Informant(
                person_id=people[key], station_id=quiet.id, consent_at=LONG_AGO, joined_at=LONG_AGO
            )
            s.add(inf)
            await s.flush()
            ids[key] = inf.id  # type: ignore[assignment]
        s.add(
            ShareEvent(
                informant_id=ids["busy"],
                station_id=quiet.id,
                content_id=item.id,
                channel="wechat_group",
                day=dt.date(2026, 11, 20),
                dedupe_key="k",
                created_at=LONG_AGO,
            )
        )
        for person, station in (("admin", quiet.id), ("admin2", fixing.id)):
            s.add(
                RoleGrant(
                    person_id=people[person],
                    role="station_admin",
                    station_id=station,
                    scope_key=f"s:{station}",
                    granted_at=LONG_AGO,
                )
            )
        s.add(
            RoleGrant(
                person_id=people["county"],
                role="coordinator",
                region_code="330106",
                scope_key="r:330106",
                granted_at=LONG_AGO,
            )
        )
    return ids


async def _keys(runtime: Runtime) -> list[str]:
    async with runtime.sessions() as s:
        return sorted((await s.execute(select(OutboxMessage.dedupe_key))).scalars())


async def test_reminders_are_due_once(runtime: Runtime, clock: FixedClock) -> None:
    ids = await _setup(runtime)
    spec = jobs.REMINDERS
    # Monday 23 Nov: deadline 28 Nov is 5 days away → the 7-day notice.
    first = await run_job(runtime, spec, period="2026-11-23")
    assert first.result["idle_informant"] == 1 and first.result["idle_station"] == 2
    assert first.result["rectify_notice"] == 1
    keys = await _keys(runtime)
    assert f"reminder:idle_informant:{ids['idle']}:2026-11-23" in keys
    assert not any(f"idle_informant:{ids['busy']}:" in k for k in keys)
    assert any(k.startswith(f"reminder:rectify:{ids['fixing']}:2026-11-28:7:") for k in keys)
    async with runtime.sessions() as s:
        texts = {
            m.dedupe_key: m.payload["text"]
            for m in (await s.execute(select(OutboxMessage))).scalars()
        }
    assert "两周没有转发" in texts[f"reminder:idle_informant:{ids['idle']}:2026-11-23"]
    # Forced again the same day: dedupe keys make it a no-op.
    again = await run_job(runtime, spec, period="2026-11-23", force=True)
    assert again.result["enqueued"] == 0
    # Next day: the idle informant and idle stations are not nagged again.
    clock.advance(days=1)
    nxt = await run_job(runtime, spec, period="2026-11-24")
    assert "idle_informant" not in nxt.result and "idle_station" not in nxt.result
    # 27 Nov: one day left → the 1-day notice; 29 Nov: overdue → admin and county.
    clock.set(dt.datetime(2026, 11, 27, 2, tzinfo=dt.UTC))
    assert (await run_job(runtime, spec, period="2026-11-27")).result["rectify_notice"] == 1
    clock.set(dt.datetime(2026, 11, 29, 2, tzinfo=dt.UTC))
    overdue = await run_job(runtime, spec, period="2026-11-29")
    assert overdue.result["rectify_overdue"] == 2
    assert (await run_job(runtime, spec, period="2026-11-30")).result.get(
        "rectify_overdue", 0
    ) == 2  # planned again but already enqueued
    # Fifteen days after the first nudge the informant is due again.
    clock.set(dt.datetime(2026, 12, 8, 2, tzinfo=dt.UTC))
    later = await run_job(runtime, spec, period="2026-12-08")
    assert later.result["idle_informant"] == 2  # busy's share of 20 Nov is old by now too

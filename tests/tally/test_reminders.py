"""Daily reminders: idle informants (once per 14 days), idle stations, rectification."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot import jobs
from bot.runtime.context import Runtime
from bot.runtime.scheduler import run_job
from bot.sandbox.factories import (
    make_content,
    make_grant,
    make_informant,
    make_person,
    make_region_tree,
    make_share,
    make_station,
)
from storage.models import OutboxMessage, Person
from tests.conftest import FixedClock

LONG_AGO = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)


async def _setup(runtime: Runtime) -> dict[str, int]:
    ids: dict[str, int] = {}
    async with runtime.sessions() as s, s.begin():
        await make_region_tree(s)
        people = {}
        for key, tg in (("idle", 1), ("busy", 2), ("admin", 3), ("county", 4), ("admin2", 5)):
            p = await make_person(s, telegram_id=tg, first_name=key, created_at=LONG_AGO)
            assert p.id is not None
            people[key] = p.id
        quiet = await make_station(s, name="安静站", venue_type="school", created_at=LONG_AGO)
        fixing = await make_station(
            s,
            name="整改站",
            venue_type="school",
            status="rectifying",
            created_at=LONG_AGO,
            rectify_deadline=dt.date(2026, 11, 28),
        )
        assert quiet.id is not None and fixing.id is not None
        ids["quiet"], ids["fixing"] = quiet.id, fixing.id
        item = await make_content(
            s, guid="g", title="x", kind="video", url="https://e.org", created_at=LONG_AGO
        )
        assert item.id is not None
        for key in ("idle", "busy"):
            inf = await make_informant(
                s,
                station_id=quiet.id,
                person=await s.get(Person, people[key]),
                real_name=None,
                consent_at=LONG_AGO,
                joined_at=LONG_AGO,
            )
            assert inf.id is not None
            ids[key] = inf.id
        await make_share(
            s,
            informant_id=ids["busy"],
            station_id=quiet.id,
            content_id=item.id,
            channel="wechat_group",
            day=dt.date(2026, 11, 20),
            dedupe_key="k",
            created_at=LONG_AGO,
        )
        for person, station in (("admin", quiet.id), ("admin2", fixing.id)):
            await make_grant(
                s,
                person_id=people[person],
                role="station_admin",
                station_id=station,
                granted_at=LONG_AGO,
            )
        await make_grant(
            s,
            person_id=people["county"],
            role="coordinator",
            region_code="330106",
            granted_at=LONG_AGO,
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
    assert "两周没有分享" in texts[f"reminder:idle_informant:{ids['idle']}:2026-11-23"]
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

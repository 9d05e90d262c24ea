"""Demo scene: Monday after the scripted week — the weekly tally, then the coordinators' digest.

Reads ``demo.state``: "station_id" (the scripted station; given a region if it has none),
"region_code" (its county, default 330106 西湖区), "coordinator_keys" ({"county": key,
"city": key}; created when missing). Sets "coordinator_keys", "digest_files" (paths).
So that the chart has a trend and the top list has rivals, eight neighbouring stations get
twelve weeks of generated history, said so in the transcript.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from bot.core.periods import parse_week
from bot.jobs import WEEKLY_DIGEST, WEEKLY_TALLY, outcome_text
from bot.reports.windows import week_text
from bot.runtime.scheduler import run_job
from bot.sandbox.factories import (
    activity_row,
    insert_rows,
    make_content,
    make_informant,
    make_link,
    make_region,
    make_station,
    share_row,
    visit_row,
)
from bot.sandbox.stage import SHANGHAI, Demo
from bot.services import regions as region_service
from bot.services import roles as role_service
from bot.services.tally import shift_week
from storage.models import Activity, LinkVisit, Region, ShareEvent, Station

WEEK = "2026-W48"
HISTORY_WEEKS = 12
NEIGHBOURS = (
    ("西湖区灵隐街道科普e站", "330106"),
    ("西湖区翠苑社区科普e站", "330106"),
    ("西湖区转塘中学科普e站", "330106"),
    ("上城区湖滨街道科普e站", "330102"),
    ("上城区南星社区科普e站", "330102"),
    ("拱墅区米市巷科普e站", "330105"),
    ("拱墅区大关医院科普e站", "330105"),
    ("西湖区双浦镇农技协科普e站", "330106"),
)
CHANNELS = ShareEvent.CHANNELS


async def _ensure_world(demo: Demo) -> tuple[str, str]:
    """Make sure regions exist and the scripted station sits in a county; return codes."""
    runtime = demo.bot.runtime
    county = str(demo.state.get("region_code") or "330106")
    async with runtime.sessions() as session, session.begin():
        if await session.get(Region, county) is None:
            await region_service.import_sample(session=session, now=runtime.now())
        for code in ("330102", "330105"):
            await make_region(session, code=code)
        station_id = demo.state.get("station_id")
        station = await session.get(Station, station_id) if station_id else None
        if station is not None and station.region_code is None:
            station.region_code = county
        if station is not None and station.region_code:
            county = station.region_code
    return county, county[:4] + "00"


async def _coordinators(demo: Demo, county: str, city: str) -> dict[str, Any]:
    """Return the county and city coordinators, granting the roles when missing."""
    keys = dict(demo.state.get("coordinator_keys") or {})
    names = {"county": "西湖区科协 李老师", "city": "杭州市科协 陈老师"}
    users = {}
    for level, region in (("county", county), ("city", city)):
        key = keys.get(level) or f"{level}_coordinator"
        fresh = key not in demo.users
        user = demo.user(key, names[level])
        if fresh:
            await demo.command(user, "start", show=False)
        async with demo.bot.runtime.sessions() as session, session.begin():
            await role_service.grant(
                session=session,
                telegram_id=user.id,
                role="coordinator",
                region_code=region,
                now=demo.bot.runtime.now(),
            )
        keys[level], users[level] = key, user
    demo.state["coordinator_keys"] = keys
    return users


async def _history(demo: Demo) -> tuple[int, int]:
    """Give the neighbouring stations twelve weeks of shares, visits and activities."""
    runtime = demo.bot.runtime
    rng = random.Random(48)
    now = runtime.now()
    shares: list[dict[str, Any]] = []
    visits: list[dict[str, Any]] = []
    activities: list[dict[str, Any]] = []
    async with runtime.sessions() as session, session.begin():
        item = await make_content(
            session,
            guid="demo-digest-history",
            title="秋冬季流感预防",
            url="https://www.kepuchina.cn/",
            created_at=now,
        )
        assert item.id is not None
        for index, (name, county) in enumerate(NEIGHBOURS):
            station = await make_station(
                session, name=name, county=county, created_at=now, recognised_at=now
            )
            assert station.id is not None
            informants = []
            for n in range(3):
                informant = await make_informant(
                    session,
                    station_id=station.id,
                    real_name=f"信息员{index}{n}",
                    consent_at=now - dt.timedelta(days=120),
                    joined_at=now - dt.timedelta(days=120),
                )
                assert informant.id is not None
                link = await make_link(
                    session,
                    code=f"demo{index}{n}",
                    informant_id=informant.id,
                    content_id=item.id,
                    created_at=now,
                )
                assert link.id is not None
                informants.append((informant.id, link.id))
            pace = 0.3 + 0.25 * (len(NEIGHBOURS) - index)  # some busier than others
            for back in range(HISTORY_WEEKS):
                week = shift_week(WEEK, -back)
                if index == len(NEIGHBOURS) - 1 and back == 0:
                    continue  # the last one falls silent this week
                monday = dt.date.fromisocalendar(int(week[:4]), int(week[6:]), 1)
                for k in range(int(rng.randint(3, 12) * pace * (1 + 0.04 * (12 - back)))):
                    informant_id, link_id = informants[k % 3]
                    channel = CHANNELS[rng.randrange(len(CHANNELS))]
                    day = monday + dt.timedelta(days=rng.randrange(7))
                    audience = rng.choice((0, 40, 120, 200, 350))
                    shares.append(
                        share_row(
                            informant_id=informant_id,
                            station_id=station.id,
                            content_id=item.id,
                            channel=channel,
                            audience=audience,
                            day=day,
                            dedupe_key=f"demo-history:{station.id}:{week}:{k}",
                            created_at=now,
                        )
                    )
                    for v in range(rng.randrange(4)):
                        visits.append(
                            visit_row(
                                link_id=link_id,
                                day=day,
                                visitor_hash=f"h{k}-{v}-{week}",
                                created_at=now,
                            )
                        )
                if back % 2 == index % 2:
                    activities.append(
                        activity_row(
                            station_id=station.id,
                            title="健康科普讲座",
                            held_on=monday + dt.timedelta(days=5),
                            participants=rng.randint(20, 80),
                            created_at=now,
                        )
                    )
        await insert_rows(session, ShareEvent, shares)
        await insert_rows(session, LinkVisit, visits)
        await insert_rows(session, Activity, activities)
    return len(shares), len(activities)


async def play(demo: Demo) -> None:
    """Play the scene."""
    t = demo.t
    runtime = demo.bot.runtime
    demo.scene(t("Monday: the weekly tally and the coordinators' digest"))
    county, city = await _ensure_world(demo)
    users = await _coordinators(demo, county, city)
    n_shares, n_activities = await _history(demo)
    demo.narrate(
        t(
            "Background: {n} neighbouring stations get 12 weeks of generated history "
            "({shares} shares, {activities} activities), so the chart has a trend.",
            n=len(NEIGHBOURS),
            shares=t.number(n_shares),
            activities=t.number(n_activities),
        )
    )
    await demo.settle()
    demo.clock.set_local(dt.datetime(2026, 11, 30, 1, 0, tzinfo=SHANGHAI))
    week = week_text(t, WEEK, *parse_week(WEEK))
    demo.narrate(t("Monday 30 November, 01:00: the weekly tally job counts {week}.", week=week))
    for back in range(HISTORY_WEEKS - 1, 0, -1):
        await run_job(runtime, WEEKLY_TALLY, period=shift_week(WEEK, -back))
    outcome = await run_job(runtime, WEEKLY_TALLY, period=WEEK)
    demo.narrate(outcome_text(outcome, t))
    demo.clock.set_local(dt.datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI))
    demo.narrate(t("09:00: the weekly digest job sends each coordinator their region's digest."))
    bot = demo.bot.processor.application.bot
    outcome = await run_job(runtime, WEEKLY_DIGEST, bot=bot, period=WEEK)
    demo.narrate(outcome_text(outcome, t))
    files = []
    for level, region in (("county", county), ("city", city)):
        user = users[level]
        for message in await demo.replies(user):
            if message.photo:
                png = message.media_bytes()
                assert png is not None
                files.append(demo.save_file(f"digest-{region}.png", png))
            if message.document:
                xlsx = message.document_bytes()
                assert xlsx is not None
                files.append(demo.save_file(f"digest-{region}.xlsx", xlsx))
    demo.narrate(t("Run again (a restart, or --force): nobody gets the digest twice."))
    again = await run_job(runtime, WEEKLY_DIGEST, bot=bot, period=WEEK, force=True)
    demo.narrate(outcome_text(again, t))
    demo.state["digest_files"] = [str(path) for path in files]

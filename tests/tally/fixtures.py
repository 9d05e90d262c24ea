"""A hand-computed week (2026-W48, Mon 23 – Sun 29 Nov) of shares, visits and activities.

Expected figures are spelled out in ``EXPECTED_STATIONS`` / ``EXPECTED_REGIONS``; the
comments in ``build_week`` say where each number comes from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from bot.sandbox.factories import (
    NOW,
    make_activity,
    make_content,
    make_content_use,
    make_flag,
    make_grant,
    make_informant,
    make_link,
    make_person,
    make_region_tree,
    make_station,
    make_visit,
    share_row,
)
from storage.models import Person, ShareEvent
from storage.upsert import insert_for

WEEK = "2026-W48"
D = dt.date


@dataclass
class World:
    """Ids of what ``build_week`` created."""

    stations: dict[str, int] = field(default_factory=dict)
    informants: dict[str, int] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    content_id: int = 0


EXPECTED_STATIONS = {
    # A: inline 0 + forward 150 (Telegram), WeChat 200 + QQ 50 (reported); 3 visits;
    # one lecture of 40 (a deleted exhibition and an earlier consultation do not count).
    "A": dict(
        shares_total=4,
        shares_telegram_inline=1,
        shares_telegram_forward=1,
        shares_wechat_group=1,
        shares_qq_group=1,
        shares_wechat_moments=0,
        shares_public_account=0,
        shares_other=0,
        sharing_informants=2,
        active_informants=2,
        informants=2,
        reach_telegram=150,
        reach_reported=250,
        visits=3,
        activities=1,
        participants=40,
        content_uses=0,
        content_use_audience=0,
        volume=282.0,
        silent=False,
    ),
    # B (rectifying, still counted): one public-account share of 100; a video played to 30.
    "B": dict(
        shares_total=1,
        shares_public_account=1,
        sharing_informants=1,
        active_informants=1,
        informants=1,
        reach_telegram=0,
        reach_reported=100,
        visits=0,
        activities=0,
        participants=0,
        content_uses=1,
        content_use_audience=30,
        volume=51.0,
        silent=False,
    ),
    # C: no share this week, but 2 visits to an older link: active yet silent.
    "C": dict(
        shares_total=0,
        sharing_informants=0,
        active_informants=1,
        informants=1,
        visits=2,
        activities=0,
        content_uses=0,
        volume=2.0,
        silent=True,
    ),
    # D: one forward to a group of 40 and a lecture of 25.
    "D": dict(
        shares_total=1,
        shares_telegram_forward=1,
        sharing_informants=1,
        active_informants=1,
        informants=1,
        reach_telegram=40,
        reach_reported=0,
        visits=0,
        activities=1,
        participants=25,
        volume=41.0,
        silent=False,
    ),
}

EXPECTED_REGIONS = {
    "330106": dict(
        level="county",
        shares_total=5,
        sharing_informants=3,
        active_informants=3,
        informants=3,
        reach_telegram=150,
        reach_reported=350,
        visits=3,
        activities=1,
        participants=40,
        content_uses=1,
        volume=333.0,
        stations_counted=2,
        stations_silent=0,
    ),
    "330108": dict(
        level="county", shares_total=0, visits=2, volume=2.0, stations_counted=1, stations_silent=1
    ),
    "330203": dict(
        level="county", shares_total=1, volume=41.0, stations_counted=1, stations_silent=0
    ),
    "330100": dict(
        level="city",
        shares_total=5,
        visits=5,
        activities=1,
        volume=335.0,
        stations_counted=3,
        stations_silent=1,
    ),
    "330200": dict(level="city", shares_total=1, volume=41.0, stations_counted=1),
    "330000": dict(
        level="province",
        shares_total=6,
        sharing_informants=4,
        active_informants=5,
        informants=5,
        reach_telegram=190,
        reach_reported=350,
        visits=5,
        activities=2,
        participants=65,
        content_uses=1,
        volume=376.0,
        stations_counted=4,
        stations_silent=1,
    ),
}


async def build_week(session: AsyncSession) -> World:
    """Insert the regions, stations and events of the hand-computed week."""
    w = World()
    await make_region_tree(session)
    for key, name, region, status in (
        ("A", "西湖一站", "330106", "recognised"),
        ("B", "西湖二站", "330106", "rectifying"),
        ("C", "滨江站", "330108", "recognised"),
        ("D", "海曙站", "330203", "recognised"),
        ("E", "草稿站", "330106", "submitted"),  # not counted: its events are ignored
        ("F", "待复核站", "330108", "county_approved"),
    ):
        station = await make_station(
            session, name=name, venue_type="school", county=region, status=status
        )
        assert station.id is not None
        w.stations[key] = station.id
    item = await make_content(
        session,
        guid="g1",
        title="防诈骗",
        category="safety",
        kind="video",
        url="https://example.org/1",
    )
    assert item.id is not None
    w.content_id = item.id
    joined = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    for key, station, consent, removed in (
        ("a1", "A", True, None),
        ("a2", "A", True, None),
        ("a3", "A", False, None),  # never consented: not registered
        ("b1", "B", True, None),
        ("b2", "B", True, dt.datetime(2026, 11, 20, tzinfo=dt.UTC)),  # left before the week
        ("c1", "C", True, None),
        ("d1", "D", True, None),
        ("e1", "E", True, None),
    ):
        informant = await make_informant(
            session,
            station_id=w.stations[station],
            real_name=key,
            joined_at=joined,
            consent_at=joined if consent else None,
            removed_at=removed,
        )
        assert informant.id is not None
        w.informants[key] = informant.id
    shares = [
        ("a1", "telegram_inline", 0, D(2026, 11, 23)),
        ("a1", "telegram_forward", 150, D(2026, 11, 24)),
        ("a1", "wechat_group", 200, D(2026, 11, 25)),
        ("a2", "qq_group", 50, D(2026, 11, 29)),  # Sunday: inside
        ("a2", "wechat_moments", 30, D(2026, 11, 30)),  # next Monday: outside
        ("b1", "public_account", 100, D(2026, 11, 26)),
        ("b1", "other", 10, D(2026, 11, 22)),  # Sunday before: outside
        ("d1", "telegram_forward", 40, D(2026, 11, 27)),
        ("e1", "telegram_inline", 0, D(2026, 11, 24)),  # uncounted station
        ("c1", "wechat_group", 80, D(2026, 11, 16)),  # week before
    ]
    rows = [
        share_row(
            informant_id=w.informants[who],
            station_id=_station_of(w, who),
            content_id=item.id,
            channel=channel,
            audience=audience,
            day=day,
            dedupe_key=f"{who}:{channel}:{day}",
        )
        for who, channel, audience, day in shares
    ]
    stmt = insert_for(session, ShareEvent.__table__).on_conflict_do_nothing(
        index_elements=["dedupe_key"]
    )
    await session.execute(stmt, rows)
    await session.execute(stmt, rows[:3])  # a redelivered batch: deduplicated, no new rows
    links = {}
    for who, channel in (
        ("a1", "telegram_inline"),
        ("c1", "wechat_group"),
        ("e1", "telegram_inline"),
    ):
        link = await make_link(
            session,
            code=f"L{who}",
            informant_id=w.informants[who],
            content_id=item.id,
            channel=channel,
        )
        assert link.id is not None
        links[who] = link.id
    for who, day, visitor in (
        ("a1", D(2026, 11, 23), "v1"),
        ("a1", D(2026, 11, 23), "v2"),
        ("a1", D(2026, 11, 24), "v1"),
        ("a1", D(2026, 11, 30), "v1"),  # last: outside
        ("c1", D(2026, 11, 25), "v1"),
        ("c1", D(2026, 11, 25), "v3"),
        ("e1", D(2026, 11, 25), "v1"),  # uncounted station
    ):
        await make_visit(session, link_id=links[who], day=day, visitor_hash=visitor)
    for station, kind, day, participants, deleted in (
        ("A", "lecture", D(2026, 11, 24), 40, False),
        ("A", "exhibition", D(2026, 11, 28), 60, True),  # deleted: not counted
        ("A", "consultation", D(2026, 11, 21), 10, False),  # the week before
        ("D", "lecture", D(2026, 11, 29), 25, False),
        ("E", "lecture", D(2026, 11, 25), 99, False),  # uncounted station
    ):
        await make_activity(
            session,
            station_id=w.stations[station],
            type=kind,
            title=f"{kind}",
            held_on=day,
            participants=participants,
            deleted_at=NOW if deleted else None,
        )
    await make_content_use(
        session,
        station_id=w.stations["B"],
        content_id=item.id,
        use_kind="played",
        audience=30,
        used_on=D(2026, 11, 25),
    )
    await make_content_use(
        session,
        station_id=w.stations["B"],
        content_id=item.id,
        use_kind="posted",
        audience=5,
        used_on=D(2026, 12, 1),
    )  # outside
    return w


def _station_of(w: World, who: str) -> int:
    return w.stations[who[0].upper()]


async def add_flags_and_people(session: AsyncSession, w: World) -> None:
    """Add integrity flags of the week (and one outside it) and the coordinators."""
    inside = dt.datetime(2026, 11, 25, 4, 0, tzinfo=dt.UTC)
    for kind, station, region, at in (
        ("photo_reuse", "A", None, inside),
        ("participants_high", "A", None, inside),
        ("audience_capped", "D", None, inside),  # Ningbo: not Hangzhou's
        ("application_burst", None, "330100", inside),
        ("photo_reuse", "A", None, dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)),  # next wk
    ):
        await make_flag(
            session,
            kind=kind,
            station_id=w.stations[station] if station else None,
            region_code=region,
            created_at=at,
        )
    for key, telegram_id, region, language in (
        ("county", 9001, "330106", None),
        ("city", 9002, "330100", "zh_CN"),
        ("province", 9003, "330000", "en"),
    ):
        person = await make_person(
            session, telegram_id=telegram_id, first_name=key, language=language
        )
        assert person.id is not None
        await make_grant(session, person_id=person.id, role="coordinator", region_code=region)
        w.people[key] = person

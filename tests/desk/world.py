"""A small province for the desk's tests: stations in three counties, events, viewers.

Zhejiang (330000) > Hangzhou (330100) > Xihu (330106), Binjiang (330108);
Zhejiang > Ningbo (330200) > Haishu (330203). FIXED_NOW is Monday 2026-11-23 (week 48).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.sandbox.factories import (
    TODAY,
    make_activity,
    make_content,
    make_content_use,
    make_flag,
    make_grant,
    make_informant,
    make_person,
    make_region_tree,
    make_share,
    make_station,
)
from storage import audit
from storage.models import ActivityPhoto, StationReview
from tests.conftest import FIXED_NOW

# Telegram ids of the viewers.
NOBODY = 700  # talked to the bot, no role
INFORMANT = 701  # an informant, no role
STATION_ADMIN = 601  # admin of 西湖区文化站
COUNTY = 611  # 西湖区科协
CITY = 621  # 杭州市科协
PROVINCE = 631  # 浙江省科协
CURATOR = 641
ADMIN = 651
NINGBO = 622  # 宁波市科协


@dataclass
class World:
    """The ids tests refer to."""

    xihu: int  # 西湖区文化站, recognised, active this week
    xihu_idle: int  # 西湖区老年大学, recognised, never active
    binjiang: int  # 滨江区图书馆, recognised, active two weeks ago
    haishu: int  # 海曙区科技馆, recognised, active this week
    pending: int  # 西湖区实验小学, submitted (awaiting county review)
    finding: int
    activity: int
    photo: int


async def seed(s: AsyncSession) -> World:
    """Build the world and its viewers."""
    await make_region_tree(s)
    xihu = await make_station(s, name="西湖区文化站", county="330106")
    idle = await make_station(s, name="西湖区老年大学", county="330106")
    binjiang = await make_station(s, name="滨江区图书馆", county="330108")
    haishu = await make_station(s, name="海曙区科技馆", county="330203")
    pending = await make_station(s, name="西湖区实验小学", county="330106", status="submitted")
    ids = [x.id for x in (xihu, idle, binjiang, haishu, pending)]
    assert all(i is not None for i in ids)
    xihu_id, idle_id, binjiang_id, haishu_id, pending_id = (int(i or 0) for i in ids)
    item = await make_content(s, title="防范电信诈骗")
    assert item.id is not None
    inf_x = await make_informant(s, station_id=xihu_id, telegram_id=INFORMANT)
    inf_h = await make_informant(s, station_id=haishu_id, telegram_id=702, real_name="李娜")
    inf_b = await make_informant(s, station_id=binjiang_id, telegram_id=703, real_name="张伟")
    assert inf_x.id and inf_h.id and inf_b.id
    for n in range(3):
        await make_share(
            s,
            informant_id=inf_x.id,
            station_id=xihu_id,
            content_id=item.id,
            day=TODAY,
            channel="wechat_group",
            audience=40,
            target=f"g{n}",
        )
    await make_share(
        s, informant_id=inf_h.id, station_id=haishu_id, content_id=item.id, day=TODAY, audience=12
    )
    two_weeks_ago = TODAY - dt.timedelta(days=14)
    await make_share(
        s, informant_id=inf_b.id, station_id=binjiang_id, content_id=item.id, day=two_weeks_ago
    )
    act = await make_activity(
        s, station_id=xihu_id, held_on=TODAY, title="垃圾分类讲座", participants=45
    )
    assert act.id is not None
    photo = ActivityPhoto(activity_id=act.id, file_id="PHOTO-FILE-1", file_unique_id="u-photo-1")
    s.add(photo)
    await s.flush()
    await make_content_use(s, station_id=xihu_id, content_id=item.id, audience=60)
    flag = await make_flag(
        s,
        kind="participants_high",
        station_id=xihu_id,
        subject_type="activity",
        subject_id=act.id,
        detail={"participants": 450, "bound": 300},
        created_at=FIXED_NOW - dt.timedelta(hours=3),
    )
    s.add(
        StationReview(
            station_id=xihu_id,
            stage="county",
            decision="county_approve",
            reason="实地核查通过",
            created_at=FIXED_NOW - dt.timedelta(days=40),
        )
    )
    viewers = [
        (NOBODY, None, None, None),
        (STATION_ADMIN, "station_admin", None, xihu_id),
        (COUNTY, "coordinator", "330106", None),
        (CITY, "coordinator", "330100", None),
        (NINGBO, "coordinator", "330200", None),
        (PROVINCE, "coordinator", "330000", None),
        (CURATOR, "curator", None, None),
        (ADMIN, "admin", None, None),
    ]
    people = {}
    for telegram_id, role, region, station in viewers:
        person = await make_person(s, telegram_id=telegram_id)
        assert person.id is not None
        if role is not None:
            await make_grant(
                s, person_id=person.id, role=role, region_code=region, station_id=station
            )
        people[telegram_id] = person
    city_person = people[CITY].id
    await audit.record(
        session=s,
        actor_id=city_person,
        action="station.city_recognise",
        now=FIXED_NOW - dt.timedelta(days=30),
        subject_type="station",
        subject_id=xihu_id,
        region_code="330106",
        reason="复核通过",
    )
    assert flag.id is not None and photo.id is not None
    return World(
        xihu=xihu_id,
        xihu_idle=idle_id,
        binjiang=binjiang_id,
        haishu=haishu_id,
        pending=pending_id,
        finding=flag.id,
        activity=act.id,
        photo=photo.id,
    )

"""A province of known shape for the evaluation tests; the expected outcome is spelt out.

Hangzhou 330100 (Xihu 330106, Binjiang 330108) and Ningbo 330200 (Haishu 330203,
Jiangbei 330205).  With the default weights (volume .5, activities .3, content use .2)
and the year 2026 evaluated in full:

    A1 100.00 commend   A2 59.88   A3 12.52 rectify (inactive)   A5 1.03 (new)
    A4 0.00 eliminate (last, inactive)
    B1 100.00 commend   B3 30.00   B2 1.82 revoke (reused photo, confirmed: its activity
    does not count)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from bot.sandbox.factories import (
    make_activity,
    make_content,
    make_content_use,
    make_flag,
    make_informant,
    make_link,
    make_person,
    make_region,
    make_share,
    make_station,
    make_visit,
)
from storage.models import Activity, Person

UTC = dt.UTC
RECOGNISED = dt.datetime(2025, 6, 1, 2, 0, tzinfo=UTC)
YEAR_END = dt.date(2026, 12, 31)
# Calendar year for every station (docs/figures.md): A5's October share, made before its
# recognition on 1 November, counts, so A5 is the best of the city on volume.
EXPECTED_SCORES = {
    "A1": 99.66,
    "A2": 59.71,
    "A3": 12.49,
    "A4": 0.0,
    "A5": 50.0,
    "B1": 100.0,
    "B2": 1.82,
    "B3": 30.0,
}
EXPECTED_PROPOSALS = {
    "A1": ("commend", "top_share"),
    "A3": ("rectify", "inactive"),
    "A4": ("eliminate", "last_inactive"),
    "B1": ("commend", "top_share"),
    "B2": ("revoke", "photo_reuse"),
}
REGIONS = [
    ("330000", "浙江省", "province", None), ("330100", "杭州市", "city", "330000"),
    ("330200", "宁波市", "city", "330000"), ("330106", "西湖区", "county", "330100"),
    ("330108", "滨江区", "county", "330100"), ("330203", "海曙区", "county", "330200"),
    ("330205", "江北区", "county", "330200"),
]  # fmt: skip


@dataclass
class World:
    """Ids of what was created, by the keys used in the module docstring."""

    stations: dict[str, int] = field(default_factory=dict)
    informants: dict[str, int] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)

    def key_of(self, station_id: int) -> str:
        return next(k for k, v in self.stations.items() if v == station_id)


async def add_regions(session: AsyncSession) -> None:
    for code, name, level, parent in REGIONS:
        await make_region(session, code=code, name=name, level=level, parent_code=parent)


async def build(session: AsyncSession, *, telegram_base: int = 9000) -> World:
    """Create the province described above."""
    await add_regions(session)
    world = World()
    now = dt.datetime(2026, 1, 1, tzinfo=UTC)
    content = await make_content(
        session,
        guid="eval-1",
        title="测试内容",
        url="https://example.org/1",
        created_at=now,
    )
    assert content.id is not None
    specs = [("A1", "西湖一站", "330106", RECOGNISED, "recognised"),
             ("A2", "西湖二站", "330106", RECOGNISED, "recognised"),
             ("A3", "滨江一站", "330108", RECOGNISED, "recognised"),
             ("A4", "滨江二站", "330108", RECOGNISED, "recognised"),
             ("A5", "滨江三站", "330108", dt.datetime(2026, 11, 1, 2, tzinfo=UTC), "recognised"),
             ("B1", "海曙一站", "330203", RECOGNISED, "recognised"),
             ("B2", "海曙二站", "330203", RECOGNISED, "recognised"),
             ("B3", "江北一站", "330205", RECOGNISED, "recognised"),
             ("B4", "江北旧站", "330205", RECOGNISED, "revoked")]  # fmt: skip
    for key, name, region, recognised, status in specs:
        station = await make_station(
            session,
            name=name,
            county=region,
            status=status,
            recognised_at=recognised,
            created_at=recognised,
        )
        assert station.id is not None
        world.stations[key] = station.id
    informants = [
        ("i1", "A1", "张一"),
        ("i2", "A1", "张二"),
        ("i3", "A2", "李三"),
        ("i4", "A3", "王四"),
        ("i5", "A5", "赵五"),
        ("i6", "B1", "钱六"),
        ("i7", "B2", "孙七"),
        ("i8", "B3", "周八"),
        ("i9", "B4", "吴九"),
    ]
    for n, (key, station_key, real_name) in enumerate(informants):
        person = await make_person(
            session, telegram_id=telegram_base + n, first_name=real_name, created_at=now
        )
        informant = await make_informant(
            session,
            person=person,
            station_id=world.stations[station_key],
            real_name=real_name,
            phone=f"+86138000000{n:02d}",
            joined_at=now,
            consent_at=now,
            forgotten_at=now if key == "i2" else None,
        )
        assert informant.id is not None
        world.informants[key] = informant.id
        world.people[key] = person
    serial = 0

    async def share(inf: str, station: str, day: dt.date, channel: str, audience: int) -> None:
        nonlocal serial
        serial += 1
        assert content.id is not None
        await make_share(
            session,
            informant_id=world.informants[inf],
            station_id=world.stations[station],
            content_id=content.id,
            channel=channel,
            audience=audience,
            day=day,
            dedupe_key=f"eval-{serial}",
            created_at=now,
        )

    for i in range(8):
        await share("i1", "A1", dt.date(2026, 12, 1 + i), "telegram_inline", 100)
    for i in range(2):
        await share("i2", "A1", dt.date(2026, 12, 10 + i), "telegram_inline", 100)
    for i in range(5):
        await share("i3", "A2", dt.date(2026, 12, 5 + i), "telegram_forward", 100)
    for i in range(2):
        await share("i4", "A3", dt.date(2026, 3, 10 + i), "telegram_inline", 50)
    await share("i5", "A5", dt.date(2026, 10, 1), "telegram_inline", 1000)  # before recognition
    await share("i5", "A5", dt.date(2026, 11, 10), "telegram_inline", 20)
    for i in range(3):
        await share("i6", "B1", dt.date(2026, 12, 1 + i), "wechat_group", 200)
    await share("i7", "B2", dt.date(2026, 12, 2), "telegram_inline", 10)
    await share("i9", "B4", dt.date(2026, 12, 2), "telegram_inline", 5000)  # revoked: ignored
    await share("i1", "A1", dt.date(2025, 12, 31), "telegram_inline", 9999)  # last year
    link = await make_link(
        session,
        code="evalA1",
        informant_id=world.informants["i1"],
        content_id=content.id,
        channel="telegram_inline",
        created_at=now,
    )
    assert link.id is not None
    for i in range(5):
        await make_visit(
            session,
            link_id=link.id,
            day=dt.date(2026, 12, 2),
            visitor_hash=f"v{i}",
            created_at=now,
        )
    await make_visit(
        session, link_id=link.id, day=dt.date(2025, 12, 2), visitor_hash="old", created_at=now
    )

    async def activity(station: str, day: dt.date, *, flagged: bool = False) -> Activity:
        return await make_activity(
            session,
            station_id=world.stations[station],
            title="讲座",
            held_on=day,
            participants=30,
            flagged=flagged,
            created_at=now,
        )

    for i in range(4):
        await activity("A1", dt.date(2026, 12, 1 + i))
    # An activity with a confirmed finding does not count (an open one would).  It is A5's,
    # not a commended station's: a confirmed finding also keeps a station from being commended.
    confirmed = await activity("A5", dt.date(2026, 12, 20), flagged=True)
    finding = await make_flag(
        session,
        kind="participants_high",
        station_id=world.stations["A5"],
        subject_type="activity",
        subject_id=confirmed.id,
        created_at=now,
    )
    finding.status = "confirmed"
    await session.flush()
    for i in range(2):
        await activity("A2", dt.date(2026, 11, 1 + i))
    await activity("A3", dt.date(2026, 2, 1))
    for i in range(3):
        await activity("B1", dt.date(2026, 12, 1 + i))
    b2 = await activity("B2", dt.date(2026, 12, 3))
    await activity("B3", dt.date(2026, 11, 20))

    async def use(station: str, day: dt.date) -> None:
        assert content.id is not None
        await make_content_use(
            session,
            station_id=world.stations[station],
            content_id=content.id,
            used_on=day,
            created_at=now,
        )

    await use("A1", dt.date(2026, 12, 1))
    await use("A1", dt.date(2026, 12, 2))
    await use("A2", dt.date(2026, 12, 1))
    await use("A2", dt.date(2026, 12, 2))
    await use("B1", dt.date(2026, 12, 1))
    await use("B3", dt.date(2026, 11, 21))
    flag_time = dt.datetime(2026, 6, 1, 2, tzinfo=UTC)
    await make_flag(
        session,
        kind="photo_reuse",
        station_id=world.stations["B2"],
        region_code="330203",
        subject_type="activity",
        subject_id=b2.id,
        detail={"file_unique_id": "x"},
        created_at=flag_time,
        status="confirmed",  # a coordinator confirmed it: a revocation may rest on it
    )
    await make_flag(
        session,
        kind="photo_reuse",
        station_id=world.stations["B1"],
        region_code="330203",
        subject_type="activity",
        subject_id=None,
        created_at=flag_time,
        resolved_at=flag_time,
    )
    await make_flag(
        session,
        kind="application_burst",
        station_id=world.stations["A3"],
        region_code="330108",
        subject_type="region",
        detail={"count": 7},
        created_at=flag_time,
    )
    return world

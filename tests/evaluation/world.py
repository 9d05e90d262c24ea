"""A province of known shape for the evaluation tests; the expected outcome is spelt out.

Hangzhou 330100 (Xihu 330106, Binjiang 330108) and Ningbo 330200 (Haishu 330203,
Jiangbei 330205).  With the default weights (volume .5, activities .3, content use .2)
and the year 2026 evaluated in full:

    A1 100.00 commend   A2 59.88   A3 12.52 rectify (inactive)   A5 1.03 (new)
    A4 0.00 eliminate (last, inactive)
    B1 100.00 commend   B3 30.00   B2 11.82 revoke (reused photo)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Activity,
    ContentItem,
    ContentUse,
    Informant,
    IntegrityFlag,
    LinkVisit,
    Person,
    Region,
    ShareEvent,
    Station,
    TrackedLink,
)

UTC = dt.UTC
RECOGNISED = dt.datetime(2025, 6, 1, 2, 0, tzinfo=UTC)
YEAR_END = dt.date(2026, 12, 31)
EXPECTED_SCORES = {
    "A1": 100.0,
    "A2": 59.88,
    "A3": 12.52,
    "A4": 0.0,
    "A5": 1.03,
    "B1": 100.0,
    "B2": 11.82,
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
        if await session.get(Region, code) is None:
            session.add(Region(code=code, name=name, level=level, parent_code=parent))
            await session.flush()


async def build(session: AsyncSession, *, telegram_base: int = 9000) -> World:
    """Create the province described above."""
    await add_regions(session)
    world = World()
    now = dt.datetime(2026, 1, 1, tzinfo=UTC)
    content = ContentItem(
        guid="eval-1",
        title="测试内容",
        category="health",
        kind="article",
        url="https://example.org/1",
        created_at=now,
    )
    session.add(content)
    await session.flush()
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
        station = Station(
            name=name,
            venue_type="cultural_centre",
            region_code=region,
            status=status,
            recognised_at=recognised,
            created_at=recognised,
        )
        session.add(station)
        await session.flush()
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
        person = Person(telegram_id=telegram_base + n, first_name=real_name, created_at=now)
        session.add(person)
        await session.flush()
        informant = Informant(
            person_id=person.id,
            station_id=world.stations[station_key],
            real_name=real_name,
            phone=f"+86138000000{n:02d}",
            joined_at=now,
            consent_at=now,
            forgotten_at=now if key == "i2" else None,
        )
        session.add(informant)
        await session.flush()
        assert informant.id is not None
        world.informants[key] = informant.id
        world.people[key] = person
    serial = 0

    def share(inf: str, station: str, day: dt.date, channel: str, audience: int) -> None:
        nonlocal serial
        serial += 1
        session.add(
            ShareEvent(
                informant_id=world.informants[inf],
                station_id=world.stations[station],
                content_id=content.id,
                channel=channel,
                audience=audience,
                day=day,
                dedupe_key=f"eval-{serial}",
                created_at=now,
            )
        )

    for i in range(8):
        share("i1", "A1", dt.date(2026, 12, 1 + i), "telegram_inline", 100)
    for i in range(2):
        share("i2", "A1", dt.date(2026, 12, 10 + i), "telegram_inline", 100)
    for i in range(5):
        share("i3", "A2", dt.date(2026, 12, 5 + i), "telegram_forward", 100)
    for i in range(2):
        share("i4", "A3", dt.date(2026, 3, 10 + i), "telegram_inline", 50)
    share("i5", "A5", dt.date(2026, 10, 1), "telegram_inline", 1000)  # before recognition
    share("i5", "A5", dt.date(2026, 11, 10), "telegram_inline", 20)
    for i in range(3):
        share("i6", "B1", dt.date(2026, 12, 1 + i), "wechat_group", 200)
    share("i7", "B2", dt.date(2026, 12, 2), "telegram_inline", 10)
    share("i9", "B4", dt.date(2026, 12, 2), "telegram_inline", 5000)  # revoked: ignored
    share("i1", "A1", dt.date(2025, 12, 31), "telegram_inline", 9999)  # last year
    await session.flush()
    link = TrackedLink(
        code="evalA1",
        informant_id=world.informants["i1"],
        content_id=content.id,
        channel="telegram_inline",
        created_at=now,
    )
    session.add(link)
    await session.flush()
    for i in range(5):
        session.add(
            LinkVisit(
                link_id=link.id, day=dt.date(2026, 12, 2), visitor_hash=f"v{i}", created_at=now
            )
        )
    session.add(
        LinkVisit(link_id=link.id, day=dt.date(2025, 12, 2), visitor_hash="old", created_at=now)
    )

    def activity(station: str, day: dt.date, *, flagged: bool = False) -> Activity:
        act = Activity(
            station_id=world.stations[station],
            type="lecture",
            title="讲座",
            held_on=day,
            participants=30,
            flagged=flagged,
            created_at=now,
        )
        session.add(act)
        return act

    for i in range(4):
        activity("A1", dt.date(2026, 12, 1 + i))
    activity("A1", dt.date(2026, 12, 20), flagged=True)  # a flagged one does not count
    for i in range(2):
        activity("A2", dt.date(2026, 11, 1 + i))
    activity("A3", dt.date(2026, 2, 1))
    for i in range(3):
        activity("B1", dt.date(2026, 12, 1 + i))
    b2 = activity("B2", dt.date(2026, 12, 3))
    activity("B3", dt.date(2026, 11, 20))
    await session.flush()

    def use(station: str, day: dt.date) -> None:
        session.add(
            ContentUse(
                station_id=world.stations[station],
                content_id=content.id,
                use_kind="played",
                used_on=day,
                created_at=now,
            )
        )

    use("A1", dt.date(2026, 12, 1))
    use("A1", dt.date(2026, 12, 2))
    use("A2", dt.date(2026, 12, 1))
    use("A2", dt.date(2026, 12, 2))
    use("B1", dt.date(2026, 12, 1))
    use("B3", dt.date(2026, 11, 21))
    flag_time = dt.datetime(2026, 6, 1, 2, tzinfo=UTC)
    session.add(
        IntegrityFlag(
            kind="photo_reuse",
            station_id=world.stations["B2"],
            region_code="330203",
            subject_type="activity",
            subject_id=b2.id,
            detail={"file_unique_id": "x"},
            created_at=flag_time,
        )
    )
    session.add(
        IntegrityFlag(
            kind="photo_reuse",
            station_id=world.stations["B1"],
            region_code="330203",
            subject_type="activity",
            subject_id=None,
            detail={},
            created_at=flag_time,
            resolved_at=flag_time,
        )
    )
    session.add(
        IntegrityFlag(
            kind="application_burst",
            station_id=world.stations["A3"],
            region_code="330108",
            subject_type="region",
            detail={"count": 7},
            created_at=flag_time,
        )
    )
    await session.flush()
    return world

"""Small factories for the world: regions, stations, people, content, shares, activities.

Tests, benchmarks and demo scenes build their worlds with these. Each factory takes the
session and keyword arguments with defaults, adds one row (and what it minimally needs),
flushes and returns it. Rows are stamped with ``NOW`` unless told otherwise, so a world
is the same on every run. The ``*_row`` helpers and ``insert_rows`` are for bulk seeding,
where one ORM object per row would be far too slow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from storage.models import (
    Activity,
    ContentItem,
    ContentUse,
    Informant,
    IntegrityFlag,
    LinkVisit,
    Person,
    Region,
    RoleGrant,
    ShareEvent,
    Station,
    TrackedLink,
    table_of,
)
from storage.roles import scope_key
from storage.upsert import insert_for

_Row = TypeVar("_Row", bound=SQLModel)

# Monday 2026-11-23 10:00 in Shanghai: the tests' fixed "now" and the demo's first day.
NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 23)

# Names of the regions the worlds use (GB/T 2260 codes of Zhejiang).
REGION_NAMES: dict[str, str] = {
    "330000": "浙江省",
    "330100": "杭州市",
    "330102": "上城区",
    "330105": "拱墅区",
    "330106": "西湖区",
    "330108": "滨江区",
    "330200": "宁波市",
    "330203": "海曙区",
    "330205": "江北区",
}
# The default tree: Zhejiang > Hangzhou > Xihu, Binjiang; Zhejiang > Ningbo > Haishu.
DEFAULT_COUNTIES = ("330106", "330108", "330203")


def level_of(code: str) -> str:
    """Return the level a GB/T 2260 code stands for."""
    if code.endswith("0000"):
        return "province"
    return "city" if code.endswith("00") else "county"


def parent_of(code: str) -> str | None:
    """Return the code of the region a GB/T 2260 code lies in (None for a province)."""
    level = level_of(code)
    if level == "province":
        return None
    return code[:2] + "0000" if level == "city" else code[:4] + "00"


async def make_region(
    session: AsyncSession,
    *,
    code: str = "330106",
    name: str | None = None,
    name_en: str | None = None,
    level: str | None = None,
    parent_code: str | None = None,
) -> Region:
    """Add a region unless its code exists; level and parent follow the code by default."""
    level = level or level_of(code)
    parent_code = parent_code or parent_of(code)
    # Write first: on SQLite a transaction that reads first cannot write after a commit.
    await session.execute(
        insert_for(session, table_of(Region))
        .values(
            code=code,
            name=name or REGION_NAMES[code],
            name_en=name_en,
            level=level,
            parent_code=parent_code,
        )
        .on_conflict_do_nothing(index_elements=["code"])
    )
    region = await session.get(Region, code)
    assert region is not None
    return region


async def make_region_tree(
    session: AsyncSession, counties: Sequence[str] = DEFAULT_COUNTIES
) -> list[Region]:
    """Add the counties with their cities and province, parents first; return them all."""
    codes: list[str] = []
    for county in counties:
        city = parent_of(county) or county
        for code in (parent_of(city) or city, city, county):
            if code not in codes:
                codes.append(code)
    ordered = sorted(codes, key=lambda c: ("province", "city", "county").index(level_of(c)))
    return [await make_region(session, code=code) for code in ordered]


async def make_station(
    session: AsyncSession,
    *,
    name: str = "西湖区文化站",
    county: str | None = "330106",
    status: str = "recognised",
    venue_type: str = "cultural_centre",
    address: str | None = None,
    created_at: dt.datetime = NOW,
    recognised_at: dt.datetime | None = None,
    rectify_deadline: dt.date | None = None,
    applicant_id: int | None = None,
) -> Station:
    """Add a station (recognised in Xihu by default)."""
    station = Station(
        name=name,
        venue_type=venue_type,
        address=address,
        region_code=county,
        status=status,
        created_at=created_at,
        recognised_at=recognised_at,
        rectify_deadline=rectify_deadline,
        applicant_id=applicant_id,
    )
    return await _add(session, station)


async def make_person(
    session: AsyncSession,
    *,
    telegram_id: int,
    first_name: str | None = "测试",
    language: str | None = None,
    unreachable: bool = False,
    created_at: dt.datetime = NOW,
) -> Person:
    """Add a person who has talked to the bot."""
    person = Person(
        telegram_id=telegram_id,
        first_name=first_name,
        language=language,
        unreachable=unreachable,
        created_at=created_at,
    )
    return await _add(session, person)


async def person_of(session: AsyncSession, telegram_id: int) -> Person | None:
    """Return the person of a Telegram id, if one exists."""
    result = await session.execute(select(Person).where(col(Person.telegram_id) == telegram_id))
    return result.scalar_one_or_none()


async def make_informant(
    session: AsyncSession,
    *,
    station_id: int,
    person: Person | None = None,
    telegram_id: int | None = None,
    real_name: str | None = "王秀英",
    first_name: str | None = None,
    phone: str | None = None,
    language: str | None = None,
    unreachable: bool = False,
    interests: Iterable[str] = (),
    consent_at: dt.datetime | None = NOW,
    joined_at: dt.datetime = NOW,
    paused: bool = False,
    quiet: tuple[dt.time, dt.time] | None = None,
    removed_at: dt.datetime | None = None,
    forgotten_at: dt.datetime | None = None,
) -> Informant:
    """Add a registered informant; with ``telegram_id`` (and no ``person``) add the person too.

    The person's first name is ``first_name``, or else the real name.
    """
    if person is None and telegram_id is not None:
        person = await make_person(
            session,
            telegram_id=telegram_id,
            first_name=first_name or real_name,
            language=language,
            unreachable=unreachable,
            created_at=joined_at,
        )
    informant = Informant(
        person_id=person.id if person is not None else None,
        station_id=station_id,
        real_name=real_name,
        phone=phone,
        interests=list(interests),
        consent_at=consent_at,
        joined_at=joined_at,
        paused=paused,
        quiet_start=quiet[0] if quiet else None,
        quiet_end=quiet[1] if quiet else None,
        removed_at=removed_at,
        forgotten_at=forgotten_at,
    )
    return await _add(session, informant)


async def make_grant(
    session: AsyncSession,
    *,
    person_id: int,
    role: str,
    region_code: str | None = None,
    station_id: int | None = None,
    granted_at: dt.datetime = NOW,
) -> RoleGrant:
    """Add a role grant directly (no audit, no checks), scoped like the real ones."""
    grant = RoleGrant(
        person_id=person_id,
        role=role,
        region_code=region_code,
        station_id=station_id,
        scope_key=scope_key(region_code, station_id),
        granted_at=granted_at,
    )
    return await _add(session, grant)


async def make_content(
    session: AsyncSession,
    *,
    guid: str = "item-1",
    title: str = "防范电信诈骗",
    summary: str = "",
    title_en: str | None = None,
    category: str = "health",
    kind: str = "article",
    url: str = "https://www.kepuchina.cn/",
    tags: Iterable[str] = (),
    regions: Iterable[str] = (),
    campaign: str | None = None,
    publish_at: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
    retired_at: dt.datetime | None = None,
    created_at: dt.datetime = NOW,
) -> ContentItem:
    """Add a content item (unpublished unless ``publish_at`` is given)."""
    item = ContentItem(
        guid=guid,
        title=title,
        summary=summary,
        title_en=title_en,
        category=category,
        kind=kind,
        url=url,
        tags=list(tags),
        regions=list(regions),
        campaign=campaign,
        publish_at=publish_at,
        expires_at=expires_at,
        retired_at=retired_at,
        created_at=created_at,
    )
    return await _add(session, item)


async def _add(session: AsyncSession, row: _Row) -> _Row:
    """Add one row, flush it (so it has its id) and return it."""
    session.add(row)
    await session.flush()
    return row


def share_row(
    *,
    informant_id: int,
    station_id: int,
    content_id: int,
    day: dt.date,
    channel: str = "telegram_inline",
    audience: int = 0,
    target: str = "",
    flagged: bool = False,
    dedupe_key: str | None = None,
    created_at: dt.datetime = NOW,
) -> dict[str, Any]:
    """Return the column values of one share event (for ``insert_rows`` or ``make_share``)."""
    return {
        "informant_id": informant_id,
        "station_id": station_id,
        "content_id": content_id,
        "channel": channel,
        "target": target,
        "audience": audience,
        "flagged": flagged,
        "day": day,
        "dedupe_key": dedupe_key or f"{informant_id}:{content_id}:{channel}:{target}:{day}",
        "created_at": created_at,
    }


async def make_share(session: AsyncSession, *, day: dt.date = TODAY, **fields: Any) -> ShareEvent:
    """Add a share event directly (no rules applied; ``record_share`` is the real path).

    ``fields`` are those of ``share_row``.
    """
    return await _add(session, ShareEvent(**share_row(day=day, **fields)))


async def make_link(
    session: AsyncSession,
    *,
    informant_id: int,
    content_id: int,
    channel: str = "wechat_group",
    code: str | None = None,
    created_at: dt.datetime = NOW,
) -> TrackedLink:
    """Add a tracked link of an informant for a content item and channel."""
    link = TrackedLink(
        code=code or f"L{informant_id}x{content_id}",
        informant_id=informant_id,
        content_id=content_id,
        channel=channel,
        created_at=created_at,
    )
    return await _add(session, link)


def visit_row(
    *, link_id: int, day: dt.date, visitor_hash: str = "v1", created_at: dt.datetime = NOW
) -> dict[str, Any]:
    """Return the column values of one verified link visit."""
    return {"link_id": link_id, "day": day, "visitor_hash": visitor_hash, "created_at": created_at}


async def make_visit(session: AsyncSession, *, day: dt.date = TODAY, **fields: Any) -> LinkVisit:
    """Add a verified visit to a tracked link (``fields`` are those of ``visit_row``)."""
    return await _add(session, LinkVisit(**visit_row(day=day, **fields)))


def activity_row(
    *,
    station_id: int,
    held_on: dt.date,
    type: str = "lecture",
    title: str = "科普讲座",
    participants: int = 30,
    flagged: bool = False,
    created_at: dt.datetime = NOW,
    deleted_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Return the column values of one activity."""
    return {
        "station_id": station_id,
        "type": type,
        "title": title,
        "held_on": held_on,
        "participants": participants,
        "flagged": flagged,
        "created_at": created_at,
        "deleted_at": deleted_at,
    }


async def make_activity(
    session: AsyncSession, *, held_on: dt.date = TODAY, **fields: Any
) -> Activity:
    """Add an activity a station ran (``fields`` are those of ``activity_row``)."""
    return await _add(session, Activity(**activity_row(held_on=held_on, **fields)))


async def make_content_use(
    session: AsyncSession,
    *,
    station_id: int,
    content_id: int,
    used_on: dt.date = TODAY,
    use_kind: str = "played",
    audience: int = 0,
    created_at: dt.datetime = NOW,
) -> ContentUse:
    """Add a station's offline use of a content item."""
    use = ContentUse(
        station_id=station_id,
        content_id=content_id,
        use_kind=use_kind,
        audience=audience,
        used_on=used_on,
        created_at=created_at,
    )
    return await _add(session, use)


async def make_flag(
    session: AsyncSession,
    *,
    kind: str,
    station_id: int | None = None,
    region_code: str | None = None,
    subject_type: str | None = None,
    subject_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
    created_at: dt.datetime = NOW,
    resolved_at: dt.datetime | None = None,
    status: str | None = None,
) -> IntegrityFlag:
    """Add an integrity finding (open; closed if ``resolved_at`` is given; or ``status``)."""
    flag = IntegrityFlag(
        status=status or ("closed" if resolved_at is not None else "open"),
        kind=kind,
        station_id=station_id,
        region_code=region_code,
        subject_type=subject_type,
        subject_id=subject_id,
        detail=dict(detail or {}),
        created_at=created_at,
        resolved_at=resolved_at,
    )
    return await _add(session, flag)


async def insert_rows(
    session: AsyncSession, model: type[SQLModel], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert many rows of one table in one executemany (bulk seeding)."""
    if rows:
        await session.execute(insert(table_of(model)), list(rows))


async def bulk_informants(
    session: AsyncSession,
    *,
    station_id: int,
    telegram_ids: Sequence[int],
    now: dt.datetime = NOW,
) -> None:
    """Insert a person and an informant per Telegram id, each table in one executemany."""
    names = {uid: f"信息员{uid % 100_000}" for uid in telegram_ids}
    await insert_rows(
        session,
        Person,
        [
            {"telegram_id": uid, "first_name": names[uid], "unreachable": False, "created_at": now}
            for uid in telegram_ids
        ],
    )
    people = dict(
        (await session.execute(select(col(Person.telegram_id), col(Person.id)))).tuples().all()
    )
    await insert_rows(
        session,
        Informant,
        [
            {
                "person_id": people[uid],
                "station_id": station_id,
                "real_name": names[uid],
                "interests": [],
                "paused": False,
                "joined_at": now,
            }
            for uid in telegram_ids
        ],
    )

"""Targeting rules, quiet hours, and the push service on both backends."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.targeting import in_regions, quiet_until, wants_category
from bot.sandbox.factories import (
    make_content,
    make_grant,
    make_informant,
    make_region_tree,
    make_station,
)
from bot.services import push as push_service
from storage import outbox as outbox_store
from storage.models import ContentItem, OutboxMessage, Person
from tests.conftest import FIXED_NOW

SH = ZoneInfo("Asia/Shanghai")


def at(hour: int, minute: int = 0, day: int = 23) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SH)


def test_interests_and_regions() -> None:
    assert wants_category([], ["health"])  # no interests: everything
    assert wants_category(["health", "elderly"], ["elderly"])
    assert not wants_category(["agriculture"], ["health"])
    assert in_regions("330106", [])
    assert in_regions("330106", ["330100"]) and in_regions("330106", ["330000"])
    assert in_regions("330106", ["330106"]) and not in_regions("330106", ["330108"])
    assert not in_regions("330203", ["330100"]) and not in_regions(None, ["330100"])


@pytest.mark.parametrize(
    ("now", "start", "end", "expected"),
    [
        (at(23), dt.time(22), dt.time(7), at(7, day=24)),  # spans midnight, evening
        (at(3), dt.time(22), dt.time(7), at(7)),  # spans midnight, early morning
        (at(10), dt.time(22), dt.time(7), None),  # outside
        (at(7), dt.time(22), dt.time(7), None),  # the end itself is not quiet
        (at(13), dt.time(12), dt.time(14), at(14)),  # same-day window
        (at(14, 30), dt.time(12), dt.time(14), None),
        (at(13), dt.time(9), dt.time(9), None),  # equal: no quiet hours
    ],
)
def test_quiet_until(
    now: dt.datetime, start: dt.time, end: dt.time, expected: dt.datetime | None
) -> None:
    result = quiet_until(now.astimezone(dt.UTC), start, end, SH)
    assert result == (expected.astimezone(dt.UTC) if expected else None)


async def _world(session: AsyncSession) -> dict[str, int]:
    await make_region_tree(session)
    xihu = await make_station(session, county="330106")
    haishu = await make_station(session, name="海曙站", county="330203")
    assert xihu.id is not None and haishu.id is not None
    people: dict[str, int] = {}

    async def informant(name: str, tg: int, station: int, **kw: Any) -> None:
        await make_informant(
            session,
            station_id=station,
            telegram_id=tg,
            first_name=name,
            real_name=None,
            consent_at=None,
            **kw,
        )
        people[name] = tg

    await informant("all", 1, xihu.id)
    await informant("health", 2, xihu.id, interests=["health"], language="en")
    await informant("farm", 3, xihu.id, interests=["agriculture"])
    await informant("ningbo", 4, haishu.id, interests=["health"])
    await informant("paused", 5, xihu.id, paused=True)
    await informant("removed", 6, xihu.id, removed_at=FIXED_NOW)
    await informant("forgotten", 7, xihu.id, forgotten_at=FIXED_NOW)
    await informant("blocked", 8, xihu.id, unreachable=True)
    await informant("sleepy", 9, xihu.id, quiet=(dt.time(8), dt.time(12)))
    admin = (await session.execute(select(Person).where(Person.telegram_id == 1))).scalar_one()
    assert admin.id is not None
    await make_grant(session, person_id=admin.id, role="station_admin", station_id=xihu.id)
    return people


async def _item(
    session: AsyncSession, category: str = "health", regions: list[str] | None = None, **kw: Any
) -> int:
    item = await make_content(
        session,
        guid=f"g-{category}-{regions}-{kw}",
        title="标题",
        summary="摘要",
        category=category,
        url="https://kepu.example/1",
        regions=regions or [],
        publish_at=FIXED_NOW - dt.timedelta(hours=1),
        created_at=FIXED_NOW,
        **kw,
    )
    assert item.id is not None
    return item.id


async def _rows(session: AsyncSession, push_id: int | None) -> dict[int, OutboxMessage]:
    rows = await outbox_store.messages_of(session=session, push_id=push_id)
    return {row.chat_id: row for row in rows}


async def test_push_targets_interests_regions_and_skips_inactive(session: AsyncSession) -> None:
    await _world(session)
    content_id = await _item(session)
    result = await push_service.push_item(
        session=session, content_id=content_id, now=FIXED_NOW, tz=SH
    )
    rows = await _rows(session, result.push_id)
    # 10:00 in Shanghai: "sleepy" (08-12 quiet) is deferred to 12:00, not skipped.
    assert sorted(rows) == [1, 2, 4, 9]
    assert result.queued == 4 and result.deferred == 1
    assert rows[9].next_attempt_at == at(12).astimezone(dt.UTC)
    assert rows[1].next_attempt_at == FIXED_NOW
    assert rows[1].payload["station_admin"] is True and rows[2].payload["locale"] == "en"
    assert rows[4].payload == {
        "content_id": content_id,
        "locale": "zh_CN",
        "informant_id": rows[4].payload["informant_id"],
        "station_admin": False,
    }
    again = await push_service.push_item(
        session=session, content_id=content_id, now=FIXED_NOW, tz=SH
    )
    assert again.queued == 0 and again.already == 4  # dedupe key: nobody gets it twice


async def test_region_and_category_overrides(session: AsyncSession) -> None:
    await _world(session)
    content_id = await _item(session, regions=["330100"])
    assert (
        await push_service.count_targets(
            session=session, content_id=content_id, now=FIXED_NOW, tz=SH
        )
        == 3
    )  # not Ningbo
    result = await push_service.push_item(
        session=session, content_id=content_id, now=FIXED_NOW, tz=SH, regions=["330200"]
    )
    assert sorted(await _rows(session, result.push_id)) == [4]
    farm = await push_service.push_item(
        session=session, content_id=content_id, now=FIXED_NOW, tz=SH, categories=["agriculture"]
    )
    assert sorted(await _rows(session, farm.push_id)) == [1, 3, 9]


async def test_refused_pushes(session: AsyncSession) -> None:
    await _world(session)
    retired = await _item(session, retired_at=FIXED_NOW)
    expired = await _item(session, category="elderly", expires_at=FIXED_NOW)
    for content_id, code in ((retired, "retired"), (expired, "expired"), (999, "not_found")):
        with pytest.raises(push_service.PushError) as err:
            await push_service.push_item(
                session=session, content_id=content_id, now=FIXED_NOW, tz=SH
            )
        assert err.value.code == code


async def test_daily_push_is_idempotent_and_capped(session: AsyncSession) -> None:
    await _world(session)
    ids = [await _item(session, category=c) for c in ("health", "elderly", "children", "frontier")]
    old = await _item(session, category="environment")
    await session.execute(
        ContentItem.__table__.update()
        .where(ContentItem.__table__.c.id == old)
        .values(publish_at=FIXED_NOW - dt.timedelta(days=30))
    )
    draft = await make_content(
        session, guid="draft", title="草稿", url="https://kepu.example/d", created_at=FIXED_NOW
    )
    first = await push_service.run_daily_push(session=session, now=FIXED_NOW, tz=SH, max_items=3)
    assert len(first.items) == 3 and old not in first.as_dict()["items"]
    assert draft.id not in first.as_dict()["items"]
    assert first.as_dict()["queued"] > 0
    again = await push_service.run_daily_push(session=session, now=FIXED_NOW, tz=SH, max_items=3)
    assert again.items == [] or all(
        r.content_id not in first.as_dict()["items"] for r in again.items
    )
    third = await push_service.run_daily_push(session=session, now=FIXED_NOW, tz=SH)
    assert third.items == []
    pushed = set(first.as_dict()["items"]) | {r.content_id for r in again.items}
    assert pushed == set(ids)


async def test_scheduled_push_waits_for_its_time(session: AsyncSession) -> None:
    await _world(session)
    content_id = await _item(session)
    later = FIXED_NOW + dt.timedelta(days=1)
    result = await push_service.push_item(
        session=session, content_id=content_id, now=FIXED_NOW, tz=SH, not_before=later
    )
    rows = await _rows(session, result.push_id)
    assert rows and all(r.next_attempt_at and r.next_attempt_at >= later for r in rows.values())
    assert await outbox_store.count_due(session=session, now=FIXED_NOW) == 0

"""Channels storage and the channel-reach figure, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import get_translator
from bot.reports.digest import render_text
from bot.sandbox.factories import make_content, make_region_tree
from bot.services import channels as channel_service
from bot.services.digest import build_digest
from storage import channels as channel_store
from storage import figures
from tests.conftest import FIXED_NOW, make_settings

TZ = ZoneInfo("Asia/Shanghai")
HANGZHOU, NINGBO = -1002000000001, -1002000000002


async def _world(session: AsyncSession) -> int:
    await make_region_tree(session, ("330106", "330203"))
    item = await make_content(session, publish_at=FIXED_NOW)
    assert item.id is not None
    for chat_id, region, name in (
        (HANGZHOU, "330100", "杭州科普"),
        (NINGBO, "330203", "海曙科普"),
    ):
        await channel_store.link_channel(
            session=session,
            chat_id=chat_id,
            region_code=region,
            title=name,
            username=None,
            invite_link=f"https://t.me/+abc{abs(chat_id) % 10}",
            linked_by=None,
            now=FIXED_NOW,
        )
    return item.id


async def _post(
    session: AsyncSession,
    content_id: int,
    chat_id: int,
    region: str,
    message_id: int,
    **kw: object,
) -> bool:
    return await channel_store.record_post(
        session=session,
        channel_chat_id=chat_id,
        region_code=region,
        content_id=content_id,
        push_id=None,
        message_id=message_id,
        subscribers=kw.get("subscribers", 100),  # type: ignore[arg-type]
        now=kw.get("now", FIXED_NOW),  # type: ignore[arg-type]
    )


async def test_linking_is_one_row_per_channel_and_push_regions_pick_channels(
    session: AsyncSession,
) -> None:
    await _world(session)
    # Linking again moves the channel, never a second row.
    await channel_store.link_channel(
        session=session,
        chat_id=HANGZHOU,
        region_code="330106",
        title="西湖科普",
        username="xhkepu",
        invite_link=None,
        linked_by=None,
        now=FIXED_NOW,
    )
    every = await channel_store.channels_within(session=session, prefixes=None)
    assert [(c.chat_id, c.region_code) for c in every] == [
        (HANGZHOU, "330106"),
        (NINGBO, "330203"),
    ]
    zhejiang = await channel_service.push_channels(session=session, regions=["330000"])
    assert len(zhejiang) == 2
    ningbo = await channel_service.push_channels(session=session, regions=["330200"])
    assert [c.chat_id for c in ningbo] == [NINGBO]
    assert await channel_service.push_channels(session=session, regions=["110000"]) == []
    assert len(await channel_service.push_channels(session=session, regions=[])) == 2


async def test_nearest_channel_over_a_region(session: AsyncSession) -> None:
    await _world(session)
    near = await channel_service.channel_for_region(session=session, region_code="330106")
    assert near is not None and near.chat_id == HANGZHOU  # the city's channel
    own = await channel_service.channel_for_region(session=session, region_code="330203")
    assert own is not None and own.chat_id == NINGBO
    assert await channel_service.channel_for_region(session=session, region_code="110101") is None
    assert channel_service.channel_url(own) == "https://t.me/+abc2"


async def test_a_post_and_its_reach_are_recorded_once(session: AsyncSession) -> None:
    content_id = await _world(session)
    assert await _post(session, content_id, HANGZHOU, "330100", 7, subscribers=500)
    assert not await _post(session, content_id, HANGZHOU, "330100", 7, subscribers=900)
    post = await channel_store.post_of(session=session, channel_chat_id=HANGZHOU, message_id=7)
    assert post is not None and post.subscribers == 500
    found = await channel_service.content_of_post(
        session=session, channel_chat_id=HANGZHOU, message_id=7
    )
    assert found == content_id
    missing = await channel_service.content_of_post(
        session=session, channel_chat_id=HANGZHOU, message_id=8
    )
    assert missing is None


async def test_channel_reach_by_local_day_and_region(session: AsyncSession) -> None:
    content_id = await _world(session)
    week = figures.Window.week_of(dt.date(2026, 11, 23))  # 23 – 29 November
    late = dt.datetime(2026, 11, 29, 15, 30, tzinfo=dt.UTC)  # 23:30 in Shanghai: in the week
    next_week = dt.datetime(2026, 11, 29, 16, 30, tzinfo=dt.UTC)  # 00:30 on the 30th
    await _post(session, content_id, HANGZHOU, "330100", 1, subscribers=500, now=late)
    await _post(session, content_id, NINGBO, "330203", 1, subscribers=80)
    await _post(session, content_id, NINGBO, "330203", 2, subscribers=None)  # count failed
    await _post(session, content_id, HANGZHOU, "330100", 2, subscribers=700, now=next_week)

    zhejiang = await figures.channel_reach(session=session, window=week, tz=TZ, prefixes=["33"])
    assert (zhejiang.posts, zhejiang.subscribers, zhejiang.channels) == (3, 580, 2)
    hangzhou = await figures.channel_reach(session=session, window=week, tz=TZ, prefixes=["3301"])
    assert (hangzhou.posts, hangzhou.subscribers) == (1, 500)
    nowhere = await figures.channel_reach(session=session, window=week, tz=TZ, prefixes=[])
    assert nowhere.posts == 0 and nowhere.subscribers == 0


async def test_the_digest_shows_channel_reach_on_its_own_line_with_its_window(
    session: AsyncSession, db_url: str
) -> None:
    content_id = await _world(session)
    await _post(session, content_id, HANGZHOU, "330100", 1, subscribers=500)
    settings = make_settings(db_url)
    data = await build_digest(
        session=session, region_code="330100", week="2026-W48", settings=settings
    )
    assert data.channel_reach is not None and data.channel_reach.subscribers == 500
    assert data.this["volume"] == 0  # informants' figures are untouched by the channel
    text = render_text(get_translator("zh_CN"), data)
    line = (
        "📢 频道触达2026年11月23日—11月29日："
        "1个频道共1条消息，订阅者500人，链接访问0次（与信息员的数字分开计算）"
    )
    assert line in text
    quiet = await build_digest(
        session=session, region_code="330200", week="2026-W48", settings=settings
    )
    assert "频道触达" not in render_text(get_translator("zh_CN"), quiet)

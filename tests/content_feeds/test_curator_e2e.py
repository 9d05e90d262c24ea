"""Feeds end to end: a curator subscribes in the bot, the poll job reads the feed from a
loopback server, the notice arrives with Publish / Discard buttons that work once."""

from __future__ import annotations

from sqlalchemy import select

from bot.jobs import FEEDS_POLL
from bot.runtime.scheduler import run_job
from bot.sandbox import SimUser
from bot.sandbox.harness import RunningBot
from bot.sandbox.world import SimMessage
from bot.services import roles
from storage.models import AuditLog, ContentItem
from tests.conftest import FIXED_NOW, FixedClock
from tests.content_feeds.conftest import FeedServer
from tests.content_push.conftest import wait_outbox

REFUSED = "抱歉，您没有权限进行此操作。"


def text_of(msg: SimMessage) -> str:
    return msg.text or msg.caption or ""


def labels(msg: SimMessage) -> list[str]:
    return [b.text for row in msg.buttons for b in row]


async def make_curator(bot: RunningBot, user: SimUser) -> None:
    async with bot.runtime.sessions() as s, s.begin():
        await roles.grant(session=s, telegram_id=user.id, role="curator", now=bot.runtime.now())


async def say(user: SimUser, text: str) -> SimMessage:
    user.mark_seen()
    await user.send(text)
    return await user.wait_for_message()


async def stored(bot: RunningBot) -> dict[str, ContentItem]:
    async with bot.runtime.sessions() as session:
        rows = (await session.execute(select(ContentItem).order_by(ContentItem.id))).scalars()
        return {item.title: item for item in rows}


async def test_curator_subscribes_gets_the_drafts_and_publishes_one(
    bot_env: RunningBot, feed_server: FeedServer, clock: FixedClock
) -> None:
    bot = bot_env
    curator = bot.sandbox.user("内容编辑")
    await make_curator(bot, curator)
    url = feed_server.serve("/a.xml", "kepu_a.xml", etag='"v1"')

    usage = await say(curator, "/feeds")
    assert "还没有订阅源" in text_of(usage) and "/feeds add" in text_of(usage)
    bad = await say(curator, f"/feeds add {url} 火星殖民")
    assert "没有“火星殖民”这个分类" in text_of(bad) and "卫生健康" in text_of(bad)
    not_url = await say(curator, "/feeds add www.kepu.test/rss 健康")
    assert "不是网址" in text_of(not_url)
    added = await say(curator, f"/feeds add {url} 健康 科普中国")
    assert text_of(added).startswith("已订阅 #1“科普中国”")
    listing = await say(curator, "/feeds")
    assert "科普中国" in text_of(listing) and "尚未读取" in text_of(listing)
    assert labels(listing) == ["删除 #1 科普中国"]

    curator.mark_seen()
    outcome = await run_job(bot.runtime, FEEDS_POLL, period="2026-11-23T10:00")
    assert outcome.status == "done" and outcome.result["drafts"] == 2
    notice = await curator.wait_for_message(predicate=lambda m: "草稿" in text_of(m))
    items = await stored(bot)
    video, poster = items["冬季如何预防一氧化碳中毒"], items["秋冬季节科学洗手挂图"]
    assert "📰 订阅源“科普中国”：2条新内容已存为草稿" in text_of(notice)
    assert f"#{video.id} 冬季如何预防一氧化碳中毒" in text_of(notice)
    assert labels(notice) == [
        f"发布 #{video.id}",
        f"丢弃 #{video.id}",
        f"发布 #{poster.id}",
        f"丢弃 #{poster.id}",
    ]
    old_notice = notice  # the keyboard as first sent, for a late second press

    clock.advance(minutes=5)
    curator.mark_seen()
    await curator.press(notice, f"发布 #{video.id}")
    done = await curator.wait_for_message()
    assert text_of(done) == (
        f"已发布 #{video.id}“冬季如何预防一氧化碳中毒”，将随每日推送发给感兴趣的信息员。"
    )
    assert labels(notice) == [f"发布 #{poster.id}", f"丢弃 #{poster.id}"]  # row removed
    await curator.press(notice, f"丢弃 #{poster.id}")
    dropped = await curator.wait_for_message()
    assert text_of(dropped) == f"已丢弃 #{poster.id}“秋冬季节科学洗手挂图”。"
    items = await stored(bot)
    assert items["冬季如何预防一氧化碳中毒"].publish_at == clock()
    assert items["秋冬季节科学洗手挂图"].retired_at == clock()

    # A second press (another curator, an old copy of the keyboard) changes nothing.
    await curator.press(old_notice, data=f"FDS:pub:{poster.id}")
    late = await curator.wait_for_message()
    assert text_of(late) == f"#{poster.id} 已不是草稿（已有人处理），未做任何更改。"
    assert (await stored(bot))["秋冬季节科学洗手挂图"].publish_at is None

    async with bot.runtime.sessions() as session:
        actions = [
            a.action
            for a in (await session.execute(select(AuditLog).order_by(AuditLog.id))).scalars()
        ]
    assert actions.count("feeds.add") == 1 and "content.feed_poll" in actions
    assert "content.feed_publish" in actions and "content.feed_discard" in actions

    # The next poll sends the ETag back and the unchanged feed tells nobody anything.
    curator.mark_seen()
    again = await run_job(bot.runtime, FEEDS_POLL, period="2026-11-23T10:30")
    assert again.result["not_modified"] == 1
    assert feed_server.seen("/a.xml")[-1] == ('"v1"', None)

    removed = await say(curator, "/feeds remove 1")
    assert "已删除 #1“科普中国”" in text_of(removed)
    assert FIXED_NOW < clock()


async def test_failing_feed_is_told_once_and_others_may_not_press(
    bot_env: RunningBot, feed_server: FeedServer, clock: FixedClock
) -> None:
    bot = bot_env
    curator = bot.sandbox.user("内容编辑")
    reader = bot.sandbox.user("路人", started=True)
    await make_curator(bot, curator)
    url = feed_server.serve("/down.xml", "kepu_a.xml", status=500)
    await say(curator, f"/feeds add {url} 健康 坏掉的源")

    curator.mark_seen()
    for period in ("2026-11-23T10:00", "2026-11-23T10:30", "2026-11-23T11:00"):
        outcome = await run_job(bot.runtime, FEEDS_POLL, period=period)
        assert outcome.status == "done" and outcome.result["errors"] == 1
        clock.advance(minutes=30)
    await wait_outbox(bot)
    warnings = [m for m in curator.messages if "读取失败" in text_of(m)]
    assert [text_of(m) for m in warnings] == [
        "⚠️ 订阅源“坏掉的源”读取失败：服务器返回 HTTP 500。此问题只通知一次；发送 /feeds 查看状态。"
    ]
    listing = await say(curator, "/feeds")
    assert "读取失败 — 服务器返回 HTTP 500" in text_of(listing)

    # Someone who is not a curator: /feeds and a forged Publish are refused, audited.
    refused = await say(reader, "/feeds")
    assert text_of(refused) == REFUSED
    answer = await reader.press(refused, data="FDS:pub:1")  # forged: no such button was sent
    assert answer is not None and answer.get("text") == REFUSED
    async with bot.runtime.sessions() as session:
        refusals = (
            await session.execute(select(AuditLog).where(AuditLog.allowed.is_(False)))  # type: ignore[attr-defined]
        ).scalars()
        assert len(list(refusals)) == 2

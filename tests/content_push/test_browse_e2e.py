"""Everyone browses end to end through the real bot and the sandbox: /feed and /search."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from bot.content.catalogue import NewItem, create_item, retire_item
from bot.content.importer import import_source
from bot.content.taxonomy import default_taxonomy
from bot.sandbox import SimUser
from bot.sandbox.harness import RunningBot
from bot.sandbox.world import SimMessage
from storage import content as content_store
from storage.models import ContentItem
from tests.conftest import FIXED_NOW

STARTER = Path(__file__).resolve().parents[2] / "bot/content/packs/starter"
FEED_CATEGORIES = [
    "全部",
    "🩺 卫生健康",
    "🚨 应急避险",
    "🛡️ 防范诈骗",
    "🌾 农业科技",
    "🌿 生态环境",
    "🚀 前沿科技",
    "💡 生活百科",
    "👵 银龄科普",
    "🧒 青少年科普",
]


# --- helpers ------------------------------------------------------------------------------
async def import_starter(bot: RunningBot) -> None:
    async with bot.runtime.sessions() as session, session.begin():
        await import_source(
            session=session,
            source=str(STARTER),
            taxonomy=default_taxonomy(),
            now=bot.runtime.now(),
            tz=bot.runtime.settings.scheduler.tz,
        )


async def by_guid(bot: RunningBot) -> dict[str, ContentItem]:
    async with bot.runtime.sessions() as session:
        return {i.guid: i for i in (await session.execute(select(ContentItem))).scalars()}


async def feed_order(bot: RunningBot, category: str | None = None) -> list[ContentItem]:
    """The visible items as /feed should list them (the storage query is the oracle)."""
    async with bot.runtime.sessions() as session:
        items, _ = await content_store.browse(
            session=session, now=bot.runtime.now(), category=category, limit=100
        )
        return items


async def retire(bot: RunningBot, *guids: str) -> None:
    items = await by_guid(bot)
    async with bot.runtime.sessions() as session, session.begin():
        for guid in guids:
            item_id = items[guid].id
            assert item_id is not None
            await retire_item(
                session=session, content_id=item_id, actor_id=None, now=bot.runtime.now()
            )


async def add_item(bot: RunningBot, title: str, publish_at: dt.datetime | None) -> int:
    async with bot.runtime.sessions() as session, session.begin():
        item = await create_item(
            session=session,
            new=NewItem(
                title=title,
                summary="只在测试中出现的内容。",
                category="health",
                url="https://kepu.test/x",
                publish_at=publish_at,
            ),
            taxonomy=default_taxonomy(),
            actor_id=None,
            now=bot.runtime.now(),
        )
        assert item.id is not None
        return item.id


def labels(msg: SimMessage) -> list[str]:
    return [b.text for row in msg.buttons for b in row]


def number_buttons(msg: SimMessage) -> list[tuple[str, str | None]]:
    return [
        (b.text, b.callback_data)
        for row in msg.buttons
        for b in row
        if b.callback_data and b.callback_data.startswith("FEED:show:")
    ]


async def command(user: SimUser, name: str, payload: str | None = None) -> SimMessage:
    user.mark_seen()
    await user.command(name, payload)
    return await user.wait_for_message()


async def search(user: SimUser, words: str) -> SimMessage:
    user.mark_seen()
    await user.send(f"/search {words}".strip())
    return await user.wait_for_message()


async def flip(bot: RunningBot, user: SimUser, msg: SimMessage, label: str) -> None:
    """Press a button that edits ``msg`` in place."""
    answer = await user.press(msg, label)
    assert answer is not None
    await bot.settle()


# --- /feed --------------------------------------------------------------------------------
async def test_feed_lists_newest_with_pages_categories_and_cards(bot_env) -> None:
    bot = bot_env
    await import_starter(bot)
    order = await feed_order(bot)
    assert len(order) == 28
    reader = bot.sandbox.user("读者")

    feed = await command(reader, "feed")
    text = feed.text or ""
    assert text.startswith("📚 最新内容——全部分类（第 1/6 页）")
    for n, item in enumerate(order[:5], start=1):
        assert f"{n}. <b>{item.title}</b> · " in text
    assert order[5].title not in text
    assert number_buttons(feed) == [
        (str(n), f"FEED:show:{i.id}") for n, i in enumerate(order[:5], 1)
    ]
    assert labels(feed)[5:] == ["下一页 ▶", *FEED_CATEGORIES]

    await flip(bot, reader, feed, "下一页 ▶")
    assert "（第 2/6 页）" in (feed.text or "")
    assert number_buttons(feed) == [
        (str(n), f"FEED:show:{i.id}") for n, i in enumerate(order[5:10], start=6)
    ]
    assert labels(feed)[5:7] == ["◀ 上一页", "下一页 ▶"]
    for _ in range(4):
        await flip(bot, reader, feed, "下一页 ▶")
    assert "（第 6/6 页）" in (feed.text or "")
    assert [n for n, _ in number_buttons(feed)] == ["26", "27", "28"]
    assert "下一页 ▶" not in labels(feed) and "◀ 上一页" in labels(feed)
    # The oldest (published in 2024 by the pack) come last.
    assert order[-1].guid == "starter-emergency-002"

    await flip(bot, reader, feed, "🩺 卫生健康")
    health = await feed_order(bot, "health")
    assert (feed.text or "").startswith("📚 最新内容——卫生健康（第 1/1 页）")
    assert [d for _, d in number_buttons(feed)] == [f"FEED:show:{i.id}" for i in health]
    assert {i.category for i in health} == {"health"} and len(health) == 3
    assert "下一页 ▶" not in labels(feed) and "◀ 上一页" not in labels(feed)

    # Tap a number: the card arrives (a poster with its picture and the link button).
    poster = next(i for i in health if i.guid == "starter-health-003")
    n = next(n for n, d in number_buttons(feed) if d == f"FEED:show:{poster.id}")
    reader.mark_seen()
    await reader.press(feed, n)
    card = await reader.wait_for_message()
    assert card.photo and "七步洗手法" in (card.caption or "")
    assert card.buttons[-1][0].text == "🔗 打开查看"
    assert card.buttons[-1][0].url == poster.url
    # The uploaded picture's file id is cached for later cards (when the send is recorded).
    await bot.settle()
    assert (await by_guid(bot))["starter-health-003"].media_file_id

    # A text-only item is a text card.
    article = next(i for i in health if i.guid == "starter-health-002")
    await reader.press(feed, data=f"FEED:show:{article.id}")
    text_card = await reader.wait_for_message()
    assert text_card.photo is None and "在家测血压的正确方法" in (text_card.text or "")

    await flip(bot, reader, feed, "全部")
    assert "全部分类（第 1/6 页）" in (feed.text or "")


async def test_feed_hides_drafts_scheduled_expired_and_retired(bot_env) -> None:
    bot = bot_env
    await import_starter(bot)
    reader = bot.sandbox.user("读者")
    feed = await command(reader, "feed")
    await flip(bot, reader, feed, "🩺 卫生健康")
    stale = [d for _, d in number_buttons(feed)]
    assert len(stale) == 3

    items = await by_guid(bot)
    await retire(bot, "starter-health-001")
    async with bot.runtime.sessions() as session, session.begin():
        await content_store.update_item(
            session=session,
            content_id=items["starter-health-002"].id,
            expires_at=FIXED_NOW - dt.timedelta(minutes=1),
        )
    await add_item(bot, "草稿：不应出现", None)
    await add_item(bot, "定时：明天才出现", FIXED_NOW + dt.timedelta(days=1))

    await flip(bot, reader, feed, "🩺 卫生健康")
    text = feed.text or ""
    assert "（第 1/1 页）" in text and "七步洗手法" in text
    for hidden in ("识别中风", "在家测血压", "草稿", "定时"):
        assert hidden not in text, hidden
    assert len(number_buttons(feed)) == 1

    # A number from before is refused politely for the retired and the expired item.
    for data in stale:
        if data == f"FEED:show:{items['starter-health-003'].id}":
            continue
        answer = await reader.press(feed, data=data)
        assert answer and answer["text"] == "这条内容已经不可用了。" and answer["show_alert"]

    # A category with nothing left says so, and still offers the categories.
    await retire(bot, "starter-children-001", "starter-children-002", "starter-children-003")
    await flip(bot, reader, feed, "🧒 青少年科普")
    assert feed.text == "“青少年科普”下还没有已发布的内容。"
    assert labels(feed) == FEED_CATEGORIES


# --- /search ------------------------------------------------------------------------------
async def test_search_finds_substrings_and_explains_empty_results(bot_env) -> None:
    bot = bot_env
    reader = bot.sandbox.user("读者")
    feed = await command(reader, "feed")
    assert feed.text == "“全部分类”下还没有已发布的内容。"
    assert labels(feed) == FEED_CATEGORIES
    assert "没有找到" in ((await search(reader, "洗手")).text or "")

    await import_starter(bot)
    items = await by_guid(bot)

    found = await search(reader, "诈骗")  # a substring of titles, no spaces needed
    text = found.text or ""
    assert text.startswith("🔎 “诈骗”共找到 3 条。点数字打开内容卡片。")
    fraud = ["starter-anti-fraud-001", "starter-anti-fraud-002", "starter-anti-fraud-003"]
    for guid in fraud:
        assert items[guid].title.replace("“", "") in text.replace("“", "")
    assert sorted(d for _, d in number_buttons(found)) == sorted(
        f"FEED:show:{items[g].id}" for g in fraud
    )
    assert [n for n, _ in number_buttons(found)] == ["1", "2", "3"]

    # Every word must occur: 中风 (title) and 急救 (tag) together find one item.
    both = await search(reader, "中风 急救")
    assert "共找到 1 条" in (both.text or "") and "识别中风" in (both.text or "")
    assert number_buttons(both) == [("1", f"FEED:show:{items['starter-health-001'].id}")]

    # A tag alone, a word inside the summary, and English (any case).
    tag = await search(reader, "传染病预防")
    assert number_buttons(tag) == [("1", f"FEED:show:{items['starter-health-003'].id}")]
    summary = await search(reader, "袖带")
    assert number_buttons(summary) == [("1", f"FEED:show:{items['starter-health-002'].id}")]
    english = await search(reader, "HANDWASHING")
    assert number_buttons(english) == [("1", f"FEED:show:{items['starter-health-003'].id}")]

    # Tap the number: the card.
    reader.mark_seen()
    await reader.press(english, "1")
    card = await reader.wait_for_message()
    assert card.photo and "七步洗手法" in (card.caption or "")

    # Many hits: only the newest ten are listed, and the reply says so.
    many = await search(reader, "的")
    assert "共找到 15 条" in (many.text or "")
    assert "只显示最新的 10 条" in (many.text or "")
    assert [n for n, _ in number_buttons(many)] == [str(n) for n in range(1, 11)]

    nothing = await search(reader, "火星移民")
    assert nothing.text == "没有找到“火星移民”相关内容。试试更少或更短的关键词，或用 /feed 浏览。"
    assert nothing.buttons == []
    # The query is escaped (the sandbox rejects broken HTML like Telegram does).
    tags = await search(reader, "<b>")
    assert tags.text == "没有找到“&lt;b&gt;”相关内容。试试更少或更短的关键词，或用 /feed 浏览。"
    # Only one of the two words occurs: nothing.
    assert "没有找到" in ((await search(reader, "中风 诈骗")).text or "")

    help_text = "请在 /search 后面加关键词，例如 /search 防诈骗 或 /search 中风 急救。"
    assert (await search(reader, "")).text == help_text
    assert (await search(reader, "   ")).text == help_text

    # Drafts, scheduled and retired items are not found.
    await add_item(bot, "量子纠缠草稿", None)
    await add_item(bot, "量子纠缠预告", FIXED_NOW + dt.timedelta(hours=1))
    assert "没有找到" in ((await search(reader, "量子纠缠")).text or "")
    await retire(bot, "starter-health-003")
    assert "没有找到" in ((await search(reader, "传染病预防")).text or "")
    washing = await search(reader, "洗手")  # the pesticide item mentions washing hands too
    assert "共找到 1 条" in (washing.text or "") and "七步洗手法" not in (washing.text or "")

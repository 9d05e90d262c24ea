"""Curators end to end through the real bot and the sandbox: /newcontent and /catalog."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.content.importer import import_source
from bot.content.taxonomy import default_taxonomy
from bot.runtime.outbox import notify_outbox
from bot.sandbox import SimUser
from bot.sandbox.harness import RunningBot
from bot.sandbox.world import SimMessage
from bot.services import roles
from storage import audit
from storage import outbox as outbox_store
from storage.models import AuditLog, ContentItem, DialogState, OutboxMessage, Push
from tests.conftest import FIXED_NOW, FixedClock
from tests.content_push.conftest import seed_world, wait_outbox

STARTER = Path(__file__).resolve().parents[2] / "bot/content/packs/starter"
PICTURE = STARTER / "media/handwash.png"
REFUSED = "抱歉，您没有权限进行此操作。"
CONFIRM_LABELS = ["🏷 标签", "🎯 主题活动", "👥 兴趣", "⌛ 截止时间", "保存", "取消"]
# The edit buttons of an item's view (⏱ 时长 and 🖼 封面 only for videos).
EDIT_LABELS = [
    "✏️ 标题",
    "✏️ 摘要",
    "✏️ 链接",
    "🗂 分类",
    "🧩 类型",
    "📎 文件",
    "🏷 标签",
    "🎯 主题活动",
    "📍 地区",
    "👥 兴趣",
    "⏰ 发布时间",
    "⌛ 截止时间",
]


# --- helpers ------------------------------------------------------------------------------
async def import_starter(bot: RunningBot) -> list[int]:
    """Import the starter pack (28 items, all published at import time)."""
    async with bot.runtime.sessions() as session, session.begin():
        report = await import_source(
            session=session,
            source=str(STARTER),
            taxonomy=default_taxonomy(),
            now=bot.runtime.now(),
            tz=bot.runtime.settings.scheduler.tz,
        )
    return report.content_ids


async def make_curator(bot: RunningBot, user: SimUser, role: str = "curator") -> None:
    async with bot.runtime.sessions() as s, s.begin():
        await roles.grant(session=s, telegram_id=user.id, role=role, now=bot.runtime.now())


async def all_items(bot: RunningBot) -> list[ContentItem]:
    async with bot.runtime.sessions() as session:
        result = await session.execute(select(ContentItem).order_by(ContentItem.id))
        return list(result.scalars())


async def get_item(bot: RunningBot, content_id: int) -> ContentItem:
    async with bot.runtime.sessions() as session:
        item = await session.get(ContentItem, content_id)
        assert item is not None
        return item


async def count(bot: RunningBot, table: Any) -> int:
    async with bot.runtime.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())


async def count_pushed(bot: RunningBot) -> int:
    """Return how many content rows (pushes) are in the outbox; replies are not counted."""
    return len(await outbox_rows(bot))


async def audit_of(bot: RunningBot, content_id: int, action: str | None = None) -> list[AuditLog]:
    async with bot.runtime.sessions() as session:
        rows = await audit.entries(
            session=session, subject_type="content", subject_id=content_id, action=action
        )
        return list(reversed(rows))


async def outbox_rows(bot: RunningBot) -> list[OutboxMessage]:
    async with bot.runtime.sessions() as session:
        return await outbox_store.messages_of(session=session, kind="content")


def labels(msg: SimMessage) -> list[str]:
    return [b.text for row in msg.buttons for b in row]


def data_of(msg: SimMessage) -> list[str | None]:
    return [b.callback_data for row in msg.buttons for b in row]


def text_of(msg: SimMessage) -> str:
    return msg.text or msg.caption or ""


async def answer(bot: RunningBot, user: SimUser, text: str) -> SimMessage:
    """Send ``text`` and return the bot's (single) reply."""
    user.mark_seen()
    await user.send(text)
    return await user.wait_for_message()


async def tap(bot: RunningBot, user: SimUser, msg: SimMessage, label: str) -> SimMessage:
    """Press a button that makes the bot send a new message; return that message."""
    user.mark_seen()
    await user.press(msg, label)
    return await user.wait_for_message()


async def readers(bot: RunningBot) -> tuple[SimUser, SimUser]:
    """One health reader in Hangzhou (西湖区 330106) and one in Ningbo (海曙区 330203)."""
    sb = bot.sandbox
    hangzhou = sb.user("杭州读者", started=True)
    ningbo = sb.user("宁波读者", started=True)
    await seed_world(bot.runtime, [hangzhou], interests=["health"], region="330106")
    await seed_world(bot.runtime, [ningbo], interests=["health"], region="330203")
    return hangzhou, ningbo


async def start_new(bot: RunningBot, curator: SimUser, kind: str = "📰 图文") -> SimMessage:
    """Send /newcontent, pick the type, return the question for its file."""
    curator.mark_seen()
    await curator.command("newcontent")
    ask_kind = await curator.wait_for_message()
    assert labels(ask_kind) == ["🎬 视频", "📰 图文", "🖼️ 挂图海报", "📄 文档"]
    return await tap(bot, curator, ask_kind, kind)


async def walk_to_schedule(
    bot: RunningBot,
    curator: SimUser,
    *,
    title: str = "冬季预防一氧化碳中毒",
    summary: str = "用煤炉取暖要开窗通风，安装烟道，睡前熄火。",
    category: str = "🚨 应急避险",
    link: str = "https://kepu.test/co",
    regions: str | None = None,
) -> SimMessage:
    """Run /newcontent with Skip and valid answers up to the "When?" question."""
    first = await start_new(bot, curator)
    await tap(bot, curator, first, "跳过")
    await answer(bot, curator, title)
    cats = await answer(bot, curator, summary)
    await tap(bot, curator, cats, category)
    ask_regions = await answer(bot, curator, link)
    if regions is None:
        return await tap(bot, curator, ask_regions, "全部地区")
    return await answer(bot, curator, regions)


# --- /newcontent --------------------------------------------------------------------------
async def test_newcontent_with_photo_validates_every_step_and_pushes_now(bot_env) -> None:
    bot = bot_env
    hangzhou, ningbo = await readers(bot)
    curator = bot.sandbox.user("策展人")
    await make_curator(bot, curator)

    await curator.command("newcontent")
    ask_kind = await curator.wait_for_message()
    assert "什么类型" in text_of(ask_kind)
    # Text instead of a type: asked again with the buttons.
    again = await answer(bot, curator, "文章")
    assert "请用按钮选择类型" in text_of(again) and "📰 图文" in labels(again)
    first = await tap(bot, curator, again, "📰 图文")
    assert "1/7" in text_of(first) and labels(first) == ["跳过"]
    # Text instead of a picture: asked again, with Skip offered again.
    again = await answer(bot, curator, "没有图")
    assert "1/7" in text_of(again) and "配图" in text_of(again) and labels(again) == ["跳过"]
    await curator.send_photo(PICTURE)
    ask_title = await curator.wait_for_message()
    assert "2/7" in text_of(ask_title)

    too_long = await answer(bot, curator, "长" * 81)
    assert "81" in text_of(too_long) and "80" in text_of(too_long)
    blank = await answer(bot, curator, "   ")
    assert text_of(blank) == "请发送文字内容。"
    # HTML-looking input is kept verbatim and escaped on the way out.
    ask_summary = await answer(bot, curator, "  每天盐<5克 & 少油  ")
    assert "3/7" in text_of(ask_summary)

    cats = await answer(bot, curator, "少盐少油，控制血压。")
    assert "4/7" in text_of(cats)
    assert len(labels(cats)) == len(default_taxonomy().categories)
    assert "🩺 卫生健康" in labels(cats)
    unknown = await answer(bot, curator, "火星殖民")
    assert "请从下面的分类中选择一个" in text_of(unknown) and "🩺 卫生健康" in labels(unknown)
    ask_link = await tap(bot, curator, unknown, "🩺 卫生健康")
    assert "5/7" in text_of(ask_link)

    for bad in ("ftp://kepu.test/a", "javascript:alert(1)", "www.kepu.test", "https:// x"):
        refusal = await answer(bot, curator, bad)
        assert "http:// 或 https://" in text_of(refusal), bad
    ask_regions = await answer(bot, curator, "https://kepu.test/salt")
    assert "6/7" in text_of(ask_regions) and labels(ask_regions) == ["全部地区"]

    bad_region = await answer(bot, curator, "33010")
    assert "“33010”不是6位行政区划代码" in text_of(bad_region)
    ask_when = await answer(bot, curator, "330100，330100")
    assert "7/7" in text_of(ask_when) and labels(ask_when) == ["立即推送", "稍后发布"]

    confirm = await tap(bot, curator, ask_when, "立即推送")
    text = text_of(confirm)
    assert "<b>每天盐&lt;5克 &amp; 少油</b>" in text
    assert "分类：卫生健康" in text and "链接：https://kepu.test/salt" in text
    assert "配图：有" in text and "地区：杭州市（330100）" in text and "时间：立即推送" in text
    assert labels(confirm) == CONFIRM_LABELS
    # Nothing is written before Save.
    assert await all_items(bot) == []
    assert await count(bot, Push) == 0

    saved = await tap(bot, curator, confirm, "保存")
    item = (await all_items(bot))[0]
    assert text_of(saved) == f"已保存，编号 #{item.id}。"
    assert item.title == "每天盐<5克 & 少油"
    assert item.summary == "少盐少油，控制血压。"
    assert item.category == "health" and item.url == "https://kepu.test/salt"
    assert item.regions == ["330100"] and item.media_file_id and item.source == "bot"
    assert item.publish_at == FIXED_NOW
    assert await count(bot, DialogState) == 0

    await wait_outbox(bot)
    rows = await outbox_rows(bot)
    assert [(r.chat_id, r.state) for r in rows] == [(hangzhou.id, "sent")]
    card = hangzhou.messages[-1]
    assert card.photo and "每天盐&lt;5克 &amp; 少油" in text_of(card)
    assert ningbo.messages == []  # outside the chosen region
    report = await curator.wait_for_message(predicate=lambda m: "推送报告" in text_of(m))
    assert "已发送 1 ·" in text_of(report)

    actions = [e.action for e in await audit_of(bot, item.id)]
    assert actions == ["content.create", "content.push"]
    create = (await audit_of(bot, item.id, "content.create"))[0]
    assert create.detail["regions"] == ["330100"] and create.actor_id is not None


async def test_newcontent_date_time_publishes_and_pushes_then(bot_env, clock: FixedClock) -> None:
    bot = bot_env
    hangzhou, ningbo = await readers(bot)
    curator = bot.sandbox.user("策展人")
    await make_curator(bot, curator)

    ask_when = await walk_to_schedule(bot, curator, category="🩺 卫生健康", regions="330203")
    assert "7/7" in text_of(ask_when)
    nonsense = await answer(bot, curator, "过几天吧")
    assert "2026-12-01 09:30" in text_of(nonsense)
    past = await answer(bot, curator, "2026-11-23 09:59")  # a minute before now (Shanghai)
    assert text_of(past) == "这个时间已经过去了，请发送一个将来的时间。"
    confirm = await answer(bot, curator, "2026-12-01 09:30")
    assert "发布并推送" in text_of(confirm) and "2026" in text_of(confirm)
    assert await all_items(bot) == []

    await curator.press(confirm, "保存")
    await bot.settle()
    (item,) = await all_items(bot)
    when = dt.datetime(2026, 12, 1, 1, 30, tzinfo=dt.UTC)  # 09:30 in Shanghai
    assert item.publish_at == when
    replies = [text_of(m) for m in curator.messages[-2:]]
    assert replies[0] == f"已保存，编号 #{item.id}。"
    assert replies[1].startswith("已定时：1 位信息员将在")
    rows = await outbox_rows(bot)
    assert [(r.chat_id, r.state, r.next_attempt_at) for r in rows] == [
        (ningbo.id, "pending", when)
    ]
    assert ningbo.messages == [] and hangzhou.messages == []

    # When the time comes the sender delivers it.
    clock.set(when + dt.timedelta(minutes=1))
    notify_outbox(bot.runtime)
    await wait_outbox(bot)
    assert [r.state for r in await outbox_rows(bot)] == ["sent"]
    assert "冬季预防一氧化碳中毒" in text_of(ningbo.messages[-1])
    assert hangzhou.messages == []


async def test_cancel_saves_nothing_at_any_step(bot_env) -> None:
    bot = bot_env
    curator = bot.sandbox.user("策展人")
    await make_curator(bot, curator)

    ask_when = await walk_to_schedule(bot, curator)
    confirm = await tap(bot, curator, ask_when, "立即推送")
    cancelled = await answer(bot, curator, "/cancel")
    assert text_of(cancelled) == "已退出新增内容，没有保存。"
    assert await all_items(bot) == []
    assert await count(bot, DialogState) == 0 and await count(bot, Push) == 0
    # The old Save button no longer works.
    alert = await curator.press(confirm, "保存")
    assert alert and alert["show_alert"] and "已结束" in alert["text"]
    assert await all_items(bot) == []

    # The Cancel button of the confirmation does the same.
    ask_when = await walk_to_schedule(bot, curator)
    confirm = await tap(bot, curator, ask_when, "稍后发布")
    done = await tap(bot, curator, confirm, "取消")
    assert text_of(done) == "已取消，未保存任何内容。"
    assert await all_items(bot) == [] and await count(bot, DialogState) == 0
    assert await count(bot, AuditLog) == 1  # only the role grant

    # /cancel in the middle; a button of an earlier step does not move the dialog.
    first = await start_new(bot, curator)
    await tap(bot, curator, first, "跳过")
    await answer(bot, curator, "标题")
    # Skip belongs to step 1: pressing it now does not move the dialog.
    stale = await tap(bot, curator, first, "跳过")
    assert "前面的步骤" in text_of(stale)
    cats = await answer(bot, curator, "摘要")
    assert "4/7" in text_of(cats)
    cancelled = await answer(bot, curator, "/cancel")
    assert text_of(cancelled) == "已退出新增内容，没有保存。"
    assert await all_items(bot) == [] and await count(bot, DialogState) == 0
    # Free text after /cancel is not taken as a link.
    await curator.send("https://kepu.test/x")
    await bot.settle()
    assert await all_items(bot) == []


# --- authorisation ------------------------------------------------------------------------
async def test_non_curators_are_refused(bot_env) -> None:
    bot = bot_env
    ids = await import_starter(bot)
    hangzhou, _ = await readers(bot)  # an informant, but not a curator
    for command in ("newcontent", "catalog"):
        await hangzhou.command(command)
        refusal = await hangzhou.wait_for_message()
        assert text_of(refusal) == REFUSED
    assert await count(bot, DialogState) == 0
    # Forged buttons are refused too and change nothing.
    before = await audit_of(bot, ids[0])
    for data in (f"CAT:retireok:{ids[0]}", f"CAT:pushok:{ids[0]}", "NC:save"):
        alert = await hangzhou.press(refusal, data=data)
        assert alert and alert["show_alert"] and alert["text"] == REFUSED
    await bot.settle()
    assert (await get_item(bot, ids[0])).retired_at is None
    assert await count(bot, Push) == 0
    assert await audit_of(bot, ids[0]) == before

    # An admin passes without the curator role.
    boss = bot.sandbox.user("管理员")
    await make_curator(bot, boss, role="admin")
    await boss.command("catalog")
    listing = await boss.wait_for_message()
    assert "共 28 条" in text_of(listing)


# --- /catalog -----------------------------------------------------------------------------
async def test_catalog_pages(bot_env) -> None:
    bot = bot_env
    curator = bot.sandbox.user("策展人")
    await make_curator(bot, curator)
    await curator.command("catalog")
    empty = await curator.wait_for_message()
    assert "内容库还是空的" in text_of(empty) and empty.buttons == []

    ids = await import_starter(bot)
    assert len(ids) == 28
    await curator.command("catalog")
    listing = await curator.wait_for_message()
    newest = sorted(ids, reverse=True)
    assert "第 1/4 页（共 28 条）" in text_of(listing)
    assert data_of(listing)[:8] == [f"CAT:view:{i}" for i in newest[:8]]
    assert labels(listing)[-1] == "下一页 ▶" and "◀ 上一页" not in labels(listing)
    assert "✅ #" in text_of(listing)

    await curator.press(listing, "下一页 ▶")
    await bot.settle()
    assert "第 2/4 页" in text_of(listing)
    assert data_of(listing)[:8] == [f"CAT:view:{i}" for i in newest[8:16]]
    assert labels(listing)[-2:] == ["◀ 上一页", "下一页 ▶"]
    for _ in range(2):
        await curator.press(listing, "下一页 ▶")
        await bot.settle()
    assert "第 4/4 页" in text_of(listing)
    views = [d for d in data_of(listing) if d and d.startswith("CAT:view:")]
    assert views == [f"CAT:view:{i}" for i in newest[24:]]
    assert labels(listing)[-1] == "◀ 上一页" and "下一页 ▶" not in labels(listing)

    # Drafts and retired items are listed with their marks.
    await curator.press(listing, data=f"CAT:view:{newest[-1]}")
    await bot.settle()
    assert "◀ 内容库" in labels(listing)
    await curator.press(listing, "◀ 内容库")
    await bot.settle()
    assert "第 1/4 页" in text_of(listing)


async def test_catalog_edits_and_retires_audited(bot_env, clock: FixedClock) -> None:
    bot = bot_env
    ids = await import_starter(bot)
    item = await get_item(bot, ids[0])
    old_title, old_summary, old_url = item.title, item.summary, item.url
    curator = bot.sandbox.user("策展人")
    await make_curator(bot, curator)

    await curator.command("catalog")
    listing = await curator.wait_for_message()
    await curator.press(listing, data=f"CAT:view:{item.id}")
    await bot.settle()
    view = text_of(listing)
    assert old_title.replace("“", "") in view.replace("“", "")
    assert f"#{item.id} · ✅ · 地区：全部地区" in view
    assert item.kind == "video"  # the starter pack's first item: duration and cover too
    edits = [*EDIT_LABELS[:6], "⏱ 时长", "🖼 封面", *EDIT_LABELS[6:]]
    assert labels(listing) == ["🚀 立即推送", *edits, "🗄 下架", "◀ 内容库"]

    prompt = await tap(bot, curator, listing, "✏️ 标题")
    assert text_of(prompt).startswith(f"请发送 #{item.id} 的新标题。发送 /cancel 保留原来的。")
    assert "60分钟内未回复" in text_of(prompt)
    too_long = await answer(bot, curator, "题" * 81)
    assert "最多 80 个" in text_of(too_long)
    saved = await answer(bot, curator, "识别中风<新版>")
    assert text_of(saved) == f"已保存。#{item.id} 现在是：识别中风&lt;新版&gt;"

    await tap(bot, curator, listing, "✏️ 摘要")
    await answer(bot, curator, "新的摘要。")

    await tap(bot, curator, listing, "✏️ 链接")
    for bad in ("kepu.test/new", "ftp://kepu.test/new", "mailto:a@kepu.test"):
        refusal = await answer(bot, curator, bad)
        assert "http:// 或 https://" in text_of(refusal), bad
    await answer(bot, curator, "https://kepu.test/new")

    # /cancel during an edit keeps the old value.
    await tap(bot, curator, listing, "✏️ 标题")
    cancelled = await answer(bot, curator, "/cancel")
    assert text_of(cancelled) == "已退出修改，该内容保持原值。"

    item = await get_item(bot, ids[0])
    assert (item.title, item.summary, item.url) == (
        "识别中风<新版>",
        "新的摘要。",
        "https://kepu.test/new",
    )
    edits = await audit_of(bot, item.id, "content.edit")
    assert [e.detail for e in edits] == [
        {"field": "title", "old": old_title, "new": "识别中风<新版>"},
        {"field": "summary", "old": old_summary, "new": "新的摘要。"},
        {"field": "url", "old": old_url, "new": "https://kepu.test/new"},
    ]
    assert all(e.actor_id is not None for e in edits)
    assert await count(bot, DialogState) == 0

    # Retire another item, after a cancelled first attempt.
    curator.mark_seen()
    await curator.press(listing, data=f"CAT:view:{ids[1]}")
    await bot.settle()

    ask = await tap(bot, curator, listing, "🗄 下架")
    assert ask.text and ask.text.startswith("确定下架") and labels(ask) == ["确认下架", "取消"]
    await curator.press(ask, "取消")
    await bot.settle()
    assert ask.text == "已取消。"
    assert (await get_item(bot, ids[1])).retired_at is None

    ask = await tap(bot, curator, listing, "🗄 下架")
    clock.advance(minutes=5)
    await curator.press(ask, "确认下架")
    await bot.settle()
    item = await get_item(bot, ids[1])
    assert item.retired_at == FIXED_NOW + dt.timedelta(minutes=5)
    assert ask.text == f"已下架 #{item.id}“{item.title}”。"
    (entry,) = await audit_of(bot, item.id, "content.retire")
    assert entry.actor_id is not None and entry.detail == {"title": item.title}

    # Its view now offers neither push nor retire; a second retire is refused.
    await curator.press(listing, data=f"CAT:view:{item.id}")
    await bot.settle()
    assert "🗄" in text_of(listing)
    assert "🚀 立即推送" not in labels(listing) and "🗄 下架" not in labels(listing)
    # Only what this press brings counts: under load an earlier message can still be
    # unread here (seen in CI once), which says nothing about the refusal.
    curator.mark_seen()
    await curator.press(listing, data=f"CAT:retireok:{item.id}")
    refusal = await curator.wait_for_message()
    assert text_of(refusal) == "这条内容已经下架了。"
    assert len(await audit_of(bot, item.id, "content.retire")) == 1


async def test_catalog_push_now_counts_confirms_and_delivers(bot_env) -> None:
    bot = bot_env
    await import_starter(bot)
    sb = bot.sandbox
    health = [sb.user(f"健康读者{i}", started=True) for i in range(3)]
    await seed_world(bot.runtime, health, interests=["health"])
    farmer = sb.user("农民", started=True)
    await seed_world(bot.runtime, [farmer], interests=["agriculture"])
    curator = sb.user("策展人")
    await make_curator(bot, curator)
    async with bot.runtime.sessions() as session:
        item = (
            await session.execute(
                select(ContentItem).where(ContentItem.guid == "starter-health-002")
            )
        ).scalar_one()

    await curator.command("catalog")
    listing = await curator.wait_for_message()
    await curator.press(listing, data=f"CAT:view:{item.id}")
    await bot.settle()

    # Cancel first: nothing queued.
    ask = await tap(bot, curator, listing, "🚀 立即推送")
    assert text_of(ask).startswith(f"现在把 #{item.id} 推送给 3 位匹配的信息员吗")
    await curator.press(ask, "取消")
    await bot.settle()
    assert ask.text == "已取消。"
    assert await count(bot, Push) == 0 and await count_pushed(bot) == 0

    ask = await tap(bot, curator, listing, "🚀 立即推送")
    await curator.press(ask, "确认推送")
    await wait_outbox(bot)
    assert ask.buttons == []  # the confirmation cannot be pressed twice
    rows = await outbox_rows(bot)
    assert sorted(r.chat_id for r in rows) == sorted(u.id for u in health)
    assert {r.state for r in rows} == {"sent"}
    assert {r.dedupe_key for r in rows} == {f"push:{item.id}:{u.id}" for u in health}
    for reader in health:
        assert len(reader.messages) == 1 and "在家测血压的正确方法" in text_of(reader.messages[0])
    assert farmer.messages == []
    report = await curator.wait_for_message(predicate=lambda m: "推送报告" in text_of(m))
    assert "已发送 3 ·" in text_of(report) and "（共 3）" in text_of(report)
    (entry,) = await audit_of(bot, item.id, "content.push")
    assert entry.actor_id is not None
    assert entry.detail["queued"] == 3 and entry.detail["trigger"] == "curator"

    # A second push reaches nobody new.
    ask = await tap(bot, curator, listing, "🚀 立即推送")
    nobody = await tap(bot, curator, ask, "确认推送")
    assert "没有需要推送的信息员" in text_of(nobody)
    assert await count_pushed(bot) == 3
    assert all(len(reader.messages) == 1 for reader in health)


async def test_newcontent_draft_is_kept_then_pushed_from_catalog(bot_env) -> None:
    bot = bot_env
    hangzhou, ningbo = await readers(bot)
    curator = bot.sandbox.user("策展人")
    await make_curator(bot, curator)

    first = await start_new(bot, curator)
    await tap(bot, curator, first, "跳过")
    await answer(bot, curator, "冬季预防一氧化碳中毒")
    await answer(bot, curator, "用煤炉取暖要开窗通风。")
    # A typed alias works instead of the buttons.
    ask_link = await answer(bot, curator, "健康")
    assert "5/7" in text_of(ask_link)
    ask_regions = await answer(bot, curator, "http://kepu.test/face")
    ask_when = await tap(bot, curator, ask_regions, "全部地区")
    confirm = await tap(bot, curator, ask_when, "稍后发布")
    assert "配图：无" in text_of(confirm) and "地区：全部地区" in text_of(confirm)
    assert "时间：稍后发布（草稿）" in text_of(confirm)
    # Typing at the confirmation shows the summary again; still nothing stored.
    again = await answer(bot, curator, "好的")
    assert "请核对" in text_of(again) and labels(again) == CONFIRM_LABELS
    assert await all_items(bot) == []

    saved = await tap(bot, curator, again, "保存")
    (item,) = await all_items(bot)
    assert text_of(saved) == f"已保存为草稿 #{item.id}。可以在 /catalog 中发布并推送。"
    assert item.publish_at is None and item.media_file_id is None and item.regions == []
    assert item.category == "health" and item.url == "http://kepu.test/face"
    assert await count(bot, Push) == 0 and await count_pushed(bot) == 0
    await bot.settle()
    assert hangzhou.messages == []
    assert [e.action for e in await audit_of(bot, item.id)] == ["content.create"]

    # Later the curator publishes and pushes the draft from /catalog.
    draft = item
    curator.mark_seen()
    await curator.command("catalog")
    listing = await curator.wait_for_message()
    assert f"📝 #{draft.id}" in text_of(listing)
    await curator.press(listing, data=f"CAT:view:{draft.id}")
    await bot.settle()
    ask = await tap(bot, curator, listing, "🚀 立即推送")
    assert "推送给 2 位" in text_of(ask)  # all regions: both health readers
    await curator.press(ask, "确认推送")
    await wait_outbox(bot)
    assert (await get_item(bot, draft.id)).publish_at == FIXED_NOW
    for reader in (hangzhou, ningbo):
        assert "冬季预防一氧化碳中毒" in text_of(reader.messages[-1])

    # Retired meanwhile: an old push button is refused with a clear message.
    retire = await tap(bot, curator, listing, "🗄 下架")
    await curator.press(retire, "确认下架")
    await bot.settle()
    assert ask.buttons == []  # the old confirmation lost its buttons; replay its data
    await curator.press(listing, data=f"CAT:pushok:{draft.id}")
    refusal = await curator.wait_for_message()
    assert text_of(refusal) == "这条内容已下架，不能推送。"
    assert await count(bot, Push) == 1


async def test_push_now_brings_a_scheduled_item_forward(bot_env) -> None:
    """A scheduled item pushed from /catalog goes now, not at the scheduled time."""
    bot = bot_env
    hangzhou, ningbo = await readers(bot)
    curator = bot.sandbox.user("策展人")
    await make_curator(bot, curator)
    await walk_to_schedule(bot, curator, category="🩺 卫生健康")
    confirm = await answer(bot, curator, "2026-12-01 09:30")
    await curator.press(confirm, "保存")
    await bot.settle()
    (item,) = await all_items(bot)
    when = dt.datetime(2026, 12, 1, 1, 30, tzinfo=dt.UTC)
    assert {(r.state, r.next_attempt_at) for r in await outbox_rows(bot)} == {("pending", when)}

    curator.mark_seen()
    await curator.command("catalog")
    listing = await curator.wait_for_message()
    assert f"⏰ #{item.id}" in text_of(listing)
    await curator.press(listing, data=f"CAT:view:{item.id}")
    await bot.settle()
    ask = await tap(bot, curator, listing, "🚀 立即推送")
    assert "推送给 2 位" in text_of(ask)
    await curator.press(ask, "确认推送")
    await wait_outbox(bot)

    assert (await get_item(bot, item.id)).publish_at == FIXED_NOW
    rows = await outbox_rows(bot)
    assert len(rows) == 2 and {r.state for r in rows} == {"sent"}
    for reader in (hangzhou, ningbo):
        assert len(reader.messages) == 1
        assert "冬季预防一氧化碳中毒" in text_of(reader.messages[0])
    report = await curator.wait_for_message(predicate=lambda m: "推送报告" in text_of(m))
    assert "已发送 2 ·" in text_of(report) and "（共 2）" in text_of(report)
    async with bot.runtime.sessions() as session:
        pushes = list((await session.execute(select(Push).order_by(Push.id))).scalars())
    scheduled, now_push = pushes
    assert {r.push_id for r in rows} == {now_push.id} and now_push.total == 2
    assert scheduled.total == 0 and scheduled.finished_at == FIXED_NOW

"""/catalog edits every field, one small step each, and two-step publishing, end to end.

Each typed field gets a bad answer first (refused with its reason, the old value kept, the
step waiting), then a good one; button fields save at once; every change is audited. With
``[content] review_before_publish`` a second curator approves before anything is pushed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.content.catalogue import NewItem, create_item
from bot.content.taxonomy import default_taxonomy
from bot.sandbox import Sandbox, SimUser
from bot.sandbox.factories import make_region_tree
from bot.sandbox.harness import RunningBot, running_bot, sandbox_settings
from bot.sandbox.world import SimMessage
from storage import content as content_store
from storage.models import AuditLog, DialogState, Push
from tests.conftest import FIXED_NOW, FixedClock
from tests.content_push.conftest import seed_world, wait_outbox
from tests.content_push.test_content_types_e2e import PDF, VIDEO
from tests.content_push.test_curator_e2e import (
    PICTURE,
    all_items,
    answer,
    audit_of,
    count,
    count_pushed,
    get_item,
    labels,
    make_curator,
    outbox_rows,
    start_new,
    tap,
    text_of,
)

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


async def new_article(
    bot: RunningBot, *, author_id: int | None = None, regions: bool = True
) -> int:
    async with bot.runtime.sessions() as session, session.begin():
        if regions:
            await make_region_tree(session, ("330106", "330203"))
        item = await create_item(
            session=session,
            new=NewItem(
                title="冬季预防一氧化碳中毒",
                summary="用煤炉取暖要开窗通风。",
                category="emergency",
                url="https://kepu.test/co",
            ),
            taxonomy=default_taxonomy(),
            actor_id=author_id,
            now=bot.runtime.now(),
        )
    assert item.id is not None
    return item.id


async def open_item(bot: RunningBot, curator: SimUser, content_id: int) -> SimMessage:
    curator.mark_seen()
    await curator.command("catalog")
    listing = await curator.wait_for_message()
    await curator.press(listing, data=f"CAT:view:{content_id}")
    await bot.settle()
    return listing


def saved(field: str, content_id: int) -> str:
    return f"已保存：#{content_id} 的{field}已修改。"


async def test_every_field_is_edited_in_a_small_step(bot_env, clock: FixedClock) -> None:
    bot = bot_env
    curator = bot.sandbox.user("内容编辑")
    await make_curator(bot, curator)
    cid = await new_article(bot)
    view = await open_item(bot, curator, cid)
    assert "类型：图文" in text_of(view) and "发布：草稿" in text_of(view)

    # Tags: a tag over 20 characters is refused, the step waits for a good answer.
    prompt = await tap(bot, curator, view, "🏷 标签")
    assert prompt.text and prompt.text.startswith(f"请发送 #{cid} 的新标签。")
    assert labels(prompt) == ["不要标签"]
    refusal = await answer(bot, curator, "一" * 21)
    assert "太长了（每个标签最多 20 个字）" in text_of(refusal)
    assert (await get_item(bot, cid)).tags == []
    done = await answer(bot, curator, "取暖 中毒")
    assert text_of(done) == saved("标签", cid)
    assert (await get_item(bot, cid)).tags == ["取暖", "中毒"]

    # Regions: a bad code, an unknown name, then names.
    await tap(bot, curator, view, "📍 地区")
    assert "不是6位行政区划代码" in text_of(await answer(bot, curator, "33010"))
    assert "找不到名为“月球”的地区" in text_of(await answer(bot, curator, "月球"))
    assert text_of(await answer(bot, curator, "宁波 西湖区")) == saved("地区", cid)
    assert (await get_item(bot, cid)).regions == ["330200", "330106"]
    # …and back to all regions with the button of the prompt.
    prompt = await tap(bot, curator, view, "📍 地区")
    cleared = await tap(bot, curator, prompt, "全部地区")
    assert text_of(cleared) == saved("地区", cid)
    assert (await get_item(bot, cid)).regions == []
    assert await count(bot, DialogState) == 0

    # Interests.
    await tap(bot, curator, view, "👥 兴趣")
    assert text_of(await answer(bot, curator, "天文学")) == "未知分类。"
    assert text_of(await answer(bot, curator, "健康、应急")) == saved("兴趣", cid)
    assert (await get_item(bot, cid)).interests == ["health"]  # its own category dropped

    # Publish and expiry times, in natural Chinese.
    await tap(bot, curator, view, "⏰ 发布时间")
    nonsense = await answer(bot, curator, "过几天")
    assert "明天上午9点" in text_of(nonsense)
    past = await answer(bot, curator, "2026-11-01 09:00")
    assert "已经过去" in text_of(past)
    assert text_of(await answer(bot, curator, "明天上午9点")) == saved("发布时间", cid)
    publish = dt.datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI)
    assert (await get_item(bot, cid)).publish_at == publish
    await tap(bot, curator, view, "⌛ 截止时间")
    early = await answer(bot, curator, "明天上午8点")
    assert text_of(early) == "截止时间必须晚于发布时间，请发送一个更晚的时间。"
    assert text_of(await answer(bot, curator, "12月5日")) == saved("截止时间", cid)
    assert (await get_item(bot, cid)).expires_at == dt.datetime(2026, 12, 5, 9, tzinfo=SHANGHAI)

    # Button fields: category and campaign save at once.
    picks = await tap(bot, curator, view, "🗂 分类")
    assert "🩺 卫生健康" in labels(picks)
    assert text_of(await tap(bot, curator, picks, "🩺 卫生健康")) == saved("分类", cid)
    picks = await tap(bot, curator, view, "🎯 主题活动")
    assert labels(picks)[-1] == "不属于任何主题活动"
    assert text_of(await tap(bot, curator, picks, "全国科普日")) == saved("主题活动", cid)
    item = await get_item(bot, cid)
    assert (item.category, item.campaign) == ("health", "science_day")

    # The type: a poster asks for its image (a PDF is refused), then changes with it.
    picks = await tap(bot, curator, view, "🧩 类型")
    ask = await tap(bot, curator, picks, "🖼️ 挂图海报")
    assert "挂图海报的图片" in text_of(ask)
    await curator.send_document(PDF, filename="a.pdf")
    assert "不是图片" in text_of(await curator.wait_for_message())
    assert (await get_item(bot, cid)).kind == "article"
    await curator.send_document(PICTURE, filename="原图.png")
    assert text_of(await curator.wait_for_message()) == saved("类型", cid)
    item = await get_item(bot, cid)
    assert (item.kind, item.original_file_name, item.original_mime) == (
        "poster",
        "原图.png",
        "image/png",
    )
    # A new file for the poster: a photo now, which replaces the image sent as a file.
    await tap(bot, curator, view, "📎 文件")
    await curator.send_photo(PICTURE)
    assert text_of(await curator.wait_for_message()) == saved("文件", cid)
    item = await get_item(bot, cid)
    assert item.media_file_id and item.original_file_id is None

    # To a video: its file gives the duration; then the video-only fields.
    picks = await tap(bot, curator, view, "🧩 类型")
    await tap(bot, curator, picks, "🎬 视频")
    await curator.send_video(VIDEO, duration=125, filename="v.mp4")
    assert text_of(await curator.wait_for_message()) == saved("类型", cid)
    item = await get_item(bot, cid)
    assert (item.kind, item.duration_seconds, item.original_mime) == ("video", 125, "video/mp4")
    await curator.press(view, data=f"CAT:view:{cid}")
    await bot.settle()
    assert "⏱ 时长" in labels(view) and "时长：2:05" in text_of(view)
    await tap(bot, curator, view, "⏱ 时长")
    assert "是分钟还是秒" in text_of(await answer(bot, curator, "4"))
    assert text_of(await answer(bot, curator, "4:05")) == saved("时长", cid)
    await tap(bot, curator, view, "🖼 封面")
    assert "请发送一张图片" in text_of(await answer(bot, curator, "封面"))
    await curator.send_photo(PICTURE)
    assert text_of(await curator.wait_for_message()) == saved("封面", cid)
    item = await get_item(bot, cid)
    assert item.duration_seconds == 245 and item.cover_file_id
    assert item.media_file_id == item.cover_file_id

    # /cancel leaves an edit with the value kept.
    await tap(bot, curator, view, "⏱ 时长")
    left = await answer(bot, curator, "/cancel")
    assert text_of(left) == "已退出修改，该内容保持原值。"
    assert (await get_item(bot, cid)).duration_seconds == 245

    fields = [e.detail["field"] for e in await audit_of(bot, cid, "content.edit")]
    assert fields == [
        "tags",
        "regions",
        "regions",
        "interests",
        "publish",
        "expires",
        "category",
        "campaign",
        "kind",
        "media",
        "kind",
        "duration",
        "cover",
    ]
    (expiry,) = [
        e for e in await audit_of(bot, cid, "content.edit") if e.detail["field"] == "expires"
    ]
    assert expiry.detail["old"] is None and expiry.detail["new"].startswith("2026-12-05")
    assert await count(bot, DialogState) == 0


async def test_a_pushed_item_keeps_its_publish_time(bot_env) -> None:
    bot = bot_env
    curator = bot.sandbox.user("内容编辑")
    await make_curator(bot, curator)
    reader = bot.sandbox.user("读者", started=True)
    await seed_world(bot.runtime, [reader])
    cid = await new_article(bot, regions=False)
    view = await open_item(bot, curator, cid)
    ask = await tap(bot, curator, view, "🚀 立即推送")
    await curator.press(ask, "确认推送")
    await wait_outbox(bot)
    await tap(bot, curator, view, "⏰ 发布时间")
    refusal = await answer(bot, curator, "明天上午9点")
    assert text_of(refusal) == "这条内容已经推送过，发布时间不能再修改。"
    assert (await get_item(bot, cid)).publish_at == FIXED_NOW
    assert await count(bot, DialogState) == 1  # the step waits; /cancel or a command leaves


# --- two-step publishing ------------------------------------------------------------------
@pytest.fixture
async def review_bot(
    sandbox: Sandbox, sqlite_url: str, clock: FixedClock
) -> AsyncIterator[RunningBot]:
    """The bot with ``[content] review_before_publish = true``."""
    settings = sandbox_settings(
        sandbox,
        sqlite_url,
        web={"public_base_url": "http://kepu.test"},
        content={"review_before_publish": True},
    )
    async with running_bot(sandbox, settings, clock=clock) as running:
        yield running


async def test_a_second_curator_approves_before_the_push(review_bot) -> None:
    bot = review_bot
    reader = bot.sandbox.user("读者", started=True)
    await seed_world(bot.runtime, [reader], interests=["emergency"])
    author = bot.sandbox.user("作者")
    second = bot.sandbox.user("审核人", started=True)
    await make_curator(bot, author)
    await make_curator(bot, second)

    first = await start_new(bot, author)
    await tap(bot, author, first, "跳过")
    await answer(bot, author, "冬季预防一氧化碳中毒")
    cats = await answer(bot, author, "用煤炉取暖要开窗通风。")
    ask_link = await tap(bot, author, cats, "🚨 应急避险")
    assert "5/7" in text_of(ask_link)
    ask_regions = await answer(bot, author, "https://kepu.test/co")
    ask_when = await tap(bot, author, ask_regions, "全部地区")
    confirm = await tap(bot, author, ask_when, "立即推送")
    assert "发布前需要另一位内容编辑审核。" in text_of(confirm)
    author.mark_seen()
    await author.press(confirm, "保存")
    await bot.settle()
    item_id = (await all_items(bot))[0].id
    assert text_of(author.messages[-2]) == f"已保存，编号 #{item_id}。"
    assert text_of(author.messages[-1]) == f"#{item_id} 正在等待审核：已通知另外 1 位内容编辑。"
    item = await get_item(bot, item_id)
    assert item.review_state == "pending" and await count(bot, Push) == 0
    # Hidden from informants meanwhile.
    async with bot.runtime.sessions() as session:
        visible, _ = await content_store.browse(session=session, now=bot.runtime.now())
    assert visible == []

    request = await second.wait_for_message(predicate=lambda m: "请审核" in text_of(m))
    assert f"#{item_id}“冬季预防一氧化碳中毒”" in text_of(request)
    assert labels(request) == ["👁 查看", "✅ 审核通过", "↩️ 退回修改"]

    # The author can neither approve nor push it; both refusals are clear, one audited.
    view = await open_item(bot, author, item_id)
    assert "✅ 审核通过" not in labels(view) and "🚀 立即推送" not in labels(view)
    assert "审核：等待审核" in text_of(view)
    alert = await author.press(view, data=f"CAT:approve:{item_id}")
    assert alert and alert["text"] == "这条内容是您创建的，需要由另一位内容编辑审核。"
    async with bot.runtime.sessions() as session:
        refused = (
            await session.execute(
                AuditLog.__table__.select().where(AuditLog.allowed.is_(False))  # type: ignore[attr-defined]
            )
        ).all()
    assert [(r.action, r.reason, r.subject_id) for r in refused] == [
        ("content.approve", "own_item", item_id)
    ]
    author.mark_seen()
    await author.press(view, data=f"CAT:pushok:{item_id}")
    refusal = await author.wait_for_message()
    assert text_of(refusal) == "这条内容正在等待另一位内容编辑审核，暂时不能推送或发布。"
    assert await count_pushed(bot) == 0

    # Sent back: the author hears it, fixes the title, asks again.
    author.mark_seen()
    await second.press(request, "↩️ 退回修改")
    back = await author.wait_for_message(predicate=lambda m: "退回" in text_of(m))
    assert text_of(back).startswith(f"#{item_id}“冬季预防一氧化碳中毒”被审核人退回")
    assert (await get_item(bot, item_id)).review_state == "returned"
    view = await open_item(bot, author, item_id)
    await tap(bot, author, view, "✏️ 标题")
    await answer(bot, author, "冬季取暖防中毒")
    view = await open_item(bot, author, item_id)
    second.mark_seen()
    asked = await tap(bot, author, view, "📨 申请审核")
    assert "已通知另外 1 位" in text_of(asked)
    request = await second.wait_for_message(predicate=lambda m: "请审核" in text_of(m))

    # Approved: the push the author asked for goes out now.
    await second.press(request, "✅ 审核通过")
    await wait_outbox(bot)
    item = await get_item(bot, item_id)
    assert (item.review_state, item.reviewed_at) == ("approved", FIXED_NOW)
    assert [r.chat_id for r in await outbox_rows(bot)] == [reader.id]
    assert "冬季取暖防中毒" in text_of(reader.messages[-1])
    # Every entry is at the fixed instant: their ids give the order.
    entries = sorted(await audit_of(bot, item_id), key=lambda e: e.id or 0)
    actions = [(e.action, e.allowed) for e in entries]
    assert [a for a, allowed in actions if not allowed] == ["content.approve"]  # the author's
    assert [a for a, allowed in actions if allowed] == [
        "content.create",
        "content.send_back",
        "content.edit",
        "content.review_request",
        "content.approve",
        "content.push",
    ]
    (approve,) = [e for e in await audit_of(bot, item_id, "content.approve") if e.allowed]
    assert approve.actor_id is not None and approve.actor_id != item.created_by

    # A change after approval withdraws it: the next push waits for a new approval.
    view = await open_item(bot, author, item_id)
    await tap(bot, author, view, "🏷 标签")
    withdrawn = await answer(bot, author, "取暖")
    assert "修改后需要重新审核" in text_of(withdrawn)
    assert (await get_item(bot, item_id)).review_state is None
    author.mark_seen()
    await author.press(view, data=f"CAT:pushok:{item_id}")
    assert "暂时不能推送" in text_of(await author.wait_for_message())


async def test_one_step_by_default(bot_env) -> None:
    """Without the setting nothing waits: the author pushes, no review is asked."""
    bot = bot_env
    curator = bot.sandbox.user("内容编辑")
    await make_curator(bot, curator)
    other = bot.sandbox.user("另一位编辑")
    await make_curator(bot, other)
    cid = await new_article(bot, author_id=None)
    view = await open_item(bot, curator, cid)
    assert "📨 申请审核" not in labels(view) and "审核：" not in text_of(view)
    assert "🚀 立即推送" in labels(view)
    assert (await get_item(bot, cid)).review_state is None
    await bot.settle()
    assert other.messages == []


async def test_who_asks_for_review_of_an_imported_item_cannot_approve_it(review_bot) -> None:
    bot = review_bot
    asker = bot.sandbox.user("申请人")
    second = bot.sandbox.user("审核人", started=True)
    await make_curator(bot, asker)
    await make_curator(bot, second)
    cid = await new_article(bot, author_id=None)  # imported: no author
    view = await open_item(bot, asker, cid)
    assert "🚀 立即推送" not in labels(view)  # never approved: no push yet
    assert "审核：未申请" in text_of(view)
    second.mark_seen()
    asked = await tap(bot, asker, view, "📨 申请审核")
    assert text_of(asked) == f"#{cid} 正在等待审核：已通知另外 1 位内容编辑。"
    request = await second.wait_for_message(predicate=lambda m: "请审核" in text_of(m))
    alert = await asker.press(view, data=f"CAT:approve:{cid}")
    assert alert and "需要由另一位内容编辑审核" in alert["text"]
    assert (await get_item(bot, cid)).review_state == "pending"
    second.mark_seen()
    await second.press(request, "✅ 审核通过")
    done = await second.wait_for_message()
    assert text_of(done) == f"#{cid} 已审核通过。"
    view = await open_item(bot, asker, cid)
    assert "🚀 立即推送" in labels(view) and "审核：已审核通过" in text_of(view)
    assert (await get_item(bot, cid)).publish_at is None  # a draft: approval pushes nothing


async def test_a_scheduled_item_waits_for_approval_then_keeps_its_time(review_bot) -> None:
    bot = review_bot
    reader = bot.sandbox.user("读者", started=True)
    await seed_world(bot.runtime, [reader], interests=["emergency"])
    author = bot.sandbox.user("作者")
    second = bot.sandbox.user("审核人", started=True)
    await make_curator(bot, author)
    await make_curator(bot, second)
    first = await start_new(bot, author)
    await tap(bot, author, first, "跳过")
    await answer(bot, author, "冬季预防一氧化碳中毒")
    cats = await answer(bot, author, "用煤炉取暖要开窗通风。")
    await tap(bot, author, cats, "🚨 应急避险")
    ask_regions = await answer(bot, author, "https://kepu.test/co")
    await tap(bot, author, ask_regions, "全部地区")
    confirm = await answer(bot, author, "2026-12-01 09:30")
    second.mark_seen()
    await author.press(confirm, "保存")
    await bot.settle()
    (item,) = await all_items(bot)
    when = dt.datetime(2026, 12, 1, 1, 30, tzinfo=dt.UTC)
    assert (item.publish_at, item.review_state) == (when, "pending")
    assert await outbox_rows(bot) == [] and await count(bot, Push) == 0  # nothing scheduled
    request = await second.wait_for_message(predicate=lambda m: "请审核" in text_of(m))
    second.mark_seen()
    await second.press(request, "✅ 审核通过")
    await bot.settle()
    texts = [text_of(m) for m in second.messages[-2:]]
    assert texts[0] == f"#{item.id} 已审核通过。" and texts[1].startswith("已定时：1 位信息员将在")
    rows = await outbox_rows(bot)
    assert [(r.chat_id, r.state, r.next_attempt_at) for r in rows] == [
        (reader.id, "pending", when)
    ]


async def test_an_article_picture_is_replaced_or_removed(bot_env) -> None:
    bot = bot_env
    curator = bot.sandbox.user("内容编辑")
    await make_curator(bot, curator)
    cid = await new_article(bot)
    view = await open_item(bot, curator, cid)
    prompt = await tap(bot, curator, view, "📎 文件")
    assert "请发送内容卡片的配图" in text_of(prompt) and labels(prompt) == ["不要配图"]
    await curator.send_document(PICTURE, filename="配图.png")
    assert text_of(await curator.wait_for_message()) == saved("文件", cid)
    assert (await get_item(bot, cid)).original_file_name == "配图.png"
    prompt = await tap(bot, curator, view, "📎 文件")
    assert text_of(await tap(bot, curator, prompt, "不要配图")) == saved("文件", cid)
    item = await get_item(bot, cid)
    assert item.original_file_id is None and item.media_file_id is None
    assert await count(bot, DialogState) == 0

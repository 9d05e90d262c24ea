"""Every type through /newcontent, end to end through the sandbox: what each type stores.

A photo poster, an image sent as a file (the original kept), a PDF document (other files
refused), a video file (its duration from Telegram, a cover) and a video link (the
duration typed); and the optional fields on the confirmation: tags, campaign, interests,
expiry, each with a bad answer first.
"""

from __future__ import annotations

import datetime as dt

from bot.sandbox import SimUser
from bot.sandbox.harness import RunningBot
from bot.sandbox.world import SimMessage
from storage.models import AuditLog, ContentItem, DialogState
from tests.conftest import FIXED_NOW
from tests.content_push.conftest import seed_world, wait_outbox
from tests.content_push.test_curator_e2e import (
    PICTURE,
    all_items,
    answer,
    audit_of,
    count,
    labels,
    make_curator,
    start_new,
    tap,
    text_of,
)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
VIDEO = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64


async def walk_texts(
    bot: RunningBot,
    curator: SimUser,
    *,
    title: str = "冬季预防一氧化碳中毒",
    link: str | None = "https://kepu.test/co",
) -> SimMessage:
    """Answer title, summary, category (typed), link; return the regions question."""
    await answer(bot, curator, title)
    await answer(bot, curator, "用煤炉取暖要开窗通风，睡前熄火。")
    after_category = await answer(bot, curator, "应急")
    if link is None:
        return after_category
    return await answer(bot, curator, link)


async def to_confirm(bot: RunningBot, curator: SimUser, ask_regions: SimMessage) -> SimMessage:
    ask_when = await tap(bot, curator, ask_regions, "全部地区")
    return await tap(bot, curator, ask_when, "稍后发布")


async def saved_item(bot: RunningBot, curator: SimUser, confirm: SimMessage) -> ContentItem:
    saved = await tap(bot, curator, confirm, "保存")
    (item,) = await all_items(bot)
    assert text_of(saved) == f"已保存为草稿 #{item.id}。可以在 /catalog 中发布并推送。"
    assert await count(bot, DialogState) == 0
    return item


async def test_photo_poster_with_every_optional_field(bot_env) -> None:
    bot = bot_env
    reader = bot.sandbox.user("读者", started=True)
    await seed_world(bot.runtime, [reader], interests=["health"])
    curator = bot.sandbox.user("内容编辑")
    await make_curator(bot, curator)

    ask = await start_new(bot, curator, "🖼️ 挂图海报")
    assert "1/7" in text_of(ask) and "挂图海报的图片" in text_of(ask)
    assert labels(ask) == []  # a poster cannot skip its image
    # A PDF is not an image: refused, the step waits.
    await curator.send_document(PDF, filename="海报.pdf")
    refusal = await curator.wait_for_message()
    assert "“海报.pdf”不是图片（application/pdf）" in text_of(refusal)
    await curator.send_photo(PICTURE)
    assert "2/7" in text_of(await curator.wait_for_message())
    ask_regions = await walk_texts(bot, curator)
    assert "6/7" in text_of(ask_regions) and labels(ask_regions) == ["全部地区"]
    # Regions by name: 杭州 is 杭州市; an unknown name is named back.
    unknown = await answer(bot, curator, "火星市")
    assert "找不到名为“火星市”的地区" in text_of(unknown)
    ask_when = await answer(bot, curator, "杭州 西湖区")
    assert "7/7" in text_of(ask_when)
    confirm = await tap(bot, curator, ask_when, "稍后发布")
    text = text_of(confirm)
    assert "类型：挂图海报" in text and "配图：有" in text
    assert "地区：杭州市（330100）、西湖区（330106）" in text
    assert "标签：无" in text and "主题活动：无" in text and "截止：无" in text

    # Tags: too many first, then good ones.
    ask_tags = await tap(bot, curator, confirm, "🏷 标签")
    assert "用空格或逗号分隔" in text_of(ask_tags)
    too_many = await answer(bot, curator, " ".join(f"标签{i}" for i in range(11)))
    assert "共 11 个标签，最多 10 个" in text_of(too_many)
    confirm = await answer(bot, curator, "取暖，中毒、#冬季")
    assert "标签：取暖、中毒、冬季" in text_of(confirm)

    # Campaign: buttons from the taxonomy; typing is answered with the buttons again.
    ask_campaign = await tap(bot, curator, confirm, "🎯 主题活动")
    assert (
        "全国防灾减灾日" in labels(ask_campaign)
        and labels(ask_campaign)[-1] == "不属于任何主题活动"
    )
    again = await answer(bot, curator, "防灾")
    assert "全国防灾减灾日" in labels(again)
    confirm = await tap(bot, curator, again, "全国防灾减灾日")
    assert "主题活动：全国防灾减灾日" in text_of(confirm)

    # Interests: category names; an unknown one is refused.
    await tap(bot, curator, confirm, "👥 兴趣")
    bad = await answer(bot, curator, "健康 火星")
    assert text_of(bad) == "未知分类。"
    confirm = await answer(bot, curator, "健康")
    assert "另推送给兴趣：卫生健康" in text_of(confirm)

    # Expiry: natural dates; nonsense and the past are refused with the hint.
    await tap(bot, curator, confirm, "⌛ 截止时间")
    nonsense = await answer(bot, curator, "过一阵子")
    assert "明天上午9点" in text_of(nonsense)
    confirm = await answer(bot, curator, "12月5日")
    assert "截止：" in text_of(confirm) and "12月5日" in text_of(confirm)
    assert await all_items(bot) == []  # still nothing written

    item = await saved_item(bot, curator, confirm)
    assert (item.kind, item.category) == ("poster", "emergency")
    assert item.media_file_id and item.original_file_id is None
    assert item.tags == ["取暖", "中毒", "冬季"] and item.campaign == "disaster_reduction_day"
    assert item.regions == ["330100", "330106"] and item.interests == ["health"]
    assert item.expires_at == dt.datetime(2026, 12, 5, 1, 0, tzinfo=dt.UTC)  # 9:00 Shanghai
    (create,) = await audit_of(bot, item.id, "content.create")
    assert create.detail["kind"] == "poster"

    # The interests reach a health reader outside the emergency category.
    curator.mark_seen()
    await curator.command("catalog")
    listing = await curator.wait_for_message()
    await curator.press(listing, data=f"CAT:view:{item.id}")
    await bot.settle()
    ask_push = await tap(bot, curator, listing, "🚀 立即推送")
    assert "推送给 1 位" in text_of(ask_push)
    await curator.press(ask_push, "确认推送")
    await wait_outbox(bot)
    assert reader.messages and reader.messages[-1].photo


async def test_image_sent_as_a_file_is_a_poster_keeping_the_original(bot_env) -> None:
    bot = bot_env
    curator = bot.sandbox.user("内容编辑")
    await make_curator(bot, curator)
    await start_new(bot, curator, "🖼️ 挂图海报")
    await curator.send_document(PICTURE, filename="洗手海报.png")
    assert "2/7" in text_of(await curator.wait_for_message())
    confirm = await to_confirm(bot, curator, await walk_texts(bot, curator))
    assert "原文件：洗手海报.png" in text_of(confirm)
    item = await saved_item(bot, curator, confirm)
    assert item.kind == "poster"
    assert item.original_file_id and item.original_file_name == "洗手海报.png"
    assert item.original_mime == "image/png" and item.original_size == PICTURE.stat().st_size
    stored = bot.sandbox.world.files.get(item.original_file_id)
    assert stored is not None and stored.data == PICTURE.read_bytes()


async def test_pdf_document_and_other_files_refused(bot_env) -> None:
    bot = bot_env
    curator = bot.sandbox.user("内容编辑")
    await make_curator(bot, curator)
    ask = await start_new(bot, curator, "📄 文档")
    assert "1/7" in text_of(ask) and "PDF" in text_of(ask)
    await curator.send_document(b"PK\x03\x04word", filename="指南.docx")
    refusal = await curator.wait_for_message()
    assert "“指南.docx”不是 PDF" in text_of(refusal) and "以文件形式发送的 PDF" in text_of(refusal)
    await curator.send_photo(PICTURE)
    refusal = await curator.wait_for_message()
    assert "不是 PDF（image/jpeg）" in text_of(refusal)
    again = await answer(bot, curator, "稍后再发")
    assert "请以文件形式发送 PDF" in text_of(again)
    await curator.send_document(PDF, filename="防溺水指南.pdf")
    assert "2/7" in text_of(await curator.wait_for_message())
    confirm = await to_confirm(bot, curator, await walk_texts(bot, curator))
    assert "类型：文档" in text_of(confirm) and "PDF：防溺水指南.pdf" in text_of(confirm)
    item = await saved_item(bot, curator, confirm)
    assert (item.kind, item.original_mime, item.original_file_name) == (
        "document",
        "application/pdf",
        "防溺水指南.pdf",
    )
    assert item.original_size == len(PDF) and item.media_file_id is None


async def test_video_file_takes_its_duration_and_a_cover(bot_env) -> None:
    bot = bot_env
    curator = bot.sandbox.user("内容编辑")
    await make_curator(bot, curator)
    ask = await start_new(bot, curator, "🎬 视频")
    assert "1/9" in text_of(ask) and "视频文件" in text_of(ask)
    await curator.send_photo(PICTURE)  # a photo is not a video
    assert "不是视频" in text_of(await curator.wait_for_message())
    await curator.send_video(VIDEO, duration=200, filename="急救.mp4")
    ask_cover = await curator.wait_for_message()
    # Telegram told the duration: no question for it, 8 steps in all.
    assert "2/8" in text_of(ask_cover) and "封面" in text_of(ask_cover)
    not_photo = await answer(bot, curator, "没有封面")
    assert "请发送一张图片" in text_of(not_photo) and labels(not_photo) == ["跳过"]
    await curator.send_photo(PICTURE)
    assert "3/8" in text_of(await curator.wait_for_message())
    confirm = await to_confirm(bot, curator, await walk_texts(bot, curator))
    text = text_of(confirm)
    assert "类型：视频" in text and "时长：3:20" in text and "封面：有" in text
    assert "视频文件：急救.mp4" in text
    item = await saved_item(bot, curator, confirm)
    assert (item.kind, item.duration_seconds, item.original_mime) == ("video", 200, "video/mp4")
    assert item.original_file_name == "急救.mp4" and item.original_file_id
    assert item.cover_file_id and item.media_file_id == item.cover_file_id  # the card picture


async def test_video_link_with_a_typed_duration(bot_env) -> None:
    bot = bot_env
    curator = bot.sandbox.user("内容编辑")
    await make_curator(bot, curator)
    await start_new(bot, curator, "🎬 视频")
    ask_duration = await answer(bot, curator, "https://video.kepu.test/cpr")
    assert "2/8" in text_of(ask_duration) and "3分20秒" in text_of(ask_duration)
    for bad, says in (
        ("3", "“3”是分钟还是秒"),
        ("很久", "没能读出时长"),
        ("3:75", "超过了59"),
        ("0秒", "必须大于零"),
    ):
        assert says in text_of(await answer(bot, curator, bad)), bad
    ask_cover = await answer(bot, curator, "三分二十秒")
    assert "3/8" in text_of(ask_cover)
    await tap(bot, curator, ask_cover, "跳过")
    # The link is the video's: no link question; regions follow the category.
    ask_regions = await walk_texts(bot, curator, link=None)
    assert "面向哪些地区" in text_of(ask_regions) and "7/8" in text_of(ask_regions)
    confirm = await to_confirm(bot, curator, ask_regions)
    assert "链接：https://video.kepu.test/cpr" in text_of(confirm)
    assert "时长：3:20" in text_of(confirm) and "封面：无" in text_of(confirm)
    item = await saved_item(bot, curator, confirm)
    assert (item.kind, item.url, item.duration_seconds) == (
        "video",
        "https://video.kepu.test/cpr",
        200,
    )
    assert item.original_file_id is None and item.cover_file_id is None
    assert item.publish_at is None and item.created_at == FIXED_NOW
    assert await count(bot, AuditLog) == 2  # the role grant and the create

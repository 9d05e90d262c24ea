"""Originals end to end through the real bot and the sandbox: the card's ⬇ button.

A poster's card is a photo; its "⬇ 原图" button sends the pack's print-size original as a
document, byte for byte, uploaded once and then re-sent by Telegram's file id. A video's
original comes as a video when a bot may upload it, else as a link with the reason. In a
group the file goes to the presser's private chat, or the presser gets a link to it.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from sqlalchemy import select

from bot.content.importer import import_source
from bot.content.taxonomy import default_taxonomy
from bot.sandbox import SimUser
from bot.sandbox.harness import RunningBot
from bot.sandbox.world import SimMessage
from storage.models import ContentItem
from tests.content_push.conftest import seed_world, wait_outbox

ROOT = Path(__file__).resolve().parents[2]
STARTER = ROOT / "bot/content/packs/starter"
POSTER = "starter-health-003"  # 七步洗手法: preview media/handwash.png, originals/handwash.png
VIDEO = "starter-emergency-002"  # 地震来了: preview media/quake.png, original media/quake.mp4


def sha(data: bytes | None) -> str:
    assert data is not None
    return hashlib.sha256(data).hexdigest()


async def import_pack(bot: RunningBot, path: Path = STARTER) -> None:
    async with bot.runtime.sessions() as session, session.begin():
        report = await import_source(
            session=session,
            source=str(path),
            taxonomy=default_taxonomy(),
            now=bot.runtime.now(),
            tz=bot.runtime.settings.scheduler.tz,
        )
    assert report.added and not report.rejected, report.rejected


async def item_by_guid(bot: RunningBot, guid: str) -> ContentItem:
    async with bot.runtime.sessions() as session:
        return (
            await session.execute(select(ContentItem).where(ContentItem.guid == guid))
        ).scalar_one()


async def open_card(bot: RunningBot, user: SimUser, words: str, chat=None) -> SimMessage:  # type: ignore[no-untyped-def]
    """Search for ``words`` and tap the first result: the card arrives (via the outbox)."""
    where = chat if chat is not None else user
    where.mark_seen()
    command = "/search" if chat is None else "/search@kepubot_bot"
    await user.send(f"{command} {words}", chat=chat)
    listing = await where.wait_for_message()
    first = next(b for row in listing.buttons for b in row if b.text == "1")
    await user.press(listing, data=first.callback_data)
    card = await where.wait_for_message(predicate=lambda m: bool(m.buttons))
    await bot.settle()
    return card


def labels(msg: SimMessage) -> list[str]:
    return [b.text for row in msg.buttons for b in row]


async def test_poster_card_button_sends_the_original_file_byte_for_byte(
    any_bot: RunningBot,
) -> None:
    bot = any_bot
    sb = bot.sandbox
    await import_pack(bot)
    reader = sb.user("王秀英", started=True)
    await seed_world(bot.runtime, [reader], interests=["health"])

    card = await open_card(bot, reader, "七步洗手法")
    assert card.photo and "七步洗手法" in (card.caption or "")
    assert "⬇ 原图" in labels(card)
    original = (STARTER / "originals/handwash.png").read_bytes()
    preview = card.media_bytes()
    assert preview is not None and len(preview) < len(original) // 5  # the photo is small

    reader.mark_seen()
    answer = await reader.press(card, "⬇ 原图")
    assert answer is not None and answer["text"] == "正在发送原文件…"
    doc = await reader.wait_for_message(predicate=lambda m: m.document is not None)
    assert sha(doc.document_bytes()) == sha(original)
    meta = doc.raw["document"]
    assert meta["file_size"] == len(original) and meta["mime_type"] == "image/png"
    assert meta["file_name"] == "七步洗手法，你做对了吗.png"
    assert "原图" in (doc.caption or "") and "未经压缩" in (doc.caption or "")
    assert sb.stats.calls["sendDocument"] == 1

    # The file id is kept; the second press re-sends it without uploading the bytes again.
    await wait_outbox(bot)
    stored = await item_by_guid(bot, POSTER)
    assert stored.original_file_id == doc.document
    files_before = len(sb.world.files._by_id)
    await reader.press(card, "⬇ 原图")
    again = await reader.wait_for_message(predicate=lambda m: m.document is not None)
    assert again.document == doc.document
    assert len(sb.world.files._by_id) == files_before
    assert sha(again.document_bytes()) == sha(original)


async def test_small_video_comes_as_a_video_file(bot_env) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = bot_env
    sb = bot.sandbox
    await import_pack(bot)
    reader = sb.user("李建国", started=True)
    await seed_world(bot.runtime, [reader], interests=["emergency"])

    card = await open_card(bot, reader, "伏地")
    assert "⬇ 原文件" in labels(card)
    reader.mark_seen()
    await reader.press(card, "⬇ 原文件")
    video = await reader.wait_for_message(predicate=lambda m: m.video is not None)
    original = (STARTER / "media/quake.mp4").read_bytes()
    assert sha(video.media_bytes()) == sha(original)
    meta = video.raw["video"]
    assert (meta["width"], meta["height"], meta["duration"]) == (360, 480, 3)
    assert meta["file_name"].endswith(".mp4") and meta["mime_type"] == "video/mp4"
    assert "场馆屏幕" in (video.caption or "") and "14 KB" in (video.caption or "")
    await wait_outbox(bot)
    assert (await item_by_guid(bot, VIDEO)).original_file_id == video.video


async def test_video_over_the_upload_limit_comes_as_a_link_with_the_reason(
    bot_env,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    bot: RunningBot = bot_env
    sb = bot.sandbox
    pack = tmp_path / "big"
    (pack / "media").mkdir(parents=True)
    shutil.copy(STARTER / "media/quake.png", pack / "media/preview.png")
    with (pack / "media/lecture.mp4").open("wb") as fh:
        fh.truncate(60 * 1024 * 1024)  # sparse: 60 MB on paper, nothing written
    (pack / "pack.toml").write_text(
        """
[pack]
name = "big"

[[items]]
guid = "big-001"
title = "科普讲座全程录像"
summary = "一场两小时的科普讲座录像。"
category = "health"
kind = "video"
url = "https://www.kepuchina.cn/big/lecture"
media = "media/preview.png"
original = "media/lecture.mp4"
""",
        encoding="utf-8",
    )
    await import_pack(bot, pack)
    reader = sb.user("张丽", started=True)
    await seed_world(bot.runtime, [reader], interests=["health"])

    card = await open_card(bot, reader, "讲座全程录像")
    reader.mark_seen()
    await reader.press(card, "⬇ 原文件")
    message = await reader.wait_for_message(predicate=lambda m: "MB" in (m.text or ""))
    text = message.text or ""
    assert "60.0 MB" in text and "50 MB的上限" in text
    assert "https://www.kepuchina.cn/big/lecture" in text
    assert sb.stats.calls.get("sendVideo", 0) == 0
    assert sb.stats.calls.get("sendDocument", 0) == 0


async def test_in_a_group_the_original_goes_to_the_presser_privately(bot_env) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = bot_env
    sb = bot.sandbox
    await import_pack(bot)
    informant = sb.user("王秀英", started=True)
    stranger = sb.user("路人", started=False)
    await seed_world(bot.runtime, [informant], interests=["health"])
    group = sb.group("社区科普群", members=[informant, stranger])
    await informant.add_bot_to(group)
    await bot.settle()

    card = await open_card(bot, informant, "七步洗手法", chat=group)
    assert card.chat_id == group.id and "⬇ 原图" in labels(card)
    original = (STARTER / "originals/handwash.png").read_bytes()

    # An informant has a private chat with the bot: the file goes there, not to the group.
    informant.mark_seen()
    answer = await informant.press(card, "⬇ 原图")
    assert answer is not None and "私聊" in (answer["text"] or "")
    doc = await informant.wait_for_message(predicate=lambda m: m.document is not None)
    assert sha(doc.document_bytes()) == sha(original)
    await bot.settle()
    assert not [m for m in sb.chat_messages(group.id) if m.document]

    # Someone the bot cannot write to first gets a link to the private chat, which asks
    # for the same file.
    answer = await stranger.press(card, "⬇ 原图")
    item = await item_by_guid(bot, POSTER)
    assert answer is not None and answer["url"] == f"https://t.me/kepubot_bot?start=orig_{item.id}"
    assert stranger.messages == []
    await stranger.command("start", f"orig_{item.id}")
    sent = await stranger.wait_for_message(predicate=lambda m: m.document is not None)
    assert sha(sent.document_bytes()) == sha(original)
    assert sent.document == doc.document  # re-sent by its file id


async def test_a_card_without_an_original_has_no_button(bot_env) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = bot_env
    await import_pack(bot)
    reader = bot.sandbox.user("王秀英", started=True)
    await seed_world(bot.runtime, [reader], interests=["health"])
    card = await open_card(bot, reader, "测血压")  # an article without media
    assert not any(label.startswith("⬇") for label in labels(card))


async def test_a_refused_file_id_falls_back_to_the_file_and_is_replaced(bot_env) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = bot_env
    sb = bot.sandbox
    await import_pack(bot)
    reader = sb.user("王秀英", started=True)
    await seed_world(bot.runtime, [reader], interests=["health"])
    # A photo's id kept as the original's (by hand, or a compressed upload): Telegram
    # refuses it as a document ("can't use file of type Photo as Document").
    photo = sb.world.files.add_photo((STARTER / "media/handwash.png").read_bytes())[-1]
    item = await item_by_guid(bot, POSTER)
    async with bot.runtime.sessions() as session, session.begin():
        stored = await session.get(ContentItem, item.id)
        assert stored is not None
        stored.original_file_id = photo.file_id

    card = await open_card(bot, reader, "七步洗手法")
    reader.mark_seen()
    await reader.press(card, "⬇ 原图")
    doc = await reader.wait_for_message(predicate=lambda m: m.document is not None)
    assert sha(doc.document_bytes()) == sha((STARTER / "originals/handwash.png").read_bytes())
    await wait_outbox(bot)
    assert (await item_by_guid(bot, POSTER)).original_file_id == doc.document
    assert sb.stats.errors[400] >= 1


async def test_a_video_kept_as_a_document_id_is_sent_as_a_document(bot_env) -> None:  # type: ignore[no-untyped-def]
    """A curator's video sent as a file (content-fields keeps its id): no local file."""
    bot: RunningBot = bot_env
    sb = bot.sandbox
    await import_pack(bot)
    reader = sb.user("李建国", started=True)
    await seed_world(bot.runtime, [reader], interests=["emergency"])
    data = (STARTER / "media/quake.mp4").read_bytes()
    kept = sb.world.files.add(data, "document", file_name="quake.mp4", mime_type="video/mp4")
    item = await item_by_guid(bot, VIDEO)
    async with bot.runtime.sessions() as session, session.begin():
        stored = await session.get(ContentItem, item.id)
        assert stored is not None
        stored.original_file_id, stored.original_path = kept.file_id, None

    card = await open_card(bot, reader, "伏地")
    reader.mark_seen()
    await reader.press(card, "⬇ 原文件")
    doc = await reader.wait_for_message(predicate=lambda m: m.document is not None)
    assert doc.document == kept.file_id and sha(doc.document_bytes()) == sha(data)
    assert "场馆屏幕" in (doc.caption or "")

"""A real PTB Application runs against the sandbox and the driver exercises it end to end."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from PIL import Image
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    ChosenInlineResultHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.sandbox import Sandbox

Ctx = ContextTypes.DEFAULT_TYPE


def png(color: str) -> bytes:
    """Return a tiny PNG."""
    out = io.BytesIO()
    Image.new("RGB", (120, 80), color).save(out, "PNG")
    return out.getvalue()


def build(sandbox: Sandbox, seen: dict[str, Any]) -> Application:  # type: ignore[type-arg]
    """Build an application with one handler per update kind under test."""
    app = (
        ApplicationBuilder()
        .token(sandbox.token)
        .base_url(sandbox.base_url)
        .base_file_url(sandbox.base_file_url)
        .build()
    )

    async def start(update: Update, context: Ctx) -> None:
        kb = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="CONSENT:yes")]])
        seen["payload"] = context.args
        await update.effective_message.reply_text(
            "Welcome <b>!</b>", parse_mode="HTML", reply_markup=kb
        )

    async def consent(update: Update, context: Ctx) -> None:
        query = update.callback_query
        await query.answer("Thanks", show_alert=True)
        await query.edit_message_text("Consent recorded")

    async def inline(update: Update, context: Ctx) -> None:
        kb = InlineKeyboardMarkup([[InlineKeyboardButton("More", url="https://example.org")]])
        await update.inline_query.answer(
            [
                InlineQueryResultArticle(
                    "card-1", "防诈骗", InputTextMessageContent("防诈骗 card"), reply_markup=kb
                )
            ],
            cache_time=0,
        )

    async def chosen(update: Update, context: Ctx) -> None:
        seen["chosen"] = update.chosen_inline_result

    async def forwarded(update: Update, context: Ctx) -> None:
        chat = update.effective_chat
        seen["forward"] = (update.message.forward_origin, await chat.get_member_count())

    async def my_member(update: Update, context: Ctx) -> None:
        seen.setdefault("my_chat_member", []).append(update.my_chat_member.new_chat_member.status)

    async def contact(update: Update, context: Ctx) -> None:
        c = update.message.contact
        own = c.user_id == update.effective_user.id
        await update.message.reply_text(f"phone {c.phone_number} own={own}")

    async def photo(update: Update, context: Ctx) -> None:
        seen.setdefault("album", []).append(
            (update.message.media_group_id, update.message.caption)
        )
        file = await update.message.photo[-1].get_file()
        seen.setdefault("sizes", []).append(len(await file.download_as_bytearray()))

    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(consent, pattern=r"^CONSENT:"))
    app.add_handler(InlineQueryHandler(inline))
    app.add_handler(ChosenInlineResultHandler(chosen))
    app.add_handler(ChatMemberHandler(my_member, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(MessageHandler(filters.FORWARDED & filters.ChatType.GROUPS, forwarded))
    app.add_handler(MessageHandler(filters.CONTACT, contact))
    app.add_handler(MessageHandler(filters.PHOTO, photo))
    return app


@pytest.fixture
async def running(sandbox: Sandbox) -> AsyncIterator[dict[str, Any]]:
    """Run the application with long polling against the sandbox."""
    seen: dict[str, Any] = {}
    app = build(sandbox, seen)
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES)
    try:
        yield seen
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def test_start_button_inline_forward_members_contact_album(
    sandbox: Sandbox, running: dict[str, Any]
) -> None:
    seen = running
    alice = sandbox.user("Alice", username="alice")
    bob = sandbox.user("Bob")
    grp = sandbox.group("Science fans", members=[alice, bob], extra_members=150)

    await alice.command("start", "payload123")
    welcome = await alice.wait_for_message()
    assert welcome.text == "Welcome <b>!</b>" and seen["payload"] == ["payload123"]

    answer = await alice.press(welcome, "Yes")
    assert answer == {"text": "Thanks", "show_alert": True, "url": None, "cache_time": None}
    await sandbox.wait_idle()
    assert welcome.text == "Consent recorded" and welcome.edits

    results = await alice.inline_query("防诈骗")
    assert results[0]["id"] == "card-1"
    await alice.add_bot_to(grp)
    chosen_update = await alice.choose_inline_result(results[0], query="防诈骗", chat=grp)
    assert chosen_update is not None
    await sandbox.wait_idle()
    assert seen["chosen"].result_id == "card-1"
    assert seen["chosen"].inline_message_id  # the result had a keyboard
    assert grp.messages[-1].text == "防诈骗 card"

    update = await bob.forward(welcome, to=grp)
    assert update is not None
    await sandbox.wait_idle()
    origin, count = seen["forward"]
    assert origin.type == "user" and origin.sender_user.id == sandbox.bot_user["id"]
    assert count == 153  # 2 members + 150 extra + the bot
    assert seen["my_chat_member"] == ["member"]

    await alice.send_contact(phone="+8613800000000")
    reply = await alice.wait_for_message()
    assert reply.text == "phone +8613800000000 own=True"
    await alice.send_contact(phone="+8613900000000", user_id=999, first_name="X")
    assert (await alice.wait_for_message()).text == "phone +8613900000000 own=False"

    updates = await alice.send_album([png("red"), png("green")], caption="#活动 album")
    await sandbox.wait_idle()
    group_ids = {u["message"]["media_group_id"] for u in updates}
    assert len(group_ids) == 1
    assert seen["album"] == [
        (group_ids.pop(), "#活动 album"),
        (updates[1]["message"]["media_group_id"], None),
    ]
    # The handler downloads each photo after wait_idle's quiet window may have passed on a
    # busy machine: wait for the outcome itself, bounded.
    for _ in range(500):
        if len(seen.get("sizes", [])) == 2:
            break
        await asyncio.sleep(0.01)
    assert len(seen["sizes"]) == 2 and sandbox.stats.updates_delivered >= 8


async def test_privacy_mode_hides_forwards(sandbox: Sandbox, running: dict[str, Any]) -> None:
    sandbox.privacy_mode = True
    alice = sandbox.user("Alice")
    grp = sandbox.group("Quiet", members=[alice])
    await alice.add_bot_to(grp)
    await alice.send("/start")
    welcome = await alice.wait_for_message()
    assert await alice.forward(welcome, to=grp) is None
    await sandbox.wait_idle()
    assert "forward" not in running

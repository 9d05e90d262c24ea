"""Mini App buttons in inline keyboards: private chats only, https only, as Telegram has it."""

from __future__ import annotations

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo
from telegram.error import BadRequest

from bot.sandbox import Sandbox


def _keyboard(url: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Desk", web_app=WebAppInfo(url))]])


async def test_web_app_button_in_a_private_chat_at_https(bot: Bot, sandbox: Sandbox) -> None:
    alice = sandbox.user("Alice", started=True)
    sent = await bot.send_message(
        alice.id, "desk", reply_markup=_keyboard("https://kepu.test/desk/")
    )
    assert sent.reply_markup is not None
    button = sent.reply_markup.inline_keyboard[0][0]
    assert button.web_app is not None and button.web_app.url == "https://kepu.test/desk/"


async def test_web_app_button_refused_in_groups_and_at_http(bot: Bot, sandbox: Sandbox) -> None:
    alice = sandbox.user("Alice", started=True)
    group = sandbox.group("Science fans", members=[alice])
    await alice.add_bot_to(group)
    with pytest.raises(BadRequest, match="Button_type_invalid"):
        await bot.send_message(group.id, "desk", reply_markup=_keyboard("https://kepu.test/"))
    with pytest.raises(BadRequest, match="only https links are allowed"):
        await bot.send_message(alice.id, "desk", reply_markup=_keyboard("http://kepu.test/"))

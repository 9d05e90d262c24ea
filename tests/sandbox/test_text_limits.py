"""The sandbox measures texts as Telegram does: after parsing entities, in UTF-16 units."""

from __future__ import annotations

import pytest
from telegram import Bot
from telegram.error import BadRequest

from bot.sandbox import Sandbox

LIMIT, CAPTION = 4096, 1024


async def test_markup_does_not_count_utf16_units_do(bot: Bot, sandbox: Sandbox) -> None:
    user = sandbox.user("限制", started=True)
    # 4,096 shown characters in 45,056 characters of HTML: accepted.
    await bot.send_message(user.id, "<b>&amp;</b>" * LIMIT, parse_mode="HTML")
    for text in ("字" * (LIMIT + 1), "😀" * (LIMIT // 2 + 1), "<b>a</b>" * (LIMIT + 1)):
        with pytest.raises(BadRequest, match="(?i)message is too long"):
            await bot.send_message(user.id, text, parse_mode="HTML")


async def test_captions_are_limited_the_same_way(bot: Bot, sandbox: Sandbox) -> None:
    user = sandbox.user("图片", started=True)
    photo = await bot.send_photo(user.id, PNG, caption="<i>图</i>" * CAPTION, parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)message caption is too long"):
        await bot.send_photo(user.id, photo.photo[-1].file_id, caption="😀" * (CAPTION // 2 + 1))


# The smallest valid PNG (1×1, transparent).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)

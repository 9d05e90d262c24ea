"""Issue #17: curator schedules are read by the one date parser.

11月20日 works for content too.
"""

from __future__ import annotations

import datetime as dt

from bot.sandbox.harness import RunningBot
from tests.content_push.test_curator_e2e import (
    all_items,
    answer,
    make_curator,
    readers,
    text_of,
    walk_to_schedule,
)

# The fixed clock: 2026-11-23 10:00 in Shanghai (a Monday).


async def _schedule(bot: RunningBot, typed: str) -> tuple[str, list[dt.datetime | None]]:
    await readers(bot)
    curator = bot.sandbox.user("策展人")
    await make_curator(bot, curator)
    await walk_to_schedule(bot, curator, category="🩺 卫生健康", regions="330203")
    confirm = await answer(bot, curator, typed)
    if "保存" in [b.text for row in confirm.buttons for b in row]:
        await curator.press(confirm, "保存")
        await bot.settle()
    return text_of(confirm), [item.publish_at for item in await all_items(bot)]


async def test_month_day_without_a_time_schedules_9am(bot_env: RunningBot) -> None:
    text, when = await _schedule(bot_env, "11月30日")
    assert "2026年11月30日" in text
    assert when == [dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)]  # 09:00 in Shanghai


async def test_past_month_day_means_next_year(bot_env: RunningBot) -> None:
    text, when = await _schedule(bot_env, "11月20日")
    assert "2027年11月20日" in text
    assert when == [dt.datetime(2027, 11, 20, 1, 0, tzinfo=dt.UTC)]


async def test_slash_month_day_with_a_time(bot_env: RunningBot) -> None:
    text, when = await _schedule(bot_env, "12/1 下午3点")
    assert "2026年12月1日" in text
    assert when == [dt.datetime(2026, 12, 1, 7, 0, tzinfo=dt.UTC)]


async def test_impossible_schedule_date_is_named(bot_env: RunningBot) -> None:
    text, when = await _schedule(bot_env, "2月30日 9:00")
    assert "2月30日不存在" in text and when == []

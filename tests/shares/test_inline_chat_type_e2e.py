"""An inline share records the kind of chat Telegram says the query came from; /me and the
card's ⓘ button say what each way of sharing earns."""

from __future__ import annotations

import re

from bot.core.propagation import ShareFigures
from bot.sandbox.harness import RunningBot
from bot.services import share_stats
from tests.shares.helpers import setup_world, shares


async def test_inline_share_into_a_group_is_recorded_as_group(bot_env: RunningBot) -> None:
    sb = bot_env.sandbox
    alice = sb.user("王秀英", started=True)
    group = sb.group("小区群", members=[alice], extra_members=150)
    world = await setup_world(bot_env, [alice])
    cid, other = world.content_ids
    # Share button → Telegram asks for a chat → the query comes from that supergroup.
    results = await alice.inline_query(f"c{cid}", chat=group)
    assert [r["id"] for r in results] == [f"c{cid}.u"]
    await alice.choose_inline_result(results[0], query=f"c{cid}", chat=group)
    # From a secret chat Telegram gives no chat type: recorded as unknown.
    results = await alice.inline_query(f"c{other}", chat_type=None)
    assert [r["id"] for r in results] == [f"c{other}"]
    await alice.choose_inline_result(results[0], query=f"c{other}")
    await bot_env.settle()
    rows = await shares(bot_env)
    assert [(r.content_id, r.channel, r.chat_type, r.audience) for r in rows] == [
        (cid, "telegram_inline", "supergroup", 0),
        (other, "telegram_inline", None, 0),
    ]
    # The volume is unchanged by the chat type: a group of unknown size is no reach.
    async with bot_env.runtime.sessions() as s:
        stats = await share_stats.informant_stats(
            session=s,
            settings=bot_env.runtime.settings,
            informant_id=world.informants[alice.id],
            station_id=rows[0].station_id,
            today=bot_env.runtime.today(),
        )
    assert stats.figures == ShareFigures(shares=2, telegram_reach=0, reported_reach=0, visits=0)
    await alice.command("me")
    await bot_env.settle()
    me = re.sub(r"</?b>", "", alice.messages[-1].text or "")
    assert "本月用分享按钮分享 2 次（发到群 1 次，私聊 0 次，未注明 1 次）" in me
    assert "分享怎样计算" in me and "不计触达人数" in me and "群成员触达" in me
    assert "自报触达" in me and "链接" in me


async def test_card_info_button_explains_in_a_pop_up(bot_env: RunningBot) -> None:
    sb = bot_env.sandbox
    alice = sb.user("王秀英", started=True)
    await setup_world(bot_env, [alice])
    await alice.command("help")
    await bot_env.settle()
    answer = await alice.press(alice.messages[-1], data="SHI")
    assert answer is not None and answer["show_alert"]
    assert "分享按钮：计 1 次分享，不计触达" in answer["text"] and "群成员" in answer["text"]
    assert len(answer["text"]) <= 200

"""External shares: the "I shared it elsewhere" dialog, caps, dedupe; /me and /top."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.sandbox.harness import RunningBot
from bot.sandbox.world import SimUser
from storage.models import IntegrityFlag
from tests.shares.helpers import setup_world, shares


async def _ask(bot_env: RunningBot, user: SimUser, cid: int) -> None:
    """Press "I shared it elsewhere" under a bot message (as if on the item's card)."""
    await user.send("/start")  # a first message so the private chat has a bot message
    await bot_env.settle()
    await user.press(user.messages[-1], data=f"SHX:{cid}")
    await bot_env.settle()


async def test_wechat_group_by_button(bot_env: RunningBot) -> None:
    alice = bot_env.sandbox.user("王秀英", started=True)
    world = await setup_world(bot_env, [alice])
    cid = world.content_ids[0]
    await _ask(bot_env, alice, cid)
    question = alice.messages[-1]
    assert "分享到了哪里" in (question.text or "")
    await alice.press(question, "微信群")
    await bot_env.settle()
    assert "大约有多少人" in (question.text or "")
    await alice.press(question, "约200人")
    await bot_env.settle()
    assert "已记录" in (question.text or "") and "http://kepu.test/s/" in (question.text or "")
    rows = await shares(bot_env)
    assert [(r.channel, r.audience, r.flagged) for r in rows] == [("wechat_group", 200, False)]
    # The same report again today: not counted twice, told so.
    await alice.press(question, data=f"SHA:{cid}:wechat_group:200")
    await bot_env.settle()
    assert "每天只计一次" in (question.text or "")
    assert len(await shares(bot_env)) == 1


async def test_typed_audience_bad_then_capped(bot_env: RunningBot) -> None:
    alice = bot_env.sandbox.user("王秀英", started=True)
    world = await setup_world(bot_env, [alice])
    cid = world.content_ids[0]
    await _ask(bot_env, alice, cid)
    await alice.press(alice.messages[-1], "QQ群")
    await bot_env.settle()
    await alice.send("很多人")
    await bot_env.settle()
    assert "约80人或200人左右（最多1,000,000人）" in (alice.messages[-1].text or "")
    assert await shares(bot_env) == []
    await alice.send("两千")  # above the cap: confirmed before anything is saved
    await bot_env.settle()
    check = alice.messages[-1]
    assert "2,000人，确定吗？" in (check.text or "")
    assert await shares(bot_env) == []
    await alice.press(check, "是")
    await bot_env.settle()
    text = check.text or ""
    assert "约500人" in text and "超过500人的按500人计算" in text
    rows = await shares(bot_env)
    assert [(r.channel, r.audience, r.audience_reported, r.flagged) for r in rows] == [
        ("qq_group", 500, 2000, True)
    ]
    async with bot_env.runtime.sessions() as s:
        flag = (await s.execute(select(IntegrityFlag))).scalar_one()
    assert flag.kind == "audience_capped" and flag.station_id == world.station_id


async def test_non_informant_refused_and_cancel(bot_env: RunningBot) -> None:
    alice = bot_env.sandbox.user("王秀英", started=True)
    stranger = bot_env.sandbox.user("路人", started=True)
    world = await setup_world(bot_env, [alice])
    cid = world.content_ids[0]
    await stranger.send("/start")
    await bot_env.settle()
    answer = await stranger.press(stranger.messages[-1], data=f"SHX:{cid}")
    assert answer is not None and answer.get("show_alert")
    await _ask(bot_env, alice, cid)
    await alice.press(alice.messages[-1], "取消")
    await bot_env.settle()
    assert "没有记录" in (alice.messages[-1].text or "")
    assert await shares(bot_env) == []


async def test_me_and_top_show_figures(bot_env: RunningBot) -> None:
    alice = bot_env.sandbox.user("王秀英", started=True)
    bob = bot_env.sandbox.user("李建国", started=True)
    world = await setup_world(bot_env, [alice, bob])
    cid = world.content_ids[0]
    await _ask(bot_env, alice, cid)
    await alice.press(alice.messages[-1], "微信群")
    await bot_env.settle()
    await alice.press(alice.messages[-1], "约100人")
    await bot_env.settle()
    await alice.command("me")
    await bot_env.settle()
    me = alice.messages[-1].text or ""
    assert "本月分享：1次" in me and "自报触达100人" in me and "第1名（共2人）" in me
    assert "传播量：51" in me  # 1 share + 0.5 × 100 reported
    await bob.command("top")
    await bot_env.settle()
    board = bob.messages[-1]
    assert "王*英 — 51" in (board.text or "") and "👉" in (board.text or "")
    # The window in 年月日, as everywhere else (not "2026/11/1 – 2026/11/30").
    assert re.search(r"本月（\d{4}年\d{1,2}月1日—\d{1,2}月\d{1,2}日）", board.text or "")
    await bob.press(board, "本地区")
    await bot_env.settle()
    assert "西湖区已认定的e站" in (board.text or "") and "👉 <b>1. 本站 — 51" in (board.text or "")
    await bob.press(board, "本周")
    await bot_env.settle()
    assert "本周" in (board.text or "")
    stranger = bot_env.sandbox.user("路人", started=True)
    await stranger.command("top")
    await bot_env.settle()
    assert stranger.messages and "top" not in (stranger.messages[-1].text or "")

"""Issue #17: typed audiences after “我已分享到别处”, as volunteers type them, end to end."""

from __future__ import annotations

import pytest

from bot.sandbox.harness import RunningBot
from tests.shares.helpers import setup_world, shares
from tests.shares.test_external_e2e import _ask


@pytest.mark.parametrize(
    ("typed", "audience"),
    [("约80人", 80), ("约五十人", 50), ("200人左右", 200), ("约 200 人", 200),
     ("大概300", 300), ("五十", 50), ("几十人", 30), ("１２０人", 120)],
)  # fmt: skip
async def test_typed_audience_is_recorded(bot_env: RunningBot, typed: str, audience: int) -> None:
    alice = bot_env.sandbox.user("王秀英", started=True)
    world = await setup_world(bot_env, [alice])
    await _ask(bot_env, alice, world.content_ids[0])
    await alice.press(alice.messages[-1], "微信群")
    await bot_env.settle()
    await alice.send(typed)
    await bot_env.settle()
    assert "已记录" in (alice.messages[-1].text or ""), alice.messages[-1].text
    assert [r.audience for r in await shares(bot_env)] == [audience]


async def test_large_audience_is_confirmed_before_saving(bot_env: RunningBot) -> None:
    alice = bot_env.sandbox.user("王秀英", started=True)
    world = await setup_world(bot_env, [alice])
    cid = world.content_ids[0]
    await _ask(bot_env, alice, cid)
    await alice.press(alice.messages[-1], "微信朋友圈")
    await bot_env.settle()
    await alice.send("5000人")
    await bot_env.settle()
    check = alice.messages[-1]
    assert "5,000人，确定吗？" in (check.text or "") and "按500人计" in (check.text or "")
    assert await shares(bot_env) == []
    await alice.press(check, "改一下")
    await bot_env.settle()
    assert "大约有多少人" in (check.text or "")
    await alice.send("约5000人")
    await bot_env.settle()
    check = alice.messages[-1]
    assert "约5,000人，确定吗？" in (check.text or "")
    await alice.press(check, "是")
    await bot_env.settle()
    assert "已记录" in (check.text or "")
    rows = await shares(bot_env)
    assert [(r.audience, r.audience_reported, r.flagged) for r in rows] == [(500, 5000, True)]


async def test_negative_and_zero_audiences_are_refused(bot_env: RunningBot) -> None:
    alice = bot_env.sandbox.user("王秀英", started=True)
    world = await setup_world(bot_env, [alice])
    await _ask(bot_env, alice, world.content_ids[0])
    await alice.press(alice.messages[-1], "QQ群")
    await bot_env.settle()
    await alice.send("-45人")
    await bot_env.settle()
    assert "人数不能是负数" in (alice.messages[-1].text or "")
    await alice.send("0")
    await bot_env.settle()
    assert "人数至少为 1" in (alice.messages[-1].text or "")
    assert await shares(bot_env) == []

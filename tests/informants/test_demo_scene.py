"""The informants demo scene plays on its own (no stations scene before it)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.i18n import get_translator
from bot.sandbox.harness import RunningBot
from bot.sandbox.scenes import informants as scene
from bot.sandbox.stage import Demo
from storage.models import Informant


@pytest.mark.slow
async def test_scene_plays_alone(bot_env: RunningBot, tmp_path: Path, clock) -> None:  # type: ignore[no-untyped-def]
    demo = Demo(
        sandbox=bot_env.sandbox,
        bot=bot_env,
        clock=clock,
        out_dir=tmp_path,
        t=get_translator("zh_CN"),
        lang="zh_CN",
        out=io.StringIO(),
        quiet=True,
    )
    await scene.play(demo)
    assert len(demo.state["informant_keys"]) == 20
    assert demo.state["invite_link"].startswith("https://t.me/kepubot_bot?start=j_")
    assert (tmp_path / "invite-poster.png").exists()
    async with bot_env.runtime.sessions() as s:
        count = (await s.execute(select(func.count()).select_from(Informant))).scalar_one()
    assert count == 20
    assert any("王秀英" in line for line in demo.transcript)

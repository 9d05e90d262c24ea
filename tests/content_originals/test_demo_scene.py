"""The content demo scene shows an informant downloading a poster's original."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from bot.i18n import get_translator
from bot.sandbox.harness import RunningBot
from bot.sandbox.scenes import content as scene
from bot.sandbox.stage import Demo
from tests.sandbox.test_transcript_lint import lint

ORIGINAL = Path(__file__).resolve().parents[2] / "bot/content/packs/starter/originals"


@pytest.mark.slow
async def test_content_scene_downloads_the_original(
    bot_env: RunningBot,
    tmp_path: Path,
    clock,  # type: ignore[no-untyped-def]
) -> None:
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
    transcript = demo.transcript
    pressed = [line for line in transcript if line.endswith("▶ [⬇ 原图]")]
    assert len(pressed) == 1
    after = transcript[transcript.index(pressed[0]) :]
    assert any("📎 七步洗手法，你做对了吗.png" in line for line in after)
    assert any("2480×3508像素" in line for line in after)
    saved = tmp_path / "original-七步洗手法，你做对了吗.png"
    assert saved.read_bytes() == (ORIGINAL / "handwash.png").read_bytes()
    with Image.open(saved) as picture:
        assert picture.size == (2480, 3508)
    assert not lint(after), lint(after)

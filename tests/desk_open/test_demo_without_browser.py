"""The demo's desk scene without a browser: it says how to get one; finding Chromium."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from bot.sandbox.browser import BrowserUnavailable, browser_env, find_chromium
from bot.sandbox.demo import run_demo
from bot.sandbox.scenes import desk


async def test_desk_scene_says_how_to_get_chromium(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEPUBOT_CHROMIUM", str(tmp_path / "no-chromium"))
    demo = await run_demo(out_dir=tmp_path / "demo", out=io.StringIO(), quiet=True, scenes=[desk])
    text = "\n".join(demo.transcript)
    assert "点击输入框旁的菜单按钮［科普工作台］" in text
    assert "本机没有 Chromium" in text and "sudo apt-get install -y chromium" in text
    assert not list((tmp_path / "demo").glob("desk-*.png"))


def test_a_named_chromium_must_exist(tmp_path: Path) -> None:
    with pytest.raises(BrowserUnavailable, match="not an executable file"):
        find_chromium(str(tmp_path / "missing"))
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    assert find_chromium(str(fake)) == str(fake)


def test_chromium_sees_the_chinese_font(tmp_path: Path) -> None:
    env = browser_env(tmp_path)
    conf = Path(env["FONTCONFIG_FILE"]).read_text(encoding="utf-8")
    assert '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>' in conf
    assert any(Path(d).is_dir() for d in _dirs(conf))
    assert env.get("PATH") == os.environ.get("PATH")


def _dirs(conf: str) -> list[str]:
    return [part.split("</dir>")[0] for part in conf.split("<dir>")[1:]]

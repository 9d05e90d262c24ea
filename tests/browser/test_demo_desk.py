"""`make demo` photographs the desk when Chromium is at hand."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.sandbox.demo import run_demo
from bot.sandbox.scenes import desk
from tests.browser.conftest import BrowserThread

pytestmark = pytest.mark.browser


async def test_desk_scene_writes_screenshots(tmp_path: Path, chromium: BrowserThread) -> None:
    out = tmp_path / "demo-output"
    demo = await run_demo(out_dir=out, out=io.StringIO(), quiet=True, scenes=[desk])
    shots = sorted(out.glob("desk-*.png"))
    assert shots and all(p.read_bytes().startswith(b"\x89PNG") for p in shots)
    assert any(p.name.endswith("-home.png") for p in shots)
    assert set(shots) <= set(demo.files)  # listed under "files written"
    assert "无界面 Chromium 像手机一样打开了工作台" in "\n".join(demo.transcript)

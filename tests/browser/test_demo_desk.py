"""`make demo` photographs the desk when Chromium is at hand."""

from __future__ import annotations

import functools
import io
from pathlib import Path

import pytest

from bot.sandbox.browser import capture_desk
from bot.sandbox.demo import run_demo
from bot.sandbox.scenes import desk
from tests.browser.conftest import BrowserThread

pytestmark = pytest.mark.browser


async def test_desk_scene_writes_screenshots(
    tmp_path: Path, chromium: BrowserThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first two menu pages are enough here (the demo takes all eight, ~1 s each).
    monkeypatch.setattr(desk, "capture_desk", functools.partial(capture_desk, limit=2))
    out = tmp_path / "demo-output"
    demo = await run_demo(out_dir=out, out=io.StringIO(), quiet=True, scenes=[desk])
    shots = sorted(out.glob("desk-*.png"))
    assert shots and all(p.read_bytes().startswith(b"\x89PNG") for p in shots)
    assert [p.name for p in shots] == ["desk-01-dashboard.png", "desk-02-stations.png"]
    assert set(shots) <= set(demo.files)  # listed under "files written"
    assert "无界面 Chromium 像手机一样打开了工作台" in "\n".join(demo.transcript)

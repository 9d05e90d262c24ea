"""`kepubot jobs list` names the poll; `kepubot content feeds status|poll` show each feed.

The CLI runs its own event loop, so it runs in a worker thread while the loopback feed
server keeps answering on the test's loop.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.__main__ import main
from tests.content_feeds.conftest import FeedServer


async def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = await asyncio.to_thread(main, list(argv))
    return code, capsys.readouterr().out


@pytest.fixture
def configured(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, feed_server: FeedServer
) -> str:
    url = feed_server.serve("/down.xml", b"", status=502)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{sqlite_url}"\n'
        "[content]\nfeed_poll_minutes = 15\n"
        f'[[content.feeds]]\nurl = "{url}"\nname = "科普中国"\ncategory = "health"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("KEPUBOT_CONFIG", str(config))
    return url


async def test_jobs_list_names_the_feed_poll(
    configured: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = await cli(capsys, "jobs", "list")
    assert code == 0
    assert "feeds_poll\t轮询已订阅的 RSS/Atom 订阅源：新条目存为草稿或直接发布" in out


async def test_feeds_status_before_and_after_a_failing_poll(
    configured: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = await cli(capsys, "content", "feeds", "status")
    assert code == 0 and f"#1\t科普中国\t{configured}" in out
    assert "状态：尚未读取" in out
    assert "定时任务 feeds_poll 每15分钟读取一次" in out

    code, out = await cli(capsys, "content", "feeds", "poll")
    assert code == 0 and "失败1个" in out
    code, out = await cli(capsys, "content", "feeds", "status")
    assert "状态：读取失败 — 服务器返回 HTTP 502" in out

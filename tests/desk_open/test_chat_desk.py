"""`kepubot chat` prints the desk's Mini App address as the menu button opens it."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from bot.desk.auth import validate_init_data
from tests.e2e.test_chat import chat

CHAT_TOKEN = "123456:CHAT-TOKEN"  # bot.sandbox.chat's sandbox token


def _desk_urls(printed: str) -> list[str]:
    return re.findall(r"http://127\.0\.0\.1:\d+/desk/\S*#tgWebAppData=\S+", printed)


async def test_coordinator_gets_the_desk_address(tmp_path: Path) -> None:
    printed = await chat(tmp_path, "coordinator", [":desk", "/desk", "#1", "/pending", ":quit"])
    urls = _desk_urls(printed)
    # At start (the menu button), on :desk, and on pressing /desk's button.
    assert len(urls) == 3, printed
    assert "#1 [科普工作台] → Mini App（按下可获取地址）" in printed
    launch = parse_qs(urlsplit(urls[0]).fragment)
    data = validate_init_data(
        launch["tgWebAppData"][0],
        bot_token=CHAT_TOKEN,
        now=dt.datetime.now(dt.UTC),
        max_age=dt.timedelta(minutes=60),
    )
    assert data.first_name == "我" and data.query_id
    assert launch["tgWebAppPlatform"] == ["android"]
    assert "[科普工作台] → Mini App" in printed.split("/pending")[-1]


async def test_informant_has_no_desk(tmp_path: Path) -> None:
    printed = await chat(tmp_path, "informant", [":desk", ":help", ":quit"])
    assert not _desk_urls(printed)
    assert "科普工作台供站点管理员、科协工作人员和内容编辑使用" in printed
    assert ":desk — 按下菜单按钮" in printed

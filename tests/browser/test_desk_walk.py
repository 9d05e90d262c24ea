"""A coordinator opens the desk from Telegram in a real Chromium and walks through it.

The bot grants the role, sets the "科普工作台" menu button through the outbox; pressing
it in the sandbox gives the URL a Telegram app would open (signed initData in the hash);
Chromium opens that URL against the bot's own web server.
"""

from __future__ import annotations

import pytest

from bot.sandbox.harness import RunningBot
from bot.sandbox.world import SimUser
from bot.services import roles as role_service
from tests.browser.conftest import Tab
from tests.conftest import FixedClock
from tests.tally.fixtures import build_week

pytestmark = pytest.mark.browser


async def _coordinator(desk_bot: RunningBot, clock: FixedClock) -> SimUser:
    county = desk_bot.sandbox.user("西湖区科协", started=True)
    async with desk_bot.runtime.sessions() as s, s.begin():
        await build_week(s)
        await role_service.grant(
            session=s, telegram_id=county.id, role="coordinator", region_code="330106", now=clock()
        )
    await desk_bot.settle()
    return county


async def test_menu_button_opens_the_desk(
    desk_bot: RunningBot, tab: Tab, clock: FixedClock
) -> None:
    county = await _coordinator(desk_bot, clock)
    url = county.open_menu_button(auth_date=clock())
    assert url.startswith(f"{desk_bot.web_url}/desk/#tgWebAppData=")
    await tab.goto(url)
    await tab.wait_for("#desk-nav a[data-path='home']")
    menu = await tab.text("#desk-nav")
    for entry in ("概览", "e站", "审核", "疑点", "导出", "人员", "我的"):
        assert entry in menu
    await tab.screenshot("menu")
    await tab.click("#desk-nav a[data-path='home']")
    shown = await tab.wait_for_text("您的角色")
    assert "西湖区科协" in shown  # name from initData / the person, and the role's region
    await tab.screenshot("home")
    assert tab.errors == []  # no script error, although telegram-web-app.js never loaded


async def test_forged_or_missing_launch_data(
    desk_bot: RunningBot, tab: Tab, clock: FixedClock
) -> None:
    county = await _coordinator(desk_bot, clock)
    url = county.open_menu_button(auth_date=clock())
    forged = url.replace(
        "tgWebAppData=query_id", "tgWebAppData=query_id%3Dx%26evil%3D1%26query_id"
    )
    await tab.goto(forged)
    assert "工作台链接无效或已过期" in await tab.wait_for_text("工作台链接无效")
    await tab.goto(f"{desk_bot.web_url}/desk/")
    assert "请在 Telegram 中从机器人打开工作台" in await tab.wait_for_text("菜单按钮")
    await tab.screenshot("no-launch-data")


async def test_someone_without_a_role_sees_nothing(
    desk_bot: RunningBot, tab: Tab, clock: FixedClock
) -> None:
    stranger = desk_bot.sandbox.user("路人", started=True)
    await stranger.command("start")
    await desk_bot.settle()
    assert stranger.menu_button == {"type": "commands"}  # no desk button without a role
    # Even with a URL signed for them (e.g. an old link), the desk shows nothing.
    url = stranger.launch(f"{desk_bot.web_url}/desk/", clock())
    await tab.goto(url)
    shown = await tab.wait_for_text("您还没有任何角色")
    assert "西湖" not in shown


async def test_pending_button_opens_the_review_queue(
    desk_bot: RunningBot, tab: Tab, clock: FixedClock
) -> None:
    county = await _coordinator(desk_bot, clock)
    await county.command("pending")
    listing = await county.wait_for_message(predicate=lambda m: bool(m.buttons))
    url = county.open_web_app(listing, "科普工作台", auth_date=clock())
    assert "?p=/desk/p/queues/reviews#tgWebAppData=" in url
    await tab.goto(url)
    queue = await tab.wait_for_text("待审核的申报")
    application = listing.buttons[0][0].text.split(" ", 1)[1]  # "#7 西湖…" → the name
    assert application in queue, queue
    await tab.screenshot("reviews-from-pending")

"""A day's work at the desk in a real Chromium: dashboard, a station, a finding dismissed
with a reason, a window exported, a role granted (and the grantee's menu button appears).

The world is the desk tests' province (tests/desk/world.py); the viewers are sandbox users
with those Telegram ids, who open the desk from their chat's menu button.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.sandbox.harness import RunningBot
from bot.sandbox.world import SimUser
from storage.models import IntegrityFlag, Person, RoleGrant
from tests.browser.conftest import Tab
from tests.conftest import FixedClock
from tests.desk import world

pytestmark = pytest.mark.browser
NEWBIE = 100_000_815  # 小新: a sandbox user the city appoints


async def _seeded(desk_bot: RunningBot) -> world.World:
    async with desk_bot.runtime.sessions() as s, s.begin():
        return await world.seed(s)


async def _viewer(desk_bot: RunningBot, telegram_id: int, name: str) -> SimUser:
    """A role holder of the world who writes to the bot: their chat gets the desk button."""
    user = desk_bot.sandbox.user(name, user_id=telegram_id, started=True)
    await user.command("start")
    await desk_bot.settle()
    assert user.menu_button["type"] == "web_app", user.menu_button
    return user


async def _open(tab: Tab, user: SimUser, clock: FixedClock) -> None:
    await tab.goto(user.open_menu_button(auth_date=clock()))
    await tab.wait_for("#desk-nav a[data-path]")


async def _go(tab: Tab, path: str, expect: str) -> str:
    await tab.click(f"#desk-nav a[data-path='{path}']")
    return await tab.wait_for_text(expect)


async def test_dashboard_station_and_a_dismissed_finding(
    desk_bot: RunningBot, tab: Tab, clock: FixedClock
) -> None:
    w = await _seeded(desk_bot)
    county = await _viewer(desk_bot, world.COUNTY, "西湖区科协")
    await _open(tab, county, clock)
    board = await tab.wait_for_text("西湖区")  # the start page: the county's overview
    assert "第48周" in board or "2026" in board, board
    await tab.screenshot("dashboard")

    stations = await _go(tab, "stations", "西湖区文化站")
    assert "海曙区科技馆" not in stations  # Ningbo is outside the county
    await tab.screenshot("stations")
    await tab.click("#desk-main a[data-desk]:has-text('西湖区文化站')")
    station = await tab.wait_for_text("垃圾分类讲座")
    assert "西湖区文化站" in station
    await tab.screenshot("station")

    await _go(tab, "queues/findings", f"#{w.finding}")
    card = f"#finding-{w.finding}"
    await tab.fill(f"{card} textarea[name=reason]", "讲座有签到表，人数属实")
    await tab.click(f"{card} button[value=dismissed]")
    await tab.wait_for("#desk-main .desk-done")
    done = await tab.text("#desk-main .desk-done")
    assert done.startswith(f"已排除西湖区文化站的疑点 #{w.finding}。"), done
    await tab.screenshot("finding-dismissed")
    async with desk_bot.runtime.sessions() as s:
        finding = await s.get(IntegrityFlag, w.finding)
    assert finding is not None and finding.status == "dismissed"
    assert "签到表" in (finding.decision_reason or "")
    assert tab.errors == []


async def test_export_a_window_and_grant_a_role(
    desk_bot: RunningBot, tab: Tab, clock: FixedClock
) -> None:
    await _seeded(desk_bot)
    newbie = desk_bot.sandbox.user("小新", user_id=NEWBIE, started=True)
    await newbie.command("start")
    await desk_bot.settle()
    assert newbie.menu_button == {"type": "commands"}
    city = await _viewer(desk_bot, world.CITY, "杭州市科协")
    await _open(tab, city, clock)

    await _go(tab, "exports", "导出")
    await tab.fill("#desk-main input[name=date_from]", "2026-11-01")
    await tab.fill("#desk-main input[name=date_to]", "2026-11-22")
    await tab.click("#desk-main input[name=format][value=xlsx]")
    await tab.click("#desk-main form button[type=submit]")
    await tab.wait_for("#desk-main a[data-desk-download]")
    await tab.screenshot("export-ready")

    def download(page: Any) -> tuple[str, bytes]:
        with page.expect_download() as info:
            page.click("#desk-main a[data-desk-download]")
        got = info.value
        return got.suggested_filename, Path(got.path()).read_bytes()

    name, data = await tab.do(download)  # the browser's own download, as a phone saves it
    assert name.endswith(".xlsx")
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames

    await _go(tab, "people", "授予")
    form = "#desk-main form[action$='people/grant']"
    await tab.do(lambda p: p.select_option(f"{form} select[name=kind]", "county"))
    await tab.do(lambda p: p.select_option(f"{form} select[name=region]", "330108"))
    await tab.fill(f"{form} input[name=who]", str(NEWBIE))
    await tab.click(f"{form} button[type=submit]")
    shown = await tab.wait_for_text("小新")
    await tab.screenshot("role-granted")
    async with desk_bot.runtime.sessions() as s:
        roles = (
            await s.execute(
                select(RoleGrant.role, RoleGrant.region_code)
                .join(Person, Person.id == RoleGrant.person_id)
                .where(Person.telegram_id == NEWBIE)
            )
        ).all()
    assert [tuple(r) for r in roles] == [("coordinator", "330108")], shown
    await desk_bot.settle()
    # The grant's commit queued the grantee's menu button: the desk is in their chat now.
    assert newbie.menu_button["type"] == "web_app"
    assert tab.errors == []

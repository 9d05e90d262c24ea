"""Opening the desk from Telegram, through the real bot and the sandbox.

The menu button follows the roles (set after the commit, through the outbox), existing
role holders get it at start, and the digest and /pending carry a web_app button in
private chats only. The desk's public address is https, as production needs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.handlers.desk_open import MENU_QUEUED
from bot.runtime.scheduler import run_job
from bot.sandbox import Sandbox
from bot.sandbox.harness import RunningBot, running_bot, sandbox_settings
from bot.services import roles as role_service
from bot.services.desk_open import desk_url
from storage import outbox as outbox_store
from tests.conftest import FixedClock
from tests.tally.fixtures import WEEK, build_week
from tests.tally.test_e2e import MONDAY_AFTER

PUBLIC = "https://desk.kepu.test"
DESK = {"type": "web_app", "text": "科普工作台", "web_app": {"url": f"{PUBLIC}/desk/"}}


@pytest.fixture
async def desk_bot(
    sandbox: Sandbox, sqlite_url: str, clock: FixedClock
) -> AsyncIterator[RunningBot]:
    settings = sandbox_settings(sandbox, sqlite_url, web={"public_base_url": PUBLIC})
    async with running_bot(sandbox, settings, clock=clock) as running:
        yield running


async def _started(bot: RunningBot) -> None:
    """Wait until the start-up menu rows are queued, then until they are sent."""
    queued = bot.runtime.extras.setdefault(MENU_QUEUED, asyncio.Event())
    await asyncio.wait_for(queued.wait(), timeout=10)
    await bot.settle()


async def test_menu_button_follows_the_roles(desk_bot: RunningBot, clock: FixedClock) -> None:
    sb = desk_bot.sandbox
    county = sb.user("西湖区科协", started=True, language_code="zh-hans")
    async with desk_bot.runtime.sessions() as s, s.begin():
        await build_week(s)
        await role_service.grant(
            session=s, telegram_id=county.id, role="coordinator", region_code="330106", now=clock()
        )
        # Nothing reaches Telegram before the commit.
        assert county.menu_button == {"type": "commands"}
    await desk_bot.settle()
    assert county.menu_button == DESK
    async with desk_bot.runtime.sessions() as s, s.begin():
        await role_service.revoke(
            session=s, telegram_id=county.id, role="coordinator", region_code="330106", now=clock()
        )
    await desk_bot.settle()
    assert county.menu_button == {"type": "commands"}  # back to the bot's default


async def test_english_speakers_get_an_english_button(
    desk_bot: RunningBot, clock: FixedClock
) -> None:
    curator = desk_bot.sandbox.user("Ann", started=True, language_code="en")
    await curator.command("start")
    await desk_bot.settle()
    async with desk_bot.runtime.sessions() as s, s.begin():
        await role_service.grant(session=s, telegram_id=curator.id, role="curator", now=clock())
    await desk_bot.settle()
    # Set after the commit, without an update: in the person's chosen language, else the
    # default (Chinese); their next message brings their app's language, and the button follows.
    assert curator.menu_button["text"] == "科普工作台"
    await curator.command("help")
    await desk_bot.settle()
    assert curator.menu_button == {**DESK, "text": "Science desk"}


async def test_role_holders_get_the_button_at_start(
    sandbox: Sandbox, sqlite_url: str, clock: FixedClock
) -> None:
    city = sandbox.user("杭州市科协", started=True)
    never_started = 777_000_001  # granted from the CLI, never wrote to the bot
    first = sandbox_settings(sandbox, sqlite_url, web={"public_base_url": "http://kepu.test"})
    async with running_bot(sandbox, first, clock=clock) as bot:
        async with bot.runtime.sessions() as s, s.begin():
            await build_week(s)
            for tid in (city.id, never_started):
                await role_service.grant(
                    session=s,
                    telegram_id=tid,
                    role="coordinator",
                    region_code="330100",
                    now=clock(),
                )
        await bot.settle()
        # Plain http on a public name: Telegram would refuse it, so no desk button.
        assert desk_url(first) is None
        assert city.menu_button == {"type": "commands"}
    again = sandbox_settings(sandbox, sqlite_url, web={"public_base_url": PUBLIC})
    async with running_bot(sandbox, again, clock=clock) as bot:
        await _started(bot)
        assert city.menu_button == DESK
        async with bot.runtime.sessions() as s:
            rows = await outbox_store.messages_to_chat(session=s, chat_id=never_started)
        # Telegram does not know that chat: the row failed, and is tried again next start.
        assert [r["state"] for r in rows if r["kind"] == "desk_menu"][-1] == "failed"
    calls = sandbox.stats.calls.get("setChatMenuButton", 0)
    async with running_bot(sandbox, again, clock=clock) as bot:
        await _started(bot)
    # Unchanged buttons are not set again; only the never-started chat is retried.
    assert sandbox.stats.calls.get("setChatMenuButton", 0) == calls + 1


async def test_first_message_of_a_role_holder_sets_the_button(
    desk_bot: RunningBot, clock: FixedClock
) -> None:
    sb = desk_bot.sandbox
    async with desk_bot.runtime.sessions() as s, s.begin():
        await build_week(s)
        await role_service.grant(
            session=s,
            telegram_id=100_000_900,
            role="coordinator",
            region_code="330106",
            now=clock(),
        )
    await desk_bot.settle()  # that chat does not exist yet: the row fails
    newcomer = sb.user("新来的科协干部", user_id=100_000_900)
    await newcomer.command("start")
    await desk_bot.settle()
    assert newcomer.menu_button == DESK


async def test_digest_and_pending_carry_the_desk_button(
    desk_bot: RunningBot, clock: FixedClock
) -> None:
    from bot import jobs

    sb = desk_bot.sandbox
    county = sb.user("西湖区科协", started=True)
    async with desk_bot.runtime.sessions() as s, s.begin():
        await build_week(s)
        await role_service.grant(
            session=s, telegram_id=county.id, role="coordinator", region_code="330106", now=clock()
        )
    clock.set(MONDAY_AFTER)
    assert (await run_job(desk_bot.runtime, jobs.WEEKLY_TALLY, period=WEEK)).status == "done"
    await county.command("digest")
    text = await county.wait_for_message(timeout=30)
    assert [[b.web_app for b in row] for row in text.buttons] == [[f"{PUBLIC}/desk/"]]
    assert text.buttons[0][0].text == "科普工作台"
    await desk_bot.settle()
    bot = desk_bot.processor.application.bot
    await run_job(desk_bot.runtime, jobs.WEEKLY_DIGEST, bot=bot, period=WEEK)
    await desk_bot.settle()
    weekly = [m for m in county.messages if m.text and "科普周报" in m.text][-1]
    assert weekly.buttons[0][0].web_app == f"{PUBLIC}/desk/"
    county.mark_seen()
    await county.command("pending")
    listing = await county.wait_for_message()
    assert listing.buttons[-1][0].web_app == f"{PUBLIC}/desk/?p=/desk/p/queues/reviews"
    # In a group the same list has no web_app button (Telegram refuses it there).
    group = sb.group("科协工作群", members=[county])
    await county.add_bot_to(group)
    await desk_bot.settle()
    await county.command("pending", chat=group)
    in_group = await group.wait_for_message(predicate=lambda m: bool(m.buttons))
    assert all(b.web_app is None for row in in_group.buttons for b in row)


def test_menu_rows_are_erased_once_sent() -> None:
    from bot.runtime import effects
    from bot.services import desk_open

    assert desk_open.ERASE_AFTER_SEND == effects.ERASE_AFTER_SEND


async def test_desk_command(desk_bot: RunningBot, clock: FixedClock) -> None:
    sb = desk_bot.sandbox
    curator = sb.user("编辑", started=True)
    stranger = sb.user("路人", started=True)
    async with desk_bot.runtime.sessions() as s, s.begin():
        await role_service.grant(session=s, telegram_id=curator.id, role="curator", now=clock())
    await curator.command("desk")
    answer = await curator.wait_for_message()
    assert "点击下方按钮打开科普工作台" in (answer.text or "")
    assert answer.buttons[0][0].web_app == f"{PUBLIC}/desk/"
    url = curator.open_web_app(answer, "科普工作台", auth_date=clock())
    assert url.startswith(f"{PUBLIC}/desk/#tgWebAppData=query_id%3D")
    await stranger.command("desk")
    assert "没有权限" in ((await stranger.wait_for_message()).text or "")
    group = sb.group("编辑部", members=[curator])
    await curator.add_bot_to(group)
    await desk_bot.settle()
    group.mark_seen()  # the bot's greeting
    await curator.command("desk", chat=group)
    hint = await group.wait_for_message()
    assert "只能在与我的私聊中打开" in (hint.text or "") and not hint.buttons


async def test_desk_command_without_https(bot_env: RunningBot, clock: FixedClock) -> None:
    curator = bot_env.sandbox.user("编辑", started=True)
    async with bot_env.runtime.sessions() as s, s.begin():
        await role_service.grant(session=s, telegram_id=curator.id, role="curator", now=clock())
    await bot_env.settle()
    assert curator.menu_button == {"type": "commands"}  # http://kepu.test: no desk button
    await curator.command("desk")
    answer = await curator.wait_for_message()
    assert "必须以 https:// 开头" in (answer.text or "") and not answer.buttons

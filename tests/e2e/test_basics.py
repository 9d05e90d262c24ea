"""/start, /help, /language, /cancel and command menus through the sandbox."""

from __future__ import annotations

import subprocess
import sys

from bot.sandbox.harness import RunningBot
from bot.services import roles as role_service


async def test_start_greets_in_chinese_by_default(bot_env: RunningBot) -> None:
    user = bot_env.sandbox.user("张三", language_code="zh-hans")
    await user.command("start")
    reply = await user.wait_for_message()
    assert "欢迎来到科普中国" in (reply.text or "")


async def test_start_in_english_for_english_users(bot_env: RunningBot) -> None:
    user = bot_env.sandbox.user("Ann", language_code="en")
    await user.command("start")
    assert "Welcome to Kepu China informants" in ((await user.wait_for_message()).text or "")


async def test_unknown_payload_explains_how_to_join(bot_env: RunningBot) -> None:
    user = bot_env.sandbox.user("李四")
    await user.command("start", "not-a-real-invite")
    assert "邀请链接无效" in ((await user.wait_for_message()).text or "")


async def test_help_lists_commands_by_role_and_sets_menu(bot_env: RunningBot) -> None:
    user = bot_env.sandbox.user("王五")
    await user.command("help")
    plain = (await user.wait_for_message()).text or ""
    assert "/help" in plain and "/language" in plain
    await bot_env.settle()
    menu = [c["command"] for c in bot_env.sandbox.commands(f"chat:{user.id}")]
    assert "help" in menu
    default_menu = bot_env.sandbox.commands("default")
    assert default_menu and default_menu[0]["command"] == "start"
    assert "开始" in default_menu[0]["description"]
    en_menu = bot_env.sandbox.commands("default", "en")
    assert en_menu[0]["description"].startswith("Start")


async def test_language_switch_persists(bot_env: RunningBot) -> None:
    user = bot_env.sandbox.user("赵六", language_code="zh-hans")
    await user.command("language")
    choice = await user.wait_for_message()
    await user.press(choice, "English")
    await bot_env.settle()
    assert choice.text == "Done! I will talk to you in English from now on."
    await user.command("cancel")
    assert (await user.wait_for_message()).text == "Nothing to cancel."


async def test_unknown_text_gets_a_localised_hint(bot_env: RunningBot) -> None:
    user = bot_env.sandbox.user("钱七")
    await user.send("你好")
    assert "发送 /help" in ((await user.wait_for_message()).text or "")


async def test_admin_sees_admin_commands_after_grant(bot_env: RunningBot) -> None:
    user = bot_env.sandbox.user("管理员")
    async with bot_env.runtime.sessions() as session, session.begin():
        await role_service.grant(
            session=session, telegram_id=user.id, role="admin", now=bot_env.runtime.now()
        )
    await user.command("help")
    assert (await user.wait_for_message()).text


def test_cli_help_lists_every_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bot", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    for name in ("run", "db", "admin"):
        assert name in out

"""Bad input gets a clear answer: over-long replies, unknown commands, no route at start."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from telegram import Update
from telegram.ext import CommandHandler

from bot.app import FEATURES
from bot.core.text_fit import TEXT_LIMIT, utf16_length
from bot.handlers.common import reply
from bot.handlers.feature import COMMAND_GROUP, Feature, in_group
from bot.runtime.context import KepuContext
from bot.sandbox import Sandbox
from bot.sandbox.harness import RunningBot, running_bot, sandbox_settings
from bot.sandbox.markup import shown_text
from tests.conftest import FixedClock

ROOT = Path(__file__).resolve().parents[2]


def shown_length(text: str | None) -> int:
    """Measure a bot message as Telegram does (the sandbox's parser)."""
    return utf16_length(shown_text(text or "", "HTML"))


async def test_search_with_a_huge_query_still_answers(bot_env: RunningBot) -> None:
    user = bot_env.sandbox.user("长查询")
    query = "防" * (TEXT_LIMIT - len("/search "))  # the longest message a user can send
    await user.command("search", query)
    answer = await user.wait_for_message()
    assert "没有找到" in (answer.text or "") and "…" in (answer.text or "")
    assert shown_length(answer.text) <= TEXT_LIMIT


async def wall_of_text(update: Update, context: KepuContext) -> None:
    """Reply with far more than Telegram takes: HTML, entities and emoji."""
    await reply(update, "<b>标题</b>\n" + "<i>&lt;很长&gt; 😀</i>" * 1000)


LONG_FEATURES = (
    *FEATURES,
    Feature(
        name="wall_test", handlers=in_group(COMMAND_GROUP, CommandHandler("wall", wall_of_text))
    ),
)


async def test_reply_cuts_an_overlong_text_instead_of_failing(
    sandbox: Sandbox, sqlite_url: str, clock: FixedClock
) -> None:
    settings = sandbox_settings(sandbox, sqlite_url)
    user = sandbox.user("话多")
    async with running_bot(sandbox, settings, clock=clock, features=LONG_FEATURES) as bot:
        await user.command("wall")
        answer = await user.wait_for_message()
        await bot.settle()
        parked = await bot.pending_updates()
    assert parked == 0
    assert 4000 < shown_length(answer.text) <= TEXT_LIMIT
    assert (answer.text or "").startswith("<b>标题</b>") and (answer.text or "").endswith("…")


async def test_unknown_command_gets_a_hint_and_the_menu(bot_env: RunningBot) -> None:
    user = bot_env.sandbox.user("新人")
    await user.command("frobnicate")
    answer = await user.wait_for_message()
    assert "我不认识 /frobnicate 这个命令" in (answer.text or "")
    assert "/help" in (answer.text or "") and "/language" in (answer.text or "")
    assert "/digest" not in (answer.text or "")  # only what this user's roles allow
    # A known command is answered once, by its own handler only.
    await user.command("help")
    await bot_env.settle()
    after_help = [m.text or "" for m in user.messages][-1:]
    assert not any("我不认识" in text for text in after_help)
    assert len(user.messages) == 2


async def test_unknown_commands_in_groups_and_for_other_bots_stay_silent(
    bot_env: RunningBot,
) -> None:
    sb = bot_env.sandbox
    user = sb.user("群友", started=True)
    group = sb.group("邻里群", members=[user])
    await user.add_bot_to(group)
    await bot_env.settle()
    group.mark_seen()
    await user.send("/frobnicate", chat=group)
    await user.send("/frobnicate@kepubot_bot", chat=group)
    await user.send("/weather@otherbot", chat=group)
    await user.send("/weather@otherbot")  # in private too: not ours
    await bot_env.settle()
    assert [m.text for m in group.messages if m.message_id not in group._seen] == []
    assert user.messages == []


def closed_port() -> int:
    """Return a local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_run_without_a_route_to_telegram_says_so_in_one_line(sqlite_url: str) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "KEPUBOT_DATABASE__URL": sqlite_url,
        "KEPUBOT_TELEGRAM__TOKEN": "123456:SECRET-TOKEN",
        "KEPUBOT_TELEGRAM__BASE_URL": f"http://127.0.0.1:{closed_port()}/bot",
        "KEPUBOT_WEB__PORT": "0",
        # A public address, so the only line is the one about Telegram (no address warning).
        "KEPUBOT_WEB__PUBLIC_BASE_URL": "https://kepubot.example.org",
    }
    env.pop("KEPUBOT_CONFIG", None)
    for lang, expected in (("en", "Cannot reach Telegram"), ("zh_CN", "无法连接 Telegram")):
        done = subprocess.run(
            [sys.executable, "-m", "bot", "--lang", lang, "run", "--log-level", "ERROR"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            cwd=ROOT,
        )
        assert done.returncode == 2, done.stderr
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, done.stderr
        assert expected in lines[0] and "telegram.base_url" in lines[0]
        assert "SECRET-TOKEN" not in done.stderr and "Traceback" not in done.stderr

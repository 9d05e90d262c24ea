"""A user who writes faster than the bot may answer is throttled politely; nothing is lost."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.sandbox import Sandbox
from bot.sandbox.harness import running_bot, sandbox_settings
from storage.models import InboxUpdate
from tests.conftest import FixedClock


async def test_replies_past_the_backlog_are_skipped_with_one_notice(
    sandbox: Sandbox, sqlite_url: str, clock: FixedClock
) -> None:
    user, other = sandbox.user("刷屏者"), sandbox.user("旁人")
    for _ in range(6):  # queued before the bot starts: it takes them in one batch
        await user.command("help")
    settings = sandbox_settings(sandbox, sqlite_url, limits={"reply_backlog": 3})
    async with running_bot(sandbox, settings, clock=clock) as bot:
        await bot.settle()
        texts = [m.text or "" for m in user.messages if m.from_id != user.id]
        assert sum(t.startswith("我能为您做这些") for t in texts) == 2
        assert sum("您发消息太快了" in t for t in texts) == 1
        await other.command("help")  # another chat is not throttled
        assert "我能为您做这些" in ((await other.wait_for_message()).text or "")
        async with bot.runtime.sessions() as session:
            done = await session.scalar(
                select(func.count()).select_from(InboxUpdate).where(InboxUpdate.status == "done")
            )
        assert done == 7  # every message was processed, the skipped replies' too

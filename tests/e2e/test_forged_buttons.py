"""A forged or outdated button is answered "no longer active"; nothing raises or is parked."""

from __future__ import annotations

from sqlalchemy import select

from bot.sandbox import Sandbox
from bot.sandbox.harness import running_bot, sandbox_settings
from storage.models import InboxUpdate
from tests.conftest import FixedClock

FORGED = [
    "SHX:" + "1" * 20,  # once an SQLite overflow, the update parked
    "",  # Telegram never sends it; PTB hands it to the first callback handler
    "SHA:1:qq_group:many",
    "SHP:1:myspace",
    "SHC:now",
    "REV:ok:abc",
    "MGT:open:99999999999",
    "JN:nope",
    "SET:qe:1",
    "FGT:maybe",
    "LANG:en:x",
    "FEED:show:",
    "APP:venue:a:b",
    "ACT:st:x",
    "CU:k",
    "ALS:e:x",
]


async def test_forged_buttons_are_answered_not_parked(
    sandbox: Sandbox, sqlite_url: str, clock: FixedClock
) -> None:
    # One attempt: an update that raised would be parked at once, not retried later.
    settings = sandbox_settings(sandbox, sqlite_url, limits={"inbox_max_attempts": 1})
    user = sandbox.user("小张", started=True)
    async with running_bot(sandbox, settings, clock=clock) as bot:
        await user.command("help")
        message = await user.wait_for_message()
        answers = {data: await user.press(message, data=data) for data in FORGED}
        await bot.settle()
        # The bot still answers ordinary buttons and commands afterwards.
        await user.command("language")
        chooser = await user.wait_for_message()
        assert await user.press(chooser, "English") is not None
        await bot.settle()
        async with bot.runtime.sessions() as session:
            statuses = (await session.execute(select(InboxUpdate.status))).scalars().all()
    for data, answer in answers.items():
        assert answer is not None, data
        assert (answer["text"], answer["show_alert"]) == ("这个按钮已失效。", True), data
    assert statuses and set(statuses) == {"done"}

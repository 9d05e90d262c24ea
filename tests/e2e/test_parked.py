"""A poison update is parked; its sender hears an apology, admins get an alert."""

from __future__ import annotations

from sqlalchemy import select
from telegram import Update

from bot.app import FEATURES
from bot.handlers.dialog import Dialog, Flow
from bot.handlers.feature import Feature
from bot.runtime.context import KepuContext
from bot.sandbox import Sandbox
from bot.sandbox.harness import running_bot, sandbox_settings
from bot.services import roles as role_service
from storage import dialogs
from storage.models import InboxUpdate
from tests.conftest import FixedClock


async def explode(update: Update, context: KepuContext, dialog: Dialog) -> None:
    raise RuntimeError("step is broken")


# A feature of the test alone: the real features plus one flow.
TEST_FEATURES = (
    *FEATURES,
    Feature(
        name="broken_test",
        flows={"broken_test": Flow.of({"x": explode}, "Cancelled. Nothing was saved.")},
    ),
)


async def test_poison_update_is_reported(
    sandbox: Sandbox, sqlite_url: str, clock: FixedClock
) -> None:
    settings = sandbox_settings(sandbox, sqlite_url, limits={"inbox_max_attempts": 1})
    user, admin = sandbox.user("小张"), sandbox.user("管理员", language_code="en", started=True)
    async with running_bot(sandbox, settings, clock=clock, features=TEST_FEATURES) as bot:
        async with bot.runtime.sessions() as session, session.begin():
            await role_service.grant(
                session=session, telegram_id=admin.id, role="admin", now=clock()
            )
            await dialogs.set_dialog(
                session=session,
                chat_id=user.id,
                user_id=user.id,
                flow="broken_test",
                step="x",
                data={},
                now=clock(),
            )
        await user.send("会出错的消息")
        apology = await user.wait_for_message()
        alert = await admin.wait_for_message()
        await bot.settle()
        async with bot.runtime.sessions() as session:
            row = (await session.execute(select(InboxUpdate))).scalars().one()
        # The bot keeps working for everyone else.
        await admin.command("help")
        assert "What I can do for you" in ((await admin.wait_for_message()).text or "")
    assert "抱歉，处理您刚才的消息时出了问题" in (apology.text or "")
    # The admin never wrote to the bot, so the default language (zh_CN) is used.
    assert "有一条更新无法处理，已搁置" in (alert.text or "")
    assert "RuntimeError: step is broken" in (alert.text or "")
    assert row.status == "parked" and row.attempts == 1

"""A conversation survives a restart of the application: its state is in the database."""

from __future__ import annotations

from telegram import Update

from bot.app import FEATURES
from bot.handlers import dialog as dialog_module
from bot.handlers.dialog import Dialog, Flow, goto
from bot.handlers.feature import Feature
from bot.runtime.context import KepuContext
from bot.sandbox import Sandbox
from bot.sandbox.harness import running_bot, sandbox_settings
from storage import dialogs
from tests.conftest import FixedClock


async def ask_city(update: Update, context: KepuContext, dialog: Dialog) -> None:
    assert update.effective_message is not None
    await goto(context, dialog, "city", name=update.effective_message.text)
    await update.effective_message.reply_text(f"name={dialog.data['name']}; city?")


async def finish(update: Update, context: KepuContext, dialog: Dialog) -> None:
    assert update.effective_message is not None
    await dialog_module.end_dialog(update, context)
    await update.effective_message.reply_text(
        f"done: {dialog.data['name']} / {update.effective_message.text}"
    )


# A feature of the test alone: the real features plus one flow.
TEST_FEATURES = (
    *FEATURES,
    Feature(
        name="restart_test",
        flows={
            "restart_test": Flow.of(
                {"name": ask_city, "city": finish}, "Cancelled. Nothing was saved."
            )
        },
    ),
)


async def test_conversation_resumes_after_restart(
    sandbox: Sandbox, sqlite_url: str, clock: FixedClock
) -> None:
    settings = sandbox_settings(sandbox, sqlite_url)
    user = sandbox.user("小明")
    async with running_bot(sandbox, settings, clock=clock, features=TEST_FEATURES) as bot:
        async with bot.runtime.sessions() as session, session.begin():
            await dialogs.set_dialog(
                session=session,
                chat_id=user.id,
                user_id=user.id,
                flow="restart_test",
                step="name",
                data={},
                now=clock(),
            )
        await user.send("小明")
        assert (await user.wait_for_message()).text == "name=小明; city?"
    # The process is gone; a new one starts on the same database.
    async with running_bot(sandbox, settings, clock=clock, features=TEST_FEATURES):
        await user.send("杭州")
        assert (await user.wait_for_message()).text == "done: 小明 / 杭州"


async def test_unknown_flow_state_is_cleared_politely(
    sandbox: Sandbox, sqlite_url: str, clock: FixedClock
) -> None:
    settings = sandbox_settings(sandbox, sqlite_url)
    user = sandbox.user("小红")
    async with running_bot(sandbox, settings, clock=clock, features=TEST_FEATURES) as bot:
        async with bot.runtime.sessions() as session, session.begin():
            await dialogs.set_dialog(
                session=session,
                chat_id=user.id,
                user_id=user.id,
                flow="removed_in_new_version",
                step="x",
                data={},
                now=clock(),
            )
        await user.send("hello")
        assert "对话已过期" in ((await user.wait_for_message()).text or "")
        await bot.settle()
        async with bot.runtime.sessions() as session:
            assert (
                await dialogs.get_dialog(session=session, chat_id=user.id, user_id=user.id) is None
            )

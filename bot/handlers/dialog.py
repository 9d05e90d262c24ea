"""Multi-step conversations whose state lives in the database, not in process memory.

PTB's ConversationHandler keeps state in memory and persists it on a timer, which loses
steps on a crash and cannot be shared by several processes.  Here the state is read and
written in the update's own transaction, so it commits exactly when the update does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.runtime.context import KepuContext
from storage import dialogs as dialog_store

StepHandler = Callable[[Update, KepuContext, "Dialog"], Awaitable[None]]
Callback = Callable[[Update, KepuContext], Coroutine[Any, Any, None]]


@dataclass
class Dialog:
    """The active conversation of a user in a chat."""

    chat_id: int
    user_id: int
    flow: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)


def _keys(update: Update) -> tuple[int, int] | None:
    if update.effective_chat is None or update.effective_user is None:
        return None
    return update.effective_chat.id, update.effective_user.id


async def get_dialog(update: Update, context: KepuContext) -> Dialog | None:
    """Return the user's active dialog in this chat, if any."""
    keys = _keys(update)
    if keys is None:
        return None
    row = await dialog_store.get_dialog(session=context.session, chat_id=keys[0], user_id=keys[1])
    if row is None:
        return None
    return Dialog(keys[0], keys[1], row.flow, row.step, dict(row.data))


async def save_dialog(context: KepuContext, dialog: Dialog) -> None:
    """Store the dialog as it is now."""
    await dialog_store.set_dialog(
        session=context.session,
        chat_id=dialog.chat_id,
        user_id=dialog.user_id,
        flow=dialog.flow,
        step=dialog.step,
        data=dialog.data,
        now=context.runtime.now(),
    )


async def start_dialog(
    update: Update, context: KepuContext, flow: str, step: str, **data: Any
) -> Dialog:
    """Begin ``flow`` at ``step``, replacing any other dialog of the user here."""
    keys = _keys(update)
    assert keys is not None, "dialogs need a chat and a user"
    dialog = Dialog(keys[0], keys[1], flow, step, data)
    await save_dialog(context, dialog)
    return dialog


async def goto(context: KepuContext, dialog: Dialog, step: str, **data: Any) -> None:
    """Move the dialog to ``step``, merging ``data`` into its data."""
    dialog.step = step
    dialog.data.update(data)
    await save_dialog(context, dialog)


async def end_dialog(update: Update, context: KepuContext) -> bool:
    """End the user's dialog here; return whether there was one."""
    keys = _keys(update)
    if keys is None:
        return False
    return await dialog_store.clear_dialog(
        session=context.session, chat_id=keys[0], user_id=keys[1]
    )


def dialog_router(flows: Mapping[str, Mapping[str, StepHandler]]) -> Callback:
    """Return the handler that sends a message to the step of the user's active dialog."""

    async def route_message(update: Update, context: KepuContext) -> None:
        dialog = await get_dialog(update, context)
        if dialog is None:
            return
        step = flows.get(dialog.flow, {}).get(dialog.step)
        if step is None:
            # State from an older version of the bot: start over rather than guess.
            await end_dialog(update, context)
            if update.effective_message is not None:
                await update.effective_message.reply_text(
                    context.t("That conversation has expired. Please start again.")
                )
            raise ApplicationHandlerStop
        await step(update, context, dialog)
        raise ApplicationHandlerStop

    return route_message

"""Multi-step conversations whose state lives in the database, not in process memory.

PTB's ConversationHandler keeps state in memory and persists it on a timer, which loses
steps on a crash and cannot be shared by several processes.  Here the state is read and
written in the update's own transaction, so it commits exactly when the update does.

Modes never trap (one rule, here, for every flow): any command, and any message that
starts a flow (a ``#活动 …`` report, a photo with such a caption), leaves the pending
dialog before the handlers run (``leave_handler``), so it does what it says; each flow says
what leaving it means (``Flow.left``), which ``/cancel`` and the leave notice repeat. A
dialog unanswered for ``[conversations] timeout_minutes`` is over: buttons and steps no
longer see it, and the next message gets a one-line note instead of being taken as an answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from telegram import MessageEntity, ReplyKeyboardRemove, Update
from telegram.ext import ApplicationHandlerStop, filters

from bot.i18n import N_
from bot.runtime.context import KepuContext
from storage import dialogs as dialog_store

StepHandler = Callable[[Update, KepuContext, "Dialog"], Awaitable[None]]
Callback = Callable[[Update, KepuContext], Coroutine[Any, Any, None]]

INPUT_HINT = N_(
    "(Send /cancel or any other command to leave; this step ends after {n} minutes "
    "without an answer.)"
)
TIMED_OUT = N_("The step you were in ended: no answer for {n} minutes.")


@dataclass
class Dialog:
    """The active conversation of a user in a chat."""

    chat_id: int
    user_id: int
    flow: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)


def _fixed(left: str) -> Callable[[Dialog], str]:
    return lambda _dialog: left


@dataclass(frozen=True)
class Flow:
    """A multi-step dialog: its steps, what leaving it means, and what starts it."""

    # step name → handler of a message at that step
    steps: Mapping[str, StepHandler]
    # msgid of the sentence that says what leaving the dialog did ("nothing was recorded")
    left: Callable[[Dialog], str]
    # commands that (re)start this flow: they leave it without a notice
    commands: tuple[str, ...] = ()
    # messages other than commands that start this flow, and so leave any other dialog
    # (this flow's own steps take them: a report fills in the form it started)
    starts_on: filters.BaseFilter | None = None

    @classmethod
    def of(
        cls,
        steps: Mapping[str, StepHandler],
        left: str | Callable[[Dialog], str],
        *,
        commands: tuple[str, ...] = (),
        starts_on: filters.BaseFilter | None = None,
    ) -> Flow:
        """Return a flow; ``left`` is a msgid, or a function of the dialog returning one."""
        return cls(steps, _fixed(left) if isinstance(left, str) else left, commands, starts_on)


Flows = Mapping[str, Flow]


def _keys(update: Update) -> tuple[int, int] | None:
    if update.effective_chat is None or update.effective_user is None:
        return None
    return update.effective_chat.id, update.effective_user.id


def _expired(context: KepuContext, updated_at: dt.datetime) -> bool:
    if updated_at.tzinfo is None:
        updated_at = updated_at.replace(tzinfo=dt.UTC)
    timeout = context.runtime.settings.conversations.timeout
    return context.runtime.now() - updated_at > timeout


async def _load(update: Update, context: KepuContext) -> tuple[Dialog | None, bool]:
    """Return the user's dialog here and whether it has timed out."""
    keys = _keys(update)
    if keys is None:
        return None, False
    row = await dialog_store.get_dialog(session=context.session, chat_id=keys[0], user_id=keys[1])
    if row is None:
        return None, False
    dialog = Dialog(keys[0], keys[1], row.flow, row.step, dict(row.data))
    return dialog, _expired(context, row.updated_at)


async def get_dialog(update: Update, context: KepuContext) -> Dialog | None:
    """Return the user's active dialog in this chat, if any (a timed-out one is over)."""
    dialog, expired = await _load(update, context)
    return None if expired else dialog


def input_hint(context: KepuContext) -> str:
    """Return the line a prompt that waits for typed input ends with."""
    n = context.runtime.settings.conversations.timeout_minutes
    return context.t(INPUT_HINT, n=n)


def left_text(context: KepuContext, flows: Flows, dialog: Dialog) -> str:
    """Return the sentence saying what leaving ``dialog`` did."""
    flow = flows.get(dialog.flow)
    if flow is None:
        return context.t("Cancelled. Nothing was saved.")
    return context.t(flow.left(dialog))


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


def exit_filter(flows: Flows) -> filters.BaseFilter:
    """Return the filter of private messages that leave any dialog: commands, flow starts."""
    leaving: filters.BaseFilter = filters.COMMAND
    for flow in flows.values():
        if flow.starts_on is not None:
            leaving = leaving | flow.starts_on
    return filters.ChatType.PRIVATE & ~filters.VIA_BOT & leaving


def _command_name(update: Update) -> str | None:
    message = update.effective_message
    if message is None or not message.text or not message.entities:
        return None
    entity = message.entities[0]
    if entity.type != MessageEntity.BOT_COMMAND or entity.offset != 0:
        return None
    return message.parse_entity(entity)[1:].partition("@")[0].lower()


def leave_handler(flows: Flows) -> Callback:
    """Return the handler that ends the dialog a command or a flow-starting message meets.

    It runs before every feature's handlers and never stops them: /help then answers as
    help, a ``#活动 …`` report registers an activity. The dialog left is kept in the update
    scope for ``/cancel``; other messages get the flow's leave sentence first, except
    a command that restarts the same flow. A flow-starting message meant for the dialog's
    own flow, and photos of an album the dialog already took (``data["albums"]``), belong
    to it and leave nothing.
    """

    async def leave(update: Update, context: KepuContext) -> None:
        dialog, expired = await _load(update, context)
        if dialog is None:
            return
        message = update.effective_message
        group = message.media_group_id if message is not None else None
        flow = flows.get(dialog.flow)
        command = _command_name(update)
        if not expired:
            if group and group in dialog.data.get("albums", ()):
                return
            if command is None and flow is not None and flow.starts_on is not None:
                if flow.starts_on.check_update(update):
                    return
        await end_dialog(update, context)
        if expired:
            return  # over already: the command or report simply does what it says
        context.scope.left_dialog = dialog
        if command == "cancel" or (flow is not None and command in flow.commands):
            return
        if message is not None:
            await message.reply_text(
                left_text(context, flows, dialog), reply_markup=ReplyKeyboardRemove()
            )

    return leave


def dialog_router(flows: Flows) -> Callback:
    """Return the handler that sends a message to the step of the user's active dialog."""

    async def route_message(update: Update, context: KepuContext) -> None:
        dialog, expired = await _load(update, context)
        if dialog is None:
            return
        if expired:
            # Not an answer any more: say so once, then let the message be what it is.
            await end_dialog(update, context)
            if update.effective_message is not None:
                n = context.runtime.settings.conversations.timeout_minutes
                await update.effective_message.reply_text(
                    context.t(TIMED_OUT, n=n) + "\n" + left_text(context, flows, dialog),
                    reply_markup=ReplyKeyboardRemove(),
                )
            return
        flow = flows.get(dialog.flow)
        step = flow.steps.get(dialog.step) if flow is not None else None
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

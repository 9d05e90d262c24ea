"""Pre-handlers and helpers shared by every audience's handlers."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Coroutine, Iterable, Sequence
from functools import wraps
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, InlineKeyboardButton, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.core.text_fit import fit_text
from bot.handlers.commands import describe, visible_commands
from bot.handlers.feature import assembly_of
from bot.i18n import get_translator
from bot.runtime.context import KepuContext
from bot.services.people import identify

log = logging.getLogger(__name__)

Callback = Callable[[Update, KepuContext], Coroutine[Any, Any, None]]


def is_unchanged(exc: BadRequest) -> bool:
    """Tell whether Telegram refused an edit only because the message would not change."""
    return "not modified" in str(exc)


def esc(value: object) -> str:
    """Escape user input for an HTML message."""
    return html.escape(str(value), quote=False)


async def load_scope(update: Update, context: KepuContext) -> None:
    """Identify the sender, load roles and language into the update scope."""
    user = update.effective_user
    scope = context.scope
    if user is None or user.is_bot:
        return
    runtime = context.runtime
    change = update.my_chat_member
    blocked = (
        change is not None
        and change.chat.type == "private"
        and change.new_chat_member.status == "kicked"
    )
    identity = await identify(
        session=context.session,
        telegram_id=user.id,
        first_name=user.first_name,
        username=user.username,
        language_code=user.language_code,
        default_locale=runtime.settings.i18n.default_locale,
        now=runtime.now(),
        blocked_bot=blocked,
    )
    scope.person = identity.person
    scope.roles = list(identity.grants)
    scope.translator = get_translator(identity.locale)
    scope.role_names = identity.role_names


def role_names(context: KepuContext) -> frozenset[str]:
    """Return the sender's role names (``informant`` included when registered)."""
    return context.scope.role_names


def requires(*roles: str) -> Callable[[Callback], Callback]:
    """Allow the handler only to holders of one of ``roles``; others get a polite refusal."""

    def decorate(func: Callback) -> Callback:
        @wraps(func)
        async def wrapper(update: Update, context: KepuContext) -> None:
            held = role_names(context)
            if "admin" in held or held & set(roles):
                await func(update, context)
                return
            if update.callback_query is not None:
                await update.callback_query.answer(
                    context.t("Sorry, you are not allowed to do that."), show_alert=True
                )
            elif update.effective_message is not None:
                await update.effective_message.reply_text(
                    context.t("Sorry, you are not allowed to do that.")
                )
            raise ApplicationHandlerStop

        return wrapper

    return decorate


async def sync_command_menu(update: Update, context: KepuContext) -> None:
    """Set this chat's command menu to what the user's roles allow, when it changed."""
    chat = update.effective_chat
    if chat is None or chat.type != "private":
        return
    specs = visible_commands(assembly_of(context.application).commands, role_names(context))
    t = context.t
    key = (t.locale, *(spec.name for spec in specs))
    # Menus already set per chat by this process: avoids a setMyCommands on every /help.
    menus: dict[int, tuple[str, ...]] = context.runtime.extras.setdefault("menus", {})
    if menus.get(chat.id) == key:
        return
    try:
        await context.bot.set_my_commands(
            [BotCommand(spec.name, describe(spec, t)[:256]) for spec in specs],
            scope=BotCommandScopeChat(chat.id),
        )
        menus[chat.id] = key
    except TelegramError as exc:  # a menu is a convenience; never fail the update on it
        log.warning("setMyCommands failed", extra={"error": str(exc)})


def button_rows(
    buttons: Sequence[InlineKeyboardButton], per_row: int = 2
) -> list[list[InlineKeyboardButton]]:
    """Arrange buttons in rows of ``per_row``."""
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


async def reply(update: Update, text: str, **kwargs: Any) -> None:
    """Reply in the chat of the update (message or button press) with HTML text."""
    text = fit_text(text, is_html=kwargs.get("parse_mode", "HTML") is not None)
    kwargs.setdefault("parse_mode", "HTML")
    message = update.effective_message
    if message is not None:
        await message.reply_text(text, **kwargs)
    elif update.effective_chat is not None:
        await update.get_bot().send_message(update.effective_chat.id, text, **kwargs)


def lines(parts: Iterable[str]) -> str:
    """Join non-empty lines."""
    return "\n".join(part for part in parts if part)

"""Pre-handlers and helpers shared by every audience's handlers."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Coroutine, Iterable, Sequence
from functools import wraps
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, Chat, InlineKeyboardButton, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.core.text_fit import fit_text
from bot.handlers.commands import describe, visible_commands
from bot.handlers.desk_buttons import chat_menu_button
from bot.handlers.feature import assembly_of
from bot.i18n import N_, get_translator
from bot.runtime.context import KepuContext
from bot.services.access import audit_refusal
from bot.services.desk_open import desk_reachable, menu_button, menu_fingerprint
from bot.services.people import identify

log = logging.getLogger(__name__)

Callback = Callable[[Update, KepuContext], Coroutine[Any, Any, None]]

NOT_ALLOWED = N_("Sorry, you are not allowed to do that.")


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
            await refuse(
                update,
                context,
                context.t(NOT_ALLOWED),
                reason="missing_role",
                detail={"required": sorted(roles)},
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
    await sync_desk_button(context, chat.id)


async def sync_desk_button(context: KepuContext, chat_id: int) -> None:
    """Give a role holder's chat the desk's menu button (after the commit), when it changed.

    Grants queue this too (``bot.handlers.desk_open``); doing it here as well covers a
    person granted a role before ever writing to the bot, whose chat Telegram did not know.
    """
    settings, has_role = context.runtime.settings, bool(role_names(context))
    wanted = menu_fingerprint(menu_button(context.t, settings, has_role=has_role))
    known: dict[int, str] = context.runtime.extras.setdefault("desk_menus", {})
    if known.get(chat_id) == wanted or (chat_id not in known and not has_role):
        return
    if chat_id not in known and not desk_reachable(settings):
        return
    try:
        await context.bot.set_chat_menu_button(
            chat_id=chat_id, menu_button=chat_menu_button(context.t, settings, has_role=has_role)
        )
        known[chat_id] = wanted
    except TelegramError as exc:  # a menu is a convenience; never fail the update on it
        log.warning("setChatMenuButton failed", extra={"error": str(exc)})


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


# --- refusals: audited once, answered once ---------------------------------------------------

PRIVATE_HINT = N_(
    "🔒 That concerns your personal data, so I only answer it in our private chat: {link}"
)
PRIVATE_JOIN_HINT = N_(
    "🔒 Joining asks for your real name and phone number, so it happens in our private "
    "chat: {link}"
)


def attempt_of(update: Update) -> tuple[str, str | None, dict[str, Any]]:
    """Name what the update tried: its action, the kind of object and details for the audit."""
    chat = update.effective_chat
    detail: dict[str, Any] = {}
    if chat is not None:
        detail.update(chat_id=chat.id, chat_type=chat.type)
    query = update.callback_query
    if query is not None:
        data = query.data or ""
        detail["data"] = data[:64]
        return f"button.{data.split(':', 1)[0] or '?'}", "button", detail
    message = update.effective_message
    text = (message.text or "") if message is not None else ""
    if text.startswith("/"):
        name = text.split(maxsplit=1)[0][1:].split("@", 1)[0].lower()[:32]
        detail["command"] = name
        return f"command.{name or '?'}", "command", detail
    return "message", None, detail


async def refuse(
    update: Update,
    context: KepuContext,
    text: str,
    *,
    reason: str,
    action: str | None = None,
    subject_type: str | None = None,
    subject_id: int | None = None,
    region_code: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Audit a refused attempt, then answer it once: an alert on a button, else a reply.

    ``action`` and ``subject_type`` default to what the update tried (``command.me``,
    ``button.ROS``). The handler must return normally afterwards (or raise
    ApplicationHandlerStop): an error would roll the audit row back with the update.
    """
    tried, kind, facts = attempt_of(update)
    person = context.person
    await audit_refusal(
        session=context.session,
        actor_id=person.id if person is not None else None,
        action=action or tried,
        reason=reason,
        now=context.runtime.now(),
        subject_type=subject_type or kind,
        subject_id=subject_id,
        region_code=region_code,
        detail={**facts, **(detail or {})},
    )
    if update.callback_query is not None:
        await update.callback_query.answer(text[:200], show_alert=True)
    else:
        await reply(update, text)


def private_link(bot_username: str, payload: str | None = None) -> str:
    """Return the deep link that opens the private chat with the bot (with a start payload)."""
    return f"https://t.me/{bot_username}?start" + (f"={payload}" if payload else "")


def in_private(update: Update) -> bool:
    """Tell whether the update comes from a private chat (or from no chat at all)."""
    chat = update.effective_chat
    return chat is None or chat.type == Chat.PRIVATE


async def refuse_outside_private(
    update: Update,
    context: KepuContext,
    *,
    hint: str = PRIVATE_HINT,
    payload: str | None = None,
) -> None:
    """Answer a personal-data request made in a group with a link to the private chat, audited.

    With ``payload`` (checked by the caller) the link leads straight back to the same request.
    """
    link = private_link(context.runtime.bot_username, payload)
    await refuse(update, context, context.t(hint, link=esc(link)), reason="not_private")


def private_only(func: Callback) -> Callback:
    """Run the handler only in a private chat; in a group answer with a link to it instead."""

    @wraps(func)
    async def wrapper(update: Update, context: KepuContext) -> None:
        if in_private(update):
            await func(update, context)
            return
        await refuse_outside_private(update, context)
        raise ApplicationHandlerStop

    return wrapper

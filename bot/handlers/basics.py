"""Handlers everyone uses: /start, /help, /language, /cancel, and the error handler."""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.handlers.callbacks import LanguageChoice, answer_invalid
from bot.handlers.commands import describe, visible_commands
from bot.handlers.common import reply, role_names, sync_command_menu
from bot.handlers.dialog import end_dialog
from bot.i18n import SUPPORTED_LOCALES, get_translator
from bot.runtime.context import KepuContext
from storage import people as people_store

log = logging.getLogger(__name__)

LANGUAGE_NAMES = {"zh_CN": "简体中文", "en": "English"}

# Payload handlers other modules register: first one that accepts a payload wins.
START_PAYLOAD_HANDLERS: list[Any] = []


async def start(update: Update, context: KepuContext) -> None:
    """Greet the user; with a payload, hand it to whoever understands it."""
    await sync_command_menu(update, context)
    if context.args:
        for handler in START_PAYLOAD_HANDLERS:
            if await handler(update, context, context.args[0]):
                return
        await reply(
            update,
            context.t(
                "This invite link is not valid. Ask your station for a new link or "
                "scan the QR code on its notice board."
            ),
        )
        return
    t = context.t
    await reply(
        update,
        t(
            "Welcome to Kepu China informants! I send you good science content to pass "
            "on to the people around you, and count what you share.\n\n"
            "To join, open your station's invite link or scan the QR code on its notice "
            "board. Send /help to see what I can do."
        ),
    )


async def help_command(update: Update, context: KepuContext) -> None:
    """List the commands the user's roles allow."""
    await sync_command_menu(update, context)
    t = context.t
    specs = visible_commands(role_names(context))
    body = "\n".join(f"/{spec.name} — {describe(spec, t)}" for spec in specs)
    await reply(update, t("What I can do for you:") + "\n\n" + body)


async def language(update: Update, context: KepuContext) -> None:
    """Offer the supported languages."""
    buttons = [
        InlineKeyboardButton(LANGUAGE_NAMES[code], callback_data=LanguageChoice(code).encode())
        for code in SUPPORTED_LOCALES
    ]
    await reply(
        update,
        context.t("Choose your language:"),
        reply_markup=InlineKeyboardMarkup([buttons]),
    )


async def language_chosen(update: Update, context: KepuContext) -> None:
    """Store the chosen language and confirm in it."""
    query = update.callback_query
    assert query is not None
    button = LanguageChoice.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    code = button.locale
    if code not in SUPPORTED_LOCALES or context.person is None or context.person.id is None:
        await query.answer()
        return
    await people_store.set_language(
        session=context.session, person_id=context.person.id, language=code
    )
    context.scope.translator = get_translator(code)
    await query.answer()
    await query.edit_message_text(context.t("Done! I will talk to you in English from now on."))
    await sync_command_menu(update, context)


async def cancel(update: Update, context: KepuContext) -> None:
    """Leave any conversation; nothing half-entered is kept."""
    had = await end_dialog(update, context)
    await reply(
        update,
        context.t("Cancelled. Nothing was saved.") if had else context.t("Nothing to cancel."),
        # A step may have shown a reply keyboard (e.g. "share my phone"): take it away.
        reply_markup=ReplyKeyboardRemove() if had else None,
    )


async def fallback(update: Update, context: KepuContext) -> None:
    """Answer a private message nobody else understood."""
    await reply(update, context.t("I did not understand that. Send /help to see what I can do."))


def register(app: Application[Any, Any, Any, Any, Any, Any], *, group: int = 0) -> None:
    """Register the basic commands."""
    app.add_handler(CommandHandler("start", start), group=group)
    app.add_handler(CommandHandler("help", help_command), group=group)
    app.add_handler(CommandHandler("language", language), group=group)
    app.add_handler(CommandHandler("cancel", cancel), group=group)
    app.add_handler(
        CallbackQueryHandler(language_chosen, pattern=LanguageChoice.pattern), group=group
    )


def register_fallback(app: Application[Any, Any, Any, Any, Any, Any], *, group: int) -> None:
    """Register the last-resort answer for private messages."""
    app.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & ~filters.COMMAND & ~filters.VIA_BOT, fallback),
        group=group,
    )

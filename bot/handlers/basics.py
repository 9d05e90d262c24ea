"""Handlers everyone uses: /start, /help, /language, /cancel, and the last-resort answers."""

from __future__ import annotations

import logging

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageEntity,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.core.text_fit import fit_text
from bot.handlers.callbacks import LanguageChoice, answer_invalid
from bot.handlers.commands import command, describe, visible_commands
from bot.handlers.common import esc, reply, role_names, sync_command_menu
from bot.handlers.dialog import end_dialog
from bot.handlers.feature import COMMAND_GROUP, FALLBACK_GROUP, Feature, assembly_of, in_group
from bot.i18n import N_, SUPPORTED_LOCALES, get_translator
from bot.runtime.context import KepuContext
from storage import people as people_store

log = logging.getLogger(__name__)

LANGUAGE_NAMES = {"zh_CN": "简体中文", "en": "English"}

COMMANDS = (
    command("start", N_("Start, or join a station with its invite link"), order=0),
    command("help", N_("What I can do for you"), order=1),
    command("language", N_("Change language"), order=90),
    command("cancel", N_("Leave the current step (an application keeps its draft)"), order=99),
)


async def start(update: Update, context: KepuContext) -> None:
    """Greet the user; with a payload, hand it to whoever understands it."""
    await sync_command_menu(update, context)
    if context.args:
        # Payload handlers the features declare: the first that accepts the payload wins.
        for handler in assembly_of(context.application).start_payloads:
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


def command_menu(context: KepuContext) -> str:
    """Return one line per command the user's roles allow."""
    specs = visible_commands(assembly_of(context.application).commands, role_names(context))
    return "\n".join(f"/{spec.name} — {describe(spec, context.t)}" for spec in specs)


async def help_command(update: Update, context: KepuContext) -> None:
    """List the commands the user's roles allow."""
    await sync_command_menu(update, context)
    await reply(update, context.t("What I can do for you:") + "\n\n" + command_menu(context))


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


def handled_commands(context: KepuContext) -> frozenset[str]:
    """Return every command name some feature's handler answers (lower case)."""
    return frozenset(
        name.lower()
        for _, handler in assembly_of(context.application).handlers
        if isinstance(handler, CommandHandler)
        for name in handler.commands
    )


async def unknown_command(update: Update, context: KepuContext) -> None:
    """Answer a private command no feature has with a hint and the user's command menu."""
    message = update.effective_message
    if message is None or not message.text:
        return
    entity = message.entities[0] if message.entities else None
    if entity is None or entity.type != MessageEntity.BOT_COMMAND or entity.offset != 0:
        return
    name, _, addressee = message.parse_entity(entity)[1:].partition("@")
    if addressee and addressee.lower() != context.bot.username.lower():
        return  # /foo@otherbot is another bot's business
    if name.lower() in handled_commands(context):
        return  # a feature took it (or refused it) in an earlier group
    await sync_command_menu(update, context)
    await reply(
        update,
        context.t(
            "I do not know the command /{name}. These are the ones you can use:",
            name=esc(fit_text(name, 40, is_html=False)),
        )
        + "\n\n"
        + command_menu(context),
    )


PRIVATE_TEXT = filters.ChatType.PRIVATE & ~filters.COMMAND & ~filters.VIA_BOT
PRIVATE_COMMAND = filters.ChatType.PRIVATE & filters.COMMAND & ~filters.VIA_BOT

FEATURE = Feature(
    name="basics",
    handlers=(
        *in_group(
            COMMAND_GROUP,
            CommandHandler("start", start),
            CommandHandler("help", help_command),
            CommandHandler("language", language),
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(language_chosen, pattern=LanguageChoice.pattern),
            # Last of the group: a press no feature's pattern took (a forged or retired
            # button) gets a clear answer instead of silence.
            CallbackQueryHandler(answer_invalid),
        ),
        *in_group(
            FALLBACK_GROUP,
            MessageHandler(PRIVATE_TEXT, fallback),
            # Only in private chats: in a group, a command we lack may be another bot's.
            MessageHandler(PRIVATE_COMMAND, unknown_command),
        ),
    ),
    commands=COMMANDS,
)

"""Activities and content use, registered by messaging.

Split by responsibility: ``activities_form`` (the guided and one-message forms and edits,
one DB dialog), ``activities_list`` (/activities), ``activities_use`` (/used and the
"Used offline" card button), ``activities_view`` (labels and texts). This module declares
the feature.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.content.cards import UseOffline
from bot.handlers import activities_form, activities_list, activities_photos, activities_use
from bot.handlers.callbacks import ACTIVITIES_LIST, ACTIVITY_FORM, CONTENT_USE
from bot.handlers.commands import command
from bot.handlers.common import requires
from bot.handlers.feature import COMMAND_GROUP, FREEFORM_GROUP, Feature, in_group
from bot.i18n import N_
from bot.runtime.context import KepuContext
from bot.services import activities as service

COMMANDS = (
    command("activity", N_("Register an activity your station ran"), "station_admin", order=40),
    command(
        "activities",
        N_("Your station's activities (edit within 7 days)"),
        "station_admin",
        order=41,
    ),
    command(
        "used",
        N_("Record content used offline (video played, poster put up)"),
        "station_admin",
        order=42,
    ),
)


TRIGGER = activities_form.TRIGGER


@requires("station_admin")
async def activity_command(update: Update, context: KepuContext) -> None:
    """/activity: the guided form."""
    await activities_form.start_guided(update, context)


async def on_report(update: Update, context: KepuContext) -> None:
    """A one-message report (#活动 …) outside any dialog: station admins only."""
    if not service.may_register(context.scope.roles):
        await activities_form.refuse_non_admin(update, context)
        return
    await activities_form.start_from_message(update, context)
    raise ApplicationHandlerStop


async def on_bare_photo(update: Update, context: KepuContext) -> None:
    """An uncaptioned photo (or album) from a station admin: offer to register it."""
    if not service.may_register(context.scope.roles):
        return  # not ours: the fallback answers
    await activities_form.start_from_message(update, context)
    raise ApplicationHandlerStop


PRIVATE = filters.ChatType.PRIVATE & ~filters.VIA_BOT

FEATURE = Feature(
    name="activities",
    handlers=(
        *in_group(
            COMMAND_GROUP,
            CommandHandler("activity", activity_command, filters=filters.ChatType.PRIVATE),
            CommandHandler(
                "activities", activities_list.list_command, filters=filters.ChatType.PRIVATE
            ),
            CommandHandler("used", activities_use.used_command, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(activities_form.on_button, pattern=ACTIVITY_FORM.pattern),
            CallbackQueryHandler(activities_list.on_button, pattern=ACTIVITIES_LIST.pattern),
            CallbackQueryHandler(activities_use.on_button, pattern=CONTENT_USE.pattern),
            CallbackQueryHandler(activities_use.on_use_button, pattern=UseOffline.pattern),
        ),
        # One-message reports and bare photos that no dialog claimed.
        *in_group(
            FREEFORM_GROUP,
            MessageHandler(
                PRIVATE & ~filters.COMMAND & (filters.TEXT | filters.PHOTO) & TRIGGER, on_report
            ),
            MessageHandler(
                PRIVATE & filters.PHOTO & ~filters.CAPTION & ~filters.FORWARDED, on_bare_photo
            ),
        ),
    ),
    flows={**activities_form.FLOWS, **activities_use.FLOWS},
    commands=COMMANDS,
    services=(activities_photos.photo_hasher,),
)

"""Informants: joining by invite link, self-service and privacy, the station admin's view.

The feature is split by audience: ``informants_join`` (the joining dialog),
``informants_self`` (/me, /settings, /mydata, /forget) and ``informants_admin``
(/invite, /informants). This module declares the feature.
"""

from __future__ import annotations

from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.handlers import informants_admin, informants_join, informants_self
from bot.handlers.callbacks import JOIN, ROSTER, SETTINGS, ForgetAnswer, InviteButton
from bot.handlers.commands import command
from bot.handlers.common import private_only
from bot.handlers.feature import COMMAND_GROUP, Feature, in_group
from bot.i18n import N_

COMMANDS = (
    command("me", N_("Your informant profile"), "informant", order=20),
    command("settings", N_("Language, topics, pushes and quiet hours"), order=21),
    command("invite", N_("Invite informants (link and QR poster)"), "station_admin", order=30),
    command("informants", N_("Your station's informants"), "station_admin", order=31),
    command("mydata", N_("Everything stored about you, as a file"), order=80),
    command("forget", N_("Erase your personal data"), order=81),
)


FEATURE = Feature(
    name="informants",
    handlers=in_group(
        COMMAND_GROUP,
        # Personal data (the profile, choices, the data file, erasure, the roster's real
        # names) only in the private chat; /invite's link and poster are meant to be shared.
        CommandHandler("me", private_only(informants_self.me)),
        CommandHandler("settings", private_only(informants_self.settings)),
        CommandHandler("mydata", private_only(informants_self.mydata)),
        CommandHandler("forget", private_only(informants_self.forget)),
        CommandHandler("invite", informants_admin.invite),
        CommandHandler("informants", private_only(informants_admin.informants)),
        CallbackQueryHandler(informants_join.on_join_button, pattern=JOIN.pattern),
        CallbackQueryHandler(
            private_only(informants_self.on_settings_button), pattern=SETTINGS.pattern
        ),
        CallbackQueryHandler(
            private_only(informants_self.on_forget_button), pattern=ForgetAnswer.pattern
        ),
        CallbackQueryHandler(informants_admin.on_invite_button, pattern=InviteButton.pattern),
        CallbackQueryHandler(
            private_only(informants_admin.on_roster_button), pattern=ROSTER.pattern
        ),
    ),
    flows=informants_join.FLOWS,
    commands=COMMANDS,
    start_payloads=(informants_join.on_start_payload,),
)

"""Informants: joining by invite link, self-service and privacy, the station admin's view.

The feature is split by audience: ``informants_join`` (the joining dialog),
``informants_self`` (/me, /settings, /mydata, /forget) and ``informants_admin``
(/invite, /informants). This module declares the commands and registers the handlers.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.handlers import informants_admin, informants_join, informants_self
from bot.handlers.callbacks import JOIN, ROSTER, SETTINGS, ForgetAnswer, InviteButton
from bot.handlers.commands import command
from bot.i18n import N_

command("me", N_("Your informant profile"), "informant", order=20)
command("settings", N_("Language, topics, pushes and quiet hours"), order=21)
command("invite", N_("Invite informants (link and QR poster)"), "station_admin", order=30)
command("informants", N_("Your station's informants"), "station_admin", order=31)
command("mydata", N_("Everything stored about you, as a file"), order=80)
command("forget", N_("Erase your personal data"), order=81)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Register this feature's handlers (commands and buttons in group 0)."""
    from bot.handlers import basics

    group = 0
    if informants_join.on_start_payload not in basics.START_PAYLOAD_HANDLERS:
        basics.START_PAYLOAD_HANDLERS.append(informants_join.on_start_payload)
    handlers = [
        CommandHandler("me", informants_self.me),
        CommandHandler("settings", informants_self.settings),
        CommandHandler("mydata", informants_self.mydata),
        CommandHandler("forget", informants_self.forget),
        CommandHandler("invite", informants_admin.invite),
        CommandHandler("informants", informants_admin.informants),
        CallbackQueryHandler(informants_join.on_join_button, pattern=JOIN.pattern),
        CallbackQueryHandler(informants_self.on_settings_button, pattern=SETTINGS.pattern),
        CallbackQueryHandler(informants_self.on_forget_button, pattern=ForgetAnswer.pattern),
        CallbackQueryHandler(informants_admin.on_invite_button, pattern=InviteButton.pattern),
        CallbackQueryHandler(informants_admin.on_roster_button, pattern=ROSTER.pattern),
    ]
    for handler in handlers:
        app.add_handler(handler, group=group)

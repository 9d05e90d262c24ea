"""All handlers, registered in one place in an explicit order.

Groups run in order and each may handle an update once:
  -100  load the sender's identity, roles and language into the update scope
     0  commands, button presses and other specific handlers of every audience
    10  the active multi-step dialog, if any (stops further groups)
    20  free-form messages no dialog claimed (one-message forms), then the fallback
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, MessageHandler, TypeHandler, filters

from bot.handlers import (
    activities,
    basics,
    content,
    digest,
    evaluation,
    informants,
    shares,
    stations,
)
from bot.handlers.common import load_scope
from bot.handlers.dialog import route_message
from bot.runtime.inbox import record_handler_error

SCOPE_GROUP = -100
COMMAND_GROUP = 0
DIALOG_GROUP = 10
FREEFORM_GROUP = 20
FALLBACK_GROUP = 30

# Feature modules, in the order their handlers are tried within a group.
FEATURE_MODULES: list[Any] = [
    informants,
    stations,
    content,
    shares,
    activities,
    digest,
    evaluation,
]


def register_all(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Register every handler of the bot on ``app``."""
    app.add_handler(TypeHandler(Update, load_scope), group=SCOPE_GROUP)
    for module in FEATURE_MODULES:  # before basics: their /start payload handlers etc.
        module.register(app)
    basics.register(app, group=COMMAND_GROUP)
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & ~filters.COMMAND & ~filters.VIA_BOT, route_message
        ),
        group=DIALOG_GROUP,
    )
    basics.register_fallback(app, group=FALLBACK_GROUP)
    app.add_error_handler(record_handler_error)
